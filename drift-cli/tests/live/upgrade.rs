//! The upgrade gate's first rule, live against moto: a managed nodegroup left one minor behind
//! the control plane stops `--for upgrade-cluster`, and only it.

use serde_json::{Value, json};

use super::harness::{ACCOUNT, moto};
use super::{json_of, rt, seed};

#[test]
fn a_nodegroup_one_minor_behind_closes_the_upgrade_gate() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::nodegroup_stack(moto, &c, "ng-current").await;
        seed::nodegroup_stack_only(moto, "us-west-2", "prod", "ng-old", "managed").await;
        let subnets: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
        moto.eks(
            "us-west-2",
            "/clusters/prod/node-groups",
            &json!({"nodegroupName": "ng-old", "version": "1.29", "subnets": subnets,
                    "nodeRole": format!("arn:aws:iam::{ACCOUNT}:role/eksctl-prod-nodegroup-ng-old-NodeInstanceRole"),
                    "tags": {"alpha.eksctl.io/cluster-name": "prod", "alpha.eksctl.io/nodegroup-name": "ng-old"}}),
        );
    });
    let gate = |op: &str| {
        moto.eksdrift()
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
            .unwrap()
    };
    let out = gate("upgrade-cluster");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let skew: Vec<&Value> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD801")
        .collect();
    assert_eq!(skew.len(), 1, "{report:#}");
    assert_eq!(skew[0]["resource"]["id"], "ng-old");
    assert_eq!(skew[0]["breaks"], json!(["upgrade-cluster"]));
    assert!(
        skew[0]["remediation"]["commands"][0]
            .as_str()
            .unwrap()
            .contains("--kubernetes-version 1.30")
    );
    // It breaks nothing else: creating a nodegroup is still fine.
    assert_eq!(gate("create-nodegroup").status.code(), Some(0));
}

