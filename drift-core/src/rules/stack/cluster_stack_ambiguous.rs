use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};
use crate::report::src;
use crate::discovery::cluster_stack_name;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Several stacks could be the cluster stack: two stacks qualify equally (for example a legacy
    /// `EKS-<cluster>-ControlPlane` and another legacy stack), or a stack of this cluster whose name also
    /// ends in `-cluster` — typically a nodegroup named `foo-cluster`, whose stack is
    /// `eksctl-<cluster>-nodegroup-foo-cluster`. eksdrift itself is not misled: it takes the stack with the
    /// exact name and the cluster-name tag, and never a nodegroup stack.
    ///
    /// ## Why it matters
    ///
    /// Tools and eksctl versions that find the cluster stack by its `-cluster` suffix (eksctl #7406)
    /// may read the VPC layout from the nodegroup stack. When no stack can be told apart, eksdrift does
    /// not guess: the stack rules are reported as not checked.
    ///
    /// ## How to fix
    ///
    /// Use an eksctl release with the fix for #7406, and avoid nodegroup names ending in
    /// `-cluster`. For two equal candidates, find out which stack eksctl made last and retire the other
    /// after review.
    code: "EKD102",
    slug: "cluster-stack-ambiguous",
    severity: Warning,
    since: "0.1.0",
    summary: "several stacks could be the cluster stack (e.g. a nodegroup named `*-cluster`)",
}

fn check(ctx: &Context<'_>) -> Checked {
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
    Ok(findings)
}
