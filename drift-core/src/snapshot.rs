//! What the engine audits: one cluster's stacks, live cluster, subnets and security groups.
//!
//! The nested types use the field names of the AWS CLI's `--output json` (PascalCase for
//! CloudFormation and EC2, camelCase for EKS), so a capture bundle is these types written out
//! and a hand-assembled bundle reads straight into them. They are our own types all the same:
//! the SDK's types never reach the engine, and every field the AWS CLI prints that the rules do
//! not need is ignored on read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::input::{Input, InputFailure, InputResult, InputStatus};

mod network;
pub use network::{
    AnyLoadBalancer, AttachedPolicy, ClassicLoadBalancer, GroupIdentifier, Instance,
    InstanceProfile, InstanceProfileRef, InstanceState, InterfaceAttachment, LaunchTemplate,
    LoadBalancer, NetworkInterface, RoleAttachmentMap, RoleAttachments,
};

/// Everything known about one audit target. Build one with `..Snapshot::default()` so that
/// inputs added later keep your code compiling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Where the data came from: `live`, or the bundle path.
    pub source: String,
    /// The AWS region, when known (capture metadata, or the cluster ARN).
    pub region: Option<String>,
    /// Every stack that `DescribeStacks` returned; the engine finds the cluster stack itself.
    pub stacks: Vec<Stack>,
    /// The live cluster as `DescribeCluster` returned it.
    pub cluster: Cluster,
    /// The subnets that exist among those the stacks and the cluster name. A subnet named but
    /// absent here is taken as deleted.
    pub subnets: Vec<Subnet>,
    /// The security groups that exist among those named, or `None` when they were not collected.
    pub security_groups: Option<Vec<SecurityGroup>>,
    /// The cluster stack's template (`GetTemplate`), when collected.
    pub template: Option<serde_json::Value>,
    /// The cluster stack's resources (`DescribeStackResources`), when collected.
    pub stack_resources: Option<Vec<StackResource>>,
    /// `ListImports` answers by export name: the stacks importing each export (empty when
    /// nothing imports it). `None` when not collected; an export absent from the map was not
    /// asked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imports: Option<BTreeMap<String, Vec<String>>>,
    /// The cluster's managed nodegroups by name (`ListNodegroups`), or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodegroup_names: Option<Vec<String>>,
    /// The templates (`GetTemplate`) of the managed nodegroup stacks whose nodegroup runs a
    /// launch template of its own, by stack name, or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodegroup_templates: Option<BTreeMap<String, serde_json::Value>>,
    /// The managed nodegroups as `DescribeNodegroup` returned them (one per listed name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodegroups: Vec<Nodegroup>,
    /// The auto scaling groups tagged for the cluster (`DescribeAutoScalingGroups` by tag
    /// filter), or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_groups: Option<Vec<AutoScalingGroup>>,
    /// Every version that exists of the launch templates the nodegroups name
    /// (`DescribeLaunchTemplateVersions`), or `None` when not collected. A template named but
    /// with no version here is taken as deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template_versions: Option<Vec<LaunchTemplateVersion>>,
    /// The EKS clusters that exist in the region (`ListClusters`), or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<String>>,
    /// The account's IAM OIDC provider ARNs (`ListOpenIDConnectProviders`), or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_providers: Option<Vec<String>>,
    /// The IAM roles that exist among those the cluster's stacks, nodegroups, access entries and
    /// pod identity associations name (`ListRoles`), or `None` when not collected. A role named
    /// but absent here is taken as deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<Role>>,
    /// The cluster's access entries by principal ARN (`ListAccessEntries`), or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_entries: Option<Vec<String>>,
    /// The access entries as `DescribeAccessEntry` returned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_entry_details: Vec<AccessEntry>,
    /// The cluster's pod identity associations (`ListPodIdentityAssociations`, which holds no
    /// role), or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_identity_associations: Option<Vec<PodIdentityAssociation>>,
    /// The associations as `DescribePodIdentityAssociation` returned them (with `roleArn`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_identity_details: Vec<PodIdentityAssociation>,
    /// The Application, Network and Gateway load balancers of the region with their tags
    /// (`DescribeLoadBalancers` + `DescribeTags`), or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancers: Option<Vec<LoadBalancer>>,
    /// The Classic load balancers of the region with their tags, or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classic_load_balancers: Option<Vec<ClassicLoadBalancer>>,
    /// The network interfaces in the cluster's VPC (`DescribeNetworkInterfaces` by VPC), or
    /// `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_interfaces: Option<Vec<NetworkInterface>>,
    /// The instances in the cluster's VPC that are not terminated (`DescribeInstances` by VPC),
    /// or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Vec<Instance>>,
    /// The launch templates Karpenter made (`DescribeLaunchTemplates` by tag), or `None` when
    /// not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_templates: Option<Vec<LaunchTemplate>>,
    /// Every security group in the cluster's VPC, and every group anywhere whose rules name one
    /// of eksctl's groups (`DescribeSecurityGroups` by VPC and by `ip-permission.group-id`),
    /// or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_security_groups: Option<Vec<SecurityGroup>>,
    /// What is attached to the roles eksctl's stacks made, by role name, or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_attachments: Option<RoleAttachmentMap>,
    /// The templates of the eksctl stacks that make IAM roles, by stack name, or `None` when
    /// not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_stack_templates: Option<BTreeMap<String, serde_json::Value>>,
    /// The cluster's EKS addons by name (`ListAddons`), or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_names: Option<Vec<String>>,
    /// The addons as `DescribeAddon` returned them (one per listed name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addons: Vec<Addon>,
    /// The cluster's Fargate profiles by name (`ListFargateProfiles`), or `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fargate_profile_names: Option<Vec<String>>,
    /// The Fargate profiles as `DescribeFargateProfile` returned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fargate_profiles: Vec<FargateProfile>,
    /// The cluster's insights (`ListInsights`), or `None` when not collected (read only with
    /// `--for upgrade-cluster` and by `capture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insights: Option<Vec<Insight>>,
    /// The insights that are not `PASSING`, as `DescribeInsight` returned them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insight_details: Vec<Insight>,
    /// The Kubernetes versions EKS offers (`DescribeClusterVersions`), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_versions: Option<Vec<ClusterVersion>>,
    /// The versions EKS offers of the cluster's addons, by Kubernetes version
    /// (`DescribeAddonVersions` for the upgrade's target), or `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_versions: Option<BTreeMap<String, Vec<AddonInfo>>>,
    /// When the snapshot was taken (RFC 3339): the clock of the rules that judge an age or a
    /// date. `None` (a snapshot a program built without saying) leaves those rules unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
    /// The key pairs a plan's nodegroups name that exist (`DescribeKeyPairs`), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pairs: Option<Vec<KeyPair>>,
    /// The AMIs a plan's nodegroups name that exist (`DescribeImages`), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    /// Where a plan's instance types are offered (`DescribeInstanceTypeOfferings`, by
    /// availability zone), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type_offerings: Option<Vec<InstanceTypeOffering>>,
    /// The customer-managed policies a plan attaches that exist (`GetPolicy` for each), by
    /// ARN, or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<String>>,
    /// The instance profiles a plan's self-managed nodegroups name that exist
    /// (`GetInstanceProfile` for each), or `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_instance_profiles: Option<Vec<PlannedInstanceProfile>>,
    /// The existing VPC a `create-cluster` plan names, when it exists (`DescribeVpcs`), or
    /// `None` when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpcs: Option<Vec<Vpc>>,
    /// A planned eksctl change read from the user's ClusterConfig (`audit -f FILE --for
    /// OPERATION`): the `EKD9xx` rules check it. Not part of a bundle.
    #[serde(skip)]
    pub plan: Option<Plan>,
    /// The Kubernetes version a planned upgrade goes to (`--to-version`); `None`: the next
    /// minor EKS offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<String>,
    /// The inputs whose read failed, with why: the rules that need one are not checked and the
    /// target is partial (a failure marked `wording_only` degrades only a remediation's words).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<Input, InputFailure>,
    /// Inputs deliberately not read (no selected rule needs them) whose field cannot say so
    /// itself (`subnets` is a list, not an option).
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub skipped: std::collections::BTreeSet<Input>,
}

