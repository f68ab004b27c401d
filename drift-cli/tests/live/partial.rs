//! Partial targets: one failed read never sinks the rest, an incomplete audit never looks
//! clean, a gate never passes on a failed read, and no message is a `Debug` dump.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::faults::{Fault, Match, Proxy, Rule};
use super::harness::{self, Moto, moto};
use super::{api_calls, codes, json_of, rt, seed};

const REGION: &str = "us-west-2";

/// What no message may contain: the SDK's `Debug` renderings.
const DEBUG_DUMPS: [&str; 4] = ["ServiceError(", "SdkBody", "ProviderError(", "Extensions {"];

fn assert_no_debug_dump(what: &str, text: &str) {
    for needle in DEBUG_DUMPS {
        assert!(!text.contains(needle), "{what} holds {needle:?}: {text}");
    }
}

/// Every message of a report: target errors, failed inputs, not-checked reasons.
fn messages(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for t in report["targets"].as_array().into_iter().flatten() {
        if let Some(m) = t["error"]["message"].as_str() {
            out.push(m.to_owned());
        }
        for i in t["inputs"].as_array().into_iter().flatten() {
            if let Some(m) = i["failure"]["message"].as_str() {
                out.push(m.to_owned());
            }
        }
        for n in t["coverage"]["not_checked"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push(n["reason"].as_str().unwrap_or("").to_owned());
        }
    }
    out
}

/// The slugs a target did not check, with the reasons.
fn not_checked(target: &Value) -> BTreeMap<String, String> {
    target["coverage"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["rule"].as_str().unwrap().to_owned(),
                n["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Three eksctl clusters, the second with the seed case (private subnets replaced, the old ones
/// deleted).
fn fleet(moto: &Moto) {
    rt().block_on(async {
        for name in ["alpha", "beta", "gamma"] {
            let c = seed::eksctl_cluster(moto, REGION, name).await;
            if name == "beta" {
                seed::replace_private_subnets(moto, &c).await;
            }
        }
    });
}

/// An IAM user holding `actions` (Resource `*`), and its access key.
async fn user_with(moto: &Moto, name: &str, actions: &[&str]) -> (String, String) {
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config("us-east-1").await);
    iam.create_user().user_name(name).send().await.unwrap();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    });
    iam.put_user_policy()
        .user_name(name)
        .policy_name("eksdrift")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

fn policy_actions() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/iam-policy.json"
    ))
    .unwrap();
    let policy: Value = serde_json::from_str(&text).unwrap();
    policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

/// The EKS clusters of `from` created again in `to`, as `DescribeCluster` shows them.
fn mirror_clusters(from: &Moto, to: &Moto) {
    let listed = from.eks_get(REGION, "/clusters");
    for name in listed["clusters"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        let c = &from.eks_get(REGION, &format!("/clusters/{name}"))["cluster"];
        to.eks(
            REGION,
            "/clusters",
            &serde_json::json!({"name": name, "version": c["version"], "roleArn": c["roleArn"],
                                "resourcesVpcConfig": c["resourcesVpcConfig"]}),
        );
    }
}

