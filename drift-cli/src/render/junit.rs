//! `-o junit`: JUnit XML for Jenkins and GitLab. A test suite per target, a test case per rule
//! checked (a failure per finding), skipped per rule not checked, an error for a target that
//! could not be audited. Every value is XML-escaped after control characters are made visible
//! (XML 1.0 cannot hold most of them at all).

use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::report::{Report, TargetReport, TargetStatus};
use drift_core::rules::ALL;
use drift_core::text::inline;

/// XML 1.0's `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn xml(value: &str) -> String {
    let visible = inline(value);
    let mut out = String::with_capacity(visible.len());
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 forbids (noncharacters U+FFFE, U+FFFF; controls are already
            // visible escapes): written as a visible escape, so every reader parses the file.
            c if !is_xml_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Writes one target's suite; returns its errors (a failed target, rules whose input failed).
fn suite(out: &mut String, t: &TargetReport) -> usize {
    // The account (offline: the bundle) tells apart clusters of one name.
    let owner = t.account.clone().unwrap_or_else(|| {
        if t.source == "live" {
            String::new()
        } else {
            t.source.clone()
        }
    });
    let name = if owner.is_empty() {
        format!("{} ({})", t.cluster, t.region.as_deref().unwrap_or("?"))
    } else {
        format!(
            "{} ({} {})",
            t.cluster,
            owner,
            t.region.as_deref().unwrap_or("?")
        )
    };
    let class = match &t.account {
        Some(a) => format!("eksdrift.{a}.{}", t.cluster),
        None => format!("eksdrift.{}", t.cluster),
    };
    if t.status == TargetStatus::Failed {
        let message = t.error.as_ref().map_or("", |e| e.message.as_str());
        let kind = t.error.as_ref().map_or("failed", |e| e.kind.as_str());
        let _ = write!(
            out,
            "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase classname=\"{}\" name=\"audit\">\n      <error type=\"{}\" message=\"{}\"/>\n    </testcase>\n  </testsuite>\n",
            xml(&name),
            xml(&class),
            xml(kind),
            xml(message)
        );
        return 1;
    }
    let checked = &t.coverage.checked;
    let skipped = &t.coverage.not_checked;
    // A rule left out because its input failed is an error of the run, not a skip.
    let failed: Vec<drift_core::input::Input> = t
        .inputs
        .iter()
        .filter(|i| i.failure.as_ref().is_some_and(|f| !f.wording_only))
        .map(|i| i.input)
        .collect();
    let mut cases = String::new();
    let (mut tests, mut failing, mut errors) = (0, 0, 0);
    for rule in ALL {
        let case = format!("{} {}", rule.code, rule.slug);
        let findings: Vec<_> = t
            .findings
            .iter()
            .filter(|f| f.code == rule.code && f.suppressed.is_none())
            .collect();
        if let Some(n) = skipped.iter().find(|n| n.rule == rule.slug) {
            tests += 1;
            if rule.inputs.iter().any(|i| failed.contains(i)) {
                errors += 1;
                let _ = write!(
                    cases,
                    "    <testcase classname=\"{}\" name=\"{}\">\n      <error type=\"partial\" message=\"{}\"/>\n    </testcase>\n",
                    xml(&class),
                    xml(&case),
                    xml(&n.reason)
                );
                continue;
            }
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                xml(&class),
                xml(&case),
                xml(&n.reason)
            );
            continue;
        }
        // The tool's own rules (suppressions) are cases only when they have something to say.
        if !checked.iter().any(|c| c == rule.slug) && findings.is_empty() {
            continue;
        }
        tests += 1;
        if findings.is_empty() {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\"/>",
                xml(&class),
                xml(&case)
            );
            continue;
        }
        failing += 1;
        // JUnit holds one failure per case: the first finding's message, every finding listed.
        let body: Vec<String> = findings
            .iter()
            .map(|f| format!("[{}] {}: {}", f.severity, f.resource.id, f.message))
            .collect();
        let _ = write!(
            cases,
            "    <testcase classname=\"{}\" name=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            xml(&class),
            xml(&case),
            findings[0].severity,
            xml(&findings[0].message),
            xml(&body.join("\n"))
        );
    }
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failing}\" errors=\"{errors}\" skipped=\"{}\">",
        xml(&name),
        skipped.len() - errors
    );
    out.push_str(&cases);
    out.push_str("  </testsuite>\n");
    errors
}

pub fn report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let c = &report.summary.findings;
    let mut suites = String::new();
    let errors: usize = report.targets.iter().map(|t| suite(&mut suites, t)).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"eksdrift\" failures=\"{}\" errors=\"{errors}\">\n",
        c.error + c.warning + c.info,
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn characters_xml_forbids_never_reach_the_file() {
        let text = super::xml("a\u{fffe}b\u{ffff}c\u{1b}d<");
        assert_eq!(text, "a\\u{fffe}b\\u{ffff}c\\u{1b}d&lt;");
        assert!(text.chars().all(super::is_xml_char));
    }
}
