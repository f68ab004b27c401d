use std::collections::BTreeSet;

use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The existing control-plane subnets span at least two Availability Zones.
    ///
    /// ## Why it matters
    ///
    /// EKS requires subnets in two AZs for `UpdateClusterConfig` and upgrades; with one AZ left the
    /// control plane has lost its redundancy and the next update is rejected.
    ///
    /// An EKS local cluster on AWS Outposts (`outpostConfig` in `describe-cluster`) runs its control
    /// plane in one subnet of one AZ by design: eksctl creates one private subnet on the Outpost and
    /// expects exactly that. The rule does not apply there and says so under `not_checked`.
    ///
    /// ## How to fix
    ///
    /// Add an existing subnet from another of the cluster's original AZs to the control plane.
    code: "EKD207",
    slug: "control-plane-subnets-single-az",
    severity: Warning,
    since: "0.1.0",
    summary: "live control-plane subnets span fewer than two AZs",
    breaks: [UpgradeCluster, UpdateClusterVpcConfig],
    inputs: [DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.cluster.outpost_config.is_some() {
        return Err(Skip(
            "a local cluster on AWS Outposts runs its control plane in one subnet of one AZ by design".to_owned(),
        ));
    }
    let ids = &ctx.cluster.resources_vpc_config.subnet_ids;
    if ids.is_empty() {
        return Err(Skip(
            "DescribeCluster returned no resourcesVpcConfig.subnetIds".to_owned(),
        ));
    }
    let azs: BTreeSet<&str> = ids
        .iter()
        .filter_map(|id| ctx.subnets.get(id.as_str()))
        .map(|s| s.availability_zone.as_str())
        .collect();
    if azs.len() >= 2 {
        return Ok(Vec::new());
    }
    let listed: Vec<&str> = azs.iter().copied().collect();
    Ok(vec![
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
