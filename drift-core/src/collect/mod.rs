//! The live collector (feature `aws`): reads what the engine needs from CloudFormation, EKS
//! and EC2 — few calls, batched per region — and maps it into the same snapshot types the
//! bundle reader produces.
//!
//! Per region:
//! - every stack of the region, one paginated `DescribeStacks` family. A per-stack call would
//!   be cheaper for one named cluster, but discovery must see the stacks that could be mistaken
//!   for the cluster stack (nodegroups named `*-cluster`, legacy names), and the listing costs
//!   one call per 100 stacks whatever the number of clusters;
//! - one `DescribeCluster` per cluster, concurrently (bounded by `concurrency`);
//! - the subnets and security groups of **all** clusters by `subnet-id` / `group-id` filter,
//!   deduplicated, 200 values per call, paginated — never by explicit IDs, which fail the whole
//!   call on the first deleted subnet;
//! - `GetTemplate` and `DescribeStackResources` only for clusters whose cheap comparison needs
//!   them: a live control-plane subnet unknown to the outputs, or a deleted output subnet.
//!
//! Every client carries the [`guard::ReadOnlyGuard`], which refuses any operation outside
//! [`crate::readonly::ALLOWED_OPERATIONS`] before it is sent.

pub mod error;
pub mod guard;
mod map;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::default_provider::region::DefaultRegionChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ec2::types::Filter;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;
use futures::stream::{self, StreamExt as _};

use self::error::{CallError, classify};
use self::guard::ReadOnlyGuard;
use crate::discovery::discover;
use crate::report::{ErrorKind, TargetError};
use crate::snapshot::{
    Cluster, SecurityGroup, Snapshot, Stack, StackResource, Subnet, is_resource_id, outputs,
};

/// Pause before asking EC2 again for IDs it did not return (eventual consistency).
const RECHECK_DELAY: Duration = Duration::from_millis(750);

/// Values per EC2 filter (the API's limit).
const FILTER_CHUNK: usize = 200;

/// Which clusters to read.
#[derive(Debug, Clone)]
pub enum Targets {
    Named(Vec<String>),
    /// Every cluster `eks:ListClusters` returns in each region.
    All,
}

/// How to reach AWS.
#[derive(Debug, Clone)]
pub struct Options {
    pub targets: Targets,
    /// Regions to read; empty means the region of the AWS configuration chain.
    pub regions: Vec<String>,
    pub profile: Option<String>,
    /// Clusters described at once per region.
    pub concurrency: usize,
    /// Bound on each attempt of each call (connect and read).
    pub timeout: Duration,
    /// Attempts per call, with exponential backoff and jitter.
    pub max_attempts: u32,
}

/// One cluster's collected state, or why it could not be read.
#[derive(Debug)]
pub struct Target {
    pub region: String,
    pub cluster: String,
    pub result: Result<Snapshot, TargetError>,
    /// The queries that fed this target, for `capture.json`.
    pub queries: Vec<String>,
}

/// Everything one run collected.
#[derive(Debug)]
pub struct Collection {
    pub targets: Vec<Target>,
    /// Calls made per `service:Operation` (counted by the guard).
    pub api_calls: BTreeMap<String, u64>,
    pub account: Option<String>,
}

/// Failures that stop the run before any target is attempted.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("no AWS region: pass -r/--region, or set AWS_REGION or a region in the AWS profile")]
    NoRegion,
    #[error("no usable AWS credentials: {0}")]
    NoCredentials(String),
    #[error("checking the credentials failed: {0}")]
    Identity(CallError),
}

