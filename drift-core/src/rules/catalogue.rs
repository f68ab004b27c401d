//! `docs/rules.md`, generated from the rule declarations.

use std::fmt::Write as _;

use super::ALL;

/// The catalogue in Markdown: a table, then one section per code.
#[must_use]
pub fn catalogue_markdown() -> String {
    let mut md = String::from(
        "# eksdrift rules\n\nGenerated from the rule declarations in `drift-core/src/rules/`; a test fails when this\nfile is stale (`EKSDRIFT_BLESS=1 cargo test` rewrites it). Codes and slugs are stable and never reused.\n\n| code | slug | default severity | since | fires when |\n|---|---|---|---|---|\n",
    );
    for r in ALL {
        let _ = writeln!(
            md,
            "| [{}](#{}) | `{}` | {} | {} | {} |",
            r.code,
            r.code.to_ascii_lowercase(),
            r.slug,
            r.severity,
            r.since,
            r.summary
        );
    }
    for r in ALL {
        let body = r.doc().replace("## ", "### ");
        let _ = write!(
            md,
            "\n## {}\n\n`{}` · default severity **{}** · since {} · fires when {}\n\n{}",
            r.code, r.slug, r.severity, r.since, r.summary, body
        );
    }
    md
}
