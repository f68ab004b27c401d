use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every suppression that is in force but matched no finding of the run. It is the tool's
    /// own finding, not a check of the cluster.
    ///
    /// ## Why it matters
    ///
    /// The drift it accepted is gone (or the suppression never matched what it meant to): left
    /// in place, it would silently accept the same drift when it comes back.
    ///
    /// ## How to fix
    ///
    /// Remove the suppression, or correct what it matches (`code`/`rule`, `cluster`, `region`,
    /// `account`, `resource`).
    code: "EKD002",
    slug: "suppression-unused",
    severity: Info,
    since: "0.1.0",
    summary: "a suppression matched no finding: remove it before it hides the drift's return",
    breaks: [],
    inputs: [],
}

/// Never runs on a snapshot: suppressions are applied to the report (`crate::suppress`).
fn check(_: &Context<'_>) -> Checked {
    Ok(Vec::new())
}
