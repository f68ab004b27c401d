use std::collections::BTreeSet;

use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The live control-plane subnets (`resourcesVpcConfig.subnetIds`) against what the stack
    /// recorded. When the bundle holds the template, the recorded list is the template's
    /// `ControlPlane.Properties.ResourcesVpcConfig.SubnetIds` (literal IDs, or `Ref`s resolved through
    /// the stack resources) and any difference is reported. Without it, the recorded list is the union
    /// of the subnet outputs, and only live subnets unknown to the stack are reported, because the
    /// outputs legitimately hold more than the control-plane subnets (`vpc.controlPlaneSubnetIDs`, Auto
    /// Mode, Outposts, local zones). A cluster created with `vpc.controlPlaneSubnetIDs` is not drift.
    ///
    /// ## Why it matters
    ///
    /// EKS allows changing control-plane subnets since October 2023 (console,
    /// `aws eks update-cluster-config`, `eksctl utils update-cluster-vpc-config`), and none of these
    /// touch the stack. New nodegroups keep going to the subnets the stack recorded — often the very ones
    /// the change was meant to retire.
    ///
    /// ## How to fix
    ///
    /// Give new nodegroups explicit subnets, and correct the subnet outputs with a reviewed change
    /// set (the finding lists the commands).
    code: "EKD205",
    slug: "control-plane-subnets-changed",
    severity: Warning,
    since: "0.1.0",
    summary: "live control-plane subnets differ from what the stack recorded (template's control-plane list when known, else the subnet outputs)",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster, GetTemplate, DescribeStackResources],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let live: BTreeSet<&str> = ctx
        .cluster
        .resources_vpc_config
        .subnet_ids
        .iter()
        .map(String::as_str)
        .collect();
    if live.is_empty() {
        return Err(Skip(
            "DescribeCluster returned no resourcesVpcConfig.subnetIds".to_owned(),
        ));
    }
    let output_lists = &ctx.output_lists;

    // The template holds the list eksctl sent to EKS; with it the comparison is exact.
    // Without it, the subnet outputs are a superset in every eksctl mode (local-zone and
    // extended lists included), so only live subnets unknown to them are drift.
    let (added, removed, expected, note) = match &ctx.template.control_plane_subnets {
        Some(Ok(list)) => {
            let recorded: BTreeSet<&str> = list.iter().map(String::as_str).collect();
            let added: Vec<&str> = live.difference(&recorded).copied().collect();
            let removed: Vec<&str> = recorded.difference(&live).copied().collect();
            let expected = Evidence {
                source: src::TEMPLATE.to_owned(),
                stack: Some(stack.stack_name.clone()),
                output_key: None,
                value: list.clone().into(),
            };
            (added, removed, expected, String::new())
        }
        other => {
            let recorded: BTreeSet<&str> = output_lists
                .iter()
                .flat_map(|o| o.ids.iter().copied())
                .collect();
            let added: Vec<&str> = live.difference(&recorded).copied().collect();
            let expected = Evidence::stack(
                stack,
                recorded
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect::<Vec<_>>()
                    .into(),
            );
            let note = match other {
                Some(Err(why)) => format!(" (compared with the subnet outputs: {why})"),
                _ => " (compared with the subnet outputs; no template in the input)".to_owned(),
            };
            (added, Vec::new(), expected, note)
        }
    };
    if added.is_empty() && removed.is_empty() {
        return Ok(Vec::new());
    }

    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("now also uses {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("no longer uses {}", removed.join(", ")));
    }
    // Stale outputs are the ones naming subnets the control plane left; default placement
    // of new nodegroups comes from SubnetsPrivate/SubnetsPublic.
    let stale_key = output_lists
        .iter()
        .find(|o| o.ids.iter().any(|id| !live.contains(id)))
        .or_else(|| {
            output_lists
                .iter()
                .find(|o| o.key == outputs::SUBNETS_PRIVATE)
        })
        .or_else(|| output_lists.first())
        .map(|o| o.key);
    let (summary, commands) = match stale_key {
        Some(key) => crate::rules::remedy::stale_subnet_output(ctx, stack, key, &removed),
        None => (
            "the stack has no subnet outputs to correct; give nodegroups explicit subnets"
                .to_owned(),
            Vec::new(),
        ),
    };
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "control plane of {} {} since eksctl recorded its subnets{note}",
                ctx.cluster.name,
                parts.join(" and ")
            ),
        )
        .with_expected(expected)
        .with_actual(Evidence::live(
            src::CLUSTER,
            live.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        ))
        .with_impact(
            "the subnets were changed outside eksctl (console, aws eks update-cluster-config, eksctl utils update-cluster-vpc-config); eksctl create nodegroup still places new nodegroups on the subnets the stack recorded",
        )
        .with_remediation(summary, commands),
    ])
}
