use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// When the cluster's private endpoint is off, every subnet of `SubnetsPublic` (or the legacy
    /// `Subnets`) assigns public IPs on launch (`MapPublicIpOnLaunch`).
    ///
    /// ## Why it matters
    ///
    /// Nodes in a public subnet without a public IP cannot reach a public-only API endpoint: they
    /// never join, and managed nodegroup creation fails.
    ///
    /// ## How to fix
    ///
    /// `aws ec2 modify-subnet-attribute --subnet-id … --map-public-ip-on-launch`, or enable the
    /// private endpoint.
    code: "EKD210",
    slug: "public-subnet-no-auto-assign-ip",
    severity: Warning,
    since: "0.1.0",
    summary: "a `SubnetsPublic` subnet has `MapPublicIpOnLaunch=false` while the private endpoint is off",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let Some(private_access) = ctx.cluster.resources_vpc_config.endpoint_private_access else {
        return Err(Skip(
            "DescribeCluster returned no resourcesVpcConfig.endpointPrivateAccess".to_owned(),
        ));
    };
    if private_access {
        return Ok(Vec::new());
    }
    // eksctl reads the legacy `Subnets` output as the public list when SubnetsPublic is absent.
    let key = if stack.output(outputs::SUBNETS_PUBLIC).is_some() {
        outputs::SUBNETS_PUBLIC
    } else {
        outputs::SUBNETS_LEGACY
    };
    let Some(list) = ctx.output_lists.iter().find(|o| o.key == key) else {
        return Ok(Vec::new());
    };
    let findings = list
        .ids
        .iter()
        .filter_map(|id| ctx.subnets.get(id))
        .filter(|s| s.map_public_ip_on_launch == Some(false))
        .map(|s| {
            RULE.finding(
                Resource::subnet(&s.subnet_id),
                format!(
                    "public subnet {} ({key}) does not assign public IPs, and the cluster endpoint is public only",
                    s.subnet_id
                ),
            )
            .with_expected(Evidence::output(stack, key))
            .with_actual(Evidence::live(
                src::SUBNETS,
                serde_json::json!({"SubnetId": s.subnet_id, "MapPublicIpOnLaunch": false}),
            ))
            .with_impact(
                "nodes launched in the subnet get no public IP and cannot reach the public-only API endpoint: they never join, and managed nodegroup creation fails",
            )
            .with_remediation(
                "turn on public IP assignment for the subnet, or enable the private endpoint",
                vec![
                    Cmd::new("aws ec2 modify-subnet-attribute")
                        .opt("--subnet-id", &s.subnet_id)
                        .word("--map-public-ip-on-launch")
                        .region(ctx)
                        .done(),
                    Cmd::new("eksctl utils update-cluster-vpc-config")
                        .opt("--cluster", &ctx.cluster.name)
                        .word("--private-access=true --approve")
                        .region(ctx)
                        .done(),
                ],
            )
        })
        .collect();
    Ok(findings)
}