impl Snapshot {
    /// Whether [`Snapshot::to_version`] is a step eksctl takes: one minor up (an upgrade), one
    /// minor down (a rollback, which eksctl supports since EKS allows it), or the version the
    /// cluster runs (nothing to do). `Err` says why not and names the next (or previous) minor
    /// (a usage error for the caller).
    ///
    /// # Errors
    ///
    /// The target skips a minor up or down.
    pub fn check_upgrade_step(&self) -> Result<(), String> {
        use crate::rules::versions::{minor, next_minor};
        let (Some(to), Some(current)) =
            (self.to_version.as_deref(), self.cluster.version.as_deref())
        else {
            return Ok(());
        };
        let (Some(to_minor), Some(now)) = (minor(to), minor(current)) else {
            return Ok(());
        };
        let next = next_minor(current).unwrap_or_default();
        let cluster = crate::text::inline(&self.cluster.name);
        if to_minor.0 != now.0 || to_minor.1 > now.1 + 1 {
            return Err(format!(
                "--to-version {to} skips a minor for cluster {cluster}, which runs {current}: eksctl upgrades one minor at a time, so the next is {next}"
            ));
        }
        if to_minor.1 + 1 < now.1 {
            let previous = format!("{}.{}", now.0, now.1 - 1);
            return Err(format!(
                "--to-version {to} goes back more than one minor for cluster {cluster}, which runs {current}: eksctl rolls back one minor at a time, so the previous is {previous} (the next is {next})"
            ));
        }
        Ok(())
    }

    /// The load balancers of both kinds (empty when not collected).
    #[must_use]
    pub fn all_load_balancers(&self) -> Vec<AnyLoadBalancer<'_>> {
        let v2 = self
            .load_balancers
            .iter()
            .flatten()
            .map(|l| AnyLoadBalancer {
                name: &l.load_balancer_name,
                kind: l.kind.as_deref().unwrap_or("application"),
                vpc_id: l.vpc_id.as_deref(),
                security_groups: &l.security_groups,
                tags: &l.tags,
                id: &l.load_balancer_arn,
            });
        let classic = self
            .classic_load_balancers
            .iter()
            .flatten()
            .map(|l| AnyLoadBalancer {
                name: &l.load_balancer_name,
                kind: "classic",
                vpc_id: l.vpc_id.as_deref(),
                security_groups: &l.security_groups,
                tags: &l.tags,
                id: &l.load_balancer_name,
            });
        v2.chain(classic).collect()
    }

    /// The region: as recorded, else the one in the cluster's ARN.
    #[must_use]
    pub fn effective_region(&self) -> Option<&str> {
        self.region.as_deref().or_else(|| {
            let arn = self.cluster.arn.as_deref()?;
            let region = arn.split(':').nth(3)?;
            (!region.is_empty()).then_some(region)
        })
    }

    /// True when `ListClusters` was read and does not list the cluster: the snapshot holds
    /// only stacks left behind by a cluster that no longer exists.
    #[must_use]
    pub fn cluster_missing(&self) -> bool {
        self.clusters
            .as_ref()
            .is_some_and(|c| !c.contains(&self.cluster.name))
    }

    /// The launch template version a nodegroup names (by ID, else by name; `version` a number,
    /// `$Latest`, `$Default` or absent for the default), or `None` when the versions were not
    /// collected.
    #[must_use]
    pub fn launch_template_version(
        &self,
        id: Option<&str>,
        name: Option<&str>,
        version: Option<&str>,
    ) -> Option<TemplateLookup<'_>> {
        let all = self.launch_template_versions.as_ref()?;
        let of_template: Vec<&LaunchTemplateVersion> = all
            .iter()
            .filter(|v| match (id, name) {
                (Some(id), _) => v.launch_template_id == id,
                (None, Some(name)) => v.launch_template_name.as_deref() == Some(name),
                (None, None) => false,
            })
            .collect();
        if of_template.is_empty() {
            return Some(TemplateLookup::TemplateMissing);
        }
        let found = match version.map(str::trim) {
            None | Some("" | "$Default") => of_template
                .iter()
                .find(|v| v.default_version == Some(true))
                .or_else(|| of_template.iter().max_by_key(|v| v.version_number)),
            Some("$Latest") => of_template.iter().max_by_key(|v| v.version_number),
            Some(number) => match number.parse::<i64>() {
                Ok(n) => of_template.iter().find(|v| v.version_number == n),
                // Not a version eksctl or EKS writes: nothing can be said about it.
                Err(_) => return Some(TemplateLookup::Unknown),
            },
        };
        Some(found.map_or(TemplateLookup::VersionMissing, |v| TemplateLookup::Found(v)))
    }

    /// The IAM role an ARN names (matched by account and role name: a role's name is unique in
    /// its account whatever its path), when the roles were collected and it exists.
    #[must_use]
    pub fn role(&self, arn: &str) -> Option<&Role> {
        let wanted = role_key(arn)?;
        self.roles
            .as_ref()?
            .iter()
            .find(|r| role_key(&r.arn) == Some(wanted))
    }

    /// Whether each input was read, absent or failed, in [`Input::ALL`]'s order.
    #[must_use]
    pub fn input_results(&self) -> Vec<InputResult> {
        Input::ALL
            .into_iter()
            .map(|input| {
                let failure = self.failures.get(&input).cloned();
                let status = if failure.is_some() {
                    InputStatus::Failed
                } else if self.skipped.contains(&input) || !self.holds(input) {
                    InputStatus::Absent
                } else {
                    InputStatus::Read
                };
                InputResult {
                    input,
                    status,
                    failure,
                }
            })
            .collect()
    }

    /// True when the snapshot holds `input` (read, perhaps empty).
    fn holds(&self, input: Input) -> bool {
        let leftover = self.cluster_missing();
        match input {
            Input::DescribeStacks => true,
            Input::DescribeCluster | Input::DescribeSubnets => !leftover,
            Input::DescribeSecurityGroups => self.security_groups.is_some(),
            Input::GetTemplate => self.template.is_some(),
            Input::DescribeStackResources => self.stack_resources.is_some(),
            Input::ListImports => self.imports.is_some(),
            Input::GetNodegroupTemplates => self.nodegroup_templates.is_some(),
            Input::ListNodegroups => self.nodegroup_names.is_some(),
            Input::DescribeAutoScalingGroups => self.auto_scaling_groups.is_some(),
            Input::DescribeLaunchTemplateVersions => self.launch_template_versions.is_some(),
            Input::ListClusters => self.clusters.is_some(),
            Input::ListOpenIdConnectProviders => self.oidc_providers.is_some(),
            Input::ListRoles => self.roles.is_some(),
            Input::ListAccessEntries => self.access_entries.is_some(),
            Input::ListPodIdentityAssociations => self.pod_identity_associations.is_some(),
            Input::DescribeLoadBalancers => self.load_balancers.is_some(),
            Input::DescribeNetworkInterfaces => self.network_interfaces.is_some(),
            Input::DescribeInstances => self.instances.is_some(),
            Input::DescribeLaunchTemplates => self.launch_templates.is_some(),
            Input::DescribeVpcSecurityGroups => self.vpc_security_groups.is_some(),
            Input::ListAddons => self.addon_names.is_some(),
            Input::ListFargateProfiles => self.fargate_profile_names.is_some(),
            Input::ListInsights => self.insights.is_some(),
            Input::DescribeClusterVersions => self.cluster_versions.is_some(),
            Input::DescribeAddonVersions => self.addon_versions.is_some(),
            Input::DescribeKeyPairs => self.key_pairs.is_some(),
            Input::DescribeImages => self.images.is_some(),
            Input::DescribeInstanceTypeOfferings => self.instance_type_offerings.is_some(),
            Input::GetPolicies => self.policies.is_some(),
            Input::GetInstanceProfiles => self.planned_instance_profiles.is_some(),
            Input::DescribeVpcs => self.vpcs.is_some(),
            Input::ListRoleAttachments => {
                self.role_attachments.is_some() && self.role_stack_templates.is_some()
            }
        }
    }

    /// The failure of `input`, unless only a remediation's wording needed it.
    #[must_use]
    pub fn failure(&self, input: Input) -> Option<&InputFailure> {
        self.failures.get(&input).filter(|f| !f.wording_only)
    }

    /// The managed nodegroup stacks of the cluster whose nodegroup runs a launch template of its
    /// own (not the one eksctl makes, which is named after the stack): `eksctl upgrade
    /// nodegroup` reads that template's version from the stack's template, not from the
    /// nodegroup (`upgradeUsingStack` in `pkg/actions/nodegroup/upgrade.go`).
    #[must_use]
    pub fn custom_launch_template_stacks(&self) -> Vec<&Stack> {
        let cluster = self.cluster.name.as_str();
        self.stacks
            .iter()
            .filter(|s| s.stack_status != "DELETE_COMPLETE" && s.nodegroup_managed())
            .filter(|s| {
                s.nodegroup_of(cluster)
                    .and_then(|ng| self.nodegroup(ng))
                    .and_then(|ng| ng.launch_template.as_ref())
                    // EKS always names the template; eksctl names its own after the stack.
                    .and_then(|lt| lt.name.as_deref())
                    .is_some_and(|name| name != s.stack_name)
            })
            .collect()
    }

    /// The described managed nodegroup called `name`.
    #[must_use]
    pub fn nodegroup(&self, name: &str) -> Option<&Nodegroup> {
        self.nodegroups.iter().find(|n| n.nodegroup_name == name)
    }
}

