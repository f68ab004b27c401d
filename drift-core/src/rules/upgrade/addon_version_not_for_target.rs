use serde_json::json;

use crate::report::{Evidence, Resource};
use crate::rules::remedy::Cmd;
use crate::rules::versions;
use crate::rules::{Checked, Context, Skip};

/// Where the versions come from.
const SOURCE: &str = "eks:DescribeAddonVersions";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Each EKS addon's version (`describe-addon/`) is one EKS lists for the upgrade's target
    /// Kubernetes version (`eks:DescribeAddonVersions --kubernetes-version <target>` per addon;
    /// read only with `--for upgrade-cluster` and by `capture`; offline
    /// `describe-addon-versions/<version>.json`). The target is `--to-version`, or the next minor
    /// EKS offers; a cluster on the newest version has none and this rule checks nothing.
    ///
    /// ## Why it matters
    ///
    /// Updating the addons right after the control plane is the normal procedure (kube-proxy,
    /// for one, follows the control plane's minor), so an addon version not listed for the
    /// target does not stop `eksctl upgrade cluster`: the finding is information, naming the
    /// version to move to after the upgrade (EKS's default for the target). Where EKS knows the
    /// old version will not run on the target, its upgrade insight says so, and EKD804 gates.
    ///
    /// ## How to fix
    ///
    /// After the control plane upgrade, `eksctl update addon --name <addon> --version <v>`.
    code: "EKD807",
    slug: "addon-version-not-for-target",
    severity: Info,
    since: "0.1.0",
    summary: "an addon's version is not listed for the upgrade's target Kubernetes version: update it after the control plane",
    breaks: [],
    inputs: [DescribeCluster, ListAddons, DescribeClusterVersions, DescribeAddonVersions],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.addon_names.is_none() {
        return Err(Skip("no addon list (list-addons.json absent)".to_owned()));
    }
    let target = versions::target_version(ctx)?;
    let Some(by_version) = &ctx.snapshot.addon_versions else {
        return Err(Skip(
            "the addon versions EKS offers are unknown: live, they are read only with --for upgrade-cluster (and by capture); offline, describe-addon-versions/ is absent".to_owned(),
        ));
    };
    let Some(offered) = by_version.get(&target) else {
        return Err(Skip(format!(
            "the addon versions EKS offers for {} are unknown (describe-addon-versions/{}.json absent)",
            crate::text::inline(&target),
            crate::text::inline(&target)
        )));
    };
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for addon in &ctx.snapshot.addons {
        let Some(version) = addon.addon_version.as_deref() else {
            continue;
        };
        let name = &addon.addon_name;
        let info = offered.iter().find(|a| &a.addon_name == name);
        let listed: Vec<&str> = info
            .iter()
            .flat_map(|a| &a.addon_versions)
            .map(|v| v.addon_version.as_str())
            .collect();
        if listed.contains(&version) {
            continue;
        }
        let default = info.and_then(|a| {
            a.addon_versions
                .iter()
                .find(|v| {
                    v.compatibilities.iter().any(|c| {
                        c.default_version && c.cluster_version.as_deref() == Some(target.as_str())
                    })
                })
                .or_else(|| a.addon_versions.first())
                .map(|v| v.addon_version.clone())
        });
        let message = match &default {
            Some(d) => format!(
                "addon {name} {} is not listed for Kubernetes {target}: after the control plane upgrade, update it to {}",
                crate::text::inline(version),
                crate::text::inline(d)
            ),
            None => format!(
                "EKS lists no version of addon {name} for Kubernetes {target} (the cluster runs {})",
                crate::text::inline(version)
            ),
        };
        let mut commands = Vec::new();
        if let Some(d) = &default {
            commands.push(
                Cmd::new("eksctl update addon")
                    .opt("--cluster", cluster)
                    .opt("--name", name)
                    .opt("--version", d)
                    .region(ctx)
                    .done(),
            );
        }
        commands.push(
            Cmd::new("aws eks describe-addon-versions")
                .opt("--addon-name", name)
                .opt("--kubernetes-version", &target)
                .region(ctx)
                .done(),
        );
        findings.push(
            RULE.finding(Resource::new("AWS::EKS::Addon", name), message)
                .with_expected(Evidence::live(
                    SOURCE,
                    json!({"kubernetesVersion": target, "addonVersions": listed}),
                ))
                .with_actual(Evidence::live(
                    "eks:DescribeAddon",
                    json!({"addonVersion": version}),
                ))
                .with_impact("nothing stops the upgrade; the addon should follow the control plane right after it")
                .with_remediation(
                    "after eksctl upgrade cluster, update the addon to a version listed for the target",
                    commands,
                ),
        );
    }
    Ok(findings)
}
