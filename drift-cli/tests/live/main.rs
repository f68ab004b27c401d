//! Live audit and capture against a real moto server, through the real `eksdrift` binary and
//! the real AWS SDK over HTTP. No mocks of our own code; no internet.

mod harness;
mod seed;

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
    assert!(
        t["coverage"]["not_checked"].as_array().unwrap().is_empty(),
        "{t}"
    );
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
        assert!(
            t["coverage"]["not_checked"].as_array().unwrap().is_empty(),
            "{t}"
        );
    }
    let calls = api_calls(&report);
    let total: u64 = calls.values().sum();
    assert!(total <= n + 20, "{total} calls: {calls:?}");
    assert_eq!(calls["eks:DescribeCluster"], n);
    assert_eq!(calls["ec2:DescribeSubnets"], 1);
    assert_eq!(calls["ec2:DescribeSecurityGroups"], 1);
    assert!(
        !calls.contains_key("cloudformation:GetTemplate"),
        "{calls:?}"
    );
}

#[test]
fn a_nodegroup_named_like_a_cluster_stack_is_not_taken_for_it() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::nodegroup_stack(moto, "us-west-2", "prod", "spot-cluster").await;
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
        seed::nodegroup_stack(moto, "us-west-2", "prod", "ng-1").await;
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
    moto.eksdrift()
        .args(["audit", "-c", "prod"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no AWS region"));
    moto.eksdrift()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .args(["audit", "-c", "prod", "-r", "us-west-2"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no usable AWS credentials"));
    let sent: Vec<String> = moto
        .recorded_actions()
        .into_iter()
        .filter(|a| !a.starts_with("moto:"))
        .collect();
    assert!(sent.is_empty(), "{sent:?}");
}
