#![doc = include_str!("docs/fully-private-flag-stale.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD401",
    slug: "fully-private-flag-stale",
    summary: "output `ClusterFullyPrivate` disagrees with live endpoint access",
    severity: Severity::Warning,
    doc: include_str!("docs/fully-private-flag-stale.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let vpc = &ctx.cluster.resources_vpc_config;
    let (Some(public), Some(private)) = (vpc.endpoint_public_access, vpc.endpoint_private_access)
    else {
        return Outcome::NotChecked("DescribeCluster returned no endpoint access flags".to_owned());
    };
    // eksctl writes the output only for fully-private clusters; its absence says nothing.
    if stack.cluster_fully_private() != Some(true) || (!public && private) {
        return Outcome::Checked(Vec::new());
    }
    Outcome::Checked(vec![
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
            vec![super::remedy::Cmd::new("eksctl utils update-cluster-vpc-config")
                .opt("--cluster", &ctx.cluster.name)
                .word("--private-access=true --public-access=false --approve")
                .region(ctx)
                .done()],
        ),
    ])
}
