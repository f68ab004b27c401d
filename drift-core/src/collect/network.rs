//! The delete gate's region reads: what lives in the clusters' VPCs (network interfaces,
//! instances and security groups by `vpc-id` filter, one call per chunk of VPCs), the groups
//! whose rules name eksctl's (`ip-permission.group-id` / `egress.ip-permission.group-id`), the
//! launch templates Karpenter tags, and every load balancer of the region (Elastic Load
//! Balancing has no VPC filter) with its tags, 20 per `DescribeTags` call. Each read is one
//! input: a failure fails that input for every cluster of the region, and only it.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;

use super::error::{CallError, classify};
use super::map;
use super::paginate::{describe_filtered, paginate};
use super::target::fail;
use crate::discovery::discover;
use crate::input::Input;
use crate::snapshot::{
    ClassicLoadBalancer, Instance, LaunchTemplate, LoadBalancer, NetworkInterface, SecurityGroup,
    Snapshot, Stack, tags,
};

/// Resources per `DescribeTags` call (the API's limit, both kinds).
const TAGS_CHUNK: usize = 20;

/// The instance states that still hold a network interface.
const LIVE_STATES: [&str; 4] = ["pending", "running", "stopping", "stopped"];

/// The tag Karpenter puts on every launch template it makes.
const KARPENTER_TEMPLATE_TAG: &str = "karpenter.k8s.aws/ec2nodeclass";

/// Both kinds of load balancer.
type LoadBalancers = (Vec<LoadBalancer>, Vec<ClassicLoadBalancer>);

/// What the region's reads returned (`None`: not asked for).
#[derive(Default)]
pub(super) struct NetworkState {
    load_balancers: Option<Result<LoadBalancers, CallError>>,
    interfaces: Option<Result<Vec<NetworkInterface>, CallError>>,
    instances: Option<Result<Vec<Instance>, CallError>>,
    templates: Option<Result<Vec<LaunchTemplate>, CallError>>,
    groups: Option<Result<Vec<SecurityGroup>, CallError>>,
    pub(super) queries: Vec<String>,
}

/// The VPC of a cluster: the live one, else its stack's output.
pub(super) fn vpc_of(snapshot: &Snapshot) -> Option<String> {
    snapshot
        .cluster
        .resources_vpc_config
        .vpc_id
        .clone()
        .or_else(|| {
            discover(&snapshot.stacks, &snapshot.cluster.name)
                .stack
                .and_then(Stack::vpc)
                .map(str::to_owned)
        })
}

