#![doc = include_str!("docs/vpc-mismatch.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD201",
    slug: "vpc-mismatch",
    summary: "output `VPC` ≠ live `vpcId`",
    severity: Severity::Error,
    doc: include_str!("docs/vpc-mismatch.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let Some(recorded) = stack.vpc() else {
        return Outcome::NotChecked("the stack has no VPC output (see EKD104)".to_owned());
    };
    let Some(live) = ctx.cluster.resources_vpc_config.vpc_id.as_deref() else {
        return Outcome::NotChecked(
            "DescribeCluster returned no resourcesVpcConfig.vpcId".to_owned(),
        );
    };
    if recorded.trim() == live {
        return Outcome::Checked(Vec::new());
    }
    Outcome::Checked(vec![
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
            vec![super::remedy::Cmd::new("aws ec2 describe-subnets")
                .opt("--filters", format!("Name=vpc-id,Values={live}"))
                .region(ctx)
                .done()],
        ),
    ])
}
