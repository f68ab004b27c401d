//! Live audit and capture against a real moto server, through the real `eksdrift` binary and
//! the real AWS SDK over HTTP. No mocks of our own code; no internet.

mod deletion;
mod faults;
mod harness;
mod org;
mod partial;
mod plan;
mod seed;
mod upgrade;

use std::collections::BTreeMap;

use harness::moto;
use serde_json::Value;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn codes(target: &Value) -> Vec<(String, String)> {
    target["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["resource"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The rules a target could not check.
/// The rules a default live audit does not check by design: their reads belong to a gate
/// (`--for upgrade-cluster`, `--for create-fargateprofile`) or to `capture`. Each says so.
const GATE_ONLY: [(&str, &str); 4] = [
    (
        "fargate-profile-subnet-deleted",
        "--for create-fargateprofile",
    ),
    (
        "fargate-profile-role-missing",
        "--for create-fargateprofile",
    ),
    ("insight-not-passing", "--for upgrade-cluster"),
    ("addon-version-not-for-target", "--for upgrade-cluster"),
];

/// The rules not checked, but for those of [`GATE_ONLY`], whose reasons this checks name the
/// flag that reads them.
fn unchecked(target: &Value) -> Vec<String> {
    target["coverage"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            let rule = n["rule"].as_str().unwrap();
            let Some((_, flag)) = GATE_ONLY.iter().find(|(r, _)| *r == rule) else {
                return true;
            };
            assert!(n["reason"].as_str().unwrap().contains(flag), "{n}");
            false
        })
        .map(|n| n["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn api_calls(report: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(report["stats"]["api_calls"].clone()).unwrap()
}

#[test]
fn seed_case_live_audit_exits_1_and_names_the_deleted_subnets() {
    let (_lock, moto) = moto();
    let (cluster, new) = rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let new = seed::replace_private_subnets(moto, &c).await;
        (c, new)
    });
    // A nodegroup stack imports the subnet export the remediation would change (answered by
    // the test proxy: moto has no ListImports).
    faults::IMPORTS.lock().unwrap().insert(
        "eksctl-prod-cluster::SubnetsPrivate".to_owned(),
        vec!["eksctl-prod-nodegroup-ng-1".to_owned()],
    );
    let listed_before = moto.listed_imports();
    let out = moto
        .eksdrift()
        .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let t = &report["targets"][0];
    assert_eq!(t["status"], "audited");
    assert_eq!(t["stack"]["name"], "eksctl-prod-cluster");
    let found = codes(t);
    for (old, _) in &cluster.private {
        assert!(
            found.contains(&("EKD202".to_owned(), old.clone())),
            "{found:?}"
        );
    }
    assert!(found.iter().any(|(c, _)| c == "EKD205"), "{found:?}");
    // Both private subnets of the stack are gone: that breaks eksctl >= 0.177.0 too.
    assert!(
        found.contains(&("EKD203".to_owned(), "eksctl-prod-cluster".to_owned())),
        "{found:?}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(unchecked(t), ["export-imported-elsewhere"], "{t}");
    // The remediation points new nodegroups at the live replacement subnets.
    let fix = t["findings"][0]["remediation"]["commands"].to_string();
    for id in &new {
        assert!(fix.contains(id.as_str()), "{fix}");
    }
    // The cheap comparison found drift, so the template was read for precision.
    let calls = api_calls(&report);
    assert_eq!(
        calls.get("cloudformation:GetTemplate"),
        Some(&1),
        "{calls:?}"
    );
    // Exactly the export the plan changes was asked about, and its importer is in the plan.
    assert_eq!(
        calls.get("cloudformation:ListImports"),
        Some(&1),
        "{calls:?}"
    );
    assert_eq!(moto.listed_imports() - listed_before, 1);
    assert!(
        fix.contains(
            "eksctl-prod-cluster::SubnetsPrivate is imported by eksctl-prod-nodegroup-ng-1"
        ),
        "{fix}"
    );
    assert!(fix.contains("REVERT_DRIFT"), "{fix}");

    // Gating one operation: the seed-case drift breaks create-nodegroup, not delete-cluster.
    for (op, code) in [("create-nodegroup", 1), ("delete-cluster", 0)] {
        let gated = moto
            .eksdrift()
            .args([
                "audit",
                "-c",
                "prod",
                "-r",
                "us-west-2",
                "-o",
                "json",
                "--for",
                op,
            ])
            .output()
            .unwrap();
        assert_eq!(gated.status.code(), Some(code), "--for {op}");
        assert_eq!(json_of(&gated)["targets"][0]["findings"], t["findings"]);
    }

    // The table names them too.
    let table = moto
        .eksdrift()
        .args(["audit", "-c", "prod", "-r", "us-west-2"])
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(1));
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains(cluster.private[0].0.as_str()) && text.contains("EKD202"),
        "{text}"
    );
}

