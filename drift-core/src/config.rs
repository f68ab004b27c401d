//! The user's eksctl ClusterConfig (`eksctl.io/v1alpha5`), as far as a plan reads it: YAML or
//! JSON, parsed with bounded effort (size, depth, aliases), and every field eksdrift does not
//! know named in a warning — eksctl refuses unknown fields (`yaml.UnmarshalStrict`), but its
//! schema grows faster than any copy of it, so an unknown field is never a parse failure and
//! never silently ignored.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

/// The largest ClusterConfig file read: 4 MiB (eksctl's own examples are a few KiB).
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// Deepest nesting read (a ClusterConfig nests about six levels).
const MAX_DEPTH: usize = 48;

/// A ClusterConfig, as far as eksdrift reads it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfig {
    /// `apiVersion` (`eksctl.io/v1alpha5`).
    #[serde(default)]
    pub api_version: String,
    /// `kind` (`ClusterConfig`).
    #[serde(default)]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: Metadata,
    /// `vpc`.
    #[serde(default)]
    pub vpc: Option<Vpc>,
    /// `iam`.
    #[serde(default)]
    pub iam: Option<Iam>,
    /// `availabilityZones`.
    #[serde(default)]
    pub availability_zones: Vec<String>,
    /// `nodeGroups` (self-managed).
    #[serde(default)]
    pub node_groups: Vec<NodeGroup>,
    /// `managedNodeGroups`.
    #[serde(default)]
    pub managed_node_groups: Vec<NodeGroup>,
    /// `accessConfig`.
    #[serde(default)]
    pub access_config: Option<AccessConfig>,
    /// `addons`: EKS addons.
    #[serde(default)]
    pub addons: Vec<AddonSpec>,
    /// `fargateProfiles`.
    #[serde(default)]
    pub fargate_profiles: Vec<FargateProfileSpec>,
    /// `outpost`: a cluster on AWS Outposts.
    #[serde(default)]
    pub outpost: Option<Outpost>,
}

/// `outpost`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outpost {
    /// `controlPlaneOutpostARN`.
    #[serde(default, rename = "controlPlaneOutpostARN")]
    pub control_plane_outpost_arn: Option<String>,
}

/// One of `fargateProfiles`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateProfileSpec {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `podExecutionRoleARN`; empty: the cluster stack's Fargate role.
    #[serde(default, rename = "podExecutionRoleARN")]
    pub pod_execution_role_arn: Option<String>,
    /// `subnets`: subnet IDs; empty: EKS's choice among the cluster's private subnets.
    #[serde(default)]
    pub subnets: Vec<String>,
}

/// One of `addons`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonSpec {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `version`: an addon version, `latest`, or empty (EKS's default).
    #[serde(default)]
    pub version: Option<String>,
    /// `serviceAccountRoleARN`.
    #[serde(default, rename = "serviceAccountRoleARN")]
    pub service_account_role_arn: Option<String>,
}

impl AddonSpec {
    /// The exact version the file pins, if any (not `latest` or `default`).
    #[must_use]
    pub fn pinned_version(&self) -> Option<&str> {
        self.version.as_deref().map(str::trim).filter(|v| {
            !v.is_empty() && !v.eq_ignore_ascii_case("latest") && !v.eq_ignore_ascii_case("default")
        })
    }
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// `name`: the cluster.
    #[serde(default)]
    pub name: String,
    /// `region`.
    #[serde(default)]
    pub region: Option<String>,
    /// `version`: the Kubernetes version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `vpc`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vpc {
    /// `id`.
    #[serde(default)]
    pub id: Option<String>,
    /// `cidr`: for an existing VPC, one of its CIDR blocks.
    #[serde(default)]
    pub cidr: Option<String>,
    /// `subnets`.
    #[serde(default)]
    pub subnets: Option<Subnets>,
}

