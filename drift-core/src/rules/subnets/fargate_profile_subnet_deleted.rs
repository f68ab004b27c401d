use serde_json::json;

use crate::report::{Evidence, Resource, Severity, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every subnet a Fargate profile names (`describe-fargate-profile/`) still exists
    /// (`describe-subnets.json`, which holds every subnet the profiles name).
    ///
    /// ## Why it matters
    ///
    /// Fargate starts each pod the profile selects in one of the profile's subnets. A deleted
    /// subnet is never usable again and a profile cannot be changed (EKS has no
    /// `UpdateFargateProfile`): pods placed there fail to start, and when every subnet of the
    /// profile is gone none of its pods start. Error when all are gone, warning otherwise.
    ///
    /// ## How to fix
    ///
    /// Create a new profile with the same selectors on live private subnets
    /// (`eksctl create fargateprofile`), then delete the old one (`eksctl delete
    /// fargateprofile`).
    code: "EKD211",
    slug: "fargate-profile-subnet-deleted",
    severity: Warning,
    since: "0.1.0",
    summary: "a Fargate profile names a subnet that no longer exists: its pods fail to start there",
    breaks: [],
    inputs: [DescribeCluster, DescribeSubnets, ListFargateProfiles],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.fargate_profile_names.is_none() {
        return Err(Skip(crate::rules::fargate_not_read()));
    }
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for profile in &ctx.snapshot.fargate_profiles {
        let ids: Vec<&str> = profile
            .subnets
            .iter()
            .map(|s| s.trim())
            .filter(|s| is_resource_id(s, "subnet"))
            .collect();
        let gone: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !ctx.subnets.contains_key(id))
            .collect();
        if gone.is_empty() {
            continue;
        }
        let all = gone.len() == ids.len();
        let name = &profile.fargate_profile_name;
        for id in &gone {
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!(
                        "Fargate profile {name} names subnet {id}, which no longer exists ({} of its {} subnets left)",
                        ids.len() - gone.len(),
                        ids.len()
                    ),
                )
                .with_severity(if all { Severity::Error } else { Severity::Warning })
                .with_expected(Evidence::live(
                    "eks:DescribeFargateProfile",
                    json!(profile.subnets),
                ))
                .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
                .with_impact(if all {
                    "no pod this profile selects can start"
                } else {
                    "pods this profile places in the deleted subnet fail to start"
                })
                .with_remediation(
                    "create a new profile with the same selectors on live private subnets, then delete this one (profiles cannot be changed)",
                    vec![
                        Cmd::new("aws eks describe-fargate-profile")
                            .opt("--cluster-name", cluster)
                            .opt("--fargate-profile-name", name)
                            .region(ctx)
                            .done(),
                        Cmd::new("eksctl delete fargateprofile")
                            .opt("--cluster", cluster)
                            .opt("--name", name)
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
        }
    }
    Ok(findings)
}
