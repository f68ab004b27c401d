use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity};
use crate::rules::deletion::{eksctl_groups, eksctl_subnets, eksctl_vpc, karpenter_instance};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::tags;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// What Karpenter launched for the cluster and eksctl does not remove: instances that are
    /// not terminated, tagged by Karpenter (`karpenter.sh/nodepool`, or
    /// `karpenter.sh/provisioner-name` before v1) and for this cluster
    /// (`kubernetes.io/cluster/<name>`, `eks:eks-cluster-name`, `karpenter.k8s.aws/cluster`),
    /// and its launch templates. EKS Auto Mode's nodes (`eks:kubernetes-node-pool-name`) are
    /// EKS's and go with the cluster; terminated instances hold nothing. The instance profiles
    /// Karpenter made for eksctl's node role are EKD709's. Needs `describe-instances.json` and
    /// `describe-launch-templates.json`.
    ///
    /// ## Why it matters
    ///
    /// `eksctl delete cluster` deletes the Karpenter stack (its IAM role and policies, its SQS
    /// queue), not what Karpenter launched (`deleteKarpenterStackIfExists` in
    /// `pkg/actions/cluster/owned.go`; eksctl #4708). Running Karpenter nodes keep their network
    /// interfaces in eksctl's subnets and eksctl's node security group, so the cluster stack
    /// ends in `DELETE_FAILED`, and in a VPC eksctl did not make they run and bill on after the
    /// cluster is gone. Launch templates cost nothing and block nothing (info).
    ///
    /// ## How to fix
    ///
    /// Before deleting, delete the NodePools (`kubectl delete nodepools --all`) so Karpenter
    /// drains and terminates its nodes, or terminate the instances; then delete the launch
    /// templates.
    code: "EKD708",
    slug: "karpenter-leftovers",
    severity: Error,
    since: "0.1.0",
    summary: "instances Karpenter launched for the cluster outlive `eksctl delete cluster` and block deleting eksctl's subnets and groups",
    breaks: [DeleteCluster],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, DescribeInstances, DescribeLaunchTemplates, DescribeVpcSecurityGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let snapshot = ctx.snapshot;
    let Some(instances) = &snapshot.instances else {
        return Err(Skip("no instance data (describe-instances.json absent)".to_owned()));
    };
    let Some(templates) = &snapshot.launch_templates else {
        return Err(Skip(
            "no launch template data (describe-launch-templates.json absent)".to_owned(),
        ));
    };
    let cluster = ctx.cluster.name.as_str();
    let subnets = eksctl_subnets(ctx);
    let groups = eksctl_groups(ctx);
    let vpc = eksctl_vpc(ctx);
    let mut findings = Vec::new();
    for i in instances.iter().filter(|i| i.is_live() && karpenter_instance(ctx, i)) {
        let in_subnets = i.subnet_id.as_deref().is_some_and(|s| subnets.contains(s))
            || (vpc.is_some() && i.vpc_id.as_deref() == vpc);
        let pool = i
            .tag("karpenter.sh/nodepool")
            .or_else(|| i.tag("karpenter.sh/provisioner-name"))
            .unwrap_or_default();
        let in_groups = i
            .security_groups
            .iter()
            .any(|g| groups.contains(g.group_id.as_str()));
        let blocks = in_subnets || in_groups;
        let finding = RULE
            .finding(
                Resource::new("AWS::EC2::Instance", &i.instance_id),
                if blocks {
                    format!(
                        "Karpenter instance {} (node pool {pool}, {}) runs in eksctl's network: eksctl delete cluster does not terminate it and cannot delete the subnets and groups it uses",
                        i.instance_id,
                        i.state_name()
                    )
                } else {
                    format!(
                        "Karpenter instance {} (node pool {pool}, {}) will run on, and bill, after eksctl delete cluster",
                        i.instance_id,
                        i.state_name()
                    )
                },
            )
            .with_expected(Evidence::live("ec2:DescribeInstances", json!("no Karpenter instance for the cluster")))
            .with_actual(Evidence::live(
                "ec2:DescribeInstances",
                json!({"instanceId": i.instance_id, "state": i.state_name(), "nodePool": pool, "subnet": i.subnet_id}),
            ))
            .with_impact(if blocks {
                "its network interface stays in eksctl's subnet and node security group: the cluster stack ends in DELETE_FAILED"
            } else {
                "the instance keeps running, and billing, with no cluster to join"
            })
            .with_remediation(
                "delete the NodePools first so Karpenter drains and terminates its nodes, or terminate the instance",
                vec![
                    "# first, with kubectl on the cluster: kubectl delete nodepools --all (Karpenter drains and terminates its nodes); or:".to_owned(),
                    Cmd::new("aws ec2 terminate-instances")
                        .opt("--instance-ids", &i.instance_id)
                        .region(ctx)
                        .done(),
                ],
            );
        findings.push(if blocks {
            finding
        } else {
            finding.with_severity(Severity::Warning).with_breaks(&[])
        });
    }
    let kube_tag = format!("{}{cluster}", tags::KUBERNETES_CLUSTER_PREFIX);
    for t in templates {
        let karpenter = t.tag("karpenter.k8s.aws/ec2nodeclass").is_some()
            || t.tags.iter().any(|t| t.key.starts_with("karpenter."));
        let for_cluster = t.tag("karpenter.k8s.aws/cluster") == Some(cluster)
            || t.tag("eks:eks-cluster-name") == Some(cluster)
            || t.tag(&kube_tag).is_some();
        if !(karpenter && for_cluster) {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EC2::LaunchTemplate", &t.launch_template_id),
                format!(
                    "Karpenter launch template {} ({}) will be left after eksctl delete cluster; it blocks nothing",
                    t.launch_template_name, t.launch_template_id
                ),
            )
            .with_severity(Severity::Info)
            .with_breaks(&[] as &[Operation])
            .with_expected(Evidence::live("ec2:DescribeLaunchTemplates", json!("no Karpenter launch template for the cluster")))
            .with_actual(Evidence::live("ec2:DescribeLaunchTemplates", json!(t.launch_template_name)))
            .with_impact("a leftover: it costs nothing and blocks nothing")
            .with_remediation(
                "delete it once the cluster is gone",
                vec![
                    Cmd::new("aws ec2 delete-launch-template")
                        .opt("--launch-template-id", &t.launch_template_id)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