/// What [`Snapshot::launch_template_version`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TemplateLookup<'a> {
    /// The version exists.
    Found(&'a LaunchTemplateVersion),
    /// The template exists but not that version.
    VersionMissing,
    /// No version of the template exists: the template is gone.
    TemplateMissing,
    /// The version is not a number, `$Latest` or `$Default`.
    Unknown,
}

/// A CloudFormation stack as `DescribeStacks` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `StackId`, as the AWS CLI prints it.
    pub stack_id: Option<String>,
    /// `StackName`, as the AWS CLI prints it.
    pub stack_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Description`, as the AWS CLI prints it.
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `CreationTime`, as the AWS CLI prints it.
    pub creation_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `LastUpdatedTime`, as the AWS CLI prints it.
    pub last_updated_time: Option<String>,
    #[serde(default)]
    /// `StackStatus`, as the AWS CLI prints it.
    pub stack_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `StackStatusReason`, as the AWS CLI prints it.
    pub stack_status_reason: Option<String>,
    /// `EnableTerminationProtection`, as the AWS CLI prints it (`None` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_termination_protection: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `Outputs`, as the AWS CLI prints it.
    pub outputs: Vec<Output>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

/// One stack output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// `OutputKey`, as the AWS CLI prints it.
    pub output_key: String,
    #[serde(default)]
    /// `OutputValue`, as the AWS CLI prints it.
    pub output_value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Description`, as the AWS CLI prints it.
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `ExportName`, as the AWS CLI prints it.
    pub export_name: Option<String>,
}

/// A `Key`/`Value` tag, as CloudFormation and EC2 print them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// `Key`, as the AWS CLI prints it.
    pub key: String,
    #[serde(default)]
    /// `Value`, as the AWS CLI prints it.
    pub value: String,
}

/// The value of the tag `key` among `tags`.
fn tag_value<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

/// Tag keys eksctl puts on every stack it creates.
pub mod tags {
    /// `alpha.eksctl.io/cluster-name`.
    pub const CLUSTER_NAME: &str = "alpha.eksctl.io/cluster-name";
    /// `eksctl.cluster.k8s.io/v1alpha1/cluster-name`.
    pub const CLUSTER_NAME_LEGACY: &str = "eksctl.cluster.k8s.io/v1alpha1/cluster-name";
    /// `alpha.eksctl.io/eksctl-version`.
    pub const EKSCTL_VERSION: &str = "alpha.eksctl.io/eksctl-version";
    /// `alpha.eksctl.io/nodegroup-name`.
    pub const NODEGROUP_NAME: &str = "alpha.eksctl.io/nodegroup-name";
    /// `alpha.eksctl.io/nodegroup-type` (`managed` or `unmanaged`; absent on old unmanaged
    /// stacks).
    pub const NODEGROUP_TYPE: &str = "alpha.eksctl.io/nodegroup-type";
    /// `eksctl.io/v1alpha2/nodegroup-name` (older stacks).
    pub const NODEGROUP_NAME_V1ALPHA2: &str = "eksctl.io/v1alpha2/nodegroup-name";
    /// `eksctl.cluster.k8s.io/v1alpha1/nodegroup-id` (2018-2019 stacks).
    pub const NODEGROUP_ID_LEGACY: &str = "eksctl.cluster.k8s.io/v1alpha1/nodegroup-id";
    /// `alpha.eksctl.io/iamserviceaccount-name`: `<namespace>/<name>` on an iamserviceaccount
    /// stack.
    pub const IAMSERVICEACCOUNT_NAME: &str = "alpha.eksctl.io/iamserviceaccount-name";
    /// `kubernetes.io/cluster/<cluster>` (value `owned`): on every auto scaling group of a
    /// cluster's nodegroups, set by eksctl's template and by EKS.
    pub const KUBERNETES_CLUSTER_PREFIX: &str = "kubernetes.io/cluster/";
    /// `aws:cloudformation:stack-name`, which CloudFormation puts on what a stack creates.
    pub const CFN_STACK_NAME: &str = "aws:cloudformation:stack-name";
}

/// The output keys eksctl writes on the cluster stack.
pub mod outputs {
    /// `VPC`.
    pub const VPC: &str = "VPC";
    /// `SecurityGroup`.
    pub const SECURITY_GROUP: &str = "SecurityGroup";
    /// `SharedNodeSecurityGroup`.
    pub const SHARED_NODE_SECURITY_GROUP: &str = "SharedNodeSecurityGroup";
    /// `ClusterSecurityGroupId`.
    pub const CLUSTER_SECURITY_GROUP_ID: &str = "ClusterSecurityGroupId";
    /// `SubnetsPrivate`.
    pub const SUBNETS_PRIVATE: &str = "SubnetsPrivate";
    /// `SubnetsPublic`.
    pub const SUBNETS_PUBLIC: &str = "SubnetsPublic";
    /// `SubnetsLocalZonePrivate`.
    pub const SUBNETS_LOCAL_ZONE_PRIVATE: &str = "SubnetsLocalZonePrivate";
    /// `SubnetsLocalZonePublic`.
    pub const SUBNETS_LOCAL_ZONE_PUBLIC: &str = "SubnetsLocalZonePublic";
    /// `SubnetsPrivateExtended`.
    pub const SUBNETS_PRIVATE_EXTENDED: &str = "SubnetsPrivateExtended";
    /// `SubnetsPublicExtended`.
    pub const SUBNETS_PUBLIC_EXTENDED: &str = "SubnetsPublicExtended";
    /// Very old stacks: read by eksctl only when `SubnetsPublic` is absent.
    pub const SUBNETS_LEGACY: &str = "Subnets";
    /// `ClusterFullyPrivate`.
    pub const CLUSTER_FULLY_PRIVATE: &str = "ClusterFullyPrivate";
    /// `FeatureNATMode`.
    pub const FEATURE_NAT_MODE: &str = "FeatureNATMode";
    /// `Endpoint`.
    pub const ENDPOINT: &str = "Endpoint";
    /// `ARN`.
    pub const ARN: &str = "ARN";
    /// `CertificateAuthorityData`.
    pub const CERTIFICATE_AUTHORITY_DATA: &str = "CertificateAuthorityData";
    /// `ServiceRoleARN`.
    pub const SERVICE_ROLE_ARN: &str = "ServiceRoleARN";
    /// `FargatePodExecutionRoleARN`.
    pub const FARGATE_POD_EXECUTION_ROLE_ARN: &str = "FargatePodExecutionRoleARN";
    /// `ClusterStackName`.
    pub const CLUSTER_STACK_NAME: &str = "ClusterStackName";

