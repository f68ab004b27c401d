//! SDK output → drift-core snapshot types. The SDK's types stop here: the engine only ever
//! sees what the bundle reader would have produced from the AWS CLI's JSON.

use aws_sdk_cloudformation::types as cfn;
use aws_sdk_ec2::types as ec2;
use aws_sdk_eks::types as eks;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::snapshot::{
    AccessConfig, AccessEntry, AutoScalingGroup, Cluster, ClusterHealth, ClusterIdentity,
    HealthIssue, LaunchTemplateData, LaunchTemplateNetworkInterface, LaunchTemplateSpecification,
    LaunchTemplateVersion, MixedInstancesPolicy, MixedLaunchTemplate, NamedResource, Nodegroup,
    NodegroupLaunchTemplate, NodegroupResources, Oidc, OutpostConfig, Output,
    PodIdentityAssociation, RemoteAccess, Role, SecurityGroup, Stack, StackResource, Subnet, Tag,
    VpcConfig,
};
use crate::snapshot::{
    ClassicLoadBalancer, GroupIdentifier, Instance, InstanceProfileRef, InstanceState,
    InterfaceAttachment, IpPermission, LaunchTemplate, LoadBalancer, NetworkInterface,
    UserIdGroupPair,
};
use aws_sdk_autoscaling::types as asg;

/// Any service's tags, from (key, value).
fn tags<'a, T>(
    items: &'a [T],
    kv: impl Fn(&'a T) -> (Option<&'a str>, Option<&'a str>),
) -> Vec<Tag> {
    items
        .iter()
        .map(|t| {
            let (key, value) = kv(t);
            Tag {
                key: key.unwrap_or_default().to_owned(),
                value: value.unwrap_or_default().to_owned(),
            }
        })
        .collect()
}

/// `health.issues` of a cluster or a nodegroup, from (code, message, resource IDs).
fn health<'a>(
    issues: impl Iterator<Item = (Option<&'a str>, Option<&'a str>, &'a [String])>,
) -> ClusterHealth {
    ClusterHealth {
        issues: issues
            .map(|(code, message, resource_ids)| HealthIssue {
                code: code.unwrap_or_default().to_owned(),
                message: message.unwrap_or_default().to_owned(),
                resource_ids: resource_ids.to_vec(),
            })
            .collect(),
    }
}

fn time(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(Format::DateTime).ok())
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

pub fn stack(s: &cfn::Stack) -> Stack {
    Stack {
        stack_id: owned(s.stack_id()),
        stack_name: s.stack_name().unwrap_or_default().to_owned(),
        description: owned(s.description()),
        creation_time: time(s.creation_time()),
        last_updated_time: time(s.last_updated_time()),
        stack_status: s
            .stack_status()
            .map(|st| st.as_str().to_owned())
            .unwrap_or_default(),
        stack_status_reason: owned(s.stack_status_reason()),
        enable_termination_protection: s.enable_termination_protection(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| Output {
                output_key: o.output_key().unwrap_or_default().to_owned(),
                output_value: o.output_value().unwrap_or_default().to_owned(),
                description: owned(o.description()),
                export_name: owned(o.export_name()),
            })
            .collect(),
        tags: tags(s.tags(), |t| (t.key(), t.value())),
    }
}

