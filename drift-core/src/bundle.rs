//! Capture bundles: one folder per cluster holding exactly what the AWS CLI prints with
//! `--output json`, so a user can assemble one by hand. See the README for the file list.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::input::{Input, InputFailure};
use crate::report::ErrorKind;
use crate::snapshot::{
    AccessEntry, Addon, AddonInfo, AttachedPolicy, AutoScalingGroup, ClassicLoadBalancer, Cluster,
    ClusterVersion, FargateProfile, Image, Insight, Instance, InstanceProfile,
    InstanceTypeOffering, KeyPair, LaunchTemplate, LaunchTemplateVersion, LoadBalancer,
    NetworkInterface, Nodegroup, PodIdentityAssociation, Role, RoleAttachmentMap, SecurityGroup,
    Snapshot, Stack, StackResource, Subnet, Tag,
};

/// `describe-stacks.json`.
pub const DESCRIBE_STACKS: &str = "describe-stacks.json";
/// `describe-cluster.json`.
pub const DESCRIBE_CLUSTER: &str = "describe-cluster.json";
/// `describe-subnets.json`.
pub const DESCRIBE_SUBNETS: &str = "describe-subnets.json";
/// `describe-security-groups.json`.
pub const DESCRIBE_SECURITY_GROUPS: &str = "describe-security-groups.json";
/// `get-template.json`.
pub const GET_TEMPLATE: &str = "get-template.json";
/// `describe-stack-resources.json`.
pub const DESCRIBE_STACK_RESOURCES: &str = "describe-stack-resources.json";
/// `capture.json`.
pub const CAPTURE: &str = "capture.json";
/// `aws cloudformation list-imports --export-name NAME`, one file per export:
/// `list-imports/<export name>.json`. The AWS CLI prints an error instead of an empty list when
/// nothing imports the export; such a file holds `{"Imports": []}`.
pub const LIST_IMPORTS: &str = "list-imports";
/// `aws cloudformation get-template --stack-name S` for each managed nodegroup stack whose
/// nodegroup runs a launch template of its own: `get-template/<stack name>.json` (named after
/// the stack: the answer does not hold it).
pub const GET_TEMPLATE_DIR: &str = "get-template";
/// `aws eks list-nodegroups --cluster-name C` → `{"nodegroups": […]}`.
pub const LIST_NODEGROUPS: &str = "list-nodegroups.json";
/// `aws eks describe-nodegroup --cluster-name C --nodegroup-name NG`, one file per nodegroup:
/// `describe-nodegroup/<nodegroup>.json`, read by its content.
pub const DESCRIBE_NODEGROUP: &str = "describe-nodegroup";
/// `aws autoscaling describe-auto-scaling-groups --filters
/// Name=tag-key,Values=kubernetes.io/cluster/C` → `{"AutoScalingGroups": […]}`.
pub const DESCRIBE_AUTO_SCALING_GROUPS: &str = "describe-auto-scaling-groups.json";
/// `aws ec2 describe-launch-template-versions --launch-template-id LT` for every launch
/// template the nodegroups name, merged → `{"LaunchTemplateVersions": […]}`.
pub const DESCRIBE_LAUNCH_TEMPLATE_VERSIONS: &str = "describe-launch-template-versions.json";
/// `aws eks list-clusters` → `{"clusters": […]}`.
pub const LIST_CLUSTERS: &str = "list-clusters.json";
/// `aws iam list-open-id-connect-providers` → `{"OpenIDConnectProviderList": [{"Arn": …}]}`.
pub const LIST_OPEN_ID_CONNECT_PROVIDERS: &str = "list-open-id-connect-providers.json";
/// `aws iam list-roles` → `{"Roles": […]}`; must cover every role the cluster's stacks,
/// nodegroups, access entries and pod identity associations name.
pub const LIST_ROLES: &str = "list-roles.json";
/// `aws eks list-access-entries --cluster-name C` → `{"accessEntries": […]}`.
pub const LIST_ACCESS_ENTRIES: &str = "list-access-entries.json";
/// `aws eks describe-access-entry --cluster-name C --principal-arn P`, one file per entry:
/// `describe-access-entry/<n>.json`, read by the `principalArn` inside.
pub const DESCRIBE_ACCESS_ENTRY: &str = "describe-access-entry";
/// `aws eks list-pod-identity-associations --cluster-name C` → `{"associations": […]}`.
pub const LIST_POD_IDENTITY_ASSOCIATIONS: &str = "list-pod-identity-associations.json";
/// `aws eks describe-pod-identity-association --cluster-name C --association-id A`, one file
/// per association: `describe-pod-identity-association/<id>.json`, read by its content.
pub const DESCRIBE_POD_IDENTITY_ASSOCIATION: &str = "describe-pod-identity-association";

/// `aws elbv2 describe-load-balancers` → `{"LoadBalancers": […]}` (every load balancer of the
/// region; the rules keep those in the cluster's VPC).
pub const DESCRIBE_LOAD_BALANCERS: &str = "describe-load-balancers.json";
/// `aws elb describe-load-balancers` → `{"LoadBalancerDescriptions": […]}`.
pub const DESCRIBE_LOAD_BALANCERS_CLASSIC: &str = "describe-load-balancers-classic.json";
/// `aws elbv2 describe-tags --resource-arns …` (20 at a time, merged) →
/// `{"TagDescriptions": [{"ResourceArn": …, "Tags": […]}]}`.
pub const DESCRIBE_TAGS: &str = "describe-tags.json";
/// `aws elb describe-tags --load-balancer-names …` (20 at a time, merged) →
/// `{"TagDescriptions": [{"LoadBalancerName": …, "Tags": […]}]}`.
pub const DESCRIBE_TAGS_CLASSIC: &str = "describe-tags-classic.json";
/// `aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=VPC` →
/// `{"NetworkInterfaces": […]}`.
pub const DESCRIBE_NETWORK_INTERFACES: &str = "describe-network-interfaces.json";
/// `aws ec2 describe-instances --filters Name=vpc-id,Values=VPC
/// Name=instance-state-name,Values=pending,running,stopping,stopped` →
/// `{"Reservations": [{"Instances": […]}]}`.
pub const DESCRIBE_INSTANCES: &str = "describe-instances.json";
/// `aws ec2 describe-launch-templates --filters Name=tag-key,Values=karpenter.k8s.aws/ec2nodeclass`
/// → `{"LaunchTemplates": […]}`.
pub const DESCRIBE_LAUNCH_TEMPLATES: &str = "describe-launch-templates.json";
/// `aws ec2 describe-security-groups --filters Name=vpc-id,Values=VPC`, and the groups whose
/// rules name eksctl's (`ip-permission.group-id`, `egress.ip-permission.group-id`), merged →
/// `{"SecurityGroups": […]}`.
pub const DESCRIBE_SECURITY_GROUPS_VPC: &str = "describe-security-groups-vpc.json";
/// `aws iam list-attached-role-policies --role-name R`, one file per role of eksctl's stacks:
/// `list-attached-role-policies/<role>.json`.
pub const LIST_ATTACHED_ROLE_POLICIES: &str = "list-attached-role-policies";
/// `aws iam list-role-policies --role-name R`: `list-role-policies/<role>.json`.
pub const LIST_ROLE_POLICIES: &str = "list-role-policies";
/// `aws iam list-instance-profiles-for-role --role-name R`:
/// `list-instance-profiles-for-role/<role>.json`.
pub const LIST_INSTANCE_PROFILES_FOR_ROLE: &str = "list-instance-profiles-for-role";

/// `aws eks list-addons --cluster-name C` → `{"addons": […]}`.
pub const LIST_ADDONS: &str = "list-addons.json";
/// `aws eks describe-addon --cluster-name C --addon-name A`, one file per addon:
/// `describe-addon/<addon>.json`, read by its content.
pub const DESCRIBE_ADDON: &str = "describe-addon";

/// `aws eks list-fargate-profiles --cluster-name C` → `{"fargateProfileNames": […]}`.
pub const LIST_FARGATE_PROFILES: &str = "list-fargate-profiles.json";
/// `aws eks describe-fargate-profile --cluster-name C --fargate-profile-name P`, one file per
/// profile: `describe-fargate-profile/<profile>.json`, read by its content.
pub const DESCRIBE_FARGATE_PROFILE: &str = "describe-fargate-profile";

/// `aws eks list-insights --cluster-name C` → `{"insights": […]}` (the summaries).
pub const LIST_INSIGHTS: &str = "list-insights.json";
/// `aws eks describe-insight --cluster-name C --id I`, one file per insight that is not
/// `PASSING`: `describe-insight/<id>.json`, read by its content.
pub const DESCRIBE_INSIGHT: &str = "describe-insight";
/// `aws eks describe-cluster-versions` → `{"clusterVersions": […]}`.
pub const DESCRIBE_CLUSTER_VERSIONS: &str = "describe-cluster-versions.json";
/// `aws eks describe-addon-versions --kubernetes-version V --addon-name A` for each of the
/// cluster's addons, merged per version: `describe-addon-versions/<version>.json` →
/// `{"addons": […]}`.
pub const DESCRIBE_ADDON_VERSIONS: &str = "describe-addon-versions";

/// `aws ec2 describe-key-pairs --filters Name=key-name,Values=<names>` for the key pairs a plan
/// names → `{"KeyPairs": […]}`.
pub const DESCRIBE_KEY_PAIRS: &str = "describe-key-pairs.json";
/// `aws ec2 describe-images --include-deprecated --filters Name=image-id,Values=<amis>` →
/// `{"Images": […]}`.
pub const DESCRIBE_IMAGES: &str = "describe-images.json";
/// `aws ec2 describe-instance-type-offerings --location-type availability-zone --filters
/// Name=instance-type,Values=<types>` → `{"InstanceTypeOfferings": […]}`.
pub const DESCRIBE_INSTANCE_TYPE_OFFERINGS: &str = "describe-instance-type-offerings.json";