    /// Every output that holds a comma-joined subnet list, in the order reports list them.
    pub const SUBNET_LISTS: [&str; 7] = [
        SUBNETS_PRIVATE,
        SUBNETS_PUBLIC,
        SUBNETS_LEGACY,
        SUBNETS_LOCAL_ZONE_PRIVATE,
        SUBNETS_LOCAL_ZONE_PUBLIC,
        SUBNETS_PRIVATE_EXTENDED,
        SUBNETS_PUBLIC_EXTENDED,
    ];
    /// Subnet lists that eksctl looks up by ID whenever it loads the VPC from the stack, in
    /// every version (`pkg/vpc/vpc.go`): one deleted subnet in them fails every such command
    /// with `InvalidSubnetID.NotFound`. The other lists are listed by VPC filter from 0.177.0 on.
    #[must_use]
    pub fn looked_up_by_id(key: &str) -> bool {
        key == SUBNETS_PRIVATE_EXTENDED || key == SUBNETS_PUBLIC_EXTENDED
    }

    /// Outputs holding one security group ID.
    pub const SECURITY_GROUPS: [&str; 3] = [
        SECURITY_GROUP,
        SHARED_NODE_SECURITY_GROUP,
        CLUSTER_SECURITY_GROUP_ID,
    ];
}

/// Stack statuses in which eksctl can read, update and delete a stack; every other status is
/// failed, rolled back or mid-operation.
pub const USABLE_STATUSES: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
];

/// The subnets one subnet-list output names, cleaned for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSubnets<'a> {
    /// The output key, one of [`outputs::SUBNET_LISTS`].
    pub key: &'static str,
    /// Distinct IDs, trimmed, in output order (empty items dropped).
    pub ids: Vec<&'a str>,
}

/// True when `id` looks like an AWS resource ID with `prefix` (`subnet`, `sg`, `vpc`): the
/// prefix, a dash and 8 to 17 lower-case hex digits.
#[must_use]
pub fn is_resource_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (8..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

impl Stack {
    /// Every subnet-list output of the stack with its IDs (trimmed, empty items and
    /// duplicates dropped; malformed values are a finding of their own, EKD105).
    #[must_use]
    pub fn subnet_lists(&self) -> Vec<OutputSubnets<'_>> {
        outputs::SUBNET_LISTS
            .iter()
            .filter_map(|key| {
                let list = self.output_list(key)?;
                let mut seen = std::collections::BTreeSet::new();
                let ids = list
                    .into_iter()
                    .map(str::trim)
                    .filter(|id| !id.is_empty() && seen.insert(*id))
                    .collect();
                Some(OutputSubnets { key, ids })
            })
            .collect()
    }

    /// The export name of an output, when the output is exported.
    #[must_use]
    pub fn export_name(&self, key: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|o| o.output_key == key)
            .and_then(|o| o.export_name.as_deref())
    }

    /// The raw value of an output, if the stack has it.
    #[must_use]
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|o| o.output_key == key)
            .map(|o| o.output_value.as_str())
    }

    /// The value of a tag, if present.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        tag_value(&self.tags, key)
    }

    /// The cluster this stack belongs to, by eksctl's tags (current, then legacy).
    #[must_use]
    pub fn cluster_name_tag(&self) -> Option<&str> {
        self.tag(tags::CLUSTER_NAME)
            .or_else(|| self.tag(tags::CLUSTER_NAME_LEGACY))
    }

    /// The nodegroup name eksctl reads from the stack's tags (`GetNodegroupTagName`: the
    /// current tag, then the two older ones).
    #[must_use]
    pub fn nodegroup_name_tag(&self) -> Option<&str> {
        [
            tags::NODEGROUP_NAME,
            tags::NODEGROUP_NAME_V1ALPHA2,
            tags::NODEGROUP_ID_LEGACY,
        ]
        .iter()
        .find_map(|k| self.tag(k))
    }

    /// The nodegroup this stack is for, when it is an eksctl nodegroup stack of `cluster`,
    /// as eksctl's `ListNodeGroupStacks` sees it: named `eksctl-<cluster>-nodegroup-…` (or a
    /// 2019 `EKS-<cluster>-…` name) with a nodegroup-name tag, and not tagged for another
    /// cluster. The name is the tag's value.
    #[must_use]
    pub fn nodegroup_of(&self, cluster: &str) -> Option<&str> {
        if self.cluster_name_tag().is_some_and(|c| c != cluster) {
            return None;
        }
        let name = self.stack_name.as_str();
        let ours = name.starts_with(&format!("eksctl-{cluster}-nodegroup-"))
            || name.starts_with(&format!("EKS-{cluster}-"));
        if !ours {
            return None;
        }
        self.nodegroup_name_tag().or_else(|| {
            // eksctl's names for the nodegroups of its first releases (`GetNodeGroupName`).
            if name.ends_with("-nodegroup-0") {
                Some("legacy-nodegroup-0")
            } else if name.ends_with("-DefaultNodeGroup") {
                Some("legacy-default")
            } else {
                None
            }
        })
    }

    /// `managed` or `unmanaged` (eksctl takes a stack without the type tag for unmanaged).
    #[must_use]
    pub fn nodegroup_managed(&self) -> bool {
        self.tag(tags::NODEGROUP_TYPE) == Some("managed")
    }

    /// `STATUS (reason)`, as a message shows it.
    #[must_use]
    pub fn status_with_reason(&self) -> String {
        match self.stack_status_reason.as_deref() {
            Some(r) => format!("{} ({r})", self.stack_status),
            None => self.stack_status.clone(),
        }
    }

    /// True when the stack's status is one in which eksctl can read, update and delete it.
    #[must_use]
    pub fn status_usable(&self) -> bool {
        USABLE_STATUSES.contains(&self.stack_status.as_str())
    }

    /// The eksctl version that created or last updated the stack.
    #[must_use]
    pub fn eksctl_version(&self) -> Option<&str> {
        self.tag(tags::EKSCTL_VERSION)
    }

    /// `VPC` output.
    #[must_use]
    pub fn vpc(&self) -> Option<&str> {
        self.output(outputs::VPC)
    }

    /// `SecurityGroup` output.
    #[must_use]
    pub fn security_group(&self) -> Option<&str> {
        self.output(outputs::SECURITY_GROUP)
    }

    /// `SharedNodeSecurityGroup` output.
    #[must_use]
    pub fn shared_node_security_group(&self) -> Option<&str> {
        self.output(outputs::SHARED_NODE_SECURITY_GROUP)
    }

    /// `ClusterSecurityGroupId` output.
    #[must_use]
    pub fn cluster_security_group_id(&self) -> Option<&str> {
        self.output(outputs::CLUSTER_SECURITY_GROUP_ID)
    }

    /// A comma-joined list output split the way eksctl splits it: on `,`, nothing trimmed.
    /// `None` when the output is absent; an empty value gives one empty item, as in eksctl.
    #[must_use]
    pub fn output_list(&self, key: &str) -> Option<Vec<&str>> {
        self.output(key).map(|v| v.split(',').collect())
    }

    /// `SubnetsPrivate`.
    #[must_use]
    pub fn subnets_private(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_PRIVATE)
    }

    /// `SubnetsPublic`, falling back to the legacy `Subnets` output as eksctl does.
    #[must_use]
    pub fn subnets_public(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_PUBLIC)
            .or_else(|| self.output_list(outputs::SUBNETS_LEGACY))
    }

    /// The legacy `Subnets` list of very old stacks.
    #[must_use]
    pub fn subnets_legacy(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_LEGACY)
    }

    /// `SubnetsLocalZonePrivate` (never control-plane subnets).
    #[must_use]
    pub fn subnets_local_zone_private(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_LOCAL_ZONE_PRIVATE)
    }

    /// `SubnetsLocalZonePublic` (never control-plane subnets).
    #[must_use]
    pub fn subnets_local_zone_public(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_LOCAL_ZONE_PUBLIC)
    }

    /// `SubnetsPrivateExtended` (Outposts and extended subnets; never control-plane subnets).
    #[must_use]
    pub fn subnets_private_extended(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_PRIVATE_EXTENDED)
    }

    /// `SubnetsPublicExtended` (never control-plane subnets).
    #[must_use]
    pub fn subnets_public_extended(&self) -> Option<Vec<&str>> {
        self.output_list(outputs::SUBNETS_PUBLIC_EXTENDED)
    }

    /// `ClusterFullyPrivate`: `Some(true)` when the output reads `true`.
    #[must_use]
    pub fn cluster_fully_private(&self) -> Option<bool> {
        self.output(outputs::CLUSTER_FULLY_PRIVATE)
            .map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `FeatureNATMode`.
    #[must_use]
    pub fn nat_mode(&self) -> Option<&str> {
        self.output(outputs::FEATURE_NAT_MODE)
    }

    /// `Endpoint`.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.output(outputs::ENDPOINT)
    }

    /// `ARN`.
    #[must_use]
    pub fn arn(&self) -> Option<&str> {
        self.output(outputs::ARN)
    }

    /// `CertificateAuthorityData`.
    #[must_use]
    pub fn certificate_authority_data(&self) -> Option<&str> {
        self.output(outputs::CERTIFICATE_AUTHORITY_DATA)
    }

    /// `ServiceRoleARN`.
    #[must_use]
    pub fn service_role_arn(&self) -> Option<&str> {
        self.output(outputs::SERVICE_ROLE_ARN)
    }

    /// `FargatePodExecutionRoleARN`.
    #[must_use]
    pub fn fargate_pod_execution_role_arn(&self) -> Option<&str> {
        self.output(outputs::FARGATE_POD_EXECUTION_ROLE_ARN)
    }

    /// `ClusterStackName`.
    #[must_use]
    pub fn cluster_stack_name(&self) -> Option<&str> {
        self.output(outputs::CLUSTER_STACK_NAME)
    }
}

