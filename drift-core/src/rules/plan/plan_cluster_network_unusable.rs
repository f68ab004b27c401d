use std::collections::BTreeSet;

use serde_json::json;

use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::planning;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-cluster` into an existing VPC: what eksctl's
    /// import of the file's `vpc` (`pkg/vpc/vpc.go`, `ImportSubnetsFromSpec`) and EKS's
    /// `CreateCluster` would refuse.
    ///
    /// - `vpc.id` names a VPC that does not exist in the region (`ec2:DescribeVpcs`), or
    ///   `vpc.cidr` is none of that VPC's CIDR blocks ("VPC CIDR block not found in VPC").
    /// - A subnet of `vpc.subnets` given by ID does not exist; is in another VPC than
    ///   `vpc.id` ("given subnet-… is in vpc-…, not in vpc-…"), or, without `vpc.id`, the
    ///   subnets span several VPCs; has a `cidr` that is not the subnet's; or sits in the AZ
    ///   that another entry of the same map is named after while that entry gives another ID
    ///   (eksctl matches a subnet to the entry named after its AZ first: "mismatch found
    ///   between local and remote VPC config").
    /// - The subnets, all given by ID, are in one availability zone: EKS wants two (a cluster
    ///   on Outposts, `outpost:`, is exempt).
    ///
    /// Subnets given by AZ or CIDR only are looked up by eksctl in the VPC and are not judged.
    ///
    /// ## Why it matters
    ///
    /// `eksctl create cluster` fails on each of these, before or while creating the cluster
    /// stack: the file in git no longer matches the network it was written for.
    ///
    /// ## How to fix
    ///
    /// Point `vpc.id` and `vpc.subnets` at the network as it is now (the finding gives the
    /// live values).
    code: "EKD911",
    slug: "plan-cluster-network-unusable",
    severity: Error,
    since: "0.1.0",
    summary: "the ClusterConfig creates a cluster in a VPC or subnets that do not exist or do not fit together",
    breaks: [CreateCluster],
    inputs: [DescribeSubnets, DescribeVpcs],
    leftover_stacks: true,
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateCluster]) else {
        return Ok(Vec::new());
    };
    let Some(vpc) = plan.config.vpc.as_ref() else {
        return Ok(Vec::new());
    };
    let file = crate::text::inline(&plan.source).into_owned();
    let file_vpc = plan.config.vpc_id();
    let mut findings = Vec::new();
    let mut unknown = Vec::new();
    let cluster = Resource::new("AWS::EKS::Cluster", &plan.config.metadata.name);
    if let Some(id) = file_vpc {
        match &ctx.snapshot.vpcs {
            None => unknown.push("describe-vpcs.json".to_owned()),
            Some(vpcs) => match vpcs.iter().find(|v| v.vpc_id == id) {
                None => findings.push(
                    RULE.finding(
                        Resource::new("AWS::EC2::VPC", id),
                        format!("{file} creates the cluster in vpc.id {id}, which does not exist in the region"),
                    )
                    .with_expected(Evidence::live("ClusterConfig", json!(id)))
                    .with_actual(Evidence::live("ec2:DescribeVpcs", serde_json::Value::Null))
                    .with_impact("eksctl create cluster fails importing the VPC (InvalidVpcID.NotFound)")
                    .with_remediation("set vpc.id to a VPC that exists, or drop vpc to let eksctl make one", Vec::new()),
                ),
                Some(live) => {
                    if let Some(cidr) = vpc.cidr.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                        let blocks: BTreeSet<&str> = live
                            .cidr_block
                            .iter()
                            .map(String::as_str)
                            .chain(live.cidr_block_association_set.iter().map(|a| a.cidr_block.as_str()))
                            .collect();
                        if !blocks.contains(&cidr) {
                            findings.push(
                                RULE.finding(
                                    Resource::new("AWS::EC2::VPC", id),
                                    format!(
                                        "{file} says vpc.cidr {}, which is not a CIDR block of {id} ({})",
                                        crate::text::inline(cidr),
                                        blocks.iter().copied().collect::<Vec<_>>().join(", ")
                                    ),
                                )
                                .with_expected(Evidence::live("ClusterConfig", json!(cidr)))
                                .with_actual(Evidence::live("ec2:DescribeVpcs", json!(blocks)))
                                .with_impact("eksctl create cluster fails importing the VPC (\"VPC CIDR block not found in VPC\")")
                                .with_remediation("set vpc.cidr to one of the VPC's blocks, or drop it", Vec::new()),
                            );
                        }
                    }
                }
            },
        }
    }
    let mut azs = BTreeSet::new();
    let mut vpcs_seen = BTreeSet::new();
    let mut all_by_id = true;
    let mut any = false;
    if let Some(subnets) = &vpc.subnets {
        for (kind, map) in [("private", &subnets.private), ("public", &subnets.public)] {
            for (name, spec) in map {
                let Some(id) = spec.id.as_deref().map(str::trim).filter(|i| is_resource_id(i, "subnet")) else {
                    all_by_id = false;
                    continue;
                };
                any = true;
                let shown = crate::text::inline(name);
                let Some(live) = ctx.subnets.get(id) else {
                    if ctx.snapshot.source == "live" {
                        findings.push(
                            RULE.finding(
                                Resource::subnet(id),
                                format!("{file} creates the cluster in {kind} subnet {id} ({shown}), which does not exist"),
                            )
                            .with_expected(Evidence::live("ClusterConfig", json!(id)))
                            .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
                            .with_impact("eksctl create cluster fails importing the subnets (InvalidSubnetID.NotFound)")
                            .with_remediation("replace the subnet in vpc.subnets with one that exists", Vec::new()),
                        );
                    } else {
                        unknown.push(id.to_owned());
                    }
                    continue;
                };
                azs.insert(live.availability_zone.clone());
                vpcs_seen.insert(live.vpc_id.clone());
                let mut wrong = |why: String, expected: serde_json::Value, actual: serde_json::Value| {
                    findings.push(
                        RULE.finding(Resource::subnet(id), format!("{file}: {kind} subnet {id} ({shown}) {why}"))
                            .with_expected(Evidence::live("ClusterConfig", expected))
                            .with_actual(Evidence::live(src::SUBNETS, actual))
                            .with_impact("eksctl create cluster fails importing the subnets: the file does not match the VPC")
                            .with_remediation("correct the entry in vpc.subnets to the live subnet (the finding gives its values)", Vec::new()),
                    );
                };
                if let Some(v) = file_vpc
                    && live.vpc_id != v
                {
                    wrong(
                        format!("is in {}, not in vpc.id {v}", crate::text::inline(&live.vpc_id)),
                        json!(v),
                        json!(live.vpc_id),
                    );
                }
                if let (Some(want), Some(have)) = (
                    spec.cidr.as_deref().map(str::trim).filter(|c| !c.is_empty()),
                    live.cidr_block.as_deref(),
                ) && want != have
                {
                    wrong(
                        format!("says cidr {}, the subnet's block is {}", crate::text::inline(want), crate::text::inline(have)),
                        json!(want),
                        json!(have),
                    );
                }
                if let Some(other) = map.get(&live.availability_zone)
                    && let Some(other_id) = other.id.as_deref().map(str::trim)
                    && other_id != id
                {
                    wrong(
                        format!(
                            "is in {az}, and the entry named {az} gives {}: eksctl matches the subnet to that entry and refuses the mismatch",
                            crate::text::inline(other_id),
                            az = crate::text::inline(&live.availability_zone)
                        ),
                        json!(other_id),
                        json!(id),
                    );
                }
            }
        }
    }
    if file_vpc.is_none() && vpcs_seen.len() > 1 {
        findings.push(
            RULE.finding(
                cluster.clone(),
                format!(
                    "{file}: the subnets of vpc.subnets span several VPCs ({})",
                    vpcs_seen.iter().map(|v| crate::text::inline(v).into_owned()).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_expected(Evidence::live("ClusterConfig", json!("one VPC")))
            .with_actual(Evidence::live(src::SUBNETS, json!(vpcs_seen)))
            .with_impact("eksctl create cluster fails importing the subnets: all must be in one VPC")
            .with_remediation("keep the subnets of one VPC in vpc.subnets, and set vpc.id", Vec::new()),
        );
    }
    if any && all_by_id && unknown.is_empty() && plan.config.outpost.is_none() && azs.len() == 1 {
        findings.push(
            RULE.finding(
                cluster,
                format!(
                    "{file}: every subnet of vpc.subnets is in {}",
                    azs.iter().next().map(|a| crate::text::inline(a).into_owned()).unwrap_or_default()
                ),
            )
            .with_expected(Evidence::live("ClusterConfig", json!("subnets in two availability zones")))
            .with_actual(Evidence::live(src::SUBNETS, json!(azs)))
            .with_impact("EKS refuses the cluster: CreateCluster wants subnets in at least two availability zones")
            .with_remediation("add a subnet of another availability zone to vpc.subnets", Vec::new()),
        );
    }
    if !unknown.is_empty() {
        return Err(Skip(format!(
            "the file's VPC or subnets are not in the bundle ({}): whether they exist is unknown; capture with -f FILE, or audit live",
            unknown.join(", ")
        )));
    }
    Ok(findings)
}
