//! The real `eksdrift` binary on the committed fixtures: stdout, stderr and exit codes.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::assert::Assert;
use predicates::prelude::*;

mod common;
use common::{copy_dir, eksdrift, root};

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

fn json(assert: &Assert) -> serde_json::Value {
    // Exactly one JSON document: from_slice rejects trailing content.
    serde_json::from_slice(&assert.get_output().stdout).expect("stdout is one JSON document")
}

#[test]
fn seed_case_table_names_the_deleted_subnets_and_exits_1() {
    eksdrift()
        .args(["audit", "--from"])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1)
        .stderr("")
        .stdout(predicate::str::contains("EKD202"))
        .stdout(predicate::str::contains("subnet-0aa2000000000000a"))
        .stdout(predicate::str::contains("subnet-0bb2000000000000b"))
        .stdout(predicate::str::contains("EKD205"))
        .stdout(predicate::str::contains("nodeGroups:"))
        .stdout(predicate::str::contains("2 errors, 1 warning, 0 info"));
}

#[test]
fn table_fits_100_columns() {
    let out = eksdrift()
        .args(["audit", "--from"])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for line in text
        .lines()
        .filter(|l| l.starts_with(['╭', '│', '╞', '╰', '├']))
    {
        assert!(line.chars().count() <= 100, "{line}");
    }
}

#[test]
fn seed_case_json_is_one_document_with_the_contract_fields() {
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1)
        .stderr("");
    let v = json(&a);
    assert_eq!(v["schema_version"], "1.4");
    assert_eq!(v["tool"]["name"], "eksdrift");
    assert_eq!(v["summary"]["findings"]["error"], 2);
    assert_eq!(v["summary"]["audited"], 1);
    let t = &v["targets"][0];
    assert_eq!(t["cluster"], "prod");
    assert_eq!(t["region"], "us-west-2");
    assert_eq!(t["status"], "audited");
    assert_eq!(t["stack"]["eksctl_version"], "0.160.0");
    let f = &t["findings"][0];
    assert_eq!(f["code"], "EKD202");
    assert_eq!(f["rule"], "output-subnet-deleted");
    assert_eq!(f["resource"]["type"], "AWS::EC2::Subnet");
    assert_eq!(f["expected"]["output_key"], "SubnetsPrivate");
    assert_eq!(f["actual"]["source"], "ec2:DescribeSubnets");
    assert!(f["actual"]["value"].is_null());
    assert!(v["stats"]["elapsed_ms"].is_u64());
}

#[test]
fn clean_cluster_exits_0() {
    eksdrift()
        .args(["audit", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "prod: no drift found ({} rules checked)",
            drift_core::rules::ALL
                .iter()
                .filter(|r| !r.is_tool() && !r.is_plan())
                .count()
        )));
}

#[test]
fn fail_on_sets_the_threshold() {
    let warn_only = fixture("control-plane-subnets-changed");
    eksdrift()
        .args(["audit", "--from"])
        .arg(&warn_only)
        .assert()
        .code(0);
    eksdrift()
        .args(["audit", "--fail-on", "warning", "--from"])
        .arg(&warn_only)
        .assert()
        .code(1);
    eksdrift()
        .args(["audit", "--fail-on", "info", "--from"])
        .arg(fixture("cluster-stack-missing"))
        .assert()
        .code(1);
    eksdrift()
        .args(["audit", "--fail-on", "never", "--from"])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(0);
}

#[test]
fn malformed_file_exits_2_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("prod");
    copy_dir(&fixture("clean"), &bundle);
    fs::write(
        bundle.join("describe-stacks.json"),
        "{\n  \"Stacks\": [\n    {\"StackName\": }\n  ]\n}\n",
    )
    .unwrap();
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "describe-stacks.json:3:19: expected value",
        ));
    let v = json(&a);
    assert_eq!(v["targets"][0]["status"], "failed");
    assert_eq!(v["targets"][0]["error"]["kind"], "invalid_input");
    assert_eq!(v["summary"]["failed"], 1);
}

#[test]
fn missing_required_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("clean"), dir.path());
    fs::remove_file(dir.path().join("describe-subnets.json")).unwrap();
    eksdrift()
        .args(["audit", "--from"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "describe-subnets.json: required file is missing",
        ));
}

