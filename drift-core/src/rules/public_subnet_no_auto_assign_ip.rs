#![doc = include_str!("docs/public-subnet-no-auto-assign-ip.md")]

use super::remedy::Cmd;
use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD210",
    slug: "public-subnet-no-auto-assign-ip",
    summary: "a `SubnetsPublic` subnet has `MapPublicIpOnLaunch=false` while the private endpoint is off",
    severity: Severity::Warning,
    doc: include_str!("docs/public-subnet-no-auto-assign-ip.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let Some(private_access) = ctx.cluster.resources_vpc_config.endpoint_private_access else {
        return Outcome::NotChecked(
            "DescribeCluster returned no resourcesVpcConfig.endpointPrivateAccess".to_owned(),
        );
    };
    if private_access {
        return Outcome::Checked(Vec::new());
    }
    // eksctl reads the legacy `Subnets` output as the public list when SubnetsPublic is absent.
    let key = if stack.output(outputs::SUBNETS_PUBLIC).is_some() {
        outputs::SUBNETS_PUBLIC
    } else {
        outputs::SUBNETS_LEGACY
    };
    let Some(list) = ctx.output_lists.iter().find(|o| o.key == key) else {
        return Outcome::Checked(Vec::new());
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
    Outcome::Checked(findings)
}
