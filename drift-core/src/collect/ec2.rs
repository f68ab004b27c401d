//! EC2 reads: the subnets and security groups the region's stacks, clusters and nodegroups
//! name (by filter, deduplicated, in one batch for the region, with a second look at missing
//! IDs), and the versions of the nodegroups' launch templates.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
use futures::stream::{self, StreamExt as _};

use super::error::{CallError, classify};
use super::map;
use super::paginate::{describe_filtered, paginate};
use crate::discovery::discover;
use crate::input::Input;
use crate::snapshot::{
    AutoScalingGroup, Cluster, LaunchTemplateVersion, Nodegroup, SecurityGroup, Snapshot, Stack,
    Subnet, is_resource_id, outputs,
};

/// Pause before asking EC2 again for IDs it did not return (eventual consistency).
const RECHECK_DELAY: Duration = Duration::from_millis(750);

/// What EC2 returned for every ID the region's stacks and clusters name.
pub(super) struct Ec2State {
    pub(super) subnet_ids: BTreeSet<String>,
    pub(super) group_ids: BTreeSet<String>,
    pub(super) subnets: Result<Vec<Subnet>, CallError>,
    pub(super) groups: Result<Vec<SecurityGroup>, CallError>,
    /// When EC2 answered for each ID: the second look at a missing ID waits for the pause
    /// counted from then, not from the end of the whole batch.
    answered: HashMap<String, tokio::time::Instant>,
}

impl Ec2State {
    pub(super) fn empty() -> Self {
        Ec2State {
            subnet_ids: BTreeSet::new(),
            group_ids: BTreeSet::new(),
            subnets: Ok(Vec::new()),
            groups: Ok(Vec::new()),
            answered: HashMap::new(),
        }
    }

    /// The subnets ∥ the security groups among the given IDs.
    pub(super) async fn fetch(
        ec2: &aws_sdk_ec2::Client,
        subnet_ids: BTreeSet<String>,
        group_ids: BTreeSet<String>,
    ) -> Self {
        let (subnets, groups) = tokio::join!(
            describe_subnets(ec2, &subnet_ids),
            describe_security_groups(ec2, &group_ids)
        );
        let now = tokio::time::Instant::now();
        let answered = subnet_ids
            .iter()
            .chain(&group_ids)
            .map(|id| (id.clone(), now))
            .collect();
        Ec2State {
            subnet_ids,
            group_ids,
            subnets,
            groups,
            answered,
        }
    }

    /// Asks for the IDs not asked for yet (no call when there are none) and adds the answers;
    /// a failure of either lookup is kept.
    pub(super) async fn fetch_more(
        &mut self,
        ec2: &aws_sdk_ec2::Client,
        subnet_ids: &BTreeSet<String>,
        group_ids: &BTreeSet<String>,
    ) {
        let new_subnets: BTreeSet<String> =
            subnet_ids.difference(&self.subnet_ids).cloned().collect();
        let new_groups: BTreeSet<String> = group_ids.difference(&self.group_ids).cloned().collect();
        let more = Ec2State::fetch(ec2, new_subnets, new_groups).await;
        self.subnet_ids.extend(more.subnet_ids);
        self.group_ids.extend(more.group_ids);
        self.answered.extend(more.answered);
        merge(&mut self.subnets, more.subnets);
        merge(&mut self.groups, more.groups);
    }
}

/// `found` plus `more`, or the first error.
fn merge<T>(found: &mut Result<Vec<T>, CallError>, more: Result<Vec<T>, CallError>) {
    match (found.as_mut(), more) {
        (Ok(found), Ok(more)) => found.extend(more),
        (Ok(_), Err(e)) => *found = Err(e),
        (Err(_), _) => {}
    }
}

