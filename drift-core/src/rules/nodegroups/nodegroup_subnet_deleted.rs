use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::remedy::replace_nodegroup;
use crate::rules::{Checked, Context};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet a nodegroup launches into still exists: a managed nodegroup's `subnets`
    /// (`describe-nodegroup`), an unmanaged eksctl nodegroup's auto scaling group
    /// `VPCZoneIdentifier`. Needs `list-nodegroups.json` with a `describe-nodegroup/` file per
    /// nodegroup, and `describe-auto-scaling-groups.json` when there are unmanaged nodegroups;
    /// `describe-subnets.json` must cover these subnets too.
    ///
    /// ## Why it matters
    ///
    /// Nodes cannot launch into a deleted subnet. EKS marks a managed nodegroup
    /// `Ec2SubnetNotFound` and refuses version and launch-template updates (`eksctl upgrade
    /// nodegroup`) and scaling; an auto scaling group fails every launch in that subnet, and a
    /// CloudFormation update of the nodegroup stack fails validation.
    ///
    /// ## How to fix
    ///
    /// A nodegroup's subnets cannot be changed in place. Create a replacement nodegroup in
    /// subnets that exist (`eksctl create nodegroup` with an explicit `subnets:` list), move the
    /// workloads, then delete the old nodegroup.
    code: "EKD504",
    slug: "nodegroup-subnet-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "a subnet a nodegroup launches into no longer exists",
    breaks: [UpgradeNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, DescribeAutoScalingGroups, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let managed = ctx.managed_nodegroups()?;
    let unmanaged = ctx.unmanaged_nodegroups()?;
    let mut uses: Vec<(String, Vec<&str>, Evidence)> = Vec::new();
    for ng in managed {
        uses.push((
            ng.nodegroup_name.clone(),
            ng.subnets.iter().map(String::as_str).collect(),
            Evidence::live(src::NODEGROUP, ng.subnets.clone()),
        ));
    }
    for u in unmanaged {
        uses.push((
            u.nodegroup.to_owned(),
            u.group.subnet_ids(),
            Evidence::live(
                src::AUTO_SCALING_GROUPS,
                u.group.vpc_zone_identifier.clone().unwrap_or_default(),
            ),
        ));
    }
    let mut findings = Vec::new();
    for (nodegroup, subnets, evidence) in uses {
        // A value that is not a subnet ID is never looked up, so it is not reported deleted.
        let gone: Vec<&str> = subnets
            .iter()
            .copied()
            .filter(|id| is_resource_id(id, "subnet") && !ctx.subnets.contains_key(id))
            .collect();
        for id in &gone {
            let left = subnets.len() - gone.len();
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!(
                        "nodegroup {nodegroup} launches into subnet {id}, which no longer exists ({left} of its {} subnets left)",
                        subnets.len()
                    ),
                )
                .with_breaks(&[Operation::UpgradeNodegroup])
                .with_expected(evidence.clone())
                .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
                .with_impact(
                    "nodes cannot launch into the deleted subnet: EKS reports Ec2SubnetNotFound and refuses nodegroup updates and scaling; an auto scaling group fails its launches there",
                )
                .with_remediation(
                    "replace the nodegroup: create one in subnets that exist, move the workloads, delete the old one",
                    vec![replace_nodegroup(
                        ctx,
                        &nodegroup,
                        "1. create a replacement nodegroup with an explicit subnets: list of existing subnets (eksctl create nodegroup -f CONFIG)",
                    )],
                ),
            );
        }
    }
    Ok(findings)
}