/// The groups the cluster stack's outputs name.
fn output_groups(snapshot: &Snapshot) -> Vec<String> {
    discover(&snapshot.stacks, &snapshot.cluster.name)
        .stack
        .map(|s| {
            s.security_group()
                .into_iter()
                .chain(s.shared_node_security_group())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads what the selected inputs need about the region's clusters' VPCs.
pub(super) async fn read<'a>(
    ec2: &aws_sdk_ec2::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    elb: &aws_sdk_elasticloadbalancing::Client,
    inputs: &BTreeSet<Input>,
    snapshots: impl Iterator<Item = &'a Snapshot>,
) -> NetworkState {
    let snapshots: Vec<&Snapshot> = snapshots.collect();
    let vpcs: BTreeSet<String> = snapshots.iter().filter_map(|s| vpc_of(s)).collect();
    let mut state = NetworkState::default();
    if vpcs.is_empty() {
        return state;
    }
    let want = |i: Input| inputs.contains(&i);
    let vpc_filtered = |action: &'static str| (action, "vpc-id", &vpcs);
    let interfaces = async {
        if !want(Input::DescribeNetworkInterfaces) {
            return None;
        }
        let (action, filter, ids) = vpc_filtered("ec2:DescribeNetworkInterfaces");
        Some(
            describe_filtered(action, filter, ids, |filter, token| async move {
                let page = ec2
                    .describe_network_interfaces()
                    .filters(filter)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify(action, &e))?;
                Ok((
                    page.network_interfaces()
                        .iter()
                        .map(map::network_interface)
                        .collect(),
                    page.next_token().map(str::to_owned),
                ))
            })
            .await,
        )
    };
    let instances = async {
        if !want(Input::DescribeInstances) {
            return None;
        }
        let (action, filter, ids) = vpc_filtered("ec2:DescribeInstances");
        let live = Filter::builder()
            .name("instance-state-name")
            .set_values(Some(LIVE_STATES.iter().map(|s| (*s).to_owned()).collect()))
            .build();
        let live = &live;
        Some(
            describe_filtered(action, filter, ids, |filter, token| async move {
                let page = ec2
                    .describe_instances()
                    .filters(filter)
                    .filters(live.clone())
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify(action, &e))?;
                Ok((
                    page.reservations()
                        .iter()
                        .flat_map(aws_sdk_ec2::types::Reservation::instances)
                        .map(map::instance)
                        .collect(),
                    page.next_token().map(str::to_owned),
                ))
            })
            .await,
        )
    };
    let templates = async {
        if !want(Input::DescribeLaunchTemplates) {
            return None;
        }
        let action = "ec2:DescribeLaunchTemplates";
        let karpenter: BTreeSet<String> = [KARPENTER_TEMPLATE_TAG.to_owned()].into();
        Some(
            describe_filtered(action, "tag-key", &karpenter, |filter, token| async move {
                let page = ec2
                    .describe_launch_templates()
                    .filters(filter)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify(action, &e))?;
                Ok((
                    page.launch_templates()
                        .iter()
                        .map(map::launch_template)
                        .collect(),
                    page.next_token().map(str::to_owned),
                ))
            })
            .await,
        )
    };
    let groups = async {
        if !want(Input::DescribeVpcSecurityGroups) {
            return None;
        }
        Some(security_groups(ec2, &vpcs, &snapshots).await)
    };
    let load_balancers = async {
        if !want(Input::DescribeLoadBalancers) {
            return None;
        }
        Some(load_balancers(elbv2, elb).await)
    };
    let (interfaces, instances, templates, groups, load_balancers) =
        tokio::join!(interfaces, instances, templates, groups, load_balancers);
    let n = vpcs.len();
    if interfaces.is_some() {
        state.queries.push(format!(
            "ec2:DescribeNetworkInterfaces filter vpc-id ({n} VPCs)"
        ));
    }
    if instances.is_some() {
        state.queries.push(format!(
            "ec2:DescribeInstances filter vpc-id ({n} VPCs), not terminated"
        ));
    }
    if templates.is_some() {
        state.queries.push(format!(
            "ec2:DescribeLaunchTemplates filter tag-key={KARPENTER_TEMPLATE_TAG}"
        ));
    }
    if groups.is_some() {
        state.queries.push(format!(
            "ec2:DescribeSecurityGroups filter vpc-id ({n} VPCs), ip-permission.group-id and egress.ip-permission.group-id (eksctl's groups)"
        ));
    }
    if load_balancers.is_some() {
        state.queries.push(
            "elasticloadbalancing:DescribeLoadBalancers (v2 and Classic, the region) + DescribeTags"
                .to_owned(),
        );
    }
    state.interfaces = interfaces;
    state.instances = instances;
    state.templates = templates;
    state.groups = groups;
    state.load_balancers = load_balancers;
    state
}

/// The groups in the VPCs, then the groups whose rules name eksctl's (the output groups and the
/// VPCs' groups CloudFormation tagged for an eksctl stack), merged once each.
async fn security_groups(
    ec2: &aws_sdk_ec2::Client,
    vpcs: &BTreeSet<String>,
    snapshots: &[&Snapshot],
) -> Result<Vec<SecurityGroup>, CallError> {
    let action = "ec2:DescribeSecurityGroups";
    let by_filter = |filter: &'static str, ids: BTreeSet<String>| async move {
        describe_filtered(action, filter, &ids, |filter, token| async move {
            let page = ec2
                .describe_security_groups()
                .filters(filter)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(action, &e))?;
            Ok((
                page.security_groups()
                    .iter()
                    .map(map::security_group)
                    .collect::<Vec<_>>(),
                page.next_token().map(str::to_owned),
            ))
        })
        .await
    };
    let mut groups = by_filter("vpc-id", vpcs.clone()).await?;
    let mut ours: BTreeSet<String> = snapshots.iter().flat_map(|s| output_groups(s)).collect();
    ours.extend(
        groups
            .iter()
            .filter(|g| {
                g.tag(tags::CFN_STACK_NAME)
                    .is_some_and(|s| s.starts_with("eksctl-"))
            })
            .map(|g| g.group_id.clone()),
    );
    if !ours.is_empty() {
        let (ingress, egress) = tokio::join!(
            by_filter("ip-permission.group-id", ours.clone()),
            by_filter("egress.ip-permission.group-id", ours)
        );
        groups.extend(ingress?);
        groups.extend(egress?);
    }
    let mut seen = BTreeSet::new();
    groups.retain(|g| seen.insert(g.group_id.clone()));
    Ok(groups)
}

