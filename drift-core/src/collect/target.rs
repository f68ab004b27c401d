//! A target from phase 2's answers: a described cluster's snapshot with its share of the
//! region's inputs (each read or failed on its own), or the stacks a deleted cluster left.

use std::collections::BTreeSet;

use super::describe::Described;
use super::ec2;
use super::error::CallError;
use super::{Options, Target, Targets, cloudformation, failed};
use crate::input::{Input, InputFailure};
use crate::report::ErrorKind;
use crate::snapshot::{Cluster, Snapshot, Stack, tags};

/// A described cluster's snapshot: its stacks, the cluster, and its share of the region's
/// inputs, each read or failed on its own. `Err` with the failed target when the cluster
/// itself could not be described.
pub(super) fn assemble(
    region: &str,
    name: &str,
    described: &Described,
    stacks: &[Stack],
    queries: &[String],
    opts: &super::Options,
) -> Result<(Snapshot, Vec<String>), Box<Target>> {
    let mut own_queries = queries.to_vec();
    own_queries.push(format!("eks:DescribeCluster name={name}"));
    let cluster = match described.clusters.get(name) {
        Some(Ok(c)) => c.clone(),
        Some(Err(e)) => return Err(Box::new(failed(region, name, e, &own_queries))),
        None => {
            let e = CallError {
                action: "eks:DescribeCluster".to_owned(),
                kind: ErrorKind::Internal,
                code: None,
                message: format!("{name} was not described"),
            };
            return Err(Box::new(failed(region, name, &e, &own_queries)));
        }
    };
    let mut snapshot = Snapshot {
        source: "live".to_owned(),
        region: Some(region.to_owned()),
        stacks: cloudformation::stacks_of(stacks, name),
        cluster,
        clusters: described.listed().cloned(),
        ..Snapshot::default()
    };
    if let Some(Err(e)) = &described.listed {
        snapshot
            .failures
            .insert(Input::ListClusters, e.to_failure());
    }
    match described.managed.get(name) {
        Some(Ok((names, nodegroups))) => {
            own_queries.push(format!("eks:ListNodegroups cluster={name}"));
            if !nodegroups.is_empty() {
                own_queries.push(format!(
                    "eks:DescribeNodegroup cluster={name} ({} nodegroups)",
                    nodegroups.len()
                ));
            }
            snapshot.nodegroup_names = Some(names.clone());
            snapshot.nodegroups.clone_from(nodegroups);
        }
        Some(Err(e)) => fail(&mut snapshot, Input::ListNodegroups, e),
        None => {}
    }
    match &described.groups {
        Some(Ok(groups)) => {
            own_queries.push(format!(
                "autoscaling:DescribeAutoScalingGroups filter tag-key={}{name}",
                tags::KUBERNETES_CLUSTER_PREFIX
            ));
            let cluster_tag = format!("{}{name}", tags::KUBERNETES_CLUSTER_PREFIX);
            snapshot.auto_scaling_groups = Some(
                groups
                    .iter()
                    .filter(|g| {
                        g.tag(&cluster_tag).is_some() || g.tag(tags::CLUSTER_NAME) == Some(name)
                    })
                    .cloned()
                    .collect(),
            );
        }
        Some(Err(e)) => fail(&mut snapshot, Input::DescribeAutoScalingGroups, e),
        None => {}
    }
    match &described.versions {
        // Which templates this cluster names is known only when its nodegroups and groups
        // were read.
        Some(_)
            if snapshot.failures.keys().any(|i| {
                Input::DescribeLaunchTemplateVersions
                    .prerequisites()
                    .contains(i)
            }) =>
        {
            snapshot.failures.insert(
                Input::DescribeLaunchTemplateVersions,
                InputFailure::new(
                    "ec2:DescribeLaunchTemplateVersions",
                    ErrorKind::NotFound,
                    "not asked: the nodegroups that name the launch templates could not be read",
                ),
            );
        }
        Some(Ok(versions)) => {
            let mut templates = ec2::launch_template_ids(
                snapshot.nodegroups.iter(),
                snapshot.auto_scaling_groups.iter().flatten(),
            );
            if let Some(plan) = opts
                .gate
                .plan
                .as_ref()
                .filter(|p| p.config.metadata.name == name)
            {
                templates.extend(plan.config.launch_template_ids());
            }
            if !templates.is_empty() {
                own_queries.push(format!(
                    "ec2:DescribeLaunchTemplateVersions ({} launch templates)",
                    templates.len()
                ));
            }
            snapshot.launch_template_versions = Some(
                versions
                    .iter()
                    .filter(|v| templates.contains(&v.launch_template_id))
                    .cloned()
                    .collect(),
            );
        }
        Some(Err(e)) => fail(&mut snapshot, Input::DescribeLaunchTemplateVersions, e),
        None => {}
    }
    match described.entries.get(name) {
        Some(Ok(Some((entries, details)))) => {
            own_queries.push(format!("eks:ListAccessEntries cluster={name}"));
            if !details.is_empty() {
                own_queries.push(format!(
                    "eks:DescribeAccessEntry cluster={name} ({} role entries)",
                    details.len()
                ));
            }
            snapshot.access_entries = Some(entries.clone());
            snapshot.access_entry_details.clone_from(details);
        }
        // The cluster does not authenticate by API: it has no access entries to list.
        Some(Ok(None)) | None => {}
        Some(Err(e)) => fail(&mut snapshot, Input::ListAccessEntries, e),
    }
    match described.associations.get(name) {
        Some(Ok((listed, details))) => {
            own_queries.push(format!("eks:ListPodIdentityAssociations cluster={name}"));
            if !details.is_empty() {
                own_queries.push(format!(
                    "eks:DescribePodIdentityAssociation cluster={name} ({} associations)",
                    details.len()
                ));
            }
            snapshot.pod_identity_associations = Some(listed.clone());
            snapshot.pod_identity_details.clone_from(details);
        }
        Some(Err(e)) => fail(&mut snapshot, Input::ListPodIdentityAssociations, e),
        None => {}
    }
    match described.profiles.get(name) {
        Some(Ok((listed, details))) => {
            own_queries.push(format!("eks:ListFargateProfiles cluster={name}"));
            if !details.is_empty() {
                own_queries.push(format!(
                    "eks:DescribeFargateProfile cluster={name} ({} profiles)",
                    details.len()
                ));
            }
            snapshot.fargate_profile_names = Some(listed.clone());
            snapshot.fargate_profiles.clone_from(details);
        }
        Some(Err(e)) => fail(&mut snapshot, Input::ListFargateProfiles, e),
        // Wanted, but the cluster stack names no Fargate role and no gate asked for them.
        None => {
            snapshot.skipped.insert(Input::ListFargateProfiles);
        }
    }
    match described.insights.get(name) {
        Some(Ok((listed, details))) => {
            own_queries.push(format!("eks:ListInsights cluster={name}"));
            if !details.is_empty() {
                own_queries.push(format!(
                    "eks:DescribeInsight cluster={name} ({} insights not passing)",
                    details.len()
                ));
            }
            snapshot.insights = Some(listed.clone());
            snapshot.insight_details.clone_from(details);
        }
        Some(Err(e)) => fail(&mut snapshot, Input::ListInsights, e),
        None => {}
    }
    match &described.cluster_versions {
        Some(Ok(versions)) => {
            own_queries.push("eks:DescribeClusterVersions".to_owned());
            snapshot.cluster_versions = Some(versions.clone());
        }
        Some(Err(e)) => fail(&mut snapshot, Input::DescribeClusterVersions, e),
        None => {}
    }
    match described.addon_versions.get(name) {
        Some(Ok(by_version)) => {
            for (version, addons) in by_version {
                own_queries.push(format!(
                    "eks:DescribeAddonVersions kubernetes-version={version} ({} addons)",
                    addons.len()
                ));
            }
            snapshot.addon_versions = Some(by_version.clone());
        }
        Some(Err(e)) => fail(&mut snapshot, Input::DescribeAddonVersions, e),
        None => {}
    }
    snapshot.to_version.clone_from(&opts.gate.to_version);
    snapshot.plan = opts
        .gate
        .plan
        .clone()
        .filter(|p| p.config.metadata.name == name);
    snapshot.observed_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok();
    match described.addons.get(name) {
        Some(Ok((listed, details))) => {
            own_queries.push(format!("eks:ListAddons cluster={name}"));
            if !details.is_empty() {
                own_queries.push(format!(
                    "eks:DescribeAddon cluster={name} ({} addons)",
                    details.len()
                ));
            }
            snapshot.addon_names = Some(listed.clone());
            snapshot.addons.clone_from(details);
        }
        Some(Err(e)) => fail(&mut snapshot, Input::ListAddons, e),
        None => {}
    }
    Ok((snapshot, own_queries))
}