/// moto checks every request against the caller's IAM policies once `reset-auth` is set to 0
/// (moto's "IAM-like Access Control"). Measured on moto 5.2.5: it enforces CloudFormation, EC2,
/// Auto Scaling, IAM and STS correctly, but refuses every EKS request with
/// `SignatureDoesNotMatch` (its signature check of REST GETs is wrong; boto3's requests fail
/// the same way). So EKS is served here by a second moto without enforcement, holding the same
/// clusters: both users below hold every EKS action of the policy, so nothing there would be
/// denied; denied and unsupported EKS operations are covered through the test proxy
/// (`an_unsupported_operation_…`, `no_message_is_a_debug_dump`, fault_injection). The calls the
/// proxy answers in moto's place (`ListImports`, access entries, pod identity associations) are
/// denied through the proxy in `a_deletion_gate_never_passes_on_a_failed_read`.
#[test]
fn least_privilege_fleet_on_moto_with_iam_enforcement() {
    let (_lock, moto) = moto();
    fleet(moto);
    let eks = harness::private_moto();
    mirror_clusters(moto, &eks);
    let all = policy_actions();
    let without_list_roles: Vec<String> = all
        .iter()
        .filter(|a| *a != "iam:ListRoles")
        .cloned()
        .collect();
    let (full, narrow) = rt().block_on(async {
        let a: Vec<&str> = all.iter().map(String::as_str).collect();
        let n: Vec<&str> = without_list_roles.iter().map(String::as_str).collect();
        (
            user_with(moto, "auditor", &a).await,
            user_with(moto, "auditor-no-iam", &n).await,
        )
    });
    moto.post("/moto-api/reset-auth", &[], "0");
    let run = |keys: &(String, String), extra: &[&str]| {
        let out = moto
            .eksdrift()
            .env("AWS_ENDPOINT_URL_EKS", eks.front_endpoint())
            .env("AWS_ACCESS_KEY_ID", &keys.0)
            .env("AWS_SECRET_ACCESS_KEY", &keys.1)
            .args(["audit", "--all-clusters", "-r", REGION, "-o", "json"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), json_of(&out), stderr)
    };

    // 1. Exactly docs/iam-policy.json: nothing is left out for want of permission.
    let (code, report, stderr) = run(&full, &[]);
    assert_eq!(
        code,
        Some(1),
        "findings, nothing partial: {stderr}\n{report}"
    );
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3, "{report}");
    let mut baseline = BTreeMap::new();
    for t in targets {
        assert_eq!(t["status"], "audited", "{t}");
        let reasons = not_checked(t);
        assert!(
            reasons.values().all(|r| !r.contains("access_denied")),
            "{reasons:?}"
        );
        baseline.insert(
            t["cluster"].as_str().unwrap().to_owned(),
            (codes(t), reasons),
        );
    }

    // 2. The same user without iam:ListRoles: partial targets, only the IAM-role rules left
    // out, every other finding still reported.
    let (code, report, stderr) = run(&narrow, &[]);
    assert_eq!(code, Some(2), "partial wins over findings: {stderr}");
    assert!(stderr.contains("partial audit"), "{stderr}");
    let role_rules: BTreeSet<&str> = [
        "irsa-role-trusts-other-issuer",
        "irsa-role-missing",
        "access-entry-role-missing",
        "pod-identity-role-missing",
        "cluster-stack-role-missing",
        "addon-role-missing",
        "auto-mode-node-role-broken",
    ]
    .into();
    for t in report["targets"].as_array().unwrap() {
        assert_eq!(t["status"], "partial", "{t}");
        let name = t["cluster"].as_str().unwrap();
        let (codes_before, reasons_before) = &baseline[name];
        let reasons = not_checked(t);
        let new: BTreeSet<&str> = reasons
            .keys()
            .filter(|r| !reasons_before.contains_key(*r))
            .map(String::as_str)
            .collect();
        assert_eq!(new, role_rules, "{t}");
        for rule in &role_rules {
            assert!(
                reasons[*rule].starts_with("iam:ListRoles failed (access_denied)"),
                "{}",
                reasons[*rule]
            );
        }
        assert_eq!(&codes(t), codes_before, "every other finding stays: {t}");
        let failed: Vec<&Value> = t["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "{t}");
        assert_eq!(failed[0]["input"], "list-roles");
    }
    let beta = &report["targets"][1];
    assert!(codes(beta).iter().any(|(c, _)| c == "EKD202"), "{beta}");
    // --allow-partial takes the exit code from the findings.
    let (code, _, _) = run(&narrow, &["--allow-partial"]);
    assert_eq!(code, Some(1));

    // 3. With a selection that leaves those rules out, the audit is complete and exits from
    // its findings; no IAM call is made.
    let (code, report, stderr) = run(&narrow, &["--select", "EKD2,EKD3"]);
    assert_eq!(code, Some(1), "{stderr}\n{report}");
    for t in report["targets"].as_array().unwrap() {
        assert_eq!(t["status"], "audited", "{t}");
        // Only EKD211, whose Fargate profiles a default audit reads only when the cluster
        // stack names a Fargate role (no stack here does), and it says which flag reads them.
        let left: Vec<(String, String)> = not_checked(t).into_iter().collect();
        assert_eq!(left.len(), 1, "{t}");
        assert_eq!(left[0].0, "fargate-profile-subnet-deleted");
        assert!(left[0].1.contains("--for create-fargateprofile"), "{t}");
        assert!(
            codes(t)
                .iter()
                .all(|(c, _)| c.starts_with("EKD2") || c.starts_with("EKD3"))
        );
    }
    let calls = api_calls(&report);
    assert!(calls.keys().all(|k| !k.starts_with("iam:")), "{calls:?}");
    assert_eq!(report["tool"]["selection"], "select=EKD2,EKD3");
    moto.post("/moto-api/reset-auth", &[], "inf");
}

