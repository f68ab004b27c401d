use std::fmt::Write as _;

use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity};
use crate::rules::remedy::Cmd;
use crate::rules::versions::{self, Target};
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::Insight;

/// Where the insights come from.
const SOURCE: &str = "eks:DescribeInsight";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// EKS's cluster insights of the categories `UPGRADE_READINESS` and `ROLLBACK_READINESS`
    /// (`eks:ListInsights`, each one not `PASSING` described with `eks:DescribeInsight`): one
    /// finding per insight that is `ERROR`, `WARNING` or `UNKNOWN`, with EKS's recommendation,
    /// the deprecated Kubernetes APIs still in use or the addons incompatible with the version
    /// it is about, and how old the insight is (`lastRefreshTime`; the finding says when it is
    /// older than a day, as EKS refreshes insights about once a day). Read only with `--for
    /// upgrade-cluster` and by `capture`; offline, `list-insights.json` and `describe-insight/`.
    ///
    /// eksdrift never calls `StartInsightsRefresh` (it starts an operation): the remediation
    /// tells you to run it when the insight is stale.
    ///
    /// ## Why it matters
    ///
    /// An `ERROR` insight about the upgrade's target version names a real breakage: a removed
    /// API that workloads still call, an addon version that will not run on the target, nodes
    /// whose kubelet is too old (EKS sees self-managed and Fargate nodes here, which eksdrift
    /// does not read). Since 2025 EKS can refuse `UpdateClusterVersion` with "Upgrade readiness
    /// issues detected… Pass the force flag" while such an insight is open (eksctl added
    /// `upgrade cluster --force`, eksctl PR #8319); the enforcement was rolled back for now and
    /// may return (containers-roadmap #2570). Either way the upgrade breaks something: an `ERROR`
    /// insight for the target breaks `upgrade-cluster`. `WARNING` and `UNKNOWN` insights, and
    /// `ERROR` ones about another version, do not gate.
    ///
    /// ## How to fix
    ///
    /// Follow the insight's recommendation (move the clients off the deprecated API, update the
    /// addon, upgrade the nodes), then `aws eks start-insights-refresh` and audit again once EKS
    /// has refreshed it.
    code: "EKD804",
    slug: "insight-not-passing",
    severity: Error,
    since: "0.1.0",
    summary: "an EKS upgrade insight is not passing: an ERROR one for the target version breaks the cluster upgrade",
    breaks: [UpgradeCluster],
    inputs: [DescribeCluster, ListInsights, DescribeClusterVersions],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(listed) = &ctx.snapshot.insights else {
        return Err(Skip(
            "the cluster's insights are unknown: live, they are read only with --for upgrade-cluster (and by capture); offline, list-insights.json is absent".to_owned(),
        ));
    };
    // An ERROR insight gates when it is about the target, or says nothing of its version.
    let target = match versions::target(ctx) {
        Ok(Target::To(v)) => Some(v),
        Ok(Target::Newest(_) | Target::Same(_)) => None,
        Err(_) => ctx
            .cluster
            .version
            .as_deref()
            .and_then(versions::next_minor),
    };
    let now = versions::now(ctx).ok();
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for summary in listed {
        if summary.status() == "PASSING" {
            continue;
        }
        let insight: &Insight = ctx
            .snapshot
            .insight_details
            .iter()
            .find(|d| d.id == summary.id)
            .unwrap_or(summary);
        let status = insight.status();
        let about = insight.kubernetes_version.as_deref();
        let for_target = about.is_none_or(|v| target.as_deref() == Some(v));
        let (severity, breaks): (Severity, &[Operation]) = match status {
            "ERROR" if for_target => (Severity::Error, &[Operation::UpgradeCluster]),
            "ERROR" | "WARNING" => (Severity::Warning, &[]),
            _ => (Severity::Info, &[]),
        };
        let name = crate::text::inline(&insight.name);
        let reason = insight
            .insight_status
            .as_ref()
            .and_then(|s| s.reason.as_deref())
            .map(crate::text::inline)
            .unwrap_or_default();
        let refreshed = insight.last_refresh_time.as_deref();
        let stale = match (now, refreshed.and_then(versions::parse_time)) {
            (Some(now), Some(at)) if now - at > time::Duration::days(1) => Some(format!(
                "last refreshed {} ago ({}), older than a day: it may no longer hold",
                versions::age(now - at),
                versions::day(at)
            )),
            _ => None,
        };
        let mut message = match about {
            Some(v) => format!(
                "insight \"{name}\" about Kubernetes {} is {status}",
                crate::text::inline(v)
            ),
            None => format!("insight \"{name}\" is {status}"),
        };
        if !reason.is_empty() {
            let _ = write!(message, ": {reason}");
        }
        if let Some(s) = &stale {
            let _ = write!(message, " ({s})");
        }
        let details = insight.category_specific_summary.as_ref();
        let deprecated: Vec<serde_json::Value> = details
            .iter()
            .flat_map(|d| &d.deprecation_details)
            .map(|d| {
                json!({
                    "usage": d.usage,
                    "replacedWith": d.replaced_with,
                    "stopServingVersion": d.stop_serving_version,
                })
            })
            .collect();
        let addons: Vec<serde_json::Value> = details
            .iter()
            .flat_map(|d| &d.addon_compatibility_details)
            .map(|a| json!({"name": a.name, "compatibleVersions": a.compatible_versions}))
            .collect();
        let resources: Vec<&str> = insight
            .resources
            .iter()
            .filter_map(|r| r.kubernetes_resource_uri.as_deref().or(r.arn.as_deref()))
            .collect();
        let mut commands = vec![
            Cmd::new("aws eks describe-insight")
                .opt("--cluster-name", cluster)
                .opt("--id", &insight.id)
                .region(ctx)
                .done(),
        ];
        if stale.is_some() {
            commands.push(
                Cmd::new("aws eks start-insights-refresh")
                    .opt("--cluster-name", cluster)
                    .region(ctx)
                    .done(),
            );
        }
        let recommendation = insight
            .recommendation
            .as_deref()
            .map_or_else(
                || "follow the insight in the EKS console".to_owned(),
                |r| crate::text::inline(r).into_owned(),
            );
        findings.push(
            RULE.finding(Resource::new("AWS::EKS::Insight", &insight.id), message)
                .with_severity(severity)
                .with_breaks(breaks)
                .with_expected(Evidence::live(SOURCE, json!("PASSING")))
                .with_actual(Evidence::live(
                    SOURCE,
                    json!({
                        "status": status,
                        "category": insight.category,
                        "kubernetesVersion": about,
                        "lastRefreshTime": refreshed,
                        "deprecationDetails": deprecated,
                        "addonCompatibilityDetails": addons,
                        "resources": resources,
                    }),
                ))
                .with_impact(if breaks.is_empty() {
                    "EKS flags something the upgrade may break; it does not gate the upgrade"
                } else {
                    "EKS can refuse UpdateClusterVersion while this insight is open (unless forced), and the upgrade breaks what it names"
                })
                .with_remediation(
                    format!("{recommendation}; then refresh the insights and audit again"),
                    commands,
                ),
        );
    }
    Ok(findings)
}
