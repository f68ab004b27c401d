use serde_json::json;

use crate::report::{Evidence, Resource};
use crate::rules::deletion::eksctl_stacks;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every eksctl addon stack of the cluster (`eksctl-<cluster>-addon-<addon>`, the IAM role
    /// eksctl makes for an addon, and `eksctl-<cluster>-addon-<addon>-podidentityrole-<sa>`,
    /// its pod identity roles) belongs to an addon EKS still lists (`eks:ListAddons`).
    /// iamserviceaccount stacks (`eksctl-<cluster>-addon-iamserviceaccount-…`) are not addon
    /// stacks and are left to the identity rules.
    ///
    /// ## Why it matters
    ///
    /// An addon deleted outside eksctl (the console, `aws eks delete-addon`) leaves its role
    /// stack behind. `eksctl create addon` for that addon creates the stack again under the
    /// same name (`manager.MakeAddonStackName`, `pkg/actions/addon/create.go`), and
    /// CloudFormation refuses it (`AlreadyExistsException`); the role also lingers with its
    /// policies. It breaks `create-addon` when eksctl makes a role for the addon (IRSA or pod
    /// identity without a role you give).
    ///
    /// ## How to fix
    ///
    /// Delete the leftover stack (`aws cloudformation delete-stack`), then create the addon.
    code: "EKD808",
    slug: "addon-stack-without-addon",
    severity: Warning,
    since: "0.1.0",
    summary: "an eksctl addon stack remains for an addon EKS no longer lists: creating that addon again fails on the stack",
    breaks: [CreateAddon],
    inputs: [DescribeStacks, DescribeCluster, ListAddons],
}

/// The addon an addon stack's name gives, or `None` for any other stack.
fn addon_of<'a>(cluster: &str, stack: &'a str) -> Option<&'a str> {
    let rest = stack.strip_prefix(&format!("eksctl-{cluster}-addon-"))?;
    if rest.starts_with("iamserviceaccount-") {
        return None;
    }
    let addon = rest
        .split_once("-podidentityrole-")
        .map_or(rest, |(addon, _)| addon);
    (!addon.is_empty()).then_some(addon)
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(listed) = &ctx.snapshot.addon_names else {
        return Err(Skip("no addon list (list-addons.json absent)".to_owned()));
    };
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for stack in eksctl_stacks(ctx) {
        let Some(addon) = addon_of(cluster, &stack.stack_name) else {
            continue;
        };
        if listed.iter().any(|a| a == addon) {
            continue;
        }
        let name = &stack.stack_name;
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "stack {name} ({}) remains for addon {addon}, which EKS no longer lists",
                    crate::text::inline(&stack.stack_status)
                ),
            )
            .with_expected(Evidence::live("eks:ListAddons", json!([addon])))
            .with_actual(Evidence::live("eks:ListAddons", json!(listed)))
            .with_impact(format!(
                "eksctl create addon {addon} fails: CloudFormation refuses the role stack it creates, which exists already"
            ))
            .with_remediation(
                "delete the leftover stack, then create the addon",
                vec![
                    Cmd::new("aws cloudformation delete-stack")
                        .opt("--stack-name", name)
                        .region(ctx)
                        .done(),
                    Cmd::new("eksctl create addon")
                        .opt("--cluster", cluster)
                        .opt("--name", addon)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::addon_of;

    #[test]
    fn only_addon_stacks_name_an_addon() {
        assert_eq!(
            addon_of("prod", "eksctl-prod-addon-aws-ebs-csi-driver"),
            Some("aws-ebs-csi-driver")
        );
        assert_eq!(
            addon_of(
                "prod",
                "eksctl-prod-addon-aws-ebs-csi-driver-podidentityrole-ebs-csi-controller-sa"
            ),
            Some("aws-ebs-csi-driver")
        );
        assert_eq!(
            addon_of("prod", "eksctl-prod-addon-iamserviceaccount-kube-system-lbc"),
            None
        );
        assert_eq!(addon_of("prod", "eksctl-prod-nodegroup-ng-1"), None);
        assert_eq!(addon_of("prod", "eksctl-prod-2-addon-vpc-cni"), None);
    }
}