#[test]
fn a_folder_without_bundles_or_a_missing_path_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    eksdrift()
        .args(["audit", "--from"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no capture bundle found"));
    eksdrift()
        .args(["audit", "--from"])
        .arg(dir.path().join("nope"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope"));
}

#[test]
fn a_folder_of_bundles_audits_each_and_an_unreadable_one_wins_with_2() {
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(root().join("fixtures"))
        .assert()
        .code(1);
    let v = json(&a);
    let n = fs::read_dir(root().join("fixtures"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(v["summary"]["targets"], n);
    assert_eq!(v["summary"]["failed"], 0);

    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &fixture("subnet-replaced"),
        &dir.path().join("us-west-2/prod"),
    );
    copy_dir(&fixture("clean"), &dir.path().join("us-west-2/broken"));
    fs::write(
        dir.path().join("us-west-2/broken/describe-cluster.json"),
        "[]",
    )
    .unwrap();
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(dir.path())
        .assert()
        .code(2);
    let v = json(&a);
    assert_eq!(v["summary"]["audited"], 1);
    assert_eq!(v["summary"]["failed"], 1);
    // the readable bundle was still audited in full
    assert_eq!(v["summary"]["findings"]["error"], 2);
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    eksdrift()
        .args(["audit", "-o", "json", "--output-file"])
        .arg(&path)
        .arg("--from")
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1)
        .stdout("");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["summary"]["findings"]["error"], 2);
    // nothing but the report is left behind
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn hostile_strings_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("clean"), dir.path());
    let p = dir.path().join("describe-stacks.json");
    let text = fs::read_to_string(&p).unwrap().replace(
        "subnet-0aa1000000000000a,subnet-0bb1000000000000b",
        "subnet-0aa1000000000000a,\\u001b]8;;http://evil\\u0007x\\u001b[2J\\u202e\\u009b31m,subnet-0bb1000000000000b",
    );
    fs::write(&p, text).unwrap();
    let raw = ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'];
    for format in ["table", "json"] {
        let a = eksdrift()
            .args(["audit", "--color", "never", "-o", format, "--from"])
            .arg(dir.path())
            .assert()
            .code(1);
        let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
        assert!(out.contains("EKD202") && out.contains("EKD105"), "{out}");
        assert!(
            !out.contains(raw),
            "{format}: raw control character in {out:?}"
        );
    }
    // With colour on, the only escapes are our own SGR sequences.
    let a = eksdrift()
        .args(["audit", "--color", "always", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let out = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(out.contains("\u{1b}["));
    assert!(
        !out.contains("\u{1b}]")
            && !out.contains("\u{1b}[2J")
            && !out.contains(['\u{202e}', '\u{9b}'])
    );
}

#[test]
fn usage_errors_exit_2() {
    eksdrift()
        .args(["audit", "--from", "x", "-c", "prod"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    eksdrift()
        .args(["audit", "-o", "yaml", "--from", "x"])
        .assert()
        .code(2);
    eksdrift().assert().code(2);
}

#[test]
fn rules_and_explain() {
    let a = eksdrift().args(["rules", "-o", "json"]).assert().code(0);
    let v = json(&a);
    assert_eq!(v.as_array().unwrap().len(), drift_core::rules::ALL.len());
    let ekd202 = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "EKD202")
        .unwrap();
    assert_eq!(ekd202["slug"], "output-subnet-deleted");
    assert!(ekd202["doc"].as_str().unwrap().contains("## How to fix"));
    eksdrift()
        .arg("rules")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("output-subnet-deleted"));
    for key in ["EKD202", "ekd202", "output-subnet-deleted"] {
        eksdrift()
            .args(["explain", key])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("EKD202 output-subnet-deleted"))
            .stdout(predicate::str::contains("## How to fix"));
    }
    eksdrift()
        .args(["explain", "EKD999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule"));
}

#[test]
fn help_teaches_exit_codes_and_examples() {
    eksdrift()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes"));
    eksdrift()
        .args(["audit", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--fail-on"))
        .stdout(predicate::str::contains("Examples:"));
}

#[test]
fn closed_stdout_ends_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eksdrift"))
        .args(["audit", "-o", "json", "--fail-on", "never", "--from"])
        .arg(root().join("fixtures"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn very_long_values_are_cut_in_the_table_and_in_json_evidence_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("clean"), dir.path());
    let p = dir.path().join("describe-stacks.json");
    let long = "x".repeat(200_000);
    let pair = "subnet-0aa1000000000000a,subnet-0bb1000000000000b";
    let text = fs::read_to_string(&p)
        .unwrap()
        .replace(pair, &format!("{pair},{long}"));
    fs::write(&p, text).unwrap();
    let a = eksdrift()
        .args(["audit", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(
        table.contains("EKD105") && table.contains("more characters;"),
        "{table}"
    );
    assert!(
        table.len() < 20_000,
        "the table holds {} bytes",
        table.len()
    );
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let v = json(&a);
    let malformed = v["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "EKD105")
        .unwrap();
    // Every finding of an output carries its value: cut, so the report stays linear.
    let value = malformed["expected"]["value"].as_str().unwrap();
    assert!(value.starts_with(pair), "{value}");
    assert!(
        value.contains("(cut: ") && value.len() < 10_000,
        "{}",
        value.len()
    );
}

/// The command lines of the table's "How to fix" block, unindented.
fn table_commands(table: &str) -> String {
    table
        .lines()
        .skip_while(|l| *l != "How to fix:")
        .filter_map(|l| l.strip_prefix("      "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn table_commands_are_never_cut_and_stay_inert() {
    // A cluster name that is long enough to push the command past any cut, with a payload
    // that runs if the quoting of the argument is broken.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("subnet-replaced"), dir.path());
    let name = format!("{};pwned;#", "x".repeat(420));
    for e in fs::read_dir(dir.path()).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            // Per-item files are named after the cluster's stacks: dropped, not renamed.
            fs::remove_dir_all(&p).unwrap();
            continue;
        }
        let text = fs::read_to_string(&p).unwrap().replace("prod", &name);
        fs::write(&p, text).unwrap();
    }
    let a = eksdrift()
        .args(["audit", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let script = table_commands(&table);
    assert!(
        script.contains(&format!("--cluster '{name}'")),
        "the command is not whole:\n{script}"
    );

    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.path().join("argv.log");
    for tool in ["aws", "eksctl", "pwned"] {
        let p = bin.join(tool);
        fs::write(
            &p,
            format!("#!/bin/sh\necho \"{tool} $*\" >> '{}'\n", log.display()),
        )
        .unwrap();
        fs::set_permissions(
            &p,
            <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
    }
    let parse = Command::new("/bin/sh")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let parse = {
        let mut parse = parse;
        std::io::Write::write_all(parse.stdin.as_mut().unwrap(), script.as_bytes()).unwrap();
        parse.wait_with_output().unwrap()
    };
    assert!(
        parse.status.success(),
        "{}\n{script}",
        String::from_utf8_lossy(&parse.stderr)
    );
    let run = Command::new("/bin/sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", &bin)
        .output()
        .unwrap();
    let log = fs::read_to_string(&log).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("eksctl create nodegroup")),
        "{log}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!log.lines().any(|l| l.starts_with("pwned")), "{log}");
}

#[test]
fn closed_stdout_keeps_the_exit_code_of_the_audit() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eksdrift"))
        .args(["audit", "-o", "json", "--from"])
        .arg(root().join("fixtures"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    // Findings at error severity: 1, whether or not the reader kept reading.
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn output_file_dash_is_stdout() {
    eksdrift()
        .args(["audit", "-o", "json", "--output-file", "-", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("{"));
}

#[test]
fn output_file_writes_into_devices_and_through_links() {
    // A device is written into, never replaced by a regular file.
    eksdrift()
        .args(["audit", "--output-file", "/dev/null", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(0);
    let meta = fs::metadata("/dev/null").unwrap();
    assert!(!meta.is_file(), "/dev/null was replaced");

    // A link is written through: the target gets the report, the link stays a link.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    eksdrift()
        .args(["audit", "-o", "json", "--output-file"])
        .arg(&link)
        .arg("--from")
        .arg(fixture("clean"))
        .assert()
        .code(0);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(v["summary"]["targets"], 1);
}

#[test]
fn a_planted_temporary_name_is_never_followed() {
    // The old temporary name was predictable (`.NAME.PID.tmp`): plant links for the PIDs the
    // next processes get (5,000 of them: tests run in parallel), pointing at a file that must
    // survive.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    let next_pid = std::process::id();
    for pid in next_pid..next_pid + 5000 {
        let _ = std::os::unix::fs::symlink(&victim, dir.path().join(format!(".r.json.{pid}.tmp")));
    }
    eksdrift()
        .args(["audit", "-o", "json", "--output-file"])
        .arg(dir.path().join("r.json"))
        .arg("--from")
        .arg(fixture("clean"))
        .assert()
        .code(0);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(dir.path().join("r.json").is_file());
}

#[test]
fn an_empty_or_malformed_cluster_name_is_a_usage_error() {
    for bad in ["", "a b", "x/y", "x;y"] {
        eksdrift()
            .args(["audit", "-r", "us-west-2", "-c", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("EKS cluster name"));
    }
}

#[test]
fn an_unreadable_folder_fails_alone_and_the_rest_is_audited() {
    // As root every folder is readable: run eksdrift as nobody then.
    let dir = tempfile::Builder::new().tempdir_in("/tmp").unwrap();
    let perms = |p: &Path, mode: u32| {
        fs::set_permissions(
            p,
            <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode),
        )
        .unwrap();
    };
    for name in ["a", "b", "c"] {
        copy_dir(&fixture("clean"), &dir.path().join(name));
    }
    fs::create_dir(dir.path().join("locked")).unwrap();
    copy_dir(&fixture("clean"), &dir.path().join("locked/inner"));
    for e in walk(dir.path()) {
        perms(&e, if e.is_dir() { 0o755 } else { 0o644 });
    }
    perms(&dir.path().join("locked"), 0o000);
    let as_root = std::env::var("USER").as_deref() == Ok("root")
        || fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0);
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_eksdrift"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_eksdrift"))
    };
    let out = cmd
        .args(["audit", "-o", "json", "--from"])
        .arg(dir.path())
        .output()
        .unwrap();
    perms(&dir.path().join("locked"), 0o755);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["audited"], 3, "{v}");
    assert_eq!(v["summary"]["failed"], 1, "{v}");
    let failed = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "failed")
        .unwrap();
    assert!(
        failed["source"].as_str().unwrap().ends_with("locked"),
        "{failed}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_owned()];
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_huge_or_special_bundle_file_fails_that_bundle_alone() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("clean"), &dir.path().join("good"));
    copy_dir(&fixture("clean"), &dir.path().join("zero"));
    fs::remove_file(dir.path().join("zero/describe-subnets.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero/describe-subnets.json")).unwrap();
    copy_dir(&fixture("clean"), &dir.path().join("fifo"));
    fs::remove_file(dir.path().join("fifo/describe-stacks.json")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.path().join("fifo/describe-stacks.json"))
            .status()
            .unwrap()
            .success()
    );
    copy_dir(&fixture("clean"), &dir.path().join("big"));
    fs::File::create(dir.path().join("big/get-template.json"))
        .unwrap()
        .set_len(3 << 20)
        .unwrap();
    let a = eksdrift()
        .timeout(std::time::Duration::from_mins(1))
        .args(["audit", "-o", "json", "--max-file-mb", "2", "--from"])
        .arg(dir.path())
        .assert()
        .code(2);
    let v = json(&a);
    // A required file that cannot be read fails its bundle; an optional one (the template)
    // fails only its input, and the bundle is audited in part.
    assert_eq!(v["summary"]["audited"], 1, "{v}");
    assert_eq!(v["summary"]["partial"], 1, "{v}");
    assert_eq!(v["summary"]["failed"], 2, "{v}");
    for t in v["targets"].as_array().unwrap() {
        if t["status"] == "failed" {
            assert_eq!(t["error"]["kind"], "invalid_input", "{t}");
        }
        if t["status"] == "partial" {
            let failed: Vec<&serde_json::Value> = t["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["status"] == "failed")
                .collect();
            assert_eq!(failed.len(), 1, "{t}");
            assert_eq!(failed[0]["input"], "get-template");
            assert_eq!(failed[0]["failure"]["kind"], "invalid_input");
        }
    }
}

#[test]
fn for_gates_the_exit_code_on_one_operation() {
    let gate = |fixture_name: &str, op: &str| {
        eksdrift()
            .args(["audit", "-o", "json", "--for", op, "--from"])
            .arg(fixture(fixture_name))
            .assert()
            .get_output()
            .status
            .code()
    };
    // The seed case breaks create-nodegroup, not delete-cluster.
    assert_eq!(gate("subnet-replaced", "create-nodegroup"), Some(1));
    assert_eq!(gate("subnet-replaced", "delete-cluster"), Some(0));
    // A nodegroup stack in DELETE_FAILED breaks delete-cluster.
    assert_eq!(gate("nodegroup-stack-unusable", "delete-cluster"), Some(1));
    assert_eq!(
        gate("nodegroup-stack-unusable", "create-iamserviceaccount"),
        Some(0)
    );
    // The report stays whole, and names what each finding breaks.
    let a = eksdrift()
        .args(["audit", "-o", "json", "--for", "delete-cluster", "--from"])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(0);
    let v = json(&a);
    assert_eq!(v["schema_version"], "1.4");
    let findings = v["targets"][0]["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    assert_eq!(
        findings[0]["breaks"],
        serde_json::json!(["create-nodegroup"])
    );
    // The table says what is gated and puts those findings first.
    let a = eksdrift()
        .args(["audit", "--for", "delete-cluster", "--from"])
        .arg(fixture("nodegroup-stack-unusable"))
        .assert()
        .code(1);
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(table.starts_with("Gate: delete-cluster"), "{table}");
    let first_row = table.lines().find(|l| l.contains("EKD")).unwrap();
    assert!(first_row.contains("EKD501"), "{table}");
    eksdrift()
        .args(["audit", "--for", "delete-everything", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("delete-cluster"));
}

/// The Python that has the validators (`scripts/test` installs them and sets this).
fn python() -> String {
    std::env::var("EKSDRIFT_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Runs `script` in that Python with `input` on stdin; its stdout, or a panic naming the
/// failure (a missing validator says to run `./scripts/test`).
fn validate(script: &str, input: &[u8]) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new(python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the format validators; run the tests with ./scripts/test");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "validator failed (run ./scripts/test, which installs them):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The seed case with a cluster name and region made of everything a format could trip on.
fn hostile_bundle(dir: &Path) -> String {
    copy_dir(&fixture("subnet-replaced"), dir);
    let name = "x\"}\\ <img src=x onerror=alert(1)> | *[l](javascript:alert(1))* `# \u{1b}[31m\n";
    let path = dir.join("describe-cluster.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    v["cluster"]["name"] = serde_json::Value::from(name);
    fs::write(&path, v.to_string()).unwrap();
    // ListClusters would not list the new name: this is a cluster that exists.
    fs::remove_file(dir.join("list-clusters.json")).unwrap();
    name.to_owned()
}

/// The JSON report of the same inputs, to compare a format's counts with.
fn json_report(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = eksdrift()
        .args(["audit", "-o", "json"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn prometheus_output_parses_with_the_reference_parser() {
    let dir = tempfile::tempdir().unwrap();
    hostile_bundle(dir.path());
    let other = fixture("nodegroup-stack-unusable");
    let inputs = [
        std::ffi::OsStr::new("--from"),
        dir.path().as_os_str(),
        std::ffi::OsStr::new("--from"),
        other.as_os_str(),
    ];
    let a = eksdrift()
        .args(["audit", "-o", "prometheus"])
        .args(inputs)
        .assert()
        .code(1);
    let text = a.get_output().stdout.clone();
    let parsed = validate(
        r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        print(s.name, s.labels.get("cluster", ""), s.labels.get("code", ""), s.value, sep="\t")
"#,
        &text,
    );
    let rows: Vec<Vec<&str>> = parsed.lines().map(|l| l.split('\t').collect()).collect();
    let findings: f64 = rows
        .iter()
        .filter(|r| r[0] == "eksdrift_findings")
        .map(|r| r[3].parse::<f64>().unwrap())
        .sum();
    let json = json_report(&inputs);
    let c = &json["summary"]["findings"];
    let total =
        c["error"].as_u64().unwrap() + c["warning"].as_u64().unwrap() + c["info"].as_u64().unwrap();
    #[allow(clippy::cast_precision_loss)]
    let total = total as f64;
    assert!(total > 4.0);
    assert!(
        (findings - total).abs() < 0.5,
        "{findings} != {total}: {parsed}"
    );
    assert!(
        rows.iter()
            .any(|r| r[0] == "eksdrift_findings" && r[1] == "prod" && r[2] == "EKD501"),
        "{parsed}"
    );
    // The hostile name is one label value, with its control characters made visible.
    let hostile: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r[0] == "eksdrift_target_up" && r[1] != "prod")
        .collect();
    assert_eq!(hostile.len(), 1, "{parsed}");
    assert!(hostile[0][1].contains("<img src=x") && !hostile[0][1].contains('\u{1b}'));
}

#[test]
fn junit_output_loads_in_a_junit_reader() {
    let dir = tempfile::tempdir().unwrap();
    hostile_bundle(dir.path());
    let minimal = fixture("minimal");
    let inputs = [
        std::ffi::OsStr::new("--from"),
        dir.path().as_os_str(),
        std::ffi::OsStr::new("--from"),
        minimal.as_os_str(),
    ];
    let a = eksdrift()
        .args(["audit", "-o", "junit"])
        .args(inputs)
        .assert();
    let parsed = validate(
        r#"
import sys
from junitparser import JUnitXml
xml = JUnitXml.fromstring(sys.stdin.read())
for suite in xml:
    print(suite.name, suite.tests, suite.failures, suite.errors, suite.skipped, sep="\t")
"#,
        &a.get_output().stdout,
    );
    let suites: Vec<Vec<&str>> = parsed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(suites.len(), 2, "{parsed}");
    let json = json_report(&inputs);
    // Every rule that runs on a cluster (the tool's own EKD0xx come from suppressions; the
    // plan's EKD9xx run only with -f FILE).
    let rules = drift_core::rules::ALL
        .iter()
        .filter(|r| !r.is_tool() && !r.is_plan())
        .count()
        .to_string();
    for (suite, target) in suites.iter().zip(json["targets"].as_array().unwrap()) {
        // Every rule is a case; a rule with findings is one failure; not checked is skipped.
        assert_eq!(suite[1], rules, "{parsed}");
        let mut codes: Vec<&str> = target["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        codes.dedup();
        assert_eq!(suite[2], codes.len().to_string(), "{parsed}");
        assert_eq!(
            suite[4],
            target["coverage"]["not_checked"]
                .as_array()
                .unwrap()
                .len()
                .to_string(),
            "{parsed}"
        );
    }
    // The minimal bundle: what it cannot check is skipped, not passed.
    assert!(
        suites.iter().any(|s| s[4].parse::<usize>().unwrap() > 5),
        "{parsed}"
    );
}

#[test]
fn markdown_output_cannot_inject_links_html_or_cells() {
    let dir = tempfile::tempdir().unwrap();
    hostile_bundle(dir.path());
    let a = eksdrift()
        .args(["audit", "-o", "markdown", "--from"])
        .arg(dir.path())
        .assert();
    let findings = json_report(&[std::ffi::OsStr::new("--from"), dir.path().as_os_str()])
        ["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .len();
    assert!(findings > 0);
    let parsed = validate(
        r#"
import sys
from markdown_it import MarkdownIt
md = MarkdownIt("commonmark").enable("table")
tokens = md.parse(sys.stdin.read())
def walk(ts):
    for t in ts:
        yield t
        yield from walk(t.children or [])
kinds = [t.type for t in walk(tokens)]
print("tables", kinds.count("table_open"))
print("rows", kinds.count("tr_open"))
print("html", sum(1 for k in kinds if k.startswith("html")))
print("links", kinds.count("link_open") + kinds.count("image"))
print("emphasis", kinds.count("em_open") + kinds.count("strong_open") + kinds.count("code_inline"))
"#,
        &a.get_output().stdout,
    );
    // A summary table (header + 1 row) and the target's findings (header + a row each): no
    // value opened a cell or a row of its own.
    assert!(parsed.contains("tables 2\n"), "{parsed}");
    assert!(
        parsed.contains(&format!("rows {}\n", 3 + findings)),
        "{parsed}"
    );
    assert!(parsed.contains("html 0\n"), "{parsed}");
    assert!(parsed.contains("links 0\n"), "{parsed}");
    assert!(parsed.contains("emphasis 0\n"), "{parsed}");
}

#[test]
fn one_run_writes_several_formats() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("drift.json");
    let prom = dir.path().join("eksdrift.prom");
    let a = eksdrift()
        .args(["audit", "--color", "never", "--output-file"])
        .arg(format!("json={}", json.display()))
        .arg("--output-file")
        .arg(format!("prometheus={}", prom.display()))
        .arg("--from")
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1);
    // The table still goes to stdout.
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(table.contains("EKD202"), "{table}");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["summary"]["findings"]["error"], 2);
    assert!(
        fs::read_to_string(&prom)
            .unwrap()
            .contains(&format!("eksdrift_findings{{account=\"\",cluster=\"prod\",region=\"us-west-2\",source=\"{}\",severity=\"error\",code=\"EKD202\"}} 2", fixture("subnet-replaced").display()))
    );
    // Two destinations for the -o format is a usage error.
    eksdrift()
        .args([
            "audit",
            "--output-file",
            "a.json",
            "--output-file",
            "b.json",
            "--from",
        ])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("may be given once"));
}

#[test]
fn completions_and_the_man_page_are_well_formed() {
    let a = eksdrift().args(["completions", "bash"]).assert().code(0);
    let script = a.get_output().stdout.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eksdrift.bash");
    fs::write(&path, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(String::from_utf8_lossy(&script).contains("--output-file"));
    for shell in ["zsh", "fish"] {
        let a = eksdrift().args(["completions", shell]).assert().code(0);
        assert!(String::from_utf8_lossy(&a.get_output().stdout).contains("audit"));
    }
    let a = eksdrift().arg("man").assert().code(0);
    let roff = a.get_output().stdout.clone();
    let page = dir.path().join("eksdrift.1");
    fs::write(&page, &roff).unwrap();
    let render = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .expect("groff renders the man page");
    assert!(render.status.success());
    assert!(
        render.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    // rules -o markdown is docs/rules.md.
    let a = eksdrift()
        .args(["rules", "-o", "markdown"])
        .assert()
        .code(0);
    assert_eq!(
        String::from_utf8_lossy(&a.get_output().stdout),
        fs::read_to_string(fixture("../docs/rules.md")).unwrap()
    );
}

#[test]
fn a_fleet_table_starts_with_one_line_per_target() {
    let a = eksdrift()
        .args(["audit", "--color", "never", "--from"])
        .arg(fixture(""))
        .assert()
        .code(1);
    let table = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let first = table.lines().nth(1).unwrap();
    assert!(
        first.contains("CLUSTER") && first.contains("SOURCE"),
        "{table}"
    );
    let summary: Vec<&str> = table
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.contains("fixtures/"))
        .collect();
    let bundles = fs::read_dir(fixture(""))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(summary.len(), bundles, "{table}");
    for line in table.lines().take_while(|l| !l.is_empty()) {
        assert!(line.chars().count() <= 100, "{line}");
    }
}

/// The published SARIF schema's `language` patterns hold a stray `]` that strict regex engines
/// (Rust's among them) reject as a pattern; escaped, as ECMAScript reads it.
fn escape_stray_bracket(v: &mut serde_json::Value, fixed: &mut usize) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if k == "pattern" && v == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                    *v = serde_json::Value::from("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                    *fixed += 1;
                } else {
                    escape_stray_bracket(v, fixed);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                escape_stray_bracket(v, fixed);
            }
        }
        _ => {}
    }
}

/// The SARIF 2.1.0 schema, compiled.
fn sarif_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut schema = schema;
    let mut fixed = 0;
    escape_stray_bracket(&mut schema, &mut fixed);
    assert!(fixed >= 1);
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    let dir = tempfile::tempdir().unwrap();
    hostile_bundle(dir.path());
    let mut seen_results = 0;
    for inputs in [
        vec![fixture("subnet-replaced")],
        vec![fixture("clean")],
        vec![dir.path().to_owned(), fixture("nodegroup-stack-unusable")],
    ] {
        let mut cmd = eksdrift();
        cmd.args(["audit", "-o", "sarif"]);
        for i in &inputs {
            cmd.arg("--from").arg(i);
        }
        let a = cmd.assert();
        let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        let run = &doc["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["rules"].as_array().unwrap().len(),
            drift_core::rules::ALL.len()
        );
        for r in run["results"].as_array().unwrap() {
            let i = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(run["tool"]["driver"]["rules"][i]["id"], r["ruleId"]);
            seen_results += 1;
        }
    }
    assert!(seen_results > 5);
    // The same drift has the same fingerprint in another run.
    let run = || {
        let a = eksdrift()
            .args(["audit", "-o", "sarif", "--from"])
            .arg(fixture("subnet-replaced"))
            .assert();
        let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["eksdriftFinding/v3"].clone())
            .collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    let mut distinct = first.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), first.len(), "one fingerprint per finding");
}

/// `eksdrift.toml` in a fresh working folder, and eksdrift run there on the seed case.
fn with_config(toml: &str, extra: &[&str]) -> (Assert, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("eksdrift.toml"), toml).unwrap();
    let a = eksdrift()
        .current_dir(dir.path())
        .args(["audit", "--from"])
        .arg(fixture("subnet-replaced"))
        .args(if extra.contains(&"-o") {
            &[][..]
        } else {
            &["-o", "json"][..]
        })
        .args(extra)
        .assert();
    (a, dir)
}

#[test]
fn suppressions_accept_findings_until_they_expire() {
    // The two EKD202 findings accepted until a future date, EKD205 without a date: nothing of
    // error severity is left, so the exit code is 0, and everything is still in the report.
    let toml = r#"
[[suppress]]
code = "EKD202"
cluster = "pro?"
reason = "old private subnets retired in CHG-1234"
expires = 2999-12-31

[[suppress]]
rule = "control-plane-subnets-changed"
resource = "prod"
reason = "subnets replaced on purpose"
"#;
    let (a, _dir) = with_config(toml, &[]);
    let a = a.code(0);
    let v = json(&a);
    let t = &v["targets"][0];
    let findings = t["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{t}");
    assert!(findings.iter().all(|f| f["suppressed"].is_object()), "{t}");
    let f = findings.iter().find(|f| f["code"] == "EKD202").unwrap();
    assert_eq!(
        f["suppressed"]["reason"],
        "old private subnets retired in CHG-1234"
    );
    assert_eq!(f["suppressed"]["expires"], "2999-12-31");
    assert_eq!(f["suppressed"]["source"], "eksdrift.toml:2");
    assert_eq!(v["summary"]["suppressed"], 3);
    assert_eq!(
        v["summary"]["findings"],
        serde_json::json!({"error": 0, "warning": 0, "info": 0})
    );
    // --no-suppress shows everything as if there were no file.
    let (a, _dir) = with_config(toml, &["--no-suppress"]);
    let v = json(&a.code(1));
    assert_eq!(v["summary"]["suppressed"], 0);
    assert_eq!(v["summary"]["findings"]["error"], 2);
    // SARIF marks them suppressed (code scanning shows them dismissed), and stays valid;
    // Prometheus counts them apart.
    let (a, _dir) = with_config(toml, &["-o", "sarif"]);
    let doc: serde_json::Value = serde_json::from_slice(&a.code(0).get_output().stdout).unwrap();
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "external")
    );
    let (a, _dir) = with_config(toml, &["-o", "prometheus"]);
    let prom = String::from_utf8(a.code(0).get_output().stdout.clone()).unwrap();
    assert!(
        prom.contains(&format!(
            "eksdrift_findings_suppressed{{account=\"\",cluster=\"prod\",region=\"us-west-2\",source=\"{}\"}} 3",
            fixture("subnet-replaced").display()
        )),
        "{prom}"
    );
    assert!(!prom.contains("eksdrift_findings{"), "{prom}");
    // The table lists what was accepted, with where and until when.
    let (a, _dir) = with_config(toml, &["-o", "table"]);
    let table = String::from_utf8(a.code(0).get_output().stdout.clone()).unwrap();
    assert!(
        table.contains("suppressed: error EKD202 subnet-0aa2000000000000a — old private subnets retired in CHG-1234 (eksdrift.toml:2, until 2999-12-31)"),
        "{table}"
    );
}

#[test]
fn an_expired_suppression_stops_applying_and_says_so() {
    let toml = r#"
[[suppress]]
code = "EKD202"
reason = "until the migration"
expires = "2020-01-31"

[[suppress]]
code = "EKD301"
reason = "nothing matches this"
"#;
    let (a, _dir) = with_config(toml, &[]);
    let v = json(&a.code(1));
    let findings = v["targets"][0]["findings"].as_array().unwrap();
    // EKD202 counts again; EKD001 (warning) says the suppression expired, EKD002 (info) that
    // the other matched nothing.
    assert!(
        findings
            .iter()
            .filter(|f| f["code"] == "EKD202")
            .all(|f| f["suppressed"].is_null())
    );
    let expired = findings.iter().find(|f| f["code"] == "EKD001").unwrap();
    assert_eq!(expired["severity"], "warning");
    assert!(
        expired["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2020-01-31")
    );
    assert_eq!(expired["resource"]["id"], "eksdrift.toml:2");
    let unused = findings.iter().find(|f| f["code"] == "EKD002").unwrap();
    assert_eq!(unused["severity"], "info");
    assert_eq!(unused["resource"]["id"], "eksdrift.toml:7");
    assert_eq!(v["summary"]["findings"]["error"], 2);
}

#[test]
fn a_bad_suppressions_file_is_a_usage_error_naming_the_line() {
    for (toml, expected) in [
        (
            "[[suppress]]\ncode = \"EKD202\"\n",
            "eksdrift.toml:1: a suppression needs a `reason`",
        ),
        (
            "[[suppress]]\ncode = \"EKD202\"\nreason = \"x\"\nexpires = \"2027-02-30\"\n",
            "eksdrift.toml:1: `expires` must be a date, YYYY-MM-DD (got 2027-02-30)",
        ),
        (
            "\n\n[[suppress]]\ncode = \"EKD202\"\nreason = \"x\"\nuntil = 2027-01-01\n",
            "eksdrift.toml:6",
        ),
        (
            "[[suppress]]\ncode = \"EKD999\"\nreason = \"x\"\n",
            "no rule \"EKD999\"",
        ),
        (
            "[[suppress]]\nreason = \"x\"\n",
            "with `code = \"EKD…\"` or `rule = \"slug\"`",
        ),
    ] {
        let (a, _dir) = with_config(toml, &[]);
        a.code(2).stderr(predicate::str::contains(expected));
    }
    // An explicit --config that does not exist is an error too.
    eksdrift()
        .args(["audit", "--config", "/nonexistent/eksdrift.toml", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/eksdrift.toml"));
}

#[test]
fn a_broken_optional_file_gives_a_partial_target_that_exits_2_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("prod");
    copy_dir(&fixture("subnet-replaced"), &bundle);
    fs::write(bundle.join("list-roles.json"), "{\"Roles\": [").unwrap();
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("partial audit"))
        .stderr(predicate::str::contains(
            "list-roles.json failed (invalid_input)",
        ));
    let v = json(&a);
    let t = &v["targets"][0];
    assert_eq!(t["status"], "partial");
    assert_eq!(v["summary"]["partial"], 1);
    // Only the rules that read IAM roles are left out; the seed case is still found.
    let left_out: Vec<&str> = t["coverage"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["reason"]
                .as_str()
                .unwrap()
                .contains("list-roles.json failed")
        })
        .map(|n| n["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        left_out,
        [
            "irsa-role-trusts-other-issuer",
            "irsa-role-missing",
            "access-entry-role-missing",
            "pod-identity-role-missing",
            "cluster-stack-role-missing",
            "fargate-profile-role-missing",
            "auto-mode-node-role-broken",
            "addon-role-missing"
        ]
    );
    assert!(
        t["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "EKD202")
    );
    // --allow-partial: the exit code is the findings'.
    eksdrift()
        .args(["audit", "--allow-partial", "--from"])
        .arg(&bundle)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("PARTIAL AUDIT"))
        .stdout(predicate::str::contains("input list-roles failed"));
    // Without the rules that need the file, the audit is complete.
    eksdrift()
        .args([
            "audit",
            "--ignore",
            "EKD602,EKD603,EKD606,EKD607,EKD608,EKD609,EKD610,EKD803",
            "--from",
        ])
        .arg(&bundle)
        .assert()
        .code(1)
        .stderr("");
    // A gate that depends on none of them passes on its findings; one that does cannot pass.
    eksdrift()
        .args([
            "audit",
            "--for",
            "delete-cluster",
            "--allow-partial",
            "--from",
        ])
        .arg(&bundle)
        .assert()
        .code(0);
}

#[test]
fn select_and_ignore_pick_the_rules() {
    let a = eksdrift()
        .args([
            "audit",
            "-o",
            "json",
            "--select",
            "EKD2",
            "--ignore",
            "control-plane-subnets-changed",
            "--from",
        ])
        .arg(fixture("subnet-replaced"))
        .assert()
        .code(1);
    let v = json(&a);
    let t = &v["targets"][0];
    let checked: Vec<&str> = t["coverage"]["checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(checked.contains(&"output-subnet-deleted"));
    assert!(!checked.contains(&"control-plane-subnets-changed"));
    assert!(!checked.contains(&"required-output-missing"));
    for f in t["findings"].as_array().unwrap() {
        assert!(f["code"].as_str().unwrap().starts_with("EKD2"), "{f}");
        assert_ne!(f["code"], "EKD205");
    }
    assert_eq!(
        v["tool"]["selection"],
        "select=EKD2 ignore=control-plane-subnets-changed"
    );
    // Families and the config file.
    let (a, _dir) = with_config("select = [\"identity\"]\n", &[]);
    let v = json(&a.code(0));
    assert!(
        v["targets"][0]["coverage"]["checked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| drift_core::rules::find(c.as_str().unwrap())
                .unwrap()
                .code
                .starts_with("EKD6"))
    );
    eksdrift()
        .args(["audit", "--select", "nope", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"nope\" names no rule"));
    // The catalogue says what each rule reads.
    eksdrift()
        .args(["rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("iam:ListRoles"));
    let a = eksdrift().args(["rules", "-o", "json"]).assert().code(0);
    let rules = json(&a);
    let ekd602 = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "EKD602")
        .unwrap();
    assert!(
        ekd602["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "iam:ListRoles")
    );
    assert!(
        ekd602["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "list-roles")
    );
}

#[test]
fn a_config_inside_a_from_folder_is_never_read() {
    // A bundle that ships an eksdrift.toml accepting its own findings.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    copy_dir(&fixture("subnet-replaced"), &bundle);
    let accept_all = "[[suppress]]\ncode = \"EKD202\"\nreason = \"shipped with the bundle\"\n[[suppress]]\ncode = \"EKD205\"\nreason = \"x\"\n";
    fs::write(bundle.join("eksdrift.toml"), accept_all).unwrap();
    let a = eksdrift()
        .current_dir(&bundle)
        .args(["audit", "-o", "json", "--from", "."])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not read"));
    let v = json(&a);
    assert!(v["tool"]["config"].is_null(), "{v}");
    assert_eq!(v["summary"]["suppressed"], 0);
    // Named explicitly, it is read, and the report and stderr say which file.
    let a = eksdrift()
        .current_dir(&bundle)
        .args([
            "audit",
            "-o",
            "json",
            "--config",
            "eksdrift.toml",
            "--from",
            ".",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("using eksdrift.toml"));
    let v = json(&a);
    assert_eq!(v["tool"]["config"], "eksdrift.toml");
    assert_eq!(v["summary"]["suppressed"], 3);
    // From a working folder outside the bundle, its eksdrift.toml is the config in use...
    let outside = dir.path().join("work");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("eksdrift.toml"), accept_all).unwrap();
    let a = eksdrift()
        .current_dir(&outside)
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("using eksdrift.toml"));
    assert_eq!(json(&a)["tool"]["config"], "eksdrift.toml");
    // ...unless --isolated: no config at all.
    let a = eksdrift()
        .current_dir(&outside)
        .args(["audit", "-o", "json", "--isolated", "--from"])
        .arg(&bundle)
        .assert()
        .code(1)
        .stderr("");
    assert!(json(&a)["tool"]["config"].is_null());
}

#[test]
fn one_destination_named_twice_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x");
    for args in [
        vec![
            format!("json={}", x.display()),
            format!("sarif={}", x.display()),
        ],
        vec![
            x.display().to_string(),
            format!("prometheus={}", x.display()),
        ],
        vec!["sarif=-".to_owned()],
    ] {
        let mut cmd = eksdrift();
        cmd.args(["audit", "-o", "json", "--from"])
            .arg(fixture("clean"));
        for a in &args {
            cmd.arg("--output-file").arg(a);
        }
        cmd.assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains("names the same destination"));
        assert!(!x.exists(), "{args:?}");
    }
}

#[test]
fn every_format_tells_targets_and_findings_apart() {
    // One cluster captured twice (two accounts, two folders), audited together.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &fixture("subnet-replaced"),
        &dir.path().join("111111111111/prod"),
    );
    copy_dir(
        &fixture("subnet-replaced"),
        &dir.path().join("222222222222/prod"),
    );
    let a = eksdrift()
        .args(["audit", "-o", "prometheus", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let text = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let series = line.rsplit_once(' ').unwrap().0;
        assert!(seen.insert(series.to_owned()), "repeated series {series}");
    }
    let a = eksdrift()
        .args(["audit", "-o", "junit", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let xml = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let suites: Vec<&str> = xml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<testsuite name=\""))
        .map(|l| l.split('"').next().unwrap())
        .collect();
    assert_eq!(suites.len(), 2);
    assert_ne!(suites[0], suites[1], "{suites:?}");
    // SARIF: distinct findings have distinct fingerprints (three importers of one export, two
    // nodegroups on one subnet), and the same finding in two bundles is told apart.
    for name in ["export-imported-elsewhere", "nodegroup-subnet-deleted"] {
        let a = eksdrift()
            .args(["audit", "-o", "sarif", "--from"])
            .arg(fixture(name))
            .assert()
            .code(1);
        let v = json(&a);
        let results = v["runs"][0]["results"].as_array().unwrap();
        let prints: std::collections::BTreeSet<String> = results
            .iter()
            .map(|r| r["partialFingerprints"]["eksdriftFinding/v3"].to_string())
            .collect();
        assert_eq!(prints.len(), results.len(), "{name}: {prints:?}");
    }
    let a = eksdrift()
        .args(["audit", "-o", "sarif", "--from"])
        .arg(dir.path())
        .assert()
        .code(1);
    let v = json(&a);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let prints: std::collections::BTreeSet<String> = results
        .iter()
        .map(|r| r["partialFingerprints"]["eksdriftFinding/v3"].to_string())
        .collect();
    assert_eq!(prints.len(), results.len());
}

#[test]
fn a_failed_nodegroup_template_read_leaves_the_upgrade_gate_closed_in_every_format() {
    // The stack template EKD507 reads for a nodegroup with its own launch template is broken:
    // EKD507 alone is not checked, the target is partial, and the upgrade-nodegroup gate
    // refuses to pass even with --allow-partial.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("prod");
    copy_dir(&fixture("upgrade-from-stack-template"), &bundle);
    fs::write(
        bundle.join("get-template/eksctl-prod-nodegroup-ng-1.json"),
        "{\"TemplateBody\": ",
    )
    .unwrap();
    let a = eksdrift()
        .args(["audit", "-o", "json", "--from"])
        .arg(&bundle)
        .assert()
        .code(2);
    let v = json(&a);
    let t = &v["targets"][0];
    assert_eq!(t["status"], "partial");
    let left_out: Vec<&str> = t["coverage"]["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["rule"].as_str().unwrap())
        .collect();
    assert_eq!(left_out, ["launch-template-version-missing"]);
    eksdrift()
        .args([
            "audit",
            "--for",
            "upgrade-nodegroup",
            "--allow-partial",
            "--from",
        ])
        .arg(&bundle)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--for upgrade-nodegroup cannot pass",
        ))
        .stderr(predicate::str::contains("EKD507"));
    // Every format says the audit is partial.
    let out = |format: &str| {
        let a = eksdrift()
            .args(["audit", "-o", format, "--from"])
            .arg(&bundle)
            .assert()
            .code(2);
        String::from_utf8(a.get_output().stdout.clone()).unwrap()
    };
    assert!(out("table").contains("PARTIAL AUDIT"));
    assert!(out("markdown").contains("**partial**"));
    assert!(out("prometheus").contains("eksdrift_target_partial{"));
    assert!(
        out("prometheus")
            .lines()
            .any(|l| l.starts_with("eksdrift_target_partial{") && l.ends_with(" 1"))
    );
    assert!(out("junit").contains("<error type=\"partial\""));
    let sarif: serde_json::Value = serde_json::from_str(&out("sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    assert!(
        sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("partial audit")
    );
}

#[test]
fn the_delete_gate_closes_on_every_blocker_fixture_and_opens_on_the_clean_one() {
    for (scenario, code) in [
        ("deletion-protection-on", "EKD704"),
        ("load-balancer-left-in-vpc", "EKD705"),
        ("network-interface-blocks-delete", "EKD706"),
        ("security-group-blocks-delete", "EKD707"),
        ("karpenter-leftovers", "EKD708"),
        ("role-has-undeclared-attachments", "EKD709"),
    ] {
        let out = eksdrift()
            .args(["audit", "--for", "delete-cluster", "-o", "json", "--from"])
            .arg(fixture(scenario))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{scenario}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            report["targets"][0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["code"] == code
                    && f["breaks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|b| b == "delete-cluster")),
            "{scenario}: {report:#}"
        );
    }
    eksdrift()
        .args(["audit", "--for", "delete-cluster", "--from"])
        .arg(fixture("clean"))
        .assert()
        .code(0);
    // The role scenario's ng-1 policy is the nodegroup's own: delete-nodegroup closes too;
    // the deletion protection is the cluster's alone.
    eksdrift()
        .args(["audit", "--for", "delete-nodegroup", "--from"])
        .arg(fixture("role-has-undeclared-attachments"))
        .assert()
        .code(1);
    eksdrift()
        .args(["audit", "--for", "delete-nodegroup", "--from"])
        .arg(fixture("deletion-protection-on"))
        .assert()
        .code(0);
}

#[test]
fn the_upgrade_gate_closes_on_every_blocker_fixture_and_opens_on_the_clean_ones() {
    for (scenario, code, extra) in [
        ("nodegroup-version-skew", "EKD801", &[][..]),
        ("insight-not-passing", "EKD804", &[][..]),
        (
            "upgrade-target-not-offered",
            "EKD806",
            &["--to-version", "1.36"][..],
        ),
    ] {
        let out = eksdrift()
            .args(["audit", "--for", "upgrade-cluster", "-o", "json"])
            .args(extra)
            .arg("--from")
            .arg(fixture(scenario))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{scenario}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let blockers: Vec<&serde_json::Value> = report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["breaks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|b| b == "upgrade-cluster")
            })
            .collect();
        assert!(
            blockers.iter().all(|f| f["code"] == code) && !blockers.is_empty(),
            "{scenario}: {report:#}"
        );
    }
    // Information and warnings about the upgrade do not close it.
    for clean in [
        "clean",
        "legacy-subnets-output",
        "control-plane-subnet-ids",
        "user-vpc-text-template",
        "addon-version-not-for-target",
        "version-end-of-support",
    ] {
        eksdrift()
            .args(["audit", "--for", "upgrade-cluster", "--from"])
            .arg(fixture(clean))
            .assert()
            .code(0);
    }
    // A target that skips a minor up or down is refused with the next minor named; one minor
    // down is a rollback eksctl supports, and the cluster's own version plans nothing.
    for to in ["1.32", "1.33"] {
        eksdrift()
            .args([
                "audit",
                "--for",
                "upgrade-cluster",
                "--to-version",
                to,
                "--from",
            ])
            .arg(fixture("clean"))
            .assert()
            .code(0);
    }
    for (to, words) in [
        ("1.35", "skips a minor"),
        ("1.31", "goes back more than one minor"),
    ] {
        let out = eksdrift()
            .args([
                "audit",
                "--for",
                "upgrade-cluster",
                "--to-version",
                to,
                "--from",
            ])
            .arg(fixture("clean"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{to}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(words) && stderr.contains("1.34"),
            "{to}: {stderr}"
        );
    }
    // Not a version at all: a usage error from the parser.
    eksdrift()
        .args([
            "audit",
            "--for",
            "upgrade-cluster",
            "--to-version",
            "latest",
            "--from",
        ])
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("MAJOR.MINOR"));
}

/// `audit -f cluster.yaml --for create-nodegroup --from BUNDLE`, with optional extra flags.
fn plan(scenario: &str, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-o", "json", "-f"])
        .arg(file)
        .args(extra)
        .arg("--from")
        .arg(fixture(scenario))
        .output()
        .unwrap()
}

fn plan_codes(out: &std::process::Output) -> Vec<(String, Vec<String>)> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("EKD9"))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["breaks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_clusterconfig_plan_answers_whether_create_nodegroup_will_work() {
    // Each plan fixture: its verdict, and the plan's findings come first.
    for (scenario, code, exit) in [
        ("plan-nodegroup-subnets-unusable", Some("EKD901"), 1),
        ("plan-nodegroup-name-taken", Some("EKD902"), 1),
        ("plan-config-disagrees", Some("EKD903"), 0),
        ("plan-subnet-addresses-short", Some("EKD904"), 1),
        ("plan-nodegroup-reference-missing", Some("EKD905"), 1),
        ("plan-instance-type-not-offered", Some("EKD906"), 1),
        ("clean", None, 0),
    ] {
        let file = fixture(scenario).join("cluster.yaml");
        let out = plan(scenario, &file, &[]);
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{scenario}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let codes = plan_codes(&out);
        match code {
            Some(code) => assert!(
                codes.iter().any(|(c, _)| c == code),
                "{scenario}: {codes:?}"
            ),
            None => assert!(codes.is_empty(), "{scenario}: {codes:?}"),
        }
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        if let Some(first) = report["targets"][0]["findings"].as_array().unwrap().first()
            && code.is_some()
        {
            assert!(
                first["code"].as_str().unwrap().starts_with("EKD9"),
                "{scenario}"
            );
        }
    }

    // The seed case from the file: ng-5 asks for us-west-2a, whose private output subnets are
    // all gone. eksctl checks it before --include/--exclude, so excluding it does not help.
    let file = fixture("plan-nodegroup-subnets-unusable").join("cluster.yaml");
    let out = plan(
        "plan-nodegroup-subnets-unusable",
        &file,
        &["--exclude", "ng-5"],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = report["targets"][0]["findings"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        msg.contains("ng-5") && msg.contains("before --include/--exclude"),
        "{msg}"
    );
    // The generic deleted-output findings stay in the report, but the plan decides the gate.
    let seed: Vec<&serde_json::Value> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "EKD202")
        .collect();
    assert_eq!(seed.len(), 2);
    assert!(seed.iter().all(|f| f["breaks"] == serde_json::json!([])));

    // The same file with only the nodegroup on explicit live subnets: current eksctl works;
    // eksctl 0.176.0 still fails loading the VPC.
    let text = std::fs::read_to_string(&file).unwrap();
    let only_live = &text[..text.find("  - name: ng-5").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let live_file = dir.path().join("cluster.yaml");
    std::fs::write(&live_file, only_live).unwrap();
    let out = plan("plan-nodegroup-subnets-unusable", &live_file, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = plan(
        "plan-nodegroup-subnets-unusable",
        &live_file,
        &["--eksctl-version", "0.176.0"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        plan_codes(&out),
        [("EKD901".to_owned(), vec!["create-nodegroup".to_owned()])]
    );

    // `eksctl upgrade cluster -f FILE` goes to the file's metadata.version: the cluster's own
    // version plans nothing (and says so); a file two minors ahead is refused.
    eksdrift()
        .args(["audit", "--for", "upgrade-cluster", "-f"])
        .arg(fixture("clean").join("cluster.yaml"))
        .arg("--from")
        .arg(fixture("clean"))
        .assert()
        .code(0)
        .stderr(predicate::str::contains("already runs 1.33"));
    let ahead = dir.path().join("ahead.yaml");
    std::fs::write(
        &ahead,
        text.replace("version: \"1.33\"", "version: \"1.35\""),
    )
    .unwrap();
    eksdrift()
        .args(["audit", "--for", "upgrade-cluster", "-f"])
        .arg(&ahead)
        .arg("--from")
        .arg(fixture("plan-nodegroup-subnets-unusable"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the next is 1.34"));

    // create-iamserviceaccount: a failed stack of the same name and a taken role name block it;
    // --exclude on namespace/name (eksctl's filter) leaves them out.
    let file = fixture("plan-iamserviceaccount-blocked").join("cluster.yaml");
    let sa = |extra: &[&str]| {
        eksdrift()
            .args([
                "audit",
                "--for",
                "create-iamserviceaccount",
                "-o",
                "json",
                "-f",
            ])
            .arg(&file)
            .args(extra)
            .arg("--from")
            .arg(fixture("plan-iamserviceaccount-blocked"))
            .output()
            .unwrap()
    };
    let out = sa(&[]);
    assert_eq!(out.status.code(), Some(1));
    let blockers: Vec<(String, Vec<String>)> = plan_codes(&out)
        .into_iter()
        .filter(|(_, b)| !b.is_empty())
        .collect();
    assert_eq!(blockers.len(), 3, "{blockers:?}");
    assert_eq!(sa(&["--exclude", "apps/*"]).status.code(), Some(0));

    // create-addon / update-addon: a pinned version EKS does not offer for the cluster and a
    // deleted role block the creation; the installed vpc-cni is skipped; an update of addons
    // that are not installed fails.
    let file = fixture("plan-addon-blocked").join("cluster.yaml");
    let addon = |op: &str| {
        eksdrift()
            .args(["audit", "--for", op, "-o", "json", "-f"])
            .arg(&file)
            .arg("--from")
            .arg(fixture("plan-addon-blocked"))
            .output()
            .unwrap()
    };
    let out = addon("create-addon");
    assert_eq!(out.status.code(), Some(1));
    let blocking: Vec<String> = plan_codes(&out)
        .into_iter()
        .filter(|(_, b)| b.iter().any(|o| o == "create-addon"))
        .map(|(c, _)| c)
        .collect();
    assert_eq!(blocking, ["EKD908", "EKD908"]);
    let out = addon("update-addon");
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["targets"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"]
                .as_str()
                .unwrap()
                .contains("updates addon aws-efs-csi-driver, which is not installed")),
        "{report:#}"
    );

    // create-fargateprofile: a profile that failed before is skipped (nothing is made) and a
    // deleted pod execution role is refused; the ACTIVE one is skipped as intended.
    let out = eksdrift()
        .args([
            "audit",
            "--for",
            "create-fargateprofile",
            "-o",
            "json",
            "-f",
        ])
        .arg(fixture("plan-fargateprofile-blocked").join("cluster.yaml"))
        .arg("--from")
        .arg(fixture("plan-fargateprofile-blocked"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let codes = plan_codes(&out);
    assert_eq!(
        codes
            .iter()
            .filter(|(c, b)| c == "EKD909" && !b.is_empty())
            .count(),
        2,
        "{codes:?}"
    );

    // The failed stack's nodegroup, left out by --include, no longer blocks.
    let file = fixture("plan-nodegroup-name-taken").join("cluster.yaml");
    let out = plan("plan-nodegroup-name-taken", &file, &["--include", "ng-5"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_clusterconfig_is_untrusted_input() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let head = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\n";
    // A misspelt field is named in a warning; the plan still runs.
    let typo = write(
        "typo.yaml",
        &format!("{head}managedNodeGroups:\n  - name: ng-9\n    desiredCapacty: 3\n"),
    );
    let out = plan("clean", &typo, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("field managedNodeGroups[0].desiredCapacty is not one eksdrift knows")
    );
    // A wrong type in a field eksdrift reads: file:line:column, exit 2.
    let wrong = write(
        "wrong.yaml",
        &format!("{head}managedNodeGroups:\n  - name: ng-9\n    desiredCapacity: lots\n"),
    );
    let out = plan("clean", &wrong, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrong.yaml:8:"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // An alias bomb and deep nesting: bounded time, exit 2.
    let mut bomb = vec![String::from("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n")];
    for i in 0..10 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push(format!("l{i}: &l{i} [{refs}]\n"));
    }
    let bomb = write("bomb.yaml", &bomb.concat());
    let deep = write(
        "deep.yaml",
        &format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
    );
    for file in [&bomb, &deep] {
        let started = std::time::Instant::now();
        let out = plan("clean", file, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", file.display());
        assert!(started.elapsed().as_secs() < 20);
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
    // A 300 MB file is refused by its size, not read.
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let out = plan("clean", &big, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MiB is not read"));
    // A name with a newline and escape sequences never reaches the terminal raw.
    let esc = write(
        "esc.yaml",
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: us-west-2\nmanagedNodeGroups:\n  - name: \"ng\\n\\u001b[2J\\u001b]8;;http://x\\u0007evil\"\n    \"\\u001b[31mtypo\": 1\n",
    );
    let out = eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-f"])
        .arg(&esc)
        .arg("--from")
        .arg(fixture("clean"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains(&0x1b) && !stream.contains(&0x07),
            "{}",
            String::from_utf8_lossy(stream)
        );
    }
    // The plan is for the file's cluster: a contradicting -c is a usage error, before any
    // AWS call; -f needs --for; stdin works.
    let file = fixture("clean").join("cluster.yaml");
    eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-c", "staging", "-f"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("contradicts metadata.name prod"));
    eksdrift()
        .args(["audit", "-f"])
        .arg(&file)
        .arg("--from")
        .arg(fixture("clean"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--for"));
    eksdrift()
        .args(["audit", "--for", "create-nodegroup", "-f", "-", "--from"])
        .arg(fixture("clean"))
        .write_stdin(std::fs::read(&file).unwrap())
        .assert()
        .code(0);
}

/// Every ClusterConfig under clusterconfigs/ (one per layout eksctl's examples exercise) parses
/// with no field unknown to eksdrift, and plans against the clean capture: none of them is
/// blocked there.
#[test]
fn every_example_clusterconfig_parses_and_plans_against_the_clean_capture() {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("clusterconfigs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 17, "{files:?}");
    for file in files {
        for op in ["create-nodegroup", "create-iamserviceaccount"] {
            let out = eksdrift()
                .args(["audit", "--for", op, "-o", "json", "-f"])
                .arg(&file)
                .arg("--from")
                .arg(fixture("clean"))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} --for {op}: {stderr}",
                file.display()
            );
            assert!(
                !stderr.contains("not one eksdrift knows"),
                "{}: {stderr}",
                file.display()
            );
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(
                report["targets"][0]["status"],
                "audited",
                "{}",
                file.display()
            );
        }
    }
}

/// The eksdrift container's `args:` in docs/k8s-cronjob.yaml (a YAML list of plain scalars).
fn cronjob_args() -> Vec<String> {
    let text = fs::read_to_string(root().join("docs/k8s-cronjob.yaml")).unwrap();
    let mut lines = text.lines().skip_while(|l| !l.contains("- name: eksdrift"));
    let args_line = lines
        .find(|l| l.trim() == "args:")
        .expect("args: in the eksdrift container");
    let indent = args_line.len() - args_line.trim_start().len();
    lines
        .take_while(|l| {
            let i = l.len() - l.trim_start().len();
            i > indent && l.trim_start().starts_with("- ")
        })
        .map(|l| l.trim_start().trim_start_matches("- ").trim().to_owned())
        .collect()
}

/// The nightly CronJob's command line is a command line eksdrift takes: it gets past parsing
/// to Organizations discovery (here against a closed port: one clear error, exit 2, no usage
/// error).
#[test]
fn the_cronjob_manifest_command_line_is_accepted() {
    let args = cronjob_args();
    assert!(args.len() > 10 && args[0] == "audit", "{args:?}");
    for flag in ["--org", "--baseline", "--fail-on", "--all-regions"] {
        assert!(args.iter().any(|a| a == flag), "{flag} in {args:?}");
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = eksdrift()
        .args(&args)
        .args(["--max-attempts", "1", "--timeout", "2"])
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("Usage:"), "a usage error: {stderr}");
    assert!(stderr.contains("organizations:ListAccounts"), "{stderr}");
}

/// The account flags say what they need before anything is read.
#[test]
fn account_flags_that_cannot_work_are_usage_errors() {
    // --assume-role names a role, not the accounts to assume it in.
    let out = eksdrift()
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-west-2",
            "--assume-role",
            "audit",
        ])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--account ID (repeatable) or --org"),
        "{stderr}"
    );
    // --org audits through --assume-role; --ou and --exclude-account only with --org.
    for args in [
        &["audit", "--all-clusters", "--org"][..],
        &["audit", "--all-clusters", "--ou", "ou-ab12-cdef3456"][..],
        &[
            "audit",
            "--all-clusters",
            "--exclude-account",
            "111122223333",
        ][..],
        &[
            "audit",
            "--all-clusters",
            "--org",
            "--assume-role",
            "a",
            "--account",
            "111122223333",
        ][..],
        &[
            "audit",
            "--all-clusters",
            "--all-regions",
            "-r",
            "us-west-2",
        ][..],
        &["audit", "--from", "fixtures/clean", "--org"][..],
    ] {
        let out = eksdrift().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("Usage:"),
            "{args:?}"
        );
    }
}

/// `--output-file html=PATH` writes the HTML report beside the -o format.
#[test]
fn the_html_report_goes_to_its_own_file() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let out = eksdrift()
        .args(["audit", "--from"])
        .arg(root().join("fixtures/subnet-replaced"))
        .args(["-o", "json", "--output-file"])
        .arg(format!("html={}", page.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("Content-Security-Policy"));
    let findings = report["targets"][0]["findings"].as_array().unwrap().len();
    assert_eq!(html.matches("<div class=\"finding ").count(), findings);
}
