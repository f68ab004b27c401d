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
    /// ## Why it matters
    ///
    /// A deleted version (or template) cannot launch instances: scaling fails, and `eksctl
    /// upgrade nodegroup` fails with `VersionNotFound` (eksctl #7786) because the update starts
    /// from the version the nodegroup runs.
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
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups, DescribeAutoScalingGroups, DescribeLaunchTemplateVersions],
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
    Ok(findings)
}
