use std::collections::BTreeMap;

use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every security group named by a stack output (`SecurityGroup`, `SharedNodeSecurityGroup`,
    /// `ClusterSecurityGroupId`) or by the cluster (`securityGroupIds`, `clusterSecurityGroupId`) still
    /// exists. Needs `describe-security-groups.json`; without it the rule is reported as not checked.
    ///
    /// ## Why it matters
    ///
    /// Nodegroup stacks import these groups and fail with `InvalidGroup.NotFound`; EKS cannot attach a
    /// deleted group to control-plane network interfaces during updates (`Ec2SecurityGroupNotFound`).
    ///
    /// ## How to fix
    ///
    /// Replace the group in the cluster and correct the stack output with a reviewed change set.
    code: "EKD302",
    slug: "security-group-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "an SG named by an output or by the cluster no longer exists",
    breaks: [CreateNodegroup, UpgradeCluster],
    inputs: [DescribeStacks, DescribeCluster, DescribeSecurityGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(groups) = &ctx.security_groups else {
        return Err(Skip(
            "no security group data (describe-security-groups.json absent)".to_owned(),
        ));
    };
    // Who names each group: output keys and live fields.
    let mut naming: BTreeMap<&str, Vec<(Evidence, String)>> = BTreeMap::new();
    if let Some(stack) = ctx.discovery.stack {
        for key in crate::snapshot::outputs::SECURITY_GROUPS {
            if let Some(id) = stack.output(key).map(str::trim).filter(|v| !v.is_empty()) {
                naming
                    .entry(id)
                    .or_default()
                    .push((Evidence::output(stack, key), format!("stack output {key}")));
            }
        }
    }
    let vpc = &ctx.cluster.resources_vpc_config;
    for id in &vpc.security_group_ids {
        naming.entry(id.as_str()).or_default().push((
            Evidence::live(src::CLUSTER, vpc.security_group_ids.clone()),
            "the cluster's securityGroupIds".to_owned(),
        ));
    }
    if let Some(id) = vpc.cluster_security_group_id.as_deref() {
        naming.entry(id).or_default().push((
            Evidence::live(src::CLUSTER, id.to_owned()),
            "the cluster's clusterSecurityGroupId".to_owned(),
        ));
    }
    let findings = naming
        .into_iter()
        .filter(|(id, _)| !groups.contains_key(id))
        .map(|(id, mut by)| {
            let names: Vec<String> = by.iter().map(|(_, n)| n.clone()).collect();
            let (expected, _) = by.swap_remove(0);
            RULE.finding(
                Resource::security_group(id),
                format!("{} names security group {id}, which no longer exists", names.join(" and ")),
            )
            .with_expected(expected)
            .with_actual(Evidence::live(src::SECURITY_GROUPS, serde_json::Value::Null))
            .with_impact(
                "nodegroup stacks that import the group fail to create (InvalidGroup.NotFound), and EKS cannot attach it to control-plane network interfaces during updates",
            )
            .with_remediation(
                "replace the group in the cluster (eksctl utils update-cluster-vpc-config --control-plane-security-group-ids) and correct the stack output with a reviewed change set",
                Vec::new(),
            )
        })
        .collect();
    Ok(findings)
}
