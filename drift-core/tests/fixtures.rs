//! Fixture-driven tests: every bundle under fixtures/ is audited and its report compared with
//! a committed snapshot; every rule has a fixture that makes it fire; the clean fixtures stay
//! clean; generated docs are current; bundles round-trip.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use drift_core::bundle::{read_bundle, write_bundle};
use drift_core::report::{Report, Stats, TargetReport};
use drift_core::rules::{ALL, catalogue_markdown};
use drift_core::{Severity, audit};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// The operation a fixture's ClusterConfig plans, when not `create-nodegroup`.
const PLAN_OP: &[(&str, drift_core::report::Operation)] = &[
    (
        "plan-iamserviceaccount-blocked",
        drift_core::report::Operation::CreateIamserviceaccount,
    ),
    (
        "plan-addon-blocked",
        drift_core::report::Operation::CreateAddon,
    ),
    (
        "plan-fargateprofile-blocked",
        drift_core::report::Operation::CreateFargateprofile,
    ),
    (
        "plan-cluster-exists",
        drift_core::report::Operation::CreateCluster,
    ),
    (
        "plan-cluster-network-unusable",
        drift_core::report::Operation::CreateCluster,
    ),
];

/// The upgrade a fixture plans (`--to-version`): a bundle does not hold it.
const TO_VERSION: &[(&str, &str)] = &[("upgrade-target-not-offered", "1.36")];

fn audit_fixture(name: &str) -> TargetReport {
    let dir = root().join("fixtures").join(name);
    let mut snapshot = read_bundle(&dir).unwrap();
    snapshot.source = format!("fixtures/{name}");
    // A fixture with a ClusterConfig plans `eksctl create nodegroup -f cluster.yaml`.
    if let Ok(bytes) = fs::read(dir.join("cluster.yaml")) {
        let parsed = drift_core::config::parse(&bytes, "cluster.yaml").unwrap();
        assert!(parsed.unknown.is_empty(), "{name}: {:?}", parsed.unknown);
        snapshot.plan = Some(drift_core::snapshot::Plan {
            source: "cluster.yaml".to_owned(),
            config: parsed.config,
            operation: PLAN_OP
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(drift_core::report::Operation::CreateNodegroup, |(_, op)| {
                    *op
                }),
            include: Vec::new(),
            exclude: Vec::new(),
            eksctl_version: drift_core::snapshot::CURRENT_EKSCTL,
        });
    }
    snapshot.to_version = TO_VERSION
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| (*v).to_owned());
    audit(&snapshot)
}

/// Fixtures that describe healthy clusters in eksctl's various modes.
const CLEAN: &[&str] = &[
    "clean",
    "legacy-subnets-output",
    "control-plane-subnet-ids",
    "user-vpc-text-template",
];

/// What a fixture's snapshot shows: a rule's own fixture (named after its slug) shows that
/// rule's findings only, so a new rule adds one snapshot and changes no other; a scenario
/// fixture shows every finding and what could not be checked.
fn snapshot_view(name: &str, report: &TargetReport) -> serde_json::Value {
    match drift_core::rules::find(name) {
        Some(rule) => serde_json::json!({
            "rule": format!("{} {}", rule.code, rule.slug),
            "findings": report.findings.iter().filter(|f| f.code == rule.code).collect::<Vec<_>>(),
            "not_checked": report.coverage.not_checked.iter().filter(|n| n.rule == rule.slug).collect::<Vec<_>>(),
        }),
        None => serde_json::json!({
            "stack": report.stack,
            "findings": report.findings,
            "not_checked": report.coverage.not_checked,
        }),
    }
}

#[test]
fn every_fixture_matches_its_snapshot() {
    for dir in fixture_dirs() {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let report = audit_fixture(&name);
        let view = snapshot_view(&name, &report);
        insta::assert_json_snapshot!(name, view);
    }
}

#[test]
fn every_rule_has_a_fixture_that_makes_it_fire() {
    // The tool's own findings (EKD0xx) come from suppressions: the CLI tests fire them.
    for rule in ALL.iter().filter(|r| !r.is_tool()) {
        let dir = root().join("fixtures").join(rule.slug);
        assert!(dir.is_dir(), "fixtures/{} is missing", rule.slug);
        let report = audit_fixture(rule.slug);
        assert!(
            report.findings.iter().any(|f| f.code == rule.code),
            "fixtures/{} does not fire {}: {:#?}",
            rule.slug,
            rule.code,
            report.findings
        );
    }
}

