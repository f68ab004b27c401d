use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-fargateprofile`, each of the file's
    /// `fargateProfiles` (`pkg/eks/fargate.go` `DoCreateFargateProfiles`):
    ///
    /// - a profile of that name exists already: eksctl skips it. Info when it is `ACTIVE`;
    ///   error when it is `CREATE_FAILED` or `DELETE_FAILED`, since eksctl then creates nothing
    ///   and the profile does not work;
    /// - an explicit `podExecutionRoleARN` names a role that exists (without one, eksctl uses
    ///   the cluster stack's `FargatePodExecutionRoleARN`, which EKD608 checks);
    /// - explicit `subnets:` exist (EKS refuses a profile naming a subnet that does not).
    ///
    /// ## Why it matters
    ///
    /// `CreateFargateProfile` is refused for a role or subnet that does not exist, and a profile
    /// eksctl skips is a change that did not happen.
    ///
    /// ## How to fix
    ///
    /// Delete the failed profile (`eksctl delete fargateprofile`), point the file at a role and
    /// subnets that exist.
    code: "EKD909",
    slug: "plan-fargateprofile-blocked",
    severity: Error,
    since: "0.1.0",
    summary: "a Fargate profile of the ClusterConfig names a role or subnet that is gone, or is taken by a failed profile",
    breaks: [CreateFargateprofile],
    inputs: [DescribeCluster, DescribeSubnets, ListFargateProfiles, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateFargateprofile]) else {
        return Ok(Vec::new());
    };
    if plan.config.fargate_profiles.is_empty() {
        return Ok(Vec::new());
    }
    let Some(existing) = &ctx.snapshot.fargate_profile_names else {
        return Err(Skip(crate::rules::fargate_not_read()));
    };
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    let mut unknown = Vec::new();
    for profile in &plan.config.fargate_profiles {
        let name = crate::text::inline(&profile.name).into_owned();
        let resource = Resource::new("AWS::EKS::FargateProfile", &name);
        if existing.contains(&profile.name) {
            let status = ctx
                .snapshot
                .fargate_profiles
                .iter()
                .find(|p| p.fargate_profile_name == profile.name)
                .and_then(|p| p.status.as_deref())
                .unwrap_or("ACTIVE");
            let failed = status.ends_with("_FAILED");
            findings.push(
                RULE.finding(
                    resource,
                    format!(
                        "Fargate profile {name} of {file} exists already ({}): eksctl skips it",
                        crate::text::inline(status)
                    ),
                )
                .with_severity(if failed { Severity::Error } else { Severity::Info })
                .with_breaks(if failed { &[Operation::CreateFargateprofile] } else { &[] })
                .with_expected(Evidence::live("ClusterConfig", json!(name)))
                .with_actual(Evidence::live("eks:DescribeFargateProfile", json!(status)))
                .with_impact(if failed {
                    "eksctl creates nothing for it, and the failed profile places no pod"
                } else {
                    "nothing is changed for this profile (a profile cannot be updated)"
                })
                .with_remediation(
                    if failed {
                        "delete the failed profile, then create it again"
                    } else {
                        "to change it, create a profile under a new name and delete this one"
                    },
                    Vec::new(),
                ),
            );
            continue;
        }
        if let Some(role) = profile
            .pod_execution_role_arn
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            if ctx.snapshot.roles.is_none() {
                return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
            }
            if ctx.role(role).is_none() {
                findings.push(
                    RULE.finding(
                        Resource::new("AWS::IAM::Role", role),
                        format!(
                            "Fargate profile {name} of {file} names pod execution role {}, which does not exist",
                            crate::text::inline(role)
                        ),
                    )
                    .with_expected(Evidence::live("ClusterConfig", json!(role)))
                    .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
                    .with_impact("EKS refuses CreateFargateProfile for a role that does not exist")
                    .with_remediation("point podExecutionRoleARN at a role that exists", Vec::new()),
                );
            }
        }
        for id in profile
            .subnets
            .iter()
            .map(|s| s.trim())
            .filter(|s| is_resource_id(s, "subnet"))
        {
            if ctx.subnets.contains_key(id) {
                continue;
            }
            if ctx.snapshot.source != "live" {
                unknown.push(id.to_owned());
                continue;
            }
            findings.push(
                RULE.finding(
                    Resource::subnet(id),
                    format!("Fargate profile {name} of {file} names subnet {id}, which does not exist"),
                )
                .with_expected(Evidence::live("ClusterConfig", json!(profile.subnets)))
                .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
                .with_impact("EKS refuses CreateFargateProfile naming a subnet that does not exist")
                .with_remediation("name live private subnets of the cluster's VPC", Vec::new()),
            );
        }
    }
    if !unknown.is_empty() {
        return Err(Skip(format!(
            "the file names subnets the bundle's describe-subnets.json does not hold ({}): capture with -f FILE, or audit live",
            unknown.join(", ")
        )));
    }
    Ok(findings)
}