#[test]
fn failed_degraded_and_roleless_addons_are_found_and_capture_keeps_them() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
    });
    let addon = |name: &str, status: &str, role: Option<&str>| {
        let mut a = json!({"addonName": name, "clusterName": "prod", "status": status,
                           "addonVersion": "v1.0.0-eksbuild.1", "health": {"issues": []}});
        if let Some(r) = role {
            a["serviceAccountRoleArn"] = json!(r);
        }
        a
    };
    super::faults::ACCESS.lock().unwrap().insert(
        "prod".to_owned(),
        super::faults::ClusterAccess {
            addons: vec![
                addon("kube-proxy", "ACTIVE", None),
                addon("coredns", "DEGRADED", None),
                addon("aws-ebs-csi-driver", "CREATE_FAILED", None),
                addon(
                    "vpc-cni",
                    "ACTIVE",
                    Some(&format!("arn:aws:iam::{ACCOUNT}:role/deleted-cni-role")),
                ),
            ],
            authentication_mode: "CONFIG_MAP".to_owned(),
            ..Default::default()
        },
    );
    let audit = |extra: &[&str]| {
        moto.eksdrift()
            .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = audit(&["--for", "create-addon"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let findings = report["targets"][0]["findings"].as_array().unwrap().clone();
    let of = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["resource"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut unhealthy = of("EKD802");
    unhealthy.sort();
    assert_eq!(unhealthy, ["aws-ebs-csi-driver", "coredns"], "{report:#}");
    assert_eq!(
        of("EKD803"),
        [format!("arn:aws:iam::{ACCOUNT}:role/deleted-cni-role")]
    );
    assert_eq!(super::api_calls(&report)["eks:DescribeAddon"], 4);
    // Only the CREATE_FAILED addon breaks create-addon; nothing here breaks update-addon.
    assert_eq!(audit(&["--for", "update-addon"]).status.code(), Some(0));

    let dir = tempfile::tempdir().unwrap();
    let captured = moto
        .eksdrift()
        .args(["capture", "-c", "prod", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(captured.status.code(), Some(0));
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--for", "create-addon", "--from"])
        .arg(dir.path().join("us-west-2/prod"))
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    assert_eq!(json_of(&offline)["targets"][0]["findings"], json!(findings));
}

#[test]
fn a_fargate_profile_whose_role_was_deleted_is_found() {
    let (_lock, moto) = moto();
    let c = rt().block_on(async { seed::eksctl_cluster(moto, "us-west-2", "prod").await });
    let subnets: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
    moto.eks(
        "us-west-2",
        "/clusters/prod/fargate-profiles",
        &json!({"fargateProfileName": "fp-batch", "subnets": subnets,
                "podExecutionRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/batch-fargate-pods"),
                "selectors": [{"namespace": "batch"}]}),
    );
    let audit = |extra: &[&str]| {
        moto.eksdrift()
            .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    // The cluster stack names no Fargate role, so a default audit does not list the profiles,
    // and says so.
    let report = json_of(&audit(&[]));
    assert_eq!(
        super::api_calls(&report).get("eks:ListFargateProfiles"),
        None
    );
    let skipped = report["targets"][0]["coverage"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["rule"] == "fargate-profile-role-missing")
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("--for create-fargateprofile"),
        "{skipped}"
    );
    // The Fargate gate lists them.
    let out = audit(&["--for", "create-fargateprofile", "--fail-on", "error"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let found: Vec<&Value> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD609")
        .collect();
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["resource"]["id"], "fp-batch");
    assert_eq!(super::api_calls(&report)["eks:DescribeFargateProfile"], 1);
}

/// An insight as EKS's `DescribeInsight` answers it, refreshed `hours_ago`.
fn insight(id: &str, name: &str, status: &str, version: &str, hours_ago: f64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    json!({
        "id": id, "name": name, "category": "UPGRADE_READINESS", "kubernetesVersion": version,
        "lastRefreshTime": now - hours_ago * 3600.0, "lastTransitionTime": now - 240.0 * 3600.0,
        "description": format!("Checks {name} before upgrading to {version}."),
        "insightStatus": {"status": status, "reason": format!("{status}: {name}")},
        "recommendation": format!("Fix {name}."),
        "additionalInfo": {"Docs": "https://docs.aws.amazon.com/eks/latest/userguide/cluster-insights.html"},
        "resources": [{"insightStatus": {"status": status}, "kubernetesResourceUri": "/apis/batch/v1beta1/namespaces/ops/cronjobs/backup"}],
        "categorySpecificSummary": {
            "deprecationDetails": [{"usage": "/apis/batch/v1beta1/cronjobs", "replacedWith": "/apis/batch/v1/cronjobs",
                                    "stopServingVersion": version, "startServingReplacementVersion": "1.21",
                                    "clientStats": []}],
            "addonCompatibilityDetails": []
        }
    })
}

#[test]
fn insights_targets_and_addon_versions_decide_the_upgrade_gate() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::nodegroup_stack(moto, &c, "ng-1").await;
    });
    let error = insight(
        "i-error",
        "Deprecated APIs removed in Kubernetes v1.31",
        "ERROR",
        "1.31",
        2.0,
    );
    let access = |insights: Vec<Value>| super::faults::ClusterAccess {
        authentication_mode: "CONFIG_MAP".to_owned(),
        addons: vec![
            json!({"addonName": "kube-proxy", "clusterName": "prod", "status": "ACTIVE",
                            "addonVersion": "v1.30.0-eksbuild.3", "health": {"issues": []}}),
        ],
        insights,
        ..Default::default()
    };
    super::faults::ACCESS.lock().unwrap().insert(
        "prod".to_owned(),
        access(vec![
            error.clone(),
            insight("i-warning", "Kubelet version skew", "WARNING", "1.31", 76.0),
            insight("i-passing", "Cluster health issues", "PASSING", "1.31", 1.0),
        ]),
    );
    super::faults::ADDON_VERSIONS.lock().unwrap().insert(
        ("kube-proxy".to_owned(), "1.31".to_owned()),
        vec!["v1.31.2-eksbuild.3".to_owned()],
    );
    let audit = |extra: &[&str]| {
        moto.eksdrift()
            .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let of = |report: &Value, code: &str| -> Vec<Value> {
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .cloned()
            .collect()
    };

    // Without the gate: no insight or addon-version call, and the report says why.
    let plain = json_of(&audit(&[]));
    let calls = super::api_calls(&plain);
    assert_eq!(calls.get("eks:ListInsights"), None, "{calls:?}");
    assert_eq!(calls.get("eks:DescribeAddonVersions"), None, "{calls:?}");
    assert_eq!(calls["eks:DescribeClusterVersions"], 1);
    assert!(
        plain["targets"][0]["coverage"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["rule"] == "insight-not-passing"
                && n["reason"]
                    .as_str()
                    .unwrap()
                    .contains("--for upgrade-cluster"))
    );

    // The gate: the ERROR insight about the target (1.31, the next minor) closes it.
    let out = audit(&["--for", "upgrade-cluster"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let insights = of(&report, "EKD804");
    let by_id = |id: &str| insights.iter().find(|f| f["resource"]["id"] == id).cloned();
    let err = by_id("i-error").unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(err["severity"], "error");
    assert_eq!(err["breaks"], json!(["upgrade-cluster"]));
    assert_eq!(
        err["actual"]["value"]["deprecationDetails"][0]["replacedWith"],
        "/apis/batch/v1/cronjobs"
    );
    assert!(
        err["remediation"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Fix Deprecated APIs")
    );
    assert!(
        !err["message"]
            .as_str()
            .unwrap()
            .contains("older than a day")
    );
    let warn = by_id("i-warning").unwrap();
    assert_eq!(warn["severity"], "warning");
    assert_eq!(warn["breaks"], json!([]));
    assert!(
        warn["message"]
            .as_str()
            .unwrap()
            .contains("last refreshed 3 days ago"),
        "{warn}"
    );
    assert!(
        warn["remediation"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c
                .as_str()
                .unwrap()
                .starts_with("aws eks start-insights-refresh --cluster-name prod"))
    );
    assert_eq!(by_id("i-passing"), None);
    let calls = super::api_calls(&report);
    assert_eq!(calls["eks:ListInsights"], 1);
    assert_eq!(
        calls["eks:DescribeInsight"], 2,
        "only the insights that are not PASSING"
    );
    assert_eq!(calls["eks:DescribeAddonVersions"], 1);
    let addon = of(&report, "EKD807");
    assert_eq!(addon.len(), 1, "{report:#}");
    assert_eq!(addon[0]["severity"], "info");
    assert!(
        addon[0]["message"]
            .as_str()
            .unwrap()
            .contains("update it to v1.31.2-eksbuild.3")
    );

    // capture → audit --from: the same findings.
    let dir = tempfile::tempdir().unwrap();
    let captured = moto
        .eksdrift()
        .args(["capture", "-c", "prod", "-r", "us-west-2", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        captured.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&captured.stderr)
    );
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--for", "upgrade-cluster", "--from"])
        .arg(dir.path().join("us-west-2/prod"))
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    assert_eq!(
        json_of(&offline)["targets"][0]["findings"],
        report["targets"][0]["findings"]
    );

    // A target that skips a minor is refused, naming the next one.
    let skip = audit(&["--for", "upgrade-cluster", "--to-version", "1.32"]);
    assert_eq!(skip.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&skip.stderr);
    assert!(
        stderr.contains("skips a minor") && stderr.contains("the next is 1.31"),
        "{stderr}"
    );
    assert_eq!(
        json_of(&skip)["targets"][0]["error"]["kind"],
        "invalid_input"
    );

    // An ERROR insight about another version does not gate; with no ERROR the gate opens.
    super::faults::ACCESS.lock().unwrap().insert(
        "prod".to_owned(),
        access(vec![insight(
            "i-old",
            "Kubelet version skew",
            "ERROR",
            "1.30",
            2.0,
        )]),
    );
    let out = audit(&["--for", "upgrade-cluster"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(of(&json_of(&out), "EKD804")[0]["severity"], "warning");

    // On the newest version EKS offers: no target, nothing version-specific gates, and the
    // report says so.
    *super::faults::CLUSTER_VERSIONS.lock().unwrap() = Some(vec![
        json!({"clusterVersion": "1.29", "versionStatus": "EXTENDED_SUPPORT"}),
        json!({"clusterVersion": "1.30", "versionStatus": "STANDARD_SUPPORT"}),
    ]);
    super::faults::ACCESS
        .lock()
        .unwrap()
        .insert("prod".to_owned(), access(vec![error]));
    let out = audit(&["--for", "upgrade-cluster"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(
        super::api_calls(&report).get("eks:DescribeAddonVersions"),
        None
    );
    assert!(
        report["targets"][0]["coverage"]["not_checked"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["rule"] == "addon-version-not-for-target"
                && n["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("no upgrade target"))
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("newest version EKS offers"));
    // A version EKS does not offer is EKD806.
    let out = audit(&["--for", "upgrade-cluster", "--to-version", "1.31"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(of(&json_of(&out), "EKD806").len(), 1);
}

#[test]
fn a_cluster_stack_naming_a_fargate_role_has_its_profiles_read_by_default() {
    let (_lock, moto) = moto();
    let role =
        format!("arn:aws:iam::{ACCOUNT}:role/eksctl-prod-cluster-FargatePodExecutionRole-1A2B");
    let c = rt().block_on(async {
        seed::eksctl_cluster_with_fargate(moto, "us-west-2", "prod", &role).await
    });
    // A profile on a subnet that was deleted since (the default profile keeps the live ones).
    let subnets: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
    let gone = rt().block_on(async {
        let config = moto.sdk_config("us-west-2").await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        let vpc = c.vpc.clone();
        let id = ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block("192.168.250.0/24")
            .availability_zone("us-west-2a")
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_owned();
        (ec2, id)
    });
    for (name, subnets) in [
        ("fp-default", subnets.clone()),
        ("fp-batch", vec![gone.1.as_str()]),
    ] {
        moto.eks(
            "us-west-2",
            "/clusters/prod/fargate-profiles",
            &json!({"fargateProfileName": name, "subnets": subnets, "podExecutionRoleArn": role,
                    "selectors": [{"namespace": name}]}),
        );
    }
    rt().block_on(async {
        gone.0
            .delete_subnet()
            .subnet_id(&gone.1)
            .send()
            .await
            .unwrap();
    });
    let out = moto
        .eksdrift()
        .args(["audit", "-c", "prod", "-r", "us-west-2", "-o", "json"])
        .output()
        .unwrap();
    let report = json_of(&out);
    let calls = super::api_calls(&report);
    assert_eq!(calls["eks:ListFargateProfiles"], 1, "{calls:?}");
    assert_eq!(calls["eks:DescribeFargateProfile"], 2);
    let subnet_findings: Vec<&Value> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD211")
        .collect();
    assert_eq!(subnet_findings.len(), 1, "{report:#}");
    assert_eq!(subnet_findings[0]["resource"]["id"], gone.1.as_str());
    assert_eq!(subnet_findings[0]["severity"], "error");
    assert!(
        subnet_findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("fp-batch")
    );
}
