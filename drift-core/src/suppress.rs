//! Suppressions: findings a team has accepted, with a reason and (strongly encouraged) an
//! expiry date. A suppressed finding stays in the report, marked, and out of the counts and the
//! exit code; an expired suppression stops applying and becomes a warning of its own (EKD001),
//! and one that matched nothing an info (EKD002). Pure: the caller parses the file and gives
//! the date.

use crate::report::{Evidence, Finding, Report, Resource, Suppressed};
use crate::rules::tool::{suppression_expired, suppression_unused};
use crate::text::glob_match;

/// One accepted finding pattern. Every field given must match; `code` or `rule` is required by
/// the file format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Suppression {
    /// A rule code (`EKD202`).
    pub code: Option<String>,
    /// A rule slug (`output-subnet-deleted`).
    pub rule: Option<String>,
    /// A glob (`*`, `?`) on the cluster name.
    pub cluster: Option<String>,
    /// A glob on the region.
    pub region: Option<String>,
    /// The AWS account ID.
    pub account: Option<String>,
    /// The finding's resource ID (a glob).
    pub resource: Option<String>,
    /// Why it is accepted.
    pub reason: String,
    /// `YYYY-MM-DD`: the last day it applies.
    pub expires: Option<String>,
    /// Where it is written: `FILE:LINE`.
    pub source: String,
}

impl Suppression {
    /// A suppression of `code_or_rule` (a code like `EKD202`, or a slug) with a reason.
    #[must_use]
    pub fn new(code_or_rule: &str, reason: &str, source: &str) -> Self {
        let is_code = code_or_rule.starts_with("EKD");
        Suppression {
            code: is_code.then(|| code_or_rule.to_owned()),
            rule: (!is_code).then(|| code_or_rule.to_owned()),
            reason: reason.to_owned(),
            source: source.to_owned(),
            ..Suppression::default()
        }
    }

    /// The same, restricted to clusters matching `glob`.
    #[must_use]
    pub fn for_cluster(mut self, glob: &str) -> Self {
        self.cluster = Some(glob.to_owned());
        self
    }

    /// The same, with an expiry date (`YYYY-MM-DD`).
    #[must_use]
    pub fn expiring(mut self, date: &str) -> Self {
        self.expires = Some(date.to_owned());
        self
    }

    fn expired(&self, today: &str) -> bool {
        // ISO dates compare as strings.
        self.expires.as_deref().is_some_and(|e| e < today)
    }

    fn matches_target(&self, cluster: &str, region: Option<&str>, account: Option<&str>) -> bool {
        self.cluster
            .as_deref()
            .is_none_or(|g| glob_match(g, cluster))
            && self
                .region
                .as_deref()
                .is_none_or(|g| region.is_some_and(|r| glob_match(g, r)))
            && self.account.as_deref().is_none_or(|a| account == Some(a))
    }

    fn matches(&self, f: &Finding) -> bool {
        self.code
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case(&f.code))
            && self.rule.as_deref().is_none_or(|r| r == f.rule)
            && self
                .resource
                .as_deref()
                .is_none_or(|g| glob_match(g, &f.resource.id))
    }

    fn describe(&self) -> String {
        let what = self.code.as_deref().or(self.rule.as_deref()).unwrap_or("?");
        let mut scope = Vec::new();
        if let Some(c) = &self.cluster {
            scope.push(format!("cluster {c}"));
        }
        if let Some(r) = &self.region {
            scope.push(format!("region {r}"));
        }
        if let Some(a) = &self.account {
            scope.push(format!("account {a}"));
        }
        if let Some(r) = &self.resource {
            scope.push(format!("resource {r}"));
        }
        if scope.is_empty() {
            what.to_owned()
        } else {
            format!("{what} ({})", scope.join(", "))
        }
    }
}

/// Applies `suppressions` to `report` as of `today` (`YYYY-MM-DD`, UTC): marks the findings
/// they accept, adds EKD001 for each expired one (on the targets it would have applied to, or
/// the first target) and EKD002 for each one in force that matched nothing, then recounts.
/// `account` is the AWS account of targets that do not say theirs.
pub fn apply(
    report: &mut Report,
    suppressions: &[Suppression],
    today: &str,
    account: Option<&str>,
) {
    let mut used = vec![false; suppressions.len()];
    let mut touched = std::collections::BTreeSet::new();
    for target in &mut report.targets {
        let (cluster, region) = (target.cluster.clone(), target.region.clone());
        let target_account = target.account.clone();
        let account = target_account.as_deref().or(account);
        for finding in &mut target.findings {
            let hit = suppressions.iter().enumerate().find(|(_, s)| {
                !s.expired(today)
                    && s.matches_target(&cluster, region.as_deref(), account)
                    && s.matches(finding)
            });
            if let Some((i, s)) = hit {
                used[i] = true;
                finding.suppressed = Some(Suppressed::new(
                    s.reason.clone(),
                    s.expires.clone(),
                    s.source.clone(),
                ));
            }
        }
    }
    for (i, s) in suppressions.iter().enumerate() {
        let is_expired = s.expired(today);
        if !is_expired && used[i] {
            continue;
        }
        // The targets it is about (or would have been): those whose findings it matches, else
        // those in its scope, else the first.
        let mut places: Vec<usize> = report
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                s.matches_target(
                    &t.cluster,
                    t.region.as_deref(),
                    t.account.as_deref().or(account),
                ) && t.findings.iter().any(|f| s.matches(f))
            })
            .map(|(i, _)| i)
            .collect();
        if places.is_empty() {
            places.extend(
                report
                    .targets
                    .iter()
                    .position(|t| {
                        s.matches_target(
                            &t.cluster,
                            t.region.as_deref(),
                            t.account.as_deref().or(account),
                        )
                    })
                    .or((!report.targets.is_empty()).then_some(0)),
            );
        }
        for place in places {
            let finding = if is_expired {
                let expires = s.expires.as_deref().unwrap_or_default();
                suppression_expired::RULE
                    .finding(
                        Resource::new("eksdrift::Suppression", &s.source),
                        format!(
                            "the suppression of {} at {} expired on {expires}; its findings count again",
                            s.describe(),
                            s.source
                        ),
                    )
                    .with_expected(Evidence::live("eksdrift.toml", today.to_owned()))
                    .with_actual(Evidence::live("eksdrift.toml", expires.to_owned()))
                    .with_impact("the findings it accepted count toward the exit code again")
                    .with_remediation(
                        "fix the finding, or renew the suppression with a new date and a current reason",
                        Vec::new(),
                    )
            } else {
                suppression_unused::RULE
                    .finding(
                        Resource::new("eksdrift::Suppression", &s.source),
                        format!(
                            "the suppression of {} at {} matched no finding",
                            s.describe(),
                            s.source
                        ),
                    )
                    .with_expected(Evidence::live("eksdrift.toml", s.reason.clone()))
                    .with_actual(Evidence::live("eksdrift.toml", serde_json::Value::Null))
                    .with_impact("left in place, it would accept the same drift when it comes back")
                    .with_remediation(
                        "remove the suppression, or correct what it matches",
                        Vec::new(),
                    )
            };
            report.targets[place].findings.push(finding);
            touched.insert(place);
        }
    }
    // Sorted once per target that got findings, not once per finding added.
    for place in touched {
        crate::report::sort_findings(&mut report.targets[place].findings);
    }
    report.recount();
}
