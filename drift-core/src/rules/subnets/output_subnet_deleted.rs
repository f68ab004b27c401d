use std::collections::BTreeSet;

use crate::rules::{Checked, Context};
use crate::report::src;
use crate::rules::context::subnet_output_breaks;
use crate::snapshot::outputs;
use crate::report::{Evidence, Resource};
use serde_json::Value;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet named in a subnet output (`SubnetsPrivate`, `SubnetsPublic`, legacy `Subnets`,
    /// the local-zone and extended lists) still exists. A subnet absent from `DescribeSubnets` (queried
    /// by filter, so a deleted subnet simply does not come back) is reported, one finding per subnet.
    ///
    /// ## Why it matters
    ///
    /// This is the failure eksdrift exists for. `eksctl create nodegroup` loads the VPC layout from
    /// the outputs and, before eksctl 0.177.0, asks EC2 for every subnet by ID: one deleted subnet fails
    /// the whole command with `InvalidSubnetID.NotFound`. From 0.177.0 eksctl lists subnets by filter,
    /// warns and skips deleted ones, and fails only when every subnet of a list, or of an AZ, is gone —
    /// the impact of each finding says which case applies (the AZ of a deleted eksctl-made subnet is known
    /// from the template). The stack stays wrong either way: eksctl never rewrites existing outputs.
    ///
    /// `SubnetsPrivateExtended` and `SubnetsPublicExtended` (written when a cluster is extended to
    /// an Outpost) are different: every eksctl version looks them up by ID whenever it loads the
    /// VPC from the stack, so one deleted subnet there fails every such command (create
    /// nodegroup, upgrade cluster, …), not only placements on the Outpost, and explicit nodegroup
    /// subnets do not help.
    ///
    /// ## How to fix
    ///
    /// Now: give new nodegroups explicit subnets (`nodeGroups[].subnets`, or
    /// `eksctl create nodegroup --subnet-ids`); the finding lists the live subnets of the same AZs.
    /// Durably: correct the output with a reviewed change set (get-template, change only that output,
    /// create-change-set, review, execute), after checking with `list-imports` that no stack imports the
    /// export. To unblock one creation quickly, a deleted eksctl-made subnet can be recreated with its
    /// old CIDR and AZ (the finding prints the command when the template gives them).
    code: "EKD202",
    slug: "output-subnet-deleted",
    severity: Error,
    since: "0.1.0",
    summary: "a subnet named in a subnet output no longer exists",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let mut findings = Vec::new();
    for output in &ctx.output_lists {
        let gone: Vec<&str> = output
            .ids
            .iter()
            .copied()
            .filter(|id| !ctx.subnets.contains_key(id))
            .collect();
        if gone.is_empty() {
            continue;
        }
        // AZs this output covers, and those it still has a live subnet in (eksctl >= 0.177.0
        // fails only when an AZ, or the whole list, is emptied).
        let azs_known: BTreeSet<&str> = output
            .ids
            .iter()
            .filter_map(|id| ctx.subnet_az(id))
            .collect();
        let azs_live: BTreeSet<&str> = output
            .ids
            .iter()
            .filter_map(|id| ctx.subnets.get(id))
            .map(|s| s.availability_zone.as_str())
            .collect();
        let (summary, commands) = crate::rules::remedy::stale_subnet_output(ctx, stack, output.key, &gone);
        for id in &gone {
            let az = ctx.subnet_az(id);
            let az_note = az.map(|az| format!(" ({az})")).unwrap_or_default();
            let emptied = az.filter(|az| !azs_live.contains(az) && azs_known.contains(az));
            let all_gone = gone.len() == output.ids.len();
            let impact = match (all_gone, emptied) {
                _ if outputs::looked_up_by_id(output.key) => format!(
                    "eksctl looks {} up by ID in every version: every eksctl command that loads the VPC from the cluster stack (create nodegroup, create fargateprofile, upgrade cluster, delete) fails with InvalidSubnetID.NotFound, wherever the nodegroup goes",
                    output.key
                ),
                (true, _) => format!(
                    "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 it fails too, since no subnet of {} is left (see EKD203)",
                    output.key
                ),
                (false, Some(az)) => format!(
                    "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 it skips the subnet, but {} has no live subnet left in {az}, so nodegroups placed in {az} fail",
                    output.key
                ),
                (false, None) => "eksctl create nodegroup fails with InvalidSubnetID.NotFound (eksctl < 0.177.0); from 0.177.0 eksctl warns and skips the deleted subnet".to_owned(),
            };
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!(
                        "stack output {} names {id}{az_note}, which no longer exists",
                        output.key
                    ),
                )
                .with_expected(Evidence::output(stack, output.key))
                .with_actual(Evidence::live(src::SUBNETS, Value::Null))
                .with_impact(impact)
                .with_breaks(subnet_output_breaks(output.key, RULE.breaks))
                .with_remediation(summary.clone(), commands.clone()),
            );
        }
    }
    Ok(findings)
}
