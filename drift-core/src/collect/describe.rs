//! Phase 2 but the stacks: the region's cluster names, each cluster described with its
//! nodegroups and identity, the auto scaling groups, then the launch template versions; each
//! read only when a selected rule needs it, each answer kept with its own result.

use std::collections::{BTreeSet, HashMap};

use futures::stream::{self, StreamExt as _};

use super::ec2::{self, Ec2State};
use super::eks::{self, Addons, Associations, Entries, Insights, Managed, Profiles};
use super::error::CallError;
use super::{Clients, Options, Progress, autoscaling, cloudformation};
use crate::input::Input;
use crate::snapshot::{
    AddonInfo, AutoScalingGroup, Cluster, ClusterVersion, LaunchTemplateVersion, Stack, outputs,
};

/// Addon versions by Kubernetes version, for one cluster.
pub(super) type AddonVersions = std::collections::BTreeMap<String, Vec<AddonInfo>>;

/// Phase 2's answer: the region's clusters, each described (or its error), and what was read
/// about them; `None` for a read no selected rule needs.
pub(super) struct Described {
    pub(super) names: Vec<String>,
    pub(super) clusters: HashMap<String, Result<Cluster, CallError>>,
    /// `ListClusters`: the answer, or why not.
    pub(super) listed: Option<Result<Vec<String>, CallError>>,
    pub(super) managed: HashMap<String, Result<Managed, CallError>>,
    pub(super) entries: HashMap<String, Result<Entries, CallError>>,
    pub(super) associations: HashMap<String, Result<Associations, CallError>>,
    pub(super) addons: HashMap<String, Result<Addons, CallError>>,
    pub(super) profiles: HashMap<String, Result<Profiles, CallError>>,
    pub(super) insights: HashMap<String, Result<Insights, CallError>>,
    /// `DescribeClusterVersions`, once for the region.
    pub(super) cluster_versions: Option<Result<Vec<ClusterVersion>, CallError>>,
    /// The addon versions for each cluster's upgrade target.
    pub(super) addon_versions: HashMap<String, Result<AddonVersions, CallError>>,
    pub(super) groups: Option<Result<Vec<AutoScalingGroup>, CallError>>,
    pub(super) versions: Option<Result<Vec<LaunchTemplateVersion>, CallError>>,
}

impl Described {
    pub(super) fn listed(&self) -> Option<&Vec<String>> {
        self.listed.as_ref().and_then(|l| l.as_ref().ok())
    }
}

