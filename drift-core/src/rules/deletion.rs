//! What the delete-gate rules (EKD704–EKD709) share: which stacks, subnets and security groups
//! are eksctl's, whether eksctl made the VPC, whose an instance is, and what deleting a stack
//! breaks.
//!
//! eksctl never creates subnets in a VPC it did not create (`pkg/vpc`), so its subnets —
//! CloudFormation tags them with the cluster stack's name — are also the proof that it made
//! the VPC; the cluster stack's resources (`AWS::EC2::VPC`) say so too when they were read.

use std::collections::BTreeSet;

use super::Context;
use crate::report::Operation;
use crate::snapshot::{Instance, SecurityGroup, Stack, tags};

/// Instance tags EKS puts on a managed nodegroup's instances.
const EKS_NODEGROUP_TAG: &str = "eks:nodegroup-name";
/// The tag EC2 Auto Scaling puts on its instances.
const ASG_NAME_TAG: &str = "aws:autoscaling:groupName";
/// EKS Auto Mode's node pools tag their instances with this: EKS removes them with the cluster.
const AUTO_MODE_TAG: &str = "eks:kubernetes-node-pool-name";
/// Karpenter v1 and v0 tag their instances with one of these.
pub(crate) const KARPENTER_TAGS: [&str; 2] =
    ["karpenter.sh/nodepool", "karpenter.sh/provisioner-name"];
/// The tag the AWS Load Balancer Controller puts on what it makes.
pub(crate) const ELBV2_CLUSTER_TAG: &str = "elbv2.k8s.aws/cluster";

/// The eksctl stacks of the cluster that still exist (the cluster stack included).
pub(crate) fn eksctl_stacks<'a>(ctx: &Context<'a>) -> Vec<&'a Stack> {
    let cluster = ctx.cluster.name.as_str();
    let mut out: Vec<&Stack> = ctx
        .snapshot
        .stacks
        .iter()
        .filter(|s| s.stack_status != "DELETE_COMPLETE")
        .filter(|s| s.cluster_name_tag() == Some(cluster))
        .collect();
    if let Some(stack) = ctx.discovery.stack
        && !out.iter().any(|s| s.stack_name == stack.stack_name)
    {
        out.push(stack);
    }
    out
}

/// The stack of the cluster called `name`, among eksctl's.
pub(crate) fn eksctl_stack<'a>(ctx: &Context<'a>, name: &str) -> Option<&'a Stack> {
    eksctl_stacks(ctx)
        .into_iter()
        .find(|s| s.stack_name == name)
}

/// The subnets eksctl's cluster stack made (CloudFormation's stack-name tag).
pub(crate) fn eksctl_subnets<'a>(ctx: &Context<'a>) -> BTreeSet<&'a str> {
    let Some(stack) = ctx.discovery.stack else {
        return BTreeSet::new();
    };
    ctx.snapshot
        .subnets
        .iter()
        .filter(|s| {
            s.tags
                .iter()
                .any(|t| t.key == tags::CFN_STACK_NAME && t.value == stack.stack_name)
        })
        .map(|s| s.subnet_id.as_str())
        .collect()
}

/// The cluster's VPC when eksctl's cluster stack made it, else `None` (a VPC eksctl did not
/// create is never deleted by eksctl).
pub(crate) fn eksctl_vpc<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    let stack = ctx.discovery.stack?;
    let vpc = ctx.expected_vpc(stack)?;
    let by_resource = ctx.snapshot.stack_resources.as_ref().is_some_and(|r| {
        r.iter().any(|r| {
            r.resource_type == "AWS::EC2::VPC" && r.physical_resource_id.as_deref() == Some(vpc)
        })
    });
    let by_subnet = eksctl_subnets(ctx)
        .iter()
        .any(|id| ctx.subnets.get(id).is_some_and(|s| s.vpc_id == vpc));
    (by_resource || by_subnet).then_some(vpc)
}

/// The cluster's VPC: the live one, else the stack's `VPC` output.
pub(crate) fn cluster_vpc<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    ctx.cluster
        .resources_vpc_config
        .vpc_id
        .as_deref()
        .or_else(|| ctx.discovery.stack.and_then(Stack::vpc))
}

/// The security groups eksctl's stacks made: the groups CloudFormation tagged with one of the
/// cluster's eksctl stacks, and the groups the cluster stack's outputs name.
pub(crate) fn eksctl_groups<'a>(ctx: &Context<'a>) -> BTreeSet<&'a str> {
    let stacks: BTreeSet<&str> = eksctl_stacks(ctx)
        .iter()
        .map(|s| s.stack_name.as_str())
        .collect();
    let mut out: BTreeSet<&str> = ctx
        .snapshot
        .vpc_security_groups
        .iter()
        .flatten()
        .chain(ctx.snapshot.security_groups.iter().flatten())
        .filter(|g| {
            g.tag(tags::CFN_STACK_NAME)
                .is_some_and(|s| stacks.contains(s))
        })
        .map(|g| g.group_id.as_str())
        .collect();
    if let Some(stack) = ctx.discovery.stack {
        out.extend(stack.security_group());
        out.extend(stack.shared_node_security_group());
    }
    out
}