/// The live cluster, as `aws eks describe-cluster` prints `.cluster`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// `name`, as the AWS CLI prints it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `arn`, as the AWS CLI prints it.
    pub arn: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `createdAt`, as the AWS CLI prints it.
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `version`, as the AWS CLI prints it.
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `endpoint`, as the AWS CLI prints it.
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `roleArn`, as the AWS CLI prints it.
    pub role_arn: Option<String>,
    #[serde(default)]
    /// `resourcesVpcConfig`, as the AWS CLI prints it.
    pub resources_vpc_config: VpcConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `status`, as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `platformVersion`, as the AWS CLI prints it.
    pub platform_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `health`, as the AWS CLI prints it.
    pub health: Option<ClusterHealth>,
    /// Present for an EKS local cluster on AWS Outposts, whose control plane runs on the
    /// Outpost in one subnet of one AZ by design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outpost_config: Option<OutpostConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `identity`, as the AWS CLI prints it.
    pub identity: Option<ClusterIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `accessConfig`, as the AWS CLI prints it.
    pub access_config: Option<AccessConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `deletionProtection`, as the AWS CLI prints it (EKS, 2025).
    pub deletion_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `tags`, as the AWS CLI prints it.
    pub tags: BTreeMap<String, String>,
    /// Every other field `describe-cluster` printed, kept as it was so a bundle written from
    /// this cluster holds the whole answer.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Cluster {
    /// `identity.oidc.issuer`, when the cluster has one.
    #[must_use]
    pub fn oidc_issuer(&self) -> Option<&str> {
        self.identity
            .as_ref()?
            .oidc
            .as_ref()?
            .issuer
            .as_deref()
            .filter(|i| !i.is_empty())
    }

    /// `accessConfig.authenticationMode` (`API`, `API_AND_CONFIG_MAP`, `CONFIG_MAP`).
    #[must_use]
    pub fn authentication_mode(&self) -> Option<&str> {
        self.access_config.as_ref()?.authentication_mode.as_deref()
    }
}

/// `identity` of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `oidc`, as the AWS CLI prints it.
    pub oidc: Option<Oidc>,
}

/// `identity.oidc` of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Oidc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `issuer`, as the AWS CLI prints it.
    pub issuer: Option<String>,
}

/// `accessConfig` of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `authenticationMode`, as the AWS CLI prints it.
    pub authentication_mode: Option<String>,
}

/// An IAM role, as `aws iam list-roles` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Path`, as the AWS CLI prints it.
    pub path: Option<String>,
    #[serde(default)]
    /// `RoleName`, as the AWS CLI prints it.
    pub role_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `RoleId`, as the AWS CLI prints it.
    pub role_id: Option<String>,
    /// `Arn`, as the AWS CLI prints it.
    pub arn: String,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `CreateDate`, as the AWS CLI prints it.
    pub create_date: Option<String>,
    /// `AssumeRolePolicyDocument`: the AWS CLI prints it decoded (an object); the API returns it
    /// URL-encoded (a string). Both are read; [`Role::trust_policy`] decodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<serde_json::Value>,
}

impl Role {
    /// The trust policy as JSON, whether it was stored decoded or URL-encoded.
    #[must_use]
    pub fn trust_policy(&self) -> Option<serde_json::Value> {
        match self.assume_role_policy_document.as_ref()? {
            serde_json::Value::String(text) => {
                let decoded = crate::text::percent_decode(text).unwrap_or_default();
                serde_json::from_str(&decoded)
                    .or_else(|_| serde_json::from_str(text))
                    .ok()
            }
            other => Some(other.clone()),
        }
    }
}

/// The account and role name of an IAM role ARN (`arn:aws:iam::123:role/path/name`), or
/// `None` when `arn` is not a role ARN.
#[must_use]
pub fn role_key(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.trim().splitn(6, ':');
    let (_arn, _partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if service != "iam" {
        return None;
    }
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then_some((account, name))
}

/// An access entry, as `aws eks describe-access-entry` prints `.accessEntry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// `principalArn`, as the AWS CLI prints it.
    pub principal_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `type`, as the AWS CLI prints it.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `createdAt`, as the AWS CLI prints it.
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `username`, as the AWS CLI prints it.
    pub username: Option<String>,
}

/// A pod identity association, as `aws eks list-pod-identity-associations` (no `roleArn`) or
/// `describe-pod-identity-association` (with it) prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityAssociation {
    #[serde(default)]
    /// `associationId`, as the AWS CLI prints it.
    pub association_id: String,
    #[serde(default)]
    /// `namespace`, as the AWS CLI prints it.
    pub namespace: String,
    #[serde(default)]
    /// `serviceAccount`, as the AWS CLI prints it.
    pub service_account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `roleArn`, as the AWS CLI prints it.
    pub role_arn: Option<String>,
}

/// `outpostConfig` of a local cluster on AWS Outposts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutpostConfig {
    #[serde(default, deserialize_with = "null_as_default")]
    /// `outpostArns`, as the AWS CLI prints it.
    pub outpost_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `controlPlaneInstanceType`, as the AWS CLI prints it.
    pub control_plane_instance_type: Option<String>,
}

