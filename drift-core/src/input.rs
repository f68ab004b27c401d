//! The inputs of a snapshot: each AWS listing or description the collector reads, and the bundle
//! file that holds it. Rules declare the inputs they need; the collector reads only the inputs of
//! the selected rules; a failed input makes only the rules that need it `not_checked`.

use std::collections::BTreeSet;
use std::fmt;

#[cfg(feature = "schema")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::ErrorKind;

/// One input of a snapshot, named after the AWS CLI subcommand (and bundle file) that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Input {
    /// Every stack of the region (`describe-stacks.json`).
    DescribeStacks,
    /// The live cluster (`describe-cluster.json`).
    DescribeCluster,
    /// The subnets the stacks, the cluster and the nodegroups name (`describe-subnets.json`).
    DescribeSubnets,
    /// The security groups they name (`describe-security-groups.json`).
    DescribeSecurityGroups,
    /// The cluster stack's template (`get-template.json`).
    GetTemplate,
    /// The cluster stack's resources (`describe-stack-resources.json`).
    DescribeStackResources,
    /// The importers of the eksctl stacks' exports (`list-imports/`).
    ListImports,
    /// The templates of the managed nodegroup stacks whose nodegroup runs a launch template of
    /// its own (`get-template/<stack>.json`).
    #[serde(rename = "get-template-nodegroup")]
    GetNodegroupTemplates,
    /// The managed nodegroups, listed and described (`list-nodegroups.json`,
    /// `describe-nodegroup/`).
    ListNodegroups,
    /// The auto scaling groups tagged for the cluster (`describe-auto-scaling-groups.json`).
    DescribeAutoScalingGroups,
    /// The versions of the nodegroups' launch templates
    /// (`describe-launch-template-versions.json`).
    DescribeLaunchTemplateVersions,
    /// The clusters of the region (`list-clusters.json`).
    ListClusters,
    /// The account's IAM OIDC providers (`list-open-id-connect-providers.json`).
    ListOpenIdConnectProviders,
    /// The IAM roles the cluster names (`list-roles.json`).
    ListRoles,
    /// The access entries, listed and described (`list-access-entries.json`,
    /// `describe-access-entry/`).
    ListAccessEntries,
    /// The pod identity associations, listed and described
    /// (`list-pod-identity-associations.json`, `describe-pod-identity-association/`).
    ListPodIdentityAssociations,
    /// The load balancers of the region, both kinds, with their tags
    /// (`describe-load-balancers.json`, `describe-load-balancers-classic.json`,
    /// `describe-tags.json`, `describe-tags-classic.json`).
    DescribeLoadBalancers,
    /// The network interfaces in the cluster's VPC (`describe-network-interfaces.json`).
    DescribeNetworkInterfaces,
    /// The instances in the cluster's VPC, terminated ones aside (`describe-instances.json`).
    DescribeInstances,
    /// The launch templates Karpenter made (`describe-launch-templates.json`).
    DescribeLaunchTemplates,
    /// The security groups in the cluster's VPC and those whose rules name eksctl's groups
    /// (`describe-security-groups-vpc.json`).
    #[serde(rename = "describe-security-groups-vpc")]
    DescribeVpcSecurityGroups,
    /// What is attached to the roles eksctl's stacks made, and those stacks' templates
    /// (`list-attached-role-policies/`, `list-role-policies/`,
    /// `list-instance-profiles-for-role/`, `get-template/`).
    #[serde(rename = "list-role-attachments")]
    ListRoleAttachments,
    /// The cluster's EKS addons, listed and described (`list-addons.json`, `describe-addon/`).
    ListAddons,
    /// The cluster's Fargate profiles, listed and described (`list-fargate-profiles.json`,
    /// `describe-fargate-profile/`).
    ListFargateProfiles,
    /// The cluster's insights, listed and each one not `PASSING` described
    /// (`list-insights.json`, `describe-insight/`); read only with `--for upgrade-cluster` and
    /// by `capture`.
    ListInsights,
    /// The Kubernetes versions EKS offers, with their support dates
    /// (`describe-cluster-versions.json`), one call per region.
    DescribeClusterVersions,
    /// The versions EKS offers of the cluster's addons for the upgrade's target version
    /// (`describe-addon-versions/<version>.json`); read only with `--for upgrade-cluster` and by
    /// `capture`.
    DescribeAddonVersions,
    /// The key pairs a ClusterConfig plan's nodegroups name (`describe-key-pairs.json`); read
    /// only with `-f FILE`.
    DescribeKeyPairs,
    /// The AMIs a ClusterConfig plan's nodegroups name (`describe-images.json`); read only with
    /// `-f FILE`.
    DescribeImages,
    /// Where a ClusterConfig plan's instance types are offered, by AZ
    /// (`describe-instance-type-offerings.json`); read only with `-f FILE`.
    DescribeInstanceTypeOfferings,
    /// The customer-managed policies a ClusterConfig plan attaches, each asked for
    /// (`get-policy.json`); read only with `-f FILE`.
    #[serde(rename = "get-policy")]
    GetPolicies,
    /// The instance profiles a ClusterConfig plan's self-managed nodegroups name
    /// (`iam.instanceProfileARN`), each asked for (`get-instance-profile.json`); read only
    /// with `-f FILE`.
    #[serde(rename = "get-instance-profile")]
    GetInstanceProfiles,
    /// The existing VPC a `create-cluster` plan names (`vpc.id`; `describe-vpcs.json`); read
    /// only with `-f FILE --for create-cluster`.
    DescribeVpcs,
}