/// The stack that made group `id`, when its tags say.
pub(crate) fn group_stack<'a>(ctx: &Context<'a>, id: &str) -> Option<&'a Stack> {
    let group = find_group(ctx, id)?;
    eksctl_stack(ctx, group.tag(tags::CFN_STACK_NAME)?)
}

/// Group `id` as either security-group listing holds it.
pub(crate) fn find_group<'a>(ctx: &Context<'a>, id: &str) -> Option<&'a SecurityGroup> {
    ctx.snapshot
        .vpc_security_groups
        .iter()
        .flatten()
        .chain(ctx.snapshot.security_groups.iter().flatten())
        .find(|g| g.group_id == id)
}

/// What deleting `stack` is part of: a nodegroup stack goes with `eksctl delete nodegroup` and
/// `eksctl delete cluster`; every other eksctl stack with `eksctl delete cluster`.
pub(crate) fn stack_breaks(ctx: &Context<'_>, stack: Option<&Stack>) -> &'static [Operation] {
    match stack.and_then(|s| s.nodegroup_of(&ctx.cluster.name)) {
        Some(_) => &[Operation::DeleteNodegroup, Operation::DeleteCluster],
        None => &[Operation::DeleteCluster],
    }
}

/// How a report names a stack: `nodegroup NG (stack S)` or `stack S`.
pub(crate) fn stack_label(ctx: &Context<'_>, stack: &Stack) -> String {
    match stack.nodegroup_of(&ctx.cluster.name) {
        Some(ng) => format!("nodegroup {ng} (stack {})", stack.stack_name),
        None => format!("stack {}", stack.stack_name),
    }
}

/// True when the instance belongs to the cluster itself: a nodegroup's (managed: EKS's tag;
/// unmanaged: an auto scaling group tagged for the cluster, or eksctl's nodegroup tags) or an
/// EKS Auto Mode node. Those go when eksctl deletes the nodegroups and the cluster.
pub(crate) fn cluster_owns_instance(ctx: &Context<'_>, instance: &Instance) -> bool {
    let cluster = ctx.cluster.name.as_str();
    if instance.tag(AUTO_MODE_TAG).is_some() {
        return true;
    }
    if instance.tag(EKS_NODEGROUP_TAG).is_some()
        && instance
            .tag("eks:cluster-name")
            .is_none_or(|c| c == cluster)
    {
        return true;
    }
    if instance.tag(tags::NODEGROUP_NAME).is_some()
        && instance.tag(tags::CLUSTER_NAME) == Some(cluster)
    {
        return true;
    }
    instance.tag(ASG_NAME_TAG).is_some_and(|asg| {
        ctx.snapshot
            .auto_scaling_groups
            .iter()
            .flatten()
            .any(|g| g.auto_scaling_group_name == asg)
    })
}

/// True when Karpenter launched the instance for this cluster.
pub(crate) fn karpenter_instance(ctx: &Context<'_>, instance: &Instance) -> bool {
    let cluster = ctx.cluster.name.as_str();
    KARPENTER_TAGS.iter().any(|k| instance.tag(k).is_some())
        && instance.tag(AUTO_MODE_TAG).is_none()
        && (instance
            .tag(&format!("{}{cluster}", tags::KUBERNETES_CLUSTER_PREFIX))
            .is_some()
            || instance.tag("eks:eks-cluster-name") == Some(cluster)
            || instance.tag("karpenter.k8s.aws/cluster") == Some(cluster))
}

/// True when Kubernetes (a cloud provider or the AWS Load Balancer Controller) made the
/// resource with these tags for this cluster.
pub(crate) fn kubernetes_made(cluster: &str, tag: impl Fn(&str) -> Option<String>) -> bool {
    tag(&format!("{}{cluster}", tags::KUBERNETES_CLUSTER_PREFIX)).is_some()
        || tag(ELBV2_CLUSTER_TAG).as_deref() == Some(cluster)
}

/// Who seems to have made a resource, from its tags.
pub(crate) fn maker(cluster: &str, tags_of: &[crate::snapshot::Tag]) -> String {
    let tag = |k: &str| {
        tags_of
            .iter()
            .find(|t| t.key == k)
            .map(|t| t.value.as_str())
    };
    if let Some(c) = tag(ELBV2_CLUSTER_TAG) {
        return format!("the AWS Load Balancer Controller of cluster {c}");
    }
    if let Some(svc) = tag("kubernetes.io/service-name") {
        return format!("Kubernetes, for Service {svc}");
    }
    if let Some(t) = tags_of
        .iter()
        .find(|t| t.key.starts_with(tags::KUBERNETES_CLUSTER_PREFIX))
    {
        let other = &t.key[tags::KUBERNETES_CLUSTER_PREFIX.len()..];
        if other != cluster {
            return format!("Kubernetes, for cluster {other}");
        }
        return "Kubernetes".to_owned();
    }
    if let Some(stack) = tag(tags::CFN_STACK_NAME) {
        return format!("CloudFormation stack {stack}");
    }
    if let Some(t) = tags_of.iter().find(|t| {
        let k = t.key.to_ascii_lowercase();
        k.contains("terraform") || k == "managedby" || k == "managed-by" || k == "created-by"
    }) {
        return format!("tag {}={}", t.key, t.value);
    }
    "no tag says who".to_owned()
}
