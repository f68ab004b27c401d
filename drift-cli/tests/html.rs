//! `-o html` in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) loads the report of a fixture fleet from disk. The rendered DOM (`--dump-dom`)
//! must hold every finding, the filters must be built by the script, a hostile bundle must
//! inject nothing, and the copy with its script stripped must read the same without
//! JavaScript. A screenshot is kept as a test artifact.
//!
//! Chromium contacts outside hosts on start-up even with background networking off: every
//! run maps every host name to nothing (`--host-resolver-rules`), and the report's own
//! Content-Security-Policy forbids any request.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{copy_dir, root};

/// The browser: `EKSDRIFT_CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("EKSDRIFT_CHROMIUM") {
        return PathBuf::from(p);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "no chromium on the PATH: install Debian's package (apt-get install chromium; .ci/run does) or set EKSDRIFT_CHROMIUM"
    );
}

/// Runs headless Chromium on `page` with `extra` arguments, no network, a fresh profile;
/// returns stdout. Killed after 90 s.
fn browse(page: &Path, extra: &[&str], profile: &Path) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--no-first-run",
            "--no-default-browser-check",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=3000",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .env("HOME", profile)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// Text as the DOM serialises it (`&`, `<`, `>` escaped; quotes kept in text).
fn dom_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\u{a0}', "&nbsp;")
}

const HOSTILE: &str = r#"<img src=x onerror=alert(1)><script>alert(2)</script>"'><a href="javascript:alert(3)">x</a><iframe src="https://example.com/"></iframe>"#;

/// A bundle whose stack output and tags carry markup.
fn hostile_bundle(to: &Path) {
    copy_dir(&root().join("fixtures/clean"), to);
    let path = to.join("describe-stacks.json");
    let mut stacks: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let cluster_stack = stacks["Stacks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["StackName"] == "eksctl-prod-cluster")
        .unwrap();
    for o in cluster_stack["Outputs"].as_array_mut().unwrap() {
        if o["OutputKey"] == "SubnetsPrivate" || o["OutputKey"] == "SharedNodeSecurityGroup" {
            o["OutputValue"] =
                serde_json::json!(format!("{}{HOSTILE}", o["OutputValue"].as_str().unwrap()));
        }
    }
    fs::write(&path, serde_json::to_string_pretty(&stacks).unwrap()).unwrap();
}

#[test]
fn the_html_report_renders_every_finding_in_a_browser_and_injects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    hostile_bundle(&dir.path().join("hostile"));
    let mut bundles: Vec<PathBuf> = [
        "clean",
        "subnet-replaced",
        "security-group-deleted",
        "nodegroup-stack-unusable",
        "oidc-provider-missing",
        "cluster-deleted",
    ]
    .iter()
    .map(|f| root().join("fixtures").join(f))
    .collect();
    bundles.push(dir.path().join("hostile"));
    let audit = |format: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_eksdrift"));
        cmd.args(["audit", "-o", format]);
        for b in &bundles {
            cmd.arg("--from").arg(b);
        }
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let report: serde_json::Value = serde_json::from_slice(&audit("json")).unwrap();
    let findings: Vec<&serde_json::Value> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .collect();
    assert!(findings.len() > 10, "a fleet with findings");
    let html = audit("html");
    let page = dir.path().join("report.html");
    fs::write(&page, &html).unwrap();
    let profile = dir.path().join("profile");

    let dom = browse(&page, &["--dump-dom"], &profile);
    assert!(dom.contains("Fleet overview"), "{dom}");
    // Every finding is rendered, with its message.
    assert_eq!(dom.matches("<div class=\"finding ").count(), findings.len());
    for f in &findings {
        let message = f["message"].as_str().unwrap();
        if message.chars().all(|c| !c.is_control()) && !message.contains('<') {
            assert!(dom.contains(&dom_text(message)), "missing: {message}");
        }
    }
    // The script ran: the filters are shown and filled from the findings.
    assert!(dom.contains("<form id=\"filters\">"), "filters not shown");
    assert!(
        dom.contains("<option value=\"EKD202\">EKD202</option>"),
        "rule filter not filled"
    );
    assert!(dom.contains("<option value=\"error\">error</option>"));
    // The hostile bundle injected nothing: one script (ours), no image, frame or link but the
    // overview's own anchors.
    assert_eq!(dom.matches("<script").count(), 1);
    assert!(
        !dom.contains("<img") && !dom.contains("<iframe"),
        "injected element"
    );
    assert!(!dom.contains("<a href=\"javascript"), "injected link");
    let anchors = dom.matches("<a ").count();
    assert_eq!(anchors, report["targets"].as_array().unwrap().len());
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the hostile value is shown as text"
    );

    // Without JavaScript (the script stripped): every finding is there, the filters stay hidden.
    let html = String::from_utf8(html).unwrap();
    let start = html.find("<script>").unwrap();
    let end = html.find("</script>").unwrap() + "</script>".len();
    let plain = dir.path().join("plain.html");
    fs::write(&plain, format!("{}{}", &html[..start], &html[end..])).unwrap();
    let dom = browse(&plain, &["--dump-dom"], &profile);
    assert_eq!(dom.matches("<script").count(), 0);
    assert_eq!(dom.matches("<div class=\"finding ").count(), findings.len());
    assert!(
        dom.contains("<form id=\"filters\" hidden=\"\">"),
        "filters shown without a script"
    );

    // A screenshot, kept as a test artifact.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("eksdrift-report.png");
    let _ = fs::remove_file(&shot);
    browse(
        &page,
        &[&format!("--screenshot={}", shot.display())],
        &profile,
    );
    let png = fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}