#[test]
fn capture_keeps_clusters_whose_folder_names_would_collide() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::eksctl_cluster(moto, "us-west-2", "Prod").await;
    });
    let dir = tempfile::tempdir().unwrap();
    let out = moto
        .eksdrift()
        .args([
            "capture",
            "-c",
            "prod",
            "-c",
            "Prod",
            "-r",
            "us-west-2",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // On a case-insensitive file system these would be one folder: never share one.
    let mut folders: Vec<String> = std::fs::read_dir(dir.path().join("us-west-2"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 2, "{folders:?}");
    let lower: std::collections::BTreeSet<String> =
        folders.iter().map(|f| f.to_lowercase()).collect();
    assert_eq!(lower.len(), 2, "{folders:?}");
    assert!(stderr.contains("note: cluster"), "{stderr}");
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = json_of(&offline);
    let mut clusters: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cluster"].as_str().unwrap())
        .collect();
    clusters.sort_unstable();
    assert_eq!(clusters, ["Prod", "prod"]);
}

#[test]
fn capture_reproduces_the_live_audit_offline() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::replace_private_subnets(moto, &c).await;
        seed::eksctl_cluster(moto, "us-west-2", "stable").await;
    });
    let live = moto
        .eksdrift()
        .args(["audit", "--all-clusters", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(live.status.code(), Some(1));
    let dir = tempfile::tempdir().unwrap();
    let captured = moto
        .eksdrift()
        .args(["capture", "--all-clusters", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        captured.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&captured.stderr)
    );
    let listed = String::from_utf8(captured.stdout).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    let bundle = dir.path().join("us-west-2/prod");
    for f in [
        "describe-stacks.json",
        "describe-cluster.json",
        "describe-subnets.json",
        "describe-security-groups.json",
        "get-template.json",
        "describe-stack-resources.json",
        "capture.json",
    ] {
        assert!(bundle.join(f).is_file(), "{f} missing from the capture");
    }
    // What ListImports answered for the export the plan would change is captured too.
    assert!(
        bundle
            .join("list-imports/eksctl-prod-cluster::SubnetsPrivate.json")
            .is_file()
    );
    // The files are in the AWS CLI's shapes.
    let stacks: Value = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("describe-stacks.json")).unwrap(),
    )
    .unwrap();
    assert!(stacks["Stacks"][0]["StackName"].is_string());
    let cluster: Value = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("describe-cluster.json")).unwrap(),
    )
    .unwrap();
    assert!(cluster["cluster"]["resourcesVpcConfig"]["subnetIds"].is_array());

    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    let (live, offline) = (json_of(&live), json_of(&offline));
    let by_cluster = |r: &Value| -> BTreeMap<String, Value> {
        r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["cluster"].as_str().unwrap().to_owned(),
                    t["findings"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(by_cluster(&live), by_cluster(&offline));
    assert_eq!(live["summary"]["findings"], offline["summary"]["findings"]);
}

#[test]
fn a_clean_fleet_has_no_findings_and_few_calls() {
    let (_lock, moto) = moto();
    let n = 6;
    rt().block_on(async {
        for i in 0..n {
            seed::eksctl_cluster(moto, "us-east-1", &format!("c{i}")).await;
        }
    });
    let out = moto
        .eksdrift()
        .args(["audit", "--all-clusters", "-r", "us-east-1", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["summary"]["audited"], n);
    assert_eq!(
        report["summary"]["findings"],
        serde_json::json!({"error": 0, "warning": 0, "info": 0})
    );
    for t in report["targets"].as_array().unwrap() {
        // Only the importers of every export and the roles' attachments are left: a deletion
        // gate asks for them.
        assert_eq!(unchecked(t), ["export-imported-elsewhere"], "{t}");
    }
    let calls = api_calls(&report);
    let total: u64 = calls.values().sum();
    // The delete gate's region reads add 8: interfaces, instances, Karpenter's templates, the
    // VPC's groups and the two reference filters, both load balancer listings; each cluster
    // lists its addons; the region's versions are asked once. No stack names a Fargate role,
    // so no cluster's Fargate profiles are listed, and no insight is read without the gate.
    assert!(total <= 3 * n + 28, "{total} calls: {calls:?}");
    assert_eq!(calls["eks:ListAddons"], n);
    assert_eq!(calls.get("eks:ListFargateProfiles"), None);
    assert_eq!(calls.get("eks:ListInsights"), None);
    assert_eq!(calls["eks:DescribeClusterVersions"], 1);
    assert_eq!(calls["eks:DescribeCluster"], n);
    assert_eq!(calls["ec2:DescribeSubnets"], 1);
    // By group-id, then the VPC's groups, then the two reference filters.
    assert_eq!(calls["ec2:DescribeSecurityGroups"], 4);
    assert_eq!(calls["ec2:DescribeNetworkInterfaces"], 1);
    assert_eq!(calls["elasticloadbalancing:DescribeLoadBalancers"], 2);
    assert!(
        !calls.contains_key("cloudformation:GetTemplate"),
        "{calls:?}"
    );
}

#[test]
fn a_nodegroup_named_like_a_cluster_stack_is_not_taken_for_it() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::nodegroup_stack(moto, &c, "spot-cluster").await;
    });
    let out = moto
        .eksdrift()
        .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    let t = &report["targets"][0];
    assert_eq!(t["stack"]["name"], "eksctl-prod-cluster");
    assert_eq!(
        codes(t),
        vec![(
            "EKD102".to_owned(),
            "eksctl-prod-nodegroup-spot-cluster".to_owned()
        )]
    );
}

/// Codes and resources of a target's findings, sorted.
fn sorted_codes(target: &Value) -> Vec<(String, String)> {
    let mut found = codes(target);
    found.sort();
    found
}

