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

/// What the nodegroups refer to, live: one key pair exists and one does not; one instance type
/// is offered in the AZ the file asks for and one is not. One call each, by filter.
#[test]
fn a_clusterconfig_plan_checks_key_pairs_and_instance_type_offerings() {
    let (_lock, moto) = moto();
    let c = rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let config = moto.sdk_config("us-west-2").await;
        aws_sdk_ec2::Client::new(&config)
            .create_key_pair()
            .key_name("ops-key")
            .send()
            .await
            .unwrap();
        c
    });
    let az = &c.private[0].1;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        format!(
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nmanagedNodeGroups:\n  - name: ng-a\n    instanceType: m5.large\n    privateNetworking: true\n    availabilityZones: [{az}]\n    ssh: {{ allow: false, publicKeyName: ops-key }}\n  - name: ng-b\n    instanceType: x9.imaginary\n    privateNetworking: true\n    availabilityZones: [{az}]\n    ssh: {{ publicKeyName: gone-key }}\n"
        ),
    )
    .unwrap();
    let out = moto
        .eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let of = |code: &str| -> Vec<String> {
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let refs = of("EKD905");
    assert_eq!(refs.len(), 1, "{report:#}");
    assert!(refs[0].contains("gone-key"), "{refs:?}");
    let types = of("EKD906");
    assert_eq!(types.len(), 1, "{report:#}");
    assert!(types[0].contains("x9.imaginary"), "{types:?}");
    let calls = super::api_calls(&report);
    assert_eq!(calls["ec2:DescribeKeyPairs"], 1, "{calls:?}");
    assert_eq!(calls["ec2:DescribeInstanceTypeOfferings"], 1);
    assert_eq!(
        calls.get("ec2:DescribeImages"),
        None,
        "no AMI named, no call"
    );

    // capture -f FILE keeps what the plan reads: the plan offline finds the same.
    let bundles = tempfile::tempdir().unwrap();
    let captured = moto
        .eksdrift()
        .args(["capture", "--out"])
        .arg(bundles.path())
        .arg("-f")
        .arg(&file)
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
        .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
        .arg(&file)
        .arg("--from")
        .arg(bundles.path().join("us-west-2/prod"))
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    let plan_findings = |r: &serde_json::Value| -> Vec<serde_json::Value> {
        r["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"].as_str().unwrap().starts_with("EKD9"))
            .cloned()
            .collect()
    };
    assert_eq!(plan_findings(&json_of(&offline)), plan_findings(&report));
}

/// An iamserviceaccount planned on a cluster without its IAM OIDC provider: eksctl would refuse
/// it; with the provider, the plan passes.
#[test]
fn a_clusterconfig_plan_needs_the_oidc_provider_for_iamserviceaccounts() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\niam:\n  withOIDC: true\n  serviceAccounts:\n    - metadata: { name: s3-reader, namespace: backend }\n      attachPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, arn:aws:iam::123456789012:policy/reports-read]\n",
    )
    .unwrap();
    let plan = || {
        moto.eksdrift()
            .args([
                "audit",
                "--for",
                "create-iamserviceaccount",
                "-o",
                "json",
                "-f",
            ])
            .arg(&file)
            .output()
            .unwrap()
    };
    let out = plan();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert!(
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "EKD907"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("no IAM OIDC provider")),
        "{report:#}"
    );
    rt().block_on(async {
        let issuer = seed::issuer_path(moto, "us-west-2", "prod");
        seed::oidc_provider(moto, &issuer).await;
    });
    // With the provider, the customer-managed policy the file attaches is still missing.
    let out = plan();
    assert_eq!(out.status.code(), Some(1));
    let report = json_of(&out);
    let first = &report["targets"][0]["findings"][0];
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("policy/reports-read, which does not exist"),
        "{report:#}"
    );
    assert_eq!(super::api_calls(&report)["iam:GetPolicy"], 1);
    rt().block_on(async {
        let config = moto.sdk_config("us-west-2").await;
        aws_sdk_iam::Client::new(&config)
            .create_policy()
            .policy_name("reports-read")
            .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap();
    });
    let out = plan();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// create-cluster: a name the region has is taken; a new one is the plan's (absent) target,