/// `resourcesVpcConfig` of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    #[serde(default, deserialize_with = "null_as_default")]
    /// `subnetIds`, as the AWS CLI prints it.
    pub subnet_ids: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `securityGroupIds`, as the AWS CLI prints it.
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `clusterSecurityGroupId`, as the AWS CLI prints it.
    pub cluster_security_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `vpcId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `endpointPublicAccess`, as the AWS CLI prints it.
    pub endpoint_public_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `endpointPrivateAccess`, as the AWS CLI prints it.
    pub endpoint_private_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `publicAccessCidrs`, as the AWS CLI prints it.
    pub public_access_cidrs: Vec<String>,
}

/// `health` of a cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterHealth {
    #[serde(default, deserialize_with = "null_as_default")]
    /// `issues`, as the AWS CLI prints it.
    pub issues: Vec<HealthIssue>,
}

/// One entry of `health.issues`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthIssue {
    #[serde(default)]
    /// `code`, as the AWS CLI prints it.
    pub code: String,
    #[serde(default)]
    /// `message`, as the AWS CLI prints it.
    pub message: String,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `resourceIds`, as the AWS CLI prints it.
    pub resource_ids: Vec<String>,
}

/// An EC2 subnet, as `aws ec2 describe-subnets` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    /// `SubnetId`, as the AWS CLI prints it.
    pub subnet_id: String,
    #[serde(default)]
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: String,
    #[serde(default)]
    /// `AvailabilityZone`, as the AWS CLI prints it.
    pub availability_zone: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `AvailabilityZoneId`, as the AWS CLI prints it.
    pub availability_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `CidrBlock`, as the AWS CLI prints it.
    pub cidr_block: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `AvailableIpAddressCount`, as the AWS CLI prints it.
    pub available_ip_address_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `MapPublicIpOnLaunch`, as the AWS CLI prints it.
    pub map_public_ip_on_launch: Option<bool>,
    #[serde(default)]
    /// `State`, as the AWS CLI prints it.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `DefaultForAz`, as the AWS CLI prints it.
    pub default_for_az: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `OwnerId`, as the AWS CLI prints it.
    pub owner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `OutpostArn`, as the AWS CLI prints it.
    pub outpost_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

/// An EC2 security group, as `aws ec2 describe-security-groups` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    /// `GroupId`, as the AWS CLI prints it.
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `GroupName`, as the AWS CLI prints it.
    pub group_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Description`, as the AWS CLI prints it.
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `OwnerId`, as the AWS CLI prints it.
    pub owner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `IpPermissions`, as the AWS CLI prints it.
    pub ip_permissions: Vec<IpPermission>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `IpPermissionsEgress`, as the AWS CLI prints it.
    pub ip_permissions_egress: Vec<IpPermission>,
}

impl SecurityGroup {
    /// The value of tag `key`.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }

    /// The groups its rules (inbound and outbound) name, each once.
    #[must_use]
    pub fn referenced_groups(&self) -> std::collections::BTreeSet<&str> {
        self.ip_permissions
            .iter()
            .chain(&self.ip_permissions_egress)
            .flat_map(|p| &p.user_id_group_pairs)
            .filter_map(|p| p.group_id.as_deref())
            .collect()
    }
}

/// One rule of a security group (`IpPermissions` / `IpPermissionsEgress`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `IpProtocol`, as the AWS CLI prints it.
    pub ip_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `FromPort`, as the AWS CLI prints it.
    pub from_port: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `ToPort`, as the AWS CLI prints it.
    pub to_port: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `UserIdGroupPairs`, as the AWS CLI prints it.
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

/// One of `UserIdGroupPairs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `GroupId`, as the AWS CLI prints it.
    pub group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `UserId`, as the AWS CLI prints it.
    pub user_id: Option<String>,
}

/// A Fargate profile, as `aws eks describe-fargate-profile` prints `.fargateProfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FargateProfile {
    /// `fargateProfileName`, as the AWS CLI prints it.
    pub fargate_profile_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `status`, as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `podExecutionRoleArn`, as the AWS CLI prints it.
    pub pod_execution_role_arn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `subnets`, as the AWS CLI prints it.
    pub subnets: Vec<String>,
}

/// An instance profile, as `aws iam get-instance-profile` prints its `InstanceProfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlannedInstanceProfile {
    /// `InstanceProfileName`, as the AWS CLI prints it.
    pub instance_profile_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Arn`, as the AWS CLI prints it.
    pub arn: Option<String>,
    #[serde(default)]
    /// `Roles`, as the AWS CLI prints them (only `RoleName` and `Arn` are kept).
    pub roles: Vec<ProfileRole>,
}

/// A role of an instance profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProfileRole {
    /// `RoleName`, as the AWS CLI prints it.
    #[serde(default)]
    pub role_name: String,
    /// `Arn`, as the AWS CLI prints it.
    #[serde(default)]
    pub arn: String,
}

/// A VPC, as `aws ec2 describe-vpcs` prints each of `Vpcs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vpc {
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `CidrBlock`, as the AWS CLI prints it.
    pub cidr_block: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `CidrBlockAssociationSet`, as the AWS CLI prints it (only `CidrBlock` is kept).
    pub cidr_block_association_set: Vec<VpcCidr>,
}

/// One of a VPC's IPv4 CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcCidr {
    /// `CidrBlock`, as the AWS CLI prints it.
    #[serde(default)]
    pub cidr_block: String,
}

/// An EC2 key pair, as `aws ec2 describe-key-pairs` prints each of `KeyPairs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPair {
    /// `KeyName`, as the AWS CLI prints it.
    pub key_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `KeyPairId`, as the AWS CLI prints it.
    pub key_pair_id: Option<String>,
}

/// An AMI, as `aws ec2 describe-images` prints each of `Images`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    /// `ImageId`, as the AWS CLI prints it.
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `State` (`available`, `deregistered`, …).
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Name`, as the AWS CLI prints it.
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `DeprecationTime`, as the AWS CLI prints it.
    pub deprecation_time: Option<String>,
}

/// Where an instance type is offered, as `aws ec2 describe-instance-type-offerings
/// --location-type availability-zone` prints each of `InstanceTypeOfferings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceTypeOffering {
    /// `InstanceType`, as the AWS CLI prints it.
    pub instance_type: String,
    #[serde(default)]
    /// `LocationType`, as the AWS CLI prints it.
    pub location_type: String,
    /// `Location` (the AZ name).
    pub location: String,
}

/// A planned eksctl change: the ClusterConfig, the operation, eksctl's nodegroup filter and
/// the eksctl version that will run it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The file, as the user named it (`-` for stdin).
    pub source: String,
    /// The ClusterConfig.
    pub config: crate::config::ClusterConfig,
    /// The eksctl operation planned.
    pub operation: crate::report::Operation,
    /// `--include` globs (eksctl's): only these nodegroups, when given.
    pub include: Vec<String>,
    /// `--exclude` globs (eksctl's).
    pub exclude: Vec<String>,
    /// The eksctl version that will run the command (`--eksctl-version`).
    pub eksctl_version: (u32, u32, u32),
}

/// The eksctl version whose behaviour a plan assumes when not told: the current one.
pub const CURRENT_EKSCTL: (u32, u32, u32) = (0, 230, 0);

impl Plan {
    /// Whether eksctl's `--include`/`--exclude` keep the nodegroup `name` (globs with `*` and
    /// `?`; an exclude wins).
    #[must_use]
    pub fn keeps(&self, name: &str) -> bool {
        let matches = |globs: &[String]| {
            globs
                .iter()
                .flat_map(|g| g.split(','))
                .any(|g| crate::text::glob_match(g.trim(), name))
        };
        (self.include.is_empty() || matches(&self.include)) && !matches(&self.exclude)
    }
}

/// An EKS cluster insight, as `aws eks describe-insight` prints `.insight` (the listing's
/// summaries have the same fields without `recommendation`, `additionalInfo`, `resources` and
/// `categorySpecificSummary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insight {
    /// `id`, as the AWS CLI prints it.
    pub id: String,
    #[serde(default)]
    /// `name`, as the AWS CLI prints it.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `category` (`UPGRADE_READINESS`, `MISCONFIGURATION`, `ROLLBACK_READINESS`).
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `kubernetesVersion`: the version the insight is about.
    pub kubernetes_version: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `lastRefreshTime`, as the AWS CLI prints it.
    pub last_refresh_time: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `lastTransitionTime`, as the AWS CLI prints it.
    pub last_transition_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `description`, as the AWS CLI prints it.
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `insightStatus`, as the AWS CLI prints it.
    pub insight_status: Option<InsightStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `recommendation`, as the AWS CLI prints it.
    pub recommendation: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `additionalInfo` (links by title), as the AWS CLI prints it.
    pub additional_info: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `resources`, as the AWS CLI prints it.
    pub resources: Vec<InsightResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `categorySpecificSummary`, as the AWS CLI prints it.
    pub category_specific_summary: Option<InsightCategorySummary>,
}

