//! `-o prometheus`: the Prometheus text exposition format, for node_exporter's textfile
//! collector. Every label value comes from AWS or a bundle: it is escaped as the format says
//! (`\\`, `"`, line feed) after control characters are made visible, so no value can end a
//! line or a label.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::report::{Report, TargetReport, TargetStatus};
use drift_core::text::inline;

/// A label value as the exposition format wants it.
fn label(value: &str) -> String {
    let visible = inline(value);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The labels of a target: account, cluster and region, and for an offline target the bundle
/// it came from (two captures of one cluster from two accounts would otherwise repeat every
/// series, which the textfile collector rejects).
fn target_labels(t: &TargetReport) -> String {
    let mut labels = format!(
        "account=\"{}\",cluster=\"{}\",region=\"{}\"",
        label(t.account.as_deref().unwrap_or("")),
        label(&t.cluster),
        label(t.region.as_deref().unwrap_or(""))
    );
    if t.source != "live" {
        let _ = write!(labels, ",source=\"{}\"", label(&t.source));
    }
    labels
}

/// `now`: the run's time in seconds since the epoch.
pub fn report(w: &mut dyn Write, report: &Report, now: f64) -> io::Result<()> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP eksdrift_findings Findings of the last run, by target, severity and rule code.\n# TYPE eksdrift_findings gauge"
    );
    for t in &report.targets {
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for f in t.findings.iter().filter(|f| f.suppressed.is_none()) {
            *counts
                .entry((f.severity.as_str(), f.code.as_str()))
                .or_default() += 1;
        }
        for ((severity, code), n) in counts {
            let _ = writeln!(
                out,
                "eksdrift_findings{{{},severity=\"{severity}\",code=\"{}\"}} {n}",
                target_labels(t),
                label(code)
            );
        }
    }
    if let Some(c) = &report.summary.baseline {
        let _ = writeln!(
            out,
            "# HELP eksdrift_findings_by_baseline_state Findings of the last run against --baseline: new, persisting, resolved, and the baseline's not checked again (unverified).\n# TYPE eksdrift_findings_by_baseline_state gauge"
        );
        for (state, n) in [
            ("new", c.new),
            ("persisting", c.persisting),
            ("resolved", c.resolved),
            ("unverified", c.unverified),
        ] {
            let _ = writeln!(
                out,
                "eksdrift_findings_by_baseline_state{{state=\"{state}\"}} {n}"
            );
        }
    }
    let mut per_target = |name: &str, help: &str, value: &dyn Fn(&TargetReport) -> usize| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for t in &report.targets {
            let _ = writeln!(out, "{name}{{{}}} {}", target_labels(t), value(t));
        }
    };
    per_target(
        "eksdrift_findings_suppressed",
        "Findings a suppression accepted (eksdrift.toml), by target.",
        &|t| t.findings.iter().filter(|f| f.suppressed.is_some()).count(),
    );
    per_target(
        "eksdrift_target_up",
        "1 when the target was audited (in full or in part), 0 when it could not be.",
        &|t| usize::from(t.was_audited()),
    );
    per_target(
        "eksdrift_target_partial",
        "1 when an input of the target could not be read and the rules that need it were not checked.",
        &|t| usize::from(t.status == TargetStatus::Partial),
    );
    per_target(
        "eksdrift_rules_not_checked",
        "Rules a target's inputs did not allow to check.",
        &|t| t.coverage.not_checked.len(),
    );
    let _ = writeln!(
        out,
        "# HELP eksdrift_api_calls AWS calls of the last run, by operation.\n# TYPE eksdrift_api_calls gauge"
    );
    for (operation, n) in &report.stats.api_calls {
        let _ = writeln!(
            out,
            "eksdrift_api_calls{{operation=\"{}\"}} {n}",
            label(operation)
        );
    }
    let _ = writeln!(
        out,
        "# HELP eksdrift_last_run_timestamp_seconds When the last run ended.\n# TYPE eksdrift_last_run_timestamp_seconds gauge\neksdrift_last_run_timestamp_seconds {now:.3}"
    );
    #[allow(clippy::cast_precision_loss)]
    let seconds = report.stats.elapsed_ms as f64 / 1000.0;
    let _ = writeln!(
        out,
        "# HELP eksdrift_run_duration_seconds How long the last run took.\n# TYPE eksdrift_run_duration_seconds gauge\neksdrift_run_duration_seconds {seconds:.3}"
    );
    w.write_all(out.as_bytes())
}
