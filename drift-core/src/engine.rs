//! The pure engine: one snapshot in, one target report out. No I/O, no clock, cannot fail —
//! drift is data, so a missing output or a deleted subnet is a finding, not an error.

use crate::report::{Coverage, NotChecked, StackInfo, TargetReport, TargetStatus, sort_findings};
use crate::rules::Context;
use crate::selection::Selection;
use crate::snapshot::Snapshot;

/// Audits one cluster: runs every rule of [`crate::rules::ALL`] and sorts the findings.
#[must_use]
pub fn audit(snapshot: &Snapshot) -> TargetReport {
    audit_with(snapshot, &Selection::all())
}

/// Audits one cluster with the rules `selection` picks (the others are not run and not
/// listed). A rule whose input failed is `not_checked` with the failed operation and its kind,
/// and the target is `partial`; every other rule still runs.
#[must_use]
pub fn audit_with(snapshot: &Snapshot, selection: &Selection) -> TargetReport {
    let ctx = Context::new(snapshot);
    let mut findings = Vec::new();
    let mut coverage = Coverage::default();
    let mut partial = false;
    let leftover = snapshot.cluster_missing();
    for rule in selection.rules() {
        // A plan's rules run only on a snapshot that carries a plan.
        if rule.is_plan() && snapshot.plan.is_none() {
            continue;
        }
        if leftover && !rule.leftover_stacks {
            coverage.not_checked.push(NotChecked {
                rule: rule.slug.to_owned(),
                reason: "the cluster does not exist in the region (not in ListClusters): only the stacks it left behind are audited".to_owned(),
            });
            continue;
        }
        if let Some(failure) = rule.inputs.iter().find_map(|i| snapshot.failure(*i)) {
            partial = true;
            coverage.not_checked.push(NotChecked {
                rule: rule.slug.to_owned(),
                reason: failure.reason(),
            });
            continue;
        }
        match (rule.check)(&ctx) {
            Ok(mut found) => {
                coverage.checked.push(rule.slug.to_owned());
                findings.append(&mut found);
            }
            Err(skip) => coverage.not_checked.push(NotChecked {
                rule: rule.slug.to_owned(),
                reason: skip.0,
            }),
        }
    }
    supersede_for_plan(snapshot, &mut findings);
    sort_findings(&mut findings);
    // The plan's findings first: they answer the question asked.
    findings.sort_by_key(|f| !f.code.starts_with("EKD9"));
    TargetReport {
        cluster: snapshot.cluster.name.clone(),
        account: None,
        region: snapshot.effective_region().map(str::to_owned),
        source: snapshot.source.clone(),
        status: if partial {
            TargetStatus::Partial
        } else {
            TargetStatus::Audited
        },
        error: None,
        stack: ctx.discovery.stack.map(|s| StackInfo {
            name: s.stack_name.clone(),
            status: s.stack_status.clone(),
            eksctl_version: s.eksctl_version().map(str::to_owned),
        }),
        coverage,
        inputs: snapshot.input_results(),
        findings,
    }
}

/// The generic findings a plan re-judges for the file's own objects: under a plan of `op`, these
/// rules' findings stay in the report but no longer gate `op`, which the plan's rules decide
/// (EKD901 where the file's nodegroups land; EKD907 which of the file's service accounts a
/// failed stack blocks).
const SUPERSEDED_BY_PLAN: [(crate::report::Operation, &str); 3] = [
    (crate::report::Operation::CreateNodegroup, "EKD202"),
    (crate::report::Operation::CreateNodegroup, "EKD203"),
    (crate::report::Operation::CreateIamserviceaccount, "EKD604"),
];

fn supersede_for_plan(snapshot: &Snapshot, findings: &mut [crate::report::Finding]) {
    let Some(plan) = &snapshot.plan else {
        return;
    };
    for f in findings.iter_mut() {
        if SUPERSEDED_BY_PLAN
            .iter()
            .any(|(op, code)| *op == plan.operation && *code == f.code)
        {
            f.breaks.retain(|o| *o != plan.operation);
        }
    }
}
