//! `-o json`: exactly one JSON document on stdout.

use std::io::{self, Write};

use drift_core::report::Report;
use drift_core::rules::ALL;
use drift_core::text::write_json_safe;
use serde::Serialize;

pub fn report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    write_json_safe(&mut *w, report)?;
    writeln!(w)
}

#[derive(Serialize)]
struct RuleRow {
    code: &'static str,
    slug: &'static str,
    severity: &'static str,
    since: &'static str,
    summary: &'static str,
    breaks: Vec<&'static str>,
    inputs: Vec<&'static str>,
    actions: Vec<&'static str>,
    doc: String,
}

pub fn rules(w: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<RuleRow> = ALL
        .iter()
        .map(|r| RuleRow {
            code: r.code,
            slug: r.slug,
            severity: r.severity.as_str(),
            since: r.since,
            summary: r.summary,
            breaks: r.breaks.iter().map(|o| o.as_str()).collect(),
            inputs: r.inputs.iter().map(|i| i.as_str()).collect(),
            actions: r.actions(),
            doc: r.doc(),
        })
        .collect();
    write_json_safe(&mut *w, &rows)?;
    writeln!(w)
}
