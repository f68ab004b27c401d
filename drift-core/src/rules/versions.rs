//! Kubernetes versions and dates for the upgrade rules: a version's minor, the upgrade's target
//! and the snapshot's clock.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::rules::{Context, Skip};
use crate::snapshot::ClusterVersion;

/// `1.30` → (1, 30); `v1.30.2-eks-abc` → (1, 30).
pub(crate) fn minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The minor after `version` (`1.30` → `1.31`).
pub(crate) fn next_minor(version: &str) -> Option<String> {
    let (major, minor) = minor(version)?;
    Some(format!("{major}.{}", minor + 1))
}

/// What a planned `eksctl upgrade cluster` goes to.
pub(crate) enum Target {
    /// This version.
    To(String),
    /// No newer version is offered: the cluster is on the newest one, and eksctl does nothing.
    Newest(String),
    /// The target is the version the cluster runs: eksctl changes nothing.
    Same(String),
}

/// The cluster's version, or why it is unknown.
pub(crate) fn current(ctx: &Context<'_>) -> Result<String, Skip> {
    let Some(version) = ctx.cluster.version.as_deref() else {
        return Err(Skip("DescribeCluster returned no version".to_owned()));
    };
    if minor(version).is_none() {
        return Err(Skip(format!(
            "the cluster's version {} is not MAJOR.MINOR",
            crate::text::inline(version)
        )));
    }
    Ok(version.to_owned())
}

/// The upgrade's target: `--to-version` when given, otherwise the next minor when EKS offers
/// it (`describe-cluster-versions.json`).
pub(crate) fn target(ctx: &Context<'_>) -> Result<Target, Skip> {
    let current = current(ctx)?;
    if let Some(to) = &ctx.snapshot.to_version {
        if minor(to) == minor(&current) {
            return Ok(Target::Same(current));
        }
        return Ok(Target::To(to.clone()));
    }
    let Some(offered) = &ctx.snapshot.cluster_versions else {
        return Err(Skip(
            "which versions EKS offers is unknown (describe-cluster-versions.json absent), so the upgrade has no known target: give --to-version".to_owned(),
        ));
    };
    let next = next_minor(&current).unwrap_or_default();
    if offered.iter().any(|v| v.cluster_version == next) {
        Ok(Target::To(next))
    } else {
        Ok(Target::Newest(current))
    }
}

/// The version-specific rules' target, or the reason they check nothing.
pub(crate) fn target_version(ctx: &Context<'_>) -> Result<String, Skip> {
    match target(ctx)? {
        Target::To(v) => Ok(v),
        Target::Newest(v) => Err(Skip(format!(
            "no upgrade target: the cluster is on {}, the newest version EKS offers, so eksctl upgrade cluster has nothing to do",
            crate::text::inline(&v)
        ))),
        Target::Same(v) => Err(Skip(format!(
            "no upgrade target: the cluster already runs {}, the version asked for, so eksctl upgrade cluster changes nothing",
            crate::text::inline(&v)
        ))),
    }
}

/// EKS's record of `version`, if it offers it.
pub(crate) fn offered<'a>(ctx: &'a Context<'_>, version: &str) -> Option<&'a ClusterVersion> {
    ctx.snapshot
        .cluster_versions
        .as_ref()?
        .iter()
        .find(|v| v.cluster_version == version)
}

/// An RFC 3339 time, as the snapshot holds them.
pub(crate) fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// When the snapshot was taken, or why the rules that judge a date cannot.
pub(crate) fn now(ctx: &Context<'_>) -> Result<OffsetDateTime, Skip> {
    let Some(at) = ctx.snapshot.observed_at.as_deref() else {
        return Err(Skip(
            "when the snapshot was taken is unknown (no capture.json captured_at), so no date can be judged".to_owned(),
        ));
    };
    parse_time(at).ok_or_else(|| {
        Skip(format!(
            "the snapshot's time {} is not RFC 3339",
            crate::text::inline(at)
        ))
    })
}

/// The day of `t` (`2026-12-03`).
pub(crate) fn day(t: OffsetDateTime) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A duration in words: `3 days`, `5 hours`, `40 minutes`.
pub(crate) fn age(d: time::Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if d.whole_days() >= 1 {
        plural(d.whole_days(), "day")
    } else if d.whole_hours() >= 1 {
        plural(d.whole_hours(), "hour")
    } else {
        plural(d.whole_minutes().max(0), "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_times_parse() {
        assert_eq!(minor("1.30"), Some((1, 30)));
        assert_eq!(minor("v1.29.4-eks-036c24b"), Some((1, 29)));
        assert_eq!(minor("latest"), None);
        assert_eq!(next_minor("1.9").as_deref(), Some("1.10"));
        let t = parse_time("2026-11-28T07:00:00Z").unwrap();
        assert_eq!(day(t), "2026-11-28");
        assert!(parse_time("2024-05-01T10:00:00.000000+00:00").is_some());
        assert_eq!(age(time::Duration::hours(49)), "2 days");
        assert_eq!(age(time::Duration::minutes(61)), "1 hour");
    }
}
