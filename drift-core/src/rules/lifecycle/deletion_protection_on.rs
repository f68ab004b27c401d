use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The live cluster has EKS deletion protection on (`deletionProtection: true` in
    /// `describe-cluster`, an EKS setting since 2025).
    ///
    /// ## Why it matters
    ///
    /// EKS refuses `DeleteCluster` while the protection is on. `eksctl delete cluster` deletes
    /// the nodegroups, the addon and service-account stacks first (`pkg/actions/cluster/owned.go`)
    /// and only then the cluster stack, whose `AWS::EKS::Cluster` then fails to delete: the run
    /// ends with the workloads' nodes gone, the cluster still there and the stack in
    /// `DELETE_FAILED`. eksctl neither checks nor turns the protection off.
    ///
    /// ## How to fix
    ///
    /// If the cluster is really to go, turn the protection off first
    /// (`aws eks update-cluster-config --no-deletion-protection`), wait for the update, then
    /// delete. Otherwise nothing: the protection is doing its job.
    code: "EKD704",
    slug: "deletion-protection-on",
    severity: Warning,
    since: "0.1.0",
    summary: "EKS deletion protection is on: `eksctl delete cluster` deletes the nodegroups, then fails on the cluster",
    breaks: [DeleteCluster],
    inputs: [DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.cluster.deletion_protection != Some(true) {
        return Ok(Vec::new());
    }
    let name = &ctx.cluster.name;
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!("cluster {name} has deletion protection on"),
        )
        .with_expected(Evidence::live(src::CLUSTER, false))
        .with_actual(Evidence::live(src::CLUSTER, true))
        .with_impact(
            "EKS refuses DeleteCluster: eksctl delete cluster removes the nodegroups and the other stacks first, then the cluster stack fails (DELETE_FAILED) with the cluster still there",
        )
        .with_remediation(
            "if the cluster is to be deleted, turn deletion protection off, wait for the update, then run eksctl delete cluster; otherwise leave it on",
            vec![
                Cmd::new("aws eks update-cluster-config")
                    .opt("--name", name)
                    .word("--no-deletion-protection")
                    .region(ctx)
                    .done(),
                Cmd::new("aws eks wait cluster-active")
                    .opt("--name", name)
                    .region(ctx)
                    .done(),
            ],
        ),
    ])
}