pub fn cluster(c: &eks::Cluster) -> Cluster {
    let vpc = c.resources_vpc_config();
    Cluster {
        name: c.name().unwrap_or_default().to_owned(),
        arn: owned(c.arn()),
        created_at: time(c.created_at()),
        version: owned(c.version()),
        endpoint: owned(c.endpoint()),
        role_arn: owned(c.role_arn()),
        resources_vpc_config: vpc
            .map(|v| VpcConfig {
                subnet_ids: v.subnet_ids().to_vec(),
                security_group_ids: v.security_group_ids().to_vec(),
                cluster_security_group_id: owned(v.cluster_security_group_id()),
                vpc_id: owned(v.vpc_id()),
                endpoint_public_access: Some(v.endpoint_public_access()),
                endpoint_private_access: Some(v.endpoint_private_access()),
                public_access_cidrs: v.public_access_cidrs().to_vec(),
            })
            .unwrap_or_default(),
        status: c.status().map(|s| s.as_str().to_owned()),
        platform_version: owned(c.platform_version()),
        health: c.health().map(|h| {
            health(h.issues().iter().map(|i| {
                (
                    i.code().map(eks::ClusterIssueCode::as_str),
                    i.message(),
                    i.resource_ids(),
                )
            }))
        }),
        identity: c.identity().map(|i| ClusterIdentity {
            oidc: i.oidc().map(|o| Oidc {
                issuer: owned(o.issuer()),
            }),
        }),
        access_config: c.access_config().map(|a| AccessConfig {
            authentication_mode: a.authentication_mode().map(|m| m.as_str().to_owned()),
        }),
        outpost_config: c.outpost_config().map(|o| OutpostConfig {
            outpost_arns: o.outpost_arns().to_vec(),
            control_plane_instance_type: Some(o.control_plane_instance_type().to_owned())
                .filter(|t| !t.is_empty()),
        }),
        deletion_protection: c.deletion_protection(),
        tags: c
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        other: std::collections::BTreeMap::new(),
    }
}

fn ec2_tags(t: &[ec2::Tag]) -> Vec<Tag> {
    tags(t, |t| (t.key(), t.value()))
}

pub fn subnet(s: &ec2::Subnet) -> Subnet {
    Subnet {
        subnet_id: s.subnet_id().unwrap_or_default().to_owned(),
        vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
        availability_zone: s.availability_zone().unwrap_or_default().to_owned(),
        availability_zone_id: owned(s.availability_zone_id()),
        cidr_block: owned(s.cidr_block()),
        available_ip_address_count: s.available_ip_address_count().map(i64::from),
        map_public_ip_on_launch: s.map_public_ip_on_launch(),
        state: s
            .state()
            .map(|st| st.as_str().to_owned())
            .unwrap_or_default(),
        default_for_az: s.default_for_az(),
        owner_id: owned(s.owner_id()),
        outpost_arn: owned(s.outpost_arn()),
        tags: ec2_tags(s.tags()),
    }
}

pub fn security_group(g: &ec2::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        group_id: g.group_id().unwrap_or_default().to_owned(),
        group_name: owned(g.group_name()),
        description: owned(g.description()),
        vpc_id: owned(g.vpc_id()),
        owner_id: owned(g.owner_id()),
        tags: ec2_tags(g.tags()),
        ip_permissions: g.ip_permissions().iter().map(ip_permission).collect(),
        ip_permissions_egress: g
            .ip_permissions_egress()
            .iter()
            .map(ip_permission)
            .collect(),
    }
}

fn ip_permission(p: &ec2::IpPermission) -> IpPermission {
    IpPermission {
        ip_protocol: owned(p.ip_protocol()),
        from_port: p.from_port().map(i64::from),
        to_port: p.to_port().map(i64::from),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|u| UserIdGroupPair {
                group_id: owned(u.group_id()),
                user_id: owned(u.user_id()),
            })
            .collect(),
    }
}

fn insight_status(s: &eks::InsightStatus) -> crate::snapshot::InsightStatus {
    crate::snapshot::InsightStatus {
        status: s
            .status()
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default(),
        reason: owned(s.reason()),
    }
}

pub fn insight_summary(i: &eks::InsightSummary) -> crate::snapshot::Insight {
    crate::snapshot::Insight {
        id: i.id().unwrap_or_default().to_owned(),
        name: i.name().unwrap_or_default().to_owned(),
        category: i.category().map(|c| c.as_str().to_owned()),
        kubernetes_version: owned(i.kubernetes_version()),
        last_refresh_time: time(i.last_refresh_time()),
        last_transition_time: time(i.last_transition_time()),
        description: owned(i.description()),
        insight_status: i.insight_status().map(insight_status),
        ..crate::snapshot::Insight::default()
    }
}