/// Progress for people watching a terminal.
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
    let regions: Vec<String> = if opts.regions.is_empty() {
        vec![
            default_region(opts.profile.as_deref())
                .await
                .ok_or(CollectError::NoRegion)?,
        ]
    } else {
        let mut seen = BTreeSet::new();
        opts.regions
            .iter()
            .filter(|r| seen.insert(r.as_str()))
            .cloned()
            .collect()
    };

    let mut chain = DefaultCredentialsChain::builder().imds_client(quick_imds());
    if let Some(p) = &opts.profile {
        chain = chain.profile_name(p);
    }
    let chain = chain.build().await;
    {
        use aws_credential_types::provider::ProvideCredentials as _;
        match tokio::time::timeout(Duration::from_secs(10), chain.provide_credentials()).await {
            Ok(Ok(_)) => {}
            Ok(Err(
                aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_),
            )) => {
                return Err(CollectError::NoCredentials(format!(
                    "none found in the environment, the AWS config files{}, web identity, ECS or EC2 instance metadata; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
                    opts.profile
                        .as_deref()
                        .map(|p| format!(" (profile {p})"))
                        .unwrap_or_default()
                )));
            }
            Ok(Err(e)) => {
                return Err(CollectError::NoCredentials(
                    aws_smithy_types::error::display::DisplayErrorContext(&e).to_string(),
                ));
            }
            Err(_) => {
                return Err(CollectError::NoCredentials(
                    "the credential providers did not answer within 10 s".to_owned(),
                ));
            }
        }
    }
    let credentials = aws_credential_types::provider::SharedCredentialsProvider::new(chain);
    let guard = ReadOnlyGuard::new();

    // One cheap call proves the credentials work before any target is attempted.
    let first = sdk_config(&regions[0], opts, credentials.clone()).await;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&first)
            .interceptor(guard.clone())
            .build(),
    );
    let account = match sts.get_caller_identity().send().await {
        Ok(id) => id.account().map(str::to_owned),
        Err(e) => {
            return Err(CollectError::Identity(classify(
                "sts:GetCallerIdentity",
                &e,
            )));
        }
    };
    tracing::info!(
        account = account.as_deref().unwrap_or("?"),
        "credentials work"
    );

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
        .collect::<Vec<_>>()
        .await;

    Ok(Collection {
        targets: per_region.into_iter().flatten().collect(),
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

async fn collect_region(
    region: &str,
    clients: &Clients,
    opts: &Options,
    on_progress: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<Target> {
    let mut queries = Vec::new();
    let names: Vec<String> = match &opts.targets {
        Targets::Named(names) => {
            let mut seen = BTreeSet::new();
            names
                .iter()
                .filter(|n| seen.insert(n.as_str()))
                .cloned()
                .collect()
        }
        Targets::All => match list_clusters(&clients.eks).await {
            Ok(names) => {
                queries.push("eks:ListClusters".to_owned());
                names
            }
            Err(e) => return vec![failed(region, "*", &e, &queries)],
        },
    };
    on_progress(Progress::Region {
        region: region.to_owned(),
        clusters: names.len(),
    });
    if names.is_empty() {
        tracing::info!(region, "no EKS clusters");
        return Vec::new();
    }

    let stacks = match describe_all_stacks(&clients.cfn).await {
        Ok(s) => s,
        Err(e) => {
            return names
                .iter()
                .map(|n| failed(region, n, &e, &queries))
                .collect();
        }
    };
    queries.push(format!(
        "cloudformation:DescribeStacks (all {} stacks of the region)",
        stacks.len()
    ));

    let mut described: HashMap<String, Result<Cluster, CallError>> = stream::iter(names.iter())
        .map(|name| async move {
            (
                name.clone(),
                describe_cluster(&clients.eks, region, name).await,
            )
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;

    // Everything the stacks and clusters name, for one batch of filtered EC2 calls.
    let mut subnet_ids = BTreeSet::new();
    let mut group_ids = BTreeSet::new();
    let mut own_stacks: HashMap<&str, Vec<Stack>> = HashMap::new();
    for name in &names {
        let Some(Ok(cluster)) = described.get(name) else {
            continue;
        };
        let mine = stacks_of(&stacks, name);
        let (subnets, groups) = referenced_ids(&mine, cluster);
        subnet_ids.extend(subnets);
        group_ids.extend(groups);
        own_stacks.insert(name.as_str(), mine);
    }
    let mut found_subnets = describe_subnets(&clients.ec2, &subnet_ids).await;
    let mut found_groups = describe_security_groups(&clients.ec2, &group_ids).await;
    // EC2 is eventually consistent: a subnet or group created moments ago can be briefly
    // invisible. Before calling anything deleted, ask once more for just the missing IDs.
    let missing_subnets = missing(&subnet_ids, found_subnets.as_deref().unwrap_or(&[]), |s| {
        &s.subnet_id
    });
    let missing_groups = missing(&group_ids, found_groups.as_deref().unwrap_or(&[]), |g| {
        &g.group_id
    });
    if found_subnets.is_ok()
        && found_groups.is_ok()
        && (!missing_subnets.is_empty() || !missing_groups.is_empty())
    {
        tokio::time::sleep(RECHECK_DELAY).await;
        if let (Ok(found), false) = (&mut found_subnets, missing_subnets.is_empty()) {
            match describe_subnets(&clients.ec2, &missing_subnets).await {
                Ok(more) => found.extend(more),
                Err(e) => found_subnets = Err(e),
            }
            queries.push(format!(
                "ec2:DescribeSubnets filter subnet-id ({} missing IDs, checked again)",
                missing_subnets.len()
            ));
        }
        if let (Ok(found), false) = (&mut found_groups, missing_groups.is_empty()) {
            match describe_security_groups(&clients.ec2, &missing_groups).await {
                Ok(more) => found.extend(more),
                Err(e) => found_groups = Err(e),
            }
            queries.push(format!(
                "ec2:DescribeSecurityGroups filter group-id ({} missing IDs, checked again)",
                missing_groups.len()
            ));
        }
    }
    queries.push(format!(
        "ec2:DescribeSubnets filter subnet-id ({} IDs)",
        subnet_ids.len()
    ));
    queries.push(format!(
        "ec2:DescribeSecurityGroups filter group-id ({} IDs)",
        group_ids.len()
    ));

    let mut ready = Vec::new();
    let mut targets = Vec::new();
    for name in &names {
        let mut own_queries = queries.clone();
        own_queries.push(format!("eks:DescribeCluster name={name}"));
        let cluster = match described.remove(name) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                targets.push(failed(region, name, &e, &own_queries));
                on_progress(Progress::Cluster {
                    region: region.to_owned(),
                    cluster: name.clone(),
                });
                continue;
            }
            // Every name was described above; a missing answer is a bug, and still reported.
            None => {
                let err = CallError {
                    action: "eks:DescribeCluster".to_owned(),
                    kind: ErrorKind::Internal,
                    code: None,
                    message: format!("no answer was recorded for {name}"),
                };
                targets.push(failed(region, name, &err, &own_queries));
                continue;
            }
        };
        let (subnets, groups) = match (&found_subnets, &found_groups) {
            (Err(e), _) | (_, Err(e)) => {
                targets.push(failed(region, name, e, &own_queries));
                continue;
            }
            (Ok(s), Ok(g)) => (s, g),
        };
        let mine = own_stacks.remove(name.as_str()).unwrap_or_default();
        let (want_subnets, want_groups) = referenced_ids(&mine, &cluster);
        let snapshot = Snapshot {
            source: "live".to_owned(),
            region: Some(region.to_owned()),
            stacks: mine,
            cluster,
            subnets: subnets
                .iter()
                .filter(|s| want_subnets.contains(&s.subnet_id))
                .cloned()
                .collect(),
            security_groups: Some(
                groups
                    .iter()
                    .filter(|g| want_groups.contains(&g.group_id))
                    .cloned()
                    .collect(),
            ),
            template: None,
            stack_resources: None,
            imports: None,
        };
        ready.push((snapshot, own_queries));
    }

    // The template and resources only where the cheap comparison needs them.
    let completed: Vec<Target> = stream::iter(ready)
        .map(|(mut snapshot, mut own_queries)| async move {
            let name = snapshot.cluster.name.clone();
            let stack_name = discover(&snapshot.stacks, &name)
                .stack
                .filter(|s| needs_template(s, &snapshot))
                .map(|s| s.stack_name.clone());
            if let Some(stack_name) = stack_name {
                match stack_details(&clients.cfn, &stack_name).await {
                    Ok((template, resources)) => {
                        snapshot.template = template;
                        snapshot.stack_resources = Some(resources);
                        own_queries.push(format!("cloudformation:GetTemplate stack={stack_name}"));
                        own_queries.push(format!(
                            "cloudformation:DescribeStackResources stack={stack_name}"
                        ));
                    }
                    Err(e) => return failed(region, &name, &e, &own_queries),
                }
            }
            Target {
                region: region.to_owned(),
                cluster: name,
                result: Ok(snapshot),
                queries: own_queries,
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    for t in &completed {
        on_progress(Progress::Cluster {
            region: region.to_owned(),
            cluster: t.cluster.clone(),
        });
    }
    targets.extend(completed);
    // Keep the order the user (or ListClusters) gave.
    let order: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    targets.sort_by_key(|t| order.get(t.cluster.as_str()).copied().unwrap_or(usize::MAX));
    targets
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

async fn list_clusters(eks: &aws_sdk_eks::Client) -> Result<Vec<String>, CallError> {
    let mut pages = eks.list_clusters().into_paginator().send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("eks:ListClusters", &e))?;
        names.extend(page.clusters().iter().cloned());
    }
    Ok(names)
}

async fn describe_all_stacks(
    cfn: &aws_sdk_cloudformation::Client,
) -> Result<Vec<Stack>, CallError> {
    let mut pages = cfn.describe_stacks().into_paginator().send();
    let mut stacks = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("cloudformation:DescribeStacks", &e))?;
        stacks.extend(page.stacks().iter().map(map::stack));
    }
    Ok(stacks)
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

async fn describe_subnets(
    ec2: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<Vec<Subnet>, CallError> {
    let ids: Vec<String> = ids.iter().cloned().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(FILTER_CHUNK) {
        let filter = Filter::builder()
            .name("subnet-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut pages = ec2
            .describe_subnets()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeSubnets", &e))?;
            found.extend(page.subnets().iter().map(map::subnet));
        }
    }
    Ok(found)
}

async fn describe_security_groups(
    ec2: &aws_sdk_ec2::Client,
    ids: &BTreeSet<String>,
) -> Result<Vec<SecurityGroup>, CallError> {
    let ids: Vec<String> = ids.iter().cloned().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(FILTER_CHUNK) {
        let filter = Filter::builder()
            .name("group-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut pages = ec2
            .describe_security_groups()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ec2:DescribeSecurityGroups", &e))?;
            found.extend(page.security_groups().iter().map(map::security_group));
        }
    }
    Ok(found)
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
