//! The live collector (feature `aws`): reads what the selected rules need from CloudFormation,
//! EKS, EC2, Auto Scaling and IAM — few calls, batched per region — and maps it into the same
//! snapshot types the bundle reader produces. One module per service holds its reads and their
//! pagination; this one holds the phase plan.
//!
//! Each read returns its own result into its slot of the snapshot: a failed read fails that
//! input alone ([`Snapshot::failures`]), and the engine then leaves out only the rules that
//! need it. Only the stacks and the cluster itself are needed by every rule: without them a
//! target fails. A read no selected rule needs ([`Options::inputs`]) is not made.
//!
//! The phases, each starting as soon as what it needs is known, independent calls concurrent:
//!
//! 1. credentials; then `sts:GetCallerIdentity` ∥ every region ∥ IAM (once per run);
//! 2. per region, **discover** ∥ **describe**: every stack of the region (one paginated
//!    `DescribeStacks` family) ∥ the cluster names (`ListClusters`) and one `DescribeCluster`
//!    per cluster with its nodegroups, access entries and pod identity associations,
//!    `concurrency` at a time ∥ the auto scaling groups of the region; then the launch template
//!    versions. As soon as the stacks and the names are known, EC2 is asked about what the
//!    cluster stacks name;
//! 3. **EC2 batch**: what the clusters and nodegroups name beyond that, by filter;
//! 4. **second look** at missing IDs ∥ **details**: template and resources where the cheap
//!    comparison needs them, importers of exports (every export under a deletion gate; else
//!    only those a remediation would change, a bounded read that words it).
//!
//! Every client carries the [`guard::ReadOnlyGuard`], which refuses any operation outside
//! [`crate::readonly::ALLOWED_OPERATIONS`] before it is sent.

mod autoscaling;
mod cloudformation;
mod credentials;
mod ec2;
mod eks;
pub mod error;
pub mod guard;
mod iam;
mod map;
mod paginate;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_types::sdk_config::SdkConfig;
use futures::FutureExt as _;
use futures::stream::{self, StreamExt as _};

pub use self::credentials::sdk_config;
use self::ec2::Ec2State;
use self::eks::{Associations, Entries, Managed};
use self::error::{CallError, classify};
use self::guard::ReadOnlyGuard;
pub use self::paginate::MAX_PAGES;
use crate::discovery::discover;
use crate::input::{Input, InputFailure};
use crate::report::{ErrorKind, TargetError};
use crate::snapshot::{AutoScalingGroup, Cluster, LaunchTemplateVersion, Snapshot, Stack, tags};

/// How long the reads that only word a remediation may take together, per region.
const WORDING_DEADLINE: Duration = Duration::from_secs(2);

/// Attempts for a read that only words a remediation: the SDK's standard retries, never the
/// run's `--max-attempts`.
const WORDING_ATTEMPTS: u32 = 3;

/// Which clusters to read.
#[derive(Debug, Clone)]
pub enum Targets {
    /// These clusters.
    Named(Vec<String>),
    /// Every cluster `eks:ListClusters` returns in each region.
    All,
}

/// How to reach AWS, and what to read.
#[derive(Debug, Clone)]
pub struct Options {
    /// Which clusters to read.
    pub targets: Targets,
    /// Regions to read; empty means the region of the AWS configuration chain.
    pub regions: Vec<String>,
    /// The named profile of the AWS config files, if any.
    pub profile: Option<String>,
    /// Clusters described at once per region.
    pub concurrency: usize,
    /// Bound on each attempt of each call (connect and read).
    pub timeout: Duration,
    /// Attempts per call, with exponential backoff and jitter.
    pub max_attempts: u32,
    /// Ask `ListImports` for every export of the clusters' eksctl stacks (one call per export),
    /// as a deletion gate needs; otherwise only for the exports a remediation would change.
    pub all_imports: bool,
    /// Read another account: assume this role from the base credentials first.
    pub assume_role: Option<AssumeRole>,
    /// The inputs to read (the selected rules' inputs,
    /// [`crate::selection::Selection::inputs`]); the stacks and the cluster are always read.
    pub inputs: BTreeSet<Input>,
}

