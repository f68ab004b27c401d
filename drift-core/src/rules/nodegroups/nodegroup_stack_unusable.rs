use crate::report::{Operation, Resource};
use crate::rules::remedy::failed_stack;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every eksctl nodegroup stack of the cluster (`eksctl-<cluster>-nodegroup-<ng>`, tagged
    /// with the cluster's name) is in a status eksctl can work with. Failed, rolled-back or stuck
    /// statuses (`ROLLBACK_COMPLETE`, `ROLLBACK_FAILED`, `CREATE_FAILED`, `DELETE_FAILED`,
    /// `UPDATE_FAILED`, `UPDATE_ROLLBACK_FAILED`, …) are errors; an operation in progress is a
    /// warning.
    ///
    /// ## Why it matters
    ///
    /// A stack in `ROLLBACK_COMPLETE` or `CREATE_FAILED` holds no nodegroup, but its name is taken
    /// until it is deleted, so `eksctl create nodegroup` with that name fails, and eksctl's listing
    /// skips it (eksctl #8712). `DELETE_FAILED` makes `eksctl delete nodegroup` and `eksctl
    /// delete cluster` fail until whatever blocked the deletion is removed.
    /// `UPDATE_ROLLBACK_FAILED` refuses every update (`eksctl upgrade nodegroup`, scaling) until
    /// the rollback is continued.
    ///
    /// ## How to fix
    ///
    /// Read the stack events to see what failed. A rolled-back creation: delete the stack, then
    /// create the nodegroup again. `DELETE_FAILED`: remove what blocked the deletion (often a
    /// security group still in use, or an instance profile) and delete again.
    /// `UPDATE_ROLLBACK_FAILED`: `aws cloudformation continue-update-rollback`.
    code: "EKD501",
    slug: "nodegroup-stack-unusable",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup stack is failed, rolled back, or stuck: eksctl skips or cannot change it",
    breaks: [UpgradeNodegroup, DeleteNodegroup, DeleteCluster],
    inputs: [DescribeStacks],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for stack in &ctx.snapshot.stacks {
        let Some(nodegroup) = stack.nodegroup_of(cluster) else {
            continue;
        };
        let status = stack.stack_status.as_str();
        if status.is_empty() || stack.status_usable() || status == "DELETE_COMPLETE" {
            continue;
        }
        let in_progress = status.ends_with("_IN_PROGRESS");
        let impact = match status {
            "DELETE_FAILED" => "eksctl delete nodegroup and eksctl delete cluster fail until what blocked the deletion is removed",
            "UPDATE_ROLLBACK_FAILED" => "CloudFormation refuses every update of the stack: eksctl upgrade nodegroup and scaling fail until the rollback is continued",
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => "the nodegroup was never created; eksctl skips the stack (eksctl #8712), and eksctl create nodegroup with this name fails while the stack exists",
            _ if in_progress => "an operation is running on the nodegroup stack; eksctl commands on this nodegroup wait or fail until it ends",
            _ => "eksctl commands that update or delete this nodegroup fail while its stack is in this state",
        };
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "nodegroup stack {} (nodegroup {nodegroup}) is {}",
                    stack.stack_name,
                    stack.status_with_reason()
                ),
            )
            .with_breaks(match status {
                "DELETE_FAILED" => &[Operation::DeleteNodegroup, Operation::DeleteCluster],
                "UPDATE_ROLLBACK_FAILED" => &[Operation::UpgradeNodegroup],
                // Only a new nodegroup of the same name fails; others are not blocked.
                "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => &[],
                _ if in_progress => &[Operation::UpgradeNodegroup, Operation::DeleteNodegroup],
                _ => &[Operation::UpgradeNodegroup, Operation::DeleteNodegroup],
            })
            .with_unusable_status(stack, in_progress)
            .with_impact(impact)
            .with_remediation(
                "read the stack events, then clear the failed state (delete a rolled-back or failed stack, continue a failed rollback) before running eksctl on this nodegroup",
                failed_stack(ctx, stack),
            ),
        );
    }
    Ok(findings)
}
