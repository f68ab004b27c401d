use crate::report::{Evidence, Resource, Severity, src};
use crate::rules::remedy::{Cmd, Script};
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every nodegroup's instance role (a managed nodegroup's `nodeRole`; an unmanaged eksctl
    /// nodegroup stack's `InstanceRoleARN` output) has an access entry when the cluster's
    /// `accessConfig.authenticationMode` is `API`. With `API_AND_CONFIG_MAP` a role without an
    /// entry is reported as info: it needs a mapping in the aws-auth ConfigMap, which eksdrift
    /// does not read. With `CONFIG_MAP` (also assumed when `accessConfig` is absent) the rule is
    /// not checked when there are node roles. Needs `list-access-entries.json`.
    ///
    /// A node role whose entry is of another type (`STANDARD`) is reported too: when a
    /// `STANDARD` entry already exists for the role, eksctl's `CreateAccessEntry` of type
    /// `EC2_LINUX` gets `ResourceInUse`, eksctl logs "already exists" and carries on
    /// (`pkg/cfn/manager/nodegroup.go`), and a `STANDARD` entry cannot carry the node groups
    /// (needs `describe-access-entry/`).
    ///
    /// ## Why it matters
    ///
    /// Deleting one nodegroup removes the access entry (or aws-auth mapping) of its role; every
    /// other nodegroup sharing that role then cannot authenticate and its nodes go `NotReady`
    /// (eksctl #5690, aws/containers-roadmap #755). New nodes of an upgrade never join.
    ///
    /// ## How to fix
    ///
    /// Create the access entry for the role with type `EC2_LINUX` (or `EC2_WINDOWS`).
    code: "EKD605",
    slug: "node-role-without-access",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup's instance role has no access entry while the cluster authenticates by API: its nodes cannot join",
    breaks: [UpgradeNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, ListAccessEntries],
}

fn check(ctx: &Context<'_>) -> Checked {
    // (nodegroup, role ARN, where it is named)
    let mut roles: Vec<(String, String, Evidence)> = Vec::new();
    for ng in &ctx.snapshot.nodegroups {
        if let Some(role) = &ng.node_role {
            roles.push((
                ng.nodegroup_name.clone(),
                role.clone(),
                Evidence::live(src::NODEGROUP, role.clone()),
            ));
        }
    }
    for (stack, nodegroup) in ctx.nodegroup_stacks() {
        if stack.nodegroup_managed() || !stack.status_usable() {
            continue;
        }
        if let Some(role) = stack.output("InstanceRoleARN") {
            roles.push((
                nodegroup.to_owned(),
                role.trim().to_owned(),
                Evidence::output(stack, "InstanceRoleARN"),
            ));
        }
    }
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    // A cluster that does not say (an API answer from before access entries) uses aws-auth.
    let mode = ctx.cluster.authentication_mode().unwrap_or("CONFIG_MAP");
    if mode == "CONFIG_MAP" {
        return Err(Skip(
            "authenticationMode is CONFIG_MAP: node access is in the aws-auth ConfigMap, which eksdrift does not read".to_owned(),
        ));
    }
    let Some(entries) = &ctx.snapshot.access_entries else {
        return Err(Skip(
            "no access entry list (list-access-entries.json absent)".to_owned(),
        ));
    };
    let keys: std::collections::HashSet<(&str, &str)> =
        entries.iter().filter_map(|e| role_key(e)).collect();
    let has_entry = |arn: &str| role_key(arn).is_some_and(|k| keys.contains(&k));
    let details: std::collections::HashMap<(&str, &str), &crate::snapshot::AccessEntry> = ctx
        .snapshot
        .access_entry_details
        .iter()
        .filter_map(|d| role_key(&d.principal_arn).map(|k| (k, d)))
        .collect();
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for (nodegroup, role, evidence) in roles {
        if role_key(&role).is_none() {
            continue;
        }
        if has_entry(&role) {
            findings.extend(wrong_type(ctx, &details, mode, &nodegroup, &role));
            continue;
        }
        let strict = mode == "API";
        findings.push(
            RULE.finding(
                Resource::new("AWS::IAM::Role", &role),
                if strict {
                    format!("node role {role} of nodegroup {nodegroup} has no access entry, and the cluster authenticates by API only")
                } else {
                    format!("node role {role} of nodegroup {nodegroup} has no access entry; with API_AND_CONFIG_MAP it needs an aws-auth mapping, which eksdrift cannot see")
                },
            )
            .with_severity(if strict { Severity::Error } else { Severity::Info })
            .with_breaks(if strict { RULE.breaks } else { &[] })
            .with_expected(evidence)
            .with_actual(Evidence::live(src::ACCESS_ENTRIES, entries.clone()))
            .with_impact(if strict {
                "the nodegroup's nodes cannot authenticate: they go NotReady, and new nodes never join"
            } else {
                "if the aws-auth ConfigMap does not map the role either, the nodes cannot join"
            })
            .with_remediation(
                "create the access entry for the node role (EC2_WINDOWS for Windows nodes)",
                vec![
                    Cmd::new("aws eks create-access-entry")
                        .opt("--cluster-name", cluster)
                        .opt("--principal-arn", &role)
                        .word("--type EC2_LINUX")
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}

/// A finding when the node role's entry is not a node entry (`EC2_LINUX`/`EC2_WINDOWS`):
/// eksctl's `CreateAccessEntry(EC2_LINUX)` then got `ResourceInUse`, logged "already exists"
/// and carried on (`pkg/cfn/manager/nodegroup.go`), and a `STANDARD` entry cannot carry the
/// node groups, so the nodes never join.
fn wrong_type(
    ctx: &Context<'_>,
    details: &std::collections::HashMap<(&str, &str), &crate::snapshot::AccessEntry>,
    mode: &str,
    nodegroup: &str,
    role: &str,
) -> Option<crate::report::Finding> {
    let entry = *details.get(&role_key(role)?)?;
    let kind = entry.kind.as_deref()?;
    if matches!(kind, "EC2_LINUX" | "EC2_WINDOWS" | "HYBRID_LINUX") {
        return None;
    }
    let strict = mode == "API";
    let cluster = &ctx.cluster.name;
    Some(
        RULE.finding(
            Resource::new("AWS::IAM::Role", role),
            format!(
                "node role {role} of nodegroup {nodegroup} has an access entry of type {kind}, not EC2_LINUX or EC2_WINDOWS: eksctl's node entry was refused as already existing"
            ),
        )
        .with_severity(if strict { Severity::Error } else { Severity::Warning })
        .with_breaks(RULE.breaks)
        .with_expected(Evidence::live(src::ACCESS_ENTRIES, "EC2_LINUX | EC2_WINDOWS"))
        .with_actual(Evidence::live(
            "eks:DescribeAccessEntry",
            serde_json::json!({"principalArn": entry.principal_arn, "type": kind}),
        ))
        .with_impact(
            "a STANDARD entry cannot carry the node groups: the nodes cannot join (NotReady), and eksctl reported the node entry as already there",
        )
        .with_remediation(
            "replace the entry by a node entry (note its access policies first: a node role should not need any)",
            vec![
                Script::new()
                    .cmd(
                        Cmd::new("aws eks delete-access-entry")
                            .opt("--cluster-name", cluster)
                            .opt("--principal-arn", role)
                            .region(ctx),
                    )
                    .cmd(
                        Cmd::new("aws eks create-access-entry")
                            .opt("--cluster-name", cluster)
                            .opt("--principal-arn", role)
                            .word("--type EC2_LINUX")
                            .region(ctx),
                    )
                    .done(),
            ],
        ),
    )
}
