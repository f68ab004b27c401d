use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet in the live cluster's `resourcesVpcConfig.subnetIds` still exists.
    ///
    /// ## Why it matters
    ///
    /// EKS places control-plane network interfaces in these subnets during upgrades and
    /// configuration updates; with a subnet gone those operations fail and EKS reports the health issue
    /// `Ec2SubnetNotFound`.
    ///
    /// ## How to fix
    ///
    /// Point the control plane at existing subnets in at least two of its original AZs:
    /// `eksctl utils update-cluster-vpc-config --control-plane-subnet-ids …` or
    /// `aws eks update-cluster-config --resources-vpc-config subnetIds=…`.
    code: "EKD206",
    slug: "control-plane-subnet-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "the cluster names a subnet that no longer exists",
    breaks: [UpgradeCluster, UpdateClusterVpcConfig],
    inputs: [DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let vpc = &ctx.cluster.resources_vpc_config;
    let remaining: Vec<&str> = vpc
        .subnet_ids
        .iter()
        .map(String::as_str)
        .filter(|id| ctx.subnets.contains_key(id))
        .collect();
    let findings = vpc
        .subnet_ids
        .iter()
        .filter(|id| !ctx.subnets.contains_key(id.as_str()))
        .map(|id| {
            RULE.finding(
                Resource::subnet(id),
                format!(
                    "cluster {} lists control-plane subnet {id}, which no longer exists",
                    ctx.cluster.name
                ),
            )
            .with_expected(Evidence::live(src::CLUSTER, vpc.subnet_ids.clone()))
            .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
            .with_impact(
                "EKS cannot place control-plane network interfaces in the subnet: cluster version upgrades and VPC config updates fail until the subnet list names existing subnets (EKS health issue Ec2SubnetNotFound)",
            )
            .with_remediation(
                "point the control plane at existing subnets in at least two of its original AZs",
                vec![Cmd::new("eksctl utils update-cluster-vpc-config")
                    .opt("--cluster", &ctx.cluster.name)
                    .opt(
                        "--control-plane-subnet-ids",
                        if remaining.is_empty() {
                            "<subnet-a>,<subnet-b>".to_owned()
                        } else {
                            remaining.join(",")
                        },
                    )
                    .word("--approve")
                    .region(ctx)
                    .done()],
            )
        })
        .collect();
    Ok(findings)
}
