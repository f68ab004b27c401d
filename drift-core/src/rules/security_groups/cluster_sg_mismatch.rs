use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The stack's `ClusterSecurityGroupId` output equals the live cluster's
    /// `clusterSecurityGroupId`.
    ///
    /// ## Why it matters
    ///
    /// eksctl puts this group in the launch templates of managed nodegroups. A stale value means new
    /// nodes cannot talk to the control plane.
    ///
    /// ## How to fix
    ///
    /// Correct the output with a reviewed change set that touches only it.
    code: "EKD303",
    slug: "cluster-sg-mismatch",
    severity: Error,
    since: "0.1.0",
    summary: "output `ClusterSecurityGroupId` ≠ live `clusterSecurityGroupId`",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let Some(recorded) = stack.cluster_security_group_id() else {
        return Err(Skip(
            "the stack has no ClusterSecurityGroupId output (see EKD104)".to_owned(),
        ));
    };
    let Some(live) = ctx
        .cluster
        .resources_vpc_config
        .cluster_security_group_id
        .as_deref()
    else {
        return Err(Skip(
            "DescribeCluster returned no resourcesVpcConfig.clusterSecurityGroupId".to_owned(),
        ));
    };
    if recorded.trim() == live {
        return Ok(Vec::new());
    }
    Ok(vec![
        RULE.finding(
            Resource::security_group(live),
            format!("stack output ClusterSecurityGroupId is {recorded}, but the cluster security group is {live}"),
        )
        .with_expected(Evidence::output(stack, outputs::CLUSTER_SECURITY_GROUP_ID))
        .with_actual(Evidence::live(src::CLUSTER, live.to_owned()))
        .with_impact(
            "managed nodegroups created by eksctl get launch templates with the recorded group instead of the cluster security group: nodes cannot talk to the control plane and never join",
        )
        .with_remediation(
            format!("correct ClusterSecurityGroupId to {live} with a reviewed change set that touches only that output"),
            crate::rules::remedy::output_patch(ctx, stack, outputs::CLUSTER_SECURITY_GROUP_ID, live),
        ),
    ])
}