/// Phase 2 but the stacks: the cluster names, each cluster described with its nodegroups and
/// identity, the region's auto scaling groups, then the launch template versions; alongside,
/// as soon as the stacks and the names are known, EC2 about what the cluster stacks name.
/// Fails only when the region's cluster list (`--all-clusters`) cannot be read.
pub(super) async fn describe_region(
    region: &str,
    clients: &Clients,
    opts: &Options,
    stacks: impl std::future::Future<Output = Result<Vec<Stack>, CallError>> + Clone,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<(Described, Option<Ec2State>), CallError> {
    let (names, listed) = eks::cluster_names(&clients.eks, opts).await?;
    on_progress(Progress::Region {
        region: region.to_owned(),
        clusters: names.len(),
    });
    let early = async {
        if names.is_empty() {
            return None;
        }
        let stacks = stacks.clone().await.ok()?;
        let mut subnet_ids = BTreeSet::new();
        let mut group_ids = BTreeSet::new();
        for name in &names {
            let unknown = Cluster {
                name: name.clone(),
                ..Cluster::default()
            };
            let (subnets, groups) =
                ec2::referenced_ids(&cloudformation::stacks_of(&stacks, name), &unknown);
            subnet_ids.extend(subnets);
            group_ids.extend(groups);
        }
        let (subnet_ids, group_ids) = only_selected(opts, subnet_ids, group_ids);
        Some(Ec2State::fetch(&clients.ec2, subnet_ids, group_ids).await)
    };
    let listed = async {
        match listed {
            Some(listed) => Some(Ok(listed)),
            // Named clusters: one more call, so that leftover stacks can be judged.
            None if names.is_empty() || !opts.inputs.contains(&Input::ListClusters) => None,
            None => Some(eks::list_clusters(&clients.eks).await),
        }
    };
    let groups = async {
        if opts.inputs.contains(&Input::DescribeAutoScalingGroups) {
            Some(autoscaling::auto_scaling_groups(&clients.autoscaling, &names).await)
        } else {
            None
        }
    };
    let cluster_versions = async {
        if opts.inputs.contains(&Input::DescribeClusterVersions) && !names.is_empty() {
            Some(eks::cluster_versions(&clients.eks).await)
        } else {
            None
        }
    };
    let (early, described, groups, listed, cluster_versions) = tokio::join!(
        early,
        describe_clusters(region, clients, opts, &names, stacks.clone()),
        groups,
        listed,
        cluster_versions
    );
    let mut clusters = HashMap::new();
    let mut managed = HashMap::new();
    let mut entries = HashMap::new();
    let mut associations = HashMap::new();
    let mut addons = HashMap::new();
    let mut profiles = HashMap::new();
    let mut insights = HashMap::new();
    for d in described {
        insights.extend(d.insights.map(|i| (d.name.clone(), i)));
        profiles.extend(d.profiles.map(|p| (d.name.clone(), p)));
        addons.extend(d.addons.map(|a| (d.name.clone(), a)));
        managed.extend(d.managed.map(|m| (d.name.clone(), m)));
        entries.extend(d.entries.map(|e| (d.name.clone(), e)));
        associations.extend(d.associations.map(|a| (d.name.clone(), a)));
        clusters.insert(d.name, d.cluster);
    }
    let versions = if opts.inputs.contains(&Input::DescribeLaunchTemplateVersions) {
        let nodegroups = managed
            .values()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|(_, described)| described);
        let group_list = groups.iter().flat_map(|g| g.iter().flatten());
        // And the templates a ClusterConfig plan's nodegroups name.
        let planned = opts
            .gate
            .plan
            .as_ref()
            .map(|p| p.config.launch_template_ids())
            .unwrap_or_default();
        Some(
            ec2::template_versions(
                &clients.ec2,
                opts.concurrency,
                nodegroups,
                group_list,
                &planned,
            )
            .await,
        )
    } else {
        None
    };
    let addon_versions = addon_versions(
        clients,
        opts,
        &clusters,
        &addons,
        cluster_versions.as_ref().and_then(|v| v.as_ref().ok()),
    )
    .await;
    Ok((
        Described {
            names,
            clusters,
            listed,
            managed,
            entries,
            associations,
            addons,
            profiles,
            insights,
            cluster_versions,
            addon_versions,
            groups,
            versions,
        },
        early,
    ))
}

/// One cluster described, and what phase 2 reads about it once it is known to exist.
struct OneCluster {
    name: String,
    cluster: Result<Cluster, CallError>,
    managed: Option<Result<Managed, CallError>>,
    entries: Option<Result<Entries, CallError>>,
    associations: Option<Result<Associations, CallError>>,
    addons: Option<Result<Addons, CallError>>,
    profiles: Option<Result<Profiles, CallError>>,
    insights: Option<Result<Insights, CallError>>,
}

