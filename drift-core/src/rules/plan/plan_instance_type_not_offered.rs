use std::collections::BTreeSet;

use serde_json::json;

use crate::report::{Evidence, Operation, Resource};
use crate::rules::planning;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-nodegroup`, each nodegroup the filter keeps that
    /// the file places explicitly (`availabilityZones`, or `subnets:`): every instance type it
    /// names (`instanceType`, `instanceTypes`) is offered in every AZ of that placement
    /// (`ec2:DescribeInstanceTypeOfferings --location-type availability-zone`, one call for all
    /// the plan's types). When the placement is eksctl's own choice it drops the AZs that do
    /// not offer the type (`az.FilterBasedOnAvailability`), so only explicit placement can
    /// fail; `instanceSelector` nodegroups are left to eksctl.
    ///
    /// ## Why it matters
    ///
    /// eksctl refuses the nodegroup ("cannot create nodegroup … in availability zone … as it does
    /// not support all required instance types"), or the launch fails in that AZ.
    ///
    /// ## How to fix
    ///
    /// Drop the AZ (or its subnets) from the nodegroup, or pick a type offered there.
    code: "EKD906",
    slug: "plan-instance-type-not-offered",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup of the ClusterConfig asks for an instance type where it is not offered",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, DescribeInstanceTypeOfferings],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateNodegroup]) else {
        return Ok(Vec::new());
    };
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    for (_, ng) in plan.config.node_pools().filter(|(_, n)| plan.keeps(&n.name)) {
        if ng.instance_selector.is_some() || ng.types().is_empty() {
            continue;
        }
        let azs: BTreeSet<String> = if ng.subnets.is_empty() {
            ng.availability_zones.iter().cloned().collect()
        } else {
            let Ok(stack) = planning::stack(ctx) else {
                continue;
            };
            planning::placement(ctx, plan, stack, ng)
                .iter()
                .map(|s| s.availability_zone.clone())
                .collect()
        };
        if azs.is_empty() {
            continue;
        }
        let Some(offerings) = &ctx.snapshot.instance_type_offerings else {
            return Err(Skip(
                "where the instance types are offered is unknown (describe-instance-type-offerings.json absent): capture with -f FILE, or audit live".to_owned(),
            ));
        };
        let name = crate::text::inline(&ng.name);
        for t in ng.types() {
            let offered: BTreeSet<&str> = offerings
                .iter()
                .filter(|o| o.instance_type == t)
                .map(|o| o.location.as_str())
                .collect();
            let missing: Vec<&str> = azs
                .iter()
                .map(String::as_str)
                .filter(|az| !offered.contains(az))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let t = crate::text::inline(t);
            findings.push(
                RULE.finding(
                    Resource::new("eksctl::NodeGroup", &name),
                    format!(
                        "nodegroup {name} of {file} asks for {t} in {}, where EC2 does not offer it",
                        missing.join(", ")
                    ),
                )
                .with_expected(Evidence::live("ClusterConfig", json!({"instanceType": t, "availabilityZones": azs})))
                .with_actual(Evidence::live("ec2:DescribeInstanceTypeOfferings", json!(offered)))
                .with_impact("eksctl refuses the nodegroup: the AZ does not support all required instance types")
                .with_remediation(
                    "drop the AZ (or its subnets) from the nodegroup, or pick an instance type offered there",
                    vec![Cmd::new("aws ec2 describe-instance-type-offerings")
                        .opt("--location-type", "availability-zone")
                        .opt("--filters", format!("Name=instance-type,Values={t}"))
                        .region(ctx)
                        .done()],
                ),
            );
        }
    }
    Ok(findings)
}
