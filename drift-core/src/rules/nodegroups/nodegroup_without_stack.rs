use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::remedy::{Cmd, Script};
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::tags;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every managed nodegroup EKS lists for the cluster (`list-nodegroups.json`) has an eksctl
    /// nodegroup stack (`eksctl-<cluster>-nodegroup-<ng>` with the nodegroup-name tag). Without
    /// `list-nodegroups.json` the rule is not checked.
    ///
    /// ## Why it matters
    ///
    /// The nodegroup was made outside eksctl (console, Terraform, `aws eks create-nodegroup`), or
    /// its stack was deleted. `eksctl delete cluster` on a cluster eksctl created deletes only
    /// the nodegroups it has stacks for (`pkg/actions/cluster/owned.go`); EKS then refuses to
    /// delete a cluster that still has a nodegroup, so the cluster stack ends in
    /// `DELETE_FAILED`. eksctl releases before unowned-nodegroup support also fail `upgrade
    /// nodegroup` with "Stack … does not exist". On a cluster without an eksctl cluster stack
    /// eksctl deletes such nodegroups itself, so the finding is only info there.
    ///
    /// ## How to fix
    ///
    /// If the nodegroup is wanted, keep it, and delete it (`eksctl delete nodegroup` handles a
    /// nodegroup without a stack, or `aws eks delete-nodegroup`) before `eksctl delete
    /// cluster`. If it is a leftover, delete it now.
    code: "EKD502",
    slug: "nodegroup-without-stack",
    severity: Warning,
    since: "0.1.0",
    summary: "an EKS managed nodegroup has no eksctl stack: eksctl delete cluster leaves it and then fails",
    breaks: [DeleteCluster],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(names) = &ctx.snapshot.nodegroup_names else {
        return Err(Skip(
            "no managed nodegroup list (list-nodegroups.json absent)".to_owned(),
        ));
    };
    let with_stack: std::collections::HashSet<&str> =
        ctx.nodegroup_stacks().iter().map(|(_, ng)| *ng).collect();
    let owned = ctx.discovery.stack.is_some();
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for name in names {
        if with_stack.contains(&name.as_str()) {
            continue;
        }
        let described = ctx.nodegroup(name);
        let by_eksctl = described.is_some_and(|n| n.tags.contains_key(tags::NODEGROUP_NAME));
        let origin = if by_eksctl {
            "its tags say eksctl made it, so its stack was deleted"
        } else {
            "it was made outside eksctl, or its stack was deleted"
        };
        let delete = Cmd::new("eksctl delete nodegroup")
            .opt("--cluster", cluster)
            .opt("--name", name)
            .region(ctx);
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::Nodegroup", name),
                format!("managed nodegroup {name} has no eksctl stack ({origin})"),
            )
            .with_severity(if owned {
                Severity::Warning
            } else {
                Severity::Info
            })
            .with_breaks(if owned { &[Operation::DeleteCluster] } else { &[] })
            .with_expected(Evidence::live(
                src::STACKS,
                format!("eksctl-{cluster}-nodegroup-{name}"),
            ))
            .with_actual(Evidence::live(src::LIST_NODEGROUPS, name.clone()))
            .with_impact(if owned {
                "eksctl delete cluster deletes only the nodegroups it has stacks for; EKS refuses to delete a cluster with a nodegroup left, so the cluster stack ends in DELETE_FAILED"
            } else {
                "the cluster has no eksctl cluster stack; eksctl deletes nodegroups without a stack itself, so nothing breaks"
            })
            .with_remediation(
                "keep the nodegroup if it is wanted and delete it before deleting the cluster; delete it now if it is a leftover",
                vec![
                    Script::new()
                        .comment("before eksctl delete cluster, or now if the nodegroup is a leftover:")
                        .cmd(delete)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
