//! `--org`: Organizations discovery against moto, which keeps one organisation for the
//! management account and every member account's resources under that account (reached by
//! assuming a role there).
//!
//! The organisation: the management account and `tools` at the root; OU `prod` with
//! `payments-eu`, its nested OU `prod/emea` with `payments-us`, and `locked` (whose role cannot
//! be assumed); OU `dev` with `sandbox` (excluded) and `old` (closed: SUSPENDED).

use std::collections::BTreeMap;

use super::faults::{Fault, Proxy, Rule};
use super::harness::{self, Moto, moto};
use super::{api_calls, json_of, rt, seed};

struct Org {
    root: String,
    prod: String,
    dev: String,
    /// Account name → ID.
    accounts: BTreeMap<&'static str, String>,
}

async fn organisation(moto: &Moto) -> Org {
    let config = moto.sdk_config("us-east-1").await;
    let org = aws_sdk_organizations::Client::new(&config);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let ou = |parent: String, name: &'static str| {
        let org = org.clone();
        async move {
            org.create_organizational_unit()
                .parent_id(parent)
                .name(name)
                .send()
                .await
                .unwrap()
                .organizational_unit()
                .unwrap()
                .id()
                .unwrap()
                .to_owned()
        }
    };
    let prod = ou(root.clone(), "prod").await;
    let emea = ou(prod.clone(), "emea").await;
    let dev = ou(root.clone(), "dev").await;
    let mut accounts = BTreeMap::new();
    for (name, parent) in [
        ("tools", None),
        ("payments-eu", Some(&prod)),
        ("locked", Some(&prod)),
        ("payments-us", Some(&emea)),
        ("sandbox", Some(&dev)),
        ("old", Some(&dev)),
    ] {
        let status = org
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .unwrap();
        let id = status
            .create_account_status()
            .unwrap()
            .account_id()
            .unwrap()
            .to_owned();
        if let Some(parent) = parent {
            org.move_account()
                .account_id(&id)
                .source_parent_id(&root)
                .destination_parent_id(parent)
                .send()
                .await
                .unwrap();
        }
        accounts.insert(name, id);
    }
    org.close_account()
        .account_id(&accounts["old"])
        .send()
        .await
        .unwrap();
    // Clusters: `tools` has one, both payments accounts a `payments` cluster (one drifted).
    for (account, cluster, drift) in [
        ("tools", "ci", false),
        ("payments-eu", "payments", true),
        ("payments-us", "payments", false),
    ] {
        let role = format!("arn:aws:iam::{}:role/eksdrift-audit", accounts[account]);
        harness::seed_in_account(moto, &role, || async {
            let c = seed::eksctl_cluster(moto, "us-west-2", cluster).await;
            if drift {
                seed::replace_private_subnets(moto, &c).await;
            }
        })
        .await;
    }
    Org {
        root,
        prod,
        dev,
        accounts,
    }
}

