use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet named in a subnet output that still exists is in the cluster's VPC (the live `vpcId`, else the `VPC`
    /// output).
    ///
    /// ## Why it matters
    ///
    /// Nodegroups placed in another VPC's subnet cannot reach the control plane; eksctl rejects the
    /// mismatch where it checks, and misplaces nodes where it does not.
    ///
    /// ## How to fix
    ///
    /// Correct the output with a reviewed change set; give nodegroups explicit subnets of the
    /// cluster's VPC meanwhile.
    code: "EKD204",
    slug: "output-subnet-wrong-vpc",
    severity: Error,
    since: "0.1.0",
    summary: "a subnet named in an output exists but in another VPC",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let Some(vpc) = ctx.expected_vpc(stack) else {
        return Err(Skip(
            "neither the VPC output nor DescribeCluster names the VPC".to_owned(),
        ));
    };
    let mut findings = Vec::new();
    for output in &ctx.output_lists {
        let wrong: Vec<_> = output
            .ids
            .iter()
            .filter_map(|id| ctx.subnets.get(id))
            .filter(|s| s.vpc_id != vpc)
            .collect();
        if wrong.is_empty() {
            continue;
        }
        let gone: Vec<&str> = wrong.iter().map(|s| s.subnet_id.as_str()).collect();
        let (summary, commands) = crate::rules::remedy::stale_subnet_output(ctx, stack, output.key, &gone);
        for subnet in wrong {
            findings.push(
                RULE.finding(
                    Resource::subnet(&subnet.subnet_id),
                    format!(
                        "stack output {} names {}, which is in {} rather than the cluster's VPC {vpc}",
                        output.key, subnet.subnet_id, subnet.vpc_id
                    ),
                )
                .with_expected(Evidence::output(stack, output.key))
                .with_actual(Evidence::live(src::SUBNETS, serde_json::json!({
                    "SubnetId": subnet.subnet_id,
                    "VpcId": subnet.vpc_id,
                })))
                .with_impact(
                    "eksctl create nodegroup fails (eksctl checks that subnets belong to the cluster VPC) or, where unchecked, places nodes in a VPC the control plane cannot reach",
                )
                .with_remediation(summary.clone(), commands.clone()),
            );
        }
    }
    Ok(findings)
}
