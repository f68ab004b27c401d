//! ClusterConfig plans live against moto: `audit -f cluster.yaml --for create-nodegroup`
//! answers whether eksctl will create the file's nodegroups, before eksctl runs.

use super::harness::moto;
use super::{json_of, rt, seed};

/// The seed case planned from the user's ClusterConfig, live: the private subnets the stack
/// names were replaced and deleted.
#[test]
fn a_clusterconfig_plan_catches_the_seed_case_before_eksctl_does() {
    let (_lock, moto) = moto();
    let (c, new) = rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let new = seed::replace_private_subnets(moto, &c).await;
        (c, new)
    });
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, nodegroup: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nmanagedNodeGroups:\n  - name: ng-2\n    instanceType: m5.large\n    privateNetworking: true\n{nodegroup}"
            ),
        )
        .unwrap();
        p
    };
    let az = &c.private[0].1;
    let in_az = file("az.yaml", &format!("    availabilityZones: [{az}]\n"));
    let explicit = file(
        "explicit.yaml",
        &format!("    subnets: [{}]\n", new.join(", ")),
    );
    let nowhere = file("none.yaml", "");
    let plan = |f: &std::path::Path, extra: &[&str]| {
        moto.eksdrift()
            .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
            .arg(f)
            .args(extra)
            .output()
            .unwrap()
    };
    let ekd901 = |out: &std::process::Output| -> Vec<String> {
        json_of(out)["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "EKD901")
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect()
    };
    // Asking for the AZ whose private output subnets are all gone: exit 1, before eksctl.
    let out = plan(&in_az, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found = ekd901(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(az.as_str()), "{found:?}");
    // The same nodegroup on the live replacement subnets: exit 0, and they were looked up.
    let out = plan(&explicit, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ekd901(&out).is_empty());
    // No placement: current eksctl has no private subnet left at all; 0.176.0 fails earlier,
    // loading the VPC.
    let out = plan(&nowhere, &[]);
    assert_eq!(out.status.code(), Some(1));
    let out = plan(&nowhere, &["--eksctl-version", "0.176.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(ekd901(&out)[0].contains("eksctl 0.176.0 loads the cluster stack's subnets by ID"));
}
