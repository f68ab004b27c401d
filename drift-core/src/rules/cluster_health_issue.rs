#![doc = include_str!("docs/cluster-health-issue.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD403",
    slug: "cluster-health-issue",
    summary: "live `health.issues` is not empty",
    severity: Severity::Error,
    doc: include_str!("docs/cluster-health-issue.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let issues = ctx.cluster.health.iter().flat_map(|h| &h.issues);
    let findings = issues
        .map(|issue| {
            let resource = match issue.resource_ids.first() {
                Some(id) if id.starts_with("subnet-") => Resource::subnet(id),
                Some(id) if id.starts_with("sg-") => Resource::security_group(id),
                _ => Resource::cluster(ctx.cluster),
            };
            let on = if issue.resource_ids.is_empty() {
                String::new()
            } else {
                format!(" on {}", issue.resource_ids.join(", "))
            };
            RULE.finding(
                resource,
                format!("EKS reports health issue {}{on}: {}", issue.code, issue.message),
            )
            .with_expected(Evidence::live(src::CLUSTER, serde_json::Value::Array(Vec::new())))
            .with_actual(Evidence::live(
                src::CLUSTER,
                serde_json::json!({"code": issue.code, "message": issue.message, "resourceIds": issue.resource_ids}),
            ))
            .with_impact(
                "EKS itself reports the cluster unhealthy; updates and upgrades fail until the named resources are fixed",
            )
            .with_remediation(
                match issue.code.as_str() {
                    "Ec2SubnetNotFound" => "point the control plane at existing subnets (eksctl utils update-cluster-vpc-config --control-plane-subnet-ids)",
                    "Ec2SecurityGroupNotFound" => "replace the missing security group (eksctl utils update-cluster-vpc-config --control-plane-security-group-ids)",
                    "InsufficientFreeAddresses" => "free IP addresses in the control-plane subnets or add subnets with room",
                    _ => "follow the EKS documentation for this health issue code",
                },
                Vec::new(),
            )
        })
        .collect();
    Outcome::Checked(findings)
}
