//! The delete gate, live against moto: each blocker seeded as a user would leave it, the clean
//! cluster (with a load balancer Kubernetes made for it) passing, and capture → audit --from
//! giving the same findings.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    Filter, IpPermission, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use serde_json::{Value, json};

use super::harness::{ACCOUNT, Moto, moto};
use super::{json_of, rt, seed, unchecked};

fn gate(moto: &Moto) -> std::process::Output {
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
            "delete-cluster",
        ])
        .output()
        .unwrap()
}

fn codes_of(report: &Value) -> BTreeSet<String> {
    report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn tagged_instance(
    ec2: &aws_sdk_ec2::Client,
    subnet: &str,
    group: &str,
    tags: &[(&str, &str)],
) -> String {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
    for (k, v) in tags {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    let out = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .security_group_ids(group)
        .set_tag_specifications((!tags.is_empty()).then(|| vec![spec.build()]))
        .send()
        .await
        .unwrap();
    out.instances()[0].instance_id().unwrap().to_owned()
}

#[test]
fn every_delete_blocker_is_found_before_eksctl_runs_and_the_clean_cluster_passes() {
    let (_lock, moto) = moto();
    let (c, shared) = rt().block_on(async {
        let c = seed::eksctl_cluster(moto, "us-west-2", "prod").await;
        let config = moto.sdk_config("us-west-2").await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let shared = cfn
            .describe_stacks()
            .stack_name("eksctl-prod-cluster")
            .send()
            .await
            .unwrap()
            .stacks()[0]
            .outputs()
            .iter()
            .find(|o| o.output_key() == Some("SharedNodeSecurityGroup"))
            .and_then(|o| o.output_value())
            .unwrap()
            .to_owned();
        // A nodegroup stack whose template makes the node role (eksctl's shape).
        let body = json!({
            "Resources": {"NodeInstanceRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Path": "/"}}},
            "Outputs": {"InstanceRoleARN": {"Value": {"Fn::GetAtt": ["NodeInstanceRole", "Arn"]}}},
        });
        cfn.create_stack()
            .stack_name("eksctl-prod-nodegroup-ng-1")
            .template_body(body.to_string())
            .tags(aws_sdk_cloudformation::types::Tag::builder().key("alpha.eksctl.io/cluster-name").value("prod").build())
            .tags(aws_sdk_cloudformation::types::Tag::builder().key("alpha.eksctl.io/nodegroup-name").value("ng-1").build())
            .tags(aws_sdk_cloudformation::types::Tag::builder().key("alpha.eksctl.io/nodegroup-type").value("managed").build())
            .send()
            .await
            .unwrap();
        let subnets: Vec<&str> = c.private.iter().map(|(id, _)| id.as_str()).collect();
        seed::managed_nodegroup(moto, "us-west-2", "prod", "ng-1", &subnets, None);
        // The AWS Load Balancer Controller's load balancer for a Service of the cluster: the
        // endpoint is public, so eksctl deletes it through the Service.
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
        elbv2
            .create_load_balancer()
            .name("k8s-default-web-0a1b2c3d4e")
            .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
            .subnets(&c.public[0].0)
            .subnets(&c.public[1].0)
            .tags(aws_sdk_elasticloadbalancingv2::types::Tag::builder().key("elbv2.k8s.aws/cluster").value("prod").build())
            .send()
            .await
            .unwrap();
        (c, shared)
    });

    let clean = gate(moto);
    let report = json_of(&clean);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}\n{report:#}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(codes_of(&report).is_empty(), "{report:#}");
    let target = &report["targets"][0];
    let delete_rules = [
        "deletion-protection-on",
        "load-balancer-left-in-vpc",
        "network-interface-blocks-delete",
        "security-group-blocks-delete",
        "karpenter-leftovers",
        "role-has-undeclared-attachments",
    ];
    let skipped = unchecked(target);
    assert!(
        delete_rules.iter().all(|r| !skipped.iter().any(|s| s == r)),
        "{target:#}"
    );
    let calls = super::api_calls(&report);
    for op in [
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeTags",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeInstances",
        "ec2:DescribeLaunchTemplates",
        "iam:ListAttachedRolePolicies",
        "iam:ListRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ] {
        assert!(
            calls.get(op).copied().unwrap_or(0) >= 1,
            "{op} not called: {calls:?}"
        );
    }

    // Every blocker, as users leave them.
    rt().block_on(async {
        let config = moto.sdk_config("us-west-2").await;
        let ec2 = aws_sdk_ec2::Client::new(&config);
        // A network load balancer made by hand in eksctl's private subnets.
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&config);
        elbv2
            .create_load_balancer()
            .name("payments-internal")
            .scheme(aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::Internal)
            .r#type(aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum::Network)
            .subnets(&c.private[0].0)
            .subnets(&c.private[1].0)
            .tags(
                aws_sdk_elasticloadbalancingv2::types::Tag::builder()
                    .key("team")
                    .value("payments")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        // A bastion launched by hand in eksctl's subnet with the shared node group.
        tagged_instance(&ec2, &c.private[0].0, &shared, &[("Name", "bastion")]).await;
        // A Karpenter node for the cluster.
        tagged_instance(
            &ec2,
            &c.private[1].0,
            &shared,
            &[
                ("karpenter.sh/nodepool", "default"),
                ("kubernetes.io/cluster/prod", "owned"),
            ],
        )
        .await;
        // A database team's group lets the shared node group in.
        let db = ec2
            .create_security_group()
            .group_name("payments-db")
            .description("Postgres from the cluster's nodes")
            .vpc_id(&c.vpc)
            .send()
            .await
            .unwrap();
        ec2.authorize_security_group_ingress()
            .group_id(db.group_id().unwrap())
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .user_id_group_pairs(
                        UserIdGroupPair::builder()
                            .group_id(&shared)
                            .user_id(ACCOUNT)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        // S3 access attached by hand to the nodegroup's role.
        let iam = aws_sdk_iam::Client::new(&config);
        let roles = iam.list_roles().send().await.unwrap();
        let node_role = roles
            .roles()
            .iter()
            .find(|r| r.role_name().contains("NodeInstanceRole"))
            .expect("moto made the nodegroup stack's role")
            .role_name()
            .to_owned();
        let policy = iam
            .create_policy()
            .policy_name("s3-read-reports")
            .policy_document(
                json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
                    .to_string(),
            )
            .send()
            .await
            .unwrap();
        iam.attach_role_policy()
            .role_name(&node_role)
            .policy_arn(policy.policy().unwrap().arn().unwrap())
            .send()
            .await
            .unwrap();
        // The interfaces moto made for the instances are in-use in eksctl's subnets.
        let enis = ec2
            .describe_network_interfaces()
            .filters(Filter::builder().name("vpc-id").values(&c.vpc).build())
            .send()
            .await
            .unwrap();
        assert!(!enis.network_interfaces().is_empty());
    });
    super::faults::DELETION_PROTECTED
        .lock()
        .unwrap()
        .insert("prod".to_owned());

    let blocked = gate(moto);
    let report = json_of(&blocked);
    assert_eq!(
        blocked.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&blocked.stderr)
    );
    let found = codes_of(&report);
    for code in ["EKD704", "EKD705", "EKD706", "EKD707", "EKD708", "EKD709"] {
        assert!(found.contains(code), "{code} missing: {report:#}");
    }
    let findings = report["targets"][0]["findings"].as_array().unwrap();
    let message = |code: &str| -> Vec<String> {
        findings
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["message"].as_str().unwrap().to_owned())
            .collect()
    };
    // The hand-made load balancer, not Kubernetes' one.
    assert_eq!(message("EKD705").len(), 1, "{:?}", message("EKD705"));
    assert!(message("EKD705")[0].contains("payments-internal"));
    // The bastion's interface, not the Karpenter node's (EKD708 has it).
    assert_eq!(message("EKD706").len(), 1, "{:?}", message("EKD706"));
    assert!(message("EKD709")[0].contains("s3-read-reports"));
    assert!(message("EKD707").iter().any(|m| m.contains("payments-db")));
    for f in findings {
        assert!(
            f["breaks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b == "delete-cluster"),
            "{f}"
        );
    }

    // The nodegroup's own blocker (its role) stops eksctl delete nodegroup too; the cluster
    // stack's do not.
    let ng = moto
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
            "delete-nodegroup",
        ])
        .output()
        .unwrap();
    assert_eq!(ng.status.code(), Some(1));
    let ng_report = json_of(&ng);
    let breaking: Vec<&str> = ng_report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["breaks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b == "delete-nodegroup")
        })
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(breaking, ["EKD709"], "{ng_report:#}");

    // capture → audit --from: the same findings offline.
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
    let bundle = dir.path().join("us-west-2/prod");
    let cluster: Value = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("describe-cluster.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cluster["cluster"]["deletionProtection"], true);
    // The whole answer, not only what eksdrift models.
    assert!(
        cluster["cluster"]["certificateAuthority"].is_object(),
        "{cluster:#}"
    );
    let offline = moto
        .eksdrift()
        .args(["audit", "-o", "json", "--for", "delete-cluster", "--from"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(offline.status.code(), Some(1));
    assert_eq!(
        json_of(&offline)["targets"][0]["findings"],
        report["targets"][0]["findings"]
    );
}