impl Input {
    /// Every input, in the order reports list them.
    pub const ALL: [Input; 33] = [
        Input::DescribeStacks,
        Input::DescribeCluster,
        Input::DescribeSubnets,
        Input::DescribeSecurityGroups,
        Input::GetTemplate,
        Input::DescribeStackResources,
        Input::ListImports,
        Input::GetNodegroupTemplates,
        Input::ListNodegroups,
        Input::DescribeAutoScalingGroups,
        Input::DescribeLaunchTemplateVersions,
        Input::ListClusters,
        Input::ListOpenIdConnectProviders,
        Input::ListRoles,
        Input::ListAccessEntries,
        Input::ListPodIdentityAssociations,
        Input::DescribeLoadBalancers,
        Input::DescribeNetworkInterfaces,
        Input::DescribeInstances,
        Input::DescribeLaunchTemplates,
        Input::DescribeVpcSecurityGroups,
        Input::ListRoleAttachments,
        Input::ListAddons,
        Input::ListFargateProfiles,
        Input::ListInsights,
        Input::DescribeClusterVersions,
        Input::DescribeAddonVersions,
        Input::DescribeKeyPairs,
        Input::DescribeImages,
        Input::DescribeInstanceTypeOfferings,
        Input::GetPolicies,
        Input::GetInstanceProfiles,
        Input::DescribeVpcs,
    ];