#[test]
fn drifted_nodegroups_of_each_kind_are_found_and_capture_reproduces_them() {
    let (_lock, moto) = moto();
    let (expected, c) = rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let region = c.region.as_str();
        let private: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
        let public: Vec<&str> = c.public.iter().map(|(id, _)| id.as_str()).collect();
        let config = moto.sdk_config(region).await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        // Healthy, both kinds.
        seed::nodegroup_stack(moto, &c, "ng-ok").await;
        seed::unmanaged_nodegroup(moto, &c, "ng-u-ok", &c.cluster_sg, &public, 1, "1").await;
        // Managed, in a subnet deleted later (EKD504).
        let extra = ec2
            .create_subnet()
            .vpc_id(&c.vpc)
            .cidr_block("192.168.224.0/20")
            .availability_zone("us-west-2a")
            .send()
            .await
            .unwrap();
        let extra = extra.subnet().unwrap().subnet_id().unwrap().to_owned();
        seed::nodegroup_stack_only(moto, region, "prod", "ng-moved", "managed").await;
        seed::managed_nodegroup(
            moto,
            region,
            "prod",
            "ng-moved",
            &[&extra, private[0]],
            None,
        );
        ec2.delete_subnet().subnet_id(&extra).send().await.unwrap();
        // Managed, made in the console: no stack (EKD502).
        seed::managed_nodegroup(moto, region, "prod", "ng-console", &private, None);
        // Managed stack whose nodegroup was deleted (EKD503).
        seed::nodegroup_stack_only(moto, region, "prod", "ng-gone", "managed").await;
        // Managed, running launch template version 5 of a template with 2 (EKD507).
        let lt = seed::launch_template(moto, region, "ng-lt", &[&c.cluster_sg], 2).await;
        seed::nodegroup_stack_only(moto, region, "prod", "ng-lt", "managed").await;
        seed::managed_nodegroup(moto, region, "prod", "ng-lt", &private, Some((&lt, "5")));
        // Unmanaged whose own security group was deleted (EKD505).
        let (own, _) =
            seed::unmanaged_nodegroup(moto, &c, "ng-u-sg", &c.cluster_sg, &public, 1, "1").await;
        ec2.delete_security_group()
            .group_id(&own)
            .send()
            .await
            .unwrap();
        // Unmanaged whose auto scaling group was deleted (EKD503).
        seed::unmanaged_nodegroup(moto, &c, "ng-u-gone", &c.cluster_sg, &public, 1, "$Latest")
            .await;
        aws_sdk_autoscaling::Client::new(&config)
            .delete_auto_scaling_group()
            .auto_scaling_group_name("eksctl-prod-nodegroup-ng-u-gone-NodeGroup-ABCDEF")
            .force_delete(true)
            .send()
            .await
            .unwrap();
        let mut expected = vec![
            ("EKD502".to_owned(), "ng-console".to_owned()),
            (
                "EKD503".to_owned(),
                "eksctl-prod-nodegroup-ng-gone".to_owned(),
            ),
            (
                "EKD503".to_owned(),
                "eksctl-prod-nodegroup-ng-u-gone".to_owned(),
            ),
            ("EKD504".to_owned(), extra),
            ("EKD505".to_owned(), own),
            ("EKD507".to_owned(), lt),
        ];
        expected.sort();
        (expected, c)
    });
    let live = moto
        .eksdrift()
        .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live = json_of(&live);
    let t = &live["targets"][0];
    assert_eq!(sorted_codes(t), expected, "{t}");
    // moto's clusters have no accessConfig, which reads as CONFIG_MAP (aws-auth only).
    assert_eq!(
        unchecked(t),
        ["node-role-without-access", "export-imported-elsewhere"],
        "{t}"
    );
    // Calls stay linear: one listing per cluster, one description per managed nodegroup, one
    // auto scaling call for the region, one version listing per launch template.
    let calls = api_calls(&live);
    assert_eq!(calls["eks:ListNodegroups"], 1, "{calls:?}");
    assert_eq!(calls["eks:DescribeNodegroup"], 4, "{calls:?}");
    assert_eq!(
        calls["autoscaling:DescribeAutoScalingGroups"], 1,
        "{calls:?}"
    );
    assert_eq!(calls["ec2:DescribeLaunchTemplateVersions"], 3, "{calls:?}");

    // capture → audit --from gives the same findings, nodegroups and all.
    let dir = tempfile::tempdir().unwrap();
    moto.eksdrift()
        .args(["capture", "-c", "prod", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let bundle = dir.path().join("us-west-2/prod");
    for f in [
        "list-nodegroups.json",
        "describe-nodegroup/ng-lt.json",
        "describe-auto-scaling-groups.json",
        "describe-launch-template-versions.json",
        "list-clusters.json",
    ] {
        assert!(bundle.join(f).is_file(), "{f} missing from the capture");
    }
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .output()
        .unwrap();
    let offline = json_of(&offline);
    assert_eq!(
        t["findings"], offline["targets"][0]["findings"],
        "capture then audit --from differs from the live audit"
    );
    // The capture asked for every importer, so the offline audit checks EKD702 too.
    assert_eq!(
        unchecked(&offline["targets"][0]),
        ["node-role-without-access"],
        "{}",
        offline["targets"][0]
    );
    drop(c);
}

#[test]
fn for_delete_cluster_asks_every_importer_and_gates_on_an_outside_import() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
    });
    // Another team's stack imports the cluster's VPC export (the proxy answers ListImports).
    faults::IMPORTS.lock().unwrap().insert(
        "eksctl-prod-cluster::VPC".to_owned(),
        vec!["team-a-database".to_owned()],
    );
    let before = moto.listed_imports();
    let out = moto
        .eksdrift()
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--for",
            "create-nodegroup",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        moto.listed_imports(),
        before,
        "no deletion gate, no ListImports"
    );
    assert_eq!(
        unchecked(&json_of(&out)["targets"][0]),
        ["export-imported-elsewhere"]
    );

    let out = moto
        .eksdrift()
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--for",
            "delete-cluster",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let t = &report["targets"][0];
    assert!(unchecked(t).is_empty(), "{t}");
    let f: Vec<&Value> = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD702")
        .collect();
    assert_eq!(f.len(), 1, "{t}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("imported by stack team-a-database"),
        "{}",
        f[0]
    );
    assert_eq!(f[0]["breaks"], serde_json::json!(["delete-cluster"]));
    // One ListImports per export of the cluster's eksctl stacks (the seed exports 7).
    assert_eq!(moto.listed_imports() - before, 7);
    assert_eq!(api_calls(&report)["cloudformation:ListImports"], 7);

    // The table of the gate puts the blocking finding first.
    let a = moto
        .eksdrift()
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "--for",
            "delete-cluster",
        ])
        .assert()
        .code(1);
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let first = table.lines().find(|l| l.contains("EKD")).unwrap();
    assert!(first.contains("EKD702"), "{table}");
}

