//! The live collector (feature `aws`): reads what the engine needs from CloudFormation, EKS
//! and EC2 — few calls, batched per region — and maps it into the same snapshot types the
//! bundle reader produces.
//!
//! It runs as phases, each starting as soon as what it needs is known, with independent calls
//! concurrent:
//!
//! 1. credentials; then `sts:GetCallerIdentity` alongside every region's work;
//! 2. per region, **discover** ∥ **describe**: every stack of the region (one paginated
//!    `DescribeStacks` family: discovery must see the stacks that could be mistaken for the
//!    cluster stack, and the listing costs one call per 100 stacks whatever the number of
//!    clusters) alongside `ListClusters` (with `--all-clusters`) and one `DescribeCluster` per
//!    cluster, `concurrency` at a time;
//! 3. **EC2 batch**: the subnets ∥ the security groups of all clusters, by `subnet-id` /
//!    `group-id` filter, deduplicated, 200 values per call, paginated — never by explicit IDs,
//!    which fail the whole call on the first deleted subnet;
//! 4. **second look** ∥ **details**: after a pause, the IDs EC2 did not return are asked for
//!    once more (EC2 is eventually consistent), while `GetTemplate` + `DescribeStackResources`
//!    run for the clusters whose cheap comparison needs them (a live control-plane subnet
//!    unknown to the outputs, or a deleted output subnet) and `ListImports` for the exports a
//!    remediation would change ([`crate::plan::exports_to_change`]).
//!
//! Every listing is paginated by hand: a repeated token or more than [`MAX_PAGES`] pages fails
//! the call (a listing that never ends is never taken as complete).
//!
//! Every client carries the [`guard::ReadOnlyGuard`], which refuses any operation outside
//! [`crate::readonly::ALLOWED_OPERATIONS`] before it is sent.

pub mod error;
pub mod guard;
mod map;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::default_provider::region::DefaultRegionChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ec2::types::Filter;
use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;
use futures::FutureExt as _;
use futures::stream::{self, StreamExt as _};

use self::error::{CallError, classify};
use self::guard::ReadOnlyGuard;
use crate::discovery::discover;
use crate::report::{ErrorKind, TargetError};
use crate::snapshot::{
    AccessEntry, AutoScalingGroup, Cluster, LaunchTemplateVersion, Nodegroup,
    PodIdentityAssociation, SecurityGroup, Snapshot, Stack, StackResource, Subnet, is_resource_id,
    outputs, role_key, tags,
};

/// Pause before asking EC2 again for IDs it did not return (eventual consistency).
const RECHECK_DELAY: Duration = Duration::from_millis(750);

/// Values per EC2 filter (the API's limit).
const FILTER_CHUNK: usize = 200;

/// Pages one listing may take before it is taken for a listing that never ends.
pub const MAX_PAGES: usize = 1000;

/// Which clusters to read.
#[derive(Debug, Clone)]
pub enum Targets {
    /// These clusters.
    Named(Vec<String>),
    /// Every cluster `eks:ListClusters` returns in each region.
    All,
}

/// How to reach AWS.
#[derive(Debug, Clone)]
pub struct Options {
    /// One entry per audited (or failed) cluster.
    pub targets: Targets,
    /// Regions to read; empty means the region of the AWS configuration chain.
    pub regions: Vec<String>,
    /// The `profile` of this record.
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
    /// The AWS region, when known.
    pub region: String,
    /// The EKS cluster name.
    pub cluster: String,
    /// The `result` of this record.
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
    /// The `account` of this record.
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

/// Progress for people watching a terminal.
#[allow(missing_docs)] // the fields are what the variant names
#[derive(Debug, Clone)]
pub enum Progress {
    /// A region's cluster list is known.
    Region { region: String, clusters: usize },
    /// One cluster is read (or failed).
    Cluster { region: String, cluster: String },
}

/// IMDS answers in well under a second where it exists; elsewhere it must not cost seconds
/// before the "no credentials" message.
fn quick_imds() -> aws_config::imds::Client {
    aws_config::imds::Client::builder()
        .max_attempts(1)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(500))
        .build()
}

async fn default_region(profile: Option<&str>) -> Option<String> {
    let mut chain = DefaultRegionChain::builder();
    if let Some(p) = profile {
        chain = chain.profile_name(p);
    }
    let chain = chain.build();
    tokio::time::timeout(Duration::from_secs(3), chain.region())
        .await
        .ok()
        .flatten()
        .map(|r| r.to_string())
}

struct Clients {
    cfn: aws_sdk_cloudformation::Client,
    eks: aws_sdk_eks::Client,
    ec2: aws_sdk_ec2::Client,
    autoscaling: aws_sdk_autoscaling::Client,
}

