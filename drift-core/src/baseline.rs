//! "New since last run": a report compared with the JSON report of an earlier run.
//!
//! Every finding gets a stable fingerprint ([`fingerprint`]): its rule, where it is (the
//! account — or, offline, the bundle — the region and the cluster) and its resource, with the
//! message's figures masked so that changed evidence (free addresses, ages, counts) does not
//! make a finding new. Findings whose fingerprint the baseline holds are `persisting`, the
//! others `new`; the baseline's findings that the run no longer has are `resolved` — but only
//! where the run could tell: a baseline finding of a target this run did not audit, or of a
//! rule that did not check, is neither resolved nor silently dropped (it is counted as
//! `unverified`).

use std::collections::{BTreeSet, HashMap};

#[cfg(feature = "schema")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::{
    Finding, Report, Resource, SCHEMA_VERSION, Severity, TargetReport, TargetStatus,
};

/// Whether a finding was in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline too (same fingerprint).
    Persisting,
}

impl BaselineState {
    /// `new` or `persisting`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Persisting => "persisting",
        }
    }
}

/// The comparison with a baseline (schema 1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Baseline {
    /// The baseline report, as given (`--baseline PATH`).
    pub source: String,
    /// When the baseline was generated (its `generated_at`).
    pub generated_at: String,
    /// Findings of the baseline this run no longer has, where this run checked again.
    pub resolved: Vec<ResolvedFinding>,
    /// Findings of the baseline this run could not check again (their target failed or was not
    /// in this run, or their rule did not check): neither resolved nor persisting.
    pub unverified: usize,
}

/// A finding of the baseline that this run no longer has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ResolvedFinding {
    /// The account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region, when known.
    pub region: Option<String>,
    /// The cluster.
    pub cluster: String,
    /// `EKDnnn`.
    pub code: String,
    /// The rule's slug.
    pub rule: String,
    /// The severity it had.
    pub severity: Severity,
    /// The message it had.
    pub message: String,
    /// The resource.
    pub resource: Resource,
}

/// Why a baseline cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Not JSON, or not a report of a layout this version knows.
    #[error("{path}: not an eksdrift JSON report: {detail}")]
    NotAReport {
        /// The file.
        path: String,
        /// What is wrong, with line and column when the JSON itself is.
        detail: String,
    },
    /// A report of a schema this version does not know.
    #[error(
        "{path}: a report of schema {found}; this eksdrift reads schema 1.0 to {SCHEMA_VERSION} (upgrade eksdrift, or give a baseline it wrote)"
    )]
    UnknownSchema {
        /// The file.
        path: String,
        /// Its `schema_version`.
        found: String,
    },
    /// The baseline and the run share no account and region: comparing would call every
    /// finding new.
    #[error(
        "{path}: shares no account and region with this run (baseline: {baseline}; run: {run}): every finding would look new; give the report of an earlier run of the same audit"
    )]
    Disjoint {
        /// The file.
        path: String,
        /// The baseline's account/region pairs.
        baseline: String,
        /// The run's.
        run: String,
    },
}

