//! Every remediation a report suggests is pasted into shells by users, and every value in it
//! comes from AWS. This test audits every fixture and hostile variants of it (each identifier
//! in the bundle followed by a payload that tries to break out of a comment, a quoted
//! argument or a YAML line), then runs every distinct remediation block through `sh -n` and
//! through `sh` with a `PATH` that holds only recording stand-ins for `aws`, `eksctl` and the
//! payload's `pwned`, and asserts that the blocks parse and that nothing but `aws`/`eksctl`
//! ran.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use drift_core::audit;
use drift_core::bundle::{BundleFiles, parse_bundle, read_bundle};
use drift_core::report::Operation;

/// Appended to identifiers in the bundle. Each tries another way out: a line break in a
/// comment or argument, closing a single-quoted argument, substitutions, redirections.
const PAYLOADS: &[&str] = &[
    "X)\npwned\n# (\r\npwned;#",
    "';pwned;#'$(pwned)`pwned`\" >PWN <x |pwned &",
    "\n      - subnet-evil\nnodeGroups: []\n  > PWN\npwned",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn bundle_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Identifier-like string values of a bundle (IDs, names, AZs, CIDRs, logical IDs).
fn identifiers(files: &[(String, String)]) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::String(s)
                if (3..=80).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._:/".contains(&b)) =>
            {
                out.insert(s.clone());
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for (_, text) in files {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            walk(&v, &mut out);
        }
    }
    // Items of comma lists (subnet outputs) too.
    let lists: Vec<String> = out.iter().filter(|s| s.contains(',')).cloned().collect();
    for l in lists {
        out.extend(l.split(',').filter(|s| s.len() >= 3).map(str::to_owned));
    }
    out
}

