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