/// Reads a baseline report from its bytes (`path` names it in errors).
pub fn parse(bytes: &[u8], path: &str) -> Result<Report, BaselineError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| BaselineError::NotAReport {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    let Some(version) = value.get("schema_version").and_then(|v| v.as_str()) else {
        return Err(BaselineError::NotAReport {
            path: path.to_owned(),
            detail: "no schema_version".to_owned(),
        });
    };
    if !known_schema(version) {
        return Err(BaselineError::UnknownSchema {
            path: path.to_owned(),
            found: crate::text::inline(version).into_owned(),
        });
    }
    serde_json::from_value(value).map_err(|e| BaselineError::NotAReport {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// `1.x` up to this version's minor.
fn known_schema(version: &str) -> bool {
    let minor = |v: &str| -> Option<(u32, u32)> {
        let (a, b) = v.split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    match (minor(version), minor(SCHEMA_VERSION)) {
        (Some((1, m)), Some((1, ours))) => m <= ours,
        _ => false,
    }
}

/// Where a target is: the account (or, offline, the bundle) and the region.
fn place(t: &TargetReport) -> (String, String) {
    let owner = t
        .account
        .clone()
        .or_else(|| (t.source != "live").then(|| t.source.clone()))
        .unwrap_or_default();
    (owner, t.region.clone().unwrap_or_default())
}

/// The stable fingerprint of a finding of target `t`: rule, account (or bundle), region,
/// cluster, resource, and the message with its figures masked. SARIF's `partialFingerprints`
/// carry it too.
#[must_use]
pub fn fingerprint(t: &TargetReport, f: &Finding) -> String {
    let (owner, region) = place(t);
    let message = mask_figures(&f.message);
    fnv(&[
        &f.code,
        &owner,
        &region,
        &t.cluster,
        &f.resource.kind,
        &f.resource.id,
        &message,
    ])
}

/// The message with each word that starts with a digit (a count, a size, an age, a date, a
/// version) replaced by `#`: what changes between runs without the finding changing.
/// Identifiers (`subnet-0a…`, `ng-1`, ARNs) start with a letter and stay.
fn mask_figures(message: &str) -> String {
    message
        .split(' ')
        .map(|w| {
            let core = w.trim_start_matches(|c: char| "([{\"'".contains(c));
            if core.starts_with(|c: char| c.is_ascii_digit()) {
                "#"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// FNV-1a 64 over the parts, each ended by a zero byte.
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Marks every finding of `report` `new` or `persisting` against `baseline`, and records the
/// baseline's resolved findings. `source` names the baseline in the report and in errors.
pub fn compare(report: &mut Report, baseline: &Report, source: &str) -> Result<(), BaselineError> {
    let run_places: BTreeSet<(String, String)> = report.targets.iter().map(place).collect();
    let base_places: BTreeSet<(String, String)> = baseline.targets.iter().map(place).collect();
    if !base_places.is_empty() && run_places.is_disjoint(&base_places) {
        let show = |s: &BTreeSet<(String, String)>| {
            s.iter()
                .take(5)
                .map(|(a, r)| {
                    let a = if a.is_empty() { "-" } else { a };
                    crate::text::inline(&format!("{a}/{r}")).into_owned()
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(BaselineError::Disjoint {
            path: source.to_owned(),
            baseline: show(&base_places),
            run: show(&run_places),
        });
    }
    // The baseline's findings by fingerprint (a multiset: equal fingerprints pair up one by one).
    let mut remaining: HashMap<String, Vec<(&TargetReport, &Finding)>> = HashMap::new();
    for t in &baseline.targets {
        for f in &t.findings {
            remaining.entry(fingerprint(t, f)).or_default().push((t, f));
        }
    }
    for t in &mut report.targets {
        let owner = t.clone();
        for f in &mut t.findings {
            let fp = fingerprint(&owner, f);
            let state = match remaining.get_mut(&fp).and_then(Vec::pop) {
                Some(_) => BaselineState::Persisting,
                None => BaselineState::New,
            };
            f.baseline_state = Some(state);
        }
    }
    // What is left of the baseline: resolved where this run checked the rule on that target.
    let checked = |bt: &TargetReport, rule: &str| {
        report.targets.iter().any(|t| {
            t.cluster == bt.cluster
                && place(t) == place(bt)
                && t.status != TargetStatus::Failed
                && t.coverage.checked.iter().any(|r| r == rule)
        })
    };
    let mut resolved = Vec::new();
    let mut unverified = 0;
    let mut left: Vec<(&TargetReport, &Finding)> = remaining.into_values().flatten().collect();
    left.sort_by(|a, b| {
        (
            place(a.0),
            &a.0.cluster,
            &a.1.code,
            &a.1.resource.id,
            &a.1.message,
        )
            .cmp(&(
                place(b.0),
                &b.0.cluster,
                &b.1.code,
                &b.1.resource.id,
                &b.1.message,
            ))
    });
    for (bt, f) in left {
        if checked(bt, &f.rule) {
            resolved.push(ResolvedFinding {
                account: bt.account.clone(),
                region: bt.region.clone(),
                cluster: bt.cluster.clone(),
                code: f.code.clone(),
                rule: f.rule.clone(),
                severity: f.severity,
                message: f.message.clone(),
                resource: f.resource.clone(),
            });
        } else {
            unverified += 1;
        }
    }
    report.baseline = Some(Baseline {
        source: source.to_owned(),
        generated_at: baseline.generated_at.clone(),
        resolved,
        unverified,
    });
    report.recount();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_masked_and_identifiers_kept() {
        assert_eq!(
            mask_figures("subnet-0aa1 has 12 free addresses (needs 30), last refreshed 3 days ago"),
            "subnet-0aa1 has # free addresses (needs # last refreshed # days ago"
        );
        assert_eq!(mask_figures("ng-1 on 1.33"), "ng-1 on #");
    }

    #[test]
    fn two_clusters_of_one_name_in_two_accounts_do_not_collide() {
        let target = |account: &str| {
            let mut t = TargetReport::failed(
                "payments",
                Some("us-east-1".to_owned()),
                "live",
                crate::report::TargetError::new(crate::report::ErrorKind::Internal, "x"),
            );
            t.account = Some(account.to_owned());
            t
        };
        let f = crate::rules::ALL[0].finding(
            Resource::new("AWS::EC2::Subnet", "subnet-0aa1"),
            "stack output names subnet-0aa1, which has 3 free addresses".to_owned(),
        );
        let mut later = f.clone();
        later.message = "stack output names subnet-0aa1, which has 7 free addresses".to_owned();
        let (a, b) = (target("111111111111"), target("222222222222"));
        assert_ne!(fingerprint(&a, &f), fingerprint(&b, &f));
        assert_eq!(fingerprint(&a, &f), fingerprint(&a, &later));
    }

    #[test]
    fn schemas_of_this_major_up_to_ours_are_known() {
        assert!(known_schema("1.0"));
        assert!(known_schema(SCHEMA_VERSION));
        assert!(!known_schema("1.99"));
        assert!(!known_schema("2.0"));
        assert!(!known_schema("x"));
    }
}
