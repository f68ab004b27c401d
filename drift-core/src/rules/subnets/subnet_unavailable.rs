use crate::rules::{Checked, Context};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet named by the stack outputs or the cluster is in state `available`.
    ///
    /// ## Why it matters
    ///
    /// EC2 does not launch instances or network interfaces in a subnet that is not available:
    /// nodegroups and control-plane updates that need it fail.
    ///
    /// ## How to fix
    ///
    /// Wait for the subnet to become available, or stop naming it.
    code: "EKD208",
    slug: "subnet-unavailable",
    severity: Warning,
    since: "0.1.0",
    summary: "a referenced subnet's state is not `available`",
    breaks: [CreateNodegroup, UpgradeCluster],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let findings = ctx
        .referenced
        .iter()
        .filter_map(|(id, by)| Some((ctx.subnets.get(id)?, by)))
        .filter(|(s, _)| !s.state.is_empty() && s.state != "available")
        .map(|(s, by)| {
            RULE.finding(
                Resource::subnet(&s.subnet_id),
                format!(
                    "subnet {} (named by {}) is {}, not available",
                    s.subnet_id,
                    by.join(", "),
                    s.state
                ),
            )
            .with_expected(Evidence::live(src::SUBNETS, "available"))
            .with_actual(Evidence::live(src::SUBNETS, s.state.clone()))
            .with_impact(
                "EC2 will not launch instances or network interfaces in the subnet: nodegroups placed there fail to create, and EKS control-plane updates that need it fail",
            )
            .with_remediation(
                "wait for the subnet to become available, or stop using it for nodegroups and the control plane",
                Vec::new(),
            )
        })
        .collect();
    Ok(findings)
}