#[test]
fn stacks_of_a_deleted_cluster_are_audited_as_leftovers() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let old = seed::eksctl_cluster(moto, "us-west-2", "old").await;
        seed::nodegroup_stack_only(moto, "us-west-2", "old", "ng-1", "managed").await;
        seed::eksctl_cluster(moto, "us-west-2", "live").await;
        drop(old);
    });
    // Deleted in the console: the EKS cluster is gone, its stacks stay.
    moto.eks_delete("us-west-2", "/clusters/old");
    let out = moto
        .eksdrift()
        .args(["audit", "--all-clusters", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings only: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let targets = report["targets"].as_array().unwrap();
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["live", "old"]);
    assert!(codes(&targets[0]).is_empty(), "{}", targets[0]);
    let old = &targets[1];
    assert_eq!(old["status"], "audited");
    assert_eq!(
        sorted_codes(old),
        [
            ("EKD703".to_owned(), "eksctl-old-cluster".to_owned()),
            ("EKD703".to_owned(), "eksctl-old-nodegroup-ng-1".to_owned()),
        ]
    );
    // Only the stack rules ran; the rest say why not.
    assert!(
        old["coverage"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["reason"]
                .as_str()
                .unwrap()
                .contains("does not exist in the region")),
        "{old}"
    );
    // Named: the same leftovers, not a failure; a name with no stacks still fails.
    let out = moto
        .eksdrift()
        .args([
            "audit",
            "-c",
            "old",
            "-c",
            "never",
            "-r",
            "us-west-2",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets[0]["cluster"], "old");
    assert_eq!(targets[0]["status"], "audited");
    assert_eq!(sorted_codes(&targets[0]).len(), 2);
    assert_eq!(targets[1]["cluster"], "never");
    assert_eq!(targets[1]["error"]["kind"], "not_found");
    // capture writes the leftovers as a bundle without describe-cluster.json, which audits
    // the same offline.
    let dir = tempfile::tempdir().unwrap();
    moto.eksdrift()
        .args(["capture", "-c", "old", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let bundle = dir.path().join("us-west-2/old");
    assert!(!bundle.join("describe-cluster.json").exists());
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        json_of(&offline)["targets"][0]["findings"],
        targets[0]["findings"]
    );
}

#[test]
fn identity_drift_is_found_live_and_capture_reproduces_it() {
    let (_lock, moto) = moto();
    let gone_role = format!("arn:aws:iam::{}:role/Gone", harness::ACCOUNT);
    let (current, recreated, deleted, provider) = rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let issuer = seed::issuer_path(moto, "us-west-2", "prod");
        let provider = seed::oidc_provider(moto, &issuer).await;
        let current =
            seed::iamserviceaccount(moto, "us-west-2", "prod", "kube-system", "lbc", &issuer).await;
        // Stacks from before the cluster was recreated: they trust the old issuer.
        let old = "oidc.eks.us-west-2.amazonaws.com/id/0LD0LD0LD0LD0LD0LD0LD0LD0LD0LD00";
        let recreated =
            seed::iamserviceaccount(moto, "us-west-2", "prod", "default", "app", old).await;
        let deleted =
            seed::iamserviceaccount(moto, "us-west-2", "prod", "default", "cron", &issuer).await;
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config("us-east-1").await);
        iam.delete_role()
            .role_name(deleted.rsplit('/').next().unwrap())
            .send()
            .await
            .unwrap();
        (current, recreated, deleted, provider)
    });
    // Access entries and pod identity, which moto lacks, come from the proxy.
    faults::ACCESS.lock().unwrap().insert(
        "prod".to_owned(),
        faults::ClusterAccess {
            authentication_mode: "API_AND_CONFIG_MAP".to_owned(),
            entries: vec![
                serde_json::json!({"principalArn": gone_role, "type": "STANDARD",
                    "createdAt": 1_717_000_000.0, "username": gone_role}),
                serde_json::json!({"principalArn": current, "type": "STANDARD",
                    "createdAt": 4_102_444_800.0, "username": current}),
            ],
            associations: vec![serde_json::json!({"clusterName": "prod",
                "namespace": "default", "serviceAccount": "s3", "associationId": "a-0123456789abcdef0",
                "associationArn": "arn:aws:eks:us-west-2:123456789012:podidentityassociation/prod/a-0123456789abcdef0",
                "roleArn": deleted})],
            ..Default::default()
        },
    );
    let audit = || {
        let out = moto
            .eksdrift()
            .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json_of(&out)
    };
    let report = audit();
    let t = &report["targets"][0];
    let mut expected = vec![
        ("EKD602".to_owned(), recreated.clone()),
        ("EKD603".to_owned(), deleted.clone()),
        ("EKD606".to_owned(), gone_role.clone()),
        ("EKD607".to_owned(), "a-0123456789abcdef0".to_owned()),
    ];
    expected.sort();
    assert_eq!(sorted_codes(t), expected, "{t}");
    assert_eq!(
        unchecked(t),
        [
            "export-imported-elsewhere",
            "role-has-undeclared-attachments"
        ],
        "{t}"
    );
    // The wrong statement is shown, with the old issuer in it.
    let f = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "EKD602")
        .unwrap();
    assert!(
        f["actual"]["value"]["Principal"]["Federated"]
            .as_str()
            .unwrap()
            .ends_with("0LD0LD0LD0LD0LD0LD0LD0LD0LD0LD00"),
        "{f}"
    );
    // IAM once per run; one listing per cluster; a description per role entry and association.
    let calls = api_calls(&report);
    for (op, n) in [
        ("iam:ListRoles", 1),
        ("iam:ListOpenIDConnectProviders", 1),
        ("eks:ListAccessEntries", 1),
        ("eks:DescribeAccessEntry", 2),
        ("eks:ListPodIdentityAssociations", 1),
        ("eks:DescribePodIdentityAssociation", 1),
    ] {
        assert_eq!(calls.get(op), Some(&n), "{op}: {calls:?}");
    }

    // capture → audit --from gives the same findings.
    let dir = tempfile::tempdir().unwrap();
    moto.eksdrift()
        .args(["capture", "-c", "prod", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let bundle = dir.path().join("us-west-2/prod");
    for f in [
        "list-open-id-connect-providers.json",
        "list-roles.json",
        "list-access-entries.json",
        "list-pod-identity-associations.json",
    ] {
        assert!(bundle.join(f).is_file(), "{f} missing from the capture");
    }
    // Trust policies are written decoded, as the AWS CLI prints them.
    let roles: Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("list-roles.json")).unwrap())
            .unwrap();
    assert!(
        roles["Roles"][0]["AssumeRolePolicyDocument"].is_object(),
        "{roles}"
    );
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(json_of(&offline)["targets"][0]["findings"], t["findings"]);

    // The OIDC provider deleted: every IRSA role of the cluster fails.
    rt().block_on(async {
        let iam = aws_sdk_iam::Client::new(&moto.sdk_config("us-east-1").await);
        iam.delete_open_id_connect_provider()
            .open_id_connect_provider_arn(&provider)
            .send()
            .await
            .unwrap();
    });
    let report = audit();
    let t = &report["targets"][0];
    assert!(
        sorted_codes(t).contains(&("EKD601".to_owned(), "prod".to_owned())),
        "{t}"
    );
}

#[test]
fn several_accounts_in_one_run_and_a_denied_one_fails_alone() {
    use faults::{Fault, Proxy, Rule};
    let (_lock, moto) = moto();
    let other = "arn:aws:iam::111111111111:role/eksdrift-audit";
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "home").await;
        harness::seed_in_account(moto, other, || async {
            let c = seed::eksctl_cluster(moto, "us-west-2", "away").await;
            seed::replace_private_subnets(moto, &c).await;
        })
        .await;
    });
    // The third account's role cannot be assumed.
    let proxy = Proxy::start(
        moto.port,
        1,
        vec![Rule::always(
            "sts",
            "AssumeRole",
            Some("222222222222"),
            Fault::AccessDenied,
        )],
    );
    let out = moto
        .eksdrift_std()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--assume-role",
            "eksdrift-audit",
            "--account",
            "111111111111",
            "--account",
            "222222222222",
            "--role-arn",
        ])
        .arg(format!(
            "arn:aws:iam::{}:role/eksdrift-audit",
            harness::ACCOUNT
        ))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the denied account wins: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let targets: Vec<(String, String, String)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap_or("").to_owned(),
                t["cluster"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        vec![
            (
                "123456789012".to_owned(),
                "home".to_owned(),
                "audited".to_owned()
            ),
            (
                "111111111111".to_owned(),
                "away".to_owned(),
                "audited".to_owned()
            ),
            (
                "222222222222".to_owned(),
                "*".to_owned(),
                "failed".to_owned()
            ),
        ],
        "{report}"
    );
    let t = &report["targets"];
    assert!(codes(&t[0]).is_empty(), "{}", t[0]);
    assert!(
        codes(&t[1]).iter().any(|(c, _)| c == "EKD202"),
        "the other account's drift is found: {}",
        t[1]
    );
    assert_eq!(t[2]["error"]["kind"], "access_denied", "{}", t[2]);
    assert!(
        t[2]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("arn:aws:iam::222222222222:role/eksdrift-audit")
    );
    let calls = api_calls(&report);
    // Two roles assumed and read (the denied one read nothing).
    assert_eq!(calls["sts:AssumeRole"], 2, "{calls:?}");
}

