//! Which cluster-stack outputs a remediation would rewrite, from the snapshot alone: the
//! exports a live audit asks `cloudformation:ListImports` about, since an export that another
//! stack imports cannot change. Pure, shared by the collector and the remediation text.

use std::collections::{BTreeSet, HashMap};

use crate::discovery::discover;
use crate::snapshot::{Snapshot, outputs};

/// The export names of the cluster-stack outputs that disagree with the live state: subnet
/// lists naming a deleted or foreign subnet (or missing a live control-plane subnet), and
/// `VPC`, `SecurityGroup` or `ClusterSecurityGroupId` differing from the cluster. Outputs that
/// are not exported are left out: nothing can import them.
#[must_use]
pub fn exports_to_change(snapshot: &Snapshot) -> Vec<String> {
    let Some(stack) = discover(&snapshot.stacks, &snapshot.cluster.name).stack else {
        return Vec::new();
    };
    let live = &snapshot.cluster.resources_vpc_config;
    let subnets: HashMap<&str, &str> = snapshot
        .subnets
        .iter()
        .map(|s| (s.subnet_id.as_str(), s.vpc_id.as_str()))
        .collect();
    let vpc = live
        .vpc_id
        .as_deref()
        .or_else(|| stack.vpc().map(str::trim));
    let lists = stack.subnet_lists();
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    for list in &lists {
        let stale = list.ids.iter().any(|id| match subnets.get(id) {
            None => true,
            Some(subnet_vpc) => vpc.is_some_and(|v| v != *subnet_vpc),
        });
        if stale {
            keys.insert(list.key);
        }
    }
    let recorded: BTreeSet<&str> = lists.iter().flat_map(|l| l.ids.iter().copied()).collect();
    if live
        .subnet_ids
        .iter()
        .any(|id| !recorded.contains(id.as_str()))
    {
        let cp: BTreeSet<&str> = live.subnet_ids.iter().map(String::as_str).collect();
        let key = lists
            .iter()
            .find(|l| l.ids.iter().any(|id| !cp.contains(id)))
            .or_else(|| lists.iter().find(|l| l.key == outputs::SUBNETS_PRIVATE))
            .or_else(|| lists.first())
            .map(|l| l.key);
        keys.extend(key);
    }
    if let (Some(recorded), Some(live_vpc)) = (stack.vpc(), live.vpc_id.as_deref())
        && recorded.trim() != live_vpc
    {
        keys.insert(outputs::VPC);
    }
    if let Some(recorded) = stack.security_group()
        && !live.security_group_ids.iter().any(|g| g == recorded.trim())
    {
        keys.insert(outputs::SECURITY_GROUP);
    }
    if let (Some(recorded), Some(live_sg)) = (
        stack.cluster_security_group_id(),
        live.cluster_security_group_id.as_deref(),
    ) && recorded.trim() != live_sg
    {
        keys.insert(outputs::CLUSTER_SECURITY_GROUP_ID);
    }
    keys.into_iter()
        .filter_map(|k| stack.export_name(k).map(str::to_owned))
        .collect()
}
