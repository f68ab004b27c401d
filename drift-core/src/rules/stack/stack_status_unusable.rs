use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::report::Resource;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The cluster stack's status is not one in which eksctl can read and update it:
    /// `*_FAILED`, `ROLLBACK_COMPLETE` or `DELETE_IN_PROGRESS` (error), or another `*_IN_PROGRESS`
    /// (warning, the operation may still succeed). `CREATE_COMPLETE`, `UPDATE_COMPLETE`,
    /// `UPDATE_ROLLBACK_COMPLETE` and the import statuses are fine.
    ///
    /// ## Why it matters
    ///
    /// eksctl updates the cluster stack during `create nodegroup`, `upgrade cluster` and the
    /// `utils update-*` commands; CloudFormation refuses updates to a failed or busy stack, and the
    /// outputs of a half-applied stack may not describe the cluster.
    ///
    /// ## How to fix
    ///
    /// Read the stack events (`aws cloudformation describe-stack-events`), then continue the
    /// rollback or retry the update. For a stack in progress, wait and audit again.
    code: "EKD103",
    slug: "stack-status-unusable",
    severity: Error,
    since: "0.1.0",
    summary: "the cluster stack is failed, rolled back, or mid-operation",
    breaks: [CreateNodegroup, UpgradeCluster],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let status = stack.stack_status.as_str();
    if status.is_empty() {
        return Err(Skip("the cluster stack has no StackStatus".to_owned()));
    }
    if stack.status_usable() {
        return Ok(Vec::new());
    }
    let in_progress = status.ends_with("_IN_PROGRESS") && status != "DELETE_IN_PROGRESS";
    let name = stack.stack_name.as_str();
    let finding = RULE
        .finding(
            Resource::stack(stack),
            format!(
                "cluster stack {} is {}",
                stack.stack_name,
                stack.status_with_reason()
            ),
        )
        .with_unusable_status(stack, in_progress)
        .with_impact(if in_progress {
            "an operation is running on the cluster stack; eksctl commands that update it wait or fail until it ends, and its outputs may still change"
        } else {
            "eksctl commands that update the cluster stack (create nodegroup, upgrade, utils update-*) fail, and its outputs may not describe the cluster"
        })
        .with_remediation(
            if in_progress {
                "wait for the operation to finish, then audit again"
            } else {
                "read the stack events to see what failed; continue or roll back the update before running eksctl"
            },
            vec![
                Cmd::new("aws cloudformation describe-stack-events")
                    .opt("--stack-name", name)
                    .word("--max-items 20")
                    .region(ctx)
                    .done(),
                Cmd::new("aws cloudformation describe-stacks")
                    .opt("--stack-name", name)
                    .opt("--query", "Stacks[0].StackStatus")
                    .region(ctx)
                    .done(),
            ],
        );
    Ok(vec![finding])
}
