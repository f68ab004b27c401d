#![doc = include_str!("docs/control-plane-subnets-single-az.md")]

use std::collections::BTreeSet;

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD207",
    slug: "control-plane-subnets-single-az",
    summary: "live control-plane subnets span fewer than two AZs",
    severity: Severity::Warning,
    doc: include_str!("docs/control-plane-subnets-single-az.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let ids = &ctx.cluster.resources_vpc_config.subnet_ids;
    if ids.is_empty() {
        return Outcome::NotChecked(
            "DescribeCluster returned no resourcesVpcConfig.subnetIds".to_owned(),
        );
    }
    let azs: BTreeSet<&str> = ids
        .iter()
        .filter_map(|id| ctx.subnets.get(id.as_str()))
        .map(|s| s.availability_zone.as_str())
        .collect();
    if azs.len() >= 2 {
        return Outcome::Checked(Vec::new());
    }
    let listed: Vec<&str> = azs.iter().copied().collect();
    Outcome::Checked(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "the existing control-plane subnets of {} span {} AZ{} ({}); EKS needs two",
                ctx.cluster.name,
                azs.len(),
                if azs.len() == 1 { "" } else { "s" },
                if listed.is_empty() { "none left".to_owned() } else { listed.join(", ") }
            ),
        )
        .with_expected(Evidence::live(src::CLUSTER, ids.clone()))
        .with_actual(Evidence::live(src::SUBNETS, listed.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()))
        .with_impact(
            "EKS update-cluster-config and version upgrades reject a subnet set that does not span two AZs; the control plane loses its redundancy",
        )
        .with_remediation(
            "add an existing subnet from another of the cluster's original AZs with eksctl utils update-cluster-vpc-config --control-plane-subnet-ids",
            Vec::new(),
        ),
    ])
}
