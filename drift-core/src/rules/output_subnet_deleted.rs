#![doc = include_str!("docs/output-subnet-deleted.md")]

use std::collections::BTreeSet;

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use serde_json::Value;

pub static RULE: Rule = Rule {
    code: "EKD202",
    slug: "output-subnet-deleted",
    summary: "a subnet named in a subnet output no longer exists",
    severity: Severity::Error,
    doc: include_str!("docs/output-subnet-deleted.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let mut findings = Vec::new();
    for output in &ctx.output_lists {
        let gone: Vec<&str> = output
            .ids
            .iter()
            .copied()
            .filter(|id| !ctx.subnets.contains_key(id))
            .collect();
        if gone.is_empty() {
            continue;
        }
        // AZs this output covers, and those it still has a live subnet in (eksctl >= 0.177.0
        // fails only when an AZ, or the whole list, is emptied).
        let azs_known: BTreeSet<&str> = output
            .ids
            .iter()
            .filter_map(|id| ctx.subnet_az(id))
            .collect();
        let azs_live: BTreeSet<&str> = output
            .ids
            .iter()
            .filter_map(|id| ctx.subnets.get(id))
            .map(|s| s.availability_zone.as_str())
            .collect();
        let (summary, commands) = super::remedy::stale_subnet_output(ctx, stack, output.key, &gone);
        for id in &gone {
            let az = ctx.subnet_az(id);
            let az_note = az.map(|az| format!(" ({az})")).unwrap_or_default();
            let emptied = az.filter(|az| !azs_live.contains(az) && azs_known.contains(az));
            let all_gone = gone.len() == output.ids.len();
            let impact = match (all_gone, emptied) {
                (true, _) => format!(
                    "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 it fails too, since no subnet of {} is left (see EKD203)",
                    output.key
                ),
                (false, Some(az)) => format!(
                    "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 it skips the subnet, but {} has no live subnet left in {az}, so nodegroups placed in {az} fail",
                    output.key
                ),
                (false, None) => "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 eksctl warns and skips the deleted subnet".to_owned(),
            };
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!(
                        "stack output {} names {id}{az_note}, which no longer exists",
                        output.key
                    ),
                )
                .with_expected(Evidence::output(stack, output.key))
                .with_actual(Evidence::live(src::SUBNETS, Value::Null))
                .with_impact(impact)
                .with_remediation(summary.clone(), commands.clone()),
            );
        }
    }
    Outcome::Checked(findings)
}
