use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every usable eksctl nodegroup stack of the cluster still has its nodegroup: a managed one
    /// (`alpha.eksctl.io/nodegroup-type=managed`) its EKS nodegroup in `list-nodegroups.json`, an
    /// unmanaged one its auto scaling group in `describe-auto-scaling-groups.json` (the group
    /// CloudFormation tagged with the stack's name). Each kind is not checked without its file.
    /// Stacks in a failed or busy state are EKD501's.
    ///
    /// ## Why it matters
    ///
    /// The nodegroup was deleted outside eksctl and the stack stayed. For an unmanaged
    /// nodegroup, `eksctl get nodegroup` reads every stack's auto scaling group and fails as a
    /// whole on the missing one ("getting autoscalinggroup desired capacity"), and scaling it
    /// fails. For a managed one, `eksctl upgrade nodegroup` fails on `DescribeNodegroup`, and
    /// `eksctl create nodegroup` with the same name fails while the stack exists. Deleting the
    /// stack still works.
    ///
    /// ## How to fix
    ///
    /// Delete the leftover stack (`eksctl delete nodegroup`, or `aws cloudformation
    /// delete-stack` when eksctl cannot read it).
    code: "EKD503",
    slug: "stack-without-nodegroup",
    severity: Warning,
    since: "0.1.0",
    summary: "a nodegroup stack whose EKS nodegroup or auto scaling group no longer exists",
    breaks: [GetNodegroup, UpgradeNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, DescribeAutoScalingGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stacks: Vec<_> = ctx
        .nodegroup_stacks()
        .into_iter()
        .filter(|(s, _)| s.status_usable())
        .collect();
    let names = ctx.snapshot.nodegroup_names.as_ref();
    let groups = ctx.snapshot.auto_scaling_groups.as_ref();
    let mut missing_input = Vec::new();
    if names.is_none() && stacks.iter().any(|(s, _)| s.nodegroup_managed()) {
        missing_input.push("managed nodegroups (list-nodegroups.json absent)");
    }
    if groups.is_none() && stacks.iter().any(|(s, _)| !s.nodegroup_managed()) {
        missing_input.push("unmanaged nodegroups (describe-auto-scaling-groups.json absent)");
    }
    if !missing_input.is_empty() {
        return Err(Skip(format!("cannot check {}", missing_input.join(" or "))));
    }
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for (stack, nodegroup) in stacks {
        let managed = stack.nodegroup_managed();
        let gone = if managed {
            names.is_some_and(|n| !n.iter().any(|x| x == nodegroup))
        } else {
            groups.is_some() && ctx.auto_scaling_group_of(stack, nodegroup).is_none()
        };
        if !gone {
            continue;
        }
        let (what, source, impact, breaks): (&str, &str, &str, &[Operation]) = if managed {
            (
                "its EKS managed nodegroup",
                src::LIST_NODEGROUPS,
                "eksctl upgrade nodegroup fails on DescribeNodegroup, and eksctl create nodegroup with this name fails while the stack exists",
                &[Operation::UpgradeNodegroup],
            )
        } else {
            (
                "its auto scaling group",
                src::AUTO_SCALING_GROUPS,
                "eksctl get nodegroup fails for the whole cluster on the missing auto scaling group, and scaling this nodegroup fails",
                &[Operation::GetNodegroup, Operation::UpgradeNodegroup],
            )
        };
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "nodegroup stack {} (nodegroup {nodegroup}) remains, but {what} no longer exists",
                    stack.stack_name
                ),
            )
            .with_breaks(breaks)
            .with_expected(Evidence::stack(stack, nodegroup.into()))
            .with_actual(Evidence::live(source, serde_json::Value::Null))
            .with_impact(impact)
            .with_remediation(
                "delete the leftover stack",
                vec![
                    Cmd::new("eksctl delete nodegroup")
                        .opt("--cluster", cluster)
                        .opt("--name", nodegroup)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
