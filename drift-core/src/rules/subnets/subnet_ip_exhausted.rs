use crate::rules::context::CONTROL_PLANE;
use crate::rules::{Checked, Context};
use crate::report::{Operation, src};
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Subnets named by the stack outputs or the cluster have free IP addresses: at least one, and
    /// at least 5 for control-plane subnets.
    ///
    /// ## Why it matters
    ///
    /// Nodes and pods get no address in a full subnet, so nodegroup creation and scaling fail; EKS
    /// needs free addresses in control-plane subnets for the network interfaces it adds during updates
    /// (health issue `InsufficientFreeAddresses`).
    ///
    /// ## How to fix
    ///
    /// Free addresses, or move nodegroups and the control plane to subnets with room.
    code: "EKD209",
    slug: "subnet-ip-exhausted",
    severity: Warning,
    since: "0.1.0",
    summary: "a referenced subnet has no free IPs (control-plane subnets: fewer than 5)",
    breaks: [CreateNodegroup, UpgradeCluster],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

/// Control-plane subnets need room for the network interfaces EKS adds during updates.
const CONTROL_PLANE_MIN_FREE: i64 = 5;

fn check(ctx: &Context<'_>) -> Checked {
    let findings = ctx
        .referenced
        .iter()
        .filter_map(|(id, by)| {
            let s = ctx.subnets.get(id)?;
            let free = s.available_ip_address_count?;
            let control_plane = by.contains(&CONTROL_PLANE);
            let min = if control_plane { CONTROL_PLANE_MIN_FREE } else { 1 };
            (free < min).then_some((s, by, free, control_plane))
        })
        .map(|(s, by, free, control_plane)| {
            RULE.finding(
                Resource::subnet(&s.subnet_id),
                format!(
                    "subnet {} (named by {}) has {free} free IP address{}",
                    s.subnet_id,
                    by.join(", "),
                    if free == 1 { "" } else { "es" }
                ),
            )
            .with_expected(Evidence::live(
                src::SUBNETS,
                if control_plane { CONTROL_PLANE_MIN_FREE } else { 1 },
            ))
            .with_actual(Evidence::live(src::SUBNETS, free))
            .with_breaks(if control_plane {
                &[Operation::UpgradeCluster, Operation::UpdateClusterVpcConfig]
            } else {
                &[Operation::CreateNodegroup]
            })
            .with_impact(if control_plane {
                "EKS needs free addresses in control-plane subnets for its network interfaces: cluster upgrades and VPC config updates fail (health issue InsufficientFreeAddresses)"
            } else {
                "new nodes and pods placed in the subnet get no IP address: nodegroup creation and scaling fail"
            })
            .with_remediation(
                "free addresses in the subnet or move nodegroups and the control plane to subnets with room",
                Vec::new(),
            )
        })
        .collect();
    Ok(findings)
}