/// EC2 is eventually consistent: a subnet or group created moments ago can be briefly
/// invisible. Before anything is called deleted, ask once more, after a pause, for just the
/// missing IDs. Returns the queries made.
pub(super) async fn second_look(ec2: &aws_sdk_ec2::Client, state: &mut Ec2State) -> Vec<String> {
    let (Ok(found_subnets), Ok(found_groups)) = (&state.subnets, &state.groups) else {
        return Vec::new();
    };
    let missing_subnets = missing(&state.subnet_ids, found_subnets, |s| &s.subnet_id);
    let missing_groups = missing(&state.group_ids, found_groups, |g| &g.group_id);
    if missing_subnets.is_empty() && missing_groups.is_empty() {
        return Vec::new();
    }
    // The pause counts from the latest answer that left an ID missing.
    let last_answer = missing_subnets
        .iter()
        .chain(&missing_groups)
        .filter_map(|id| state.answered.get(id))
        .max()
        .copied()
        .unwrap_or_else(tokio::time::Instant::now);
    tokio::time::sleep_until(last_answer + RECHECK_DELAY).await;
    let mut queries = Vec::new();
    let again = Ec2State {
        subnet_ids: missing_subnets,
        group_ids: missing_groups,
        ..Ec2State::empty()
    };
    let (subnets, groups) = tokio::join!(
        describe_subnets(ec2, &again.subnet_ids),
        describe_security_groups(ec2, &again.group_ids)
    );
    if !again.subnet_ids.is_empty() {
        queries.push(format!(
            "ec2:DescribeSubnets filter subnet-id ({} missing IDs, checked again)",
            again.subnet_ids.len()
        ));
    }
    if !again.group_ids.is_empty() {
        queries.push(format!(
            "ec2:DescribeSecurityGroups filter group-id ({} missing IDs, checked again)",
            again.group_ids.len()
        ));
    }
    merge(&mut state.subnets, subnets);
    merge(&mut state.groups, groups);
    queries
}

/// The requested IDs that `found` does not hold.
fn missing<T>(
    wanted: &BTreeSet<String>,
    found: &[T],
    id: impl Fn(&T) -> &String,
) -> BTreeSet<String> {
    let have: BTreeSet<&String> = found.iter().map(id).collect();
    wanted
        .iter()
        .filter(|w| !have.contains(w))
        .cloned()
        .collect()
}

/// Subnet and security-group IDs named by the cluster stack's outputs and by the cluster.
/// Only well-formed IDs: anything else cannot exist, and an output is untrusted input that
/// has no business in a request.
pub(super) fn referenced_ids(
    stacks: &[Stack],
    cluster: &Cluster,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut subnets = BTreeSet::new();
    let mut groups = BTreeSet::new();
    if let Some(stack) = discover(stacks, &cluster.name).stack {
        for list in stack.subnet_lists() {
            subnets.extend(list.ids.iter().map(|s| (*s).to_owned()));
        }
        for key in outputs::SECURITY_GROUPS {
            if let Some(id) = stack.output(key) {
                groups.insert(id.trim().to_owned());
            }
        }
    }
    let vpc = &cluster.resources_vpc_config;
    subnets.extend(vpc.subnet_ids.iter().cloned());
    groups.extend(vpc.security_group_ids.iter().cloned());
    groups.extend(vpc.cluster_security_group_id.iter().cloned());
    subnets.retain(|s| is_resource_id(s, "subnet"));
    groups.retain(|g| is_resource_id(g, "sg"));
    (subnets, groups)
}

/// Every subnet and security group ID a snapshot names: the cluster stack's outputs, the
/// cluster, the nodegroups (subnets, remote-access groups), their auto scaling groups'
/// subnets, their launch templates' groups and the Fargate profiles' subnets. Only well-formed IDs.
pub(super) fn wanted_ids(snapshot: &Snapshot) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut subnets, mut groups) = referenced_ids(&snapshot.stacks, &snapshot.cluster);
    for ng in &snapshot.nodegroups {
        subnets.extend(ng.subnets.iter().cloned());
        if let Some(r) = &ng.remote_access {
            groups.extend(r.source_security_groups.iter().cloned());
        }
        if let Some(r) = &ng.resources {
            groups.extend(r.remote_access_security_group.iter().cloned());
        }
    }
    for g in snapshot.auto_scaling_groups.iter().flatten() {
        subnets.extend(g.subnet_ids().into_iter().map(str::to_owned));
    }
    for p in &snapshot.fargate_profiles {
        subnets.extend(p.subnets.iter().map(|s| s.trim().to_owned()));
    }
    if let Some(plan) = &snapshot.plan {
        subnets.extend(plan.config.subnet_ids());
        groups.extend(plan.config.attached_group_ids());
    }
    for v in snapshot.launch_template_versions.iter().flatten() {
        if let Some(d) = &v.launch_template_data {
            groups.extend(d.security_groups().into_iter().map(str::to_owned));
        }
    }
    subnets.retain(|s| is_resource_id(s, "subnet"));
    groups.retain(|g| is_resource_id(g, "sg"));
    (subnets, groups)
}

