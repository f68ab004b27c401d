use std::collections::BTreeSet;

use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::replace_nodegroup;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::{TemplateLookup, is_resource_id, outputs};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every security group a nodegroup's instances get still exists: the groups of the
    /// launch-template version the nodegroup runs (an unmanaged eksctl nodegroup's own group
    /// and the shared node group; a managed nodegroup's custom launch template), and a managed
    /// nodegroup's remote-access groups. Groups the cluster stack's outputs or the cluster name
    /// are EKD302's and not repeated here. Needs the nodegroup inputs of EKD504,
    /// `describe-launch-template-versions.json` when a nodegroup runs a launch template, and
    /// `describe-security-groups.json`.
    ///
    /// ## Why it matters
    ///
    /// An instance cannot launch with a deleted security group: scaling and every rolling
    /// update (`eksctl upgrade nodegroup`) fail with `InvalidGroup.NotFound`, and EKS reports
    /// `Ec2SecurityGroupNotFound` on a managed nodegroup.
    ///
    /// ## How to fix
    ///
    /// Create a replacement nodegroup (eksctl makes its groups anew), move the workloads, then
    /// delete the old nodegroup.
    code: "EKD505",
    slug: "nodegroup-security-group-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "a security group a nodegroup's instances get no longer exists",
    breaks: [UpgradeNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, DescribeAutoScalingGroups, DescribeLaunchTemplateVersions, DescribeSecurityGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(existing) = &ctx.security_groups else {
        return Err(Skip(
            "no security group data (describe-security-groups.json absent)".to_owned(),
        ));
    };
    let managed = ctx.managed_nodegroups()?;
    let unmanaged = ctx.unmanaged_nodegroups()?;
    let snapshot = ctx.snapshot;
    // (nodegroup, group, where the nodegroup names it)
    let mut uses: Vec<(String, String, Evidence)> = Vec::new();
    let mut template_groups =
        |nodegroup: &str, id: Option<&str>, name: Option<&str>, version: Option<&str>| {
            match snapshot.launch_template_version(id, name, version) {
                None => Err(Skip(
                    "no launch template data (describe-launch-template-versions.json absent)"
                        .to_owned(),
                )),
                Some(TemplateLookup::Found(v)) => {
                    for g in v
                        .launch_template_data
                        .iter()
                        .flat_map(|d| d.security_groups())
                    {
                        uses.push((
                            nodegroup.to_owned(),
                            g.to_owned(),
                            Evidence::live(
                                src::LAUNCH_TEMPLATE_VERSIONS,
                                format!("{} version {}", v.launch_template_id, v.version_number),
                            ),
                        ));
                    }
                    Ok(())
                }
                // A missing template or version is EKD507's finding.
                Some(_) => Ok(()),
            }
        };
    for ng in &managed {
        if let Some(lt) = &ng.launch_template {
            template_groups(
                &ng.nodegroup_name,
                lt.id.as_deref(),
                lt.name.as_deref(),
                lt.version.as_deref(),
            )?;
        }
    }
    for u in &unmanaged {
        if let Some(lt) = u.group.launch_template_spec() {
            template_groups(
                u.nodegroup,
                lt.launch_template_id.as_deref(),
                lt.launch_template_name.as_deref(),
                lt.version.as_deref(),
            )?;
        }
    }
    for ng in &managed {
        let remote = ng.remote_access.iter().flat_map(|r| &r.source_security_groups);
        // EKS makes a remote-access group only for a nodegroup with remote access.
        let made = ng
            .resources
            .iter()
            .filter(|_| ng.remote_access.is_some())
            .filter_map(|r| r.remote_access_security_group.as_ref());
        for g in remote.chain(made) {
            uses.push((
                ng.nodegroup_name.clone(),
                g.clone(),
                Evidence::live(src::NODEGROUP, g.clone()),
            ));
        }
    }
    // Groups named by the cluster stack's outputs or by the cluster: EKD302 reports them.
    let mut elsewhere: BTreeSet<&str> = BTreeSet::new();
    if let Some(stack) = ctx.discovery.stack {
        elsewhere.extend(
            outputs::SECURITY_GROUPS
                .iter()
                .filter_map(|k| stack.output(k))
                .map(str::trim),
        );
    }
    let vpc = &ctx.cluster.resources_vpc_config;
    elsewhere.extend(vpc.security_group_ids.iter().map(String::as_str));
    elsewhere.extend(vpc.cluster_security_group_id.as_deref());

    let mut seen = BTreeSet::new();
    let mut findings = Vec::new();
    for (nodegroup, group, evidence) in uses {
        // A value that is not a group ID is never looked up, so it is not reported deleted.
        if !is_resource_id(&group, "sg")
            || existing.contains_key(group.as_str())
            || elsewhere.contains(group.as_str())
            || !seen.insert((nodegroup.clone(), group.clone()))
        {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::security_group(&group),
                format!("nodegroup {nodegroup} launches instances with security group {group}, which no longer exists"),
            )
            .with_expected(evidence)
            .with_actual(Evidence::live(src::SECURITY_GROUPS, serde_json::Value::Null))
            .with_impact(
                "instances cannot launch with a deleted security group: scaling and eksctl upgrade nodegroup fail with InvalidGroup.NotFound",
            )
            .with_remediation(
                "replace the nodegroup: create a new one, move the workloads, delete the old one",
                vec![replace_nodegroup(
                    ctx,
                    &nodegroup,
                    "1. create a replacement nodegroup (eksctl create nodegroup -f CONFIG)",
                )],
            ),
        );
    }
    Ok(findings)
}
