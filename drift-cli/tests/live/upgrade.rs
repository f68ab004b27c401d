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