/// A role to assume with `sts:AssumeRole` (it issues credentials; it changes nothing).
#[derive(Debug, Clone)]
pub struct AssumeRole {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// The external ID the role's trust policy asks for, if any.
    pub external_id: Option<String>,
    /// The session name CloudTrail records.
    pub session_name: String,
}

/// One cluster's collected state, or why it could not be read.
#[derive(Debug)]
pub struct Target {
    /// The AWS region.
    pub region: String,
    /// The EKS cluster name (`*` for a region that could not be listed).
    pub cluster: String,
    /// The snapshot (whose `failures` name the inputs that could not be read), or why the
    /// target could not be read at all.
    pub result: Result<Snapshot, TargetError>,
    /// The queries that fed this target, for `capture.json`.
    pub queries: Vec<String>,
}

/// Everything one run collected.
#[derive(Debug)]
pub struct Collection {
    /// One entry per audited (or failed) cluster.
    pub targets: Vec<Target>,
    /// Calls made per `service:Operation` (counted by the guard).
    pub api_calls: BTreeMap<String, u64>,
    /// The account the credentials belong to.
    pub account: Option<String>,
}

/// Failures that stop the run before any target is attempted.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("no AWS region: pass -r/--region, or set AWS_REGION or a region in the AWS profile")]
    /// No region was given or configured.
    NoRegion,
    #[error("no usable AWS credentials: {0}")]
    /// The default credential chain found none.
    NoCredentials(String),
    #[error("checking the credentials failed: {0}")]
    /// `sts:GetCallerIdentity` failed.
    Identity(CallError),
    #[error("{0}")]
    /// `sts:AssumeRole` failed: this account cannot be read.
    AssumeRole(CallError),
}

impl CollectError {
    /// The class of failure, as reports name it.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            CollectError::NoRegion => ErrorKind::InvalidInput,
            CollectError::NoCredentials(_) => ErrorKind::Credentials,
            CollectError::Identity(e) | CollectError::AssumeRole(e) => e.kind,
        }
    }
}

/// Progress for people watching a terminal.
#[allow(missing_docs)] // the fields are what the variant names
#[derive(Debug, Clone)]
pub enum Progress {
    /// A region's cluster list is known.
    Region { region: String, clusters: usize },
    /// One cluster is read (or failed).
    Cluster { region: String, cluster: String },
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    /// For reads that only word a remediation: standard retries.
    cfn_wording: aws_sdk_cloudformation::Client,
    eks: aws_sdk_eks::Client,
    ec2: aws_sdk_ec2::Client,
    autoscaling: aws_sdk_autoscaling::Client,
}

impl Clients {
    fn new(config: &SdkConfig, wording: &SdkConfig, guard: &ReadOnlyGuard) -> Self {
        let cfn = |config: &SdkConfig| {
            aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            )
        };
        Clients {
            cfn: cfn(config),
            cfn_wording: cfn(wording),
            eks: aws_sdk_eks::Client::from_conf(
                aws_sdk_eks::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            autoscaling: aws_sdk_autoscaling::Client::from_conf(
                aws_sdk_autoscaling::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
        }
    }
}

/// Collects every target of every region.
pub async fn collect(
    opts: &Options,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Collection, CollectError> {
    let regions = credentials::resolve_regions(opts).await?;
    let credentials = credentials::resolve_credentials(opts).await?;
    let guard = ReadOnlyGuard::new();
    let credentials = match &opts.assume_role {
        None => credentials,
        Some(role) => {
            credentials::assume_role(&regions[0], opts, credentials, &guard, role).await?
        }
    };

    // The identity check runs alongside the regions' work: bad credentials fail the whole run
    // (and what the regions read is dropped), good ones cost no extra round trip.
    let first = sdk_config(&regions[0], opts, credentials.clone()).await;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&first)
            .interceptor(guard.clone())
            .build(),
    );
    let identity = async {
        sts.get_caller_identity()
            .send()
            .await
            .map(|id| id.account().map(str::to_owned))
            .map_err(|e| CollectError::Identity(classify("sts:GetCallerIdentity", &e)))
    };
    let per_region = stream::iter(regions.iter())
        .map(|region| {
            let credentials = credentials.clone();
            let guard = guard.clone();
            async move {
                let config = sdk_config(region, opts, credentials.clone()).await;
                let wording =
                    credentials::sdk_config_with(region, opts, credentials, WORDING_ATTEMPTS).await;
                let clients = Clients::new(&config, &wording, &guard);
                collect_region(region, &clients, opts, on_progress).await
            }
        })
        .buffered(regions.len().max(1))
        .collect::<Vec<_>>();
    // IAM is global: its inputs are read once for the whole run, alongside the regions.
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&first)
            .interceptor(guard.clone())
            .build(),
    );
    let (account, per_region, iam_inputs) =
        tokio::join!(identity, per_region, iam::read(&iam, &opts.inputs));
    let account = account?;
    let mut targets: Vec<Target> = per_region.into_iter().flatten().collect();
    for target in &mut targets {
        if let Ok(snapshot) = &mut target.result
            && !snapshot.cluster_missing()
        {
            target.queries.extend(iam::add(snapshot, &iam_inputs));
        }
    }
    tracing::info!(
        account = account.as_deref().unwrap_or("?"),
        "credentials work"
    );
    Ok(Collection {
        targets,
        api_calls: guard.calls(),
        account,
    })
}

