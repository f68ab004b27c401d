use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::{Cmd, Script};
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::TemplateLookup;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The launch template version each nodegroup runs still exists: a managed nodegroup's
    /// `launchTemplate` (`describe-nodegroup`), an unmanaged eksctl nodegroup's auto scaling
    /// group `LaunchTemplate` (or its mixed instances policy's). `$Latest` and `$Default` need
    /// only the template. Needs the nodegroup inputs of EKD504 and
    /// `describe-launch-template-versions.json` (every version of every template they name).
    ///
    /// Also the version `eksctl upgrade nodegroup` will start from: for a managed nodegroup with
    /// a launch template of its own (not the one eksctl makes, named after the stack), eksctl
    /// reads the template's ID and version from the nodegroup **stack's template**, not from
    /// the nodegroup (`upgradeUsingStack` → `usesCustomAMIGFNNodeGroup` in
    /// `pkg/actions/nodegroup/upgrade.go`), and fetches that version. Needs
    /// `get-template/<stack>.json` for those stacks (a live audit reads only them).
    ///
    /// ## Why it matters
    ///
    /// A deleted version (or template) cannot launch instances: scaling fails. And when the
    /// version recorded in the nodegroup stack's template is deleted, `eksctl upgrade nodegroup`
    /// fails even though the version the nodegroup runs exists (eksctl #7786: "Could not find
    /// the specified version … The nodegroup uses version 4"), because eksctl starts from the
    /// stack, not from the nodegroup.
    ///
    /// ## How to fix
    ///
    /// Point the nodegroup at a version that exists (`eksctl upgrade nodegroup
    /// --launch-template-version N` for a managed nodegroup with a custom template), or replace
    /// the nodegroup.
    code: "EKD507",
    slug: "launch-template-version-missing",
    severity: Error,
    since: "0.1.0",
    summary: "the launch template version a nodegroup runs no longer exists",
    breaks: [UpgradeNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, DescribeAutoScalingGroups, DescribeLaunchTemplateVersions, GetNodegroupTemplates],
}

type Runs<'a> = (String, Option<&'a str>, Option<&'a str>, Option<&'a str>, &'static str);

fn check(ctx: &Context<'_>) -> Checked {
    // (nodegroup, template ID, template name, version, where the nodegroup names it)
    let mut runs: Vec<Runs<'_>> = Vec::new();
    for ng in ctx.managed_nodegroups()? {
        if let Some(lt) = &ng.launch_template {
            runs.push((
                ng.nodegroup_name.clone(),
                lt.id.as_deref(),
                lt.name.as_deref(),
                lt.version.as_deref(),
                src::NODEGROUP,
            ));
        }
    }
    for u in ctx.unmanaged_nodegroups()? {
        if let Some(lt) = u.group.launch_template_spec() {
            runs.push((
                u.nodegroup.to_owned(),
                lt.launch_template_id.as_deref(),
                lt.launch_template_name.as_deref(),
                lt.version.as_deref(),
                src::AUTO_SCALING_GROUPS,
            ));
        }
    }
    if !runs.is_empty() && ctx.snapshot.launch_template_versions.is_none() {
        return Err(Skip(
            "no launch template data (describe-launch-template-versions.json absent)".to_owned(),
        ));
    }
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for (nodegroup, id, name, version, source) in runs {
        let lookup = ctx.snapshot.launch_template_version(id, name, version);
        let template = id.or(name).unwrap_or("(unnamed)");
        let version_text = version.unwrap_or("$Default");
        let what = match lookup {
            Some(TemplateLookup::VersionMissing) => "version no longer exists",
            Some(TemplateLookup::TemplateMissing) => "template no longer exists",
            _ => continue,
        };
        let mut fix = Script::new();
        if matches!(lookup, Some(TemplateLookup::VersionMissing)) {
            fix = fix
                .comment("the versions that exist:")
                .cmd(
                    Cmd::new("aws ec2 describe-launch-template-versions")
                        .opt("--launch-template-id", template)
                        .opt("--query", "LaunchTemplateVersions[].VersionNumber")
                        .region(ctx),
                )
                .comment("then, for a managed nodegroup, move it to one of them (N):")
                .cmd(
                    Cmd::new("eksctl upgrade nodegroup")
                        .opt("--cluster", cluster)
                        .opt("--name", &nodegroup)
                        .word("--launch-template-version N")
                        .region(ctx),
                );
        } else {
            fix = fix.comment(
                "the template is gone: create a replacement nodegroup (eksctl create nodegroup -f CONFIG), move the workloads, then:",
            ).cmd(
                Cmd::new("eksctl delete nodegroup")
                    .opt("--cluster", cluster)
                    .opt("--name", &nodegroup)
                    .region(ctx),
            );
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EC2::LaunchTemplate", template),
                format!(
                    "nodegroup {nodegroup} runs launch template {template} version {version_text}: the {what}"
                ),
            )
            .with_expected(Evidence::live(source, format!("{template} version {version_text}")))
            .with_actual(Evidence::live(src::LAUNCH_TEMPLATE_VERSIONS, serde_json::Value::Null))
            .with_impact(
                "instances cannot launch from a deleted launch template version: scaling fails, and eksctl upgrade nodegroup fails with VersionNotFound",
            )
            .with_remediation(
                "move the nodegroup to a version that exists, or replace the nodegroup",
                vec![fix.done()],
            ),
        );
    }
    findings.extend(recorded_versions(ctx)?);
    Ok(findings)
}

