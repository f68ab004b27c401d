use serde_json::json;

use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::planning;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-cluster`: no EKS cluster of `metadata.name`
    /// exists in `metadata.region`. Stacks an earlier cluster of that name left behind are
    /// EKD703's (they break `create-cluster` too). When the cluster does not exist, the plan's
    /// target is audited with the stacks it may have left, and passes without them.
    ///
    /// ## Why it matters
    ///
    /// `eksctl create cluster` first creates the stack `eksctl-<name>-cluster` and EKS refuses a
    /// second cluster of a name (`ResourceInUseException`); either fails the command.
    ///
    /// ## How to fix
    ///
    /// Pick another `metadata.name`, or delete the existing cluster if it is a leftover.
    code: "EKD910",
    slug: "plan-cluster-exists",
    severity: Error,
    since: "0.1.0",
    summary: "the ClusterConfig creates a cluster whose name is taken in the region",
    breaks: [CreateCluster],
    inputs: [DescribeCluster],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateCluster]) else {
        return Ok(Vec::new());
    };
    // The cluster is not in the region: the name is free (its leftover stacks are EKD703's).
    if ctx.snapshot.cluster_missing() {
        return Ok(Vec::new());
    }
    let name = &ctx.cluster.name;
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "{} creates cluster {name}, which exists already in the region ({})",
                crate::text::inline(&plan.source),
                crate::text::inline(ctx.cluster.status.as_deref().unwrap_or("unknown status"))
            ),
        )
        .with_expected(Evidence::live(src::CLUSTER, json!(format!("no cluster {name}"))))
        .with_actual(Evidence::live(src::CLUSTER, json!(ctx.cluster.arn)))
        .with_impact("eksctl create cluster fails: the cluster stack or the cluster itself exists")
        .with_remediation("pick another metadata.name, or delete the existing cluster if it is a leftover", Vec::new()),
    ])
}
