#![doc = include_str!("docs/cluster-stack-missing.md")]

use super::remedy::Cmd;
use super::{Context, Outcome, Rule, src};
use crate::discovery::cluster_stack_name;
use crate::report::{Evidence, Resource, Severity};
use serde_json::Value;

pub static RULE: Rule = Rule {
    code: "EKD101",
    slug: "cluster-stack-missing",
    summary: "no eksctl cluster stack for the cluster (not eksctl-managed)",
    severity: Severity::Info,
    doc: include_str!("docs/cluster-stack-missing.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    if ctx.discovery.stack.is_some() || ctx.discovery.is_ambiguous() {
        return Outcome::Checked(Vec::new());
    }
    let name = cluster_stack_name(&ctx.cluster.name);
    let finding = RULE
        .finding(
            Resource::cluster(ctx.cluster),
            format!(
                "no eksctl cluster stack found for cluster {} (looked for {name} tagged with the cluster name)",
                ctx.cluster.name
            ),
        )
        .with_expected(Evidence::live(src::STACKS, name.clone()))
        .with_actual(Evidence::live(src::STACKS, Value::Null))
        .with_impact(
            "eksctl cannot manage this cluster's nodegroups from a stack; the stack-output rules do not apply",
        )
        .with_remediation(
            "nothing to fix if the cluster was not created with eksctl; otherwise check the region and whether the stack was deleted",
            vec![
                Cmd::new("aws cloudformation describe-stacks")
                    .opt("--stack-name", &name)
                    .region(ctx)
                    .done(),
                Cmd::new("eksctl utils describe-stacks")
                    .opt("--cluster", &ctx.cluster.name)
                    .region(ctx)
                    .done(),
            ],
        );
    Outcome::Checked(vec![finding])
}
