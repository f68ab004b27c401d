use serde_json::json;

use crate::report::{Evidence, Resource};
use crate::rules::remedy::Cmd;
use crate::rules::versions;
use crate::rules::{Checked, Context, Skip};

/// Where the versions come from.
const SOURCE: &str = "eks:DescribeClusterVersions";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The upgrade's target version (`--to-version`) is one EKS offers
    /// (`eks:DescribeClusterVersions`; offline `describe-cluster-versions.json`). Without
    /// `--to-version` the target is the next minor when EKS offers it; a cluster on the newest
    /// version has no target, `--for upgrade-cluster` says so, and the version-specific rules
    /// (the gate of EKD804, and EKD807) check nothing, as `eksctl upgrade cluster` does nothing
    /// there. A `--to-version` that skips a minor up or down is refused as a usage error before
    /// any rule runs: eksctl upgrades, and rolls back, one minor at a time.
    ///
    /// ## Why it matters
    ///
    /// `eksctl upgrade cluster --version X.Y` calls `UpdateClusterVersion`, which EKS refuses
    /// for a version it does not offer in the region (not released yet, or no longer).
    ///
    /// ## How to fix
    ///
    /// Pick a version EKS lists (`aws eks describe-cluster-versions`).
    code: "EKD806",
    slug: "upgrade-target-not-offered",
    severity: Error,
    since: "0.1.0",
    summary: "the upgrade's target version is not one EKS offers: UpdateClusterVersion is refused",
    breaks: [UpgradeCluster],
    inputs: [DescribeCluster, DescribeClusterVersions],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(to) = ctx.snapshot.to_version.as_deref() else {
        // The next minor is the target only when EKS offers it: nothing to report.
        return Ok(Vec::new());
    };
    let Some(offered) = &ctx.snapshot.cluster_versions else {
        return Err(Skip(
            "which versions EKS offers is unknown (describe-cluster-versions.json absent)"
                .to_owned(),
        ));
    };
    let current = versions::current(ctx)?;
    if versions::minor(to) == versions::minor(&current)
        || offered.iter().any(|v| v.cluster_version == to)
    {
        return Ok(Vec::new());
    }
    let listed: Vec<&str> = offered.iter().map(|v| v.cluster_version.as_str()).collect();
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "the upgrade's target Kubernetes {} is not a version EKS offers in this region (it offers {})",
                crate::text::inline(to),
                listed.join(", ")
            ),
        )
        .with_expected(Evidence::live(SOURCE, json!(listed)))
        .with_actual(Evidence::live(
            SOURCE,
            json!({"current": current, "target": to}),
        ))
        .with_impact("eksctl upgrade cluster fails: EKS refuses UpdateClusterVersion for a version it does not offer")
        .with_remediation(
            "upgrade to a version EKS lists",
            vec![Cmd::new("aws eks describe-cluster-versions").region(ctx).done()],
        ),
    ])
}
