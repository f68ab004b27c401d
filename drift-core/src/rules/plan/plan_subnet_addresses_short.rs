use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-nodegroup`, each nodegroup the filter keeps: the
    /// free addresses (`AvailableIpAddressCount`) of the live subnets eksctl will place it in
    /// (its `subnets:`, else the cluster stack's output subnets of its kind in the AZs it asks
    /// for) against its size. Fewer than `desiredCapacity`: error, breaks `create-nodegroup`.
    /// Fewer than `maxSize`: warning. Every node takes at least one address; with the VPC CNI
    /// plugin (the default) each node also holds a warm network interface's addresses, so the
    /// real need is higher: the check reports only what is certain to fail.
    ///
    /// ## Why it matters
    ///
    /// Instances that cannot get an address are not launched: a managed nodegroup ends
    /// `CREATE_FAILED` (its stack rolls back) and a self-managed one never reaches its size;
    /// eksctl waits, then fails.
    ///
    /// ## How to fix
    ///
    /// Place the nodegroup in subnets with room (`subnets:`), free addresses, or add a CIDR to
    /// the VPC and subnets in it.
    code: "EKD904",
    slug: "plan-subnet-addresses-short",
    severity: Error,
    since: "0.1.0",
    summary: "the subnets a planned nodegroup lands in have fewer free addresses than its size",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateNodegroup]) else {
        return Ok(Vec::new());
    };
    let stack = planning::stack(ctx)?;
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    for (_, ng) in plan.config.node_pools().filter(|(_, n)| plan.keeps(&n.name)) {
        let subnets = planning::placement(ctx, plan, stack, ng);
        if subnets.is_empty() {
            continue;
        }
        let Some(free) = subnets
            .iter()
            .map(|s| s.available_ip_address_count)
            .sum::<Option<i64>>()
        else {
            continue;
        };
        let desired = i64::from(ng.desired_capacity.or(ng.min_size).unwrap_or(2));
        let max = i64::from(ng.max_size.unwrap_or(0)).max(desired);
        let (severity, breaks, need, what): (Severity, &[Operation], i64, &str) = if free < desired
        {
            (
                Severity::Error,
                &[Operation::CreateNodegroup],
                desired,
                "desiredCapacity",
            )
        } else if free < max {
            (Severity::Warning, &[], max, "maxSize")
        } else {
            continue;
        };
        let name = crate::text::inline(&ng.name);
        let listed: Vec<String> = subnets
            .iter()
            .map(|s| {
                format!(
                    "{} ({}, {} free)",
                    s.subnet_id,
                    s.availability_zone,
                    s.available_ip_address_count.unwrap_or_default()
                )
            })
            .collect();
        findings.push(
            RULE.finding(
                Resource::new("eksctl::NodeGroup", &name),
                format!(
                    "nodegroup {name} of {file} needs {need} addresses ({what}) but its subnets have {free} free: {}",
                    listed.join(", ")
                ),
            )
            .with_severity(severity)
            .with_breaks(breaks)
            .with_expected(Evidence::live("ClusterConfig", json!({what: need})))
            .with_actual(Evidence::live(src::SUBNETS, json!(listed)))
            .with_impact(if breaks.is_empty() {
                "the nodegroup cannot scale to its maximum in these subnets"
            } else {
                "instances without an address are not launched: the nodegroup fails to reach its size and eksctl create nodegroup fails"
            })
            .with_remediation(
                "place the nodegroup in subnets with room (subnets: in the file), or free addresses",
                Vec::new(),
            ),
        );
    }
    Ok(findings)
}