    /// The kebab-case name reports use: the AWS CLI subcommand.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Input::DescribeStacks => "describe-stacks",
            Input::DescribeCluster => "describe-cluster",
            Input::DescribeSubnets => "describe-subnets",
            Input::DescribeSecurityGroups => "describe-security-groups",
            Input::GetTemplate => "get-template",
            Input::DescribeStackResources => "describe-stack-resources",
            Input::ListImports => "list-imports",
            Input::GetNodegroupTemplates => "get-template-nodegroup",
            Input::ListNodegroups => "list-nodegroups",
            Input::DescribeAutoScalingGroups => "describe-auto-scaling-groups",
            Input::DescribeLaunchTemplateVersions => "describe-launch-template-versions",
            Input::ListClusters => "list-clusters",
            Input::ListOpenIdConnectProviders => "list-open-id-connect-providers",
            Input::ListRoles => "list-roles",
            Input::ListAccessEntries => "list-access-entries",
            Input::ListPodIdentityAssociations => "list-pod-identity-associations",
            Input::DescribeLoadBalancers => "describe-load-balancers",
            Input::DescribeNetworkInterfaces => "describe-network-interfaces",
            Input::DescribeInstances => "describe-instances",
            Input::DescribeLaunchTemplates => "describe-launch-templates",
            Input::DescribeVpcSecurityGroups => "describe-security-groups-vpc",
            Input::ListRoleAttachments => "list-role-attachments",
            Input::ListAddons => "list-addons",
            Input::ListFargateProfiles => "list-fargate-profiles",
            Input::ListInsights => "list-insights",
            Input::DescribeClusterVersions => "describe-cluster-versions",
            Input::DescribeAddonVersions => "describe-addon-versions",
            Input::DescribeKeyPairs => "describe-key-pairs",
            Input::DescribeImages => "describe-images",
            Input::DescribeInstanceTypeOfferings => "describe-instance-type-offerings",
            Input::GetPolicies => "get-policy",
            Input::GetInstanceProfiles => "get-instance-profile",
            Input::DescribeVpcs => "describe-vpcs",
        }
    }

    /// The IAM actions behind the input (what a role needs to read it).
    #[must_use]
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Input::DescribeStacks => &["cloudformation:DescribeStacks"],
            Input::DescribeCluster => &["eks:DescribeCluster"],
            Input::DescribeSubnets => &["ec2:DescribeSubnets"],
            Input::DescribeSecurityGroups | Input::DescribeVpcSecurityGroups => {
                &["ec2:DescribeSecurityGroups"]
            }
            Input::GetTemplate | Input::GetNodegroupTemplates => &["cloudformation:GetTemplate"],
            Input::DescribeStackResources => &["cloudformation:DescribeStackResources"],
            Input::ListImports => &["cloudformation:ListImports"],
            Input::ListNodegroups => &["eks:ListNodegroups", "eks:DescribeNodegroup"],
            Input::DescribeAutoScalingGroups => &["autoscaling:DescribeAutoScalingGroups"],
            Input::DescribeLaunchTemplateVersions => &["ec2:DescribeLaunchTemplateVersions"],
            Input::ListClusters => &["eks:ListClusters"],
            Input::ListOpenIdConnectProviders => &["iam:ListOpenIDConnectProviders"],
            Input::ListRoles => &["iam:ListRoles"],
            Input::ListAccessEntries => &["eks:ListAccessEntries", "eks:DescribeAccessEntry"],
            Input::ListPodIdentityAssociations => &[
                "eks:ListPodIdentityAssociations",
                "eks:DescribePodIdentityAssociation",
            ],
            Input::DescribeLoadBalancers => &[
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeTags",
            ],
            Input::DescribeNetworkInterfaces => &["ec2:DescribeNetworkInterfaces"],
            Input::DescribeInstances => &["ec2:DescribeInstances"],
            Input::DescribeLaunchTemplates => &["ec2:DescribeLaunchTemplates"],
            Input::ListRoleAttachments => &[
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "cloudformation:GetTemplate",
            ],
            Input::ListAddons => &["eks:ListAddons", "eks:DescribeAddon"],
            Input::ListFargateProfiles => {
                &["eks:ListFargateProfiles", "eks:DescribeFargateProfile"]
            }
            Input::ListInsights => &["eks:ListInsights", "eks:DescribeInsight"],
            Input::DescribeClusterVersions => &["eks:DescribeClusterVersions"],
            Input::DescribeAddonVersions => &["eks:DescribeAddonVersions"],
            Input::DescribeKeyPairs => &["ec2:DescribeKeyPairs"],
            Input::DescribeImages => &["ec2:DescribeImages"],
            Input::DescribeInstanceTypeOfferings => &["ec2:DescribeInstanceTypeOfferings"],
            Input::GetPolicies => &["iam:GetPolicy"],
            Input::GetInstanceProfiles => &["iam:GetInstanceProfile"],
            Input::DescribeVpcs => &["ec2:DescribeVpcs"],
        }
    }

    /// The input named `name` (kebab-case).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Input> {
        Input::ALL.into_iter().find(|i| i.as_str() == name)
    }

    /// The inputs the collector must read to read this one: which launch templates to
    /// describe comes from the nodegroups and their auto scaling groups; whether the template
    /// adds anything comes from the subnets.
    #[must_use]
    pub fn prerequisites(self) -> &'static [Input] {
        match self {
            Input::DescribeLaunchTemplateVersions => {
                &[Input::ListNodegroups, Input::DescribeAutoScalingGroups]
            }
            Input::GetTemplate | Input::DescribeStackResources => &[Input::DescribeSubnets],
            Input::GetNodegroupTemplates => &[Input::ListNodegroups],
            // Which addons, and for which target version.
            Input::DescribeAddonVersions => &[Input::ListAddons, Input::DescribeClusterVersions],
            // The insights about the target version.
            Input::ListInsights => &[Input::DescribeClusterVersions],
            _ => &[],
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `inputs` with what reading them needs first, always with the stacks and the cluster
/// (every target reads them).
#[must_use]
pub fn closure(inputs: impl IntoIterator<Item = Input>) -> BTreeSet<Input> {
    let mut out: BTreeSet<Input> = [Input::DescribeStacks, Input::DescribeCluster].into();
    let mut todo: Vec<Input> = inputs.into_iter().collect();
    while let Some(i) = todo.pop() {
        if out.insert(i) {
            todo.extend_from_slice(i.prerequisites());
        }
    }
    out
}

/// Why an input could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InputFailure {
    /// The `service:Operation` that failed, or the bundle file.
    pub operation: String,
    /// The class of failure.
    pub kind: ErrorKind,
    /// One line: what happened.
    pub message: String,
    /// True when only a remediation's wording needed the input (the target stays complete).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wording_only: bool,
}