impl Insight {
    /// `insightStatus.status` (`PASSING`, `WARNING`, `ERROR`, `UNKNOWN`).
    #[must_use]
    pub fn status(&self) -> &str {
        self.insight_status
            .as_ref()
            .map_or("UNKNOWN", |s| s.status.as_str())
    }
}

/// `insightStatus` of an insight or of one of its resources.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightStatus {
    #[serde(default)]
    /// `status`, as the AWS CLI prints it.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `reason`, as the AWS CLI prints it.
    pub reason: Option<String>,
}

/// One entry of an insight's `resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `insightStatus`, as the AWS CLI prints it.
    pub insight_status: Option<InsightStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `kubernetesResourceUri`, as the AWS CLI prints it.
    pub kubernetes_resource_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `arn`, as the AWS CLI prints it.
    pub arn: Option<String>,
}

/// `categorySpecificSummary` of an insight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightCategorySummary {
    #[serde(default, deserialize_with = "null_as_default")]
    /// `deprecationDetails`, as the AWS CLI prints it.
    pub deprecation_details: Vec<DeprecationDetail>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `addonCompatibilityDetails`, as the AWS CLI prints it.
    pub addon_compatibility_details: Vec<AddonCompatibilityDetail>,
}

/// One deprecated Kubernetes API an insight found in use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeprecationDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `usage` (the deprecated API), as the AWS CLI prints it.
    pub usage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `replacedWith`, as the AWS CLI prints it.
    pub replaced_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `stopServingVersion`, as the AWS CLI prints it.
    pub stop_serving_version: Option<String>,
}

/// One addon an insight found incompatible with the version it is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonCompatibilityDetail {
    #[serde(default)]
    /// `name`, as the AWS CLI prints it.
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `compatibleVersions`, as the AWS CLI prints it.
    pub compatible_versions: Vec<String>,
}

/// A Kubernetes version EKS offers, as `aws eks describe-cluster-versions` prints each of
/// `.clusterVersions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterVersion {
    /// `clusterVersion` (`1.31`), as the AWS CLI prints it.
    pub cluster_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `versionStatus` (`STANDARD_SUPPORT`, `EXTENDED_SUPPORT`, `UNSUPPORTED`).
    pub version_status: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `endOfStandardSupportDate`, as the AWS CLI prints it.
    pub end_of_standard_support_date: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `endOfExtendedSupportDate`, as the AWS CLI prints it.
    pub end_of_extended_support_date: Option<String>,
}

/// An addon's versions, as `aws eks describe-addon-versions` prints each of `.addons`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonInfo {
    /// `addonName`, as the AWS CLI prints it.
    pub addon_name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `addonVersions`, as the AWS CLI prints it.
    pub addon_versions: Vec<AddonVersionInfo>,
}

/// One version of an addon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonVersionInfo {
    /// `addonVersion`, as the AWS CLI prints it.
    pub addon_version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `compatibilities`, as the AWS CLI prints it.
    pub compatibilities: Vec<AddonCompatibility>,
}

/// One entry of an addon version's `compatibilities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonCompatibility {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `clusterVersion`, as the AWS CLI prints it.
    pub cluster_version: Option<String>,
    #[serde(default)]
    /// `defaultVersion`, as the AWS CLI prints it.
    pub default_version: bool,
}

/// An EKS addon, as `aws eks describe-addon` prints `.addon`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Addon {
    /// `addonName`, as the AWS CLI prints it.
    pub addon_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `status`, as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `addonVersion`, as the AWS CLI prints it.
    pub addon_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `health`, as the AWS CLI prints it.
    pub health: Option<ClusterHealth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `serviceAccountRoleArn`, as the AWS CLI prints it.
    pub service_account_role_arn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `podIdentityAssociations` (association ARNs), as the AWS CLI prints it.
    pub pod_identity_associations: Vec<String>,
}

/// A managed nodegroup, as `aws eks describe-nodegroup` prints `.nodegroup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nodegroup {
    /// `nodegroupName`, as the AWS CLI prints it.
    pub nodegroup_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `clusterName`, as the AWS CLI prints it.
    pub cluster_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `status`, as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `version` (the Kubernetes minor its nodes run), as the AWS CLI prints it.
    pub version: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `subnets`, as the AWS CLI prints it.
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `nodeRole`, as the AWS CLI prints it.
    pub node_role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `launchTemplate`, as the AWS CLI prints it.
    pub launch_template: Option<NodegroupLaunchTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `remoteAccess`, as the AWS CLI prints it.
    pub remote_access: Option<RemoteAccess>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `resources`, as the AWS CLI prints it.
    pub resources: Option<NodegroupResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `health`, as the AWS CLI prints it.
    pub health: Option<ClusterHealth>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// `tags`, as the AWS CLI prints it.
    pub tags: BTreeMap<String, String>,
}

/// `launchTemplate` of a managed nodegroup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupLaunchTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `name`, as the AWS CLI prints it.
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `version`, as the AWS CLI prints it.
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `id`, as the AWS CLI prints it.
    pub id: Option<String>,
}

/// `remoteAccess` of a managed nodegroup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteAccess {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `ec2SshKey`, as the AWS CLI prints it.
    pub ec2_ssh_key: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `sourceSecurityGroups`, as the AWS CLI prints it.
    pub source_security_groups: Vec<String>,
}

/// `resources` of a managed nodegroup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodegroupResources {
    #[serde(default, deserialize_with = "null_as_default")]
    /// `autoScalingGroups`, as the AWS CLI prints it.
    pub auto_scaling_groups: Vec<NamedResource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `remoteAccessSecurityGroup`, as the AWS CLI prints it.
    pub remote_access_security_group: Option<String>,
}

/// `{"name": …}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedResource {
    #[serde(default)]
    /// `name`, as the AWS CLI prints it.
    pub name: String,
}

/// An auto scaling group, as `aws autoscaling describe-auto-scaling-groups` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AutoScalingGroup {
    /// `AutoScalingGroupName`, as the AWS CLI prints it.
    pub auto_scaling_group_name: String,
    #[serde(
        rename = "VPCZoneIdentifier",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    /// `VPCZoneIdentifier` (comma-joined subnet IDs), as the AWS CLI prints it.
    pub vpc_zone_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplate`, as the AWS CLI prints it.
    pub launch_template: Option<LaunchTemplateSpecification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `MixedInstancesPolicy`, as the AWS CLI prints it.
    pub mixed_instances_policy: Option<MixedInstancesPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Status` (`Delete in progress` while it is deleted), as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

impl AutoScalingGroup {
    /// The value of a tag, if present.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        tag_value(&self.tags, key)
    }

    /// The subnets of `VPCZoneIdentifier`, trimmed, empty items dropped.
    #[must_use]
    pub fn subnet_ids(&self) -> Vec<&str> {
        self.vpc_zone_identifier
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// The launch template the group launches from, directly or through its mixed instances
    /// policy.
    #[must_use]
    pub fn launch_template_spec(&self) -> Option<&LaunchTemplateSpecification> {
        self.launch_template.as_ref().or_else(|| {
            self.mixed_instances_policy
                .as_ref()?
                .launch_template
                .as_ref()?
                .launch_template_specification
                .as_ref()
        })
    }
}

/// A launch template and version, as auto scaling prints them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateSpecification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplateId`, as the AWS CLI prints it.
    pub launch_template_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplateName`, as the AWS CLI prints it.
    pub launch_template_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Version` (a number, `$Latest` or `$Default`), as the AWS CLI prints it.
    pub version: Option<String>,
}