/// audited, and the gate passes.
#[test]
fn a_clusterconfig_plan_for_a_new_cluster_checks_the_name_is_free() {
    use std::fmt::Write as _;
    let (_lock, moto) = moto();
    let seeded = rt().block_on(async { seed::eksctl_cluster(moto, "us-west-2", "prod").await });
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| {
        let p = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &p,
            format!("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: {name}\n  region: us-west-2\n"),
        )
        .unwrap();
        p
    };
    let plan = |f: &std::path::Path| {
        moto.eksdrift()
            .args(["audit", "--for", "create-cluster", "-o", "json", "-f"])
            .arg(f)
            .output()
            .unwrap()
    };
    let out = plan(&file("prod"));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["targets"][0]["findings"][0]["code"], "EKD910");
    let out = plan(&file("brand-new"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    assert_eq!(report["targets"][0]["status"], "audited", "{report:#}");
    assert_eq!(report["targets"][0]["cluster"], "brand-new");

    // Into the existing VPC (EKD911): the file's VPC and subnets are looked up.
    let into_vpc = |vpc: &str, private: &[(&str, &str)]| {
        let p = dir.path().join("into-vpc.yaml");
        let mut text = format!(
            "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: brand-new\n  region: us-west-2\nvpc:\n  id: {vpc}\n  subnets:\n    private:\n"
        );
        for (name, id) in private {
            writeln!(text, "      {name}: {{ id: {id} }}").unwrap();
        }
        std::fs::write(&p, text).unwrap();
        plan(&p)
    };
    let subnets: Vec<(&str, &str)> = seeded
        .private
        .iter()
        .map(|(id, az)| (az.as_str(), id.as_str()))
        .collect();
    let out = into_vpc(&seeded.vpc, &subnets);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(super::api_calls(&json_of(&out))["ec2:DescribeVpcs"], 1);
    let codes_and_messages = |out: &std::process::Output| -> Vec<(String, String)> {
        json_of(out)["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    // A VPC that does not exist.
    let out = into_vpc("vpc-0123456789abcdef0", &subnets);
    assert_eq!(out.status.code(), Some(1));
    let found = codes_and_messages(&out);
    assert!(
        found.iter().any(|(c, m)| c == "EKD911"
            && m.contains("vpc.id vpc-0123456789abcdef0, which does not exist")),
        "{found:?}"
    );
    // Every subnet of the seeded VPC is then in another VPC than vpc.id.
    assert!(
        found
            .iter()
            .any(|(c, m)| c == "EKD911" && m.contains("not in vpc.id vpc-0123456789abcdef0")),
        "{found:?}"
    );
    // A subnet that does not exist, and one left in a single AZ.
    let out = into_vpc(
        &seeded.vpc,
        &[
            (subnets[0].0, subnets[0].1),
            ("gone", "subnet-0123456789abcdef0"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let found = codes_and_messages(&out);
    assert!(
        found.iter().any(|(c, m)| c == "EKD911"
            && m.contains("subnet-0123456789abcdef0 (gone), which does not exist")),
        "{found:?}"
    );
    let out = into_vpc(&seeded.vpc, &[(subnets[0].0, subnets[0].1)]);
    assert_eq!(out.status.code(), Some(1));
    let found = codes_and_messages(&out);
    assert!(
        found
            .iter()
            .any(|(c, m)| c == "EKD911" && m.contains("every subnet of vpc.subnets is in")),
        "{found:?}"
    );
}

/// A self-managed nodegroup's iam.instanceProfileARN: a profile that does not exist, then one
/// with no role (eksctl reads the node role from it), then one with its role.
#[test]
fn a_clusterconfig_plan_checks_the_instance_profile_a_nodegroup_names() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nnodeGroups:\n  - name: ng-legacy\n    instanceType: m5.large\n    iam:\n      instanceProfileARN: arn:aws:iam::123456789012:instance-profile/nodes-legacy\n",
    )
    .unwrap();
    let plan = || {
        let out = moto
            .eksdrift()
            .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
            .arg(&file)
            .output()
            .unwrap();
        let report = json_of(&out);
        let messages: Vec<String> = report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "EKD905")
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect();
        (out.status.code(), messages, report)
    };
    let (code, messages, report) = plan();
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("nodes-legacy (iam.instanceProfileARN), which does not exist")),
        "{messages:?}"
    );
    assert_eq!(super::api_calls(&report)["iam:GetInstanceProfile"], 1);
    let iam = rt().block_on(async {
        let config = moto.sdk_config("us-west-2").await;
        let iam = aws_sdk_iam::Client::new(&config);
        iam.create_instance_profile()
            .instance_profile_name("nodes-legacy")
            .send()
            .await
            .unwrap();
        iam
    });
    let (code, messages, _) = plan();
    assert_eq!(code, Some(1));
    assert!(
        messages
            .iter()
            .any(|m| m.contains("the profile holds no role")),
        "{messages:?}"
    );
    // capture -f FILE keeps the profile (get-instance-profile.json): offline, the same finding.
    let bundles = tempfile::tempdir().unwrap();
    let captured = moto
        .eksdrift()
        .args(["capture", "--out"])
        .arg(bundles.path())
        .arg("-f")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        captured.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&captured.stderr)
    );
    assert!(
        bundles
            .path()
            .join("us-west-2/prod/get-instance-profile.json")
            .is_file()
    );
    let offline = moto
        .eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
        .arg(&file)
        .arg("--from")
        .arg(bundles.path().join("us-west-2/prod"))
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    let offline_messages: Vec<String> = json_of(&offline)["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD905")
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(offline_messages, messages);
    rt().block_on(async {
        iam.create_role()
            .role_name("nodes-legacy")
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .unwrap();
        iam.add_role_to_instance_profile()
            .instance_profile_name("nodes-legacy")
            .role_name("nodes-legacy")
            .send()
            .await
            .unwrap();
    });
    let (_, messages, report) = plan();
    assert!(messages.is_empty(), "{messages:?} {report:#}");
}

