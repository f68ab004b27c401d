use crate::report::{Evidence, Resource, src};
use crate::rules::context::ROLE_OUTPUT;
use crate::rules::remedy::recreate_iamserviceaccount;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The IAM role each eksctl IRSA stack created (its `Role1` output) still exists. Needs
    /// `list-roles.json` (covering the roles the stacks name).
    ///
    /// ## Why it matters
    ///
    /// The service account still names the role, so its pods get `AccessDenied`; and `eksctl
    /// create iamserviceaccount` sees the stack and reports nothing to do (eksctl #4941), so
    /// re-running it does not bring the role back.
    ///
    /// ## How to fix
    ///
    /// Delete the iamserviceaccount with eksctl (stack and service account), then create it
    /// again.
    code: "EKD603",
    slug: "irsa-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "the IAM role an eksctl iamserviceaccount or addon stack created no longer exists",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stacks = ctx.irsa_stacks();
    if stacks.is_empty() {
        return Ok(Vec::new());
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let mut findings = Vec::new();
    for stack in stacks {
        let Some(arn) = stack.output(ROLE_OUTPUT).map(str::trim) else {
            continue;
        };
        if role_key(arn).is_none() || ctx.role(arn).is_some() {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::IAM::Role", arn),
                format!(
                    "role {arn} of stack {} no longer exists",
                    stack.stack_name
                ),
            )
            .with_expected(Evidence::output(stack, ROLE_OUTPUT))
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact(
                "pods of the service account get AccessDenied, and eksctl create iamserviceaccount reports nothing to do while the stack exists",
            )
            .with_remediation(
                "delete the iamserviceaccount with eksctl (stack and service account), then create it again",
                vec![recreate_iamserviceaccount(ctx, stack)],
            ),
        );
    }
    Ok(findings)
}
