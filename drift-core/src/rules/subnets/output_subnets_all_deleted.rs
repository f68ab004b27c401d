use crate::rules::{Checked, Context};
use crate::report::src;
use crate::rules::context::subnet_output_breaks;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet of one subnet output is gone.
    ///
    /// ## Why it matters
    ///
    /// eksctl 0.177.0 and later tolerate some deleted subnets, but not an empty list: nodegroup
    /// creation that relies on this list fails in every eksctl version.
    ///
    /// ## How to fix
    ///
    /// As for EKD202: explicit nodegroup subnets now, a reviewed edit of the output for good.
    code: "EKD203",
    slug: "output-subnets-all-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "every subnet of one subnet output is gone (breaks current eksctl too; an emptied AZ belongs in EKD202's impact)",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let mut findings = Vec::new();
    for output in &ctx.output_lists {
        if output.ids.is_empty() || output.ids.iter().any(|id| ctx.subnets.contains_key(id)) {
            continue;
        }
        let (summary, commands) =
            crate::rules::remedy::stale_subnet_output(ctx, stack, output.key, &output.ids);
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "every subnet of stack output {} is gone ({})",
                    output.key,
                    output.ids.join(", ")
                ),
            )
            .with_expected(Evidence::output(stack, output.key))
            .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Array(Vec::new())))
            .with_breaks(subnet_output_breaks(output.key, RULE.breaks))
            .with_impact(if crate::snapshot::outputs::looked_up_by_id(output.key) {
                format!(
                    "eksctl looks {} up by ID in every version: every eksctl command that loads the VPC from the cluster stack (create nodegroup, upgrade cluster, delete) fails with InvalidSubnetID.NotFound",
                    output.key
                )
            } else {
                format!(
                    "eksctl create nodegroup fails in every eksctl version for nodegroups placed by {}: no subnet of that list exists",
                    output.key
                )
            })
            .with_remediation(summary, commands),
        );
    }
    Ok(findings)
}
