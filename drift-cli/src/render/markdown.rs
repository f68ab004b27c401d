//! `-o markdown`: for `$GITHUB_STEP_SUMMARY` and pull-request comments. A fleet summary table,
//! then each target's findings. Every value from AWS or a bundle is escaped so that it cannot
//! open a link, an image, emphasis, a table cell or raw HTML.

use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::report::{Report, TargetStatus};
use drift_core::text::inline;

/// `value` as inert Markdown text on one line, escaped only where CommonMark/GFM would read
/// it: emphasis, code, links and images, raw HTML and entities, table cells, strikethrough,
/// block markers at its start, autolinks (`://`, `www.`), and `@name` (a code span, so that a
/// pull-request comment notifies nobody). Control characters are made visible first.
fn md(value: &str) -> String {
    let visible = inline(value);
    let chars: Vec<char> = visible.chars().collect();
    let mut out = String::with_capacity(visible.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            ':' if chars.get(i + 1) == Some(&'/') => out.push_str("\\:"),
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push_str("\\.");
            }
            '@' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || "-_./".contains(*c)))
                    .map_or(chars.len(), |p| i + 1 + p);
                out.push('`');
                out.extend(&chars[i..end]);
                out.push('`');
                i = end;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
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
    // Against a baseline, what changed comes first.
    if let (Some(b), Some(c)) = (&report.baseline, &s.baseline) {
        let _ = write!(
            out,
            "### New since {}\n\n{} (baseline {})\n\n",
            md(&b.generated_at),
            super::baseline_counts(c),
            md(&b.source)
        );
        let new: Vec<_> = super::new_findings(report).collect();
        if !new.is_empty() {
            out.push_str(
                "| severity | code | cluster | resource | finding |\n|---|---|---|---|---|\n",
            );
            for (_, t, f) in new {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    f.severity,
                    md(&f.code),
                    md(&format!(
                        "{}{} {}",
                        t.account
                            .as_deref()
                            .map(|a| format!("{a}/"))
                            .unwrap_or_default(),
                        t.region.as_deref().unwrap_or(""),
                        t.cluster
                    )),
                    md(&f.resource.id),
                    md(&f.message)
                );
            }
            out.push('\n');
        }
        if !b.resolved.is_empty() {
            out.push_str("Resolved:\n\n");
            for r in &b.resolved {
                let _ = writeln!(
                    out,
                    "- {} {} {} {}: {}",
                    r.severity,
                    md(&r.code),
                    md(&r.cluster),
                    md(&r.resource.id),
                    md(&r.message)
                );
            }
            out.push('\n');
        }
    }
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
            let mut severity = match &f.suppressed {
                Some(s) => format!("{} (suppressed: {})", f.severity, md(&s.reason)),
                None => f.severity.to_string(),
            };
            if f.baseline_state == Some(drift_core::baseline::BaselineState::New) {
                severity.push_str(" **new**");
            }
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

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn plain_values_stay_readable_and_hostile_ones_inert() {
        assert_eq!(md("subnet-0aa2000000000000a"), "subnet-0aa2000000000000a");
        assert_eq!(md("us-west-2"), "us-west-2");
        assert_eq!(md("./bundles/prod"), "./bundles/prod");
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("[x](http://e)"), "\\[x\\](http\\://e)");
        assert_eq!(md("<img src=x>"), "&lt;img src=x&gt;");
        assert_eq!(md("ping @octocat now"), "ping `@octocat` now");
        assert_eq!(md("- item"), "\\- item");
        assert_eq!(md("www.example.com"), "www\\.example.com");
    }
}
