#![doc = include_str!("docs/subnet-unavailable.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD208",
    slug: "subnet-unavailable",
    summary: "a referenced subnet's state is not `available`",
    severity: Severity::Warning,
    doc: include_str!("docs/subnet-unavailable.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
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
    Outcome::Checked(findings)
}
