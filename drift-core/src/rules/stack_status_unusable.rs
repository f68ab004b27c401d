#![doc = include_str!("docs/stack-status-unusable.md")]

use super::remedy::Cmd;
use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD103",
    slug: "stack-status-unusable",
    summary: "the cluster stack is failed, rolled back, or mid-operation",
    severity: Severity::Error,
    doc: include_str!("docs/stack-status-unusable.md"),
    check,
};

/// Statuses in which eksctl can read and update the stack.
const USABLE: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
];

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let status = stack.stack_status.as_str();
    if status.is_empty() {
        return Outcome::NotChecked("the cluster stack has no StackStatus".to_owned());
    }
    if USABLE.contains(&status) {
        return Outcome::Checked(Vec::new());
    }
    let in_progress = status.ends_with("_IN_PROGRESS") && status != "DELETE_IN_PROGRESS";
    let severity = if in_progress {
        Severity::Warning
    } else {
        Severity::Error
    };
    let reason = stack
        .stack_status_reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    let name = stack.stack_name.as_str();
    let finding = RULE
        .finding(
            Resource::stack(stack),
            format!("cluster stack {} is {status}{reason}", stack.stack_name),
        )
        .with_severity(severity)
        .with_expected(Evidence::live(src::STACKS, "CREATE_COMPLETE | UPDATE_COMPLETE"))
        .with_actual(Evidence::stack(stack, status.into()))
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
    Outcome::Checked(vec![finding])
}