fn failed(region: &str, cluster: &str, err: &CallError, queries: &[String]) -> Target {
    Target {
        region: region.to_owned(),
        cluster: cluster.to_owned(),
        result: Err(err.to_target_error()),
        queries: queries.to_vec(),
    }
}

/// Phase 2's answer: the region's clusters, each described (or its error), and what was read
/// about them; `None` for a read no selected rule needs.
struct Described {
    names: Vec<String>,
    clusters: HashMap<String, Result<Cluster, CallError>>,
    /// `ListClusters`: the answer, or why not.
    listed: Option<Result<Vec<String>, CallError>>,
    managed: HashMap<String, Result<Managed, CallError>>,
    entries: HashMap<String, Result<Entries, CallError>>,
    associations: HashMap<String, Result<Associations, CallError>>,
    groups: Option<Result<Vec<AutoScalingGroup>, CallError>>,
    versions: Option<Result<Vec<LaunchTemplateVersion>, CallError>>,
}

impl Described {
    fn listed(&self) -> Option<&Vec<String>> {
        self.listed.as_ref().and_then(|l| l.as_ref().ok())
    }
}

/// The phase plan of one region.
async fn collect_region(
    region: &str,
    clients: &Clients,
    opts: &Options,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<Target> {
    // Phase 2: discover ∥ describe (∥ the early EC2 lookup of what the stacks name).
    let stacks = cloudformation::describe_all_stacks(&clients.cfn).shared();
    let (stacks_result, phase2) = tokio::join!(
        stacks.clone(),
        describe_region(region, clients, opts, stacks, on_progress)
    );
    let (described, early) = match phase2 {
        Ok(d) => d,
        // The region's cluster list failed: the region is a failed target of its own.
        Err(e) => return vec![failed(region, "*", &e, &[])],
    };
    let mut queries = Vec::new();
    if described.listed.as_ref().is_some_and(Result::is_ok) {
        queries.push("eks:ListClusters".to_owned());
    }
    let stacks = match stacks_result {
        Ok(s) => s,
        Err(e) if described.names.is_empty() => return vec![failed(region, "*", &e, &queries)],
        Err(e) => {
            return described
                .names
                .iter()
                .map(|n| failed(region, n, &e, &queries))
                .collect();
        }
    };
    queries.push(format!(
        "cloudformation:DescribeStacks (all {} stacks of the region)",
        stacks.len()
    ));
    let leftovers = leftover_clusters(opts, &described, &stacks);
    if described.names.is_empty() && leftovers.is_empty() {
        tracing::info!(region, "no EKS clusters");
        return Vec::new();
    }
    // The report keeps the order the user (or ListClusters) gave, other leftovers last.
    let order: Vec<String> = described
        .names
        .iter()
        .chain(leftovers.iter().filter(|l| !described.names.contains(l)))
        .cloned()
        .collect();

    // Each described cluster's snapshot from phase 2's answers; the others fail.
    let mut targets = Vec::new();
    let mut ready = Vec::new();
    for name in described.names.iter().filter(|n| !leftovers.contains(n)) {
        match assemble(region, name, &described, &stacks, &queries) {
            Ok(r) => ready.push(r),
            Err(t) => {
                on_progress(Progress::Cluster {
                    region: region.to_owned(),
                    cluster: name.clone(),
                });
                targets.push(*t);
            }
        }
    }

    // Phase 3: what the clusters and nodegroups name beyond the stacks' outputs.
    let mut ec2 = early.unwrap_or_else(Ec2State::empty);
    let (subnet_ids, group_ids) = wanted(opts, ready.iter().map(|(s, _)| s));
    ec2.fetch_more(&clients.ec2, &subnet_ids, &group_ids).await;
    let ec2_queries = [
        format!(
            "ec2:DescribeSubnets filter subnet-id ({} IDs)",
            ec2.subnet_ids.len()
        ),
        format!(
            "ec2:DescribeSecurityGroups filter group-id ({} IDs)",
            ec2.group_ids.len()
        ),
    ];
    let read_subnets = opts.inputs.contains(&Input::DescribeSubnets);
    let read_groups = opts.inputs.contains(&Input::DescribeSecurityGroups);
    for (snapshot, own_queries) in &mut ready {
        own_queries.extend(ec2_queries.iter().cloned());
        ec2::fill(snapshot, &ec2, read_subnets, read_groups);
    }

    // Phase 4: the second look at missing IDs alongside the per-cluster details.
    let wording = Wording::new();
    let (recheck_queries, details) = tokio::join!(
        ec2::second_look(&clients.ec2, &mut ec2),
        stream::iter(ready)
            .map(|(snapshot, own_queries)| details(clients, opts, &wording, snapshot, own_queries))
            .buffer_unordered(opts.concurrency.max(1))
            .collect::<Vec<_>>()
    );
    for (mut snapshot, mut own_queries) in details {
        own_queries.extend(recheck_queries.iter().cloned());
        ec2::fill(&mut snapshot, &ec2, read_subnets, read_groups);
        on_progress(Progress::Cluster {
            region: region.to_owned(),
            cluster: snapshot.cluster.name.clone(),
        });
        targets.push(Target {
            region: region.to_owned(),
            cluster: snapshot.cluster.name.clone(),
            result: Ok(snapshot),
            queries: own_queries,
        });
    }
    // The stacks of clusters that no longer exist: a target each.
    for name in &leftovers {
        targets.push(leftover_target(region, name, &described, &stacks, &queries));
    }
    let order: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    targets.sort_by_key(|t| order.get(t.cluster.as_str()).copied().unwrap_or(usize::MAX));
    targets
}

/// Phase 2 but the stacks: the cluster names, each cluster described with its nodegroups and
/// identity, the region's auto scaling groups, then the launch template versions; alongside,
/// as soon as the stacks and the names are known, EC2 about what the cluster stacks name.
/// Fails only when the region's cluster list (`--all-clusters`) cannot be read.
async fn describe_region(
    region: &str,
    clients: &Clients,
    opts: &Options,
    stacks: impl std::future::Future<Output = Result<Vec<Stack>, CallError>>,
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
        let stacks = stacks.await.ok()?;
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
    let (early, described, groups, listed) = tokio::join!(
        early,
        describe_clusters(region, clients, opts, &names),
        groups,
        listed
    );
    let mut clusters = HashMap::new();
    let mut managed = HashMap::new();
    let mut entries = HashMap::new();
    let mut associations = HashMap::new();
    for d in described {
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
        Some(ec2::template_versions(&clients.ec2, opts.concurrency, nodegroups, group_list).await)
    } else {
        None
    };
    Ok((
        Described {
            names,
            clusters,
            listed,
            managed,
            entries,
            associations,
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
}

/// Each cluster described and, once it is known to exist, its managed nodegroups ∥ access
/// entries ∥ pod identity associations (each only when selected); `concurrency` clusters at a
/// time.
async fn describe_clusters(
    region: &str,
    clients: &Clients,
    opts: &Options,
    names: &[String],
) -> Vec<OneCluster> {
    let wants = |i: Input| opts.inputs.contains(&i);
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
            let (managed, entries, associations) = tokio::join!(managed, entries, associations);
            OneCluster {
                name: name.clone(),
                cluster,
                managed,
                entries,
                associations,
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// A described cluster's snapshot: its stacks, the cluster, and its share of the region's
/// inputs, each read or failed on its own. `Err` with the failed target when the cluster
/// itself could not be described.
fn assemble(
    region: &str,
    name: &str,
    described: &Described,
    stacks: &[Stack],
    queries: &[String],
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
            let templates = ec2::launch_template_ids(
                snapshot.nodegroups.iter(),
                snapshot.auto_scaling_groups.iter().flatten(),
            );
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
    Ok((snapshot, own_queries))
}

/// Records that `input` could not be read.
fn fail(snapshot: &mut Snapshot, input: Input, err: &CallError) {
    snapshot.failures.insert(input, err.to_failure());
}

/// The target of a cluster that no longer exists: the stacks it left behind.
fn leftover_target(
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
fn leftover_clusters(opts: &Options, described: &Described, stacks: &[Stack]) -> Vec<String> {
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

/// The subnet and group IDs the snapshots name, of the kinds the selected rules read.
fn wanted<'a>(
    opts: &Options,
    snapshots: impl Iterator<Item = &'a Snapshot>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut subnet_ids = BTreeSet::new();
    let mut group_ids = BTreeSet::new();
    for snapshot in snapshots {
        let (subnets, groups) = ec2::wanted_ids(snapshot);
        subnet_ids.extend(subnets);
        group_ids.extend(groups);
    }
    only_selected(opts, subnet_ids, group_ids)
}

/// The IDs of the kinds the selected rules read (no call for the others).
fn only_selected(
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

/// The budget of the reads that only word a remediation, shared by a region's clusters: one
/// deadline for them all, and after the first failure no more such reads.
struct Wording {
    deadline: tokio::time::Instant,
    broken: AtomicBool,
    /// The first failure: reads not made after it report it.
    first: std::sync::Mutex<Option<CallError>>,
}

impl Wording {
    fn new() -> Self {
        Wording {
            deadline: tokio::time::Instant::now() + WORDING_DEADLINE,
            broken: AtomicBool::new(false),
            first: std::sync::Mutex::new(None),
        }
    }
}

/// Phase 4 for one cluster: the template and resources where the cheap comparison needs
/// them, and the importers of exports.
async fn details(
    clients: &Clients,
    opts: &Options,
    wording: &Wording,
    mut snapshot: Snapshot,
    mut own_queries: Vec<String>,
) -> (Snapshot, Vec<String>) {
    let name = snapshot.cluster.name.clone();
    let stack_name = discover(&snapshot.stacks, &name)
        .stack
        .filter(|_| opts.inputs.contains(&Input::GetTemplate))
        .filter(|s| cloudformation::needs_template(s, &snapshot))
        .map(|s| s.stack_name.clone());
    // A deletion gate asks about every export of the cluster's eksctl stacks (EKD702), with
    // the run's retries; otherwise only the exports a remediation would change, a bounded read.
    let gate = opts.all_imports && opts.inputs.contains(&Input::ListImports);
    let mut exports = crate::plan::exports_to_change(&snapshot);
    if gate {
        exports.extend(
            snapshot
                .stacks
                .iter()
                .filter(|s| s.cluster_name_tag() == Some(name.as_str()))
                .flat_map(|s| s.outputs.iter().filter_map(|o| o.export_name.clone())),
        );
        exports.sort();
        exports.dedup();
    }
    let template = async {
        match &stack_name {
            Some(stack) => Some(cloudformation::stack_details(&clients.cfn, stack).await),
            None => None,
        }
    };
    let imports = stream::iter(exports.iter())
        .map(|export| async move {
            let result = if gate {
                cloudformation::list_imports(&clients.cfn, export).await
            } else {
                bounded_list_imports(&clients.cfn_wording, wording, export).await
            };
            (export.clone(), result)
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    // The templates of the managed nodegroup stacks with a launch template of their own: the
    // version `eksctl upgrade nodegroup` starts from is recorded there.
    let ng_stacks: Vec<String> = if opts.inputs.contains(&Input::GetNodegroupTemplates) {
        snapshot
            .custom_launch_template_stacks()
            .iter()
            .map(|s| s.stack_name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let ng_templates = stream::iter(ng_stacks.iter())
        .map(|stack| async move {
            (
                stack.clone(),
                cloudformation::template(&clients.cfn, stack).await,
            )
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    let (template, imports, ng_templates) = tokio::join!(template, imports, ng_templates);
    if opts.inputs.contains(&Input::GetNodegroupTemplates)
        && !snapshot.failures.contains_key(&Input::ListNodegroups)
    {
        let mut templates = BTreeMap::new();
        for (stack, result) in ng_templates {
            match result {
                Ok(body) => {
                    own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                    templates.insert(stack, body.unwrap_or_default());
                }
                Err(e) => fail(&mut snapshot, Input::GetNodegroupTemplates, &e),
            }
        }
        if !snapshot
            .failures
            .contains_key(&Input::GetNodegroupTemplates)
        {
            snapshot.nodegroup_templates = Some(templates);
        }
    }
    match template {
        Some(Ok((template, resources))) => {
            snapshot.template = template;
            snapshot.stack_resources = Some(resources);
            if let Some(stack) = &stack_name {
                own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                own_queries.push(format!(
                    "cloudformation:DescribeStackResources stack={stack}"
                ));
            }
        }
        Some(Err(e)) => {
            fail(&mut snapshot, Input::GetTemplate, &e);
            fail(&mut snapshot, Input::DescribeStackResources, &e);
        }
        None => {}
    }
    let mut known = BTreeMap::new();
    for (export, result) in imports {
        match result {
            Ok(importers) => {
                own_queries.push(format!("cloudformation:ListImports export={export}"));
                known.insert(export, importers);
            }
            Err(e) => {
                tracing::warn!(export, error = %e, "could not list the importers of an export");
                let failure = if gate {
                    e.to_failure()
                } else {
                    // Only the remediation's wording depends on it: it then says how to check.
                    e.to_failure().for_wording()
                };
                snapshot
                    .failures
                    .entry(Input::ListImports)
                    .or_insert(failure);
            }
        }
    }
    snapshot.imports = Some(known);
    (snapshot, own_queries)
}

/// `ListImports` for a remediation's wording: standard retries, the region's shared deadline,
/// and none after the first failure.
async fn bounded_list_imports(
    cfn: &aws_sdk_cloudformation::Client,
    wording: &Wording,
    export: &str,
) -> Result<Vec<String>, CallError> {
    let skipped = |why: &str| CallError {
        action: "cloudformation:ListImports".to_owned(),
        kind: ErrorKind::Timeout,
        code: None,
        message: why.to_owned(),
    };
    if wording.broken.load(Ordering::Relaxed) {
        let first = wording.first.lock().ok().and_then(|f| f.clone());
        return Err(first.map_or_else(
            || {
                skipped(
                    "not asked after an earlier ListImports failed (it only words a remediation)",
                )
            },
            |mut e| {
                e.message = format!(
                    "not asked after an earlier ListImports failed: {}",
                    e.message
                );
                e
            },
        ));
    }
    let result =
        tokio::time::timeout_at(wording.deadline, cloudformation::list_imports(cfn, export))
            .await
            .unwrap_or_else(|_| {
                Err(skipped(&format!(
                    "no answer within {} s (it only words a remediation)",
                    WORDING_DEADLINE.as_secs()
                )))
            });
    if let Err(e) = &result {
        if let Ok(mut first) = wording.first.lock() {
            first.get_or_insert_with(|| e.clone());
        }
        wording.broken.store(true, Ordering::Relaxed);
    }
    result
}