pub fn insight(i: &eks::Insight) -> crate::snapshot::Insight {
    use crate::snapshot::{
        AddonCompatibilityDetail, DeprecationDetail, InsightCategorySummary, InsightResource,
    };
    crate::snapshot::Insight {
        id: i.id().unwrap_or_default().to_owned(),
        name: i.name().unwrap_or_default().to_owned(),
        category: i.category().map(|c| c.as_str().to_owned()),
        kubernetes_version: owned(i.kubernetes_version()),
        last_refresh_time: time(i.last_refresh_time()),
        last_transition_time: time(i.last_transition_time()),
        description: owned(i.description()),
        insight_status: i.insight_status().map(insight_status),
        recommendation: owned(i.recommendation()),
        additional_info: i
            .additional_info()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        resources: i
            .resources()
            .iter()
            .map(|r| InsightResource {
                insight_status: r.insight_status().map(insight_status),
                kubernetes_resource_uri: owned(r.kubernetes_resource_uri()),
                arn: owned(r.arn()),
            })
            .collect(),
        category_specific_summary: i
            .category_specific_summary()
            .map(|c| InsightCategorySummary {
                deprecation_details: c
                    .deprecation_details()
                    .iter()
                    .map(|d| DeprecationDetail {
                        usage: owned(d.usage()),
                        replaced_with: owned(d.replaced_with()),
                        stop_serving_version: owned(d.stop_serving_version()),
                    })
                    .collect(),
                addon_compatibility_details: c
                    .addon_compatibility_details()
                    .iter()
                    .map(|a| AddonCompatibilityDetail {
                        name: a.name().unwrap_or_default().to_owned(),
                        compatible_versions: a.compatible_versions().to_vec(),
                    })
                    .collect(),
            }),
    }
}

pub fn cluster_version(v: &eks::ClusterVersionInformation) -> crate::snapshot::ClusterVersion {
    crate::snapshot::ClusterVersion {
        cluster_version: v.cluster_version().unwrap_or_default().to_owned(),
        version_status: v.version_status().map(|s| s.as_str().to_owned()),
        end_of_standard_support_date: time(v.end_of_standard_support_date()),
        end_of_extended_support_date: time(v.end_of_extended_support_date()),
    }
}