/// The snapshot of a cluster a create-cluster plan makes and that does not exist yet: its name,
/// the stacks a former cluster of that name may have left, and the plan.
pub(super) fn new_cluster(
    region: &str,
    name: &str,
    described: &Described,
    stacks: &[Stack],
    queries: &[String],
    opts: &super::Options,
) -> (Snapshot, Vec<String>) {
    let mut own_queries = queries.to_vec();
    own_queries.push(format!(
        "eks:DescribeCluster name={name} (not found: the plan creates it)"
    ));
    let snapshot = Snapshot {
        source: "live".to_owned(),
        region: Some(region.to_owned()),
        stacks: cloudformation::stacks_of(stacks, name),
        cluster: Cluster {
            name: name.to_owned(),
            ..Cluster::default()
        },
        // DescribeCluster said the cluster is not in the region.
        clusters: Some(described.listed().cloned().unwrap_or_default()),
        plan: opts.gate.plan.clone(),
        observed_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok(),
        ..Snapshot::default()
    };
    (snapshot, own_queries)
}

/// Records that `input` could not be read.
pub(super) fn fail(snapshot: &mut Snapshot, input: Input, err: &CallError) {
    snapshot.failures.insert(input, err.to_failure());
}

/// The target of a cluster that no longer exists: the stacks it left behind.
pub(super) fn leftover_target(
    region: &str,
    name: &str,
    described: &Described,
    stacks: &[Stack],
    queries: &[String],
) -> Target {
    let mut own_queries = queries.to_vec();
    own_queries.push(format!(
        "eks:ListClusters (does not list {name}; its stacks are audited as leftovers)"
    ));
    Target {
        region: region.to_owned(),
        cluster: name.to_owned(),
        result: Ok(Snapshot {
            source: "live".to_owned(),
            region: Some(region.to_owned()),
            stacks: cloudformation::stacks_of(stacks, name),
            cluster: Cluster {
                name: name.to_owned(),
                ..Cluster::default()
            },
            clusters: described.listed().cloned(),
            ..Snapshot::default()
        }),
        queries: own_queries,
    }
}

/// The clusters whose eksctl stacks remain although `ListClusters` does not list them: every
/// one with `--all-clusters`, the named ones otherwise (when `DescribeCluster` also says the
/// cluster is gone). Sorted, without duplicates.
pub(super) fn leftover_clusters(
    opts: &Options,
    described: &Described,
    stacks: &[Stack],
) -> Vec<String> {
    let Some(listed) = described.listed() else {
        return Vec::new();
    };
    let tagged: BTreeSet<&str> = stacks
        .iter()
        .filter(|s| s.stack_status != "DELETE_COMPLETE")
        .filter_map(Stack::cluster_name_tag)
        .filter(|c| !listed.iter().any(|l| l == c))
        .collect();
    match &opts.targets {
        Targets::All => tagged.into_iter().map(str::to_owned).collect(),
        Targets::Named(_) => described
            .names
            .iter()
            .filter(|n| tagged.contains(n.as_str()))
            .filter(|n| {
                matches!(described.clusters.get(*n), Some(Err(e)) if e.kind == ErrorKind::NotFound)
            })
            .cloned()
            .collect(),
    }
}