#[test]
fn clean_fixtures_stay_clean_and_fully_checked() {
    for name in CLEAN {
        let report = audit_fixture(name);
        assert!(report.findings.is_empty(), "{name}: {:#?}", report.findings);
        assert!(
            report.coverage.not_checked.is_empty(),
            "{name}: {:#?}",
            report.coverage.not_checked
        );
        // The plan rules run only with a ClusterConfig (the clean fixture has one).
        let plan = root()
            .join("fixtures")
            .join(name)
            .join("cluster.yaml")
            .exists();
        assert_eq!(
            report.coverage.checked.len(),
            ALL.iter()
                .filter(|r| !r.is_tool() && (plan || !r.is_plan()))
                .count(),
            "{name}"
        );
        assert_eq!(report.stack.unwrap().name, "eksctl-prod-cluster");
    }
}

#[test]
fn the_seed_case_names_the_deleted_subnets() {
    let report = audit_fixture("subnet-replaced");
    let deleted: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD202")
        .map(|f| f.resource.id.as_str())
        .collect();
    assert_eq!(
        deleted,
        BTreeSet::from(["subnet-0aa2000000000000a", "subnet-0bb2000000000000b"])
    );
    assert!(report.findings.iter().any(|f| f.code == "EKD205"));
    let fix = &report.findings[0].remediation;
    let snippet = fix
        .commands
        .iter()
        .find(|c| c.contains("nodeGroups:"))
        .unwrap();
    for live in [
        "subnet-0aa3000000000000a",
        "subnet-0bb3000000000000b",
        "subnet-0cc2000000000000c",
    ] {
        assert!(snippet.contains(live), "{snippet}");
    }
    assert!(fix.commands.iter().any(|c| c.contains("create-change-set")));
    assert!(
        fix.commands
            .iter()
            .any(|c| c.contains("--cidr-block 192.168.96.0/19 --availability-zone us-west-2a"))
    );
}

#[test]
fn missing_optional_inputs_are_reported_as_not_checked() {
    let report = audit_fixture("minimal");
    let reasons: Vec<_> = report
        .coverage
        .not_checked
        .iter()
        .map(|n| (n.rule.as_str(), n.reason.as_str()))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|(rule, reason)| *rule == "security-group-deleted"
                && reason.contains("no security group data")),
        "{reasons:?}"
    );
    // Without the template the control-plane check falls back to the outputs, and says so.
    assert!(
        report
            .coverage
            .checked
            .contains(&"control-plane-subnets-changed".to_owned())
    );
}

#[test]
fn a_nodegroup_named_like_the_cluster_stack_is_not_taken_for_it() {
    let report = audit_fixture("cluster-stack-ambiguous");
    assert_eq!(report.stack.as_ref().unwrap().name, "eksctl-prod-cluster");
    let f = report.findings.iter().find(|f| f.code == "EKD102").unwrap();
    assert_eq!(f.resource.id, "eksctl-prod-nodegroup-spot-cluster");
    assert_eq!(f.severity, Severity::Warning);
    // Every stack rule still ran against the right stack.
    assert!(report.coverage.not_checked.is_empty());
}

#[test]
fn no_stack_is_a_finding_not_an_error() {
    let report = audit_fixture("cluster-stack-missing");
    let (nodegroups, rest): (Vec<_>, Vec<_>) =
        report.findings.iter().partition(|f| f.code == "EKD502");
    assert_eq!(rest.len(), 1, "{rest:#?}");
    assert_eq!(rest[0].code, "EKD101");
    // Without a cluster stack, eksctl deletes nodegroups without a stack itself: info only.
    assert_eq!(nodegroups.len(), 2);
    assert!(
        nodegroups
            .iter()
            .all(|f| f.severity == Severity::Info && f.breaks.is_empty())
    );
    assert!(report.stack.is_none());
    assert!(
        report
            .coverage
            .not_checked
            .iter()
            .any(|n| n.rule == "output-subnet-deleted")
    );
}

#[test]
fn bundles_round_trip() {
    for dir in fixture_dirs() {
        let original = read_bundle(&dir).unwrap();
        let out = tempfile::tempdir().unwrap();
        let capture = drift_core::bundle::CaptureInfo {
            region: original.region.clone(),
            captured_at: original.observed_at.clone().unwrap_or_default(),
            ..Default::default()
        };
        write_bundle(
            out.path(),
            &original,
            original.region.as_ref().map(|_| &capture),
        )
        .unwrap();
        let mut back = read_bundle(out.path()).unwrap();
        back.source.clone_from(&original.source);
        assert_eq!(back, original, "{}", dir.display());
    }
}

