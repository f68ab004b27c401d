//! The human report: one table per target, readable at 100 columns. Every string that came
//! from AWS or a bundle goes through `safe` first: escapes shown, never interpreted, and very
//! long values cut.

use std::io::{self, Write};

use comfy_table::modifiers::UTF8_ROUND_CORNERS;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};
use drift_core::report::{Finding, Operation, Report, Severity, TargetReport, TargetStatus};
use drift_core::rules::{ALL, Rule};
use drift_core::text::terminal_safe;

/// Longest value shown in one cell; the JSON report has the rest.
const MAX_CELL: usize = 400;

/// Longest command line shown. A command is never cut (a cut inside a quoted argument would
/// flip the quoting of everything after it); a longer one is replaced whole by a pointer to
/// the JSON report.
const MAX_COMMAND_LINE: usize = 2000;

fn safe(s: &str) -> String {
    let escaped = terminal_safe(s);
    let count = escaped.chars().count();
    if count <= MAX_CELL {
        return escaped.into_owned();
    }
    let cut: String = escaped.chars().take(MAX_CELL).collect();
    format!(
        "{cut}… ({} more characters; -o json has them all)",
        count - MAX_CELL
    )
}

fn width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(100)
}

fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .apply_modifier(UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width());
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn severity_cell(s: Severity) -> Cell {
    let cell = Cell::new(s.as_str());
    match s {
        Severity::Error => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Severity::Warning => cell.fg(Color::Yellow),
        Severity::Info => cell.fg(Color::Blue),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn counts(errors: usize, warnings: usize, infos: usize) -> String {
    format!(
        "{}, {}, {} info",
        plural(errors, "error"),
        plural(warnings, "warning"),
        infos
    )
}

pub fn report(
    w: &mut dyn Write,
    report: &Report,
    color: bool,
    gate: Option<Operation>,
) -> io::Result<()> {
    if let Some(op) = gate {
        writeln!(
            w,
            "Gate: {} (the exit code counts only the findings that break it; they come first)\n",
            op.as_str()
        )?;
    }
    if report.targets.len() > FLEET {
        write_fleet(w, report)?;
    }
    for (i, target) in report.targets.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        write_target(w, target, color, gate)?;
    }
    let s = &report.summary;
    writeln!(w)?;
    writeln!(
        w,
        "{}: {} audited, {} failed · {}",
        plural(s.targets, "target"),
        s.audited,
        s.failed,
        counts(s.findings.error, s.findings.warning, s.findings.info)
    )?;
    write_baseline(w, report)
}

/// Against `--baseline`: the counts by state, then the resolved findings.
fn write_baseline(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let (Some(b), Some(c)) = (&report.baseline, &report.summary.baseline) else {
        return Ok(());
    };
    writeln!(
        w,
        "since {} ({}): {} (new ones marked NEW)",
        safe(&b.generated_at),
        safe(&b.source),
        super::baseline_counts(c)
    )?;
    for r in &b.resolved {
        writeln!(
            w,
            "resolved: {} {} {} · {}{} · {}",
            r.severity,
            r.code,
            safe(&r.cluster),
            r.account
                .as_deref()
                .map(|a| format!("{} · ", safe(a)))
                .unwrap_or_default(),
            safe(r.region.as_deref().unwrap_or("")),
            safe(&r.message)
        )?;
    }
    Ok(())
}

/// More targets than this, and the report starts with one line per target.
const FLEET: usize = 5;

/// The fleet at a glance: one row per target, before the details.
fn write_fleet(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .apply_modifier(UTF8_ROUND_CORNERS)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100);
    // Offline, several bundles may hold the same cluster: the bundle tells them apart.
    let offline = report.targets.iter().any(|t| t.source != "live");
    let accounts = report.targets.iter().any(|t| t.account.is_some());
    let mut header = vec!["CLUSTER"];
    if accounts {
        header.push("ACCOUNT");
    }
    header.push("REGION");
    if offline {
        header.push("SOURCE");
    }
    header.extend(["STATUS", "ERRORS", "WARNINGS", "INFO", "NOT CHECKED"]);
    table.set_header(header);
    for t in &report.targets {
        let c = t.counts();
        let status = match t.status {
            TargetStatus::Audited => "audited".to_owned(),
            TargetStatus::Partial => format!(
                "PARTIAL ({})",
                t.failed_inputs()
                    .map(|f| f.kind.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!(
                "failed ({})",
                t.error.as_ref().map_or("?", |e| e.kind.as_str())
            ),
        };
        let mut row = vec![safe(&t.cluster)];
        if accounts {
            row.push(safe(t.account.as_deref().unwrap_or("")));
        }
        row.push(safe(t.region.as_deref().unwrap_or("")));
        if offline {
            row.push(safe(&t.source));
        }
        row.extend([
            status,
            c.error.to_string(),
            c.warning.to_string(),
            c.info.to_string(),
            t.coverage.not_checked.len().to_string(),
        ]);
        table.add_row(row);
    }
    writeln!(w, "{table}\n")
}

fn write_target(
    w: &mut dyn Write,
    t: &TargetReport,
    color: bool,
    gate: Option<Operation>,
) -> io::Result<()> {
    let region = t.region.as_deref().unwrap_or("unknown region");
    writeln!(
        w,
        "{} · {}{} · {}",
        safe(&t.cluster),
        t.account
            .as_deref()
            .map(|a| format!("{} · ", safe(a)))
            .unwrap_or_default(),
        safe(region),
        safe(&t.source)
    )?;
    if t.status == TargetStatus::Failed {
        let (kind, message) = t
            .error
            .as_ref()
            .map_or(("internal", ""), |e| (e.kind.as_str(), e.message.as_str()));
        return writeln!(w, "could not be audited ({kind}): {}", safe(message));
    }
    match &t.stack {
        Some(stack) => writeln!(
            w,
            "stack {} ({}{})",
            safe(&stack.name),
            safe(&stack.status),
            stack
                .eksctl_version
                .as_deref()
                .map(|v| format!(", made by eksctl {}", safe(v)))
                .unwrap_or_default()
        )?,
        None => writeln!(w, "no eksctl cluster stack")?,
    }
    if t.status == TargetStatus::Partial {
        writeln!(
            w,
            "PARTIAL AUDIT: some inputs could not be read; the rules that need them were not checked"
        )?;
    }
    for i in &t.inputs {
        if let Some(f) = &i.failure {
            writeln!(
                w,
                "input {} failed{}: {} ({}): {}",
                i.input,
                if f.wording_only {
                    " (only a remediation's wording needs it)"
                } else {
                    ""
                },
                safe(&f.operation),
                f.kind.as_str(),
                safe(&f.message)
            )?;
        }
    }

    let open: Vec<Finding> = t
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .cloned()
        .collect();
    if !open.is_empty() {
        // The findings that break the gated operation first (a stable sort keeps the rest in
        // report order).
        let mut findings: Vec<&Finding> = open.iter().collect();
        if let Some(op) = gate {
            findings.sort_by_key(|f| !f.breaks.contains(&op));
        }
        let mut table = new_table(color);
        table.set_header(vec!["SEVERITY", "CODE", "RESOURCE", "FINDING"]);
        for f in findings {
            let code = match f.baseline_state {
                Some(drift_core::baseline::BaselineState::New) => format!("{}\nNEW", f.code),
                _ => f.code.clone(),
            };
            table.add_row(vec![
                severity_cell(f.severity),
                Cell::new(code),
                Cell::new(safe(&f.resource.id)),
                Cell::new(format!(
                    "{}\n→ {}{}",
                    safe(&f.message),
                    safe(&f.impact),
                    breaks_line(&f.breaks)
                )),
            ]);
        }
        writeln!(w, "{table}")?;
        write_fixes(w, &open)?;
    }
    // Accepted findings stay visible, one line each, with who accepted them and until when.
    for f in &t.findings {
        if let Some(s) = &f.suppressed {
            writeln!(
                w,
                "suppressed: {} {} {} — {} ({}{})",
                f.severity,
                f.code,
                safe(&f.resource.id),
                safe(&s.reason),
                safe(&s.source),
                s.expires
                    .as_deref()
                    .map(|e| format!(", until {}", safe(e)))
                    .unwrap_or_default()
            )?;
        }
    }
    // Rules skipped for the same reason share one line (a cluster that no longer exists
    // skips most of them).
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for n in &t.coverage.not_checked {
        match by_reason.iter_mut().find(|(r, _)| *r == n.reason) {
            Some((_, rules)) => rules.push(&n.rule),
            None => by_reason.push((&n.reason, vec![&n.rule])),
        }
    }
    for (reason, rules) in by_reason {
        writeln!(w, "not checked: {} ({})", rules.join(", "), safe(reason))?;
    }
    let c = t.counts();
    if open.is_empty() && t.status == TargetStatus::Partial {
        writeln!(
            w,
            "{}: no drift found by the {} rules that could check; {} could not (partial audit)",
            safe(&t.cluster),
            t.coverage.checked.len(),
            t.coverage.not_checked.len()
        )
    } else if open.is_empty() {
        writeln!(
            w,
            "{}: no drift found ({} rules checked)",
            safe(&t.cluster),
            t.coverage.checked.len()
        )
    } else {
        writeln!(
            w,
            "{}: {}",
            safe(&t.cluster),
            counts(c.error, c.warning, c.info)
        )
    }
}

/// `\nbreaks: a, b` when the finding names operations.
fn breaks_line(breaks: &[Operation]) -> String {
    if breaks.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = breaks.iter().map(|o| o.as_str()).collect();
    format!("\nbreaks: {}", names.join(", "))
}

/// Each distinct remediation once, with the codes it answers.
fn write_fixes(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    let mut fixes: Vec<(Vec<&str>, &drift_core::report::Remediation)> = Vec::new();
    for f in findings {
        if f.remediation.summary.is_empty() {
            continue;
        }
        match fixes.iter_mut().find(|(_, r)| **r == f.remediation) {
            Some((codes, _)) => {
                if !codes.contains(&f.code.as_str()) {
                    codes.push(&f.code);
                }
            }
            None => fixes.push((vec![&f.code], &f.remediation)),
        }
    }
    if fixes.is_empty() {
        return Ok(());
    }
    writeln!(w, "How to fix:")?;
    for (codes, fix) in fixes {
        let head = format!("[{}] {}", codes.join(", "), safe(&fix.summary));
        for (i, line) in wrap(&head, usize::from(width()).saturating_sub(4))
            .iter()
            .enumerate()
        {
            writeln!(w, "{}{line}", if i == 0 { "  " } else { "    " })?;
        }
        for cmd in &fix.commands {
            write_command(w, cmd)?;
        }
    }
    Ok(())
}

/// One remediation step, whole or not at all. Its lines are escaped, never cut.
fn write_command(w: &mut dyn Write, cmd: &str) -> io::Result<()> {
    let lines: Vec<_> = cmd.split('\n').map(terminal_safe).collect();
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    if longest > MAX_COMMAND_LINE {
        return writeln!(
            w,
            "      # a command of {longest} characters is not shown here; -o json has it whole (remediation.commands)"
        );
    }
    for line in lines {
        writeln!(w, "      {line}")?;
    }
    Ok(())
}

/// Greedy word wrap; a word longer than the width stays whole.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn rules(w: &mut dyn Write) -> io::Result<()> {
    let mut table = new_table(false);
    table.set_header(vec![
        "CODE",
        "SLUG",
        "SEVERITY",
        "FIRES WHEN",
        "READS (IAM ACTIONS)",
    ]);
    for r in ALL {
        let reads = if r.inputs.is_empty() {
            "eksdrift.toml".to_owned()
        } else {
            r.actions().join("\n")
        };
        table.add_row(vec![
            r.code.to_owned(),
            r.slug.to_owned(),
            r.severity.as_str().to_owned(),
            r.summary.to_owned(),
            reads,
        ]);
    }
    writeln!(w, "{table}")?;
    writeln!(
        w,
        "`--select` / `--ignore` (codes, prefixes such as EKD6, slugs, families) pick the rules; a live audit reads only what the selected rules need."
    )?;
    writeln!(
        w,
        "`eksdrift explain CODE` shows what a rule checks, why it matters and how to fix it."
    )
}

pub fn explain(w: &mut dyn Write, rule: &Rule) -> io::Result<()> {
    writeln!(
        w,
        "{} {} (default severity: {})",
        rule.code, rule.slug, rule.severity
    )?;
    writeln!(w)?;
    writeln!(w, "Fires when {}.", rule.summary)?;
    writeln!(w)?;
    write!(w, "{}", rule.doc())
}