/// `vpc.subnets`: subnets by name (an AZ, or any name), private and public.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Subnets {
    /// `private`.
    #[serde(default)]
    pub private: BTreeMap<String, SubnetSpec>,
    /// `public`.
    #[serde(default)]
    pub public: BTreeMap<String, SubnetSpec>,
}

/// One named subnet of `vpc.subnets`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SubnetSpec {
    /// `id`.
    #[serde(default)]
    pub id: Option<String>,
    /// `az`: omitted when the name is the AZ.
    #[serde(default)]
    pub az: Option<String>,
    /// `cidr`.
    #[serde(default)]
    pub cidr: Option<String>,
}

/// `iam`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Iam {
    /// `withOIDC`.
    #[serde(default, rename = "withOIDC")]
    pub with_oidc: Option<bool>,
    /// `serviceAccounts`: the iamserviceaccounts (IRSA).
    #[serde(default)]
    pub service_accounts: Vec<ServiceAccount>,
}

/// One of `iam.serviceAccounts`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    /// `metadata`.
    #[serde(default)]
    pub metadata: ServiceAccountMeta,
    /// `roleName`: the IAM role's name, when the file fixes it.
    #[serde(default)]
    pub role_name: Option<String>,
    /// `attachRoleARN`: an existing role instead of one eksctl makes.
    #[serde(default, rename = "attachRoleARN")]
    pub attach_role_arn: Option<String>,
    /// `attachPolicyARNs`.
    #[serde(default, rename = "attachPolicyARNs")]
    pub attach_policy_arns: Vec<String>,
}

/// `metadata` of a service account.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ServiceAccountMeta {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `namespace` (eksctl's default: `default`).
    #[serde(default)]
    pub namespace: Option<String>,
}

impl ServiceAccount {
    /// `namespace/name`, as eksctl names it (and its `--include`/`--exclude` match).
    #[must_use]
    pub fn id(&self) -> String {
        format!(
            "{}/{}",
            self.metadata.namespace.as_deref().unwrap_or("default"),
            self.metadata.name
        )
    }
}

/// `accessConfig`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    /// `authenticationMode`.
    #[serde(default)]
    pub authentication_mode: Option<String>,
}

/// A nodegroup of `nodeGroups` or `managedNodeGroups`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeGroup {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `instanceType`.
    #[serde(default)]
    pub instance_type: Option<String>,
    /// `instanceTypes` (managed).
    #[serde(default)]
    pub instance_types: Vec<String>,
    /// `availabilityZones`.
    #[serde(default)]
    pub availability_zones: Vec<String>,
    /// `subnets`: IDs, or names of `vpc.subnets`.
    #[serde(default)]
    pub subnets: Vec<String>,
    /// `privateNetworking`.
    #[serde(default)]
    pub private_networking: bool,
    /// `desiredCapacity`.
    #[serde(default)]
    pub desired_capacity: Option<u32>,
    /// `minSize`.
    #[serde(default)]
    pub min_size: Option<u32>,
    /// `maxSize`.
    #[serde(default)]
    pub max_size: Option<u32>,
    /// `localZones` (self-managed).
    #[serde(default)]
    pub local_zones: Vec<String>,
    /// `outpostARN`.
    #[serde(default, rename = "outpostARN")]
    pub outpost_arn: Option<String>,
    /// `ami`: an AMI ID, or one of eksctl's keywords (`auto`, `auto-ssm`, `static`).
    #[serde(default)]
    pub ami: Option<String>,
    /// `ssh`.
    #[serde(default)]
    pub ssh: Option<Ssh>,
    /// `securityGroups`.
    #[serde(default)]
    pub security_groups: Option<NodeGroupSecurityGroups>,
    /// `iam`.
    #[serde(default)]
    pub iam: Option<NodeGroupIam>,
    /// `launchTemplate` (managed nodegroups): a template of your own.
    #[serde(default)]
    pub launch_template: Option<LaunchTemplateRef>,
    /// `instanceSelector`: eksctl picks the instance types itself.
    #[serde(default)]
    pub instance_selector: Option<serde::de::IgnoredAny>,
}

