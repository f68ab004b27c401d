use std::collections::BTreeSet;

use serde_json::json;

use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::planning::{self, SKIPS_DELETED_SUBNETS};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::{is_resource_id, outputs};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-nodegroup`: where eksctl will place each
    /// nodegroup of the file, in eksctl's order (`pkg/actions/nodegroup/create.go`).
    ///
    /// 1. Loading the VPC from the cluster stack (`pkg/vpc/vpc.go`). Before eksctl 0.177.0 the
    ///    stack's `SubnetsPrivate`/`SubnetsPublic` subnets are looked up by ID, so one deleted
    ///    subnet fails the command with `InvalidSubnetID.NotFound`, whatever the file says;
    ///    from 0.177.0 deleted ones are skipped with a warning (#7714). The `…Extended` outputs
    ///    of an Outposts-extended cluster are looked up by ID in every version.
    /// 2. For **every** nodegroup of the file, before `--include`/`--exclude` apply
    ///    (`validateSubnetsAvailability`): a nodegroup without `subnets:` needs a live subnet
    ///    of its kind (`privateNetworking` → private) in each AZ it asks for
    ///    (`availabilityZones`), or at least one when it asks for none. Nodegroups on local
    ///    zones or Outposts are not checked here, as eksctl does not.
    /// 3. For the nodegroups the filter keeps: each `subnets:` entry, a name of `vpc.subnets`
    ///    in the file or a subnet ID, exists and is in the cluster's VPC.
    ///
    /// `--eksctl-version` picks the behaviour (default: current eksctl); the finding says how
    /// other versions differ.
    ///
    /// ## Why it matters
    ///
    /// Each case stops `eksctl create nodegroup` before any nodegroup is created: step 2 fails
    /// the whole file even for a nodegroup `--include` leaves out. This is the seed case seen
    /// from the user's file: the stack still names the subnets that were replaced.
    ///
    /// ## How to fix
    ///
    /// Give the nodegroup explicit live subnets (`subnets:` in the file), or correct the stack's
    /// output (EKD202's remediation); with eksctl older than 0.177.0, upgrade eksctl.
    code: "EKD901",
    slug: "plan-nodegroup-subnets-unusable",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup of the ClusterConfig lands on subnets that are gone or foreign: eksctl create nodegroup fails",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateNodegroup]) else {
        return Ok(Vec::new());
    };
    let stack = planning::stack(ctx)?;
    let ran = planning::version(plan.eksctl_version);
    let new_eksctl = plan.eksctl_version >= SKIPS_DELETED_SUBNETS;
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();

    // 1. Loading the VPC.
    let mut by_id: Vec<(&str, &str)> = [
        outputs::SUBNETS_PRIVATE_EXTENDED,
        outputs::SUBNETS_PUBLIC_EXTENDED,
    ]
    .iter()
    .flat_map(|key| {
        stack
            .output_list(key)
            .unwrap_or_default()
            .into_iter()
            .map(move |id| (*key, id.trim()))
    })
    .collect();
    if !new_eksctl {
        for private in [true, false] {
            let (key, ids) = planning::output_subnets(stack, private);
            by_id.extend(ids.into_iter().map(|id| (key, id)));
        }
    }
    let gone: Vec<(&str, &str)> = by_id
        .into_iter()
        .filter(|(_, id)| planning::deleted(ctx, id))
        .collect();
    if !gone.is_empty() {
        let ids: Vec<&str> = gone.iter().map(|(_, id)| *id).collect();
        let keys: BTreeSet<&str> = gone.iter().map(|(k, _)| *k).collect();
        let extended = keys.iter().all(|k| k.ends_with("Extended"));
        findings.push(
            RULE.finding(
                Resource::stack(stack),
                format!(
                    "eksctl {ran} loads the cluster stack's subnets by ID, and {} no longer exist ({}): eksctl create nodegroup fails with InvalidSubnetID.NotFound before creating any nodegroup",
                    ids.join(", "),
                    keys.into_iter().collect::<Vec<_>>().join(", ")
                ),
            )
            .with_expected(Evidence::live(src::SUBNETS, json!(ids)))
            .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
            .with_impact(if extended {
                "every eksctl version looks up the Outposts-extended subnets by ID".to_owned()
            } else {
                format!(
                    "eksctl from {} skips deleted output subnets; {ran} does not",
                    planning::version(SKIPS_DELETED_SUBNETS)
                )
            })
            .with_remediation(
                "correct the cluster stack's subnet outputs (see EKD202), or run eksctl 0.177.0 or later",
                vec![
                    Cmd::new("eksctl version").done(),
                    Cmd::new("aws cloudformation describe-stacks")
                        .opt("--stack-name", &stack.stack_name)
                        .opt("--query", "Stacks[0].Outputs")
                        .region(ctx)
                        .done(),
                ],
            ),
        );
        return Ok(findings);
    }

    // 2. Every nodegroup of the file, before the filter.
    let outpost = ctx.cluster.outpost_config.is_some();
    for (_, ng) in plan.config.node_pools() {
        if !ng.subnets.is_empty()
            || !ng.local_zones.is_empty()
            || ng.outpost_arn.is_some()
            || outpost
        {
            continue;
        }
        let private = ng.private_networking;
        let (key, ids) = planning::output_subnets(stack, private);
        let live: Vec<(&str, &str)> = ids
            .iter()
            .filter_map(|id| {
                ctx.subnets
                    .get(id)
                    .map(|s| (*id, s.availability_zone.as_str()))
            })
            .collect();
        let azs: BTreeSet<&str> = live.iter().map(|(_, az)| *az).collect();
        let kind = planning::kind(private);
        let missing: Vec<&str> = if ng.availability_zones.is_empty() {
            if live.is_empty() {
                vec!["any AZ"]
            } else {
                Vec::new()
            }
        } else {
            ng.availability_zones
                .iter()
                .map(String::as_str)
                .filter(|az| !azs.contains(az))
                .collect()
        };
        if missing.is_empty() {
            continue;
        }
        let name = crate::text::inline(&ng.name);
        let excluded = if plan.keeps(&ng.name) {
            String::new()
        } else {
            " (eksctl checks every nodegroup of the file before --include/--exclude apply, so this stops the command even though the filter leaves the nodegroup out)".to_owned()
        };
        let gone: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| planning::deleted(ctx, id))
            .collect();
        findings.push(
            RULE.finding(
                Resource::new("eksctl::NodeGroup", &name),
                format!(
                    "nodegroup {name} of {file} needs a {kind} subnet in {}, but none of the cluster stack's {key} subnets there is left (deleted: {}){excluded}",
                    missing.join(", "),
                    if gone.is_empty() { "none".to_owned() } else { gone.join(", ") }
                ),
            )
            .with_expected(Evidence::output(stack, key))
            .with_actual(Evidence::live(
                src::SUBNETS,
                json!(live.iter().map(|(id, az)| format!("{id} ({az})")).collect::<Vec<_>>()),
            ))
            .with_impact(format!(
                "eksctl create nodegroup fails: \"all {kind} subnets from {}, that the cluster was originally created on, have been deleted\" (eksctl {ran}; before {} any deleted output subnet fails it)",
                missing.join(", "),
                planning::version(SKIPS_DELETED_SUBNETS)
            ))
            .with_remediation(
                "give the nodegroup explicit live subnets (subnets: in the file), or correct the stack's output (EKD202)",
                vec![
                    Cmd::new("aws ec2 describe-subnets")
                        .opt(
                            "--filters",
                            format!(
                                "Name=vpc-id,Values={}",
                                ctx.cluster.resources_vpc_config.vpc_id.as_deref().unwrap_or("VPC")
                            ),
                        )
                        .opt("--query", "Subnets[].[SubnetId,AvailabilityZone,MapPublicIpOnLaunch]")
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }

    // 3. The nodegroups the filter keeps: explicit subnets.
    let named = plan.config.vpc.as_ref().and_then(|v| v.subnets.as_ref());
    let vpc = ctx
        .cluster
        .resources_vpc_config
        .vpc_id
        .as_deref()
        .or_else(|| stack.vpc().map(str::trim));
    let mut unknown = Vec::new();
    for (_, ng) in plan.config.node_pools().filter(|(_, n)| plan.keeps(&n.name)) {
        for entry in &ng.subnets {
            let resolved = named.and_then(|n| {
                n.private
                    .get(entry)
                    .or_else(|| n.public.get(entry))
                    .and_then(|s| s.id.as_deref())
            });
            let id = resolved.unwrap_or(entry).trim();
            if !is_resource_id(id, "subnet") {
                continue;
            }
            let name = crate::text::inline(&ng.name);
            let problem = match ctx.subnets.get(id) {
                Some(s) if Some(s.vpc_id.as_str()) != vpc && vpc.is_some() => format!(
                    "is in {}, not in the cluster's VPC {}",
                    crate::text::inline(&s.vpc_id),
                    vpc.unwrap_or_default()
                ),
                Some(_) => continue,
                None if ctx.snapshot.source != "live" => {
                    unknown.push(id.to_owned());
                    continue;
                }
                None => "no longer exists (or never did)".to_owned(),
            };
            let via = if resolved.is_some() {
                format!(" (vpc.subnets name {})", crate::text::inline(entry))
            } else {
                String::new()
            };
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!("nodegroup {name} of {file} names subnet {id}{via}, which {problem}"),
                )
                .with_expected(Evidence::live("ClusterConfig", json!(ng.subnets)))
                .with_actual(Evidence::live(
                    src::SUBNETS,
                    ctx.subnets
                        .get(id)
                        .map_or(serde_json::Value::Null, |s| json!(s.vpc_id)),
                ))
                .with_impact("eksctl create nodegroup fails selecting the nodegroup's subnets")
                .with_remediation(
                    "name live subnets of the cluster's VPC in the nodegroup's subnets:",
                    Vec::new(),
                ),
            );
        }
    }
    if !unknown.is_empty() {
        return Err(Skip(format!(
            "the file names subnets the bundle's describe-subnets.json does not hold ({}): whether they exist is unknown; capture with -f FILE, or audit live",
            unknown.join(", ")
        )));
    }
    Ok(findings)
}
