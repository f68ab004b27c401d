use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::{Cmd, Script};
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every access entry whose principal is an IAM role names a role that exists and was not
    /// recreated since the entry was made (the role's `CreateDate` after the entry's
    /// `createdAt`: a role recreated with the same name gets a new ID, and EKS's entry still
    /// points at the old one). Needs `list-access-entries.json`, a `describe-access-entry/` file
    /// per role entry and `list-roles.json`. Entries for IAM users are not checked (eksdrift does
    /// not read users). A `STANDARD` entry may name a role of another account (EKS allows it;
    /// eksctl's `accessConfig.accessEntries` makes them): this account's IAM cannot see that
    /// role, so such an entry is never reported; when nothing else is found the rule says it
    /// could not check them. A cluster that authenticates by the aws-auth ConfigMap only
    /// (`CONFIG_MAP`, also assumed when `accessConfig` is absent) has no access entries.
    ///
    /// ## Why it matters
    ///
    /// The principal cannot authenticate to the cluster: people and pipelines get
    /// `Unauthorized`, nodes using the role go `NotReady`. The entry looks fine in the console.
    ///
    /// ## How to fix
    ///
    /// Delete the access entry and create it again for the role that exists now (re-associating
    /// its access policies).
    code: "EKD606",
    slug: "access-entry-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "an access entry names an IAM role that no longer exists, or was recreated since",
    breaks: [],
    inputs: [DescribeCluster, ListAccessEntries, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(entries) = &ctx.snapshot.access_entries else {
        // Without API authentication a cluster has no access entries (EKS refuses the call).
        if ctx.cluster.authentication_mode().is_none_or(|m| m == "CONFIG_MAP") {
            return Ok(Vec::new());
        }
        return Err(Skip(
            "no access entry list (list-access-entries.json absent)".to_owned(),
        ));
    };
    // A STANDARD entry may name a role of another account: this account's IAM cannot say
    // whether it exists, so it is never called deleted.
    let account = ctx
        .cluster
        .arn
        .as_deref()
        .and_then(|a| a.split(':').nth(4))
        .filter(|a| !a.is_empty());
    let (role_entries, elsewhere): (Vec<&String>, Vec<&String>) = entries
        .iter()
        .filter(|e| role_key(e).is_some())
        .partition(|e| account.is_none_or(|a| role_key(e).is_some_and(|(acc, _)| acc == a)));
    let not_here = || {
        Skip(format!(
            "{} access entr{} name{} a role of another account ({}), which this account's IAM cannot see",
            elsewhere.len(),
            if elsewhere.len() == 1 { "y" } else { "ies" },
            if elsewhere.len() == 1 { "s" } else { "" },
            crate::text::inline(
                &elsewhere
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        ))
    };
    if role_entries.is_empty() {
        return if elsewhere.is_empty() {
            Ok(Vec::new())
        } else {
            Err(not_here())
        };
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let details: std::collections::HashMap<&str, &crate::snapshot::AccessEntry> = ctx
        .snapshot
        .access_entry_details
        .iter()
        .map(|d| (d.principal_arn.as_str(), d))
        .collect();
    let undescribed: Vec<&str> = role_entries
        .iter()
        .filter(|e| !details.contains_key(e.as_str()))
        .map(|e| e.as_str())
        .collect();
    if !undescribed.is_empty() {
        return Err(Skip(format!(
            "no describe-access-entry/ file for {}",
            crate::text::inline(&undescribed.join(", "))
        )));
    }
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for arn in role_entries {
        let entry = details.get(arn.as_str()).copied();
        let role = ctx.role(arn);
        let why = match (role, entry) {
            (None, _) => "no longer exists".to_owned(),
            (Some(r), Some(e)) => match (r.create_date.as_deref(), e.created_at.as_deref()) {
                (Some(role_made), Some(entry_made)) if later(role_made, entry_made) => format!(
                    "was recreated ({role_made}) after the access entry was made ({entry_made}): the entry still points at the old role"
                ),
                _ => continue,
            },
            (Some(_), None) => continue,
        };
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::AccessEntry", arn),
                format!("access entry for {arn}: the role {why}"),
            )
            .with_expected(Evidence::live(src::ACCESS_ENTRIES, arn.clone()))
            .with_actual(Evidence::live(
                src::ROLES,
                role.map_or(serde_json::Value::Null, |r| {
                    serde_json::json!({"Arn": r.arn, "RoleId": r.role_id, "CreateDate": r.create_date})
                }),
            ))
            .with_impact(
                "the principal cannot authenticate to the cluster (Unauthorized; nodes using the role go NotReady)",
            )
            .with_remediation(
                "delete the access entry and create it again for the role that exists now, with its access policies",
                vec![
                    Script::new()
                        .comment("note the entry's access policies first:")
                        .cmd(
                            Cmd::new("aws eks list-associated-access-policies")
                                .opt("--cluster-name", cluster)
                                .opt("--principal-arn", arn)
                                .region(ctx),
                        )
                        .cmd(
                            Cmd::new("aws eks delete-access-entry")
                                .opt("--cluster-name", cluster)
                                .opt("--principal-arn", arn)
                                .region(ctx),
                        )
                        .cmd(
                            Cmd::new("aws eks create-access-entry")
                                .opt("--cluster-name", cluster)
                                .opt("--principal-arn", arn)
                                .region(ctx),
                        )
                        .done(),
                ],
            ),
        );
    }
    // Entries of other accounts were not checked: with nothing found, say so rather than
    // look clean.
    if findings.is_empty() && !elsewhere.is_empty() {
        return Err(not_here());
    }
    Ok(findings)
}

/// True when timestamp `a` is after `b` (RFC 3339, any offset; unparsable ones compare false).
fn later(a: &str, b: &str) -> bool {
    use time::format_description::well_known::Rfc3339;
    match (
        time::OffsetDateTime::parse(a, &Rfc3339),
        time::OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}