/// A managed nodegroup's `launchTemplate`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LaunchTemplateRef {
    /// `id`.
    #[serde(default)]
    pub id: Option<String>,
    /// `version` (a string in eksctl's schema); absent: the template's default version.
    #[serde(default)]
    pub version: Option<String>,
}

/// A nodegroup's `ssh`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ssh {
    /// `allow`.
    #[serde(default)]
    pub allow: Option<bool>,
    /// `publicKeyName`: an EC2 key pair.
    #[serde(default)]
    pub public_key_name: Option<String>,
}

/// A nodegroup's `securityGroups`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeGroupSecurityGroups {
    /// `attachIDs`.
    #[serde(default, rename = "attachIDs")]
    pub attach_ids: Vec<String>,
}

/// A nodegroup's `iam`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeGroupIam {
    /// `instanceRoleARN`.
    #[serde(default, rename = "instanceRoleARN")]
    pub instance_role_arn: Option<String>,
    /// `instanceProfileARN` (self-managed nodegroups only).
    #[serde(default, rename = "instanceProfileARN")]
    pub instance_profile_arn: Option<String>,
    /// `attachPolicyARNs`.
    #[serde(default, rename = "attachPolicyARNs")]
    pub attach_policy_arns: Vec<String>,
}

impl NodeGroup {
    /// The instance types the nodegroup names (`instanceType`, `instanceTypes`).
    #[must_use]
    pub fn types(&self) -> Vec<&str> {
        self.instance_type
            .iter()
            .chain(&self.instance_types)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty() && *t != "mixed")
            .collect()
    }

    /// The AMI ID it names, if `ami` is one (not eksctl's `auto`, `auto-ssm`, `static`).
    #[must_use]
    pub fn ami_id(&self) -> Option<&str> {
        self.ami
            .as_deref()
            .map(str::trim)
            .filter(|a| a.starts_with("ami-"))
    }

    /// The key pair it names (`ssh.publicKeyName`, written to the launch template even with
    /// `ssh.allow: false`).
    #[must_use]
    pub fn key_name(&self) -> Option<&str> {
        self.ssh
            .as_ref()
            .and_then(|s| s.public_key_name.as_deref())
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }
}

/// Whether `arn` is a customer-managed policy (`arn:<partition>:iam::<account>:policy/…`).
#[must_use]
pub fn is_customer_policy(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "iam", "", account, rest]
        if *account != "aws" && account.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("policy/"))
}

/// Which list a nodegroup came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeGroupKind {
    /// `nodeGroups`.
    SelfManaged,
    /// `managedNodeGroups`.
    Managed,
}

impl ClusterConfig {
    /// Every subnet ID the file names (`vpc.subnets`, nodegroups' `subnets:`): what a plan
    /// must look up.
    #[must_use]
    pub fn subnet_ids(&self) -> std::collections::BTreeSet<String> {
        let mut ids = std::collections::BTreeSet::new();
        if let Some(subnets) = self.vpc.as_ref().and_then(|v| v.subnets.as_ref()) {
            for spec in subnets.private.values().chain(subnets.public.values()) {
                ids.extend(spec.id.iter().map(|s| s.trim().to_owned()));
            }
        }
        for (_, ng) in self.node_pools() {
            ids.extend(ng.subnets.iter().map(|s| s.trim().to_owned()));
        }
        for p in &self.fargate_profiles {
            ids.extend(p.subnets.iter().map(|s| s.trim().to_owned()));
        }
        ids.retain(|id| crate::snapshot::is_resource_id(id, "subnet"));
        ids
    }