fn targets(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap_or("").to_owned(),
                t["cluster"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn org_discovery_audits_every_active_account_in_scope() {
    let (_lock, moto) = moto();
    let org = rt().block_on(organisation(moto));
    let id = |name: &str| org.accounts[name].clone();
    let proxy = Proxy::start(
        moto.port,
        1,
        vec![Rule::always(
            "sts",
            "AssumeRole",
            Some(&id("locked")),
            Fault::AccessDenied,
        )],
    );
    moto.post("/moto-api/recorder/reset-recording", &[], "");
    let run = |extra: &[&str]| {
        moto.eksdrift_std()
            .env("AWS_ENDPOINT_URL", proxy.endpoint())
            .args([
                "audit",
                "--all-clusters",
                "-r",
                "us-west-2",
                "-o",
                "json",
                "--org",
                "--assume-role",
                "eksdrift-audit",
                "--exclude-account",
            ])
            .arg(id("sandbox"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the locked account fails: {stderr}"
    );
    assert!(
        stderr.contains(&format!("account {} (old) is SUSPENDED", id("old"))),
        "{stderr}"
    );
    let report = json_of(&out);
    let expected = {
        let mut v = vec![
            (id("tools"), "ci".to_owned(), "audited".to_owned()),
            (
                id("payments-eu"),
                "payments".to_owned(),
                "audited".to_owned(),
            ),
            (
                id("payments-us"),
                "payments".to_owned(),
                "audited".to_owned(),
            ),
            (id("locked"), "*".to_owned(), "failed".to_owned()),
        ];
        v.sort();
        v
    };
    assert_eq!(targets(&report), expected, "{report:#}");
    let by_account = |name: &str| {
        report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account"] == id(name).as_str())
            .unwrap()
            .clone()
    };
    // Two `payments` clusters in two accounts: the drifted one is told apart.
    assert!(
        by_account("payments-eu")["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "EKD202")
    );
    let us = by_account("payments-us");
    assert!(us["findings"].as_array().unwrap().is_empty(), "{us:#}");
    assert_eq!(by_account("locked")["error"]["kind"], "access_denied");
    let d = &report["discovery"];
    assert_eq!(d["excluded"], serde_json::json!([id("sandbox")]));
    assert_eq!(d["inactive"][0]["id"], id("old").as_str());
    assert_eq!(d["inactive"][0]["state"], "SUSPENDED");
    // The management account, tools, both payments accounts and locked: 5 of 7.
    assert_eq!(d["audited"].as_array().unwrap().len(), 5, "{d}");
    assert_eq!(d["listed"], 7);
    let calls = api_calls(&report);
    assert_eq!(calls["organizations:ListAccounts"], 1);
    // Every request was allowlisted, Organizations' included.
    let actions = moto.recorded_actions();
    for action in actions
        .iter()
        .map(|a| a.split_whitespace().next().unwrap())
        .filter(|a| !a.starts_with("moto:"))
    {
        assert!(
            drift_core::readonly::is_allowed(action),
            "{action} is not allowlisted"
        );
    }
    assert!(
        actions.iter().any(|a| a == "organizations:ListAccounts"),
        "{actions:#?}"
    );

    // --ou prod: its accounts and its nested OU's, nothing of dev or the root.
    let out = moto
        .eksdrift_std()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-west-2",
            "-o",
            "json",
            "--org",
            "--assume-role",
            "eksdrift-audit",
            "--ou",
            &org.prod,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json_of(&out);
    let mut audited: Vec<String> = report["discovery"]["audited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    audited.sort();
    let mut want = vec![id("payments-eu"), id("payments-us"), id("locked")];
    want.sort();
    assert_eq!(audited, want);
    let calls = api_calls(&report);
    assert_eq!(calls["organizations:ListAccountsForParent"], 2, "{calls:?}");
    assert_eq!(calls["organizations:ListChildren"], 2, "{calls:?}");
    assert!(!calls.contains_key("organizations:ListAccounts"));
    let _ = (&org.root, &org.dev);
}

#[test]
fn org_access_denied_is_one_clear_error() {
    let (_lock, moto) = moto();
    rt().block_on(organisation(moto));
    let proxy = Proxy::start(
        moto.port,
        1,
        vec![Rule::always(
            "organizations",
            "ListAccounts",
            None,
            Fault::AccessDenied,
        )],
    );
    let out = moto
        .eksdrift_std()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .args([
            "audit",
            "--all-clusters",
            "-r",
            "us-west-2",
            "--org",
            "--assume-role",
            "eksdrift-audit",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("organizations:ListAccounts")
            && stderr.contains("management account")
            && stderr.contains("docs/iam-policy-organizations.json"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{stderr}"
    );
}

#[test]
fn all_regions_reads_each_region_the_account_has_enabled() {
    let (_lock, moto) = moto();
    rt().block_on(async {
        seed::eksctl_cluster(moto, "us-west-2", "west").await;
        seed::eksctl_cluster(moto, "eu-west-1", "europe").await;
    });
    let out = moto
        .eksdrift_std()
        .args(["audit", "--all-clusters", "--all-regions", "-o", "json"])
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out);
    let mut found: Vec<(String, String)> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["region"].as_str().unwrap().to_owned(),
                t["cluster"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("eu-west-1".to_owned(), "europe".to_owned()),
            ("us-west-2".to_owned(), "west".to_owned())
        ]
    );
    let calls = api_calls(&report);
    assert_eq!(calls["ec2:DescribeRegions"], 1);
    // DescribeRegions denied: the account is one failed target (exit 2), nothing read as clean.
    let proxy = Proxy::start(
        moto.port,
        1,
        vec![Rule::always(
            "ec2",
            "DescribeRegions",
            None,
            Fault::AccessDenied,
        )],
    );
    let denied = moto
        .eksdrift_std()
        .env("AWS_ENDPOINT_URL", proxy.endpoint())
        .env("AWS_REGION", "us-east-1")
        .args([
            "audit",
            "--all-clusters",
            "--all-regions",
            "-o",
            "json",
            "--max-attempts",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(denied.status.code(), Some(2));
    let failed = json_of(&denied);
    assert_eq!(failed["targets"].as_array().unwrap().len(), 1, "{failed:#}");
    assert_eq!(failed["targets"][0]["status"], "failed");
    assert_eq!(failed["targets"][0]["error"]["kind"], "access_denied");
    assert!(
        failed["targets"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--all-regions"),
        "{failed:#}"
    );
    assert!(
        calls["eks:ListClusters"] > 10,
        "every enabled region is listed: {calls:?}"
    );
}

/// Benchmark (not a timed test): 100 accounts × 3 clusters behind the proxy's 80 ms latency,
/// audited with `--org`; the same for the 10 accounts of one OU. Prints wall times (median of
/// 3), calls, and how both grow from 10 to 100 accounts, at the default `--account-concurrency`
/// and at 16. `cargo test --release -p drift-cli --test live -- --ignored org_figures
/// --nocapture`
#[test]
#[ignore = "benchmark: run by hand"]
fn org_figures() {
    use std::time::{Duration, Instant};
    let (_lock, moto) = moto();
    let latency_ms: u64 = std::env::var("EKSDRIFT_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    let seeding = Instant::now();
    let ten = rt().block_on(async {
        let config = moto.sdk_config("us-east-1").await;
        let org = aws_sdk_organizations::Client::new(&config);
        org.create_organization().send().await.unwrap();
        let root = org.list_roots().send().await.unwrap().roots()[0]
            .id()
            .unwrap()
            .to_owned();
        let ten = org
            .create_organizational_unit()
            .parent_id(&root)
            .name("ten")
            .send()
            .await
            .unwrap()
            .organizational_unit()
            .unwrap()
            .id()
            .unwrap()
            .to_owned();
        for i in 0..100 {
            let id = org
                .create_account()
                .account_name(format!("team-{i:03}"))
                .email(format!("team-{i:03}@example.com"))
                .send()
                .await
                .unwrap()
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned();
            if i < 10 {
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(&root)
                    .destination_parent_id(&ten)
                    .send()
                    .await
                    .unwrap();
            }
            let role = format!("arn:aws:iam::{id}:role/eksdrift-audit");
            harness::seed_in_account(moto, &role, || async {
                for c in 0..3 {
                    seed::eksctl_cluster(moto, "us-east-1", &format!("cluster-{c}")).await;
                }
            })
            .await;
        }
        ten
    });
    println!(
        "seeded 100 accounts x 3 clusters in {:.0} s",
        seeding.elapsed().as_secs_f64()
    );
    let proxy = super::faults::Proxy::start_with_latency(
        moto.port,
        1,
        Vec::new(),
        Duration::from_millis(latency_ms),
    );
    // The same moto without added latency: the floor moto's own speed sets.
    let floor = super::faults::Proxy::start_with_latency(moto.port, 1, Vec::new(), Duration::ZERO);
    let run = |endpoint: &str, extra: &[&str]| {
        let started = Instant::now();
        let out = moto
            .eksdrift_std()
            .env("AWS_ENDPOINT_URL", endpoint)
            .args([
                "audit",
                "--all-clusters",
                "-r",
                "us-east-1",
                "-o",
                "json",
                "--org",
                "--assume-role",
                "eksdrift-audit",
            ])
            .args(extra)
            .output()
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (wall, json_of(&out))
    };
    let slow = proxy.endpoint();
    let fast = floor.endpoint();
    run(&slow, &["--ou", &ten]); // warm moto
    let mut medians = BTreeMap::new();
    for (name, endpoint, concurrency, accounts) in [
        ("80 ms", &slow, "1", 10),
        ("80 ms", &slow, "8", 10),
        ("80 ms", &slow, "8", 100),
        ("80 ms", &slow, "16", 10),
        ("80 ms", &slow, "16", 100),
        ("0 ms", &fast, "16", 100),
    ] {
        let mut extra = vec!["--account-concurrency", concurrency];
        if accounts == 10 {
            extra.extend(["--ou", ten.as_str()]);
        }
        let mut times = Vec::new();
        let mut report = serde_json::Value::Null;
        for _ in 0..3 {
            let (wall, r) = run(endpoint, &extra);
            times.push(wall);
            report = r;
        }
        times.sort_by(f64::total_cmp);
        let calls: u64 = api_calls(&report).values().sum();
        let targets = report["targets"].as_array().unwrap().len();
        println!(
            "latency {name}, --account-concurrency {concurrency}, {accounts} accounts: {targets} clusters, {calls} calls, wall median {:.2} s (min {:.2}, max {:.2})",
            times[1], times[0], times[2]
        );
        medians.insert((name, concurrency, accounts), (times[1], calls));
    }
    for c in ["8", "16"] {
        let (w10, c10) = medians[&("80 ms", c, 10)];
        let (w100, c100) = medians[&("80 ms", c, 100)];
        println!(
            "--account-concurrency {c}: 10 -> 100 accounts: wall x{:.2}, calls x{:.2}",
            w100 / w10,
            c100 as f64 / c10 as f64
        );
    }
    let (one, _) = medians[&("80 ms", "1", 10)];
    let (eight, _) = medians[&("80 ms", "8", 10)];
    println!(
        "10 accounts: --account-concurrency 1 -> 8: wall x{:.2}",
        eight / one
    );
    let (floor_wall, _) = medians[&("0 ms", "16", 100)];
    let (slow_wall, _) = medians[&("80 ms", "16", 100)];
    println!(
        "100 accounts at 16: {slow_wall:.2} s with 80 ms, {floor_wall:.2} s with none (moto's own speed)"
    );
}
