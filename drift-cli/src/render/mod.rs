//! Renderers: write to any `Write`, never print directly.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod sarif;
pub mod table;

use drift_core::baseline::BaselineState;
use drift_core::report::{BaselineCounts, Finding, Report, TargetReport};

/// `2 new, 3 persisting, 1 resolved[, 4 not checked again]`: the baseline's counts, as every
/// format words them.
pub fn baseline_counts(c: &BaselineCounts) -> String {
    let again = if c.unverified > 0 {
        format!(", {} not checked again", c.unverified)
    } else {
        String::new()
    };
    format!(
        "{} new, {} persisting, {} resolved{again}",
        c.new, c.persisting, c.resolved
    )
}

/// The findings new against the baseline (suppressed ones left out), with their target and its
/// index in the report.
pub fn new_findings(report: &Report) -> impl Iterator<Item = (usize, &TargetReport, &Finding)> {
    report.targets.iter().enumerate().flat_map(|(i, t)| {
        t.findings
            .iter()
            .filter(|f| f.suppressed.is_none() && f.baseline_state == Some(BaselineState::New))
            .map(move |f| (i, t, f))
    })
}
