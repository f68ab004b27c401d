//! `-o sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. The rule
//! catalogue is `tool.driver.rules` (id = code, name = slug, help from the rule's docs); each
//! finding is a result with a level from its severity, logical locations for the region,
//! cluster, stack and resource, and a fingerprint that stays the same across runs for the same
//! drift (rule, region, cluster, resource), so code scanning tracks it.

use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::report::{Finding, Report, Severity, TargetReport, TargetStatus};
use drift_core::rules::ALL;
use drift_core::text::write_json_safe;
use serde_json::{Value, json};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A value as one URI path segment: everything but RFC 3986's unreserved characters
/// percent-encoded.
fn uri_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn result(t: &TargetReport, f: &Finding) -> Value {
    let region_name = t.region.as_deref().unwrap_or("unknown-region");
    // Two clusters of one name in two accounts (or two bundles) are told apart by the account,
    // else by the bundle: the account (or bundle) leads every qualified name.
    let owner = t
        .account
        .clone()
        .or_else(|| (t.source != "live").then(|| t.source.clone()));
    let region = owner
        .as_ref()
        .map_or_else(|| region_name.to_owned(), |o| format!("{o}/{region_name}"));
    let region = region.as_str();
    let index = ALL.iter().position(|r| r.code == f.code);
    let mut logical = Vec::new();
    if let Some(account) = &t.account {
        logical.push(json!({"name": account, "kind": "namespace", "fullyQualifiedName": account}));
    }
    logical.extend([
        json!({"name": region_name, "kind": "namespace", "fullyQualifiedName": region}),
        json!({"name": t.cluster, "kind": "module",
               "fullyQualifiedName": format!("{region}/{}", t.cluster)}),
    ]);
    if let Some(stack) = &t.stack {
        logical.push(json!({"name": stack.name, "kind": "object",
            "fullyQualifiedName": format!("{region}/{}/{}", t.cluster, stack.name)}));
    }
    logical.push(json!({"name": f.resource.id, "kind": "resource",
        "fullyQualifiedName": format!("{region}/{}/{}", t.cluster, f.resource.id)}));
    let breaks: Vec<&str> = f.breaks.iter().map(|o| o.as_str()).collect();
    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": {"text": format!("{} — {}", f.message, f.impact)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {
                "uri": format!(
                    "eksdrift/{}{}/{}",
                    t.account.as_deref().map(|a| format!("{}/", uri_segment(a))).unwrap_or_default(),
                    uri_segment(region_name),
                    uri_segment(&t.cluster)
                ),
            }},
            "logicalLocations": logical,
        }],
        "partialFingerprints": {
            // What tells two findings apart: rule, account (or bundle), region, cluster,
            // resource, and the message with its figures masked (it names the nodegroup, the
            // importing stack, …): the fingerprint `--baseline` compares.
            "eksdriftFinding/v3": drift_core::baseline::fingerprint(t, f),
        },
        "properties": {
            "cluster": t.cluster,
            "account": t.account,
            "region": region_name,
            "source": t.source,
            "resourceType": f.resource.kind,
            "breaks": breaks,
            "remediation": f.remediation.summary,
        },
    });
    if let Some(i) = index {
        r["ruleIndex"] = json!(i);
    }
    // Against --baseline: SARIF's own property for it ("unchanged" is persisting).
    if let Some(state) = f.baseline_state {
        r["baselineState"] = json!(match state {
            drift_core::baseline::BaselineState::New => "new",
            _ => "unchanged",
        });
    }
    // An accepted finding is reported as suppressed, which code scanning shows as dismissed.
    if let Some(s) = &f.suppressed {
        r["suppressions"] = json!([{
            "kind": "external",
            "justification": s.reason,
            "location": {"physicalLocation": {"artifactLocation": {"uri": uri_segment(&s.source)}}},
        }]);
    }
    r
}

pub fn report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let rules: Vec<Value> = ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.slug,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.doc(), "markdown": r.doc()},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "breaks": r.breaks.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let mut results: Vec<Value> = report
        .targets
        .iter()
        .flat_map(|t| t.findings.iter().map(move |f| result(t, f)))
        .collect();
    // The baseline's resolved findings: results in state "absent".
    if let Some(b) = &report.baseline {
        for r in &b.resolved {
            results.push(json!({
                "ruleId": r.code,
                "level": level(r.severity),
                "message": {"text": r.message},
                "baselineState": "absent",
                "properties": {
                    "cluster": r.cluster,
                    "account": r.account,
                    "region": r.region,
                    "resourceType": r.resource.kind,
                    "resource": r.resource.id,
                },
            }));
        }
    }
    // A target that could not be audited is a notification, not a result: it found nothing.
    let notifications: Vec<Value> = report
        .targets
        .iter()
        .filter(|t| t.status != TargetStatus::Audited)
        .map(|t| {
            let what = match &t.error {
                Some(e) => e.message.clone(),
                None => format!(
                    "partial audit: {}",
                    t.failed_inputs()
                        .map(|f| format!("{} failed ({})", f.operation, f.kind.as_str()))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            };
            json!({
                "level": if t.status == TargetStatus::Failed { "error" } else { "warning" },
                "message": {"text": format!(
                    "{} in {}: {}",
                    t.cluster,
                    t.region.as_deref().unwrap_or("?"),
                    what
                )},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "informationUri": "https://github.com/eksdrift/eksdrift",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": report.summary.failed == 0 && report.summary.partial == 0,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    write_json_safe(&mut *w, &doc)?;
    writeln!(w)
}
