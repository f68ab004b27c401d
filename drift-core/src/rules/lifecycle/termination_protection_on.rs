use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// An eksctl stack of the cluster (tagged with its name) has termination protection on
    /// (`EnableTerminationProtection` in `describe-stacks`).
    ///
    /// ## Why it matters
    ///
    /// eksctl turns termination protection on for its stacks from 0.218, and from the same
    /// release turns it off itself before deleting a stack (`DeleteStackBySpec`), which needs
    /// `cloudformation:UpdateTerminationProtection`. So it stops `eksctl delete cluster` and
    /// `eksctl delete nodegroup` only for eksctl older than 0.218 or a caller without that
    /// permission, and it stops the console, aws-nuke, Terraform and scripts that call
    /// `DeleteStack`. Reported as info: deleting is the point of the protection.
    ///
    /// ## How to fix
    ///
    /// Nothing, if the protection is wanted. Before deleting with an older eksctl or another tool,
    /// or without `cloudformation:UpdateTerminationProtection`, turn it off for the stacks to
    /// delete.
    code: "EKD701",
    slug: "termination-protection-on",
    severity: Info,
    since: "0.1.0",
    summary: "an eksctl stack of the cluster has termination protection: eksctl < 0.218, the console, aws-nuke and Terraform stop on it",
    breaks: [],
    inputs: [DescribeStacks],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let cluster = &ctx.cluster.name;
    let ours: Vec<_> = ctx
        .snapshot
        .stacks
        .iter()
        .filter(|s| s.cluster_name_tag() == Some(cluster.as_str()))
        .collect();
    if !ours.is_empty()
        && ours
            .iter()
            .all(|s| s.enable_termination_protection.is_none())
    {
        return Err(Skip(
            "describe-stacks.json does not say whether termination protection is on (EnableTerminationProtection)".to_owned(),
        ));
    }
    let findings = ours
        .into_iter()
        .filter(|s| s.enable_termination_protection == Some(true))
        .map(|stack| {
            RULE.finding(
                Resource::stack(stack),
                format!("stack {} has termination protection on", stack.stack_name),
            )
            .with_expected(Evidence::live(src::STACKS, false))
            .with_actual(Evidence::stack(stack, true.into()))
            .with_impact(
                "eksctl >= 0.218 turns it off itself before deleting (needs cloudformation:UpdateTerminationProtection); eksctl < 0.218, the console, aws-nuke, Terraform and scripts calling DeleteStack stop on it",
            )
            .with_remediation(
                "nothing if the protection is wanted; before deleting with another tool or an older eksctl, turn it off for the stacks to delete",
                vec![
                    Cmd::new("aws cloudformation update-termination-protection")
                        .word("--no-enable-termination-protection")
                        .opt("--stack-name", &stack.stack_name)
                        .region(ctx)
                        .done(),
                ],
            )
        })
        .collect();
    Ok(findings)
}
