//! `--baseline PREVIOUS.json` and `--fail-on new` on the committed fixtures: new, persisting
//! and resolved findings in every format, and the baselines that must be refused.

use std::fs;
use std::path::{Path, PathBuf};

mod common;
use common::{copy_dir, eksdrift, root};

/// Three bundles as a nightly job sees them: `a` keeps its drift (with changed evidence), `b`
/// is fixed between the runs, `c` joins in the second run.
struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &root().join("fixtures/subnet-ip-exhausted"),
            &dir.path().join("a"),
        );
        copy_dir(
            &root().join("fixtures/subnet-replaced"),
            &dir.path().join("b"),
        );
        Fleet { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Between the runs: `a`'s subnets have one more free address (still too few), `b` is
    /// repaired (it now holds the clean capture), `c` appears.
    fn next_night(&self) {
        let subnets = self.path("a/describe-subnets.json");
        let text = fs::read_to_string(&subnets).unwrap();
        assert!(text.contains("\"AvailableIpAddressCount\": 3,"), "{text}");
        fs::write(
            &subnets,
            text.replace(
                "\"AvailableIpAddressCount\": 3,",
                "\"AvailableIpAddressCount\": 4,",
            ),
        )
        .unwrap();
        fs::remove_dir_all(self.path("b")).unwrap();
        copy_dir(&root().join("fixtures/clean"), &self.path("b"));
        copy_dir(
            &root().join("fixtures/security-group-deleted"),
            &self.path("c"),
        );
    }

    fn audit(&self, bundles: &[&str], extra: &[&str]) -> std::process::Output {
        let mut cmd = eksdrift();
        cmd.arg("audit");
        for b in bundles {
            cmd.arg("--from").arg(self.path(b));
        }
        cmd.args(extra).output().unwrap()
    }

    /// The first night's JSON report, written as the baseline.
    fn baseline(&self) -> PathBuf {
        let out = self.audit(&["a", "b"], &["-o", "json"]);
        assert_eq!(out.status.code(), Some(1));
        let path = self.path("previous.json");
        fs::write(&path, &out.stdout).unwrap();
        path
    }
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (source folder name, code, state) of every finding.
fn states(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v = Vec::new();
    for t in report["targets"].as_array().unwrap() {
        let source = Path::new(t["source"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for f in t["findings"].as_array().unwrap() {
            v.push((
                source.clone(),
                f["code"].as_str().unwrap().to_owned(),
                f["baseline_state"].as_str().unwrap_or("-").to_owned(),
            ));
        }
    }
    v
}

#[test]
fn findings_are_new_persisting_or_resolved_and_evidence_changes_keep_them_persisting() {
    let fleet = Fleet::new();
    let baseline = fleet.baseline();
    fleet.next_night();
    let out = fleet.audit(
        &["a", "b", "c"],
        &["-o", "json", "--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["schema_version"], "1.4");
    let found = states(&report);
    // a: the same drift with other figures in its message: persisting, never new.
    let a: Vec<_> = found.iter().filter(|(s, ..)| s == "a").collect();
    assert!(!a.is_empty(), "{found:?}");
    assert!(a.iter().all(|(_, _, st)| st == "persisting"), "{a:?}");
    // c joined: all its findings are new.
    let c: Vec<_> = found.iter().filter(|(s, ..)| s == "c").collect();
    assert!(c.iter().any(|(_, code, _)| code == "EKD302"), "{c:?}");
    assert!(c.iter().all(|(_, _, st)| st == "new"), "{c:?}");
    // b was repaired: its findings are resolved.
    assert!(found.iter().all(|(s, ..)| s != "b"), "{found:?}");
    let resolved = report["baseline"]["resolved"].as_array().unwrap();
    assert!(
        resolved.iter().any(|r| r["code"] == "EKD202"),
        "{resolved:?}"
    );
    let s = &report["summary"]["baseline"];
    assert_eq!(s["new"].as_u64().unwrap() as usize, c.len());
    assert_eq!(s["persisting"].as_u64().unwrap() as usize, a.len());
    assert_eq!(s["resolved"].as_u64().unwrap() as usize, resolved.len());
    assert_eq!(s["unverified"], 0);

    // --fail-on new: c's new errors fail the run; without c, a's known backlog does not.
    let base = baseline.to_str().unwrap();
    let out = fleet.audit(&["a", "b", "c"], &["--baseline", base, "--fail-on", "new"]);
    assert_eq!(out.status.code(), Some(1));
    let out = fleet.audit(&["a", "b"], &["--baseline", base, "--fail-on", "new"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // a's persisting warning is the backlog: --fail-on warning fails on it, new:warning not.
    let out = fleet.audit(&["a", "b"], &["--baseline", base, "--fail-on", "warning"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the backlog fails --fail-on warning"
    );
    let out = fleet.audit(
        &["a", "b"],
        &["--baseline", base, "--fail-on", "new:warning"],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = fleet.audit(&["a", "b"], &["--baseline", base, "--fail-on", "new:info"]);
    assert_eq!(out.status.code(), Some(0));

    // a cannot be read tonight: its finding is neither resolved nor persisting, but counted.
    fs::remove_file(fleet.path("a/describe-stacks.json")).unwrap();
    let out = fleet.audit(&["a", "b"], &["-o", "json", "--baseline", base]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(report["summary"]["baseline"]["unverified"], 1, "{report:#}");
    assert!(
        report["baseline"]["resolved"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["code"] != "EKD209")
    );
}

#[test]
fn every_format_shows_the_baseline_states() {
    let fleet = Fleet::new();
    let baseline = fleet.baseline();
    fleet.next_night();
    let base = baseline.to_str().unwrap();
    let run = |format: &str| {
        let out = fleet.audit(&["a", "b", "c"], &["-o", format, "--baseline", base]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("table");
    assert!(table.contains("NEW"), "{table}");
    assert!(table.contains("(new ones marked NEW)"), "{table}");
    assert!(table.contains("resolved: error EKD202"), "{table}");

    let html = run("html");
    assert!(html.contains("<h2>New since"), "{html}");
    assert!(html.contains("<span class=\"new\">new</span>"));
    assert!(html.contains("<h3>Resolved</h3>"));

    let markdown = run("markdown");
    let new_since = markdown.find("### New since").expect("a new-since section");
    let first_cluster = markdown.find("\n### prod").expect("a cluster section");
    assert!(new_since < first_cluster, "{markdown}");
    assert!(markdown.contains("Resolved:"), "{markdown}");

    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let states: std::collections::BTreeSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["baselineState"].as_str())
        .collect();
    assert_eq!(
        states,
        ["absent", "new", "unchanged"].into_iter().collect(),
        "{sarif:#}"
    );

    let prometheus = run("prometheus");
    let report = json(&fleet.audit(&["a", "b", "c"], &["-o", "json", "--baseline", base]));
    let new = report["summary"]["baseline"]["new"].as_u64().unwrap();
    assert!(
        prometheus.contains(&format!(
            "eksdrift_findings_by_baseline_state{{state=\"new\"}} {new}"
        )),
        "{prometheus}"
    );
}

#[test]
fn a_baseline_that_cannot_be_used_is_an_error_never_everything_new() {
    let fleet = Fleet::new();
    let baseline = fleet.baseline();
    let text = fs::read_to_string(&baseline).unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated.json",
            text[..text.len() / 2].to_owned(),
            "not an eksdrift JSON report",
        ),
        (
            "other.json",
            "{\"hello\": 1}".to_owned(),
            "no schema_version",
        ),
        (
            "future.json",
            text.replacen(
                "\"schema_version\": \"1.4\"",
                "\"schema_version\": \"2.0\"",
                1,
            ),
            "a report of schema 2.0",
        ),
        (
            "renamed.json",
            text.replacen("\"summary\"", "\"summery\"", 1),
            "not an eksdrift JSON report",
        ),
    ];
    for (name, body, expect) in cases {
        let path = fleet.path(name);
        fs::write(&path, body).unwrap();
        let out = fleet.audit(&["a"], &["--baseline", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(expect) && stderr.contains(name),
            "{name}: {stderr}"
        );
    }
    // Not a regular file, or over --max-file-mb: refused before it is read whole.
    let out = fleet.audit(&["a"], &["--baseline", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    let big = fleet.path("big.json");
    fs::write(&big, vec![b' '; 2 * 1024 * 1024]).unwrap();
    let out = fleet.audit(
        &["a"],
        &["--baseline", big.to_str().unwrap(), "--max-file-mb", "1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("over the limit"));
    // Missing.
    let out = fleet.audit(
        &["a"],
        &["--baseline", fleet.path("missing.json").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
    // A baseline of other bundles (offline, the bundle stands for the account).
    copy_dir(&root().join("fixtures/clean"), &fleet.path("elsewhere"));
    let out = fleet.audit(&["elsewhere"], &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shares no account and region"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --fail-on new without a baseline cannot tell anything new.
    let out = fleet.audit(&["a"], &["--fail-on", "new"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-on new needs --baseline"));
    let out = fleet.audit(&["a"], &["--fail-on", "new:never"]);
    assert_eq!(out.status.code(), Some(2));
}
