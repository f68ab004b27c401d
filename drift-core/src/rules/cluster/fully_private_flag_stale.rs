use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// When the stack's `ClusterFullyPrivate` output is `true`, the live endpoint is private only
    /// (public access off, private access on). The output's absence says nothing: eksctl writes it only
    /// for fully-private clusters.
    ///
    /// ## Why it matters
    ///
    /// eksctl treats a fully-private cluster differently (nodegroups forced into private subnets,
    /// reliance on VPC endpoints). If the endpoint was opened outside eksctl, those decisions rest on a
    /// stale flag.
    ///
    /// ## How to fix
    ///
    /// Restore private-only access, or correct the output with a reviewed change set.
    code: "EKD401",
    slug: "fully-private-flag-stale",
    severity: Warning,
    since: "0.1.0",
    summary: "output `ClusterFullyPrivate` disagrees with live endpoint access",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let vpc = &ctx.cluster.resources_vpc_config;
    let (Some(public), Some(private)) = (vpc.endpoint_public_access, vpc.endpoint_private_access)
    else {
        return Err(Skip("DescribeCluster returned no endpoint access flags".to_owned()));
    };
    // eksctl writes the output only for fully-private clusters; its absence says nothing.
    if stack.cluster_fully_private() != Some(true) || (!public && private) {
        return Ok(Vec::new());
    }
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "stack output ClusterFullyPrivate is true, but the endpoint has public access {} and private access {}",
                if public { "on" } else { "off" },
                if private { "on" } else { "off" }
            ),
        )
        .with_expected(Evidence::output(stack, outputs::CLUSTER_FULLY_PRIVATE))
        .with_actual(Evidence::live(
            src::CLUSTER,
            serde_json::json!({"endpointPublicAccess": public, "endpointPrivateAccess": private}),
        ))
        .with_impact(
            "eksctl treats the cluster as fully private: new nodegroups are forced into private subnets and rely on VPC endpoints, which may no longer match how the endpoint is reached",
        )
        .with_remediation(
            "restore private-only endpoint access, or correct the ClusterFullyPrivate output with a reviewed change set",
            vec![crate::rules::remedy::Cmd::new("eksctl utils update-cluster-vpc-config")
                .opt("--cluster", &ctx.cluster.name)
                .word("--private-access=true --public-access=false --approve")
                .region(ctx)
                .done()],
        ),
    ])
}
