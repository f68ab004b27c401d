use crate::rules::{Checked, Context};
use crate::report::src;
use crate::report::{Evidence, Resource};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The live cluster's `health.issues` is empty. Each issue (`Ec2SubnetNotFound`,
    /// `Ec2SecurityGroupNotFound`, `InsufficientFreeAddresses`, …) is one finding.
    ///
    /// ## Why it matters
    ///
    /// EKS itself reports the cluster unhealthy: upgrades and configuration updates fail until the
    /// named resources are fixed.
    ///
    /// ## How to fix
    ///
    /// Follow the issue code: point the control plane at existing subnets or security groups, or
    /// free IP addresses.
    code: "EKD403",
    slug: "cluster-health-issue",
    severity: Error,
    since: "0.1.0",
    summary: "live `health.issues` is not empty",
    breaks: [UpgradeCluster, UpdateClusterVpcConfig],
    inputs: [DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
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
    Ok(findings)
}