fn check_generated(path: &Path, fresh: &str) {
    if std::env::var_os("EKSDRIFT_BLESS").is_some() {
        fs::write(path, fresh).unwrap();
        return;
    }
    let committed = fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: run `EKSDRIFT_BLESS=1 cargo test -p drift-core --test fixtures` and commit it",
        path.display()
    );
}

#[test]
fn rules_doc_is_current() {
    check_generated(&root().join("docs/rules.md"), &catalogue_markdown());
}

#[test]
fn report_schema_is_current_and_reports_validate() {
    let schema = Report::json_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    check_generated(&root().join("docs/report.schema.json"), &text);

    let validator = jsonschema::validator_for(&schema).unwrap();
    let targets: Vec<_> = fixture_dirs()
        .iter()
        .map(|d| audit_fixture(d.file_name().unwrap().to_str().unwrap()))
        .collect();
    let report = Report::new(targets, "2026-11-28T07:00:00Z".into(), Stats::default());
    let value = serde_json::to_value(&report).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn rule_codes_are_public_api() {
    let catalogue: Vec<String> = ALL
        .iter()
        .map(|r| format!("{} {} {}", r.code, r.slug, r.severity))
        .collect();
    insta::assert_snapshot!("rule_catalogue", catalogue.join("\n"));
}

#[test]
fn a_ten_megabyte_subnets_file_parses() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["describe-stacks.json", "describe-cluster.json"] {
        fs::copy(root().join("fixtures/clean").join(f), dir.path().join(f)).unwrap();
    }
    let clean = fs::read_to_string(root().join("fixtures/clean/describe-subnets.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
    let one = v["Subnets"][0].clone();
    let mut subnets = v["Subnets"].as_array().unwrap().clone();
    let mut i = 0u64;
    let mut text = String::new();
    while text.len() < 10 * 1024 * 1024 {
        for _ in 0..1000 {
            let mut s = one.clone();
            s["SubnetId"] = format!("subnet-{:017x}", 0xf000_0000u64 + i).into();
            subnets.push(s);
            i += 1;
        }
        text = serde_json::to_string_pretty(&serde_json::json!({ "Subnets": subnets })).unwrap();
    }
    fs::write(dir.path().join("describe-subnets.json"), &text).unwrap();
    let snapshot = read_bundle(dir.path()).unwrap();
    assert_eq!(snapshot.subnets.len(), subnets.len());
    assert!(audit(&snapshot).findings.is_empty());
}

#[test]
fn an_outposts_local_cluster_is_not_told_to_add_an_az() {
    let report = audit_fixture("outpost-local-cluster");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let not_checked: Vec<_> = report.coverage.not_checked.iter().collect();
    assert_eq!(not_checked.len(), 1, "{not_checked:#?}");
    assert_eq!(not_checked[0].rule, "control-plane-subnets-single-az");
    assert!(not_checked[0].reason.contains("Outposts"));
}

#[test]
fn a_deleted_extended_subnet_breaks_every_eksctl_version() {
    let report = audit_fixture("extended-subnet-deleted");
    let f = report
        .findings
        .iter()
        .find(|f| f.code == "EKD202")
        .expect("EKD202");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.impact.contains("in every version"), "{}", f.impact);
    assert!(!f.impact.contains("skips"), "{}", f.impact);
    // Explicit nodegroup subnets do not help when eksctl cannot load the VPC at all.
    assert!(
        !f.remediation
            .commands
            .iter()
            .any(|c| c.starts_with("eksctl create nodegroup")),
        "{:#?}",
        f.remediation.commands
    );
    assert!(
        f.remediation
            .commands
            .iter()
            .any(|c| c.contains("create-change-set"))
    );
    let all = report.findings.iter().find(|f| f.code == "EKD203").unwrap();
    assert!(all.impact.contains("in every version"), "{}", all.impact);
    // Every command that loads the VPC from the stack fails, not only create nodegroup.
    for f in [f, all] {
        let ops: Vec<&str> = f.breaks.iter().map(|o| o.as_str()).collect();
        assert!(
            ops.contains(&"upgrade-cluster") && ops.contains(&"delete-cluster"),
            "{ops:?}"
        );
    }
    let plain = audit_fixture("output-subnet-deleted");
    let f = plain.findings.iter().find(|f| f.code == "EKD202").unwrap();
    assert_eq!(
        f.breaks.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        ["create-nodegroup"]
    );
}

#[test]
fn the_nodegroup_lookalike_finding_promises_no_eksctl_fix() {
    let report = audit_fixture("cluster-stack-ambiguous");
    let f = report.findings.iter().find(|f| f.code == "EKD102").unwrap();
    let text = format!("{} {}", f.impact, f.remediation.summary);
    assert!(
        text.contains("never merged") && text.contains("no eksctl upgrade fixes"),
        "{text}"
    );
    assert!(!text.contains("release with the fix"), "{text}");
    assert!(
        f.remediation
            .commands
            .iter()
            .any(|c| c.contains("eksctl delete nodegroup --cluster prod --name spot-cluster")),
        "{:#?}",
        f.remediation.commands
    );
}

#[test]
fn output_patch_plans_warn_about_revert_drift_and_importers() {
    let report = audit_fixture("output-patch-imports");
    let subnets = report.findings.iter().find(|f| f.code == "EKD202").unwrap();
    let text = subnets.remediation.commands.join("\n");
    assert!(
        text.contains("never add --deployment-mode REVERT_DRIFT"),
        "{text}"
    );
    assert!(
        text.contains("no stack imports the export eksctl-prod-cluster::SubnetsPrivate"),
        "{text}"
    );
    assert!(!text.contains("list-imports"), "{text}");
    let sg = report.findings.iter().find(|f| f.code == "EKD301").unwrap();
    let text = sg.remediation.commands.join("\n");
    assert!(
        text.contains(
            "eksctl-prod-cluster::SecurityGroup is imported by eksctl-prod-nodegroup-ng-1"
        ),
        "{text}"
    );
    assert!(
        text.contains("eksctl delete nodegroup --cluster prod --name ng-1"),
        "{text}"
    );
    // Without ListImports answers, the plan says how to check.
    let seed = audit_fixture("subnet-replaced");
    let f = seed.findings.iter().find(|f| f.code == "EKD202").unwrap();
    assert!(f.remediation.commands.iter().any(|c| c.contains(
        "aws cloudformation list-imports --export-name eksctl-prod-cluster::SubnetsPrivate"
    )),);
}

/// The clean cluster with `n` deleted subnets appended to `SubnetsPrivate`.
fn with_many_deleted_subnets(n: usize) -> drift_core::Snapshot {
    let mut snapshot = read_bundle(&root().join("fixtures/clean")).unwrap();
    let stack = snapshot
        .stacks
        .iter_mut()
        .find(|s| s.stack_name == "eksctl-prod-cluster")
        .unwrap();
    let out = stack
        .outputs
        .iter_mut()
        .find(|o| o.output_key == "SubnetsPrivate")
        .unwrap();
    for i in 0..n {
        let id = format!(",subnet-{:017x}", 0xdead_0000_u64 + i as u64);
        out.output_value.push_str(&id);
    }
    snapshot
}

#[test]
fn report_size_grows_linearly_with_the_output_size() {
    let size = |n| {
        let report = audit(&with_many_deleted_subnets(n));
        assert!(
            report
                .findings
                .iter()
                .filter(|f| f.code == "EKD202")
                .count()
                >= n
        );
        serde_json::to_vec(&report).unwrap().len() as f64
    };
    let (small, large) = (size(400), size(800));
    // Twice the input: about twice the report (four times if each finding held every ID).
    let ratio = large / small;
    assert!(ratio < 2.4, "report grew {ratio:.2}x for 2x the input");
}

#[test]
fn failed_nodegroup_stacks_are_named_with_what_breaks() {
    let report = audit_fixture("nodegroup-stack-unusable");
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD501")
        .map(|f| (f.resource.id.as_str(), f.impact.as_str()))
        .collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .any(|(id, impact)| *id == "eksctl-prod-nodegroup-ng-new"
                && impact.contains("never created"))
    );
    assert!(
        found
            .iter()
            .any(|(id, impact)| *id == "eksctl-prod-nodegroup-ng-old"
                && impact.contains("eksctl delete cluster fail"))
    );
    // The healthy nodegroup stack and the other cluster's stacks are not reported.
    assert!(
        !found
            .iter()
            .any(|(id, _)| id.contains("ng-1") || id.contains("staging"))
    );
}

