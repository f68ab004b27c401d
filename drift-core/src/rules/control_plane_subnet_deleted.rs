#![doc = include_str!("docs/control-plane-subnet-deleted.md")]

use super::remedy::Cmd;
use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD206",
    slug: "control-plane-subnet-deleted",
    summary: "the cluster names a subnet that no longer exists",
    severity: Severity::Error,
    doc: include_str!("docs/control-plane-subnet-deleted.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
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
    Outcome::Checked(findings)
}
