use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The stack's `VPC` output differs from the live cluster's `resourcesVpcConfig.vpcId`.
    ///
    /// ## Why it matters
    ///
    /// eksctl builds nodegroup and Fargate stacks for the recorded VPC. Nodes land in a VPC the
    /// control plane does not use and never join.
    ///
    /// ## How to fix
    ///
    /// Do not create nodegroups from this stack until the output is corrected with a reviewed change
    /// set; meanwhile give nodegroups explicit subnets of the live VPC.
    code: "EKD201",
    slug: "vpc-mismatch",
    severity: Error,
    since: "0.1.0",
    summary: "output `VPC` ≠ live `vpcId`",
    breaks: [CreateNodegroup, CreateFargateprofile],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let Some(recorded) = stack.vpc() else {
        return Err(Skip("the stack has no VPC output (see EKD104)".to_owned()));
    };
    let Some(live) = ctx.cluster.resources_vpc_config.vpc_id.as_deref() else {
        return Err(Skip(
            "DescribeCluster returned no resourcesVpcConfig.vpcId".to_owned(),
        ));
    };
    if recorded.trim() == live {
        return Ok(Vec::new());
    }
    Ok(vec![
        RULE.finding(
            Resource::new("AWS::EC2::VPC", live),
            format!("stack output VPC is {recorded}, but the cluster runs in {live}"),
        )
        .with_expected(Evidence::output(stack, outputs::VPC))
        .with_actual(Evidence::live(src::CLUSTER, live.to_owned()))
        .with_impact(
            "eksctl create nodegroup and create fargateprofile build their stacks for the recorded VPC; nodes land in a VPC the control plane is not in and never join",
        )
        .with_remediation(
            "do not create nodegroups from this stack until the VPC output is corrected with a reviewed change set; give nodegroups explicit subnets of the live VPC meanwhile",
            std::iter::once(
                crate::rules::remedy::Cmd::new("aws ec2 describe-subnets")
                    .opt("--filters", format!("Name=vpc-id,Values={live}"))
                    .region(ctx)
                    .done(),
            )
            .chain(crate::rules::remedy::output_patch(ctx, stack, outputs::VPC, live))
            .collect(),
        ),
    ])
}
