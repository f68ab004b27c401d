use serde_json::json;

use crate::report::{Evidence, Operation, Resource};
use crate::rules::deletion::{
    cluster_owns_instance, cluster_vpc, eksctl_groups, eksctl_subnets, group_stack,
    karpenter_instance, stack_breaks, stack_label,
};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

/// Where the interfaces come from.
const SOURCE: &str = "ec2:DescribeNetworkInterfaces";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every network interface in the cluster's VPC that sits in a subnet eksctl's cluster stack
    /// made or carries a security group of eksctl's stacks, except those that go on their own
    /// when eksctl deletes: the control plane's (description `Amazon EKS …`), the interfaces of
    /// the nodegroups' instances and of EKS Auto Mode nodes, the interfaces AWS manages with the
    /// cluster's own EKS security group (Fargate pods), the load balancers' (`ELB …`: the
    /// ones eksctl does not delete are EKD705's), and the VPC endpoints and NAT gateways of the
    /// cluster stack itself (a fully-private cluster's). Karpenter's instances are EKD708's.
    /// What is left: interfaces in use by something eksctl does not delete (a Lambda function, an
    /// RDS instance, a VPC endpoint, an instance launched outside any nodegroup), and available
    /// ones (often the VPC CNI's `aws-K8S-…` interfaces left when a node went away). Needs
    /// `describe-network-interfaces.json`, `describe-instances.json` and
    /// `describe-security-groups-vpc.json`.
    ///
    /// ## Why it matters
    ///
    /// CloudFormation cannot delete a subnet or a security group an interface still uses: the
    /// stack ends in `DELETE_FAILED` (eksctl #1849, #1856, #7589, #3726, #3411). eksctl deletes
    /// available interfaces in its groups only before deleting a nodegroup stack that is already
    /// `DELETE_FAILED` (`pkg/vpc/cleanup.go`, called from `NewTasksToDeleteNodeGroups`): never
    /// on the first attempt, never for the cluster stack's groups, never in `eksctl delete
    /// nodegroup`. So available interfaces block the first delete too, and interfaces in use
    /// always do.
    ///
    /// ## How to fix
    ///
    /// Delete an available interface (`aws ec2 delete-network-interface`); for one in use,
    /// delete or move what uses it (its description names it: a Lambda function, an RDS
    /// instance, a VPC endpoint, an instance), then delete again.
    code: "EKD706",
    slug: "network-interface-blocks-delete",
    severity: Error,
    since: "0.1.0",
    summary: "a network interface eksctl does not remove sits in eksctl's subnets or groups and blocks deleting them",
    breaks: [DeleteCluster, DeleteNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, DescribeNetworkInterfaces, DescribeInstances, DescribeVpcSecurityGroups, DescribeAutoScalingGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let snapshot = ctx.snapshot;
    let Some(interfaces) = &snapshot.network_interfaces else {
        return Err(Skip(
            "no network interface data (describe-network-interfaces.json absent)".to_owned(),
        ));
    };
    let Some(instances) = &snapshot.instances else {
        return Err(Skip("no instance data (describe-instances.json absent)".to_owned()));
    };
    if snapshot.vpc_security_groups.is_none() {
        return Err(Skip(
            "no security groups of the VPC (describe-security-groups-vpc.json absent)".to_owned(),
        ));
    }
    let vpc = cluster_vpc(ctx);
    let subnets = eksctl_subnets(ctx);
    let groups = eksctl_groups(ctx);
    // The endpoints and NAT gateways eksctl's cluster stack made go with it.
    let stack_made: Vec<&str> = snapshot
        .stack_resources
        .iter()
        .flatten()
        .filter_map(|r| r.physical_resource_id.as_deref())
        .collect();
    let cluster = ctx.cluster.name.as_str();
    let mut findings = Vec::new();
    for eni in interfaces {
        if eni.vpc_id.is_some() && eni.vpc_id.as_deref() != vpc {
            continue;
        }
        let in_subnet = eni.subnet_id.as_deref().filter(|s| subnets.contains(s));
        let in_groups: Vec<&str> = eni
            .groups
            .iter()
            .map(|g| g.group_id.as_str())
            .filter(|g| groups.contains(g))
            .collect();
        if in_subnet.is_none() && in_groups.is_empty() {
            continue;
        }
        let description = eni.description.as_deref().unwrap_or_default();
        if description.starts_with("Amazon EKS") || description.starts_with("ELB ") {
            continue;
        }
        // Interfaces AWS manages with the cluster's own EKS security group (Fargate pods, EKS
        // itself) go when eksctl deletes the Fargate profiles and the cluster.
        let cluster_sg = ctx.cluster.resources_vpc_config.cluster_security_group_id.as_deref();
        if eni.requester_managed == Some(true)
            && eni.attachment.as_ref().and_then(|a| a.instance_id.as_deref()).is_none()
            && eni.groups.iter().any(|g| Some(g.group_id.as_str()) == cluster_sg)
        {
            continue;
        }
        let kind = eni.interface_type.as_deref().unwrap_or("interface");
        if matches!(kind, "vpc_endpoint" | "nat_gateway")
            && (stack_made.iter().any(|id| description.contains(id))
                || (snapshot.stack_resources.is_none()
                    && ctx.discovery.stack.and_then(crate::snapshot::Stack::cluster_fully_private) == Some(true)))
        {
            continue;
        }
        let status = eni.status.as_deref().unwrap_or("unknown");
        let instance = eni
            .attachment
            .as_ref()
            .and_then(|a| a.instance_id.as_deref());
        if let Some(id) = instance {
            match instances.iter().find(|i| i.instance_id == id) {
                // Terminated, or going: it releases the interface.
                None => continue,
                Some(i) if !i.is_live() => continue,
                Some(i) if cluster_owns_instance(ctx, i) || karpenter_instance(ctx, i) => continue,
                Some(_) => {}
            }
        }
        // What deleting it blocks: the subnet (cluster stack) and each eksctl group.
        let mut blocks: Vec<String> = Vec::new();
        let mut breaks: Vec<Operation> = Vec::new();
        if let Some(s) = in_subnet {
            blocks.push(format!("subnet {s} (the cluster stack's)"));
            breaks.push(Operation::DeleteCluster);
        }
        for g in &in_groups {
            let stack = group_stack(ctx, g);
            let label = stack.map_or_else(|| "the cluster stack".to_owned(), |s| stack_label(ctx, s));
            blocks.push(format!("security group {g} ({label})"));
            for op in stack_breaks(ctx, stack.or(ctx.discovery.stack)) {
                if !breaks.contains(op) {
                    breaks.push(*op);
                }
            }
        }
        breaks.sort();
        let user = match instance {
            Some(i) => format!("in use by instance {i}, which belongs to no nodegroup of {cluster}"),
            None if status == "available" => "available (attached to nothing): eksctl does not delete it on a first delete".to_owned(),
            None => format!("{status}, used by {}", if description.is_empty() { kind } else { description }),
        };
        let mut commands = Vec::new();
        if status == "available" {
            commands.push(
                Cmd::new("aws ec2 delete-network-interface")
                    .opt("--network-interface-id", &eni.network_interface_id)
                    .region(ctx)
                    .done(),
            );
        } else if let Some(i) = instance {
            commands.push(
                Cmd::new("aws ec2 describe-instances")
                    .opt("--instance-ids", i)
                    .region(ctx)
                    .done(),
            );
        } else {
            commands.push(
                Cmd::new("aws ec2 describe-network-interfaces")
                    .opt("--network-interface-ids", &eni.network_interface_id)
                    .region(ctx)
                    .done(),
            );
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EC2::NetworkInterface", &eni.network_interface_id),
                format!(
                    "network interface {} ({user}) will block deleting {}",
                    eni.network_interface_id,
                    blocks.join(", ")
                ),
            )
            .with_breaks(&breaks)
            .with_expected(Evidence::live(SOURCE, json!("no interface in eksctl's subnets or groups that eksctl does not remove")))
            .with_actual(Evidence::live(
                SOURCE,
                json!({"networkInterfaceId": eni.network_interface_id, "status": status, "type": kind, "description": description, "subnet": eni.subnet_id, "groups": in_groups}),
            ))
            .with_impact("CloudFormation cannot delete a subnet or security group an interface still uses: the stack ends in DELETE_FAILED (DependencyViolation)")
            .with_remediation(
                if status == "available" {
                    "delete the interface, then delete again"
                } else {
                    "delete or move what uses the interface (its description names it), then delete again"
                },
                commands,
            ),
        );
    }
    Ok(findings)
}
