//! `-o html`: one self-contained file that opens from disk with no network. Styles and the one
//! script are inline (a Content-Security-Policy forbids anything else: no fonts, no images, no
//! requests); the report reads in full without JavaScript, and with it gains filters by account,
//! region, severity and rule, and copy buttons on the fix commands.
//!
//! Every string from AWS or a bundle goes through [`esc`]: HTML-escaped for text and attribute
//! contexts alike (`& < > " '`), with unsafe characters (controls, bidi overrides, invisible
//! characters) shown as `\u{…}` first. The script reads `data-` attributes and never holds an
//! AWS string, so a hostile name can inject no element, attribute, script or link.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use drift_core::baseline::BaselineState;
use drift_core::report::{Evidence, Finding, Report, Severity, TargetReport, TargetStatus};

/// `s` safe in HTML text and in a quoted attribute value.
pub fn esc(s: &str) -> String {
    let s = drift_core::text::terminal_safe(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A multi-line block (a command list, pretty JSON): each line through [`esc`], the line
/// breaks kept.
fn esc_block(s: &str) -> String {
    s.split('\n').map(esc).collect::<Vec<_>>().join("\n")
}

const STYLE: &str = r#"
:root{--err:#b42318;--warn:#b54708;--info:#175cd3;--ok:#067647;--bg:#f8f9fb;--line:#d0d5dd;--muted:#475467}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);color:#101828}
header,main{max-width:1100px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:28px 0 8px}
h3{font-size:15px;margin:0 0 6px}
.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f2f4f7;font-weight:600}
td.n{text-align:right}
.target{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:16px 0}
.finding{border-left:4px solid var(--line);padding:8px 12px;margin:10px 0;background:#fcfcfd}
.finding.error{border-color:var(--err)}.finding.warning{border-color:var(--warn)}.finding.info{border-color:var(--info)}
.sev{display:inline-block;font-size:12px;font-weight:700;text-transform:uppercase;padding:1px 6px;border-radius:4px;color:#fff}
.sev.error{background:var(--err)}.sev.warning{background:var(--warn)}.sev.info{background:var(--info)}
.new{display:inline-block;font-size:12px;font-weight:700;padding:1px 6px;border-radius:4px;background:#fef0c7;color:#93370d}
.status-failed{color:var(--err);font-weight:600}.status-partial{color:var(--warn);font-weight:600}.status-audited{color:var(--ok)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:#101828;color:#f2f4f7;padding:8px 10px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
pre.evidence{background:#f2f4f7;color:#101828}
.fix{position:relative}
.fix button{position:absolute;top:6px;right:6px;font-size:12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
dt{color:var(--muted)}dd{margin:0}
#filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:16px 0;position:sticky;top:0}
#filters label{font-size:13px;color:var(--muted)}
.hidden{display:none}
"#;

/// Filters by account, region, severity and rule from the `data-` attributes; copy buttons on
/// fix commands. No AWS string is in here.
const SCRIPT: &str = r"
(function(){
  var form=document.getElementById('filters');
  var findings=Array.prototype.slice.call(document.querySelectorAll('.finding'));
  var keys=['account','region','severity','rule'];
  keys.forEach(function(k){
    var sel=document.getElementById('f-'+k);
    var seen={};
    findings.forEach(function(f){var v=f.getAttribute('data-'+k);if(v!==null&&v!==''){seen[v]=true;}});
    Object.keys(seen).sort().forEach(function(v){var o=document.createElement('option');o.value=v;o.textContent=v;sel.appendChild(o);});
    sel.addEventListener('change',apply);
  });
  function apply(){
    var want={};keys.forEach(function(k){want[k]=document.getElementById('f-'+k).value;});
    findings.forEach(function(f){
      var show=keys.every(function(k){return want[k]===''||f.getAttribute('data-'+k)===want[k];});
      f.classList.toggle('hidden',!show);
    });
    document.querySelectorAll('.target').forEach(function(t){
      var any=t.querySelectorAll('.finding').length===0||t.querySelectorAll('.finding:not(.hidden)').length>0;
      var filtered=keys.some(function(k){return want[k]!=='';});
      t.classList.toggle('hidden',filtered&&!any);
    });
  }
  form.hidden=false;
  document.querySelectorAll('.fix').forEach(function(box){
    var b=document.createElement('button');b.type='button';b.textContent='Copy';
    b.addEventListener('click',function(){
      var text=box.querySelector('code').textContent;
      if(navigator.clipboard){navigator.clipboard.writeText(text).then(function(){b.textContent='Copied';});}
    });
    box.appendChild(b);
  });
})();
";

fn severity_class(s: Severity) -> &'static str {
    s.as_str()
}

fn status_of(t: &TargetReport) -> (&'static str, String) {
    match t.status {
        TargetStatus::Audited => ("audited", "audited".to_owned()),
        TargetStatus::Partial => (
            "partial",
            format!(
                "partial: {}",
                t.failed_inputs()
                    .map(|f| format!("{} {}", f.operation, f.kind.as_str()))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        _ => (
            "failed",
            format!(
                "failed ({}): {}",
                t.error.as_ref().map_or("?", |e| e.kind.as_str()),
                t.error.as_ref().map_or("", |e| e.message.as_str())
            ),
        ),
    }
}

fn evidence(out: &mut String, label: &str, e: &Evidence) {
    let mut from = e.source.clone();
    if let Some(stack) = &e.stack {
        let _ = write!(from, " · {stack}");
    }
    if let Some(key) = &e.output_key {
        let _ = write!(from, " · {key}");
    }
    let value = serde_json::to_string_pretty(&e.value).unwrap_or_default();
    let _ = write!(
        out,
        "<dt>{label}</dt><dd>{}<pre class=\"evidence\">{}</pre></dd>",
        esc(&from),
        esc_block(&value)
    );
}

fn finding(out: &mut String, t: &TargetReport, f: &Finding) {
    let sev = severity_class(f.severity);
    let _ = write!(
        out,
        "<div class=\"finding {sev}\" data-account=\"{}\" data-region=\"{}\" data-severity=\"{sev}\" data-rule=\"{}\">",
        esc(t.account.as_deref().unwrap_or("")),
        esc(t.region.as_deref().unwrap_or("")),
        esc(&f.code)
    );
    let _ = write!(
        out,
        "<h3><span class=\"sev {sev}\">{sev}</span> <code>{}</code> {}{}{}</h3>",
        esc(&f.code),
        esc(&f.rule),
        if f.baseline_state == Some(BaselineState::New) {
            " <span class=\"new\">new</span>"
        } else {
            ""
        },
        f.suppressed.as_ref().map_or_else(String::new, |s| format!(
            " <span class=\"muted\">(suppressed: {})</span>",
            esc(&s.reason)
        )),
    );
    let _ = write!(out, "<p class=\"message\">{}</p><dl>", esc(&f.message));
    let _ = write!(
        out,
        "<dt>resource</dt><dd>{} <code>{}</code></dd>",
        esc(&f.resource.kind),
        esc(&f.resource.id)
    );
    if !f.impact.is_empty() {
        let _ = write!(out, "<dt>impact</dt><dd>{}</dd>", esc(&f.impact));
    }
    if !f.breaks.is_empty() {
        let names: Vec<&str> = f.breaks.iter().map(|o| o.as_str()).collect();
        let _ = write!(out, "<dt>breaks</dt><dd>{}</dd>", esc(&names.join(", ")));
    }
    evidence(out, "expected", &f.expected);
    evidence(out, "actual", &f.actual);
    if !f.remediation.summary.is_empty() {
        let _ = write!(out, "<dt>fix</dt><dd>{}", esc(&f.remediation.summary));
        if !f.remediation.commands.is_empty() {
            let _ = write!(
                out,
                "<div class=\"fix\"><pre><code>{}</code></pre></div>",
                esc_block(&f.remediation.commands.join("\n"))
            );
        }
        out.push_str("</dd>");
    }
    out.push_str("</dl></div>\n");
}

fn card(out: &mut String, label: &str, n: usize) {
    let _ = write!(out, "<div class=\"card\"><b>{n}</b>{label}</div>");
}

pub fn report(w: &mut dyn Write, report: &Report) -> io::Result<()> {
    let s = &report.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>eksdrift report {}</title><style>{STYLE}</style></head><body>\n",
        esc(&report.generated_at)
    );
    let _ = writeln!(
        out,
        "<header><h1>eksdrift report</h1><p class=\"muted\">generated {} by {} {}{}</p></header><main>",
        esc(&report.generated_at),
        esc(&report.tool.name),
        esc(&report.tool.version),
        report
            .tool
            .selection
            .as_deref()
            .map(|sel| format!(" · rules: {}", esc(sel)))
            .unwrap_or_default()
    );
    // The fleet first.
    out.push_str("<section id=\"overview\"><h2>Fleet overview</h2><div class=\"cards\">");
    card(&mut out, "targets", s.targets);
    card(&mut out, "audited", s.audited);
    card(&mut out, "partial", s.partial);
    card(&mut out, "failed", s.failed);
    card(&mut out, "errors", s.findings.error);
    card(&mut out, "warnings", s.findings.warning);
    card(&mut out, "info", s.findings.info);
    if let Some(b) = &s.baseline {
        card(&mut out, "new", b.new);
        card(&mut out, "persisting", b.persisting);
        card(&mut out, "resolved", b.resolved);
    }
    out.push_str("</div><table><thead><tr><th>cluster</th><th>account</th><th>region</th><th>status</th><th>errors</th><th>warnings</th><th>info</th><th>not checked</th></tr></thead><tbody>\n");
    for (i, t) in report.targets.iter().enumerate() {
        let c = t.counts();
        let (class, status) = status_of(t);
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#t{i}\">{}</a>{}</td><td>{}</td><td>{}</td><td class=\"status-{class}\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&t.cluster),
            if t.source == "live" {
                String::new()
            } else {
                format!("<br><small class=\"muted\">{}</small>", esc(&t.source))
            },
            esc(t.account.as_deref().unwrap_or("")),
            esc(t.region.as_deref().unwrap_or("")),
            esc(&status),
            c.error,
            c.warning,
            c.info,
            t.coverage.not_checked.len()
        );
    }
    out.push_str("</tbody></table></section>\n");
    // Against a baseline, what changed.
    if let (Some(b), Some(c)) = (&report.baseline, &s.baseline) {
        let _ = write!(
            out,
            "<section id=\"since\"><h2>New since {}</h2><p class=\"muted\">{} · baseline {}</p><ul>",
            esc(&b.generated_at),
            super::baseline_counts(c),
            esc(&b.source)
        );
        for (i, t, f) in super::new_findings(report) {
            let _ = write!(
                out,
                "<li><span class=\"sev {0}\">{0}</span> <code>{1}</code> <a href=\"#t{i}\">{2}</a>: {3}</li>",
                severity_class(f.severity),
                esc(&f.code),
                esc(&t.cluster),
                esc(&f.message)
            );
        }
        out.push_str("</ul>");
        if !b.resolved.is_empty() {
            out.push_str("<h3>Resolved</h3><ul>");
            for r in &b.resolved {
                let _ = write!(
                    out,
                    "<li><span class=\"sev {0}\">{0}</span> <code>{1}</code> {2} {3}: {4}</li>",
                    severity_class(r.severity),
                    esc(&r.code),
                    esc(&r.cluster),
                    esc(r.region.as_deref().unwrap_or("")),
                    esc(&r.message)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>\n");
    }
    // Filters: shown by the script (without it the whole report is simply there).
    out.push_str("<form id=\"filters\" hidden><strong>Filter</strong>");
    for (key, label) in [
        ("account", "account"),
        ("region", "region"),
        ("severity", "severity"),
        ("rule", "rule"),
    ] {
        let _ = write!(
            out,
            "<label for=\"f-{key}\">{label}</label><select id=\"f-{key}\"><option value=\"\">all</option></select>"
        );
    }
    out.push_str("</form>\n<section id=\"clusters\"><h2>Clusters</h2>\n");
    for (i, t) in report.targets.iter().enumerate() {
        let (class, status) = status_of(t);
        let _ = write!(
            out,
            "<article class=\"target\" id=\"t{i}\"><h2>{}</h2><p class=\"muted\">{}{} · {} · <span class=\"status-{class}\">{}</span></p>",
            esc(&t.cluster),
            t.account
                .as_deref()
                .map(|a| format!("account {} · ", esc(a)))
                .unwrap_or_default(),
            esc(t.region.as_deref().unwrap_or("unknown region")),
            esc(&t.source),
            esc(&status)
        );
        if let Some(stack) = &t.stack {
            let _ = write!(
                out,
                "<p>stack <code>{}</code> ({})</p>",
                esc(&stack.name),
                esc(&stack.status)
            );
        }
        let reasons: BTreeSet<&str> = t
            .coverage
            .not_checked
            .iter()
            .map(|n| n.reason.as_str())
            .collect();
        for reason in reasons {
            let rules: Vec<&str> = t
                .coverage
                .not_checked
                .iter()
                .filter(|n| n.reason == reason)
                .map(|n| n.rule.as_str())
                .collect();
            let _ = write!(
                out,
                "<p class=\"status-partial\">not checked: {} ({})</p>",
                esc(&rules.join(", ")),
                esc(reason)
            );
        }
        if t.findings.is_empty() && t.was_audited() {
            let _ = write!(
                out,
                "<p class=\"status-audited\">no drift found ({} rules checked)</p>",
                t.coverage.checked.len()
            );
        }
        for f in &t.findings {
            finding(&mut out, t, f);
        }
        out.push_str("</article>\n");
    }
    let _ = writeln!(
        out,
        "</section></main><script>{SCRIPT}</script></body></html>"
    );
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markup_and_controls_are_inert() {
        assert_eq!(
            esc("<script>alert('x')</script>\"&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"
        );
        let e = esc("a\u{1b}[31mb\u{202e}");
        assert!(!e.contains('\u{1b}') && !e.contains('\u{202e}'), "{e}");
    }
}
