use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};
use crate::report::src;
use crate::discovery::cluster_stack_name;
use crate::report::{Evidence, Resource};
use serde_json::Value;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// No CloudFormation stack in the region is the eksctl cluster stack of this cluster: none is
    /// named `eksctl-<cluster>-cluster` (or the legacy `EKS-<cluster>-…`) and tagged with the cluster's
    /// name (`alpha.eksctl.io/cluster-name`).
    ///
    /// ## Why it matters
    ///
    /// The cluster was not created by eksctl, was created in another region than audited, or its
    /// stack was deleted. eksctl cannot manage nodegroups of a cluster whose stack is gone, and none of
    /// the stack-output rules apply: they are reported as not checked.
    ///
    /// ## How to fix
    ///
    /// Nothing, if the cluster is not managed with eksctl. Otherwise check the region and
    /// `eksctl utils describe-stacks --cluster <name>`.
    code: "EKD101",
    slug: "cluster-stack-missing",
    severity: Info,
    since: "0.1.0",
    summary: "no eksctl cluster stack for the cluster (not eksctl-managed)",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.discovery.stack.is_some() || ctx.discovery.is_ambiguous() {
        return Ok(Vec::new());
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
    Ok(vec![finding])
}