/// A nodegroup whose earlier creation rolled back: its stack (ROLLBACK_COMPLETE) takes the name,
/// and eksctl would skip the nodegroup and create nothing.
#[test]
fn a_clusterconfig_plan_finds_a_nodegroup_name_taken_by_a_failed_stack() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        seed::nodegroup_stack_only(moto, "us-west-2", "prod", "ng-4", "managed").await;
    });
    // moto cannot fail a stack: the proxy reports the stack as rolled back.
    super::faults::STACK_STATUS.lock().unwrap().insert(
        "eksctl-prod-nodegroup-ng-4".to_owned(),
        "ROLLBACK_COMPLETE".to_owned(),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nmanagedNodeGroups:\n  - name: ng-4\n    instanceType: m5.large\n  - name: ng-5\n    instanceType: m5.large\n",
    )
    .unwrap();
    let plan = |extra: &[&str]| {
        moto.eksdrift()
            .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = plan(&[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let taken: Vec<&serde_json::Value> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD902")
        .collect();
    assert_eq!(taken.len(), 1, "{report:#}");
    assert!(
        taken[0]["message"]
            .as_str()
            .unwrap()
            .contains("ROLLBACK_COMPLETE")
    );
    assert_eq!(taken[0]["breaks"], serde_json::json!(["create-nodegroup"]));
    // Only ng-5: the failed name is left out, the plan passes.
    assert_eq!(plan(&["--include", "ng-5"]).status.code(), Some(0));
}

/// Each read a plan adds, failing on its own (denied, unsupported, throttled to the end; a
/// listing that never ends is the shared `paginate` guard's, tested on CloudFormation):
/// the plan rule that needs it is not checked with the operation and kind, the target is
/// partial (exit 2), and the planned operation's gate refuses to pass even with
/// --allow-partial, naming the rule.
#[test]
fn each_plan_read_that_fails_closes_the_plans_gate() {
    use super::faults::{Fault, Proxy, Rule};
    let (_lock, moto) = moto();
    let seeded = rt().block_on(async { seed::eksctl_cluster(moto, "us-west-2", "prod").await });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        format!("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nvpc:\n  id: {}\naddons:\n  - name: vpc-cni\n    version: v1.20.0-eksbuild.1\nmanagedNodeGroups:\n  - name: ng-9\n    instanceType: m5.large\n    availabilityZones: [us-west-2a]\n    ami: ami-0a1b2c3d4e5f60718\n    ssh: {{ publicKeyName: ops-key }}\n    iam:\n      attachPolicyARNs: [arn:aws:iam::123456789012:policy/nodes-extra]\nnodeGroups:\n  - name: ng-10\n    instanceType: m5.large\n    iam:\n      instanceProfileARN: arn:aws:iam::123456789012:instance-profile/nodes\n", seeded.vpc),
    )
    .unwrap();
    let cases: [(&str, &str, Fault, &str, &str, &str); 7] = [
        (
            "iam",
            "GetInstanceProfile",
            Fault::AccessDenied,
            "create-nodegroup",
            "plan-nodegroup-reference-missing",
            "EKD905",
        ),
        (
            "ec2",
            "DescribeVpcs",
            Fault::Throttle,
            "create-cluster",
            "plan-cluster-network-unusable",
            "EKD911",
        ),
        (
            "ec2",
            "DescribeKeyPairs",
            Fault::AccessDenied,
            "create-nodegroup",
            "plan-nodegroup-reference-missing",
            "EKD905",
        ),
        (
            "ec2",
            "DescribeImages",
            Fault::BareNotFound,
            "create-nodegroup",
            "plan-nodegroup-reference-missing",
            "EKD905",
        ),
        (
            "ec2",
            "DescribeInstanceTypeOfferings",
            Fault::Throttle,
            "create-nodegroup",
            "plan-instance-type-not-offered",
            "EKD906",
        ),
        (
            "iam",
            "GetPolicy",
            Fault::AccessDenied,
            "create-nodegroup",
            "plan-nodegroup-reference-missing",
            "EKD905",
        ),
        (
            "eks",
            "DescribeAddonVersions",
            Fault::Throttle,
            "create-addon",
            "plan-addon-blocked",
            "EKD908",
        ),
    ];
    for (service, operation, fault, gate, rule, code) in cases {
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
                    "-o",
                    "json",
                    "--max-attempts",
                    "2",
                    "--for",
                    gate,
                    "-f",
                ])
                .arg(&file)
                .args(extra)
                .output()
                .unwrap()
        };
        for extra in [&[][..], &["--allow-partial"][..]] {
            let out = run(extra);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{operation} {fault:?} {extra:?}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("--for {gate} cannot pass")) && stderr.contains(code),
                "{operation} {fault:?}: {stderr}"
            );
            let report = json_of(&out);
            let t = &report["targets"][0];
            assert_eq!(t["status"], "partial", "{operation}: {t}");
            let reason = t["coverage"]["not_checked"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["rule"] == rule)
                .and_then(|n| n["reason"].as_str())
                .unwrap_or_else(|| panic!("{operation}: {rule} not in not_checked: {t}"))
                .to_owned();
            assert!(
                reason.starts_with(&format!("{service}:{operation} failed (")),
                "{operation}: {reason}"
            );
        }
    }
}