    /// Every customer-managed policy ARN the file attaches (nodegroups' and service accounts'
    /// `attachPolicyARNs`; AWS-managed ones, `arn:…:iam::aws:policy/…`, always exist).
    #[must_use]
    pub fn customer_policy_arns(&self) -> std::collections::BTreeSet<String> {
        let nodegroups = self
            .node_pools()
            .flat_map(|(_, ng)| ng.iam.iter().flat_map(|i| &i.attach_policy_arns));
        let accounts = self
            .iam
            .iter()
            .flat_map(|i| &i.service_accounts)
            .flat_map(|sa| &sa.attach_policy_arns);
        nodegroups
            .chain(accounts)
            .map(|a| a.trim().to_owned())
            .filter(|a| is_customer_policy(a))
            .collect()
    }

    /// Every instance profile the self-managed nodegroups name (`iam.instanceProfileARN`), by
    /// name: the ARN's last path segment, what `iam:GetInstanceProfile` asks for.
    #[must_use]
    pub fn instance_profile_names(&self) -> std::collections::BTreeSet<String> {
        self.node_groups
            .iter()
            .filter_map(|ng| ng.iam.as_ref()?.instance_profile_arn.as_deref())
            .filter_map(profile_name)
            .collect()
    }

    /// The existing VPC a `create-cluster` plan names (`vpc.id`).
    #[must_use]
    pub fn vpc_id(&self) -> Option<&str> {
        self.vpc
            .as_ref()?
            .id
            .as_deref()
            .map(str::trim)
            .filter(|id| crate::snapshot::is_resource_id(id, "vpc"))
    }

    /// Every launch template ID the managed nodegroups name (`launchTemplate.id`).
    #[must_use]
    pub fn launch_template_ids(&self) -> std::collections::BTreeSet<String> {
        self.managed_node_groups
            .iter()
            .filter_map(|ng| ng.launch_template.as_ref()?.id.as_deref())
            .map(|id| id.trim().to_owned())
            .filter(|id| id.starts_with("lt-"))
            .collect()
    }

    /// Every security group ID the nodegroups attach (`securityGroups.attachIDs`).
    #[must_use]
    pub fn attached_group_ids(&self) -> std::collections::BTreeSet<String> {
        self.node_pools()
            .flat_map(|(_, ng)| ng.security_groups.iter().flat_map(|g| &g.attach_ids))
            .map(|g| g.trim().to_owned())
            .filter(|g| crate::snapshot::is_resource_id(g, "sg"))
            .collect()
    }

    /// Every nodegroup of the file, self-managed first, as eksctl's `ToNodePools` lists them.
    pub fn node_pools(&self) -> impl Iterator<Item = (NodeGroupKind, &NodeGroup)> {
        self.node_groups
            .iter()
            .map(|n| (NodeGroupKind::SelfManaged, n))
            .chain(
                self.managed_node_groups
                    .iter()
                    .map(|n| (NodeGroupKind::Managed, n)),
            )
    }
}

/// The instance profile name of an `instance-profile` ARN (its last path segment), or `None`
/// for something else.
#[must_use]
pub fn profile_name(arn: &str) -> Option<String> {
    let arn = arn.trim();
    let (_, resource) = arn.split_once(":instance-profile/")?;
    let name = resource.rsplit('/').next()?;
    (arn.starts_with("arn:") && !name.is_empty()).then(|| name.to_owned())
}

/// A field the file holds that eksdrift does not know, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// The field's path (`managedNodeGroups[1].desiredCapacty`).
    pub path: String,
}

/// A parsed ClusterConfig and the fields eksdrift did not know.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The config.
    pub config: ClusterConfig,
    /// Unknown fields, in file order by path.
    pub unknown: Vec<UnknownField>,
}

