use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every suppression in `eksdrift.toml` (or `--config`) whose `expires` date has passed. Such
    /// a suppression no longer applies: the findings it accepted count again, and this finding
    /// says so, so that nothing stays muted by accident. It is the tool's own finding, not a
    /// check of the cluster.
    ///
    /// ## Why it matters
    ///
    /// A suppression records a decision ("the old subnets are being retired until March"); its
    /// date is when that decision is to be looked at again.
    ///
    /// ## How to fix
    ///
    /// Fix the finding, or renew the suppression with a new date and a current reason.
    code: "EKD001",
    slug: "suppression-expired",
    severity: Warning,
    since: "0.1.0",
    summary: "a suppression's expiry date has passed: it no longer applies",
    breaks: [],
    inputs: [],
}

/// Never runs on a snapshot: suppressions are applied to the report (`crate::suppress`).
fn check(_: &Context<'_>) -> Checked {
    Ok(Vec::new())
}
