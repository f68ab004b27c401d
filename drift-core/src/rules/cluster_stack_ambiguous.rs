#![doc = include_str!("docs/cluster-stack-ambiguous.md")]

use super::remedy::Cmd;
use super::{Context, Outcome, Rule, src};
use crate::discovery::cluster_stack_name;
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD102",
    slug: "cluster-stack-ambiguous",
    summary: "several stacks could be the cluster stack (e.g. a nodegroup named `*-cluster`)",
    severity: Severity::Warning,
    doc: include_str!("docs/cluster-stack-ambiguous.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let d = &ctx.discovery;
    let cluster = &ctx.cluster.name;
    let expected = cluster_stack_name(cluster);
    let describe = Cmd::new("eksctl utils describe-stacks")
        .opt("--cluster", cluster)
        .region(ctx)
        .done();
    let mut findings = Vec::new();
    if d.is_ambiguous() {
        let names: Vec<&str> = d.candidates.iter().map(|s| s.stack_name.as_str()).collect();
        findings.push(
            RULE.finding(
                Resource::cluster(ctx.cluster),
                format!(
                    "{} stacks could be the cluster stack of {cluster}: {}",
                    names.len(),
                    names.join(", ")
                ),
            )
            .with_expected(Evidence::live(src::STACKS, expected.clone()))
            .with_actual(Evidence::live(src::STACKS, names.clone()))
            .with_impact(
                "eksctl and eksdrift cannot tell which stack's outputs describe the cluster; the stack-output rules were not run",
            )
            .with_remediation(
                "find out which stack eksctl made for this cluster and retire the other after review",
                vec![describe.clone()],
            ),
        );
    }
    for other in &d.lookalikes {
        let chosen = d.stack.map_or(expected.as_str(), |s| s.stack_name.as_str());
        findings.push(
            RULE.finding(
                Resource::stack(other),
                format!(
                    "stack {} of cluster {cluster} can be mistaken for the cluster stack {chosen}",
                    other.stack_name
                ),
            )
            .with_expected(Evidence::live(src::STACKS, chosen.to_owned()))
            .with_actual(Evidence::stack(other, other.stack_name.clone().into()))
            .with_impact(
                "tools and eksctl versions that find the cluster stack by its `-cluster` suffix (eksctl #7406) may read the VPC layout from the wrong stack",
            )
            .with_remediation(
                "use an eksctl release with the fix for #7406 and avoid nodegroup names ending in `-cluster`",
                vec![describe.clone()],
            ),
        );
    }
    Outcome::Checked(findings)
}
