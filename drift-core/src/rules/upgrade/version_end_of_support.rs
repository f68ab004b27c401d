use serde_json::json;

use crate::report::{Evidence, Resource, Severity, src};
use crate::rules::remedy::Cmd;
use crate::rules::versions;
use crate::rules::{Checked, Context, Skip};

/// Where the support dates come from.
const SOURCE: &str = "eks:DescribeClusterVersions";

/// How far ahead an end of support is reported.
const WITHIN_DAYS: i64 = 30;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The end of standard and extended support of the cluster's Kubernetes version
    /// (`eks:DescribeClusterVersions`, one call per region; offline
    /// `describe-cluster-versions.json`) against the cluster's upgrade policy
    /// (`upgradePolicy.supportType` of `DescribeCluster`; `EXTENDED` when absent, the API's
    /// default), at the time of the snapshot:
    ///
    /// - `STANDARD`, and standard support ends within 30 days (or has ended): warning. EKS
    ///   upgrades such a cluster's control plane to the next version itself, outside eksctl.
    /// - `EXTENDED`, and standard support ends within 30 days: info. The cluster enters
    ///   extended support (charged extra per cluster hour); nothing is upgraded until extended
    ///   support ends.
    /// - Extended support ends within 30 days (or has ended): warning. EKS then upgrades the
    ///   control plane itself.
    ///
    /// ## Why it matters
    ///
    /// An automatic upgrade moves only the control plane: managed and self-managed nodegroups
    /// stay on their version (one minor behind, which the next `eksctl upgrade cluster` refuses
    /// until they catch up, EKD801), and the `metadata.version` in your ClusterConfig no longer
    /// says what runs, so the next `eksctl ... -f cluster.yaml` plans from a stale version.
    ///
    /// ## How to fix
    ///
    /// Upgrade on your own schedule before the date (`eksctl upgrade cluster`, then the
    /// nodegroups and addons), or switch the upgrade policy to `EXTENDED`
    /// (`aws eks update-cluster-config --upgrade-policy supportType=EXTENDED`), and update
    /// `metadata.version` in the ClusterConfig.
    code: "EKD805",
    slug: "version-end-of-support",
    severity: Warning,
    since: "0.1.0",
    summary: "the cluster's Kubernetes version reaches the end of its support within 30 days: EKS will upgrade the control plane outside eksctl",
    breaks: [],
    inputs: [DescribeCluster, DescribeClusterVersions],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.cluster_versions.is_none() {
        return Err(Skip(
            "the support dates are unknown (describe-cluster-versions.json absent)".to_owned(),
        ));
    }
    let current = versions::current(ctx)?;
    let now = versions::now(ctx)?;
    let (major, minor) = versions::minor(&current).unwrap_or_default();
    let Some(offered) = versions::offered(ctx, &format!("{major}.{minor}")) else {
        return Err(Skip(format!(
            "EKS lists no support dates for version {}",
            crate::text::inline(&current)
        )));
    };
    let policy = ctx
        .cluster
        .other
        .get("upgradePolicy")
        .and_then(|p| p.get("supportType"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("EXTENDED")
        .to_owned();
    let date = |d: &Option<String>| d.as_deref().and_then(versions::parse_time);
    let standard_end = date(&offered.end_of_standard_support_date);
    let extended_end = date(&offered.end_of_extended_support_date);
    let soon = |end: time::OffsetDateTime| end - now <= time::Duration::days(WITHIN_DAYS);
    let when = |end: time::OffsetDateTime| {
        if end <= now {
            format!("ended on {}", versions::day(end))
        } else {
            format!(
                "ends on {} (in {})",
                versions::day(end),
                versions::age(end - now)
            )
        }
    };
    let next = versions::next_minor(&current).unwrap_or_default();
    let cluster = &ctx.cluster.name;
    let (severity, end, message, impact) = match (policy.as_str(), standard_end, extended_end) {
        ("STANDARD", Some(end), _) if soon(end) => (
            Severity::Warning,
            end,
            format!(
                "Kubernetes {current}: standard support {}, and the upgrade policy is STANDARD: EKS will upgrade the control plane to {next} itself, outside eksctl",
                when(end)
            ),
            "an automatic upgrade moves only the control plane: the nodegroups stay on the old version and the ClusterConfig's metadata.version goes stale",
        ),
        (_, _, Some(end)) if policy != "STANDARD" && soon(end) => (
            Severity::Warning,
            end,
            format!(
                "Kubernetes {current}: extended support {}: EKS will then upgrade the control plane to {next} itself, outside eksctl",
                when(end)
            ),
            "an automatic upgrade moves only the control plane: the nodegroups stay on the old version and the ClusterConfig's metadata.version goes stale",
        ),
        (_, Some(end), _) if policy != "STANDARD" && soon(end) && end > now => (
            Severity::Info,
            end,
            format!(
                "Kubernetes {current}: standard support {}; with the upgrade policy {policy} the cluster then enters extended support (charged extra per cluster hour), with no automatic upgrade until that ends",
                when(end)
            ),
            "nothing breaks; the cluster costs more in extended support",
        ),
        _ => return Ok(Vec::new()),
    };
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            crate::text::inline(&message).into_owned(),
        )
        .with_severity(severity)
        .with_expected(Evidence::live(
            SOURCE,
            json!(format!("support for {current} beyond {WITHIN_DAYS} days")),
        ))
        .with_actual(Evidence::live(
            src::CLUSTER,
            json!({
                "version": current,
                "upgradePolicy": policy,
                "endOfStandardSupportDate": offered.end_of_standard_support_date,
                "endOfExtendedSupportDate": offered.end_of_extended_support_date,
                "supportEnds": versions::day(end),
            }),
        ))
        .with_impact(impact)
        .with_remediation(
            "upgrade before the date on your own schedule (eksctl upgrade cluster, then the nodegroups and addons), or keep the cluster in extended support",
            vec![
                Cmd::new("eksctl upgrade cluster")
                    .opt("--name", cluster)
                    .opt("--version", &next)
                    .region(ctx)
                    .word("--approve")
                    .done(),
                Cmd::new("aws eks update-cluster-config")
                    .opt("--name", cluster)
                    .opt("--upgrade-policy", "supportType=EXTENDED")
                    .region(ctx)
                    .done(),
            ],
        ),
    ])
}