/// `--select EKD2` reads no IAM, no Auto Scaling, no nodegroups, no identity (counted).
#[test]
fn a_subnet_selection_reads_only_what_subnet_rules_need() {
    let (_lock, moto) = moto();
    fleet(moto);
    let out = moto
        .eksdrift()
        .args([
            "audit",
            "--all-clusters",
            "-r",
            REGION,
            "-o",
            "json",
            "--select",
            "EKD2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let calls = api_calls(&report);
    for k in calls.keys() {
        assert!(
            !(k.starts_with("iam:")
                || k.starts_with("autoscaling:")
                || k.contains("Nodegroup")
                || k.contains("AccessEntr")
                || k.contains("PodIdentity")
                || k.contains("LaunchTemplate")
                || k == "ec2:DescribeSecurityGroups"),
            "{k} read for --select EKD2: {calls:?}"
        );
    }
    for t in report["targets"].as_array().unwrap() {
        assert_eq!(t["status"], "audited");
        let statuses: BTreeMap<&str, &str> = t["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["input"].as_str().unwrap(), i["status"].as_str().unwrap()))
            .collect();
        assert_eq!(statuses["list-roles"], "absent");
        assert_eq!(statuses["describe-auto-scaling-groups"], "absent");
        assert_eq!(statuses["describe-subnets"], "read");
        let ran: Vec<&str> = t["coverage"]["checked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(ran.contains(&"output-subnet-deleted") && ran.contains(&"vpc-mismatch"));
        assert!(
            ran.iter()
                .all(|r| drift_core::rules::find(r).unwrap().code.starts_with("EKD2")),
            "{ran:?}"
        );
    }
    // An unknown selector is a usage error.
    let out = moto
        .eksdrift()
        .args(["audit", "-c", "alpha", "-r", REGION, "--select", "EKD99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("names no rule"));
}

/// An endpoint that does not offer an optional operation (a bare 404) and a `ListImports` that
/// answers 500 leave every other rule's findings intact, with one-line messages of the right
/// kind; the 500 case stays within twice the healthy run's time (the figures are printed).
#[test]
fn an_unsupported_operation_and_a_failing_wording_read_leave_the_rest_intact() {
    let (_lock, moto) = moto();
    fleet(moto);
    let run = |rules: Vec<Rule>| {
        let proxy = Proxy::start(moto.port, 7, rules);
        let started = Instant::now();
        let out = moto
            .eksdrift()
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args(["audit", "--all-clusters", "-r", REGION, "-o", "json"])
            .output()
            .unwrap();
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), json_of(&out), stderr, took)
    };
    let (code, healthy, _, healthy_took) = run(Vec::new());
    assert_eq!(code, Some(1));

    // A bare 404 for ListPodIdentityAssociations: `unsupported`, only EKD607 left out.
    let (code, report, stderr, _) = run(vec![Rule::always(
        "eks",
        "ListPodIdentityAssociations",
        None,
        Fault::BareNotFound,
    )]);
    assert_eq!(code, Some(2), "{stderr}");
    for (t, before) in report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .zip(healthy["targets"].as_array().unwrap())
    {
        assert_eq!(t["status"], "partial");
        assert_eq!(codes(t), codes(before), "{t}");
        let reasons = not_checked(t);
        let reason = &reasons["pod-identity-role-missing"];
        assert!(
            reason.starts_with("eks:ListPodIdentityAssociations failed (unsupported): the endpoint does not offer eks:ListPodIdentityAssociations (HTTP 404 with no AWS error)"),
            "{reason}"
        );
        assert_eq!(reasons.len(), not_checked(before).len() + 1, "{reasons:?}");
    }
    for m in messages(&report) {
        assert_no_debug_dump("report", &m);
        assert_eq!(m.lines().count(), 1, "{m}");
    }
    assert_no_debug_dump("stderr", &stderr);

    // ListImports (it only words the seed case's remediation) answers 500 every time: the
    // target stays complete, the fix says how to check, and the run stays quick.
    let (code, report, stderr, took) = run(vec![Rule::always(
        "cloudformation",
        "ListImports",
        None,
        Fault::Internal,
    )]);
    assert_eq!(
        code,
        Some(1),
        "wording only: the exit code is the findings'. {stderr}"
    );
    for (t, before) in report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .zip(healthy["targets"].as_array().unwrap())
    {
        assert_eq!(t["status"], "audited", "{t}");
        assert_eq!(codes(t), codes(before));
    }
    let beta = &report["targets"][1];
    let imports = beta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["input"] == "list-imports")
        .unwrap();
    assert_eq!(imports["status"], "failed", "{beta}");
    assert_eq!(imports["failure"]["wording_only"], true);
    // 500 after the standard retries, or the 2-second deadline of wording reads first.
    let kind = imports["failure"]["kind"].as_str().unwrap();
    assert!(kind == "network" || kind == "timeout", "{imports}");
    let calls = api_calls(&report)["cloudformation:ListImports"];
    println!(
        "wall time: healthy {healthy_took:?}, ListImports 500 {took:?} ({:.2}x); ListImports calls {calls}",
        took.as_secs_f64() / healthy_took.as_secs_f64()
    );
    assert!(
        calls <= 3,
        "{calls} ListImports calls after the first failure"
    );
    for m in messages(&report) {
        assert_no_debug_dump("report", &m);
    }
}

/// `--for delete-cluster` with ListImports denied, throttled or paging forever exits 2 and
/// names the read; `capture` exits 2 with the export missing, and auditing that capture gives
/// the same verdict.
#[test]
fn a_deletion_gate_never_passes_on_a_failed_read() {
    let (_lock, moto) = moto();
    rt().block_on(seed::eksctl_cluster(moto, REGION, "prod"));
    for fault in [Fault::AccessDenied, Fault::Throttle, Fault::SameToken] {
        let proxy = Proxy::start(
            moto.port,
            3,
            vec![Rule::always("cloudformation", "ListImports", None, fault)],
        );
        let out = moto
            .eksdrift()
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args([
                "audit",
                "-c",
                "prod",
                "-r",
                REGION,
                "-o",
                "json",
                "--for",
                "delete-cluster",
                "--max-attempts",
                "2",
                "--allow-partial",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{fault:?}: {stderr}");
        assert!(
            stderr.contains("--for delete-cluster cannot pass")
                && stderr.contains("EKD702")
                && stderr.contains("cloudformation:ListImports failed"),
            "{fault:?}: {stderr}"
        );
        let report = json_of(&out);
        let t = &report["targets"][0];
        assert_eq!(t["status"], "partial");
        assert!(
            not_checked(t)["export-imported-elsewhere"]
                .starts_with("cloudformation:ListImports failed ("),
            "{t}"
        );
        assert_no_debug_dump("stderr", &stderr);
    }
    // capture: exit 2, and the bundle says what it lacks.
    let proxy = Proxy::start(
        moto.port,
        3,
        vec![Rule::always(
            "cloudformation",
            "ListImports",
            None,
            Fault::AccessDenied,
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = moto
        .eksdrift()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .args(["capture", "-c", "prod", "-r", REGION, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("list-imports not captured"), "{stderr}");
    let out = moto
        .eksdrift()
        .args(["audit", "--for", "delete-cluster", "-o", "json", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json_of(&out)["targets"][0]["status"], "partial");
}

/// A denied `DescribeStacks` under `--all-clusters` in a region whose `ListClusters` is empty
/// but where an old cluster's stacks remain: a failed target for the region, exit 2 — never
/// zero targets.
#[test]
fn a_region_whose_listing_failed_is_a_failed_target() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, REGION, "old").await;
        moto.eks_delete(REGION, &format!("/clusters/{}", c.name));
    });
    // Readable: the leftover stacks are reported.
    let out = moto
        .eksdrift()
        .args(["audit", "--all-clusters", "-r", REGION, "-o", "json"])
        .output()
        .unwrap();
    let report = json_of(&out);
    assert!(
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "EKD703"),
        "{report}"
    );
    let proxy = Proxy::start(
        moto.port,
        3,
        vec![Rule::always(
            "cloudformation",
            "DescribeStacks",
            None,
            Fault::AccessDenied,
        )],
    );
    let out = moto
        .eksdrift()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .args(["audit", "--all-clusters", "-r", REGION, "-o", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let report = json_of(&out);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{report}");
    assert_eq!(targets[0]["cluster"], "*");
    assert_eq!(targets[0]["status"], "failed");
    assert_eq!(targets[0]["error"]["kind"], "access_denied");
    assert!(
        targets[0]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cloudformation:DescribeStacks: access denied"),
        "{report}"
    );
    assert!(stderr.contains("error:"), "{stderr}");
}

/// Every error path the proxy can produce, on every service eksdrift reads, and the credentials
/// path with an instance metadata service that refuses: one line, never a `Debug` dump.
#[test]
fn no_message_is_a_debug_dump() {
    let (_lock, moto) = moto();
    rt().block_on(seed::eksctl_cluster(moto, REGION, "prod"));
    let faults = [
        Fault::Throttle,
        Fault::Internal,
        Fault::Unavailable,
        Fault::AccessDenied,
        Fault::Reset,
        Fault::Truncate,
        Fault::SameToken,
        Fault::HugeGarbage,
        Fault::BareNotFound,
    ];
    let ops = [
        ("cloudformation", "DescribeStacks"),
        ("eks", "DescribeCluster"),
        ("eks", "ListNodegroups"),
        ("ec2", "DescribeSubnets"),
        ("autoscaling", "DescribeAutoScalingGroups"),
        ("iam", "ListRoles"),
        ("sts", "GetCallerIdentity"),
    ];
    for (service, op) in ops {
        for fault in faults {
            if fault == Fault::SameToken && service != "cloudformation" {
                continue;
            }
            let proxy = Proxy::start(
                moto.port,
                5,
                vec![Rule {
                    on: Match {
                        service: Some(service),
                        operation: Some(op),
                        path_contains: None,
                    },
                    rate: 1.0,
                    faults: vec![fault],
                    limit: None,
                }],
            );
            let out = moto
                .eksdrift()
                .env("AWS_ENDPOINT_URL", proxy.endpoint())
                .args([
                    "audit",
                    "-c",
                    "prod",
                    "-r",
                    REGION,
                    "-o",
                    "json",
                    "--max-attempts",
                    "1",
                ])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("{service}:{op} {fault:?}");
            assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
            assert_no_debug_dump(&what, &stderr);
            assert!(stderr.len() < 10_000, "{what}: {} bytes", stderr.len());
            if !out.stdout.is_empty() {
                let report = json_of(&out);
                for m in messages(&report) {
                    assert_no_debug_dump(&what, &m);
                    assert_eq!(m.lines().count(), 1, "{what}: {m}");
                }
            }
        }
    }
    // Instance metadata that answers but refuses every request.
    let imds = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = imds.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        imds.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok((mut c, _)) = imds.accept() {
                use std::io::{Read as _, Write as _};
                c.set_nonblocking(false).unwrap();
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = c.write_all(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nForbidden",
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let out = moto
        .eksdrift()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            format!("http://127.0.0.1:{port}"),
        )
        .args(["audit", "-c", "prod", "-r", REGION])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no usable AWS credentials"), "{stderr}");
    assert_no_debug_dump("credentials", &stderr);
    drop(server);
}

/// One read failing: (service, operation, fault, gate, rule, code that closes the gate, the
/// flags that make the read happen).
type Case = (
    &'static str,
    &'static str,
    Fault,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// Each read the delete and upgrade gates added, failing on its own: its rules are not checked
/// with the operation and the kind, the target is partial (exit 2), and the gate that depends
/// on them refuses to pass even with --allow-partial.
#[test]
fn each_new_read_that_fails_closes_its_gate() {
    let (_lock, moto) = moto();
    rt().block_on(seed::eksctl_cluster(moto, REGION, "prod"));
    // (service, operation, fault, gate, rule, code that closes the gate, the flags that make
    // the read happen: a gate's own reads are made only under it).
    let cases: [Case; 8] = [
        (
            "elasticloadbalancing",
            "DescribeLoadBalancers",
            Fault::AccessDenied,
            "delete-cluster",
            "load-balancer-left-in-vpc",
            "EKD705",
            &[],
        ),
        (
            "ec2",
            "DescribeNetworkInterfaces",
            Fault::Throttle,
            "delete-cluster",
            "network-interface-blocks-delete",
            "EKD706",
            &[],
        ),
        (
            "ec2",
            "DescribeInstances",
            Fault::AccessDenied,
            "delete-cluster",
            "karpenter-leftovers",
            "EKD708",
            &[],
        ),
        (
            "ec2",
            "DescribeLaunchTemplates",
            Fault::Internal,
            "delete-cluster",
            "karpenter-leftovers",
            "EKD708",
            &[],
        ),
        (
            "eks",
            "ListAddons",
            Fault::BareNotFound,
            "create-addon",
            "addon-unhealthy",
            "EKD802",
            &[],
        ),
        (
            "eks",
            "ListFargateProfiles",
            Fault::Throttle,
            "create-fargateprofile",
            "fargate-profile-role-missing",
            "",
            &["--for", "create-fargateprofile"],
        ),
        (
            "eks",
            "ListInsights",
            Fault::AccessDenied,
            "upgrade-cluster",
            "insight-not-passing",
            "EKD804",
            &["--for", "upgrade-cluster"],
        ),
        (
            "eks",
            "DescribeClusterVersions",
            Fault::BareNotFound,
            "upgrade-cluster",
            "upgrade-target-not-offered",
            "EKD806",
            &[],
        ),
    ];
    for (service, operation, fault, gate, rule, code, reads) in cases {
        let proxy = Proxy::start(
            moto.port,
            3,
            vec![Rule::always(service, operation, None, fault)],
        );
        let run = |extra: &[&str]| {
            moto.eksdrift()
                .env("AWS_ENDPOINT_URL", proxy.endpoint())
                .args([
                    "audit",
                    "-c",
                    "prod",
                    "-r",
                    REGION,
                    "-o",
                    "json",
                    "--max-attempts",
                    "2",
                ])
                .args(extra)
                .output()
                .unwrap()
        };
        let out = run(reads);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{operation}: {stderr}");
        let report = json_of(&out);
        let t = &report["targets"][0];
        assert_eq!(t["status"], "partial", "{operation}: {t}");
        let prefix = format!("{service}:{operation} failed (");
        assert!(
            not_checked(t)
                .get(rule)
                .is_some_and(|r| r.starts_with(&prefix)),
            "{operation}: {t}"
        );
        assert_no_debug_dump("stderr", &stderr);
        // The gate that depends on the rule cannot pass, --allow-partial or not; a gate that
        // does not depends only on its findings.
        let gated = run(&["--for", gate, "--allow-partial"]);
        let stderr = String::from_utf8_lossy(&gated.stderr);
        if code.is_empty() {
            assert_eq!(gated.status.code(), Some(0), "{operation}: {stderr}");
        } else {
            assert_eq!(gated.status.code(), Some(2), "{operation}: {stderr}");
            assert!(
                stderr.contains(&format!("--for {gate} cannot pass")) && stderr.contains(code),
                "{operation}: {stderr}"
            );
        }
    }
}