/// Why a ClusterConfig could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file (`-` for stdin).
    pub source: String,
    /// 1-based line and column, when known.
    pub position: Option<(u64, u64)>,
    /// What is wrong, one line.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "{}:{line}:{column}: {}",
                crate::text::inline(&self.source),
                self.message
            ),
            None => write!(f, "{}: {}", crate::text::inline(&self.source), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_CONFIG_BYTES);
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_events = 200_000;
    budget.max_nodes = 100_000;
    budget.max_documents = 1;
    budget.max_total_scalar_bytes = MAX_CONFIG_BYTES;
    budget.max_recorded_anchor_events = 100_000;
    budget.max_recorded_anchor_bytes = MAX_CONFIG_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

/// The first line of a parser message, without the snippet it may quote, made safe.
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    crate::text::inline(first).into_owned()
}

fn error(source: &str, e: &serde_saphyr::Error) -> ConfigError {
    let position = e
        .location()
        .map(|l| (l.line(), l.column()))
        .filter(|(l, _)| *l > 0);
    let mut message = one_line(&e.to_string());
    // The parser's message may already start with a level and the position: keep them once.
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_owned();
    }
    if let Some((line, column)) = position {
        for prefix in [
            format!("line {line} column {column}: "),
            format!("{line}:{column}: "),
        ] {
            if let Some(rest) = message.strip_prefix(&prefix) {
                message = rest.to_owned();
            }
        }
    }
    if message.contains("budget breached") {
        message = format!(
            "the file goes beyond what eksdrift parses (aliases, nesting, nodes or size): {message}"
        );
    }
    ConfigError {
        source: source.to_owned(),
        position,
        message,
    }
}

