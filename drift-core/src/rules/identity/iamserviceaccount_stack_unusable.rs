use crate::report::{Operation, Resource};
use crate::rules::remedy::failed_stack;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every eksctl identity stack of the cluster — `addon-iamserviceaccount-<ns>-<sa>`,
    /// `addon-<addon>` and `podidentityrole-<ns>-<sa>` — is in a status eksctl can work with.
    /// Failed or rolled-back statuses are errors; an operation in progress is a warning.
    ///
    /// ## Why it matters
    ///
    /// A rolled-back creation holds no role, but `eksctl create iamserviceaccount` sees the stack
    /// and does nothing; `DELETE_FAILED` makes `eksctl delete iamserviceaccount` and `eksctl
    /// delete cluster` fail; `UPDATE_ROLLBACK_FAILED` refuses every update of the role.
    ///
    /// ## How to fix
    ///
    /// Read the stack events. Delete a rolled-back or failed stack (for `DELETE_FAILED`, after
    /// removing what blocked the deletion) and create the service account again; continue a
    /// failed rollback.
    code: "EKD604",
    slug: "iamserviceaccount-stack-unusable",
    severity: Error,
    since: "0.1.0",
    summary: "an iamserviceaccount, addon-role or pod-identity-role stack is failed, rolled back or stuck",
    breaks: [CreateIamserviceaccount, DeleteCluster],
    inputs: [DescribeStacks],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let mut findings = Vec::new();
    for stack in ctx.identity_stacks() {
        let status = stack.stack_status.as_str();
        if status.is_empty() || stack.status_usable() {
            continue;
        }
        let in_progress = status.ends_with("_IN_PROGRESS");
        let (impact, breaks): (&str, &[Operation]) = match status {
            "DELETE_FAILED" => (
                "eksctl delete iamserviceaccount and eksctl delete cluster fail until what blocked the deletion is removed",
                &[Operation::DeleteCluster],
            ),
            "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => (
                "the role was never created, but eksctl create iamserviceaccount sees the stack and does nothing",
                &[Operation::CreateIamserviceaccount],
            ),
            _ if in_progress => (
                "an operation is running on the stack; eksctl commands on this role wait or fail until it ends",
                &[],
            ),
            _ => (
                "CloudFormation refuses updates of the stack: the role cannot be changed through eksctl",
                &[],
            ),
        };
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "identity stack {} is {}",
                    stack.stack_name,
                    stack.status_with_reason()
                ),
            )
            .with_breaks(breaks)
            .with_unusable_status(stack, in_progress)
            .with_impact(impact)
            .with_remediation(
                "read the stack events, then clear the failed state before running eksctl on this service account",
                failed_stack(ctx, stack),
            ),
        );
    }
    Ok(findings)
}
