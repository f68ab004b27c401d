#![doc = include_str!("docs/output-subnets-all-deleted.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD203",
    slug: "output-subnets-all-deleted",
    summary: "every subnet of one subnet output is gone (breaks current eksctl too; an emptied AZ belongs in EKD202's impact)",
    severity: Severity::Error,
    doc: include_str!("docs/output-subnets-all-deleted.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let mut findings = Vec::new();
    for output in &ctx.output_lists {
        if output.ids.is_empty() || output.ids.iter().any(|id| ctx.subnets.contains_key(id)) {
            continue;
        }
        let (summary, commands) =
            super::remedy::stale_subnet_output(ctx, stack, output.key, &output.ids);
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
            .with_impact(format!(
                "eksctl create nodegroup fails in every eksctl version for nodegroups placed by {}: no subnet of that list exists",
                output.key
            ))
            .with_remediation(summary, commands),
        );
    }
    Outcome::Checked(findings)
}
