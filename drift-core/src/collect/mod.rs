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
mod describe;
mod details;
mod ec2;
mod eks;
pub mod error;
pub mod guard;
mod iam;
mod map;
mod network;
pub mod org;
mod paginate;
mod planned;
mod target;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_types::sdk_config::SdkConfig;
use futures::FutureExt as _;
use futures::stream::{self, StreamExt as _};

pub use self::credentials::sdk_config;
use self::describe::{describe_region, only_selected};
use self::details::{WORDING_ATTEMPTS, Wording, details};
use self::ec2::Ec2State;
use self::error::{CallError, classify};
use self::guard::ReadOnlyGuard;
pub use self::paginate::MAX_PAGES;
use self::target::{assemble, leftover_clusters, leftover_target};
use crate::input::Input;
use crate::report::{ErrorKind, TargetError};
use crate::snapshot::Snapshot;

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
    /// Read every region the account has enabled (`ec2:DescribeRegions` with the account's
    /// credentials, asked in the first of `regions` or the chain's region) instead of
    /// `regions`.
    pub all_regions: bool,
    /// The named profile of the AWS config files, if any.
    pub profile: Option<String>,
    /// Clusters described at once per region.
    pub concurrency: usize,
    /// Bound on each attempt of each call (connect and read).
    pub timeout: Duration,
    /// Attempts per call, with exponential backoff and jitter.
    pub max_attempts: u32,
    /// What a gate (`--for`) or a capture reads beyond the default audit.
    pub gate: GateReads,
    /// Read another account: assume this role from the base credentials first.
    pub assume_role: Option<AssumeRole>,
    /// The inputs to read (the selected rules' inputs,
    /// [`crate::selection::Selection::inputs`]); the stacks and the cluster are always read.
    pub inputs: BTreeSet<Input>,
}

/// The reads a gate (`--for`) or a capture asks for beyond the default audit's.
#[derive(Debug, Clone, Default)]
pub struct GateReads {
    /// Ask `ListImports` for every export of the clusters' eksctl stacks (one call per export),
    /// as a deletion gate needs; otherwise only for the exports a remediation would change.
    pub all_imports: bool,
    /// Read the insights and the addon versions (the upgrade gate).
    pub upgrade: bool,
    /// Read the Fargate profiles of every cluster; otherwise only of the clusters whose stack
    /// names a Fargate pod execution role.
    pub fargate: bool,
    /// The upgrade's target version (`--to-version`); `None`: the next minor EKS offers.
    pub to_version: Option<String>,
    /// A ClusterConfig plan (`-f FILE`): attached to its cluster's snapshot, so that the
    /// subnets it names are looked up with the others.
    pub plan: Option<crate::snapshot::Plan>,
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
    #[error(
        "{0}: --org reads the organization's accounts and needs the credentials of its management account or of a delegated administrator, allowed organizations:ListAccounts (and, with --ou, ListAccountsForParent and ListChildren): docs/iam-policy-organizations.json"
    )]
    /// Organizations discovery (`--org`) failed.
    Organizations(CallError),
    #[error("listing the account's enabled regions (--all-regions): {0}")]
    /// `ec2:DescribeRegions` failed for `--all-regions`: this account cannot be read.
    Regions(CallError),
}

impl CollectError {
    /// The class of failure, as reports name it.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            CollectError::NoRegion => ErrorKind::InvalidInput,
            CollectError::NoCredentials(_) => ErrorKind::Credentials,
            CollectError::Identity(e)
            | CollectError::AssumeRole(e)
            | CollectError::Organizations(e)
            | CollectError::Regions(e) => e.kind,
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
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
    elb: aws_sdk_elasticloadbalancing::Client,
    iam: aws_sdk_iam::Client,
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
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(
                aws_sdk_elasticloadbalancingv2::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            elb: aws_sdk_elasticloadbalancing::Client::from_conf(
                aws_sdk_elasticloadbalancing::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(config)
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
    let regions = if opts.all_regions {
        credentials::enabled_regions(&regions[0], opts, credentials.clone(), &guard)
            .await
            .map_err(CollectError::Regions)?
    } else {
        regions
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
    // The cluster a create-cluster plan makes, which does not exist yet: its target is the
    // plan, read beyond the cluster (the file's VPC and subnets), not a failed DescribeCluster.
    let mut planned_new = Vec::new();
    for name in described.names.iter().filter(|n| !leftovers.contains(n)) {
        match assemble(region, name, &described, &stacks, &queries, opts) {
            Ok(r) => ready.push(r),
            Err(t) if new_cluster_plan(opts, name, &t) => {
                planned_new.push(target::new_cluster(
                    region, name, &described, &stacks, &queries, opts,
                ));
            }
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
    let (subnet_ids, group_ids) = wanted(opts, ready.iter().chain(&planned_new).map(|(s, _)| s));
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
    // The delete gate's reads about the clusters' VPCs, batched for the region.
    let network = network::read(
        &clients.ec2,
        &clients.elbv2,
        &clients.elb,
        &opts.inputs,
        details.iter().map(|(s, _)| s),
    )
    .await;
    for (mut snapshot, mut own_queries) in details {
        own_queries.extend(recheck_queries.iter().cloned());
        own_queries.extend(network.queries.iter().cloned());
        ec2::fill(&mut snapshot, &ec2, read_subnets, read_groups);
        network::fill(&mut snapshot, &network);
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
    for (mut snapshot, mut own_queries) in planned_new {
        own_queries.extend(ec2_queries.iter().cloned());
        ec2::fill(&mut snapshot, &ec2, read_subnets, read_groups);
        Box::pin(planned::read(
            clients,
            opts,
            &mut snapshot,
            &mut own_queries,
        ))
        .await;
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

/// True when `failed` is `name`'s DescribeCluster answering "not found" while a create-cluster
/// plan makes `name`.
fn new_cluster_plan(opts: &Options, name: &str, failed: &Target) -> bool {
    matches!(&failed.result, Err(e) if e.kind == ErrorKind::NotFound)
        && opts.gate.plan.as_ref().is_some_and(|p| {
            p.operation == crate::report::Operation::CreateCluster && p.config.metadata.name == name
        })
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