impl InputFailure {
    /// A failed read of `operation`.
    #[must_use]
    pub fn new(operation: impl Into<String>, kind: ErrorKind, message: impl Into<String>) -> Self {
        InputFailure {
            operation: operation.into(),
            kind,
            message: message.into(),
            wording_only: false,
        }
    }

    /// The same failure, for an input that only words a remediation.
    #[must_use]
    pub fn for_wording(mut self) -> Self {
        self.wording_only = true;
        self
    }

    /// The reason a rule that needs the input gives for not checking.
    #[must_use]
    pub fn reason(&self) -> String {
        format!(
            "{} failed ({}): {}",
            self.operation,
            self.kind.as_str(),
            crate::text::inline(&self.message)
        )
    }
}

/// Whether an input was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum InputStatus {
    /// Read in full.
    Read,
    /// Not read: not needed by the selected rules, not asked for, or no bundle file.
    Absent,
    /// The read failed.
    Failed,
}

/// One input of a target, as the report shows it (schema 1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct InputResult {
    /// The input.
    pub input: Input,
    /// Read, absent or failed.
    pub status: InputStatus,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<InputFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_actions_are_allowed() {
        for i in Input::ALL {
            assert_eq!(Input::from_name(i.as_str()), Some(i));
            assert_eq!(
                serde_json::to_value(i).unwrap(),
                serde_json::Value::from(i.as_str())
            );
            for a in i.actions() {
                assert!(crate::readonly::is_allowed(a), "{a}");
            }
        }
    }

    #[test]
    fn closure_adds_what_reading_needs() {
        let c = closure([Input::DescribeLaunchTemplateVersions]);
        assert!(c.contains(&Input::ListNodegroups));
        assert!(c.contains(&Input::DescribeAutoScalingGroups));
        assert!(c.contains(&Input::DescribeStacks));
        assert!(!c.contains(&Input::ListRoles));
    }
}
