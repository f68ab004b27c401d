use std::collections::BTreeSet;

use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::remedy::{Cmd, Script};
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// No eksctl stack (tagged `alpha.eksctl.io/cluster-name`) names a cluster that does not
    /// exist in the region (`list-clusters.json`). A live audit reads `ListClusters` once per
    /// region and reports the stacks of each missing cluster as a target of their own; `-c NAME`
    /// for a cluster that is gone audits the stacks it left. Offline, without
    /// `list-clusters.json`, stacks tagged for another cluster cannot be judged and the rule
    /// is not checked.
    ///
    /// ## Why it matters
    ///
    /// The cluster was deleted outside eksctl, or `eksctl delete cluster` stopped half way. The
    /// stacks keep their resources (IAM roles, security groups, a VPC and its NAT gateway,
    /// which costs money), their exports block other deletions, and `eksctl create cluster`
    /// with the same name fails because `eksctl-<cluster>-cluster` already exists.
    ///
    /// ## How to fix
    ///
    /// Review what the stacks hold, then delete them: nodegroup and addon stacks first, the
    /// cluster stack last (turn termination protection off first where it is on, EKD701).
    ///
    /// A stack in a `*_IN_PROGRESS` state belongs to a command that is running (eksctl creates
    /// the cluster stack before `CreateCluster`; a delete in progress has lost its cluster
    /// already): it is reported at info, naming the state, with nothing to delete.
    code: "EKD703",
    slug: "orphaned-eksctl-stack",
    severity: Warning,
    since: "0.1.0",
    summary: "an eksctl stack tagged for a cluster that does not exist in the region",
    breaks: [CreateCluster],
    inputs: [DescribeStacks, ListClusters],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let stacks: Vec<_> = ctx
        .snapshot
        .stacks
        .iter()
        .filter(|s| s.stack_status != "DELETE_COMPLETE")
        .filter_map(|s| s.cluster_name_tag().map(|c| (s, c)))
        .collect();
    let Some(clusters) = &ctx.snapshot.clusters else {
        // The audited cluster exists (it was described); only stacks of others are in doubt.
        let others: BTreeSet<&str> = stacks
            .iter()
            .map(|(_, c)| *c)
            .filter(|c| *c != ctx.cluster.name)
            .collect();
        if others.is_empty() {
            return Ok(Vec::new());
        }
        return Err(Skip(format!(
            "describe-stacks.json holds stacks tagged for other clusters ({}), and which clusters exist is unknown (list-clusters.json absent)",
            others.len()
        )));
    };
    let mut findings = Vec::new();
    for (stack, cluster) in stacks {
        if clusters.iter().any(|c| c == cluster) {
            continue;
        }
        // A command is running on it: a cluster being created has its stack before
        // `CreateCluster` (so ListClusters does not list it yet), and a delete in progress has
        // lost its cluster already. Neither is an orphan; worth knowing only.
        if stack.stack_status.ends_with("_IN_PROGRESS") {
            findings.push(
                RULE.finding(
                    Resource::stack(stack),
                    format!(
                        "stack {} is tagged for cluster {cluster}, which does not exist in the region, and is {}: an eksctl command is running on it",
                        stack.stack_name, stack.stack_status
                    ),
                )
                .with_severity(crate::report::Severity::Info)
                .with_breaks(&[])
                .with_expected(Evidence::live(src::LIST_CLUSTERS, cluster.to_owned()))
                .with_actual(Evidence::stack(stack, stack.stack_status.clone().into()))
                .with_impact(
                    "none yet: a cluster being created is listed once EKS has it; a delete in progress removes the stack",
                )
                .with_remediation(
                    "wait for the command to finish, then audit again: a stack left in a *_FAILED state is an orphan",
                    vec![
                        Cmd::new("aws cloudformation describe-stacks")
                            .opt("--stack-name", &stack.stack_name)
                            .word("--query 'Stacks[0].StackStatus'")
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
            continue;
        }
        // The cluster stack last: eksctl's own order.
        let last = stack.stack_name.ends_with("-cluster") && stack.nodegroup_name_tag().is_none();
        let mut fix = Script::new().comment(if last {
            "after reviewing what the stack holds, and after the cluster's other stacks are deleted:"
        } else {
            "after reviewing what the stack holds:"
        });
        if stack.enable_termination_protection == Some(true) {
            fix = fix.cmd(
                Cmd::new("aws cloudformation update-termination-protection")
                    .word("--no-enable-termination-protection")
                    .opt("--stack-name", &stack.stack_name)
                    .region(ctx),
            );
        }
        fix = fix.cmd(
            Cmd::new("aws cloudformation delete-stack")
                .opt("--stack-name", &stack.stack_name)
                .region(ctx),
        );
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "stack {} is tagged for cluster {cluster}, which does not exist in the region",
                    stack.stack_name
                ),
            )
            .with_breaks(if last { &[Operation::CreateCluster] } else { &[] })
            .with_expected(Evidence::live(src::LIST_CLUSTERS, cluster.to_owned()))
            .with_actual(Evidence::live(src::LIST_CLUSTERS, clusters.clone()))
            .with_impact(if last {
                "the stack keeps its resources (IAM roles, security groups, perhaps a VPC with a NAT gateway), its exports block other deletions, and eksctl create cluster with this name fails while it exists"
            } else {
                "the stack keeps its resources (IAM roles, instance profiles, security groups) and its exports block other deletions"
            })
            .with_remediation(
                "review, then delete the leftover stacks: nodegroup and addon stacks first, the cluster stack last",
                vec![fix.done()],
            ),
        );
    }
    Ok(findings)
}
