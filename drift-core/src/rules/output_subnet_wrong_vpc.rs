#![doc = include_str!("docs/output-subnet-wrong-vpc.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD204",
    slug: "output-subnet-wrong-vpc",
    summary: "a subnet named in an output exists but in another VPC",
    severity: Severity::Error,
    doc: include_str!("docs/output-subnet-wrong-vpc.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let Some(vpc) = ctx.expected_vpc(stack) else {
        return Outcome::NotChecked(
            "neither the VPC output nor DescribeCluster names the VPC".to_owned(),
        );
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
        let (summary, commands) = super::remedy::stale_subnet_output(ctx, stack, output.key, &gone);
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
    Outcome::Checked(findings)
}
