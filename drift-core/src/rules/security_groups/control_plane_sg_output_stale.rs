use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The stack's `SecurityGroup` output is among the live cluster's `securityGroupIds`.
    ///
    /// ## Why it matters
    ///
    /// Unmanaged nodegroup stacks import this output to allow traffic between the control plane and
    /// the nodes. If the control plane no longer uses the group (changed with
    /// `--control-plane-security-group-ids` or in the console), new nodes get rules for the wrong group.
    ///
    /// ## How to fix
    ///
    /// Correct the output with a reviewed change set, or add the group back to the control plane.
    code: "EKD301",
    slug: "control-plane-sg-output-stale",
    severity: Warning,
    since: "0.1.0",
    summary: "output `SecurityGroup` is not among the live `securityGroupIds`",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let Some(recorded) = stack.security_group() else {
        return Err(Skip(
            "the stack has no SecurityGroup output (see EKD104)".to_owned(),
        ));
    };
    let live = &ctx.cluster.resources_vpc_config.security_group_ids;
    if live.iter().any(|g| g == recorded.trim()) {
        return Ok(Vec::new());
    }
    Ok(vec![
        RULE.finding(
            Resource::security_group(recorded.trim()),
            format!(
                "stack output SecurityGroup is {recorded}, but the control plane now uses {}",
                if live.is_empty() { "no additional security group".to_owned() } else { live.join(", ") }
            ),
        )
        .with_expected(Evidence::output(stack, outputs::SECURITY_GROUP))
        .with_actual(Evidence::live(src::CLUSTER, live.clone()))
        .with_impact(
            "eksctl create nodegroup opens node ingress from the recorded security group, not from the one the control plane uses: nodes may fail to join or the API server cannot reach kubelets and webhooks",
        )
        .with_remediation(
            "correct the SecurityGroup output with a reviewed change set, or add the recorded group back with eksctl utils update-cluster-vpc-config --control-plane-security-group-ids",
            live.first().map_or_else(Vec::new, |first| {
                crate::rules::remedy::output_patch(ctx, stack, outputs::SECURITY_GROUP, first)
            }),
        ),
    ])
}