/// `aws iam get-policy --policy-arn <arn>` for each customer-managed policy a plan attaches,
/// the found ones merged → `{"Policies": [{"Arn": …}]}`.
pub const GET_POLICY: &str = "get-policy.json";

/// `aws iam get-instance-profile --instance-profile-name <name>` for each instance profile a
/// plan's self-managed nodegroups name, the found ones merged →
/// `{"InstanceProfiles": [{"InstanceProfileName": …, "Arn": …, "Roles": […]}]}`.
pub const GET_INSTANCE_PROFILE: &str = "get-instance-profile.json";

/// `aws ec2 describe-vpcs --vpc-ids <id>` for a `create-cluster` plan's `vpc.id` →
/// `{"Vpcs": […]}` (empty when the VPC does not exist).
pub const DESCRIBE_VPCS: &str = "describe-vpcs.json";

/// The largest bundle file read unless told otherwise: 256 MiB. A bigger file fails its bundle
/// as invalid input rather than exhausting memory.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The most a whole bundle's files may add up to unless told otherwise: 512 MiB. Each file is
/// under [`DEFAULT_MAX_FILE_BYTES`], but a folder of per-item files (sparse ones take no disk)
/// could otherwise add up to any size.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// Bounds on what reading a bundle may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Most the files of one bundle may add up to, in bytes.
    pub max_bundle_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_bundle_bytes: DEFAULT_MAX_BUNDLE_BYTES,
        }
    }
}

impl ReadLimits {
    /// Limits with a given largest file size (and a bundle total of at least twice that).
    #[must_use]
    pub fn with_max_file_bytes(max_file_bytes: u64) -> Self {
        ReadLimits {
            max_file_bytes,
            max_bundle_bytes: DEFAULT_MAX_BUNDLE_BYTES.max(max_file_bytes.saturating_mul(2)),
        }
    }
}

/// How deep `--from` looks for bundles below the folder it is given
/// (`capture` writes `DIR/<region>/<cluster>/`).
const MAX_DEPTH: usize = 4;

/// Why a bundle could not be read or written. Every variant names the file.
#[allow(missing_docs)] // the fields are what the variant and its message name
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{}: {source}", path.display())]
    /// The file or folder could not be read.
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    /// The file is not the JSON the AWS CLI prints.
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: required file is missing (a bundle holds {DESCRIBE_STACKS}, {DESCRIBE_CLUSTER} and {DESCRIBE_SUBNETS})", path.display())]
    /// A required file is absent.
    Missing { path: PathBuf },
    #[error("{}: {message}", path.display())]
    /// The file or folder cannot be a bundle file.
    Invalid { path: PathBuf, message: String },
    #[error("{}: no capture bundle found (a bundle folder holds {DESCRIBE_STACKS}, {DESCRIBE_CLUSTER} and {DESCRIBE_SUBNETS})", path.display())]
    /// No bundle below the given folder.
    NoBundles { path: PathBuf },
}

impl BundleError {
    /// The file or folder the error is about.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            BundleError::Io { path, .. }
            | BundleError::Parse { path, .. }
            | BundleError::Missing { path }
            | BundleError::Invalid { path, .. }
            | BundleError::NoBundles { path } => path,
        }
    }
}

/// `capture.json`: what `eksdrift capture` records about how a bundle was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    /// The program that wrote the report.
    pub tool: String,
    /// Version.
    pub version: String,
    #[serde(default)]
    /// The AWS region, when known.
    pub region: Option<String>,
    /// The EKS cluster name.
    pub cluster: String,
    /// The `captured_at` of this record.
    pub captured_at: String,
    /// The AWS calls made, as `service:Operation` with their parameters.
    #[serde(default)]
    pub queries: Vec<String>,
    /// The inputs whose read failed during the capture: auditing the bundle reports the same
    /// rules as not checked.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<Input, InputFailure>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StacksFile {
    stacks: Vec<Stack>,
}