#[test]
fn each_profile_is_audited() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
    });
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials");
    std::fs::write(
        &credentials,
        "[team-a]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n[team-b]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let out = moto
        .eksdrift_std()
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
        .args(["-p", "team-a", "-p", "team-b"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let targets = report["targets"].as_array().unwrap();
    // moto puts both profiles' keys in its default account: the same cluster, read twice.
    assert_eq!(targets.len(), 2, "{report}");
    assert!(
        targets
            .iter()
            .all(|t| t["account"] == harness::ACCOUNT && t["cluster"] == "prod")
    );
    assert_eq!(api_calls(&report)["sts:GetCallerIdentity"], 2);
    // A profile that does not exist stops the run with one clear line, even with credentials
    // in the environment (an explicit profile means that profile, as for the AWS CLI).
    let out = moto
        .eksdrift_std()
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-p",
            "team-a",
            "-p",
            "nope",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_cluster_without_an_eksctl_stack_is_a_finding_and_an_unknown_cluster_fails_alone() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let config = moto.sdk_config("eu-west-1").await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let vpc = ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_owned();
        let mut subnets = Vec::new();
        for (az, cidr) in [("eu-west-1a", "10.0.0.0/24"), ("eu-west-1b", "10.0.1.0/24")] {
            let s = ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(cidr)
                .availability_zone(az)
                .send()
                .await
                .unwrap();
            subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_owned());
        }
        let sg = ec2
            .create_security_group()
            .group_name("terraform")
            .description("tf")
            .vpc_id(&vpc)
            .send()
            .await
            .unwrap();
        let sg = sg.group_id().unwrap().to_owned();
        let ids: Vec<&str> = subnets.iter().map(String::as_str).collect();
        seed::create_cluster(
            moto,
            "eu-west-1",
            "terraformed",
            &seed::vpc_config(&vpc, &ids, &sg, &sg),
        );
    });
    let out = moto
        .eksdrift()
        .args([
            "audit",
            "-c",
            "terraformed",
            "-c",
            "nope",
            "-r",
            "eu-west-1",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a target that could not be audited wins"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no EKS cluster named nope in eu-west-1"),
        "{stderr}"
    );
    let report = json_of(&out);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets[0]["cluster"], "terraformed");
    assert_eq!(targets[0]["status"], "audited");
    assert_eq!(
        codes(&targets[0]),
        vec![("EKD101".to_owned(), "terraformed".to_owned())]
    );
    assert_eq!(targets[1]["cluster"], "nope");
    assert_eq!(targets[1]["status"], "failed");
    assert_eq!(targets[1]["error"]["kind"], "not_found");
}

#[test]
fn several_regions_in_one_run() {
    let (_lock, moto) = moto();
    let east = rt().block_on(async {
        let east = seed::eksctl_cluster(moto, "us-east-1", "east").await;
        seed::replace_private_subnets(moto, &east).await;
        seed::eksctl_cluster(moto, "eu-west-1", "west").await;
        east
    });
    let out = moto
        .eksdrift()
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-east-1",
            "-r",
            "eu-west-1",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let targets: BTreeMap<String, &Value> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                format!(
                    "{}/{}",
                    t["region"].as_str().unwrap(),
                    t["cluster"].as_str().unwrap()
                ),
                t,
            )
        })
        .collect();
    assert_eq!(targets.len(), 2, "{:?}", targets.keys());
    assert!(
        codes(targets["us-east-1/east"])
            .contains(&("EKD202".to_owned(), east.private[0].0.clone()))
    );
    assert!(codes(targets["eu-west-1/west"]).is_empty());
    assert_eq!(api_calls(&report)["eks:ListClusters"], 2);
}

#[test]
fn the_request_log_holds_only_allowlisted_operations() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::replace_private_subnets(moto, &c).await;
        seed::nodegroup_stack(moto, &c, "ng-1").await;
    });
    moto.post("/moto-api/recorder/reset-recording", &[], "");
    let dir = tempfile::tempdir().unwrap();
    moto.eksdrift()
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-west-2",
            "-c",
            "ignored",
        ])
        .assert()
        .code(2); // -c and --all-clusters conflict: a usage error, nothing sent
    moto.eksdrift()
        .args(["audit", "--all-clusters", "-r", "us-west-2"])
        .assert()
        .code(1);
    moto.eksdrift()
        .args([
            "capture",
            "-c",
            "prod",
            "-c",
            "nope",
            "-r",
            "us-west-2",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(2);
    let actions = moto.recorded_actions();
    let sent: Vec<&str> = actions
        .iter()
        .map(|a| a.split_whitespace().next().unwrap())
        .filter(|a| !a.starts_with("moto:"))
        .collect();
    assert!(sent.len() >= 10, "{actions:#?}");
    for action in &sent {
        assert!(
            drift_core::readonly::is_allowed(action),
            "{action} is not allowlisted: {actions:#?}"
        );
    }
    for expected in [
        "sts:GetCallerIdentity",
        "eks:ListClusters",
        "cloudformation:DescribeStacks",
        "eks:DescribeCluster",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "cloudformation:GetTemplate",
        "cloudformation:DescribeStackResources",
        "eks:ListNodegroups",
        "eks:DescribeNodegroup",
        "autoscaling:DescribeAutoScalingGroups",
        "iam:ListRoles",
        "iam:ListOpenIDConnectProviders",
    ] {
        assert!(sent.contains(&expected), "{expected} not seen: {sent:?}");
    }
}

#[test]
fn the_guard_refuses_a_mutating_call_before_it_is_sent() {
    let (_lock, moto) = moto();
    let guard = drift_core::collect::guard::ReadOnlyGuard::new();
    let (refused, allowed) = rt().block_on(async {
        let config = moto.sdk_config("us-west-2").await;
        let ec2 = aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::config::Builder::from(&config)
                .interceptor(guard.clone())
                .build(),
        );
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::config::Builder::from(&config)
                .interceptor(guard.clone())
                .build(),
        );
        moto.post("/moto-api/recorder/reset-recording", &[], "");
        let refused = vec![
            ec2.create_vpc()
                .cidr_block("10.9.0.0/16")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_ec2::error::DisplayErrorContext(&e))),
            cfn.detect_stack_drift()
                .stack_name("eksctl-prod-cluster")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{}", aws_sdk_ec2::error::DisplayErrorContext(&e))),
        ];
        let allowed = ec2.describe_vpcs().send().await.map(|o| o.vpcs().len());
        (refused, allowed)
    });
    for r in &refused {
        let err = r.as_ref().unwrap_err();
        assert!(err.contains("eksdrift is read-only: refusing"), "{err}");
    }
    assert!(
        allowed.unwrap() >= 1,
        "the default VPC is visible to an allowed call"
    );
    let sent: Vec<String> = moto
        .recorded_actions()
        .into_iter()
        .filter(|a| !a.starts_with("moto:"))
        .collect();
    assert_eq!(
        sent,
        vec!["ec2:DescribeVpcs".to_owned()],
        "only the allowed call reached the server"
    );
    assert_eq!(guard.calls().get("ec2:DescribeVpcs"), Some(&1));
    assert!(!guard.calls().contains_key("ec2:CreateVpc"));
}

#[test]
fn missing_region_and_credentials_fail_fast_before_any_call() {
    let (_lock, moto) = moto();
    // One line each: what was tried and what to do, nothing from the SDK (that needs -v).
    let one_line = |out: &std::process::Output, needles: &[&str]| {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n:?} not in {err}");
        }
    };
    let out = moto
        .eksdrift()
        .args(["audit", "-c", "prod"])
        .output()
        .unwrap();
    one_line(&out, &["no AWS region", "-r/--region", "AWS_REGION"]);
    let out = moto
        .eksdrift()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["audit", "-c", "prod", "-r", "us-west-2"])
        .output()
        .unwrap();
    one_line(
        &out,
        &[
            "no usable AWS credentials",
            "AWS_PROFILE",
            "aws sso login",
            "-p PROFILE",
        ],
    );
    let sent: Vec<String> = moto
        .recorded_actions()
        .into_iter()
        .filter(|a| !a.starts_with("moto:"))
        .collect();
    assert!(sent.is_empty(), "{sent:?}");
}