/// Every load balancer of the region, both kinds, with their tags.
async fn load_balancers(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    elb: &aws_sdk_elasticloadbalancing::Client,
) -> Result<LoadBalancers, CallError> {
    let action = "elasticloadbalancing:DescribeLoadBalancers";
    let tags_action = "elasticloadbalancing:DescribeTags";
    let v2 = paginate(action, |marker| async move {
        let page = elbv2
            .describe_load_balancers()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify(action, &e))?;
        Ok((
            page.load_balancers()
                .iter()
                .map(map::load_balancer)
                .collect::<Vec<_>>(),
            page.next_marker().map(str::to_owned),
        ))
    });
    let classic = paginate(action, |marker| async move {
        let page = elb
            .describe_load_balancers()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify(action, &e))?;
        Ok((
            page.load_balancer_descriptions()
                .iter()
                .map(map::classic_load_balancer)
                .collect::<Vec<_>>(),
            page.next_marker().map(str::to_owned),
        ))
    });
    let (v2, classic) = tokio::join!(v2, classic);
    let (mut v2, mut classic) = (v2?, classic?);
    let arns: Vec<String> = v2.iter().map(|l| l.load_balancer_arn.clone()).collect();
    for chunk in arns.chunks(TAGS_CHUNK) {
        let out = elbv2
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| classify(tags_action, &e))?;
        for d in out.tag_descriptions() {
            if let Some(lb) = v2
                .iter_mut()
                .find(|l| Some(l.load_balancer_arn.as_str()) == d.resource_arn())
            {
                lb.tags = map::elbv2_tags(d.tags());
            }
        }
    }
    let names: Vec<String> = classic
        .iter()
        .map(|l| l.load_balancer_name.clone())
        .collect();
    for chunk in names.chunks(TAGS_CHUNK) {
        let out = elb
            .describe_tags()
            .set_load_balancer_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| classify(tags_action, &e))?;
        for d in out.tag_descriptions() {
            if let Some(lb) = classic
                .iter_mut()
                .find(|l| Some(l.load_balancer_name.as_str()) == d.load_balancer_name())
            {
                lb.tags = map::elb_tags(d.tags());
            }
        }
    }
    Ok((v2, classic))
}

/// Gives one cluster what the region's reads hold about its VPC (and the Karpenter templates
/// tagged for it), or the failure.
pub(super) fn fill(snapshot: &mut Snapshot, state: &NetworkState) {
    let vpc = vpc_of(snapshot);
    let in_vpc = |v: Option<&str>| vpc.is_some() && v == vpc.as_deref();
    if let Some(r) = &state.interfaces {
        match r {
            Ok(all) => {
                snapshot.network_interfaces = Some(
                    all.iter()
                        .filter(|e| in_vpc(e.vpc_id.as_deref()))
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => fail(snapshot, Input::DescribeNetworkInterfaces, e),
        }
    }
    if let Some(r) = &state.instances {
        match r {
            Ok(all) => {
                snapshot.instances = Some(
                    all.iter()
                        .filter(|i| in_vpc(i.vpc_id.as_deref()))
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => fail(snapshot, Input::DescribeInstances, e),
        }
    }
    if let Some(r) = &state.templates {
        let cluster = snapshot.cluster.name.clone();
        let kube = format!("{}{cluster}", tags::KUBERNETES_CLUSTER_PREFIX);
        match r {
            Ok(all) => {
                snapshot.launch_templates = Some(
                    all.iter()
                        .filter(|t| {
                            t.tag("karpenter.k8s.aws/cluster") == Some(cluster.as_str())
                                || t.tag("eks:eks-cluster-name") == Some(cluster.as_str())
                                || t.tag(&kube).is_some()
                        })
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => fail(snapshot, Input::DescribeLaunchTemplates, e),
        }
    }
    if let Some(r) = &state.groups {
        match r {
            Ok(all) => {
                let prefix = format!("eksctl-{}-", snapshot.cluster.name);
                let mut ours: BTreeSet<String> = output_groups(snapshot).into_iter().collect();
                ours.extend(
                    all.iter()
                        .filter(|g| in_vpc(g.vpc_id.as_deref()))
                        .filter(|g| {
                            g.tag(tags::CFN_STACK_NAME)
                                .is_some_and(|s| s.starts_with(&prefix))
                        })
                        .map(|g| g.group_id.clone()),
                );
                snapshot.vpc_security_groups = Some(
                    all.iter()
                        .filter(|g| {
                            in_vpc(g.vpc_id.as_deref())
                                || g.referenced_groups().iter().any(|r| ours.contains(*r))
                        })
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => fail(snapshot, Input::DescribeVpcSecurityGroups, e),
        }
    }
    if let Some(r) = &state.load_balancers {
        match r {
            Ok((v2, classic)) => {
                snapshot.load_balancers = Some(
                    v2.iter()
                        .filter(|l| in_vpc(l.vpc_id.as_deref()))
                        .cloned()
                        .collect(),
                );
                snapshot.classic_load_balancers = Some(
                    classic
                        .iter()
                        .filter(|l| in_vpc(l.vpc_id.as_deref()))
                        .cloned()
                        .collect(),
                );
            }
            Err(e) => fail(snapshot, Input::DescribeLoadBalancers, e),
        }
    }
}