impl Clients {
    fn new(config: &SdkConfig, guard: &ReadOnlyGuard) -> Self {
        Clients {
            cfn: aws_sdk_cloudformation::Client::from_conf(
                aws_sdk_cloudformation::config::Builder::from(config)
                    .interceptor(guard.clone())
                    .build(),
            ),
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

/// Shared AWS configuration for one region: credentials, timeouts, retries, endpoint from the
/// environment (`AWS_ENDPOINT_URL`, per-service variants, profile settings).
pub async fn sdk_config(
    region: &str,
    opts: &Options,
    credentials: aws_credential_types::provider::SharedCredentialsProvider,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(opts.timeout)
                .read_timeout(opts.timeout)
                .operation_attempt_timeout(opts.timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.max(1)));
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// Collects every target of every region.
pub async fn collect(
    opts: &Options,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Collection, CollectError> {
    let regions = resolve_regions(opts).await?;
    let credentials = resolve_credentials(opts).await?;
    let guard = ReadOnlyGuard::new();
    let credentials = match &opts.assume_role {
        None => credentials,
        Some(role) => assume_role(&regions[0], opts, credentials, &guard, role).await?,
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
                let config = sdk_config(region, opts, credentials).await;
                let clients = Clients::new(&config, &guard);
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
    let (account, per_region, iam_inputs) = tokio::join!(identity, per_region, iam_inputs(&iam));
    let account = account?;
    let mut per_region = per_region;
    for target in per_region.iter_mut().flatten() {
        add_iam(target, &iam_inputs);
    }
    tracing::info!(
        account = account.as_deref().unwrap_or("?"),
        "credentials work"
    );
    Ok(Collection {
        targets: per_region.into_iter().flatten().collect(),
        api_calls: guard.calls(),
        account,
    })
}

/// Credentials for `role`, assumed with the base credentials.
async fn assume_role(
    region: &str,
    opts: &Options,
    base: aws_credential_types::provider::SharedCredentialsProvider,
    guard: &ReadOnlyGuard,
    role: &AssumeRole,
) -> Result<aws_credential_types::provider::SharedCredentialsProvider, CollectError> {
    let config = sdk_config(region, opts, base).await;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&config)
            .interceptor(guard.clone())
            .build(),
    );
    let failed = |e: CallError| {
        let mut e = e;
        e.message = format!("assuming {}: {}", role.role_arn, e.message);
        CollectError::AssumeRole(e)
    };
    let out = sts
        .assume_role()
        .role_arn(&role.role_arn)
        .role_session_name(&role.session_name)
        .set_external_id(role.external_id.clone())
        .send()
        .await
        .map_err(|e| failed(classify("sts:AssumeRole", &e)))?;
    let Some(c) = out.credentials() else {
        return Err(failed(CallError {
            action: "sts:AssumeRole".to_owned(),
            kind: ErrorKind::Internal,
            code: None,
            message: "the answer holds no credentials".to_owned(),
        }));
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let credentials = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        "eksdrift-assume-role",
    );
    Ok(aws_credential_types::provider::SharedCredentialsProvider::new(credentials))
}

/// The account's IAM OIDC providers and roles (`ListRoles` with its trust policies, every page).
struct IamInputs {
    providers: Result<Vec<String>, CallError>,
    roles: Result<Vec<crate::snapshot::Role>, CallError>,
}

async fn iam_inputs(iam: &aws_sdk_iam::Client) -> IamInputs {
    let providers = async {
        iam.list_open_id_connect_providers()
            .send()
            .await
            .map(|out| {
                out.open_id_connect_provider_list()
                    .iter()
                    .filter_map(|p| p.arn().map(str::to_owned))
                    .collect()
            })
            .map_err(|e| classify("iam:ListOpenIDConnectProviders", &e))
    };
    let roles = paginate("iam:ListRoles", |marker| async move {
        let page = iam
            .list_roles()
            .set_marker(marker)
            .max_items(1000)
            .send()
            .await
            .map_err(|e| classify("iam:ListRoles", &e))?;
        let next = if page.is_truncated() {
            page.marker().map(str::to_owned)
        } else {
            None
        };
        Ok((page.roles().iter().map(map::role).collect(), next))
    });
    let (providers, roles) = tokio::join!(providers, roles);
    IamInputs { providers, roles }
}

/// Gives an audited target the account's OIDC providers and the roles it names; fails it when
/// IAM could not be read (nothing is reported deleted on half an answer).
fn add_iam(target: &mut Target, iam: &IamInputs) {
    let Ok(snapshot) = &mut target.result else {
        return;
    };
    let (providers, roles) = match (&iam.providers, &iam.roles) {
        (Ok(p), Ok(r)) => (p, r),
        (Err(e), _) | (_, Err(e)) => {
            target.result = Err(e.to_target_error());
            return;
        }
    };
    let named: Vec<crate::snapshot::Role> = {
        let wanted = wanted_roles(snapshot);
        roles
            .iter()
            .filter(|r| role_key(&r.arn).is_some_and(|k| wanted.contains(&k)))
            .cloned()
            .collect()
    };
    snapshot.oidc_providers = Some(providers.clone());
    snapshot.roles = Some(named);
    target
        .queries
        .push("iam:ListOpenIDConnectProviders".to_owned());
    target.queries.push("iam:ListRoles (every page)".to_owned());
}

/// The roles a snapshot names, by (account, name): its identity stacks' `Role1`, its
/// nodegroups' roles, its access entries and pod identity associations.
fn wanted_roles(snapshot: &Snapshot) -> BTreeSet<(&str, &str)> {
    let mut arns: Vec<&str> = Vec::new();
    for stack in &snapshot.stacks {
        arns.extend(stack.output("Role1"));
        arns.extend(stack.output("InstanceRoleARN"));
    }
    arns.extend(
        snapshot
            .nodegroups
            .iter()
            .filter_map(|n| n.node_role.as_deref()),
    );
    arns.extend(snapshot.access_entries.iter().flatten().map(String::as_str));
    arns.extend(
        snapshot
            .pod_identity_details
            .iter()
            .filter_map(|a| a.role_arn.as_deref()),
    );
    arns.into_iter().filter_map(role_key).collect()
}

/// The regions to read: as given (deduplicated), else the configuration chain's.
async fn resolve_regions(opts: &Options) -> Result<Vec<String>, CollectError> {
    if opts.regions.is_empty() {
        return Ok(vec![
            default_region(opts.profile.as_deref())
                .await
                .ok_or(CollectError::NoRegion)?,
        ]);
    }
    let mut seen = BTreeSet::new();
    Ok(opts
        .regions
        .iter()
        .filter(|r| seen.insert(r.as_str()))
        .cloned()
        .collect())
}

/// Credentials from the default chain, resolved once before any call so that their absence
/// is one clear error rather than one per call.
async fn resolve_credentials(
    opts: &Options,
) -> Result<aws_credential_types::provider::SharedCredentialsProvider, CollectError> {
    use aws_credential_types::provider::ProvideCredentials as _;
    use aws_credential_types::provider::error::CredentialsError;

    // An explicit profile means that profile, as with the AWS CLI's --profile: not credentials
    // from the environment that would read another account.
    if let Some(p) = &opts.profile {
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        return match tokio::time::timeout(Duration::from_secs(10), provider.provide_credentials())
            .await
        {
            Ok(Ok(_)) => {
                Ok(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
            }
            Ok(Err(e)) => Err(CollectError::NoCredentials(format!(
                "profile {p}: {}",
                error::cap(&aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())
            ))),
            Err(_) => Err(CollectError::NoCredentials(format!(
                "profile {p}: its credentials did not come within 10 s"
            ))),
        };
    }
    let chain = DefaultCredentialsChain::builder()
        .imds_client(quick_imds())
        .build()
        .await;
    match tokio::time::timeout(Duration::from_secs(10), chain.provide_credentials()).await {
        Ok(Ok(_)) => Ok(aws_credential_types::provider::SharedCredentialsProvider::new(chain)),
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            Err(CollectError::NoCredentials(
                "none found (tried the environment, the AWS config and credentials files, SSO, web identity, ECS and EC2 instance metadata); set AWS_PROFILE or pass -p PROFILE, run `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned()
            ))
        }
        Ok(Err(e)) => Err(CollectError::NoCredentials(error::cap(
            &aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
        ))),
        Err(_) => Err(CollectError::NoCredentials(
            "the credential providers did not answer within 10 s".to_owned(),
        )),
    }
}

fn failed(region: &str, cluster: &str, err: &CallError, queries: &[String]) -> Target {
    Target {
        region: region.to_owned(),
        cluster: cluster.to_owned(),
        result: Err(err.to_target_error()),
        queries: queries.to_vec(),
    }
}

/// Phase 2's answer: the region's clusters, each described (or its error), and their
/// nodegroups.
struct Described {
    names: Vec<String>,
    clusters: HashMap<String, Result<Cluster, CallError>>,
    /// `ListClusters`, when it answered (always read: orphaned stacks need it).
    listed: Option<Vec<String>>,
    nodegroups: NodegroupInputs,
    /// Per described cluster: its access entries and pod identity associations.
    access: HashMap<String, Result<ClusterAccess, CallError>>,
}

/// A cluster's access entries and pod identity associations, listed and described.
#[derive(Debug, Default)]
struct ClusterAccess {
    /// `None` when the cluster does not authenticate by API (nothing to list).
    entries: Option<Vec<String>>,
    entry_details: Vec<AccessEntry>,
    associations: Vec<PodIdentityAssociation>,
    association_details: Vec<PodIdentityAssociation>,
}

/// [`ClusterAccess`], or why not; `None` for a cluster that could not be described.
type AccessResult = Option<Result<ClusterAccess, CallError>>;

/// The region's nodegroup inputs: per cluster the managed nodegroups (listed and described),
/// the auto scaling groups tagged for the clusters, and the versions of every launch template
/// they name.
struct NodegroupInputs {
    managed: HashMap<String, Result<Managed, CallError>>,
    groups: Result<Vec<AutoScalingGroup>, CallError>,
    versions: Result<Vec<LaunchTemplateVersion>, CallError>,
}

/// What EC2 returned for every ID the region's stacks and clusters name.
struct Ec2State {
    subnet_ids: BTreeSet<String>,
    group_ids: BTreeSet<String>,
    subnets: Result<Vec<Subnet>, CallError>,
    groups: Result<Vec<SecurityGroup>, CallError>,
    /// When EC2 answered for each ID: the second look at a missing ID waits for the pause
    /// counted from then, not from the end of the whole batch.
    answered: HashMap<String, tokio::time::Instant>,
}

#[allow(clippy::too_many_lines)] // the phases read top to bottom
async fn collect_region(
    region: &str,
    clients: &Clients,
    opts: &Options,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<Target> {
    let mut queries = Vec::new();
    // Phase 2: the stacks alongside the cluster names and the DescribeCluster waves, the
    // nodegroup inputs and (for named clusters) ListClusters; as soon as both the stacks and
    // the names are known, the EC2 lookup of what the cluster stacks name runs alongside the
    // waves (the emulator's, or a large region's, slowest answer).
    let stacks = describe_all_stacks(&clients.cfn).shared();
    let stacks_for_ec2 = stacks.clone();
    let phase2 = async move {
        let (names, listed) = cluster_names(&clients.eks, opts).await?;
        on_progress(Progress::Region {
            region: region.to_owned(),
            clusters: names.len(),
        });
        let early = async {
            if names.is_empty() {
                return None;
            }
            let stacks = stacks_for_ec2.await.ok()?;
            let mut subnet_ids = BTreeSet::new();
            let mut group_ids = BTreeSet::new();
            for name in &names {
                let unknown = Cluster {
                    name: name.clone(),
                    ..Cluster::default()
                };
                let (subnets, groups) = referenced_ids(&stacks_of(&stacks, name), &unknown);
                subnet_ids.extend(subnets);
                group_ids.extend(groups);
            }
            Some(Ec2State::fetch(&clients.ec2, subnet_ids, group_ids).await)
        };
        let listed = async {
            match listed {
                Some(listed) => Some(listed),
                None if names.is_empty() => None,
                // Named clusters: one more call, so that leftover stacks can be judged.
                None => match list_clusters(&clients.eks).await {
                    Ok(l) => Some(l),
                    Err(e) => {
                        tracing::warn!(region, error = %e, "could not list the clusters; orphaned stacks are not judged");
                        None
                    }
                },
            }
        };
        let (early, described, groups, listed) = tokio::join!(
            early,
            describe_clusters(region, clients, opts.concurrency, &names),
            auto_scaling_groups(&clients.autoscaling, &names),
            listed
        );
        let mut clusters = HashMap::new();
        let mut managed = HashMap::new();
        let mut access = HashMap::new();
        for (name, cluster, nodegroups, who) in described {
            if let Some(n) = nodegroups {
                managed.insert(name.clone(), n);
            }
            if let Some(a) = who {
                access.insert(name.clone(), a);
            }
            clusters.insert(name, cluster);
        }
        let versions = template_versions(clients, opts.concurrency, &managed, &groups).await;
        Ok::<_, CallError>((
            Described {
                names,
                clusters,
                listed,
                access,
                nodegroups: NodegroupInputs {
                    managed,
                    groups,
                    versions,
                },
            },
            early,
        ))
    };
    let (stacks, phase2) = tokio::join!(stacks, phase2);
    let (described, early) = match phase2 {
        Ok(d) => d,
        Err(e) => return vec![failed(region, "*", &e, &queries)],
    };
    if described.listed.is_some() {
        queries.push("eks:ListClusters".to_owned());
    }
    let stacks = match stacks {
        Ok(s) => s,
        Err(e) if !described.names.is_empty() => {
            return described
                .names
                .iter()
                .map(|n| failed(region, n, &e, &queries))
                .collect();
        }
        Err(_) => return Vec::new(),
    };
    queries.push(format!(
        "cloudformation:DescribeStacks (all {} stacks of the region)",
        stacks.len()
    ));
    let mut described = described;
    let leftovers = leftover_clusters(opts, &described, &stacks);
    if described.names.is_empty() && leftovers.is_empty() {
        tracing::info!(region, "no EKS clusters");
        return Vec::new();
    }
    // A named cluster that is gone but left stacks is audited as leftovers, not failed. The
    // report keeps the order the user (or ListClusters) gave, other leftovers last.
    let order: Vec<String> = described
        .names
        .iter()
        .chain(leftovers.iter().filter(|l| !described.names.contains(l)))
        .cloned()
        .collect();
    described.names.retain(|n| !leftovers.contains(n));

    // Phase 3: what the described clusters and their nodegroups name beyond the stacks'
    // outputs, one filtered batch for the whole region.
    let mut targets = Vec::new();
    let mut ready = Vec::new();
    let names = std::mem::take(&mut described.names);
    for name in &names {
        let mut own_queries = queries.clone();
        own_queries.push(format!("eks:DescribeCluster name={name}"));
        let result = described.clusters.remove(name).unwrap_or_else(|| {
            Err(CallError {
                action: "eks:DescribeCluster".to_owned(),
                kind: ErrorKind::Internal,
                code: None,
                message: format!("no answer was recorded for {name}"),
            })
        });
        let snapshot = result.and_then(|cluster| {
            let mut snapshot = Snapshot {
                source: "live".to_owned(),
                region: Some(region.to_owned()),
                stacks: stacks_of(&stacks, name),
                cluster,
                clusters: described.listed.clone(),
                ..Snapshot::default()
            };
            add_nodegroups(&mut snapshot, &described.nodegroups, &mut own_queries)?;
            if let Some(access) = described.access.remove(name) {
                add_access(&mut snapshot, access?, &mut own_queries);
            }
            Ok(snapshot)
        });
        match snapshot {
            Ok(snapshot) => ready.push((snapshot, own_queries)),
            Err(e) => {
                targets.push(failed(region, name, &e, &own_queries));
                on_progress(Progress::Cluster {
                    region: region.to_owned(),
                    cluster: name.clone(),
                });
            }
        }
    }
    let mut subnet_ids = BTreeSet::new();
    let mut group_ids = BTreeSet::new();
    for (snapshot, _) in &ready {
        let (subnets, groups) = wanted_ids(snapshot);
        subnet_ids.extend(subnets);
        group_ids.extend(groups);
    }
    let mut ec2 = early.unwrap_or_else(Ec2State::empty);
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
    let mut fine = Vec::new();
    for (mut snapshot, mut own_queries) in ready {
        own_queries.extend(ec2_queries.iter().cloned());
        match (&ec2.subnets, &ec2.groups) {
            (Err(e), _) | (_, Err(e)) => {
                let name = snapshot.cluster.name.clone();
                targets.push(failed(region, &name, e, &own_queries));
                on_progress(Progress::Cluster {
                    region: region.to_owned(),
                    cluster: name,
                });
            }
            (Ok(_), Ok(_)) => {
                fill_ec2(&mut snapshot, &ec2);
                fine.push((snapshot, own_queries));
            }
        }
    }

    // Phase 4: the second look at missing IDs alongside the per-cluster details.
    let (recheck_queries, details) = tokio::join!(
        second_look(&clients.ec2, &mut ec2),
        stream::iter(fine)
            .map(|(snapshot, own_queries)| cluster_details(clients, opts, snapshot, own_queries))
            .buffer_unordered(opts.concurrency.max(1))
            .collect::<Vec<_>>()
    );
    for (result, mut own_queries) in details {
        own_queries.extend(recheck_queries.iter().cloned());
        let target = match (result, &ec2.subnets, &ec2.groups) {
            (Err(e), _, _) => failed(region, &e.0, &e.1, &own_queries),
            (Ok(snapshot), Err(e), _) | (Ok(snapshot), _, Err(e)) => {
                // The second look failed: nothing may be reported deleted on half an answer.
                failed(region, &snapshot.cluster.name, e, &own_queries)
            }
            (Ok(mut snapshot), Ok(_), Ok(_)) => {
                fill_ec2(&mut snapshot, &ec2);
                Target {
                    region: region.to_owned(),
                    cluster: snapshot.cluster.name.clone(),
                    result: Ok(snapshot),
                    queries: own_queries,
                }
            }
        };
        on_progress(Progress::Cluster {
            region: region.to_owned(),
            cluster: target.cluster.clone(),
        });
        targets.push(target);
    }
    // The stacks of clusters that no longer exist: a target each.
    for name in &leftovers {
        let mut own_queries = queries.clone();
        own_queries.push(format!(
            "eks:ListClusters (does not list {name}; its stacks are audited as leftovers)"
        ));
        targets.push(Target {
            region: region.to_owned(),
            cluster: name.clone(),
            result: Ok(Snapshot {
                source: "live".to_owned(),
                region: Some(region.to_owned()),
                stacks: stacks_of(&stacks, name),
                cluster: Cluster {
                    name: name.clone(),
                    ..Cluster::default()
                },
                clusters: described.listed.clone(),
                ..Snapshot::default()
            }),
            queries: own_queries,
        });
    }
    let order: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    targets.sort_by_key(|t| order.get(t.cluster.as_str()).copied().unwrap_or(usize::MAX));
    targets
}

/// The clusters whose eksctl stacks remain although `ListClusters` does not list them: every
/// one with `--all-clusters`, the named ones otherwise (when `DescribeCluster` also says the
/// cluster is gone). Sorted, without duplicates.
fn leftover_clusters(opts: &Options, described: &Described, stacks: &[Stack]) -> Vec<String> {
    let Some(listed) = &described.listed else {
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

/// Puts a cluster's share of the region's nodegroup inputs into its snapshot: its managed
/// nodegroups, the auto scaling groups tagged for it and the versions of the launch templates
/// those name.
fn add_nodegroups(
    snapshot: &mut Snapshot,
    inputs: &NodegroupInputs,
    queries: &mut Vec<String>,
) -> Result<(), CallError> {
    let name = snapshot.cluster.name.clone();
    match inputs.managed.get(&name) {
        Some(Ok((names, described))) => {
            queries.push(format!("eks:ListNodegroups cluster={name}"));
            if !described.is_empty() {
                queries.push(format!(
                    "eks:DescribeNodegroup cluster={name} ({} nodegroups)",
                    described.len()
                ));
            }
            snapshot.nodegroup_names = Some(names.clone());
            snapshot.nodegroups.clone_from(described);
        }
        Some(Err(e)) => return Err(e.clone()),
        None => {}
    }
    let groups = inputs.groups.as_ref().map_err(Clone::clone)?;
    queries.push(format!(
        "autoscaling:DescribeAutoScalingGroups filter tag-key={}{name}",
        tags::KUBERNETES_CLUSTER_PREFIX
    ));
    let cluster_tag = format!("{}{name}", tags::KUBERNETES_CLUSTER_PREFIX);
    snapshot.auto_scaling_groups = Some(
        groups
            .iter()
            .filter(|g| {
                g.tag(&cluster_tag).is_some() || g.tag(tags::CLUSTER_NAME) == Some(name.as_str())
            })
            .cloned()
            .collect(),
    );
    let versions = inputs.versions.as_ref().map_err(Clone::clone)?;
    let templates = launch_template_ids(
        snapshot.nodegroups.iter(),
        snapshot.auto_scaling_groups.iter().flatten(),
    );
    if !templates.is_empty() {
        queries.push(format!(
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
    Ok(())
}

/// Puts a cluster's access entries and pod identity associations into its snapshot.
fn add_access(snapshot: &mut Snapshot, access: ClusterAccess, queries: &mut Vec<String>) {
    let name = &snapshot.cluster.name;
    if let Some(entries) = &access.entries {
        queries.push(format!("eks:ListAccessEntries cluster={name}"));
        if !access.entry_details.is_empty() {
            queries.push(format!(
                "eks:DescribeAccessEntry cluster={name} ({} role entries)",
                access.entry_details.len()
            ));
        }
        snapshot.access_entries = Some(entries.clone());
    }
    queries.push(format!("eks:ListPodIdentityAssociations cluster={name}"));
    if !access.association_details.is_empty() {
        queries.push(format!(
            "eks:DescribePodIdentityAssociation cluster={name} ({} associations)",
            access.association_details.len()
        ));
    }
    snapshot.access_entry_details = access.entry_details;
    snapshot.pod_identity_associations = Some(access.associations);
    snapshot.pod_identity_details = access.association_details;
}

/// A cluster's access entries (only when it authenticates by API: `ListAccessEntries` is
/// refused otherwise), each role entry described, alongside its pod identity associations,
/// each described (the listing holds no role).
async fn cluster_access(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    cluster: &Cluster,
) -> Result<ClusterAccess, CallError> {
    let name = cluster.name.as_str();
    let by_api = matches!(
        cluster.authentication_mode(),
        Some("API" | "API_AND_CONFIG_MAP")
    );
    let entries = async {
        if !by_api {
            return Ok((None, Vec::new()));
        }
        let entries = paginate("eks:ListAccessEntries", |token| async move {
            let page = eks
                .list_access_entries()
                .cluster_name(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("eks:ListAccessEntries", &e))?;
            Ok((
                page.access_entries().to_vec(),
                page.next_token().map(str::to_owned),
            ))
        })
        .await?;
        let details = stream::iter(entries.iter().filter(|e| role_key(e).is_some()))
            .map(|arn| async move {
                eks.describe_access_entry()
                    .cluster_name(name)
                    .principal_arn(arn)
                    .send()
                    .await
                    .map(|out| out.access_entry().map(map::access_entry))
                    .map_err(|e| classify("eks:DescribeAccessEntry", &e))
            })
            .buffered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, CallError>((Some(entries), details.into_iter().flatten().collect()))
    };
    let associations = async {
        let listed = paginate("eks:ListPodIdentityAssociations", |token| async move {
            let page = eks
                .list_pod_identity_associations()
                .cluster_name(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("eks:ListPodIdentityAssociations", &e))?;
            Ok((
                page.associations()
                    .iter()
                    .map(map::pod_identity_summary)
                    .collect::<Vec<_>>(),
                page.next_token().map(str::to_owned),
            ))
        })
        .await?;
        let details = stream::iter(listed.iter())
            .map(|a| async move {
                eks.describe_pod_identity_association()
                    .cluster_name(name)
                    .association_id(&a.association_id)
                    .send()
                    .await
                    .map(|out| out.association().map(map::pod_identity_association))
                    .map_err(|e| classify("eks:DescribePodIdentityAssociation", &e))
            })
            .buffered(concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, CallError>((listed, details.into_iter().flatten().collect()))
    };
    let (entries, associations) = tokio::join!(entries, associations);
    let ((entries, entry_details), (associations, association_details)) = (entries?, associations?);
    Ok(ClusterAccess {
        entries,
        entry_details,
        associations,
        association_details,
    })
}

/// The well-formed launch template IDs that nodegroups and auto scaling groups name.
fn launch_template_ids<'a>(
    nodegroups: impl Iterator<Item = &'a Nodegroup>,
    groups: impl Iterator<Item = &'a AutoScalingGroup>,
) -> BTreeSet<String> {
    nodegroups
        .filter_map(|n| n.launch_template.as_ref()?.id.clone())
        .chain(groups.filter_map(|g| g.launch_template_spec()?.launch_template_id.clone()))
        .filter(|id| is_resource_id(id, "lt"))
        .collect()
}

/// A cluster's managed nodegroups: the names listed, and each described.
type Managed = (Vec<String>, Vec<Nodegroup>);

/// [`Managed`], or why not; `None` for a cluster that could not be described.
type ManagedResult = Option<Result<Managed, CallError>>;

/// The versions of every launch template the managed nodegroups and auto scaling groups name,
/// one listing per template.
async fn template_versions(
    clients: &Clients,
    concurrency: usize,
    managed: &HashMap<String, Result<Managed, CallError>>,
    groups: &Result<Vec<AutoScalingGroup>, CallError>,
) -> Result<Vec<LaunchTemplateVersion>, CallError> {
    let templates = launch_template_ids(
        managed
            .values()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|(_, described)| described),
        groups.iter().flatten(),
    );
    stream::iter(templates.iter())
        .map(|id| launch_template_versions(&clients.ec2, id))
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map(|v| v.into_iter().flatten().collect())
}

/// A cluster's managed nodegroups, listed and described. A cluster EKS does not know has
/// none: `DescribeCluster` reports it.
async fn managed_nodegroups(
    eks: &aws_sdk_eks::Client,
    concurrency: usize,
    cluster: &str,
) -> Result<Managed, CallError> {
    let names = paginate("eks:ListNodegroups", |token| async move {
        match eks
            .list_nodegroups()
            .cluster_name(cluster)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => Ok((
                page.nodegroups().to_vec(),
                page.next_token().map(str::to_owned),
            )),
            Err(e) => {
                let err = classify("eks:ListNodegroups", &e);
                if err.kind == ErrorKind::NotFound {
                    Ok((Vec::new(), None))
                } else {
                    Err(err)
                }
            }
        }
    })
    .await?;
    let described = stream::iter(names.iter())
        .map(|ng| async move {
            let out = eks
                .describe_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(ng)
                .send()
                .await;
            match out {
                Ok(out) => Ok(out.nodegroup().map(map::nodegroup)),
                Err(e) => {
                    let err = classify("eks:DescribeNodegroup", &e);
                    // Deleted between the listing and the description.
                    if err.kind == ErrorKind::NotFound {
                        Ok(None)
                    } else {
                        Err(err)
                    }
                }
            }
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let described: Vec<Nodegroup> = described.into_iter().flatten().collect();
    // A nodegroup deleted in between is not listed either.
    let names = names
        .into_iter()
        .filter(|n| described.iter().any(|d| d.nodegroup_name == *n))
        .collect();
    Ok((names, described))
}

/// Values per auto scaling tag filter.
const TAG_FILTER_CHUNK: usize = 100;

/// The auto scaling groups of `clusters`: those tagged `kubernetes.io/cluster/<cluster>`, the
/// tag eksctl's nodegroup template (and EKS, for managed nodegroups) puts on every group in
/// every version. One paginated `tag-key` call per 100 clusters, never one per group.
async fn auto_scaling_groups(
    autoscaling: &aws_sdk_autoscaling::Client,
    clusters: &[String],
) -> Result<Vec<AutoScalingGroup>, CallError> {
    let chunks = clusters.chunks(TAG_FILTER_CHUNK).map(|chunk| {
        let filter = aws_sdk_autoscaling::types::Filter::builder()
            .name("tag-key")
            .set_values(Some(
                chunk
                    .iter()
                    .map(|c| format!("{}{c}", tags::KUBERNETES_CLUSTER_PREFIX))
                    .collect(),
            ))
            .build();
        async move {
            paginate("autoscaling:DescribeAutoScalingGroups", |token| {
                let filter = filter.clone();
                async move {
                    let page = autoscaling
                        .describe_auto_scaling_groups()
                        .filters(filter)
                        .include_instances(false)
                        .max_records(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| classify("autoscaling:DescribeAutoScalingGroups", &e))?;
                    Ok((
                        page.auto_scaling_groups()
                            .iter()
                            .map(map::auto_scaling_group)
                            .collect(),
                        page.next_token().map(str::to_owned),
                    ))
                }
            })
            .await
        }
    });
    let found = futures::future::try_join_all(chunks).await?;
    Ok(found.into_iter().flatten().collect())
}

/// Every version of one launch template; none when the template is gone.
async fn launch_template_versions(
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

/// The cluster names: as given, or `ListClusters`; deduplicated (a name listed twice is
/// audited once). With `ListClusters`, its answer too.
async fn cluster_names(
    eks: &aws_sdk_eks::Client,
    opts: &Options,
) -> Result<(Vec<String>, Option<Vec<String>>), CallError> {
    let (names, listed) = match &opts.targets {
        Targets::Named(names) => (names.clone(), None),
        Targets::All => {
            let listed = list_clusters(eks).await?;
            (listed.clone(), Some(listed))
        }
    };
    let mut seen = BTreeSet::new();
    Ok((
        names
            .into_iter()
            .filter(|n| seen.insert(n.clone()))
            .collect(),
        listed,
    ))
}

/// Each cluster described and, once it is known to exist, its managed nodegroups listed and
/// described; `concurrency` clusters at a time.
async fn describe_clusters(
    region: &str,
    clients: &Clients,
    concurrency: usize,
    names: &[String],
) -> Vec<(
    String,
    Result<Cluster, CallError>,
    ManagedResult,
    AccessResult,
)> {
    stream::iter(names.iter())
        .map(|name| async move {
            let cluster = describe_cluster(&clients.eks, region, name).await;
            let (managed, access) = match &cluster {
                Ok(c) => {
                    let (managed, access) = tokio::join!(
                        managed_nodegroups(&clients.eks, concurrency, name),
                        cluster_access(&clients.eks, concurrency, c)
                    );
                    (Some(managed), Some(access))
                }
                Err(_) => (None, None),
            };
            (name.clone(), cluster, managed, access)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

impl Ec2State {
    fn empty() -> Self {
        Ec2State {
            subnet_ids: BTreeSet::new(),
            group_ids: BTreeSet::new(),
            subnets: Ok(Vec::new()),
            groups: Ok(Vec::new()),
            answered: HashMap::new(),
        }
    }

    /// The subnets ∥ the security groups among the given IDs.
    async fn fetch(
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
    async fn fetch_more(
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

/// The snapshot's subnets and groups: those its stacks, cluster and nodegroups name, among
/// those found.
fn fill_ec2(snapshot: &mut Snapshot, ec2: &Ec2State) {
    let (want_subnets, want_groups) = wanted_ids(snapshot);
    if let Ok(found) = &ec2.subnets {
        snapshot.subnets = found
            .iter()
            .filter(|s| want_subnets.contains(&s.subnet_id))
            .cloned()
            .collect();
    }
    if let Ok(found) = &ec2.groups {
        snapshot.security_groups = Some(
            found
                .iter()
                .filter(|g| want_groups.contains(&g.group_id))
                .cloned()
                .collect(),
        );
    }
}

/// EC2 is eventually consistent: a subnet or group created moments ago can be briefly
/// invisible. Before anything is called deleted, ask once more, after a pause, for just the
/// missing IDs. Returns the queries made.
async fn second_look(ec2: &aws_sdk_ec2::Client, state: &mut Ec2State) -> Vec<String> {
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

/// The template and resources where the cheap comparison needs them, and the importers of
/// every export a remediation would change. On failure: the cluster name and the error.
async fn cluster_details(
    clients: &Clients,
    opts: &Options,
    mut snapshot: Snapshot,
    mut own_queries: Vec<String>,
) -> (Result<Snapshot, (String, CallError)>, Vec<String>) {
    let name = snapshot.cluster.name.clone();
    let stack_name = discover(&snapshot.stacks, &name)
        .stack
        .filter(|s| needs_template(s, &snapshot))
        .map(|s| s.stack_name.clone());
    let mut exports = crate::plan::exports_to_change(&snapshot);
    if opts.all_imports {
        // A deletion gate: every export of the cluster's eksctl stacks (EKD702).
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
    let details = async {
        match &stack_name {
            Some(stack) => stack_details(&clients.cfn, stack).await.map(Some),
            None => Ok(None),
        }
    };
    let imports = stream::iter(exports.iter())
        .map(|export| async move { (export.clone(), list_imports(&clients.cfn, export).await) })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    let (details, imports) = tokio::join!(details, imports);
    match details {
        Ok(Some((template, resources))) => {
            snapshot.template = template;
            snapshot.stack_resources = Some(resources);
            if let Some(stack) = &stack_name {
                own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                own_queries.push(format!(
                    "cloudformation:DescribeStackResources stack={stack}"
                ));
            }
        }
        Ok(None) => {}
        Err(e) => return (Err((name, e)), own_queries),
    }
    let mut known = BTreeMap::new();
    for (export, result) in imports {
        match result {
            Ok(importers) => {
                own_queries.push(format!("cloudformation:ListImports export={export}"));
                known.insert(export, importers);
            }
            // Only the remediation's wording depends on it: it then says how to check.
            Err(e) => {
                tracing::warn!(export, error = %e, "could not list the importers of an export");
            }
        }
    }
    snapshot.imports = Some(known);
    (Ok(snapshot), own_queries)
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

/// The stacks that can matter for `cluster`: tagged with its name, or named after it.
fn stacks_of(stacks: &[Stack], cluster: &str) -> Vec<Stack> {
    let current = format!("eksctl-{cluster}-");
    let legacy = format!("EKS-{cluster}-");
    stacks
        .iter()
        .filter(|s| {
            s.cluster_name_tag() == Some(cluster)
                || s.stack_name.starts_with(&current)
                || s.stack_name.starts_with(&legacy)
        })
        .cloned()
        .collect()
}

/// Subnet and security-group IDs named by the cluster stack's outputs and by the cluster.
/// Only well-formed IDs: anything else cannot exist, and an output is untrusted input that
/// has no business in a request.
fn referenced_ids(stacks: &[Stack], cluster: &Cluster) -> (BTreeSet<String>, BTreeSet<String>) {
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
/// subnets and their launch templates' groups. Only well-formed IDs.
fn wanted_ids(snapshot: &Snapshot) -> (BTreeSet<String>, BTreeSet<String>) {
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
    for v in snapshot.launch_template_versions.iter().flatten() {
        if let Some(d) = &v.launch_template_data {
            groups.extend(d.security_groups().into_iter().map(str::to_owned));
        }
    }
    subnets.retain(|s| is_resource_id(s, "subnet"));
    groups.retain(|g| is_resource_id(g, "sg"));
    (subnets, groups)
}

/// The cheap comparison: does the template add anything to this audit? Yes when a live
/// control-plane subnet is unknown to the outputs (EKD205 precision), or when an output subnet
/// is gone (the template tells its AZ and CIDR).
fn needs_template(stack: &Stack, snapshot: &Snapshot) -> bool {
    let recorded: BTreeSet<&str> = stack
        .subnet_lists()
        .iter()
        .flat_map(|o| o.ids.iter().copied())
        .collect();
    let existing: BTreeSet<&str> = snapshot
        .subnets
        .iter()
        .map(|s| s.subnet_id.as_str())
        .collect();
    snapshot
        .cluster
        .resources_vpc_config
        .subnet_ids
        .iter()
        .any(|id| !recorded.contains(id.as_str()))
        || recorded.iter().any(|id| !existing.contains(id))
}

/// Every page of a listing. A token the service already gave, or more than [`MAX_PAGES`]
/// pages, fails the listing: it would never end, and a truncated listing must never look
/// complete.
async fn paginate<T, F, Fut>(action: &str, mut page: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let mut seen: HashSet<String> = HashSet::new();
    let mut token = None;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let (more, next) = page(token.take()).await?;
        items.extend(more);
        match next.filter(|t| !t.is_empty()) {
            None => return Ok(items),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(CallError {
                        action: action.to_owned(),
                        kind: ErrorKind::InvalidInput,
                        code: None,
                        message: format!(
                            "the service returned the pagination token {} a second time; a listing that does not end is not trusted",
                            error::cap(&next)
                        ),
                    });
                }
                token = Some(next);
            }
        }
    }
    Err(CallError {
        action: action.to_owned(),
        kind: ErrorKind::InvalidInput,
        code: None,
        message: format!(
            "the listing did not end after {MAX_PAGES} pages; a truncated listing is not trusted"
        ),
    })
}

async fn list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, CallError> {
    paginate("eks:ListClusters", |token| async move {
        let page = eks
            .list_clusters()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("eks:ListClusters", &e))?;
        Ok((
            page.clusters().to_vec(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

async fn describe_all_stacks(
    cfn: &aws_sdk_cloudformation::Client,
) -> Result<Vec<Stack>, CallError> {
    paginate("cloudformation:DescribeStacks", |token| async move {
        let page = cfn
            .describe_stacks()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("cloudformation:DescribeStacks", &e))?;
        Ok((
            page.stacks().iter().map(map::stack).collect(),
            page.next_token().map(str::to_owned),
        ))
    })
    .await
}

/// The stacks importing `export`. `ValidationError` is how CloudFormation says that nothing
/// imports it: an empty list, not a failure.
async fn list_imports(
    cfn: &aws_sdk_cloudformation::Client,
    export: &str,
) -> Result<Vec<String>, CallError> {
    paginate("cloudformation:ListImports", |token| async move {
        match cfn
            .list_imports()
            .export_name(export)
            .set_next_token(token)
            .send()
            .await
        {
            Ok(page) => Ok((
                page.imports().to_vec(),
                page.next_token().map(str::to_owned),
            )),
            Err(e) if e.code() == Some("ValidationError") => Ok((Vec::new(), None)),
            Err(e) => Err(classify("cloudformation:ListImports", &e)),
        }
    })
    .await
}

async fn describe_cluster(
    eks: &aws_sdk_eks::Client,
    region: &str,
    name: &str,
) -> Result<Cluster, CallError> {
    let out = eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| {
            let mut err = classify("eks:DescribeCluster", &e);
            if err.kind == ErrorKind::NotFound {
                err.message = format!("no EKS cluster named {name} in {region}");
            }
            err
        })?;
    out.cluster().map(map::cluster).ok_or_else(|| CallError {
        action: "eks:DescribeCluster".to_owned(),
        kind: ErrorKind::Internal,
        code: None,
        message: format!("the response for {name} holds no cluster"),
    })
}

/// The subnets among `ids` that exist (by `subnet-id` filter; nothing asked for none).
async fn describe_subnets(
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
async fn describe_security_groups(
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

/// One filtered describe family: `ids` in chunks of [`FILTER_CHUNK`] as values of the
/// `filter` filter, every page of each chunk. Filters return what exists and nothing for what
/// does not, where explicit IDs would fail the whole call on the first deleted one.
async fn describe_filtered<T, F, Fut>(
    action: &str,
    filter: &str,
    ids: &BTreeSet<String>,
    page: F,
) -> Result<Vec<T>, CallError>
where
    F: Fn(Filter, Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let ids: Vec<String> = ids.iter().cloned().collect();
    // The chunks are independent: asked for at once.
    let page = &page;
    let chunks = ids.chunks(FILTER_CHUNK).map(|chunk| {
        let filter = Filter::builder()
            .name(filter)
            .set_values(Some(chunk.to_vec()))
            .build();
        async move { paginate(action, |token| page(filter.clone(), token)).await }
    });
    let found = futures::future::try_join_all(chunks).await?;
    Ok(found.into_iter().flatten().collect())
}

async fn stack_details(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<(Option<serde_json::Value>, Vec<StackResource>), CallError> {
    let (template, resources) = tokio::join!(
        cfn.get_template().stack_name(stack).send(),
        cfn.describe_stack_resources().stack_name(stack).send()
    );
    let template = template.map_err(|e| classify("cloudformation:GetTemplate", &e))?;
    let resources = resources.map_err(|e| classify("cloudformation:DescribeStackResources", &e))?;
    Ok((
        template.template_body().map(map::template_body),
        resources
            .stack_resources()
            .iter()
            .map(map::stack_resource)
            .collect(),
    ))
}