/// Figures for the fleet audit, not a pass/fail test: run with
/// `cargo test --release -p drift-cli --test live -- --ignored fleet_figures --nocapture`.
/// Seeds 50 eksctl clusters in one region (three with the seed-case drift) and prints calls
/// per operation and the median wall time of 5 runs at the default concurrency and at 1,
/// then the same fleet read by a shell loop of AWS CLI calls per cluster.
#[test]
#[ignore = "benchmark: prints figures, takes minutes"]
fn fleet_figures() {
    use std::time::Instant;
    let (_lock, moto) = moto();
    let n = 50;
    // Each cluster has two managed nodegroups and one unmanaged one, as eksctl makes them.
    rt().block_on(async {
        for i in 0..n {
            let c = seed::eksctl_cluster(moto, "us-east-1", &format!("fleet-{i:02}")).await;
            seed::nodegroup_stack(moto, &c, "ng-a").await;
            seed::nodegroup_stack(moto, &c, "ng-b").await;
            let public: Vec<&str> = c.public.iter().map(|(id, _)| id.as_str()).collect();
            seed::unmanaged_nodegroup(moto, &c, "ng-u", &c.cluster_sg, &public, 1, "1").await;
            // And two IRSA service accounts trusting its OIDC provider.
            let issuer = seed::issuer_path(moto, "us-east-1", &c.name);
            seed::oidc_provider(moto, &issuer).await;
            for sa in ["lbc", "dns"] {
                seed::iamserviceaccount(moto, "us-east-1", &c.name, "kube-system", sa, &issuer)
                    .await;
            }
            if i % 17 == 0 {
                seed::replace_private_subnets(moto, &c).await;
            }
        }
    });
    // Warm moto's per-service state so the first timed run is not the slow one.
    moto.eksdrift()
        .args(["audit", "--all-clusters", "-r", "us-east-1", "-o", "json"])
        .output()
        .unwrap();

    let median = |args: &[&str]| -> (f64, Value) {
        let mut times = Vec::new();
        let mut last = Value::Null;
        for _ in 0..5 {
            let started = Instant::now();
            let out = moto.eksdrift().args(args).output().unwrap();
            times.push(started.elapsed().as_secs_f64());
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            last = json_of(&out);
        }
        times.sort_by(f64::total_cmp);
        (times[2], last)
    };
    let (default_s, report) = median(&["audit", "--all-clusters", "-r", "us-east-1", "-o", "json"]);
    let (serial_s, _) = median(&[
        "audit",
        "--all-clusters",
        "-r",
        "us-east-1",
        "-o",
        "json",
        "--concurrency",
        "1",
    ]);
    let calls = api_calls(&report);
    let total: u64 = calls.values().sum();
    println!(
        "fleet of {n} clusters, one region (moto {})",
        moto.endpoint()
    );
    println!(
        "nodegroups: {} managed, {n} unmanaged (one launch template each); {} IRSA stacks",
        2 * n,
        2 * n
    );
    println!("calls per operation: {calls:?} (total {total})");
    let (gate_s, gate) = median(&[
        "audit",
        "--all-clusters",
        "-r",
        "us-east-1",
        "-o",
        "json",
        "--for",
        "delete-cluster",
    ]);
    let gate_calls = api_calls(&gate);
    println!(
        "with --for delete-cluster: {gate_calls:?} (total {}); median of 5 = {gate_s:.3} s",
        gate_calls.values().sum::<u64>()
    );
    let (upgrade_s, upgrade) = median(&[
        "audit",
        "--all-clusters",
        "-r",
        "us-east-1",
        "-o",
        "json",
        "--for",
        "upgrade-cluster",
    ]);
    let upgrade_calls = api_calls(&upgrade);
    println!(
        "with --for upgrade-cluster: {upgrade_calls:?} (total {}); median of 5 = {upgrade_s:.3} s",
        upgrade_calls.values().sum::<u64>()
    );
    println!("findings: {}", report["summary"]["findings"]);
    println!("eksdrift, default concurrency: median of 5 = {default_s:.3} s");
    println!("eksdrift, --concurrency 1:     median of 5 = {serial_s:.3} s");

    if std::env::var_os("EKSDRIFT_SKIP_CLI_LOOP").is_some() {
        println!("aws CLI loop skipped (EKSDRIFT_SKIP_CLI_LOOP)");
        return;
    }
    let script = format!(
        r"for i in $(seq -w 0 {last}); do c=fleet-$i
  aws cloudformation describe-stacks --stack-name eksctl-$c-cluster > /dev/null
  vpc=$(aws eks describe-cluster --name $c --query cluster.resourcesVpcConfig.vpcId --output text)
  aws ec2 describe-subnets --filters Name=vpc-id,Values=$vpc > /dev/null
done",
        last = n - 1
    );
    let mut loop_times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let status = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .status()
            .expect("the aws CLI (pip install awscli) is needed for the comparison");
        assert!(status.success());
        loop_times.push(started.elapsed().as_secs_f64());
    }
    loop_times.sort_by(f64::total_cmp);
    let loop_s = loop_times[1];
    println!(
        "aws CLI loop (3 calls per cluster, {} calls): median of 3 = {loop_s:.3} s",
        3 * n
    );
    println!(
        "ratio aws CLI loop / eksdrift default = {:.1}x",
        loop_s / default_s
    );
}

