use crate::rules::remedy::{Cmd, Script};
use crate::snapshot::{Stack, tags};
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
    /// eksctl finds the cluster stack as the first stack of the cluster, in the order
    /// CloudFormation lists them, whose name ends in `-cluster` and that carries the cluster-name
    /// tag (`DescribeClusterStackIfExists` in `pkg/cfn/manager/cluster.go`). A nodegroup stack
    /// `eksctl-<cluster>-nodegroup-foo-cluster` qualifies, and when it is listed first eksctl reads
    /// the cluster's VPC layout from it: commands that load the cluster stack (create nodegroup,
    /// upgrade, delete cluster) fail on outputs it lacks or act on the wrong stack. No eksctl
    /// release fixes this (the fix asked for in eksctl #7406 was never merged, checked up to
    /// 0.230), so upgrading eksctl does not help. When no stack can be told apart, eksdrift does
    /// not guess: the stack rules are reported as not checked.
    ///
    /// ## How to fix
    ///
    /// Replace the nodegroup with one whose name does not end in `-cluster` (create the new
    /// nodegroup, move workloads, delete the old one), and never name nodegroups `*-cluster`.
    /// For two equal candidates, find out which stack eksctl made last and retire the other after
    /// review.
    code: "EKD102",
    slug: "cluster-stack-ambiguous",
    severity: Warning,
    since: "0.1.0",
    summary: "several stacks could be the cluster stack (e.g. a nodegroup named `*-cluster`)",
    breaks: [CreateNodegroup, UpgradeCluster, DeleteCluster],
    inputs: [DescribeStacks, DescribeCluster],
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
                "eksctl (every release: the fix asked for in eksctl #7406 was never merged) takes the first stack of the cluster whose name ends in `-cluster`, in CloudFormation's listing order; when that is this stack, create nodegroup, upgrade and delete cluster read the VPC layout from it and fail or act on the wrong stack",
            )
            .with_remediation(
                "no eksctl upgrade fixes this: replace the nodegroup with one whose name does not end in `-cluster`, then delete this one",
                lookalike_commands(ctx, other),
            ),
        );
    }
    Ok(findings)
}

/// Replace the `*-cluster` nodegroup: a new one under another name first, then the old one.
fn lookalike_commands(ctx: &Context<'_>, stack: &Stack) -> Vec<String> {
    let nodegroup = stack.tag(tags::NODEGROUP_NAME).map_or_else(
        || {
            let prefix = format!("eksctl-{}-nodegroup-", ctx.cluster.name);
            stack
                .stack_name
                .strip_prefix(&prefix)
                .unwrap_or(&stack.stack_name)
                .to_owned()
        },
        str::to_owned,
    );
    vec![
        Script::new()
            .comment("first create a nodegroup like it under a name that does not end in -cluster (eksctl create nodegroup --name …) and move the workloads, then:")
            .cmd(
                Cmd::new("eksctl delete nodegroup")
                    .opt("--cluster", &ctx.cluster.name)
                    .opt("--name", nodegroup)
                    .region(ctx),
            )
            .done(),
    ]
}
