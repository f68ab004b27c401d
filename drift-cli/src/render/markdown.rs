//! `-o markdown`: for `$GITHUB_STEP_SUMMARY` and pull-request comments. A fleet summary table,
//! then each target's findings. Every value from AWS or a bundle is escaped so that it cannot
//! open a link, an image, emphasis, a table cell or raw HTML.

use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::report::{Report, TargetStatus};
use drift_core::text::inline;

/// `value` as inert Markdown text on one line: control characters visible, every Markdown
/// punctuation character backslash-escaped, `<` `>` `&` as entities.
fn md(value: &str) -> String {
    let visible = inline(value);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '"' | '\'' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

pub fn report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let s = &report.summary;
    let mut out = format!(
        "## eksdrift\n\n{} targets: {} audited, {} partial, {} failed · {} errors, {} warnings, {} info\n\n| account | cluster | region | status | errors | warnings | info | not checked |\n|---|---|---|---|---:|---:|---:|---:|\n",
        s.targets,
        s.audited,
        s.partial,
        s.failed,
        s.findings.error,
        s.findings.warning,
        s.findings.info
    );
    for t in &report.targets {
        let c = t.counts();
        let status = match t.status {
            TargetStatus::Audited => "audited".to_owned(),
            TargetStatus::Partial => format!(
                "**partial**: {}",
                t.failed_inputs()
                    .map(|f| format!("{} {}", md(&f.operation), f.kind.as_str()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            _ => format!(
                "failed: {}",
                md(t.error.as_ref().map_or("", |e| e.message.as_str()))
            ),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {status} | {} | {} | {} | {} |",
            md(t.account.as_deref().unwrap_or("")),
            md(&t.cluster),
            md(t.region.as_deref().unwrap_or("")),
            c.error,
            c.warning,
            c.info,
            t.coverage.not_checked.len()
        );
    }
    for t in report.targets.iter().filter(|t| !t.findings.is_empty()) {
        let _ = write!(
            out,
            "\n### {} · {}\n\n| severity | code | resource | finding | breaks |\n|---|---|---|---|---|\n",
            md(&t.cluster),
            md(t.region.as_deref().unwrap_or(""))
        );
        for f in &t.findings {
            let breaks: Vec<&str> = f.breaks.iter().map(|o| o.as_str()).collect();
            let severity = match &f.suppressed {
                Some(s) => format!("{} (suppressed: {})", f.severity, md(&s.reason)),
                None => f.severity.to_string(),
            };
            let _ = writeln!(
                out,
                "| {severity} | {} | {} | {} | {} |",
                md(&f.code),
                md(&f.resource.id),
                md(&f.message),
                md(&breaks.join(", "))
            );
        }
    }
    w.write_all(out.as_bytes())
}