#[test]
fn termination_protection_is_info_and_says_which_eksctl_stops() {
    let report = audit_fixture("termination-protection-on");
    let f = report.findings.iter().find(|f| f.code == "EKD701").unwrap();
    assert_eq!(f.severity, Severity::Info);
    assert!(
        f.impact.contains("eksctl >= 0.218 turns it off itself"),
        "{}",
        f.impact
    );
    assert!(f.impact.contains("eksctl < 0.218"), "{}", f.impact);
}

#[test]
fn an_auto_scaling_group_without_stack_tags_is_still_found_by_eksctl_s_name_tag() {
    // Old or hand-made groups may lack the tags CloudFormation propagates: eksctl's own
    // `Name` tag (`<cluster>-<ng>-Node`) still ties the group to its stack, so EKD503 does not
    // call a living group gone.
    let mut snapshot = read_bundle(&root().join("fixtures/clean")).unwrap();
    for g in snapshot.auto_scaling_groups.as_mut().unwrap() {
        g.tags
            .retain(|t| t.key == "Name" || t.key.starts_with("kubernetes.io/cluster/"));
        assert_eq!(g.tags.len(), 2);
    }
    let report = audit(&snapshot);
    assert!(
        report.findings.iter().all(|f| f.code != "EKD503"),
        "{:#?}",
        report.findings
    );
    // Without that either, the group is not found and the rule says so.
    for g in snapshot.auto_scaling_groups.as_mut().unwrap() {
        g.tags.retain(|t| t.key != "Name");
    }
    let report = audit(&snapshot);
    assert!(report.findings.iter().any(|f| f.code == "EKD503"));
}