/// Parses a ClusterConfig (YAML or JSON). `source` names the file in errors.
///
/// # Errors
///
/// The file is larger than [`MAX_CONFIG_BYTES`], is not UTF-8, is not YAML, nests or aliases
/// beyond the limits, holds a wrong type in a field eksdrift reads, or is not an
/// `eksctl.io/v1alpha5` `ClusterConfig` naming its cluster.
pub fn parse(bytes: &[u8], source: &str) -> Result<Parsed, ConfigError> {
    let fail = |message: String| ConfigError {
        source: source.to_owned(),
        position: None,
        message,
    };
    if bytes.len() > MAX_CONFIG_BYTES {
        return Err(fail(format!(
            "the file is {} bytes; a ClusterConfig larger than {} MiB is not read",
            bytes.len(),
            MAX_CONFIG_BYTES / 1024 / 1024
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| fail(format!("not UTF-8 text (byte {})", e.valid_up_to())))?;
    let config: ClusterConfig =
        serde_saphyr::from_str_with_options(text, options()).map_err(|e| error(source, &e))?;
    let tree: serde_json::Value =
        serde_saphyr::from_str_with_options(text, options()).map_err(|e| error(source, &e))?;
    if config.kind != "ClusterConfig" {
        return Err(fail(format!(
            "kind is {:?}, not ClusterConfig",
            crate::text::inline(&config.kind)
        )));
    }
    if !config.api_version.starts_with("eksctl.io/") {
        return Err(fail(format!(
            "apiVersion is {:?}, not eksctl.io/v1alpha5",
            crate::text::inline(&config.api_version)
        )));
    }
    if config.metadata.name.trim().is_empty() {
        return Err(fail(
            "metadata.name is missing: the plan needs the cluster's name".to_owned(),
        ));
    }
    let mut unknown = Vec::new();
    walk(&tree, "", Schema::Root, &mut unknown);
    Ok(Parsed { config, unknown })
}

/// Where in the file a mapping sits, for its known fields.
#[derive(Clone, Copy)]
enum Schema {
    Root,
    Metadata,
    Vpc,
    Subnets,
    SubnetMap,
    SubnetSpec,
    NodeGroup,
    ManagedNodeGroup,
    Ssh,
    SecurityGroups,
    LaunchTemplate,
    NodeGroupIam,
    Iam,
    ServiceAccount,
    ServiceAccountMeta,
    AccessConfig,
    Addon,
    /// Not checked below this point (labels, tags, and objects eksdrift does not read).
    Open,
}

/// The fields of each level, from eksctl's `pkg/apis/eksctl.io/v1alpha5` JSON tags, and the
/// schema of the children eksdrift looks into.
fn known(schema: Schema) -> &'static [&'static str] {
    const NODEGROUP_BASE: &[&str] = &[
        "name",
        "amiFamily",
        "instanceType",
        "availabilityZones",
        "subnets",
        "instancePrefix",
        "instanceName",
        "desiredCapacity",
        "minSize",
        "maxSize",
        "volumeSize",
        "ssh",
        "labels",
        "privateNetworking",
        "tags",
        "iam",
        "ami",
        "securityGroups",
        "maxPodsPerNode",
        "asgSuspendProcesses",
        "ebsOptimized",
        "volumeType",
        "volumeName",
        "volumeEncrypted",
        "volumeKmsKeyID",
        "volumeIOPS",
        "volumeThroughput",
        "additionalVolumes",
        "preBootstrapCommands",
        "overrideBootstrapCommand",
        "propagateASGTags",
        "disableIMDSv1",
        "disablePodIMDS",
        "placement",
        "efaEnabled",
        "instanceSelector",
        "bottlerocket",
        "enableDetailedMonitoring",
        "capacityReservation",
        "instanceMarketOptions",
        "outpostARN",
        "taints",
        "updateConfig",
    ];
    match schema {
        Schema::Root => &[
            "apiVersion",
            "kind",
            "metadata",
            "upgradePolicy",
            "kubernetesNetworkConfig",
            "autoModeConfig",
            "remoteNetworkConfig",
            "iam",
            "iamIdentityMappings",
            "identityProviders",
            "accessConfig",
            "vpc",
            "addons",
            "addonsConfig",
            "privateCluster",
            "nodeGroups",
            "managedNodeGroups",
            "fargateProfiles",
            "availabilityZones",
            "localZones",
            "cloudWatch",
            "secretsEncryption",
            "gitops",
            "karpenter",
            "outpost",
            "controlPlaneScalingConfig",
            "zonalShiftConfig",
            "kubeAPIServerConfig",
            "kubeSchedulerConfig",
            "kubeControllerManagerConfig",
            "capabilities",
        ],
        Schema::Metadata => &[
            "name",
            "region",
            "version",
            "forceUpdateVersion",
            "rollbackConfig",
            "tags",
            "annotations",
        ],
        Schema::Vpc => &[
            "id",
            "cidr",
            "ipv6Cidr",
            "ipv6Pool",
            "securityGroup",
            "subnets",
            "hostnameType",
            "extraCIDRs",
            "extraIPv6CIDRs",
            "sharedNodeSecurityGroup",
            "manageSharedNodeSecurityGroupRules",
            "autoAllocateIPv6",
            "nat",
            "clusterEndpoints",
            "publicAccessCIDRs",
            "controlPlaneSubnetIDs",
            "controlPlaneOnPrivateSubnets",
            "controlPlaneSecurityGroupIDs",
            "controlPlaneEgressMode",
        ],
        Schema::Subnets => &["private", "public"],
        Schema::SubnetSpec => &["id", "az", "cidr"],
        Schema::NodeGroup | Schema::ManagedNodeGroup => NODEGROUP_BASE,
        Schema::Ssh => &[
            "allow",
            "publicKeyPath",
            "publicKey",
            "publicKeyName",
            "sourceSecurityGroupIds",
            "enableSsm",
        ],
        Schema::SecurityGroups => &["attachIDs", "withShared", "withLocal"],
        Schema::LaunchTemplate => &["id", "version"],
        Schema::NodeGroupIam => &[
            "attachPolicy",
            "attachPolicyARNs",
            "instanceProfileARN",
            "instanceRoleARN",
            "instanceRoleName",
            "instanceRolePermissionsBoundary",
            "withAddonPolicies",
        ],
        Schema::Iam => &[
            "serviceRoleARN",
            "serviceRolePermissionsBoundary",
            "fargatePodExecutionRoleARN",
            "fargatePodExecutionRolePermissionsBoundary",
            "withOIDC",
            "serviceAccounts",
            "podIdentityAssociations",
            "vpcResourceControllerPolicy",
        ],
        Schema::ServiceAccount => &[
            "metadata",
            "attachPolicyARNs",
            "wellKnownPolicies",
            "attachPolicy",
            "attachRoleARN",
            "permissionsBoundary",
            "status",
            "roleName",
            "roleOnly",
            "tags",
            "subjectPattern",
        ],
        Schema::ServiceAccountMeta => &["name", "namespace", "labels", "annotations"],
        Schema::AccessConfig => &[
            "authenticationMode",
            "bootstrapClusterCreatorAdminPermissions",
            "accessEntries",
        ],
        Schema::Addon => &[
            "name",
            "version",
            "tags",
            "serviceAccountRoleARN",
            "attachPolicyARNs",
            "attachPolicy",
            "permissionsBoundary",
            "wellKnownPolicies",
            "configurationValues",
            "resolveConflicts",
            "podIdentityAssociations",
            "useDefaultPodIdentityAssociations",
            "owners",
            "publishers",
            "types",
            "namespaceConfig",
        ],
        Schema::SubnetMap | Schema::Open => &[],
    }
}

/// Fields only one kind of nodegroup has.
fn known_extra(schema: Schema) -> &'static [&'static str] {
    match schema {
        Schema::NodeGroup => &[
            "instancesDistribution",
            "asgMetricsCollection",
            "cpuCredits",
            "classicLoadBalancerNames",
            "targetGroupARNs",
            "clusterDNS",
            "kubeletExtraConfig",
            "containerRuntime",
            "maxInstanceLifetime",
            "localZones",
            "enclaveEnabled",
        ],
        Schema::ManagedNodeGroup => &[
            "instanceTypes",
            "spot",
            "launchTemplate",
            "releaseVersion",
            "nodeRepairConfig",
        ],
        _ => &[],
    }
}

/// The schema of a known field's value.
fn child(schema: Schema, key: &str) -> Schema {
    match (schema, key) {
        (Schema::Root, "metadata") => Schema::Metadata,
        (Schema::Root, "vpc") => Schema::Vpc,
        (Schema::Root, "nodeGroups") => Schema::NodeGroup,
        (Schema::Root, "managedNodeGroups") => Schema::ManagedNodeGroup,
        (Schema::Root, "iam") => Schema::Iam,
        (Schema::Root, "accessConfig") => Schema::AccessConfig,
        (Schema::Root, "addons") => Schema::Addon,
        (Schema::Vpc, "subnets") => Schema::Subnets,
        (Schema::Subnets, _) => Schema::SubnetMap,
        (Schema::SubnetMap, _) => Schema::SubnetSpec,
        (Schema::NodeGroup | Schema::ManagedNodeGroup, "ssh") => Schema::Ssh,
        (Schema::NodeGroup | Schema::ManagedNodeGroup, "securityGroups") => Schema::SecurityGroups,
        (Schema::ManagedNodeGroup, "launchTemplate") => Schema::LaunchTemplate,
        (Schema::NodeGroup | Schema::ManagedNodeGroup, "iam") => Schema::NodeGroupIam,
        (Schema::Iam, "serviceAccounts") => Schema::ServiceAccount,
        (Schema::ServiceAccount, "metadata") => Schema::ServiceAccountMeta,
        _ => Schema::Open,
    }
}

fn walk(value: &serde_json::Value, path: &str, schema: Schema, out: &mut Vec<UnknownField>) {
    match value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), schema, out);
            }
        }
        serde_json::Value::Object(map) => {
            if matches!(schema, Schema::Open) {
                return;
            }
            for (key, v) in map {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let free = matches!(schema, Schema::SubnetMap);
                if !free
                    && !known(schema).contains(&key.as_str())
                    && !known_extra(schema).contains(&key.as_str())
                {
                    out.push(UnknownField {
                        path: crate::text::inline(&here).into_owned(),
                    });
                    continue;
                }
                walk(v, &here, child(schema, key), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: &str = r"
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: prod
  region: us-west-2
  version: '1.33'
vpc:
  id: vpc-0a1b2c3d4e5f60718
  subnets:
    private:
      us-west-2a: { id: subnet-0aa2000000000000a }
      app-b:
        id: subnet-0bb2000000000000b
        az: us-west-2b
managedNodeGroups:
  - name: ng-2
    instanceType: m5.large
    desiredCapacty: 3
    privateNetworking: true
    availabilityZones: [us-west-2a]
    labels: { role: worker, 'anything-goes': 'x' }
nodeGroups:
  - name: 23-ng
    subnets: [app-b]
";

    #[test]
    fn a_config_parses_and_unknown_fields_are_named() {
        let parsed = parse(SIMPLE.as_bytes(), "cluster.yaml").unwrap();
        let c = &parsed.config;
        assert_eq!(c.metadata.name, "prod");
        assert_eq!(c.metadata.version.as_deref(), Some("1.33"));
        let subnets = c.vpc.as_ref().unwrap().subnets.as_ref().unwrap();
        assert_eq!(subnets.private["app-b"].az.as_deref(), Some("us-west-2b"));
        assert_eq!(c.managed_node_groups[0].availability_zones, ["us-west-2a"]);
        assert!(c.managed_node_groups[0].private_networking);
        assert_eq!(c.node_groups[0].name, "23-ng");
        let unknown: Vec<&str> = parsed.unknown.iter().map(|u| u.path.as_str()).collect();
        assert_eq!(unknown, ["managedNodeGroups[0].desiredCapacty"]);
    }

    #[test]
    fn json_parses_too() {
        let parsed = parse(
            br#"{"apiVersion":"eksctl.io/v1alpha5","kind":"ClusterConfig","metadata":{"name":"prod","region":"eu-west-1"}}"#,
            "c.json",
        )
        .unwrap();
        assert_eq!(parsed.config.metadata.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn a_wrong_type_names_its_line_and_column() {
        let text = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\nmanagedNodeGroups:\n  - name: ng\n    desiredCapacity: lots\n";
        let e = parse(text.as_bytes(), "cluster.yaml").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(7), "{e}");
        assert!(e.to_string().starts_with("cluster.yaml:7:"), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    #[test]
    fn hostile_files_fail_quickly_and_cleanly() {
        // A billion laughs.
        let mut bomb = vec![String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n")];
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            let refs = vec![format!("*{prev}"); 10].join(", ");
            bomb.push(format!("l{i}: &l{i} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let e = parse(bomb.concat().as_bytes(), "bomb.yaml").unwrap_err();
        assert!(started.elapsed().as_secs() < 5, "{e}");
        // Deep nesting.
        let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(deep.as_bytes(), "deep.yaml").is_err());
        // Too large.
        let big = vec![b'#'; MAX_CONFIG_BYTES + 1];
        assert!(parse(&big, "big.yaml").unwrap_err().message.contains("MiB"));
        // Not a ClusterConfig.
        assert!(parse(b"kind: Pod\napiVersion: v1\n", "pod.yaml").is_err());
        // A name with a newline and an escape sequence is taken as data, never echoed raw.
        let text = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: \"prod\\n\\u001b[31mred\"\n  \"\\u001b[2Jx\": 1\n";
        let parsed = parse(text.as_bytes(), "esc.yaml").unwrap();
        assert!(parsed.unknown.iter().all(|u| !u.path.contains('\u{1b}')));
    }
}