/// The launch template `ManagedNodeGroup` names in a nodegroup stack's template, when eksctl
/// made no launch template of its own there: (ID, version; `None` for the default).
fn recorded(template: &serde_json::Value) -> Option<(&str, Option<String>)> {
    let resources = template.get("Resources")?.as_object()?;
    let own = resources.values().any(|r| {
        r.get("Type").and_then(serde_json::Value::as_str) == Some("AWS::EC2::LaunchTemplate")
    });
    if own {
        return None;
    }
    let lt = resources
        .get("ManagedNodeGroup")?
        .get("Properties")?
        .get("LaunchTemplate")?;
    let id = lt.get("Id")?.as_str()?;
    let version = match lt.get("Version") {
        Some(serde_json::Value::String(v)) => Some(v.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Some((id, version))
}

/// Findings for nodegroup stacks whose recorded launch template version is gone.
fn recorded_versions(ctx: &Context<'_>) -> Checked {
    let stacks = ctx.snapshot.custom_launch_template_stacks();
    if stacks.is_empty() {
        return Ok(Vec::new());
    }
    let Some(templates) = &ctx.snapshot.nodegroup_templates else {
        return Err(Skip(format!(
            "no get-template/<stack>.json for {} (the managed nodegroup stacks with a launch template of their own, whose template records the version eksctl upgrade nodegroup starts from)",
            crate::text::inline(
                &stacks
                    .iter()
                    .map(|s| s.stack_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        )));
    };
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for stack in stacks {
        let Some((id, Some(version))) = templates.get(&stack.stack_name).and_then(recorded) else {
            continue;
        };
        // Only versions that were read can be missing: a template that is gone is the
        // running-version finding's, a version that is not a number says nothing.
        if !matches!(
            ctx.snapshot
                .launch_template_version(Some(id), None, Some(&version)),
            Some(TemplateLookup::VersionMissing)
        ) {
            continue;
        }
        let nodegroup = stack.nodegroup_of(cluster).unwrap_or_default();
        let running = ctx
            .nodegroup(nodegroup)
            .and_then(|n| n.launch_template.as_ref())
            .and_then(|lt| lt.version.clone())
            .unwrap_or_else(|| "$Default".to_owned());
        findings.push(
            RULE.finding(
                Resource::new("AWS::EC2::LaunchTemplate", id),
                format!(
                    "nodegroup {nodegroup}'s stack {} records launch template {id} version {version}, which no longer exists (the nodegroup runs version {running})",
                    stack.stack_name
                ),
            )
            .with_expected(Evidence::stack(
                stack,
                serde_json::json!({"LaunchTemplate": {"Id": id, "Version": version}}),
            ))
            .with_actual(Evidence::live(src::LAUNCH_TEMPLATE_VERSIONS, serde_json::Value::Null))
            .with_impact(
                "eksctl upgrade nodegroup reads the version from the nodegroup stack and fails (\"Could not find the specified version\"), although the version the nodegroup runs exists (eksctl #7786)",
            )
            .with_remediation(
                "upgrade through eksctl with an explicit launch template version that exists: eksctl writes it into the stack",
                vec![
                    Cmd::new("eksctl upgrade nodegroup")
                        .opt("--cluster", cluster)
                        .opt("--name", nodegroup)
                        .opt("--launch-template-version", &running)
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}