#[test]
fn stacks_being_created_or_deleted_are_never_orphans() {
    let report = audit_fixture("stacks-in-progress");
    let orphans: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD703")
        .collect();
    assert_eq!(orphans.len(), 2, "{orphans:#?}");
    for f in orphans {
        assert_eq!(f.severity, Severity::Info, "{f:#?}");
        assert!(f.breaks.is_empty());
        assert!(
            f.message.contains("CREATE_IN_PROGRESS") || f.message.contains("DELETE_IN_PROGRESS"),
            "{}",
            f.message
        );
    }
}

#[test]
fn an_access_entry_for_another_accounts_role_is_never_called_deleted() {
    let report = audit_fixture("cross-account-access-entry");
    assert!(
        report.findings.iter().all(|f| f.code != "EKD606"),
        "{:#?}",
        report.findings
    );
    let n = report
        .coverage
        .not_checked
        .iter()
        .find(|n| n.rule == "access-entry-role-missing")
        .expect("the entry of another account is said to be not checked");
    assert!(n.reason.contains("210987654321"), "{}", n.reason);
    // Deleted roles of this account are still found beside it.
    let mut snapshot = drift_core::bundle::read_bundle(
        &root().join("fixtures").join("cross-account-access-entry"),
    )
    .unwrap();
    snapshot
        .roles
        .as_mut()
        .unwrap()
        .retain(|r| !r.arn.ends_with(":role/Admin"));
    let report = audit(&snapshot);
    let found: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD606")
        .map(|f| f.resource.id.as_str())
        .collect();
    assert_eq!(found, ["arn:aws:iam::111122223333:role/Admin"]);
}

#[test]
fn irsa_stacks_migrated_to_pod_identity_do_not_need_the_oidc_provider() {
    let report = audit_fixture("migrated-to-pod-identity");
    assert!(
        report.findings.iter().all(|f| !f.code.starts_with("EKD60")),
        "{:#?}",
        report.findings
    );
    // The same bundle before the migration: the provider is needed.
    let report = audit_fixture("oidc-provider-missing");
    assert!(report.findings.iter().any(|f| f.code == "EKD601"));
}

#[test]
fn a_node_role_with_a_standard_entry_is_found() {
    let report = audit_fixture("node-role-standard-entry");
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD605")
        .collect();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(
        found[0].message.contains("of type STANDARD"),
        "{}",
        found[0].message
    );
    assert!(found[0].resource.id.contains("nodegroup-ng-2"));
}

#[test]
fn a_deleted_version_recorded_in_the_nodegroup_stack_breaks_the_upgrade() {
    let report = audit_fixture("upgrade-from-stack-template");
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "EKD507")
        .collect();
    // The nodegroup runs version 4, which exists; its stack records version 1, which does not.
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .message
            .contains("records launch template lt-0a1a1a1a1a1a1a1a1 version 1")
            && found[0].message.contains("runs version 4"),
        "{}",
        found[0].message
    );
    assert!(found[0].remediation.commands[0].contains("--launch-template-version 4"));
    // Without the stack's template the rule says what it lacks.
    let mut snapshot = drift_core::bundle::read_bundle(
        &root().join("fixtures").join("upgrade-from-stack-template"),
    )
    .unwrap();
    snapshot.nodegroup_templates = None;
    let report = audit(&snapshot);
    let n = report
        .coverage
        .not_checked
        .iter()
        .find(|n| n.rule == "launch-template-version-missing")
        .unwrap();
    assert!(n.reason.contains("get-template/"), "{}", n.reason);
}
