//! What lives in and against the cluster's network, and what is attached to eksctl's roles: the
//! inputs of the delete gate (`--for delete-cluster` / `--for delete-nodegroup`). Same rule as
//! the rest of the snapshot: the AWS CLI's field names, our own types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Tag, null_as_default, timestamp};

/// An Application, Network or Gateway load balancer, as `aws elbv2 describe-load-balancers`
/// prints it, with its tags (`aws elbv2 describe-tags`) joined in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    /// `LoadBalancerArn`, as the AWS CLI prints it.
    pub load_balancer_arn: String,
    #[serde(default)]
    /// `LoadBalancerName`, as the AWS CLI prints it.
    pub load_balancer_name: String,
    #[serde(default, rename = "Type", skip_serializing_if = "Option::is_none")]
    /// `Type` (`application`, `network`, `gateway`), as the AWS CLI prints it.
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Scheme`, as the AWS CLI prints it.
    pub scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `SecurityGroups`, as the AWS CLI prints it.
    pub security_groups: Vec<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `CreatedTime`, as the AWS CLI prints it.
    pub created_time: Option<String>,
    /// The tags `describe-tags` gives (not printed by `describe-load-balancers`: a bundle holds
    /// them in `describe-tags.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A Classic load balancer, as `aws elb describe-load-balancers` prints it, with its tags
/// (`aws elb describe-tags`) joined in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicLoadBalancer {
    /// `LoadBalancerName`, as the AWS CLI prints it.
    pub load_balancer_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Scheme`, as the AWS CLI prints it.
    pub scheme: Option<String>,
    #[serde(default, rename = "VPCId", skip_serializing_if = "Option::is_none")]
    /// `VPCId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `SecurityGroups`, as the AWS CLI prints it.
    pub security_groups: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `Subnets`, as the AWS CLI prints it.
    pub subnets: Vec<String>,
    #[serde(
        default,
        deserialize_with = "timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    /// `CreatedTime`, as the AWS CLI prints it.
    pub created_time: Option<String>,
    /// The tags `describe-tags` gives (a bundle holds them in `describe-tags-classic.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// One load balancer of either kind, as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct AnyLoadBalancer<'a> {
    /// Its name.
    pub name: &'a str,
    /// `application`, `network`, `gateway` or `classic`.
    pub kind: &'a str,
    /// Its VPC.
    pub vpc_id: Option<&'a str>,
    /// Its security groups.
    pub security_groups: &'a [String],
    /// Its tags.
    pub tags: &'a [Tag],
    /// The ARN (Elastic Load Balancing v2) or the name (Classic): what `describe-tags` and the
    /// delete command take.
    pub id: &'a str,
}

impl AnyLoadBalancer<'_> {
    /// The value of tag `key`.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }

    /// True for a Classic load balancer.
    #[must_use]
    pub fn is_classic(&self) -> bool {
        self.kind == "classic"
    }
}

/// A network interface, as `aws ec2 describe-network-interfaces` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkInterface {
    /// `NetworkInterfaceId`, as the AWS CLI prints it.
    pub network_interface_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `SubnetId`, as the AWS CLI prints it.
    pub subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Status` (`available`, `in-use`, …), as the AWS CLI prints it.
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Description`, as the AWS CLI prints it.
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `InterfaceType`, as the AWS CLI prints it.
    pub interface_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `RequesterId`, as the AWS CLI prints it.
    pub requester_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `RequesterManaged`, as the AWS CLI prints it.
    pub requester_managed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Attachment`, as the AWS CLI prints it.
    pub attachment: Option<InterfaceAttachment>,
    #[serde(default, deserialize_with = "null_as_default")]
    /// `Groups`, as the AWS CLI prints it.
    pub groups: Vec<GroupIdentifier>,
    #[serde(default, rename = "TagSet", skip_serializing_if = "Vec::is_empty")]
    /// `TagSet`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

/// `Attachment` of a network interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InterfaceAttachment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `InstanceId`, as the AWS CLI prints it.
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `InstanceOwnerId`, as the AWS CLI prints it.
    pub instance_owner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Status`, as the AWS CLI prints it.
    pub status: Option<String>,
}

/// A security group as a network interface or an instance names it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    /// `GroupId`, as the AWS CLI prints it.
    pub group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `GroupName`, as the AWS CLI prints it.
    pub group_name: Option<String>,
}

/// An EC2 instance, as `aws ec2 describe-instances` prints it (inside `Reservations`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    /// `InstanceId`, as the AWS CLI prints it.
    pub instance_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `State`, as the AWS CLI prints it.
    pub state: Option<InstanceState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `SubnetId`, as the AWS CLI prints it.
    pub subnet_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `VpcId`, as the AWS CLI prints it.
    pub vpc_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `IamInstanceProfile`, as the AWS CLI prints it.
    pub iam_instance_profile: Option<InstanceProfileRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `SecurityGroups`, as the AWS CLI prints it.
    pub security_groups: Vec<GroupIdentifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

impl Instance {
    /// The value of tag `key`.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }

    /// `State.Name`.
    #[must_use]
    pub fn state_name(&self) -> &str {
        self.state.as_ref().map_or("", |s| s.name.as_str())
    }

    /// False once the instance is terminated (or on its way): it then holds nothing.
    #[must_use]
    pub fn is_live(&self) -> bool {
        !matches!(self.state_name(), "terminated" | "shutting-down")
    }
}

/// `State` of an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    #[serde(default)]
    /// `Name`, as the AWS CLI prints it.
    pub name: String,
}

/// `IamInstanceProfile` of an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfileRef {
    #[serde(default)]
    /// `Arn`, as the AWS CLI prints it.
    pub arn: String,
}

/// A launch template, as `aws ec2 describe-launch-templates` prints it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplate {
    /// `LaunchTemplateId`, as the AWS CLI prints it.
    pub launch_template_id: String,
    #[serde(default)]
    /// `LaunchTemplateName`, as the AWS CLI prints it.
    pub launch_template_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

impl LaunchTemplate {
    /// The value of tag `key`.
    #[must_use]
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// What is attached to one IAM role: `aws iam list-attached-role-policies`, `aws iam
/// list-role-policies` and `aws iam list-instance-profiles-for-role`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleAttachments {
    /// The managed policies attached (`AttachedPolicies`).
    #[serde(default)]
    pub attached_policies: Vec<AttachedPolicy>,
    /// The names of the inline policies (`PolicyNames`).
    #[serde(default)]
    pub inline_policies: Vec<String>,
    /// The instance profiles holding the role (`InstanceProfiles`).
    #[serde(default)]
    pub instance_profiles: Vec<InstanceProfile>,
}

/// One of `AttachedPolicies`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicy {
    #[serde(default)]
    /// `PolicyName`, as the AWS CLI prints it.
    pub policy_name: String,
    #[serde(default)]
    /// `PolicyArn`, as the AWS CLI prints it.
    pub policy_arn: String,
}

/// One of `InstanceProfiles`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceProfile {
    #[serde(default)]
    /// `InstanceProfileName`, as the AWS CLI prints it.
    pub instance_profile_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// `Arn`, as the AWS CLI prints it.
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// `Tags`, as the AWS CLI prints it.
    pub tags: Vec<Tag>,
}

/// The attachments by role name.
pub type RoleAttachmentMap = BTreeMap<String, RoleAttachments>;
