use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-addon` (or `update-addon`), each of the file's
    /// `addons`:
    ///
    /// - a pinned `version` (not `latest` or empty) is one EKS lists for the cluster's
    ///   Kubernetes version (`eks:DescribeAddonVersions --kubernetes-version <cluster's>
    ///   --addon-name <addon>`, read for the file's addons only with such a plan);
    /// - `serviceAccountRoleARN` names a role that exists;
    /// - for `update-addon`, the addon exists (eksctl updates only installed addons); for
    ///   `create-addon`, an addon already installed is skipped by eksctl (info), except in
    ///   `CREATE_FAILED` (EKD802 reports that one).
    ///
    /// ## Why it matters
    ///
    /// EKS refuses `CreateAddon`/`UpdateAddon` with a version it does not offer for the cluster
    /// ("Addon version specified is not supported"), and an addon whose role is gone is created
    /// but cannot run.
    ///
    /// ## How to fix
    ///
    /// Pin a version EKS lists for the cluster (`aws eks describe-addon-versions`), or `latest`;
    /// point `serviceAccountRoleARN` at a role that exists.
    code: "EKD908",
    slug: "plan-addon-blocked",
    severity: Error,
    since: "0.1.0",
    summary: "an addon of the ClusterConfig pins a version EKS does not offer for the cluster, names a role that is gone, or is not installed for an update",
    breaks: [CreateAddon, UpdateAddon],
    inputs: [DescribeCluster, ListAddons, DescribeAddonVersions, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateAddon, Operation::UpdateAddon])
    else {
        return Ok(Vec::new());
    };
    let op = plan.operation;
    let cluster = &ctx.cluster.name;
    let file = crate::text::inline(&plan.source).into_owned();
    let Some(version) = ctx.cluster.version.as_deref() else {
        return Err(Skip("DescribeCluster returned no version".to_owned()));
    };
    let Some(installed) = &ctx.snapshot.addon_names else {
        return Err(Skip("no addon list (list-addons.json absent)".to_owned()));
    };
    let mut findings = Vec::new();
    for addon in &plan.config.addons {
        let name = crate::text::inline(&addon.name).into_owned();
        let resource = Resource::new("AWS::EKS::Addon", &name);
        let present = installed.contains(&addon.name);
        if op == Operation::UpdateAddon && !present {
            findings.push(
                RULE.finding(
                    resource.clone(),
                    format!("{file} updates addon {name}, which is not installed on the cluster"),
                )
                .with_breaks(&[Operation::UpdateAddon])
                .with_expected(Evidence::live("ClusterConfig", json!(name)))
                .with_actual(Evidence::live("eks:ListAddons", json!(installed)))
                .with_impact("eksctl update addon fails: EKS has no such addon on the cluster")
                .with_remediation(
                    "create the addon first",
                    vec![Cmd::new("eksctl create addon")
                        .opt("--cluster", cluster)
                        .opt("--name", &addon.name)
                        .region(ctx)
                        .done()],
                ),
            );
            continue;
        }
        if op == Operation::CreateAddon && present {
            let failed = ctx
                .snapshot
                .addons
                .iter()
                .any(|a| a.addon_name == addon.name && a.status.as_deref() == Some("CREATE_FAILED"));
            if !failed {
                findings.push(
                    RULE.finding(
                        resource.clone(),
                        format!("{file} creates addon {name}, which is installed already: eksctl skips it"),
                    )
                    .with_severity(Severity::Info)
                    .with_breaks(&[])
                    .with_expected(Evidence::live("ClusterConfig", json!(name)))
                    .with_actual(Evidence::live("eks:ListAddons", json!(installed)))
                    .with_impact("nothing is changed for this addon; eksctl update addon changes an installed one")
                    .with_remediation("use eksctl update addon to change it", Vec::new()),
                );
                continue;
            }
        }
        if let Some(pinned) = addon.pinned_version() {
            let Some(offered) = ctx
                .snapshot
                .addon_versions
                .as_ref()
                .and_then(|m| m.get(version))
            else {
                return Err(Skip(format!(
                    "the addon versions EKS offers for {} are unknown (describe-addon-versions/{}.json absent)",
                    crate::text::inline(version),
                    crate::text::inline(version)
                )));
            };
            let listed: Vec<&str> = offered
                .iter()
                .filter(|i| i.addon_name == addon.name)
                .flat_map(|i| &i.addon_versions)
                .map(|v| v.addon_version.as_str())
                .collect();
            if !listed.contains(&pinned) {
                findings.push(
                    RULE.finding(
                        resource.clone(),
                        format!(
                            "{file} pins addon {name} to {}, which EKS does not offer for Kubernetes {version}",
                            crate::text::inline(pinned)
                        ),
                    )
                    .with_breaks(&[op])
                    .with_expected(Evidence::live("eks:DescribeAddonVersions", json!(listed)))
                    .with_actual(Evidence::live("ClusterConfig", json!(pinned)))
                    .with_impact("EKS refuses the call: the addon version is not supported for the cluster's version")
                    .with_remediation(
                        "pin a version EKS lists for the cluster, or latest",
                        vec![Cmd::new("aws eks describe-addon-versions")
                            .opt("--addon-name", &addon.name)
                            .opt("--kubernetes-version", version)
                            .region(ctx)
                            .done()],
                    ),
                );
            }
        }
        if let Some(role) = addon.service_account_role_arn.as_deref().map(str::trim) {
            let Some(_) = &ctx.snapshot.roles else {
                return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
            };
            if ctx.role(role).is_none() {
                findings.push(
                    RULE.finding(
                        Resource::new("AWS::IAM::Role", role),
                        format!(
                            "{file} gives addon {name} the role {}, which does not exist",
                            crate::text::inline(role)
                        ),
                    )
                    .with_breaks(&[op])
                    .with_expected(Evidence::live("ClusterConfig", json!(role)))
                    .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
                    .with_impact("the addon cannot assume its role: EKS reports it degraded and its pods fail on AccessDenied")
                    .with_remediation("point serviceAccountRoleARN at a role that exists", Vec::new()),
                );
            }
        }
    }
    Ok(findings)
}