/// Every file of a bundle by its path inside it, per-item folders (`describe-nodegroup/`,
/// `describe-access-entry/`, `list-imports/`, …) included: the values in them reach the
/// remediations of the nodegroup and identity rules.
fn read_files(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            for item in fs::read_dir(&path).unwrap() {
                let item = item.unwrap().path();
                let item_name = item.file_name().unwrap().to_str().unwrap().to_owned();
                files.push((
                    format!("{name}/{item_name}"),
                    fs::read_to_string(&item).unwrap(),
                ));
            }
        } else {
            files.push((name, fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    files
}

/// Every distinct remediation block of every fixture and of its hostile variants. The variants
/// are independent: they are audited on every core.
/// The operations a fixture's ClusterConfig is planned for.
fn plan_ops(dir: &Path) -> Vec<Operation> {
    match dir.file_name().and_then(|n| n.to_str()).unwrap_or("") {
        "plan-iamserviceaccount-blocked" => vec![Operation::CreateIamserviceaccount],
        "plan-addon-blocked" => vec![Operation::CreateAddon, Operation::UpdateAddon],
        "plan-fargateprofile-blocked" => vec![Operation::CreateFargateprofile],
        "plan-cluster-exists" | "plan-cluster-network-unusable" => vec![Operation::CreateCluster],
        _ => vec![Operation::CreateNodegroup],
    }
}

/// The findings of `snapshot`, and of each plan of `config` (a ClusterConfig's text).
fn findings_with_plans(
    snapshot: &drift_core::snapshot::Snapshot,
    config: Option<&str>,
    ops: &[Operation],
) -> Vec<drift_core::report::Finding> {
    let mut found = audit(snapshot).findings;
    let Some(parsed) = config.and_then(|c| drift_core::config::parse(c.as_bytes(), "c.yaml").ok())
    else {
        return found;
    };
    for op in ops {
        let mut planned = snapshot.clone();
        planned.plan = Some(drift_core::snapshot::Plan {
            source: "c.yaml".to_owned(),
            config: parsed.config.clone(),
            operation: *op,
            include: Vec::new(),
            exclude: Vec::new(),
            eksctl_version: drift_core::snapshot::CURRENT_EKSCTL,
        });
        found.extend(audit(&planned).findings);
    }
    found
}

/// The scalars of a ClusterConfig's text a hostile variant may replace: its values, not its
/// keys.
fn yaml_values(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || "[]{},\"".contains(c))
        .filter(|t| t.len() >= 3 && !t.ends_with(':') && !t.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

fn remediation_blocks(scratch: &Path) -> (BTreeSet<String>, usize) {
    let mut jobs: Vec<(usize, String, &str)> = Vec::new();
    let mut blocks = BTreeSet::new();
    let mut file_sets = Vec::new();
    let mut ops_of = Vec::new();
    for dir in bundle_dirs() {
        let files = read_files(&dir);
        let config = files
            .iter()
            .find(|(n, _)| n == "cluster.yaml")
            .map(|(_, t)| t.clone());
        let ops = plan_ops(&dir);
        if let Ok(snapshot) = read_bundle(&dir) {
            for f in findings_with_plans(&snapshot, config.as_deref(), &ops) {
                blocks.extend(f.remediation.commands);
            }
        }
        let mut tokens = identifiers(&files);
        // The ClusterConfig's values are hostile too: nodegroup, service account, addon and
        // profile names, AMI and key names reach the plan's remediations.
        tokens.extend(config.as_deref().map(yaml_values).unwrap_or_default());
        for token in tokens {
            for payload in PAYLOADS {
                jobs.push((file_sets.len(), token.clone(), payload));
            }
        }
        file_sets.push(files);
        ops_of.push(ops);
    }
    let ops_of = &ops_of;
    let variants = jobs.len();
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = variants.div_ceil(threads).max(1);
    let file_sets = &file_sets;
    let found: Vec<BTreeSet<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .enumerate()
            .map(|(t, part)| {
                s.spawn(move || {
                    let mut blocks = BTreeSet::new();
                    for (i, (set, token, payload)) in part.iter().enumerate() {
                        let escaped = serde_json::to_string(payload).unwrap();
                        let escaped = &escaped[1..escaped.len() - 1];
                        // In memory: the same parser `read_bundle` runs after reading the
                        // folder, without tens of thousands of folders written and removed.
                        let variant = scratch.join(format!("variant-{t}-{i}"));
                        let mut hostile = BundleFiles::new();
                        let mut config = None;
                        for (name, text) in &file_sets[*set] {
                            if name == "cluster.yaml" {
                                // A YAML double-quoted scalar takes the JSON escapes as is.
                                config =
                                    Some(text.replace(token, &format!("\"{token}{escaped}\"")));
                                continue;
                            }
                            hostile.insert(
                                name.clone(),
                                text.replace(token, &format!("{token}{escaped}"))
                                    .into_bytes(),
                            );
                        }
                        if let Ok(snapshot) = parse_bundle(&variant, &hostile) {
                            for f in
                                findings_with_plans(&snapshot, config.as_deref(), &ops_of[*set])
                            {
                                blocks.extend(f.remediation.commands);
                            }
                        }
                    }
                    blocks
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for b in found {
        blocks.extend(b);
    }
    (blocks, variants)
}

fn fake_bin(dir: &Path, log: &Path) {
    fs::create_dir_all(dir).unwrap();
    for (name, body) in [
        ("aws", format!("echo \"aws $*\" >> '{}'", log.display())),
        (
            "eksctl",
            format!("echo \"eksctl $*\" >> '{}'", log.display()),
        ),
        ("pwned", format!("echo PWNED >> '{}'", log.display())),
    ] {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn every_remediation_is_inert_shell() {
    let scratch = tempfile::tempdir().unwrap();
    let (blocks, variants) = remediation_blocks(scratch.path());
    eprintln!(
        "{variants} hostile variants, {} distinct remediation blocks",
        blocks.len()
    );
    assert!(variants > 500, "only {variants} hostile variants");
    // The payloads did reach the remediations: the test would be vacuous otherwise.
    let hostile = blocks.iter().filter(|b| b.contains("pwned")).count();
    assert!(hostile > 50, "only {hostile} blocks carry a payload");
    // Values from the per-item files reach the nodegroup and identity fixes too.
    for command in [
        "eksctl delete nodegroup",
        "aws eks describe-nodegroup",
        "aws eks update-pod-identity-association",
        "aws eks delete-access-entry",
        "eksctl delete iamserviceaccount",
        // The delete and upgrade gates' remediations, from the network, role and addon files.
        "aws elbv2 delete-load-balancer",
        "aws ec2 describe-instances",
        "aws ec2 delete-network-interface",
        "aws ec2 describe-security-group-rules",
        "aws ec2 terminate-instances",
        "aws ec2 delete-launch-template",
        "aws iam detach-role-policy",
        "aws iam remove-role-from-instance-profile",
        "aws eks update-cluster-config",
        "eksctl delete addon",
        "eksctl update addon",
        "eksctl upgrade nodegroup",
        "eksctl delete fargateprofile",
        // The plan's, from the user's ClusterConfig.
        "aws ec2 describe-images",
        "aws ec2 describe-instance-type-offerings",
        "aws eks describe-addon-versions",
        "eksctl utils associate-iam-oidc-provider",
    ] {
        assert!(
            blocks
                .iter()
                .any(|b| b.contains(command) && b.contains("pwned")),
            "no hostile variant reached `{command}`"
        );
    }

    let bin = scratch.path().join("bin");
    let log = scratch.path().join("argv.log");
    fake_bin(&bin, &log);
    let work = scratch.path().join("work");
    fs::create_dir_all(&work).unwrap();
    let scripts = scratch.path().join("scripts");
    fs::create_dir_all(&scripts).unwrap();
    for (i, block) in blocks.iter().enumerate() {
        fs::write(scripts.join(format!("{i:05}.sh")), block).unwrap();
    }

    // One driver shell runs every block twice: parsed only, then executed in `work` with a
    // PATH of stand-ins. A block that fails to parse is named.
    let driver = format!(
        r#"for f in '{scripts}'/*.sh; do
  sh -n "$f" 2>/dev/null || echo "SYNTAX $f"
  err=$( (cd '{work}' && PATH='{bin}' /bin/sh "$f") 2>&1 >/dev/null )
  [ -z "$err" ] || printf 'STDERR %s %s\n' "$f" "$err"
done
exit 0"#,
        scripts = scripts.display(),
        work = work.display(),
        bin = bin.display()
    );
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(&driver)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let problems: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("SYNTAX ") || l.starts_with("STDERR "))
        .map(|l| {
            let file = l.split(' ').nth(1).unwrap();
            format!("{l}:\n{}", fs::read_to_string(file).unwrap_or_default())
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n---\n"));

    let log = fs::read_to_string(&log).unwrap();
    assert!(!log.contains("PWNED"), "a payload ran:\n{log}");
    for line in log.lines() {
        assert!(
            line.starts_with("aws ") || line.starts_with("eksctl "),
            "{line}"
        );
    }
    assert!(log.lines().any(|l| l.starts_with("aws cloudformation")));
    assert!(log.lines().any(|l| l.starts_with("eksctl ")));
    let planted: Vec<_> = fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("PWN"))
        .collect();
    assert!(
        planted.is_empty(),
        "files written by a payload: {planted:?}"
    );
}
