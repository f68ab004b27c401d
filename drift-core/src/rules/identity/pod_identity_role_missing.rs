use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The role of every pod identity association (`describe-pod-identity-association`; the
    /// listing holds no role) still exists. Needs `list-pod-identity-associations.json`, a
    /// `describe-pod-identity-association/` file per association and `list-roles.json`.
    ///
    /// ## Why it matters
    ///
    /// The EKS Pod Identity agent cannot assume a deleted role: the service account's pods get
    /// no credentials and fail with `AccessDenied` or credential errors.
    ///
    /// ## How to fix
    ///
    /// Point the association at a role that exists (`aws eks update-pod-identity-association
    /// --role-arn`), or recreate it with `eksctl create podidentityassociation`.
    code: "EKD607",
    slug: "pod-identity-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "a pod identity association names an IAM role that no longer exists",
    breaks: [],
    inputs: [DescribeCluster, ListPodIdentityAssociations, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(listed) = &ctx.snapshot.pod_identity_associations else {
        return Err(Skip(
            "no pod identity association list (list-pod-identity-associations.json absent)"
                .to_owned(),
        ));
    };
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let details = &ctx.snapshot.pod_identity_details;
    let undescribed: Vec<&str> = listed
        .iter()
        .filter(|a| !details.iter().any(|d| d.association_id == a.association_id))
        .map(|a| a.association_id.as_str())
        .collect();
    if !undescribed.is_empty() {
        return Err(Skip(format!(
            "no describe-pod-identity-association/ file for {}",
            crate::text::inline(&undescribed.join(", "))
        )));
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let mut findings = Vec::new();
    for a in details {
        let Some(role) = a.role_arn.as_deref() else {
            continue;
        };
        if role_key(role).is_none() || ctx.role(role).is_some() {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::PodIdentityAssociation", &a.association_id),
                format!(
                    "pod identity association {} ({}/{}) names role {role}, which no longer exists",
                    a.association_id, a.namespace, a.service_account
                ),
            )
            .with_expected(Evidence::live(src::POD_IDENTITY, role.to_owned()))
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact(
                "the service account's pods get no AWS credentials (AccessDenied or credential errors)",
            )
            .with_remediation(
                "point the association at a role that exists, or recreate it with eksctl",
                vec![
                    Cmd::new("aws eks update-pod-identity-association")
                        .opt("--cluster-name", &ctx.cluster.name)
                        .opt("--association-id", &a.association_id)
                        .word("--role-arn ROLE_ARN")
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
