use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The pod execution role of every Fargate profile of the cluster
    /// (`describe-fargate-profile/`) still exists (`list-roles.json`). When the role is the one
    /// the cluster stack's `FargatePodExecutionRoleARN` output names, EKD608 reports it and
    /// this rule does not repeat it.
    ///
    /// ## Why it matters
    ///
    /// Fargate assumes the pod execution role to pull the pod's image and send its logs: new
    /// pods matching the profile do not start. A profile cannot be changed: it has to be
    /// deleted and created again with a role that exists.
    ///
    /// ## How to fix
    ///
    /// Create a new profile with an existing role (`eksctl create fargateprofile` with
    /// `iam.fargatePodExecutionRoleARN`), then delete the old one (`eksctl delete
    /// fargateprofile`); or recreate the role with the same name, trusting
    /// `eks-fargate-pods.amazonaws.com`, with `AmazonEKSFargatePodExecutionRolePolicy`.
    code: "EKD609",
    slug: "fargate-profile-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "a Fargate profile's pod execution role no longer exists: its new pods do not start",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster, ListFargateProfiles, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.fargate_profile_names.is_none() {
        return Err(Skip(crate::rules::fargate_not_read()));
    }
    let named: Vec<(&str, &str)> = ctx
        .snapshot
        .fargate_profiles
        .iter()
        .filter_map(|p| {
            p.pod_execution_role_arn
                .as_deref()
                .map(|r| (p.fargate_profile_name.as_str(), r.trim()))
        })
        .filter(|(_, r)| role_key(r).is_some())
        .collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let stack_role = ctx
        .discovery
        .stack
        .and_then(crate::snapshot::Stack::fargate_pod_execution_role_arn)
        .map(str::trim);
    let mut findings = Vec::new();
    for (profile, arn) in named {
        if ctx.role(arn).is_some() || Some(arn) == stack_role {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::FargateProfile", profile),
                format!("Fargate profile {profile} runs pods with role {arn}, which no longer exists"),
            )
            .with_expected(Evidence::live("eks:DescribeFargateProfile", arn.to_owned()))
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact("Fargate cannot assume the role: new pods matching the profile do not start")
            .with_remediation(
                "create a new profile with an existing role, then delete this one (a profile cannot be changed)",
                vec![
                    Cmd::new("eksctl delete fargateprofile")
                        .opt("--cluster", &ctx.cluster.name)
                        .opt("--name", profile)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