/// The collector against its latency bound, not a pass/fail test: run with
/// `cargo test --release -p drift-cli --test live -- --ignored latency_figures --nocapture`.
/// A 50-cluster fleet (three with the seed-case drift) behind the test proxy adding
/// `EKSDRIFT_LATENCY_MS` (default 80) to every call, as a real region's round trip does.
/// `EKSDRIFT_BIN` measures another build of eksdrift (for before/after figures).
///
/// The bound is the sequential round trips any correct collector needs: credentials ∥
/// ListClusters ∥ DescribeStacks; the DescribeCluster waves at --concurrency; subnets ∥
/// security groups; the eventual-consistency pause ∥ templates and imports; the second look.
#[test]
#[ignore = "benchmark: prints figures, takes minutes"]
fn latency_figures() {
    use std::time::{Duration, Instant};
    let (_lock, moto) = moto();
    let n: u64 = 50;
    let concurrency: u64 = 8;
    let latency_ms: u64 = std::env::var("EKSDRIFT_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    let program =
        std::env::var("EKSDRIFT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_eksdrift").to_owned());
    rt().block_on(async {
        for i in 0..n {
            let c = seed::eksctl_cluster(moto, "us-east-1", &format!("fleet-{i:02}")).await;
            if i % 17 == 0 {
                seed::replace_private_subnets(moto, &c).await;
            }
        }
    });
    let proxy = faults::Proxy::start_with_latency(
        moto.port,
        1,
        Vec::new(),
        Duration::from_millis(latency_ms),
    );
    let run = || {
        let started = Instant::now();
        let out = moto
            .program_std(&program)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args(["audit", "--all-clusters", "-r", "us-east-1", "-o", "json"])
            .output()
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (wall, json_of(&out))
    };
    run(); // warm moto's per-service state
    if std::env::var_os("EKSDRIFT_TRACE_RUN").is_some() {
        let out = moto
            .program_std(&program)
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .env("EKSDRIFT_LOG", "drift_core=debug")
            .args(["audit", "--all-clusters", "-r", "us-east-1", "-o", "json"])
            .output()
            .unwrap();
        println!("{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut times = Vec::new();
    let mut report = Value::Null;
    for _ in 0..7 {
        let (wall, r) = run();
        times.push(wall);
        report = r;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let rtt = latency_ms as f64 / 1000.0;
    let waves = n.div_ceil(concurrency) as f64;
    let pause = 0.75;
    let bound = rtt * (1.0 + waves + 1.0 + 1.0) + pause;
    let calls = api_calls(&report);
    let total: u64 = calls.values().sum();
    println!("program: {program}");
    println!(
        "fleet of {n} clusters (3 drifted), one region, {latency_ms} ms added to every call, --concurrency {concurrency}"
    );
    println!("calls per operation: {calls:?} (total {total})");
    println!(
        "wall time over 7 runs: median {median:.3} s, min {:.3} s, max {:.3} s",
        times[0],
        times[times.len() - 1]
    );
    println!(
        "critical-path bound: (1 + {waves} + 1 + 1) x {rtt:.3} s + {pause} s pause = {bound:.3} s"
    );
    println!("median / bound = {:.2}", median / bound);
}

#[test]
fn an_unreachable_or_silent_endpoint_fails_the_targets_with_the_right_kind() {
    let (_lock, moto) = moto();
    rt().block_on(seed::eksctl_cluster(moto, "us-west-2", "prod"));
    // EKS behind a port nobody listens on: a network error, after the retries.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = moto
        .eksdrift()
        .env("AWS_ENDPOINT_URL_EKS", format!("http://127.0.0.1:{closed}"))
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--max-attempts",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    assert_eq!(report["targets"][0]["status"], "failed");
    assert_eq!(report["targets"][0]["error"]["kind"], "network", "{report}");
    assert!(
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // EKS behind a listener that accepts and never answers: a timeout, bounded by the flags.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        silent.set_nonblocking(true).unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < until {
            if let Ok((c, _)) = silent.accept() {
                conns.push(c);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    let started = std::time::Instant::now();
    let out = moto
        .eksdrift()
        .env("AWS_ENDPOINT_URL_EKS", format!("http://127.0.0.1:{port}"))
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--timeout",
            "1",
            "--max-attempts",
            "2",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    assert_eq!(report["targets"][0]["error"]["kind"], "timeout", "{report}");
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    drop(held);
}

mod fault_injection {
    use super::faults::{Fault, Match, Proxy, Rule};
    use super::{codes, harness::moto, json_of, rt, seed};
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    const REGION: &str = "us-east-1";

    fn fleet(moto: &'static super::harness::Moto) {
        rt().block_on(async {
            for i in 0..5 {
                let c = seed::eksctl_cluster(moto, REGION, &format!("f{i}")).await;
                if i % 2 == 0 {
                    seed::replace_private_subnets(moto, &c).await;
                }
            }
        });
    }

    fn audit(
        moto: &super::harness::Moto,
        endpoint: &str,
        extra: &[&str],
    ) -> (Option<i32>, Value, Duration) {
        let started = Instant::now();
        let out = moto
            .eksdrift()
            .env("AWS_ENDPOINT_URL", endpoint)
            .args(["audit", "--all-clusters", "-r", REGION, "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        (out.status.code(), json_of(&out), started.elapsed())
    }

    fn findings_by_cluster(report: &Value) -> BTreeMap<String, Vec<(String, String)>> {
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["cluster"].as_str().unwrap().to_owned(), codes(t)))
            .collect()
    }

    #[test]
    fn a_listing_that_never_ends_fails_the_region_instead_of_looking_clean() {
        let (_lock, moto) = moto();
        fleet(moto);
        for fault in [Fault::AlternateTokens, Fault::SameToken] {
            let proxy = Proxy::start(
                moto.port,
                7,
                vec![Rule::always(
                    "cloudformation",
                    "DescribeStacks",
                    None,
                    fault,
                )],
            );
            let (code, report, _) = audit(moto, &proxy.endpoint(), &[]);
            assert_eq!(code, Some(2), "{fault:?}: {report}");
            let calls = super::api_calls(&report);
            assert!(
                calls["cloudformation:DescribeStacks"] <= 3,
                "{fault:?}: {calls:?}"
            );
            for t in report["targets"].as_array().unwrap() {
                assert_eq!(t["status"], "failed", "{fault:?}: {t}");
                assert_eq!(t["error"]["kind"], "invalid_response", "{t}");
                let msg = t["error"]["message"].as_str().unwrap();
                assert!(msg.contains("pagination token"), "{msg}");
            }
            assert_eq!(report["targets"].as_array().unwrap().len(), 5);
        }
    }

    #[test]
    fn a_huge_garbage_answer_is_not_copied_into_the_report() {
        let (_lock, moto) = moto();
        fleet(moto);
        let proxy = Proxy::start(
            moto.port,
            7,
            vec![Rule::always(
                "eks",
                "DescribeCluster",
                Some("/clusters/f1"),
                Fault::HugeGarbage,
            )],
        );
        let out = moto
            .eksdrift()
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args([
                "audit",
                "--all-clusters",
                "-r",
                REGION,
                "-o",
                "json",
                "--max-attempts",
                "2",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            out.stderr.len() < 10_000,
            "stderr: {} bytes",
            out.stderr.len()
        );
        assert!(
            out.stdout.len() < 200_000,
            "report: {} bytes",
            out.stdout.len()
        );
        let report = json_of(&out);
        let failed: Vec<&Value> = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "{report}");
        assert_eq!(failed[0]["cluster"], "f1");
        // The raw answer was there to copy: the message names the answer, never copies it.
        let message = failed[0]["error"]["message"].as_str().unwrap();
        assert_eq!(failed[0]["error"]["kind"], "invalid_response", "{message}");
        assert!(
            message.len() < 300 && !message.contains("xxxx"),
            "{message}"
        );
    }

    #[test]
    fn clusters_listed_twice_are_audited_once() {
        let (_lock, moto) = moto();
        fleet(moto);
        let proxy = Proxy::start(
            moto.port,
            7,
            vec![Rule::always(
                "eks",
                "ListClusters",
                None,
                Fault::DuplicateNames,
            )],
        );
        let (code, report, _) = audit(moto, &proxy.endpoint(), &[]);
        assert_eq!(code, Some(1), "{report}");
        assert_eq!(report["summary"]["targets"], 5, "{report}");
        assert_eq!(report["summary"]["failed"], 0, "{report}");
    }

    #[test]
    fn transient_faults_at_25_percent_change_nothing() {
        let (_lock, moto) = moto();
        fleet(moto);
        let (code, baseline, _) = audit(moto, &moto.front_endpoint(), &[]);
        assert_eq!(code, Some(1));
        let expected = findings_by_cluster(&baseline);
        assert_eq!(expected.len(), 5);
        let transient = vec![
            Fault::Throttle,
            Fault::Internal,
            Fault::Unavailable,
            Fault::Reset,
            Fault::Truncate,
            Fault::Slow,
        ];
        let mut total: BTreeMap<Fault, u64> = BTreeMap::new();
        let runs: u64 = std::env::var("EKSDRIFT_FAULT_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(4);
        for seed in 1..=runs {
            let proxy = Proxy::start(
                moto.port,
                seed,
                vec![Rule {
                    on: Match::default(),
                    rate: 0.25,
                    faults: transient.clone(),
                    limit: None,
                }],
            );
            let (code, report, _) = audit(moto, &proxy.endpoint(), &[]);
            assert_eq!(code, Some(1), "seed {seed}: {report}");
            assert_eq!(findings_by_cluster(&report), expected, "seed {seed}");
            assert_eq!(report["summary"]["failed"], 0);
            for (f, n) in proxy.injected() {
                *total.entry(f).or_default() += n;
            }
        }
        println!("faults injected and survived over {runs} fleet runs: {total:?}");
        assert!(total.values().sum::<u64>() >= 10, "{total:?}");
    }

    #[test]
    fn permanent_denial_on_one_cluster_fails_that_target_alone() {
        let (_lock, moto) = moto();
        fleet(moto);
        let proxy = Proxy::start(
            moto.port,
            7,
            vec![Rule::always(
                "eks",
                "DescribeCluster",
                Some("/clusters/f1"),
                Fault::AccessDenied,
            )],
        );
        let (code, report, _) = audit(moto, &proxy.endpoint(), &[]);
        assert_eq!(code, Some(2));
        let targets = report["targets"].as_array().unwrap();
        for t in targets {
            if t["cluster"] == "f1" {
                assert_eq!(t["status"], "failed");
                assert_eq!(t["error"]["kind"], "access_denied");
                assert!(
                    t["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("eks:DescribeCluster"),
                    "{t}"
                );
                assert!(t["findings"].as_array().unwrap().is_empty());
            } else {
                assert_eq!(t["status"], "audited", "{t}");
            }
        }
        assert_eq!(report["summary"]["audited"], 4);
    }

    #[test]
    fn a_hang_on_one_cluster_times_out_in_bounded_time() {
        let (_lock, moto) = moto();
        fleet(moto);
        let proxy = Proxy::start(
            moto.port,
            9,
            vec![Rule::always(
                "eks",
                "DescribeCluster",
                Some("/clusters/f3"),
                Fault::Hang,
            )],
        );
        let (code, report, took) = audit(
            moto,
            &proxy.endpoint(),
            &["--timeout", "2", "--max-attempts", "2"],
        );
        assert_eq!(code, Some(2));
        println!("hung endpoint with --timeout 2 --max-attempts 2: {took:?}");
        // attempts x timeout plus backoff, with room for a slow machine
        assert!(took < Duration::from_secs(20), "took {took:?}");
        for t in report["targets"].as_array().unwrap() {
            if t["cluster"] == "f3" {
                assert_eq!(t["error"]["kind"], "timeout", "{t}");
            } else {
                assert_eq!(t["status"], "audited", "{t}");
            }
        }
    }

    #[test]
    fn no_security_group_rule_looks_clean_when_ec2_cannot_be_read() {
        let (_lock, moto) = moto();
        fleet(moto);
        let proxy = Proxy::start(
            moto.port,
            3,
            vec![Rule::always(
                "ec2",
                "DescribeSecurityGroups",
                None,
                Fault::Throttle,
            )],
        );
        let (code, report, _) = audit(moto, &proxy.endpoint(), &["--max-attempts", "2"]);
        assert_eq!(code, Some(2));
        for t in report["targets"].as_array().unwrap() {
            // The groups' rules are not checked, saying why; the subnet rules still report.
            assert_eq!(t["status"], "partial", "{t}");
            let reasons: Vec<(&str, &str)> = t["coverage"]["not_checked"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| (n["rule"].as_str().unwrap(), n["reason"].as_str().unwrap()))
                .filter(|(_, r)| r.starts_with("ec2:DescribeSecurityGroups failed (throttled)"))
                .collect();
            let rules: Vec<&str> = reasons.iter().map(|(r, _)| *r).collect();
            assert_eq!(
                rules,
                [
                    "security-group-deleted",
                    "nodegroup-security-group-deleted",
                    "network-interface-blocks-delete",
                    "security-group-blocks-delete",
                    "karpenter-leftovers"
                ],
                "{t}"
            );
            assert!(codes(t).iter().all(|(c, _)| c != "EKD302" && c != "EKD505"));
        }
        let drifted = &report["targets"][0];
        assert!(
            codes(drifted).iter().any(|(c, _)| c == "EKD202"),
            "{drifted}"
        );
        assert!(proxy.forwarded() > 0);
    }

    #[test]
    fn a_subnet_ec2_does_not_show_yet_is_asked_for_again_not_reported_deleted() {
        let (_lock, moto) = moto();
        rt().block_on(seed::eksctl_cluster(moto, REGION, "fresh"));
        let proxy = Proxy::start(
            moto.port,
            5,
            vec![Rule {
                limit: Some(1),
                ..Rule::always("ec2", "DescribeSubnets", None, Fault::Stale)
            }],
        );
        let (code, report, _) = audit(moto, &proxy.endpoint(), &[]);
        assert_eq!(proxy.injected().get(&Fault::Stale), Some(&1));
        assert_eq!(code, Some(0), "{report}");
        assert!(codes(&report["targets"][0]).is_empty(), "{report}");
        assert_eq!(report["stats"]["api_calls"]["ec2:DescribeSubnets"], 2);
    }
}

#[test]
fn ctrl_c_leaves_no_partial_file() {
    let (_lock, moto) = moto();
    rt().block_on(seed::eksctl_cluster(moto, "us-west-2", "prod"));
    // EKS never answers, so the run is still reading when it is interrupted.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = moto
        .eksdrift_std()
        .env("AWS_ENDPOINT_URL_EKS", format!("http://127.0.0.1:{port}"))
        .args([
            "audit",
            "-c",
            "prod",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--timeout",
            "60",
            "--output-file",
        ])
        .arg(&report)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the request to EKS is in flight.
    silent.set_nonblocking(false).unwrap();
    let (_held, _) = silent.accept().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