pub fn addon_info(a: &eks::AddonInfo) -> crate::snapshot::AddonInfo {
    use crate::snapshot::{AddonCompatibility, AddonVersionInfo};
    crate::snapshot::AddonInfo {
        addon_name: a.addon_name().unwrap_or_default().to_owned(),
        addon_versions: a
            .addon_versions()
            .iter()
            .map(|v| AddonVersionInfo {
                addon_version: v.addon_version().unwrap_or_default().to_owned(),
                compatibilities: v
                    .compatibilities()
                    .iter()
                    .map(|c| AddonCompatibility {
                        cluster_version: owned(c.cluster_version()),
                        default_version: c.default_version(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn addon(a: &eks::Addon) -> crate::snapshot::Addon {
    crate::snapshot::Addon {
        addon_name: a.addon_name().unwrap_or_default().to_owned(),
        status: a.status().map(|s| s.as_str().to_owned()),
        addon_version: owned(a.addon_version()),
        health: a.health().map(|h| {
            health(h.issues().iter().map(|i| {
                (
                    i.code().map(eks::AddonIssueCode::as_str),
                    i.message(),
                    i.resource_ids(),
                )
            }))
        }),
        service_account_role_arn: owned(a.service_account_role_arn()),
        pod_identity_associations: a.pod_identity_associations().to_vec(),
    }
}

pub fn network_interface(n: &ec2::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        network_interface_id: n.network_interface_id().unwrap_or_default().to_owned(),
        subnet_id: owned(n.subnet_id()),
        vpc_id: owned(n.vpc_id()),
        status: n.status().map(|s| s.as_str().to_owned()),
        description: owned(n.description()),
        interface_type: n.interface_type().map(|t| t.as_str().to_owned()),
        requester_id: owned(n.requester_id()),
        requester_managed: n.requester_managed(),
        attachment: n.attachment().map(|a| InterfaceAttachment {
            instance_id: owned(a.instance_id()),
            instance_owner_id: owned(a.instance_owner_id()),
            status: a.status().map(|s| s.as_str().to_owned()),
        }),
        groups: n.groups().iter().map(group_identifier).collect(),
        tags: ec2_tags(n.tag_set()),
    }
}

fn group_identifier(g: &ec2::GroupIdentifier) -> GroupIdentifier {
    GroupIdentifier {
        group_id: g.group_id().unwrap_or_default().to_owned(),
        group_name: owned(g.group_name()),
    }
}

pub fn instance(i: &ec2::Instance) -> Instance {
    Instance {
        instance_id: i.instance_id().unwrap_or_default().to_owned(),
        state: i.state().map(|s| InstanceState {
            name: s.name().map(|n| n.as_str().to_owned()).unwrap_or_default(),
        }),
        subnet_id: owned(i.subnet_id()),
        vpc_id: owned(i.vpc_id()),
        iam_instance_profile: i.iam_instance_profile().map(|p| InstanceProfileRef {
            arn: p.arn().unwrap_or_default().to_owned(),
        }),
        security_groups: i.security_groups().iter().map(group_identifier).collect(),
        tags: ec2_tags(i.tags()),
    }
}

pub fn launch_template(t: &ec2::LaunchTemplate) -> LaunchTemplate {
    LaunchTemplate {
        launch_template_id: t.launch_template_id().unwrap_or_default().to_owned(),
        launch_template_name: t.launch_template_name().unwrap_or_default().to_owned(),
        tags: ec2_tags(t.tags()),
    }
}

pub fn load_balancer(l: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer) -> LoadBalancer {
    LoadBalancer {
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_owned(),
        load_balancer_name: l.load_balancer_name().unwrap_or_default().to_owned(),
        kind: l.r#type().map(|t| t.as_str().to_owned()),
        scheme: l.scheme().map(|s| s.as_str().to_owned()),
        vpc_id: owned(l.vpc_id()),
        security_groups: l.security_groups().to_vec(),
        created_time: time(l.created_time()),
        tags: Vec::new(),
    }
}

pub fn classic_load_balancer(
    l: &aws_sdk_elasticloadbalancing::types::LoadBalancerDescription,
) -> ClassicLoadBalancer {
    ClassicLoadBalancer {
        load_balancer_name: l.load_balancer_name().unwrap_or_default().to_owned(),
        scheme: owned(l.scheme()),
        vpc_id: owned(l.vpc_id()),
        security_groups: l.security_groups().to_vec(),
        subnets: l.subnets().to_vec(),
        created_time: time(l.created_time()),
        tags: Vec::new(),
    }
}

pub fn elbv2_tags(t: &[aws_sdk_elasticloadbalancingv2::types::Tag]) -> Vec<Tag> {
    tags(t, |t| (t.key(), t.value()))
}

pub fn elb_tags(t: &[aws_sdk_elasticloadbalancing::types::Tag]) -> Vec<Tag> {
    tags(t, |t| (Some(t.key()), t.value()))
}

pub fn stack_resource(r: &cfn::StackResource) -> StackResource {
    StackResource {
        stack_name: owned(r.stack_name()),
        logical_resource_id: r.logical_resource_id().unwrap_or_default().to_owned(),
        physical_resource_id: owned(r.physical_resource_id()),
        resource_type: r.resource_type().unwrap_or_default().to_owned(),
        resource_status: r.resource_status().map(|s| s.as_str().to_owned()),
        timestamp: time(r.timestamp()),
    }
}

/// `TemplateBody` as the AWS CLI prints it: a JSON template becomes an object, anything else
/// (YAML) stays a string.
pub fn template_body(body: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::Value::String(body.to_owned()))
}

pub fn nodegroup(n: &eks::Nodegroup) -> Nodegroup {
    Nodegroup {
        nodegroup_name: n.nodegroup_name().unwrap_or_default().to_owned(),
        cluster_name: owned(n.cluster_name()),
        status: n.status().map(|s| s.as_str().to_owned()),
        version: owned(n.version()),
        subnets: n.subnets().to_vec(),
        node_role: owned(n.node_role()),
        launch_template: n.launch_template().map(|l| NodegroupLaunchTemplate {
            name: owned(l.name()),
            version: owned(l.version()),
            id: owned(l.id()),
        }),
        remote_access: n.remote_access().map(|r| RemoteAccess {
            ec2_ssh_key: owned(r.ec2_ssh_key()),
            source_security_groups: r.source_security_groups().to_vec(),
        }),
        resources: n.resources().map(|r| NodegroupResources {
            auto_scaling_groups: r
                .auto_scaling_groups()
                .iter()
                .map(|g| NamedResource {
                    name: g.name().unwrap_or_default().to_owned(),
                })
                .collect(),
            remote_access_security_group: owned(r.remote_access_security_group()),
        }),
        health: n.health().map(|h| {
            health(h.issues().iter().map(|i| {
                (
                    i.code().map(eks::NodegroupIssueCode::as_str),
                    i.message(),
                    i.resource_ids(),
                )
            }))
        }),
        tags: n
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

fn asg_template(l: &asg::LaunchTemplateSpecification) -> LaunchTemplateSpecification {
    LaunchTemplateSpecification {
        launch_template_id: owned(l.launch_template_id()),
        launch_template_name: owned(l.launch_template_name()),
        version: owned(l.version()),
    }
}

pub fn auto_scaling_group(g: &asg::AutoScalingGroup) -> AutoScalingGroup {
    AutoScalingGroup {
        auto_scaling_group_name: g.auto_scaling_group_name().unwrap_or_default().to_owned(),
        vpc_zone_identifier: owned(g.vpc_zone_identifier()),
        launch_template: g.launch_template().map(asg_template),
        mixed_instances_policy: g.mixed_instances_policy().map(|m| MixedInstancesPolicy {
            launch_template: m.launch_template().map(|l| MixedLaunchTemplate {
                launch_template_specification: l.launch_template_specification().map(asg_template),
            }),
        }),
        status: owned(g.status()),
        tags: tags(g.tags(), |t| (t.key(), t.value())),
    }
}

pub fn launch_template_version(v: &ec2::LaunchTemplateVersion) -> LaunchTemplateVersion {
    LaunchTemplateVersion {
        launch_template_id: v.launch_template_id().unwrap_or_default().to_owned(),
        launch_template_name: owned(v.launch_template_name()),
        version_number: v.version_number().unwrap_or_default(),
        default_version: v.default_version(),
        launch_template_data: v.launch_template_data().map(|d| LaunchTemplateData {
            security_group_ids: d.security_group_ids().to_vec(),
            network_interfaces: d
                .network_interfaces()
                .iter()
                .map(|n| LaunchTemplateNetworkInterface {
                    groups: n.groups().to_vec(),
                })
                .collect(),
        }),
    }
}

pub fn role(r: &aws_sdk_iam::types::Role) -> Role {
    Role {
        path: Some(r.path().to_owned()),
        role_name: r.role_name().to_owned(),
        role_id: Some(r.role_id().to_owned()),
        arn: r.arn().to_owned(),
        create_date: time(Some(r.create_date())),
        // URL-encoded, as the API returns it; `Role::trust_policy` decodes.
        assume_role_policy_document: r
            .assume_role_policy_document()
            .map(|d| serde_json::Value::String(d.to_owned())),
    }
}

pub fn access_entry(e: &eks::AccessEntry) -> AccessEntry {
    AccessEntry {
        principal_arn: e.principal_arn().unwrap_or_default().to_owned(),
        kind: owned(e.r#type()),
        created_at: time(e.created_at()),
        username: owned(e.username()),
    }
}

pub fn pod_identity_association(a: &eks::PodIdentityAssociation) -> PodIdentityAssociation {
    PodIdentityAssociation {
        association_id: a.association_id().unwrap_or_default().to_owned(),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        service_account: a.service_account().unwrap_or_default().to_owned(),
        role_arn: owned(a.role_arn()),
    }
}

pub fn pod_identity_summary(a: &eks::PodIdentityAssociationSummary) -> PodIdentityAssociation {
    PodIdentityAssociation {
        association_id: a.association_id().unwrap_or_default().to_owned(),
        namespace: a.namespace().unwrap_or_default().to_owned(),
        service_account: a.service_account().unwrap_or_default().to_owned(),
        role_arn: None,
    }
}