/// Each cluster described and, once it is known to exist, its managed nodegroups ∥ access
/// entries ∥ pod identity associations (each only when selected); `concurrency` clusters at a
/// time.
async fn describe_clusters(
    region: &str,
    clients: &Clients,
    opts: &Options,
    names: &[String],
    stacks: impl std::future::Future<Output = Result<Vec<Stack>, CallError>> + Clone,
) -> Vec<OneCluster> {
    let wants = |i: Input| opts.inputs.contains(&i);
    let stacks = &stacks;
    let concurrency = opts.concurrency;
    stream::iter(names.iter())
        .map(|name| async move {
            let cluster = eks::describe_cluster(&clients.eks, region, name).await;
            let Ok(c) = &cluster else {
                return OneCluster {
                    name: name.clone(),
                    cluster,
                    managed: None,
                    entries: None,
                    associations: None,
                    addons: None,
                    profiles: None,
                    insights: None,
                };
            };
            let managed = async {
                if wants(Input::ListNodegroups) {
                    Some(eks::managed_nodegroups(&clients.eks, concurrency, name).await)
                } else {
                    None
                }
            };
            let entries = async {
                if wants(Input::ListAccessEntries) {
                    Some(eks::access_entries(&clients.eks, concurrency, c).await)
                } else {
                    None
                }
            };
            let associations = async {
                if wants(Input::ListPodIdentityAssociations) {
                    Some(eks::pod_identity_associations(&clients.eks, concurrency, name).await)
                } else {
                    None
                }
            };
            let addons = async {
                if wants(Input::ListAddons) {
                    Some(eks::addons(&clients.eks, concurrency, name).await)
                } else {
                    None
                }
            };
            let profiles = async {
                if wants(Input::ListFargateProfiles)
                    && (opts.gate.fargate || names_fargate_role(stacks.clone().await, name))
                {
                    Some(eks::fargate_profiles(&clients.eks, concurrency, name).await)
                } else {
                    None
                }
            };
            let insights = async {
                if opts.gate.upgrade && wants(Input::ListInsights) {
                    Some(eks::insights(&clients.eks, concurrency, name).await)
                } else {
                    None
                }
            };
            let (managed, entries, associations, addons, profiles, insights) =
                tokio::join!(managed, entries, associations, addons, profiles, insights);
            OneCluster {
                name: name.clone(),
                cluster,
                managed,
                entries,
                associations,
                addons,
                profiles,
                insights,
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Whether the cluster's stack names a Fargate pod execution role: eksctl made Fargate
/// profiles for it (a failed stack listing reads the profiles, rather than skip them).
fn names_fargate_role(stacks: Result<Vec<Stack>, CallError>, name: &str) -> bool {
    let Ok(stacks) = stacks else {
        return true;
    };
    cloudformation::stacks_of(&stacks, name).iter().any(|s| {
        s.outputs
            .iter()
            .any(|o| o.output_key == outputs::FARGATE_POD_EXECUTION_ROLE_ARN)
    })
}

/// The upgrade's target for a cluster: `--to-version`, or the next minor when EKS offers it.
pub(super) fn upgrade_target(
    opts: &Options,
    cluster: &Cluster,
    offered: &[ClusterVersion],
) -> Option<String> {
    if let Some(to) = &opts.gate.to_version {
        return Some(to.clone());
    }
    let next = crate::rules::versions::next_minor(cluster.version.as_deref()?)?;
    offered
        .iter()
        .any(|v| v.cluster_version == next)
        .then_some(next)
}

/// The versions EKS offers of each cluster's addons for its upgrade target (the upgrade gate
/// only): one `DescribeAddonVersions` per (target, addon) of the region.
async fn addon_versions(
    clients: &Clients,
    opts: &Options,
    clusters: &HashMap<String, Result<Cluster, CallError>>,
    addons: &HashMap<String, Result<Addons, CallError>>,
    offered: Option<&Vec<ClusterVersion>>,
) -> HashMap<String, Result<AddonVersions, CallError>> {
    let mut out = HashMap::new();
    if !(opts.gate.upgrade && opts.inputs.contains(&Input::DescribeAddonVersions)) {
        return out;
    }
    let Some(offered) = offered else {
        return out;
    };
    // Each cluster's target and addons.
    let mut wanted: Vec<(String, String, Vec<String>)> = Vec::new();
    for (name, cluster) in clusters {
        let (Ok(cluster), Some(Ok((listed, _)))) = (cluster, addons.get(name)) else {
            continue;
        };
        // No target: nothing version-specific to read, and none is kept.
        if let Some(target) = upgrade_target(opts, cluster, offered) {
            wanted.push((name.clone(), target, listed.clone()));
        }
    }
    let pairs: BTreeSet<(String, String)> = wanted
        .iter()
        .flat_map(|(_, t, addons)| addons.iter().map(move |a| (t.clone(), a.clone())))
        .collect();
    let answers: HashMap<(String, String), Result<Vec<AddonInfo>, CallError>> = stream::iter(pairs)
        .map(|(target, addon)| async move {
            let found = eks::addon_versions(&clients.eks, &target, &addon).await;
            ((target, addon), found)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    for (name, target, listed) in wanted {
        let mut infos = Vec::new();
        let mut failed = None;
        for addon in &listed {
            match answers.get(&(target.clone(), addon.clone())) {
                Some(Ok(found)) => infos.extend(found.iter().cloned()),
                Some(Err(e)) => failed = Some(e.clone()),
                None => {}
            }
        }
        let result = match failed {
            Some(e) => Err(e),
            None => Ok(std::iter::once((target, infos)).collect()),
        };
        out.insert(name, result);
    }
    out
}

/// The IDs of the kinds the selected rules read (no call for the others).
pub(super) fn only_selected(
    opts: &Options,
    subnet_ids: BTreeSet<String>,
    group_ids: BTreeSet<String>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let keep = |i: Input, ids: BTreeSet<String>| {
        if opts.inputs.contains(&i) {
            ids
        } else {
            BTreeSet::new()
        }
    };
    (
        keep(Input::DescribeSubnets, subnet_ids),
        keep(Input::DescribeSecurityGroups, group_ids),
    )
}