#[derive(Serialize, Deserialize)]
struct ClusterFile {
    cluster: Cluster,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetsFile {
    subnets: Vec<Subnet>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityGroupsFile {
    security_groups: Vec<SecurityGroup>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FargateProfilesFile {
    #[serde(default)]
    fargate_profile_names: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FargateProfileFile {
    fargate_profile: FargateProfile,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPairsFile {
    #[serde(default)]
    key_pairs: Vec<KeyPair>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImagesFile {
    #[serde(default)]
    images: Vec<Image>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OfferingsFile {
    #[serde(default)]
    instance_type_offerings: Vec<InstanceTypeOffering>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoliciesFile {
    #[serde(default)]
    policies: Vec<PolicyRef>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyRef {
    arn: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlannedProfilesFile {
    #[serde(default)]
    instance_profiles: Vec<crate::snapshot::PlannedInstanceProfile>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VpcsFile {
    #[serde(default)]
    vpcs: Vec<crate::snapshot::Vpc>,
}

#[derive(Serialize, Deserialize)]
struct InsightsFile {
    #[serde(default)]
    insights: Vec<Insight>,
}

#[derive(Serialize, Deserialize)]
struct InsightFile {
    insight: Insight,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterVersionsFile {
    #[serde(default)]
    cluster_versions: Vec<ClusterVersion>,
}

#[derive(Serialize, Deserialize)]
struct AddonVersionsFile {
    #[serde(default)]
    addons: Vec<AddonInfo>,
}

#[derive(Serialize, Deserialize)]
struct AddonsFile {
    #[serde(default)]
    addons: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct AddonFile {
    addon: Addon,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LoadBalancersFile {
    #[serde(default)]
    load_balancers: Vec<LoadBalancer>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClassicLoadBalancersFile {
    #[serde(default)]
    load_balancer_descriptions: Vec<ClassicLoadBalancer>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagDescription {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    load_balancer_name: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagsFile {
    #[serde(default)]
    tag_descriptions: Vec<TagDescription>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkInterfacesFile {
    #[serde(default)]
    network_interfaces: Vec<NetworkInterface>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Reservation {
    #[serde(default)]
    instances: Vec<Instance>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstancesFile {
    #[serde(default)]
    reservations: Vec<Reservation>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LaunchTemplatesFile {
    #[serde(default)]
    launch_templates: Vec<LaunchTemplate>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttachedPoliciesFile {
    #[serde(default)]
    attached_policies: Vec<AttachedPolicy>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyNamesFile {
    #[serde(default)]
    policy_names: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceProfilesFile {
    #[serde(default)]
    instance_profiles: Vec<InstanceProfile>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateFile {
    template_body: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StackResourcesFile {
    stack_resources: Vec<StackResource>,
}

#[derive(Serialize, Deserialize)]
struct NodegroupsFile {
    #[serde(default)]
    nodegroups: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct NodegroupFile {
    nodegroup: Nodegroup,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AutoScalingGroupsFile {
    auto_scaling_groups: Vec<AutoScalingGroup>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LaunchTemplateVersionsFile {
    launch_template_versions: Vec<LaunchTemplateVersion>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderItem {
    arn: String,
}

#[derive(Serialize, Deserialize)]
struct ProvidersFile {
    #[serde(rename = "OpenIDConnectProviderList", default)]
    providers: Vec<ProviderItem>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RolesFile {
    roles: Vec<Role>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessEntriesFile {
    #[serde(default)]
    access_entries: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessEntryFile {
    access_entry: AccessEntry,
}

#[derive(Serialize, Deserialize)]
struct AssociationsFile {
    #[serde(default)]
    associations: Vec<PodIdentityAssociation>,
}

#[derive(Serialize, Deserialize)]
struct AssociationFile {
    association: PodIdentityAssociation,
}

#[derive(Serialize, Deserialize)]
struct ClustersFile {
    #[serde(default)]
    clusters: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportsFile {
    #[serde(default)]
    imports: Vec<String>,
}

fn parse<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, BundleError> {
    if is_utf16(bytes) {
        return Err(BundleError::Invalid {
            path: path.to_owned(),
            message: "the file is UTF-16 text; eksdrift reads UTF-8 JSON, as the AWS CLI writes it (convert with `iconv -f UTF-16 -t UTF-8`)".to_owned(),
        });
    }
    // A UTF-8 byte-order mark, as some Windows tools write, is not JSON but harmless.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        BundleError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
        }
    })
}

/// A UTF-16 byte-order mark, or the zero bytes UTF-16 puts beside ASCII JSON.
fn is_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || (bytes.len() >= 2 && (bytes[0] == 0) != (bytes[1] == 0))
}

/// Reads one untrusted file as a bundle file is read (a `--baseline` report): only a regular file
/// (a symlink to one is fine), never more than `limits.max_file_bytes`. `None` when it does not
/// exist.
pub fn read_bounded(path: &Path, limits: ReadLimits) -> Result<Option<Vec<u8>>, BundleError> {
    read_file(path, limits)
}

/// Reads one file of a bundle: only a regular file (a symlink to one is fine), never more than
/// the limit. `None` when it does not exist.
fn read_file(path: &Path, limits: ReadLimits) -> Result<Option<Vec<u8>>, BundleError> {
    let invalid = |message: String| BundleError::Invalid {
        path: path.to_owned(),
        message,
    };
    let io = |source| BundleError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let check = |meta: &fs::Metadata| {
        if !meta.is_file() {
            return Err(invalid(
                "not a regular file; a device, FIFO, socket or folder is never read as a bundle file"
                    .to_owned(),
            ));
        }
        if meta.len() > limits.max_file_bytes {
            return Err(invalid(format!(
                "the file is {} bytes, over the limit of {} bytes for one bundle file (--max-file-mb)",
                meta.len(),
                limits.max_file_bytes
            )));
        }
        Ok(())
    };
    check(&meta)?;
    let file = fs::File::open(path).map_err(io)?;
    // What was opened is what was checked (the path may have changed in between).
    check(&file.metadata().map_err(io)?)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    io::Read::take(file, limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(invalid(format!(
            "the file grew past the limit of {} bytes while it was read",
            limits.max_file_bytes
        )));
    }
    Ok(Some(bytes))
}

/// The raw contents of a bundle's files, by path relative to the bundle folder
/// (`describe-stacks.json`, `list-imports/<export>.json`).
#[derive(Debug, Clone, Default)]
pub struct BundleFiles {
    files: BTreeMap<String, Vec<u8>>,
    /// Optional files (or per-item folders) that could not be read, with why.
    errors: BTreeMap<String, String>,
}

impl BundleFiles {
    /// No files yet.
    #[must_use]
    pub fn new() -> Self {
        BundleFiles::default()
    }

    /// Adds (or replaces) the file at `name`.
    pub fn insert(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(name.into(), bytes);
    }

    /// Records that the optional file or folder `name` could not be read: the input it holds
    /// fails, the rest of the bundle is read.
    pub fn insert_error(&mut self, name: impl Into<String>, message: impl Into<String>) {
        self.errors.insert(name.into(), message.into());
    }

    /// The file at `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name).map(Vec::as_slice)
    }

    /// The files of the per-item folder `dir`, by file name.
    fn items<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.files.iter().filter_map(move |(name, bytes)| {
            let item = name.strip_prefix(dir)?.strip_prefix('/')?;
            Some((item, bytes.as_slice()))
        })
    }
}

/// Top-level files a bundle may hold.
const TOP_LEVEL: [&str; 33] = [
    DESCRIBE_STACKS,
    DESCRIBE_CLUSTER,
    DESCRIBE_SUBNETS,
    DESCRIBE_SECURITY_GROUPS,
    GET_TEMPLATE,
    DESCRIBE_STACK_RESOURCES,
    CAPTURE,
    LIST_NODEGROUPS,
    DESCRIBE_AUTO_SCALING_GROUPS,
    DESCRIBE_LAUNCH_TEMPLATE_VERSIONS,
    LIST_CLUSTERS,
    LIST_OPEN_ID_CONNECT_PROVIDERS,
    LIST_ROLES,
    LIST_ACCESS_ENTRIES,
    LIST_POD_IDENTITY_ASSOCIATIONS,
    DESCRIBE_LOAD_BALANCERS,
    DESCRIBE_LOAD_BALANCERS_CLASSIC,
    DESCRIBE_TAGS,
    DESCRIBE_TAGS_CLASSIC,
    DESCRIBE_NETWORK_INTERFACES,
    DESCRIBE_INSTANCES,
    DESCRIBE_LAUNCH_TEMPLATES,
    DESCRIBE_SECURITY_GROUPS_VPC,
    LIST_ADDONS,
    LIST_FARGATE_PROFILES,
    LIST_INSIGHTS,
    DESCRIBE_CLUSTER_VERSIONS,
    DESCRIBE_KEY_PAIRS,
    DESCRIBE_IMAGES,
    DESCRIBE_INSTANCE_TYPE_OFFERINGS,
    GET_POLICY,
    GET_INSTANCE_PROFILE,
    DESCRIBE_VPCS,
];

/// The files every bundle of an existing cluster holds: an error reading one fails the bundle.
const REQUIRED: [&str; 3] = [DESCRIBE_STACKS, DESCRIBE_CLUSTER, DESCRIBE_SUBNETS];

/// Per-item folders a bundle may hold (one file per item).
const ITEM_FOLDERS: [&str; 12] = [
    LIST_IMPORTS,
    GET_TEMPLATE_DIR,
    DESCRIBE_NODEGROUP,
    DESCRIBE_ACCESS_ENTRY,
    DESCRIBE_POD_IDENTITY_ASSOCIATION,
    LIST_ATTACHED_ROLE_POLICIES,
    LIST_ROLE_POLICIES,
    LIST_INSTANCE_PROFILES_FOR_ROLE,
    DESCRIBE_ADDON,
    DESCRIBE_FARGATE_PROFILE,
    DESCRIBE_INSIGHT,
    DESCRIBE_ADDON_VERSIONS,
];

/// An item name (an export name) as a file name: `/`, `%` and a leading `.` percent-encoded.
#[must_use]
pub fn item_file_name(item: &str) -> String {
    let mut out = String::with_capacity(item.len() + 5);
    for (i, c) in item.chars().enumerate() {
        match c {
            '/' | '%' | '\\' => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            '.' if i == 0 => out.push_str("%2E"),
            c if c.is_control() => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(".json");
    out
}

/// The item name of a per-item file name (the inverse of [`item_file_name`]).
fn item_name(file_name: &str) -> Option<String> {
    crate::text::percent_decode(file_name.strip_suffix(".json")?)
}

/// Reads one bundle folder into a snapshot, with the default [`ReadLimits`]. `source` in the
/// snapshot is the folder path.
pub fn read_bundle(dir: &Path) -> Result<Snapshot, BundleError> {
    read_bundle_with(dir, &ReadLimits::default())
}

/// Reads one bundle folder into a snapshot within `limits`.
pub fn read_bundle_with(dir: &Path, limits: &ReadLimits) -> Result<Snapshot, BundleError> {
    if !dir.is_dir() {
        return Err(match fs::metadata(dir) {
            Err(source) => BundleError::Io {
                path: dir.to_owned(),
                source,
            },
            Ok(_) => BundleError::Invalid {
                path: dir.to_owned(),
                message: "not a folder; a capture bundle is a folder of AWS CLI JSON files"
                    .to_owned(),
            },
        });
    }
    let mut files = BundleFiles::new();
    let mut total: u64 = 0;
    let mut add = |files: &mut BundleFiles, name: String, path: &Path, required: bool| {
        match read_file(path, *limits) {
            Ok(Some(bytes)) => {
                total = total.saturating_add(bytes.len() as u64);
                if total > limits.max_bundle_bytes {
                    return Err(BundleError::Invalid {
                        path: dir.to_owned(),
                        message: format!(
                            "the bundle's files add up to more than {} bytes, the limit for one bundle",
                            limits.max_bundle_bytes
                        ),
                    });
                }
                files.insert(name, bytes);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) if required => Err(e),
            Err(e) => {
                files.insert_error(name, e.to_string());
                Ok(())
            }
        }
    };
    for name in TOP_LEVEL {
        add(
            &mut files,
            name.to_owned(),
            &dir.join(name),
            REQUIRED.contains(&name),
        )?;
    }
    for folder in ITEM_FOLDERS {
        let path = dir.join(folder);
        // A real folder only: a link could lead out of the bundle.
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                files.insert_error(
                    folder,
                    format!(
                        "{}: not a folder (a per-item folder is never followed through a link)",
                        path.display()
                    ),
                );
                continue;
            }
            Err(_) => continue,
        }
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) => {
                files.insert_error(folder, format!("{}: {e}", path.display()));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    files.insert_error(folder, format!("{}: {e}", path.display()));
                    break;
                }
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if !Path::new(&name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                continue;
            }
            add(&mut files, format!("{folder}/{name}"), &entry.path(), false)?;
        }
    }
    parse_bundle(dir, &files)
}

fn parse_optional<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<Option<T>, BundleError> {
    bytes.map(|b| parse(&dir.join(name), b)).transpose()
}

/// The optional inputs of a bundle being parsed, and the ones that failed.
struct Optional<'a> {
    dir: &'a Path,
    files: &'a BundleFiles,
    failures: BTreeMap<Input, InputFailure>,
}

impl Optional<'_> {
    fn fail(&mut self, input: Input, name: &str, message: String) {
        self.failures
            .entry(input)
            .or_insert_with(|| InputFailure::new(name, ErrorKind::InvalidInput, message));
    }

    /// The optional file `name`, which holds `input`: `None` when absent, or when it cannot be
    /// read or parsed (then `input` failed, and only the rules that need it are not checked).
    fn file<T: DeserializeOwned>(&mut self, input: Input, name: &str) -> Option<T> {
        if let Some(message) = self.files.errors.get(name) {
            self.fail(input, name, message.clone());
            return None;
        }
        match parse_optional(self.dir, name, self.files.get(name)) {
            Ok(v) => v,
            Err(e) => {
                self.fail(input, name, e.to_string());
                None
            }
        }
    }

    /// The per-item folder `folder`, which holds `input` (see [`read_items`]).
    fn items<F: DeserializeOwned, T>(
        &mut self,
        input: Input,
        folder: &str,
        item: impl Fn(&str, F) -> Result<T, String>,
        key: impl Fn(&T) -> String,
    ) -> Vec<T> {
        let prefix = format!("{folder}/");
        let broken = self
            .files
            .errors
            .iter()
            .find(|(name, _)| *name == folder || name.starts_with(&prefix))
            .map(|(name, message)| (name.clone(), message.clone()));
        if let Some((name, message)) = broken {
            self.fail(input, &name, message);
            return Vec::new();
        }
        match read_items(self.dir, self.files, folder, item, key) {
            Ok(items) => items,
            Err(e) => {
                self.fail(input, folder, e.to_string());
                Vec::new()
            }
        }
    }
}

/// Parses a bundle's file contents (as read from `dir`, which errors and `source` name). A
/// required file that is missing or broken fails the bundle; an optional one that is broken
/// fails only its input (recorded in the snapshot's `failures`).
pub fn parse_bundle(dir: &Path, files: &BundleFiles) -> Result<Snapshot, BundleError> {
    let required = |name: &str| {
        if let Some(message) = files.errors.get(name) {
            return Err(BundleError::Invalid {
                path: dir.join(name),
                message: message.clone(),
            });
        }
        files.get(name).ok_or_else(|| BundleError::Missing {
            path: dir.join(name),
        })
    };
    let mut opt = Optional {
        dir,
        files,
        failures: BTreeMap::new(),
    };
    let stacks: StacksFile = parse(&dir.join(DESCRIBE_STACKS), required(DESCRIBE_STACKS)?)?;
    let capture: Option<CaptureInfo> = parse_optional(dir, CAPTURE, files.get(CAPTURE))?;
    let has_cluster =
        files.get(DESCRIBE_CLUSTER).is_some() || files.errors.contains_key(DESCRIBE_CLUSTER);
    // Without describe-cluster.json, list-clusters.json is what says the cluster is gone: it
    // must then be readable.
    let clusters: Option<ClustersFile> = if has_cluster {
        opt.file(Input::ListClusters, LIST_CLUSTERS)
    } else {
        if let Some(message) = files.errors.get(LIST_CLUSTERS) {
            return Err(BundleError::Invalid {
                path: dir.join(LIST_CLUSTERS),
                message: message.clone(),
            });
        }
        parse_optional(dir, LIST_CLUSTERS, files.get(LIST_CLUSTERS))?
    };
    let cluster = match (has_cluster, &clusters) {
        (true, _) => {
            parse::<ClusterFile>(&dir.join(DESCRIBE_CLUSTER), required(DESCRIBE_CLUSTER)?)?.cluster
        }
        // A cluster that no longer exists has no describe-cluster.json; list-clusters.json
        // says so, and the bundle holds the stacks it left behind.
        (false, Some(listed)) => {
            let name = leftover_cluster_name(dir, capture.as_ref(), &stacks.stacks)?;
            if listed.clusters.contains(&name) {
                return Err(BundleError::Missing {
                    path: dir.join(DESCRIBE_CLUSTER),
                });
            }
            Cluster {
                name,
                ..Cluster::default()
            }
        }
        (false, None) => {
            return Err(BundleError::Missing {
                path: dir.join(DESCRIBE_CLUSTER),
            });
        }
    };
    if cluster.name.trim().is_empty() {
        return Err(BundleError::Invalid {
            path: dir.join(DESCRIBE_CLUSTER),
            message: "cluster.name is empty".to_owned(),
        });
    }
    let leftover = clusters
        .as_ref()
        .is_some_and(|c| !c.clusters.contains(&cluster.name));
    let subnets = if leftover && files.get(DESCRIBE_SUBNETS).is_none() {
        // Required for a cluster that exists; leftover stacks are audited without it.
        Vec::new()
    } else {
        parse::<SubnetsFile>(&dir.join(DESCRIBE_SUBNETS), required(DESCRIBE_SUBNETS)?)?.subnets
    };
    let groups: Option<SecurityGroupsFile> =
        opt.file(Input::DescribeSecurityGroups, DESCRIBE_SECURITY_GROUPS);
    let template: Option<TemplateFile> = opt.file(Input::GetTemplate, GET_TEMPLATE);
    let resources: Option<StackResourcesFile> =
        opt.file(Input::DescribeStackResources, DESCRIBE_STACK_RESOURCES);
    let mut imports: Option<BTreeMap<String, Vec<String>>> = None;
    let import_items: Vec<(String, Vec<String>)> = opt.items(
        Input::ListImports,
        LIST_IMPORTS,
        |file_name, f: ImportsFile| {
            item_name(file_name)
                .map(|export| (export, f.imports))
                .ok_or_else(|| "the file name is not `<export name>.json`".to_owned())
        },
        |(export, _)| export.clone(),
    );
    if files.items(LIST_IMPORTS).next().is_some() && !opt.failures.contains_key(&Input::ListImports)
    {
        imports = Some(import_items.into_iter().collect());
    }
    let templates: Vec<(String, serde_json::Value)> = opt.items(
        Input::GetNodegroupTemplates,
        GET_TEMPLATE_DIR,
        |file_name, f: TemplateFile| {
            item_name(file_name)
                .map(|stack| (stack, f.template_body))
                .ok_or_else(|| "the file name is not `<stack name>.json`".to_owned())
        },
        |(stack, _)| stack.clone(),
    );
    let nodegroup_templates = (files.items(GET_TEMPLATE_DIR).next().is_some()
        && !opt.failures.contains_key(&Input::GetNodegroupTemplates))
    .then(|| templates.into_iter().collect::<BTreeMap<_, _>>());
    let nodegroup_names: Option<NodegroupsFile> = opt.file(Input::ListNodegroups, LIST_NODEGROUPS);
    let nodegroups: Vec<Nodegroup> = opt.items(
        Input::ListNodegroups,
        DESCRIBE_NODEGROUP,
        |_, f: NodegroupFile| Ok(f.nodegroup),
        |n| n.nodegroup_name.clone(),
    );
    let groups_file: Option<AutoScalingGroupsFile> = opt.file(
        Input::DescribeAutoScalingGroups,
        DESCRIBE_AUTO_SCALING_GROUPS,
    );
    let versions: Option<LaunchTemplateVersionsFile> = opt.file(
        Input::DescribeLaunchTemplateVersions,
        DESCRIBE_LAUNCH_TEMPLATE_VERSIONS,
    );
    let providers: Option<ProvidersFile> = opt.file(
        Input::ListOpenIdConnectProviders,
        LIST_OPEN_ID_CONNECT_PROVIDERS,
    );
    let roles: Option<RolesFile> = opt.file(Input::ListRoles, LIST_ROLES);
    let entries: Option<AccessEntriesFile> =
        opt.file(Input::ListAccessEntries, LIST_ACCESS_ENTRIES);
    let entry_details: Vec<AccessEntry> = opt.items(
        Input::ListAccessEntries,
        DESCRIBE_ACCESS_ENTRY,
        |_, f: AccessEntryFile| Ok(f.access_entry),
        |e| e.principal_arn.clone(),
    );
    let associations: Option<AssociationsFile> = opt.file(
        Input::ListPodIdentityAssociations,
        LIST_POD_IDENTITY_ASSOCIATIONS,
    );
    let association_details: Vec<PodIdentityAssociation> = opt.items(
        Input::ListPodIdentityAssociations,
        DESCRIBE_POD_IDENTITY_ASSOCIATION,
        |_, f: AssociationFile| Ok(f.association),
        |a| a.association_id.clone(),
    );
    let addon_names: Option<AddonsFile> = opt.file(Input::ListAddons, LIST_ADDONS);
    let addons: Vec<Addon> = opt.items(
        Input::ListAddons,
        DESCRIBE_ADDON,
        |_, f: AddonFile| Ok(f.addon),
        |a| a.addon_name.clone(),
    );
    let profile_names: Option<FargateProfilesFile> =
        opt.file(Input::ListFargateProfiles, LIST_FARGATE_PROFILES);
    let profiles: Vec<FargateProfile> = opt.items(
        Input::ListFargateProfiles,
        DESCRIBE_FARGATE_PROFILE,
        |_, f: FargateProfileFile| Ok(f.fargate_profile),
        |p| p.fargate_profile_name.clone(),
    );
    let insights: Option<InsightsFile> = opt.file(Input::ListInsights, LIST_INSIGHTS);
    let insight_details: Vec<Insight> = opt.items(
        Input::ListInsights,
        DESCRIBE_INSIGHT,
        |_, f: InsightFile| Ok(f.insight),
        |i| i.id.clone(),
    );
    let cluster_versions: Option<ClusterVersionsFile> =
        opt.file(Input::DescribeClusterVersions, DESCRIBE_CLUSTER_VERSIONS);
    let addon_versions: Vec<(String, Vec<AddonInfo>)> = opt.items(
        Input::DescribeAddonVersions,
        DESCRIBE_ADDON_VERSIONS,
        |file_name, f: AddonVersionsFile| {
            item_name(file_name)
                .map(|version| (version, f.addons))
                .ok_or_else(|| "the file name is not `<kubernetes version>.json`".to_owned())
        },
        |(version, _)| version.clone(),
    );
    let addon_versions = files
        .items(DESCRIBE_ADDON_VERSIONS)
        .next()
        .is_some()
        .then(|| addon_versions.into_iter().collect::<BTreeMap<_, _>>());
    let key_pairs: Option<KeyPairsFile> = opt.file(Input::DescribeKeyPairs, DESCRIBE_KEY_PAIRS);
    let images: Option<ImagesFile> = opt.file(Input::DescribeImages, DESCRIBE_IMAGES);
    let offerings: Option<OfferingsFile> = opt.file(
        Input::DescribeInstanceTypeOfferings,
        DESCRIBE_INSTANCE_TYPE_OFFERINGS,
    );
    let policies: Option<PoliciesFile> = opt.file(Input::GetPolicies, GET_POLICY);
    let instance_profiles: Option<PlannedProfilesFile> =
        opt.file(Input::GetInstanceProfiles, GET_INSTANCE_PROFILE);
    let vpcs: Option<VpcsFile> = opt.file(Input::DescribeVpcs, DESCRIBE_VPCS);
    let network = read_network(&mut opt);
    let role_attachments = read_role_attachments(&mut opt);
    let role_stack_templates = role_attachments
        .as_ref()
        .map(|_| nodegroup_templates.clone().unwrap_or_default());
    let mut failures = opt.failures;
    // What the capture itself could not read stays failed.
    if let Some(c) = &capture {
        for (input, failure) in &c.failures {
            failures.entry(*input).or_insert_with(|| failure.clone());
        }
    }
    // An input that failed holds nothing trustworthy.
    let ok = |i: Input| !failures.contains_key(&i);
    let observed_at = capture
        .as_ref()
        .map(|c| c.captured_at.clone())
        .filter(|t| !t.is_empty());

    Ok(Snapshot {
        source: dir.display().to_string(),
        region: capture.and_then(|c| c.region),
        stacks: stacks.stacks,
        cluster,
        subnets,
        security_groups: groups.map(|g| g.security_groups),
        template: template.map(|t| t.template_body),
        stack_resources: resources.map(|r| r.stack_resources),
        imports,
        nodegroup_templates,
        nodegroup_names: nodegroup_names
            .map(|n| n.nodegroups)
            .filter(|_| ok(Input::ListNodegroups)),
        nodegroups: if ok(Input::ListNodegroups) {
            nodegroups
        } else {
            Vec::new()
        },
        auto_scaling_groups: groups_file.map(|g| g.auto_scaling_groups),
        launch_template_versions: versions.map(|v| v.launch_template_versions),
        clusters: clusters.map(|c| c.clusters),
        oidc_providers: providers.map(|p| p.providers.into_iter().map(|p| p.arn).collect()),
        roles: roles.map(|r| r.roles),
        access_entries: entries
            .map(|e| e.access_entries)
            .filter(|_| ok(Input::ListAccessEntries)),
        access_entry_details: if ok(Input::ListAccessEntries) {
            entry_details
        } else {
            Vec::new()
        },
        pod_identity_associations: associations
            .map(|a| a.associations)
            .filter(|_| ok(Input::ListPodIdentityAssociations)),
        pod_identity_details: if ok(Input::ListPodIdentityAssociations) {
            association_details
        } else {
            Vec::new()
        },
        fargate_profile_names: profile_names
            .map(|p| p.fargate_profile_names)
            .filter(|_| ok(Input::ListFargateProfiles)),
        fargate_profiles: if ok(Input::ListFargateProfiles) {
            profiles
        } else {
            Vec::new()
        },
        addon_names: addon_names
            .map(|a| a.addons)
            .filter(|_| ok(Input::ListAddons)),
        addons: if ok(Input::ListAddons) {
            addons
        } else {
            Vec::new()
        },
        load_balancers: network
            .load_balancers
            .filter(|_| ok(Input::DescribeLoadBalancers)),
        classic_load_balancers: network
            .classic_load_balancers
            .filter(|_| ok(Input::DescribeLoadBalancers)),
        network_interfaces: network.network_interfaces,
        instances: network.instances,
        launch_templates: network.launch_templates,
        vpc_security_groups: network.vpc_security_groups,
        role_attachments: role_attachments.filter(|_| ok(Input::ListRoleAttachments)),
        role_stack_templates: role_stack_templates.filter(|_| ok(Input::ListRoleAttachments)),
        insights: insights
            .map(|i| i.insights)
            .filter(|_| ok(Input::ListInsights)),
        insight_details: if ok(Input::ListInsights) {
            insight_details
        } else {
            Vec::new()
        },
        cluster_versions: cluster_versions
            .map(|v| v.cluster_versions)
            .filter(|_| ok(Input::DescribeClusterVersions)),
        addon_versions: addon_versions.filter(|_| ok(Input::DescribeAddonVersions)),
        observed_at,
        key_pairs: key_pairs
            .map(|k| k.key_pairs)
            .filter(|_| ok(Input::DescribeKeyPairs)),
        images: images
            .map(|i| i.images)
            .filter(|_| ok(Input::DescribeImages)),
        instance_type_offerings: offerings
            .map(|o| o.instance_type_offerings)
            .filter(|_| ok(Input::DescribeInstanceTypeOfferings)),
        policies: policies
            .map(|p| p.policies.into_iter().map(|p| p.arn).collect())
            .filter(|_| ok(Input::GetPolicies)),
        planned_instance_profiles: instance_profiles
            .map(|p| p.instance_profiles)
            .filter(|_| ok(Input::GetInstanceProfiles)),
        vpcs: vpcs.map(|v| v.vpcs).filter(|_| ok(Input::DescribeVpcs)),
        to_version: None,
        plan: None,
        failures,
        skipped: std::collections::BTreeSet::new(),
    })
}

/// What the delete gate reads about the cluster's network, from a bundle.
#[derive(Default)]
struct NetworkFiles {
    load_balancers: Option<Vec<LoadBalancer>>,
    classic_load_balancers: Option<Vec<ClassicLoadBalancer>>,
    network_interfaces: Option<Vec<NetworkInterface>>,
    instances: Option<Vec<Instance>>,
    launch_templates: Option<Vec<LaunchTemplate>>,
    vpc_security_groups: Option<Vec<SecurityGroup>>,
}

fn read_network(opt: &mut Optional<'_>) -> NetworkFiles {
    let v2: Option<LoadBalancersFile> =
        opt.file(Input::DescribeLoadBalancers, DESCRIBE_LOAD_BALANCERS);
    let classic: Option<ClassicLoadBalancersFile> = opt.file(
        Input::DescribeLoadBalancers,
        DESCRIBE_LOAD_BALANCERS_CLASSIC,
    );
    let tags: Option<TagsFile> = opt.file(Input::DescribeLoadBalancers, DESCRIBE_TAGS);
    let classic_tags: Option<TagsFile> =
        opt.file(Input::DescribeLoadBalancers, DESCRIBE_TAGS_CLASSIC);
    // Both kinds, or neither: one without the other would hide a load balancer.
    // Tags decide whether eksctl deletes a load balancer: without them, none is read.
    if v2.as_ref().is_some_and(|f| !f.load_balancers.is_empty()) && tags.is_none() {
        opt.fail(
            Input::DescribeLoadBalancers,
            DESCRIBE_TAGS,
            format!("absent, and {DESCRIBE_LOAD_BALANCERS} lists load balancers"),
        );
    }
    if classic
        .as_ref()
        .is_some_and(|f| !f.load_balancer_descriptions.is_empty())
        && classic_tags.is_none()
    {
        opt.fail(
            Input::DescribeLoadBalancers,
            DESCRIBE_TAGS_CLASSIC,
            format!("absent, and {DESCRIBE_LOAD_BALANCERS_CLASSIC} lists load balancers"),
        );
    }
    let (load_balancers, classic_load_balancers) = match (v2, classic) {
        (Some(v2), Some(classic)) => {
            let tags_of = |file: &Option<TagsFile>, key: &str, by_arn: bool| -> Vec<Tag> {
                file.iter()
                    .flat_map(|f| &f.tag_descriptions)
                    .find(|d| {
                        if by_arn {
                            d.resource_arn.as_deref() == Some(key)
                        } else {
                            d.load_balancer_name.as_deref() == Some(key)
                        }
                    })
                    .map(|d| d.tags.clone())
                    .unwrap_or_default()
            };
            let v2 = v2
                .load_balancers
                .into_iter()
                .map(|mut l| {
                    if l.tags.is_empty() {
                        l.tags = tags_of(&tags, &l.load_balancer_arn, true);
                    }
                    l
                })
                .collect();
            let classic = classic
                .load_balancer_descriptions
                .into_iter()
                .map(|mut l| {
                    if l.tags.is_empty() {
                        l.tags = tags_of(&classic_tags, &l.load_balancer_name, false);
                    }
                    l
                })
                .collect();
            (Some(v2), Some(classic))
        }
        _ => (None, None),
    };
    let interfaces: Option<NetworkInterfacesFile> = opt.file(
        Input::DescribeNetworkInterfaces,
        DESCRIBE_NETWORK_INTERFACES,
    );
    let instances: Option<InstancesFile> = opt.file(Input::DescribeInstances, DESCRIBE_INSTANCES);
    let templates: Option<LaunchTemplatesFile> =
        opt.file(Input::DescribeLaunchTemplates, DESCRIBE_LAUNCH_TEMPLATES);
    let groups: Option<SecurityGroupsFile> = opt.file(
        Input::DescribeVpcSecurityGroups,
        DESCRIBE_SECURITY_GROUPS_VPC,
    );
    NetworkFiles {
        load_balancers,
        classic_load_balancers,
        network_interfaces: interfaces.map(|f| f.network_interfaces),
        instances: instances.map(|f| {
            f.reservations
                .into_iter()
                .flat_map(|r| r.instances)
                .collect()
        }),
        launch_templates: templates.map(|f| f.launch_templates),
        vpc_security_groups: groups.map(|g| g.security_groups),
    }
}

/// What is attached to eksctl's roles, from the three per-role folders; `None` when the bundle
/// holds none of them.
fn read_role_attachments(opt: &mut Optional<'_>) -> Option<RoleAttachmentMap> {
    let present = [
        LIST_ATTACHED_ROLE_POLICIES,
        LIST_ROLE_POLICIES,
        LIST_INSTANCE_PROFILES_FOR_ROLE,
    ]
    .iter()
    .any(|f| opt.files.items(f).next().is_some());
    if !present {
        return None;
    }
    let named = |file_name: &str| {
        item_name(file_name).ok_or_else(|| "the file name is not `<role name>.json`".to_owned())
    };
    let attached: Vec<(String, Vec<AttachedPolicy>)> = opt.items(
        Input::ListRoleAttachments,
        LIST_ATTACHED_ROLE_POLICIES,
        |file_name, f: AttachedPoliciesFile| named(file_name).map(|r| (r, f.attached_policies)),
        |(r, _)| r.clone(),
    );
    let inline: Vec<(String, Vec<String>)> = opt.items(
        Input::ListRoleAttachments,
        LIST_ROLE_POLICIES,
        |file_name, f: PolicyNamesFile| named(file_name).map(|r| (r, f.policy_names)),
        |(r, _)| r.clone(),
    );
    let profiles: Vec<(String, Vec<InstanceProfile>)> = opt.items(
        Input::ListRoleAttachments,
        LIST_INSTANCE_PROFILES_FOR_ROLE,
        |file_name, f: InstanceProfilesFile| named(file_name).map(|r| (r, f.instance_profiles)),
        |(r, _)| r.clone(),
    );
    let mut out = RoleAttachmentMap::new();
    for (role, a) in attached {
        out.entry(role).or_default().attached_policies = a;
    }
    for (role, p) in inline {
        out.entry(role).or_default().inline_policies = p;
    }
    for (role, p) in profiles {
        out.entry(role).or_default().instance_profiles = p;
    }
    Some(out)
}

/// The files of a per-item folder read by their content: `key` names each item, a second file
/// for one item is an error, and the items come sorted by key.
fn read_items<F: DeserializeOwned, T>(
    dir: &Path,
    files: &BundleFiles,
    folder: &str,
    item: impl Fn(&str, F) -> Result<T, String>,
    key: impl Fn(&T) -> String,
) -> Result<Vec<T>, BundleError> {
    let mut out: Vec<(String, T)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (file_name, bytes) in files.items(folder) {
        let path = dir.join(folder).join(file_name);
        let value =
            item(file_name, parse::<F>(&path, bytes)?).map_err(|message| BundleError::Invalid {
                path: path.clone(),
                message,
            })?;
        let k = key(&value);
        if !seen.insert(k.clone()) {
            return Err(BundleError::Invalid {
                path,
                message: format!("a second file for {}", crate::text::inline(&k)),
            });
        }
        out.push((k, value));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

/// The name of the cluster a bundle of leftover stacks is about: `capture.json`'s, else the
/// one cluster every eksctl-tagged stack names.
fn leftover_cluster_name(
    dir: &Path,
    capture: Option<&CaptureInfo>,
    stacks: &[Stack],
) -> Result<String, BundleError> {
    if let Some(c) = capture.filter(|c| !c.cluster.trim().is_empty()) {
        return Ok(c.cluster.clone());
    }
    let names: std::collections::BTreeSet<&str> =
        stacks.iter().filter_map(Stack::cluster_name_tag).collect();
    match names.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => Ok((*one).to_owned()),
        _ => Err(BundleError::Missing {
            path: dir.join(DESCRIBE_CLUSTER),
        }),
    }
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), BundleError> {
    let path = dir.join(name);
    let io_err = |source| BundleError::Io {
        path: path.clone(),
        source,
    };
    // The AWS CLI indents with four spaces.
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    value
        .serialize(&mut ser)
        .map_err(|e| io_err(io::Error::other(e)))?;
    bytes.push(b'\n');
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp).map_err(|e| BundleError::Io {
        path: tmp.clone(),
        source: e,
    })?;
    file.write_all(&bytes).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    fs::rename(&tmp, &path).map_err(io_err)
}

/// Writes `snapshot` as a bundle in `dir` (created if needed), in the AWS CLI's shapes.
/// Optional inputs the snapshot lacks are not written, so reading the folder back gives the
/// same snapshot (with `source` set to the folder).
pub fn write_bundle(
    dir: &Path,
    snapshot: &Snapshot,
    capture: Option<&CaptureInfo>,
) -> Result<(), BundleError> {
    fs::create_dir_all(dir).map_err(|source| BundleError::Io {
        path: dir.to_owned(),
        source,
    })?;
    write_json(
        dir,
        DESCRIBE_STACKS,
        &StacksFile {
            stacks: snapshot.stacks.clone(),
        },
    )?;
    // A cluster that no longer exists has nothing to describe: list-clusters.json says so.
    if !snapshot.cluster_missing() {
        write_json(
            dir,
            DESCRIBE_CLUSTER,
            &ClusterFile {
                cluster: snapshot.cluster.clone(),
            },
        )?;
        write_json(
            dir,
            DESCRIBE_SUBNETS,
            &SubnetsFile {
                subnets: snapshot.subnets.clone(),
            },
        )?;
    }
    if let Some(groups) = &snapshot.security_groups {
        write_json(
            dir,
            DESCRIBE_SECURITY_GROUPS,
            &SecurityGroupsFile {
                security_groups: groups.clone(),
            },
        )?;
    }
    if let Some(body) = &snapshot.template {
        write_json(
            dir,
            GET_TEMPLATE,
            &TemplateFile {
                template_body: body.clone(),
            },
        )?;
    }
    if let Some(resources) = &snapshot.stack_resources {
        write_json(
            dir,
            DESCRIBE_STACK_RESOURCES,
            &StackResourcesFile {
                stack_resources: resources.clone(),
            },
        )?;
    }
    if let Some(imports) = &snapshot.imports {
        let folder = dir.join(LIST_IMPORTS);
        fs::create_dir_all(&folder).map_err(|source| BundleError::Io {
            path: folder.clone(),
            source,
        })?;
        for (export, importers) in imports {
            write_json(
                &folder,
                &item_file_name(export),
                &ImportsFile {
                    imports: importers.clone(),
                },
            )?;
        }
    }
    let templates: BTreeMap<&String, &serde_json::Value> = snapshot
        .nodegroup_templates
        .iter()
        .chain(&snapshot.role_stack_templates)
        .flatten()
        .collect();
    if !templates.is_empty() {
        let folder = dir.join(GET_TEMPLATE_DIR);
        fs::create_dir_all(&folder).map_err(|source| BundleError::Io {
            path: folder.clone(),
            source,
        })?;
        for (stack, body) in templates {
            write_json(
                &folder,
                &item_file_name(stack),
                &TemplateFile {
                    template_body: (*body).clone(),
                },
            )?;
        }
    }
    if let Some(names) = &snapshot.nodegroup_names {
        write_json(
            dir,
            LIST_NODEGROUPS,
            &NodegroupsFile {
                nodegroups: names.clone(),
            },
        )?;
    }
    write_items(dir, DESCRIBE_NODEGROUP, &snapshot.nodegroups, |n| {
        (
            n.nodegroup_name.clone(),
            NodegroupFile {
                nodegroup: n.clone(),
            },
        )
    })?;
    if let Some(groups) = &snapshot.auto_scaling_groups {
        write_json(
            dir,
            DESCRIBE_AUTO_SCALING_GROUPS,
            &AutoScalingGroupsFile {
                auto_scaling_groups: groups.clone(),
            },
        )?;
    }
    if let Some(versions) = &snapshot.launch_template_versions {
        write_json(
            dir,
            DESCRIBE_LAUNCH_TEMPLATE_VERSIONS,
            &LaunchTemplateVersionsFile {
                launch_template_versions: versions.clone(),
            },
        )?;
    }
    if let Some(clusters) = &snapshot.clusters {
        write_json(
            dir,
            LIST_CLUSTERS,
            &ClustersFile {
                clusters: clusters.clone(),
            },
        )?;
    }
    if let Some(providers) = &snapshot.oidc_providers {
        write_json(
            dir,
            LIST_OPEN_ID_CONNECT_PROVIDERS,
            &ProvidersFile {
                providers: providers
                    .iter()
                    .map(|arn| ProviderItem { arn: arn.clone() })
                    .collect(),
            },
        )?;
    }
    if let Some(roles) = &snapshot.roles {
        // As the AWS CLI prints them: trust policies decoded.
        let roles = roles
            .iter()
            .map(|r| Role {
                assume_role_policy_document: r
                    .trust_policy()
                    .or_else(|| r.assume_role_policy_document.clone()),
                ..r.clone()
            })
            .collect();
        write_json(dir, LIST_ROLES, &RolesFile { roles })?;
    }
    if let Some(entries) = &snapshot.access_entries {
        write_json(
            dir,
            LIST_ACCESS_ENTRIES,
            &AccessEntriesFile {
                access_entries: entries.clone(),
            },
        )?;
    }
    write_items(
        dir,
        DESCRIBE_ACCESS_ENTRY,
        &snapshot.access_entry_details,
        |e| {
            (
                e.principal_arn
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                AccessEntryFile {
                    access_entry: e.clone(),
                },
            )
        },
    )?;
    if let Some(associations) = &snapshot.pod_identity_associations {
        write_json(
            dir,
            LIST_POD_IDENTITY_ASSOCIATIONS,
            &AssociationsFile {
                associations: associations.clone(),
            },
        )?;
    }
    write_items(
        dir,
        DESCRIBE_POD_IDENTITY_ASSOCIATION,
        &snapshot.pod_identity_details,
        |a| {
            (
                a.association_id.clone(),
                AssociationFile {
                    association: a.clone(),
                },
            )
        },
    )?;
    if let Some(names) = &snapshot.addon_names {
        write_json(
            dir,
            LIST_ADDONS,
            &AddonsFile {
                addons: names.clone(),
            },
        )?;
    }
    write_items(dir, DESCRIBE_ADDON, &snapshot.addons, |a| {
        (a.addon_name.clone(), AddonFile { addon: a.clone() })
    })?;
    if let Some(names) = &snapshot.fargate_profile_names {
        write_json(
            dir,
            LIST_FARGATE_PROFILES,
            &FargateProfilesFile {
                fargate_profile_names: names.clone(),
            },
        )?;
    }
    write_items(
        dir,
        DESCRIBE_FARGATE_PROFILE,
        &snapshot.fargate_profiles,
        |p| {
            (
                p.fargate_profile_name.clone(),
                FargateProfileFile {
                    fargate_profile: p.clone(),
                },
            )
        },
    )?;
    if let Some(insights) = &snapshot.insights {
        write_json(
            dir,
            LIST_INSIGHTS,
            &InsightsFile {
                insights: insights.clone(),
            },
        )?;
    }
    write_items(dir, DESCRIBE_INSIGHT, &snapshot.insight_details, |i| {
        (i.id.clone(), InsightFile { insight: i.clone() })
    })?;
    if let Some(policies) = &snapshot.policies {
        write_json(
            dir,
            GET_POLICY,
            &PoliciesFile {
                policies: policies
                    .iter()
                    .map(|arn| PolicyRef { arn: arn.clone() })
                    .collect(),
            },
        )?;
    }
    if let Some(profiles) = &snapshot.planned_instance_profiles {
        write_json(
            dir,
            GET_INSTANCE_PROFILE,
            &PlannedProfilesFile {
                instance_profiles: profiles.clone(),
            },
        )?;
    }
    if let Some(vpcs) = &snapshot.vpcs {
        write_json(dir, DESCRIBE_VPCS, &VpcsFile { vpcs: vpcs.clone() })?;
    }
    if let Some(key_pairs) = &snapshot.key_pairs {
        write_json(
            dir,
            DESCRIBE_KEY_PAIRS,
            &KeyPairsFile {
                key_pairs: key_pairs.clone(),
            },
        )?;
    }
    if let Some(images) = &snapshot.images {
        write_json(
            dir,
            DESCRIBE_IMAGES,
            &ImagesFile {
                images: images.clone(),
            },
        )?;
    }
    if let Some(offerings) = &snapshot.instance_type_offerings {
        write_json(
            dir,
            DESCRIBE_INSTANCE_TYPE_OFFERINGS,
            &OfferingsFile {
                instance_type_offerings: offerings.clone(),
            },
        )?;
    }
    if let Some(versions) = &snapshot.cluster_versions {
        write_json(
            dir,
            DESCRIBE_CLUSTER_VERSIONS,
            &ClusterVersionsFile {
                cluster_versions: versions.clone(),
            },
        )?;
    }
    if let Some(by_version) = &snapshot.addon_versions {
        let per_version: Vec<(&String, &Vec<AddonInfo>)> = by_version.iter().collect();
        write_items(dir, DESCRIBE_ADDON_VERSIONS, &per_version, |(v, addons)| {
            (
                (*v).clone(),
                AddonVersionsFile {
                    addons: (*addons).clone(),
                },
            )
        })?;
    }
    write_network(dir, snapshot)?;
    if let Some(capture) = capture {
        write_json(dir, CAPTURE, capture)?;
    }
    Ok(())
}

/// One file per item in the folder `folder` (none when there are no items), named for people
/// after the name `file` gives (made unique when two items share it).
fn write_items<T, F: Serialize>(
    dir: &Path,
    folder: &str,
    items: &[T],
    file: impl Fn(&T) -> (String, F),
) -> Result<(), BundleError> {
    if items.is_empty() {
        return Ok(());
    }
    let path = dir.join(folder);
    fs::create_dir_all(&path).map_err(|source| BundleError::Io {
        path: path.clone(),
        source,
    })?;
    let mut used = std::collections::BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        let (name, content) = file(item);
        let base = name;
        let mut name = item_file_name(&base);
        // A clash (after making the name safe, or by case) gets a suffix; the suffixed name
        // is checked too, so no item's file ever replaces another's.
        let mut n = i;
        while !used.insert(name.to_lowercase()) {
            name = item_file_name(&format!("{base}-{n}"));
            n += 1;
        }
        write_json(&path, &name, &content)?;
    }
    Ok(())
}

fn is_bundle(dir: &Path) -> bool {
    [
        DESCRIBE_STACKS,
        DESCRIBE_CLUSTER,
        DESCRIBE_SUBNETS,
        LIST_CLUSTERS,
    ]
    .iter()
    .any(|f| dir.join(f).is_file())
}

/// Folder names `eksdrift capture` uses while it writes a bundle; never bundles themselves.
pub const TEMPORARY_PREFIX: &str = ".eksdrift-tmp-";

/// What a search for bundles found.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Found {
    /// Bundle folders, sorted.
    pub bundles: Vec<PathBuf>,
    /// Folders below the given one that could not be read; each is a failed target of its own.
    pub unreadable: Vec<BundleError>,
    /// Links to folders, which the search does not follow: it never leaves the given folder
    /// and never counts a bundle twice.
    pub skipped_links: Vec<PathBuf>,
}

/// The bundle folders at or below `path`: `path` itself when it is a bundle, otherwise every
/// bundle folder below it (up to four levels). A folder holding any of the required files
/// counts, so a bundle missing one is reported rather than skipped. Links to folders below
/// `path` are not followed; `path` itself may be a link.
pub fn find_bundles(path: &Path) -> Result<Found, BundleError> {
    let meta = fs::metadata(path).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(BundleError::Invalid {
            path: path.to_owned(),
            message: "not a folder; --from takes a bundle folder or a folder of bundles".to_owned(),
        });
    }
    let mut found = Found::default();
    // The given folder itself unreadable is the answer; below it, one folder fails alone.
    walk(path, 0, &mut found)?;
    if found.bundles.is_empty() && found.unreadable.is_empty() {
        return Err(BundleError::NoBundles {
            path: path.to_owned(),
        });
    }
    found.bundles.sort();
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Found) -> Result<(), BundleError> {
    if is_bundle(dir) {
        found.bundles.push(dir.to_owned());
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let io = |source| BundleError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let p = entry.path();
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(TEMPORARY_PREFIX)
        {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            if p.is_dir() {
                found.skipped_links.push(p);
            }
        } else if kind.is_dir()
            && let Err(e) = walk(&p, depth + 1, found)
        {
            found.unreadable.push(e);
        }
    }
    Ok(())
}

/// Writes the delete gate's inputs: the network files, and one file per role and listing.
fn write_network(dir: &Path, snapshot: &Snapshot) -> Result<(), BundleError> {
    if let (Some(v2), Some(classic)) = (&snapshot.load_balancers, &snapshot.classic_load_balancers)
    {
        // As the AWS CLI prints them: the tags in their own answers.
        write_json(
            dir,
            DESCRIBE_LOAD_BALANCERS,
            &LoadBalancersFile {
                load_balancers: v2
                    .iter()
                    .map(|l| LoadBalancer {
                        tags: Vec::new(),
                        ..l.clone()
                    })
                    .collect(),
            },
        )?;
        write_json(
            dir,
            DESCRIBE_TAGS,
            &TagsFile {
                tag_descriptions: v2
                    .iter()
                    .map(|l| TagDescription {
                        resource_arn: Some(l.load_balancer_arn.clone()),
                        load_balancer_name: None,
                        tags: l.tags.clone(),
                    })
                    .collect(),
            },
        )?;
        write_json(
            dir,
            DESCRIBE_LOAD_BALANCERS_CLASSIC,
            &ClassicLoadBalancersFile {
                load_balancer_descriptions: classic
                    .iter()
                    .map(|l| ClassicLoadBalancer {
                        tags: Vec::new(),
                        ..l.clone()
                    })
                    .collect(),
            },
        )?;
        write_json(
            dir,
            DESCRIBE_TAGS_CLASSIC,
            &TagsFile {
                tag_descriptions: classic
                    .iter()
                    .map(|l| TagDescription {
                        resource_arn: None,
                        load_balancer_name: Some(l.load_balancer_name.clone()),
                        tags: l.tags.clone(),
                    })
                    .collect(),
            },
        )?;
    }
    if let Some(interfaces) = &snapshot.network_interfaces {
        write_json(
            dir,
            DESCRIBE_NETWORK_INTERFACES,
            &NetworkInterfacesFile {
                network_interfaces: interfaces.clone(),
            },
        )?;
    }
    if let Some(instances) = &snapshot.instances {
        write_json(
            dir,
            DESCRIBE_INSTANCES,
            &InstancesFile {
                reservations: vec![Reservation {
                    instances: instances.clone(),
                }],
            },
        )?;
    }
    if let Some(templates) = &snapshot.launch_templates {
        write_json(
            dir,
            DESCRIBE_LAUNCH_TEMPLATES,
            &LaunchTemplatesFile {
                launch_templates: templates.clone(),
            },
        )?;
    }
    if let Some(groups) = &snapshot.vpc_security_groups {
        write_json(
            dir,
            DESCRIBE_SECURITY_GROUPS_VPC,
            &SecurityGroupsFile {
                security_groups: groups.clone(),
            },
        )?;
    }
    if let Some(roles) = &snapshot.role_attachments {
        let roles: Vec<(&String, &crate::snapshot::RoleAttachments)> = roles.iter().collect();
        write_items(dir, LIST_ATTACHED_ROLE_POLICIES, &roles, |(role, a)| {
            (
                (*role).clone(),
                AttachedPoliciesFile {
                    attached_policies: a.attached_policies.clone(),
                },
            )
        })?;
        write_items(dir, LIST_ROLE_POLICIES, &roles, |(role, a)| {
            (
                (*role).clone(),
                PolicyNamesFile {
                    policy_names: a.inline_policies.clone(),
                },
            )
        })?;
        write_items(dir, LIST_INSTANCE_PROFILES_FOR_ROLE, &roles, |(role, a)| {
            (
                (*role).clone(),
                InstanceProfilesFile {
                    instance_profiles: a.instance_profiles.clone(),
                },
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal(dir: &Path) {
        fs::write(
            dir.join(DESCRIBE_STACKS),
            r#"{"Stacks":[{"StackName":"eksctl-gone-cluster","Tags":[{"Key":"alpha.eksctl.io/cluster-name","Value":"gone"}]}]}"#,
        )
        .unwrap();
    }

    #[test]
    fn nodegroup_files_are_read_by_content_and_a_second_file_for_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"gone"}}"#,
        )
        .unwrap();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        fs::write(dir.path().join(LIST_NODEGROUPS), r#"{"nodegroups":["a"]}"#).unwrap();
        let folder = dir.path().join(DESCRIBE_NODEGROUP);
        fs::create_dir(&folder).unwrap();
        // The file name is for people: the nodegroup is the one inside.
        fs::write(
            folder.join("anything.json"),
            r#"{"nodegroup":{"nodegroupName":"a","subnets":null}}"#,
        )
        .unwrap();
        let s = read_bundle(dir.path()).unwrap();
        assert_eq!(s.nodegroup_names.as_deref(), Some(&["a".to_owned()][..]));
        assert_eq!(s.nodegroup("a").unwrap().subnets, Vec::<String>::new());
        assert!(s.auto_scaling_groups.is_none() && s.clusters.is_none());
        fs::write(
            folder.join("a.json"),
            r#"{"nodegroup":{"nodegroupName":"a"}}"#,
        )
        .unwrap();
        // A second file for one nodegroup fails that input alone: the rest is read.
        let s = read_bundle(dir.path()).unwrap();
        let f = &s.failures[&Input::ListNodegroups];
        assert!(f.message.contains("a second file for a"), "{f:?}");
        assert_eq!(f.kind, ErrorKind::InvalidInput);
        assert!(s.nodegroup_names.is_none() && s.nodegroups.is_empty());
    }

    #[test]
    fn leftover_stacks_need_list_clusters_and_round_trip_without_describe_cluster() {
        let dir = tempfile::tempdir().unwrap();
        minimal(dir.path());
        // Without list-clusters.json a missing describe-cluster.json is what it always was.
        let err = read_bundle(dir.path()).unwrap_err();
        assert!(matches!(err, BundleError::Missing { .. }), "{err}");
        fs::write(dir.path().join(LIST_CLUSTERS), r#"{"clusters":["other"]}"#).unwrap();
        let s = read_bundle(dir.path()).unwrap();
        assert_eq!(s.cluster.name, "gone");
        assert!(s.cluster_missing());
        let out = tempfile::tempdir().unwrap();
        write_bundle(out.path(), &s, None).unwrap();
        assert!(!out.path().join(DESCRIBE_CLUSTER).exists());
        let again = read_bundle(out.path()).unwrap();
        assert_eq!(again.stacks, s.stacks);
        assert!(again.cluster_missing());
        // A cluster list that names the cluster: then describe-cluster.json is missing.
        fs::write(dir.path().join(LIST_CLUSTERS), r#"{"clusters":["gone"]}"#).unwrap();
        assert!(matches!(
            read_bundle(dir.path()).unwrap_err(),
            BundleError::Missing { .. }
        ));
    }

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(DESCRIBE_STACKS),
            "{\"Stacks\": [\n  {,}\n]}",
        )
        .unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        let err = read_bundle(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                BundleError::Parse {
                    line: 2,
                    column: 4,
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("describe-stacks.json:2:4: "), "{text}");
    }

    #[test]
    fn missing_required_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DESCRIBE_STACKS), r#"{"Stacks":[]}"#).unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        let err = read_bundle(dir.path()).unwrap_err();
        assert!(
            matches!(&err, BundleError::Missing { path } if path.ends_with(DESCRIBE_SUBNETS)),
            "{err}"
        );
    }

    #[test]
    fn wrong_top_level_shape_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DESCRIBE_STACKS), r#"{"StackSummaries":[]}"#).unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("missing field `Stacks`"), "{err}");
    }

    #[test]
    fn a_file_is_not_a_bundle_folder() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.json");
        fs::write(&f, "{}").unwrap();
        assert!(matches!(find_bundles(&f), Err(BundleError::Invalid { .. })));
        assert!(matches!(
            find_bundles(dir.path()),
            Err(BundleError::NoBundles { .. })
        ));
    }

    fn minimal_bundle(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(DESCRIBE_STACKS), r#"{"Stacks":[]}"#).unwrap();
        fs::write(dir.join(DESCRIBE_CLUSTER), r#"{"cluster":{"name":"x"}}"#).unwrap();
        fs::write(dir.join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        minimal_bundle(dir.path());
        // A link to /dev/zero would grow without end; a FIFO would block forever.
        fs::remove_file(dir.path().join(DESCRIBE_SUBNETS)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(DESCRIBE_SUBNETS)).unwrap();
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        fs::remove_file(dir.path().join(DESCRIBE_SUBNETS)).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.path().join(DESCRIBE_SUBNETS))
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn files_over_the_limit_are_refused_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        minimal_bundle(dir.path());
        // A sparse 2 GiB file: nothing is read, the size alone refuses it.
        let big = fs::File::create(dir.path().join(DESCRIBE_SECURITY_GROUPS)).unwrap();
        big.set_len(2 << 30).unwrap();
        // An optional file: its input fails, the bundle is read.
        let s = read_bundle(dir.path()).unwrap();
        let err = &s.failures[&Input::DescribeSecurityGroups].message;
        assert!(err.contains("over the limit of 268435456 bytes"), "{err}");
        assert!(s.security_groups.is_none());
        // A required file over the limit fails the bundle.
        fs::remove_file(dir.path().join(DESCRIBE_SECURITY_GROUPS)).unwrap();
        let big = fs::File::create(dir.path().join(DESCRIBE_SUBNETS)).unwrap();
        big.set_len(2 << 30).unwrap();
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("over the limit of 268435456 bytes"), "{err}");
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        let err = read_bundle_with(dir.path(), &ReadLimits::with_max_file_bytes(10))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("describe-stacks.json") || err.contains("describe-cluster.json"),
            "{err}"
        );
    }

    #[test]
    fn no_item_file_ever_replaces_another() {
        // `a-2` first, then two items named `a`: the second `a` is renamed `a-2`, which is
        // taken, so it must be renamed again (it used to overwrite the first file).
        let dir = tempfile::tempdir().unwrap();
        let items = ["a-2", "a", "a"];
        write_items(dir.path(), DESCRIBE_ACCESS_ENTRY, &items, |name| {
            ((*name).to_owned(), serde_json::json!({"item": name}))
        })
        .unwrap();
        let written = fs::read_dir(dir.path().join(DESCRIBE_ACCESS_ENTRY))
            .unwrap()
            .count();
        assert_eq!(written, items.len());
    }

    #[test]
    fn two_import_files_for_one_export_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        minimal_bundle(dir.path());
        let folder = dir.path().join(LIST_IMPORTS);
        fs::create_dir(&folder).unwrap();
        // `x%2Fy.json` and `x%2fy.json` both decode to the export `x/y`.
        fs::write(folder.join("x%2Fy.json"), r#"{"Imports":["a"]}"#).unwrap();
        fs::write(folder.join("x%2fy.json"), r#"{"Imports":[]}"#).unwrap();
        let s = read_bundle(dir.path()).unwrap();
        let f = &s.failures[&Input::ListImports];
        assert!(f.message.contains("a second file for x/y"), "{f:?}");
        assert!(s.imports.is_none());
    }

    #[test]
    fn a_bundle_is_bounded_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        minimal_bundle(dir.path());
        let folder = dir.path().join(DESCRIBE_NODEGROUP);
        fs::create_dir(&folder).unwrap();
        // Each file is under the per-file limit; together they are over the bundle's.
        for i in 0..4 {
            fs::write(folder.join(format!("ng-{i}.json")), vec![b' '; 400]).unwrap();
        }
        let limits = ReadLimits {
            max_file_bytes: 500,
            max_bundle_bytes: 1000,
        };
        let err = read_bundle_with(dir.path(), &limits)
            .unwrap_err()
            .to_string();
        assert!(err.contains("add up to more than 1000 bytes"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_accepted_and_utf16_named() {
        let dir = tempfile::tempdir().unwrap();
        minimal_bundle(dir.path());
        fs::write(
            dir.path().join(DESCRIBE_SUBNETS),
            b"\xEF\xBB\xBF{\"Subnets\":[]}",
        )
        .unwrap();
        assert!(read_bundle(dir.path()).is_ok());
        let utf16: Vec<u8> = "\u{feff}{\"Subnets\":[]}"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), utf16).unwrap();
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("UTF-16"), "{err}");
    }

    #[test]
    fn the_search_never_follows_links_or_leaves_the_folder() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        minimal_bundle(&outside.path().join("elsewhere"));
        let given = root.path().join("given");
        minimal_bundle(&given.join("a"));
        minimal_bundle(&given.join(".dotted"));
        fs::create_dir_all(given.join(".eksdrift-tmp-0123")).unwrap();
        minimal_bundle(&given.join(".eksdrift-tmp-0123/half"));
        std::os::unix::fs::symlink(".", given.join("loop")).unwrap();
        std::os::unix::fs::symlink(outside.path(), given.join("out")).unwrap();
        let found = find_bundles(&given).unwrap();
        assert_eq!(found.bundles, vec![given.join(".dotted"), given.join("a")]);
        let mut links = found.skipped_links.clone();
        links.sort();
        assert_eq!(links, vec![given.join("loop"), given.join("out")]);
        assert!(found.unreadable.is_empty());
    }

    #[test]
    fn imports_round_trip_by_file_name() {
        for name in ["eksctl-prod-cluster::VPC", "a/b", ".x", "50%"] {
            let file = item_file_name(name);
            assert!(!file.contains('/') && !file.starts_with('.'), "{file}");
            assert_eq!(item_name(&file).as_deref(), Some(name));
        }
    }
}