/// The subnets among `ids` that exist (by `subnet-id` filter; nothing asked for none).
pub(super) async fn describe_subnets(
    ec2: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<Vec<Subnet>, CallError> {
    describe_filtered(
        "ec2:DescribeSubnets",
        "subnet-id",
        ids,
        |filter, token| async move {
            let page = ec2
                .describe_subnets()
                .filters(filter)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("ec2:DescribeSubnets", &e))?;
            Ok((
                page.subnets().iter().map(map::subnet).collect(),
                page.next_token().map(str::to_owned),
            ))
        },
    )
    .await
}

/// The security groups among `ids` that exist (by `group-id` filter).
pub(super) async fn describe_security_groups(
    ec2: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<Vec<SecurityGroup>, CallError> {
    describe_filtered(
        "ec2:DescribeSecurityGroups",
        "group-id",
        ids,
        |filter, token| async move {
            let page = ec2
                .describe_security_groups()
                .filters(filter)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("ec2:DescribeSecurityGroups", &e))?;
            Ok((
                page.security_groups()
                    .iter()
                    .map(map::security_group)
                    .collect(),
                page.next_token().map(str::to_owned),
            ))
        },
    )
    .await
}

/// The well-formed launch template IDs that nodegroups and auto scaling groups name.
pub(super) fn launch_template_ids<'a>(
    nodegroups: impl Iterator<Item = &'a Nodegroup>,
    groups: impl Iterator<Item = &'a AutoScalingGroup>,
) -> BTreeSet<String> {
    nodegroups
        .filter_map(|n| n.launch_template.as_ref()?.id.clone())
        .chain(groups.filter_map(|g| g.launch_template_spec()?.launch_template_id.clone()))
        .filter(|id| is_resource_id(id, "lt"))
        .collect()
}

/// Every version of one launch template; none when the template is gone.
pub(super) async fn launch_template_versions(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Vec<LaunchTemplateVersion>, CallError> {
    paginate("ec2:DescribeLaunchTemplateVersions", |token| async move {
        match ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .max_results(200)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => Ok((
                page.launch_template_versions()
                    .iter()
                    .map(map::launch_template_version)
                    .collect(),
                page.next_token().map(str::to_owned),
            )),
            Err(e) if e.code().is_some_and(|c| c.contains("NotFound")) => Ok((Vec::new(), None)),
            Err(e) => Err(classify("ec2:DescribeLaunchTemplateVersions", &e)),
        }
    })
    .await
}

/// The versions of every launch template the nodegroups and auto scaling groups name, one
/// listing per template, `concurrency` at a time.
pub(super) async fn template_versions<'a>(
    ec2: &aws_sdk_ec2::Client,
    concurrency: usize,
    nodegroups: impl Iterator<Item = &'a Nodegroup>,
    groups: impl Iterator<Item = &'a AutoScalingGroup>,
    extra: &BTreeSet<String>,
) -> Result<Vec<LaunchTemplateVersion>, CallError> {
    let mut templates = launch_template_ids(nodegroups, groups);
    templates.extend(extra.iter().cloned());
    stream::iter(templates.iter())
        .map(|id| launch_template_versions(ec2, id))
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// Gives a snapshot the subnets and groups it names among those EC2 returned. A failed lookup
/// fails that input: nothing is reported deleted on half an answer.
pub(super) fn fill(snapshot: &mut Snapshot, ec2: &Ec2State, subnets: bool, groups: bool) {
    let (want_subnets, want_groups) = wanted_ids(snapshot);
    if subnets {
        match &ec2.subnets {
            Ok(found) => {
                snapshot.subnets = found
                    .iter()
                    .filter(|s| want_subnets.contains(&s.subnet_id))
                    .cloned()
                    .collect();
            }
            Err(e) => {
                snapshot.subnets.clear();
                snapshot
                    .failures
                    .insert(Input::DescribeSubnets, e.to_failure());
            }
        }
    } else {
        snapshot.skipped.insert(Input::DescribeSubnets);
    }
    if groups {
        match &ec2.groups {
            Ok(found) => {
                snapshot.security_groups = Some(
                    found
                        .iter()
                        .filter(|g| want_groups.contains(&g.group_id))
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => {
                snapshot.security_groups = None;
                snapshot
                    .failures
                    .insert(Input::DescribeSecurityGroups, e.to_failure());
            }
        }
    }
}