/// `MixedInstancesPolicy` of an auto scaling group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MixedInstancesPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplate`, as the AWS CLI prints it.
    pub launch_template: Option<MixedLaunchTemplate>,
}

/// `MixedInstancesPolicy.LaunchTemplate`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MixedLaunchTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplateSpecification`, as the AWS CLI prints it.
    pub launch_template_specification: Option<LaunchTemplateSpecification>,
}

/// One launch template version, as `aws ec2 describe-launch-template-versions` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateVersion {
    /// `LaunchTemplateId`, as the AWS CLI prints it.
    pub launch_template_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplateName`, as the AWS CLI prints it.
    pub launch_template_name: Option<String>,
    /// `VersionNumber`, as the AWS CLI prints it.
    pub version_number: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `DefaultVersion`, as the AWS CLI prints it.
    pub default_version: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `LaunchTemplateData` (only what the rules read), as the AWS CLI prints it.
    pub launch_template_data: Option<LaunchTemplateData>,
}

/// The parts of `LaunchTemplateData` the rules read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `SecurityGroupIds`, as the AWS CLI prints it.
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `NetworkInterfaces`, as the AWS CLI prints it.
    pub network_interfaces: Vec<LaunchTemplateNetworkInterface>,
}

impl LaunchTemplateData {
    /// Every security group the template attaches (top level and per interface).
    #[must_use]
    pub fn security_groups(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for g in self
            .security_group_ids
            .iter()
            .chain(self.network_interfaces.iter().flat_map(|n| &n.groups))
        {
            if !out.contains(&g.as_str()) {
                out.push(g);
            }
        }
        out
    }
}

/// One entry of `LaunchTemplateData.NetworkInterfaces`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateNetworkInterface {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Groups`, as the AWS CLI prints it.
    pub groups: Vec<String>,
}

/// One row of `aws cloudformation describe-stack-resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StackResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `StackName`, as the AWS CLI prints it.
    pub stack_name: Option<String>,
    /// `LogicalResourceId`, as the AWS CLI prints it.
    pub logical_resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `PhysicalResourceId`, as the AWS CLI prints it.
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    /// `ResourceType`, as the AWS CLI prints it.
    pub resource_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `ResourceStatus`, as the AWS CLI prints it.
    pub resource_status: Option<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `Timestamp`, as the AWS CLI prints it.
    pub timestamp: Option<String>,
}

/// `null` where a list is expected reads as an empty list (the AWS CLI prints both).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Timestamps arrive as ISO 8601 strings or as epoch seconds (the AWS CLI prints either,
/// depending on `cli_timestamp_format`); both are kept as an RFC 3339 string.
fn timestamp<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(f64),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(s)) => Ok(Some(s)),
        Some(Raw::Number(n)) => epoch_to_rfc3339(n)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("timestamp {n} is out of range"))),
    }
}

fn epoch_to_rfc3339(secs: f64) -> Option<String> {
    if !secs.is_finite() {
        return None;
    }
    let nanos = (secs * 1e9).round();
    if nanos.abs() > 1e27 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(nanos as i128).ok()?;
    dt.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_timestamps_become_rfc3339() {
        let s: Stack =
            serde_json::from_str(r#"{"StackName":"x","CreationTime":1700000000.5}"#).unwrap();
        assert_eq!(s.creation_time.as_deref(), Some("2023-11-14T22:13:20.5Z"));
        let s: Stack = serde_json::from_str(
            r#"{"StackName":"x","CreationTime":"2023-11-14T22:13:20.500000+00:00"}"#,
        )
        .unwrap();
        assert_eq!(
            s.creation_time.as_deref(),
            Some("2023-11-14T22:13:20.500000+00:00")
        );
    }

    #[test]
    fn absurd_timestamps_are_an_error_not_a_panic() {
        let r: Result<Stack, _> = serde_json::from_str(r#"{"StackName":"x","CreationTime":1e300}"#);
        assert!(r.is_err());
    }

    #[test]
    fn output_lists_split_like_eksctl() {
        let stack = Stack {
            stack_name: "s".into(),
            outputs: vec![
                Output {
                    output_key: "SubnetsPrivate".into(),
                    output_value: "subnet-a,subnet-b".into(),
                    ..Output::default()
                },
                Output {
                    output_key: "Subnets".into(),
                    output_value: "subnet-c".into(),
                    ..Output::default()
                },
            ],
            ..Stack::default()
        };
        assert_eq!(
            stack.subnets_private().unwrap(),
            vec!["subnet-a", "subnet-b"]
        );
        // legacy fallback when SubnetsPublic is absent
        assert_eq!(stack.subnets_public().unwrap(), vec!["subnet-c"]);
    }

    #[test]
    fn launch_template_versions_resolve_like_ec2() {
        let v = |n, default| LaunchTemplateVersion {
            launch_template_id: "lt-1".into(),
            version_number: n,
            default_version: Some(default),
            ..LaunchTemplateVersion::default()
        };
        let mut s = Snapshot::default();
        assert_eq!(
            s.launch_template_version(Some("lt-1"), None, Some("1")),
            None
        );
        s.launch_template_versions = Some(vec![v(1, false), v(2, true), v(4, false)]);
        let found = |version| match s.launch_template_version(Some("lt-1"), None, version) {
            Some(TemplateLookup::Found(v)) => Some(v.version_number),
            _ => None,
        };
        assert_eq!(found(Some("$Latest")), Some(4));
        assert_eq!(found(Some("$Default")), Some(2));
        assert_eq!(found(None), Some(2));
        assert_eq!(found(Some("1")), Some(1));
        assert_eq!(
            s.launch_template_version(Some("lt-1"), None, Some("3")),
            Some(TemplateLookup::VersionMissing)
        );
        assert_eq!(
            s.launch_template_version(Some("lt-2"), None, Some("1")),
            Some(TemplateLookup::TemplateMissing)
        );
        assert_eq!(
            s.launch_template_version(Some("lt-1"), None, Some("latest")),
            Some(TemplateLookup::Unknown)
        );
    }

    #[test]
    fn nodegroup_stacks_are_recognised_like_eksctl() {
        let stack = |name: &str, tags: &[(&str, &str)]| Stack {
            stack_name: name.into(),
            tags: tags
                .iter()
                .map(|(k, v)| Tag {
                    key: (*k).into(),
                    value: (*v).into(),
                })
                .collect(),
            ..Stack::default()
        };
        let current = stack(
            "eksctl-prod-nodegroup-ng-1",
            &[(tags::CLUSTER_NAME, "prod"), (tags::NODEGROUP_NAME, "ng-1")],
        );
        assert_eq!(current.nodegroup_of("prod"), Some("ng-1"));
        assert!(!current.nodegroup_managed(), "no type tag means unmanaged");
        // 2019: only the legacy tags.
        let old = stack(
            "eksctl-prod-nodegroup-ng-0",
            &[
                (tags::CLUSTER_NAME_LEGACY, "prod"),
                (tags::NODEGROUP_ID_LEGACY, "ng-0"),
            ],
        );
        assert_eq!(old.nodegroup_of("prod"), Some("ng-0"));
        // Another cluster's stack whose name happens to fit is not ours.
        let other = stack(
            "eksctl-prod-nodegroup-x-nodegroup-y",
            &[
                (tags::CLUSTER_NAME, "prod-nodegroup-x"),
                (tags::NODEGROUP_NAME, "y"),
            ],
        );
        assert_eq!(other.nodegroup_of("prod"), None);
        // A cluster stack is not a nodegroup stack.
        let cluster = stack("eksctl-prod-cluster", &[(tags::CLUSTER_NAME, "prod")]);
        assert_eq!(cluster.nodegroup_of("prod"), None);
    }

    #[test]
    fn null_lists_read_as_empty() {
        let s: Stack =
            serde_json::from_str(r#"{"StackName":"x","Outputs":null,"Tags":null}"#).unwrap();
        assert!(s.outputs.is_empty() && s.tags.is_empty());
    }
}
