//! Live audit and capture: the collector, a tokio runtime, and progress on a terminal.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use drift_core::bundle::{CaptureInfo, write_bundle};
use drift_core::collect::{self, Collection, Options, Progress, Targets};
use drift_core::report::{Report, Stats, TargetReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use drift_core::selection::Selection;

use crate::cli::LiveArgs;

/// Where one account's credentials come from: a profile (or the default chain), and a role to
/// assume with them.
#[derive(Debug, Clone, Default)]
struct Source {
    profile: Option<String>,
    role_arn: Option<String>,
}

impl Source {
    /// The account a role ARN names.
    fn account(&self) -> Option<String> {
        self.role_arn
            .as_deref()
            .and_then(|a| a.split(':').nth(4))
            .map(str::to_owned)
    }
}

/// The accounts to read: one per role (assumed from the first profile, or the default chain),
/// else one per profile, else the default chain. With `--org`, `discovered` lists the accounts.
fn sources(args: &LiveArgs, discovered: &[String]) -> Result<Vec<Source>> {
    let mut roles: Vec<String> = args.role_arns.clone();
    if let Some(name) = &args.assume_role {
        let accounts = if args.org {
            discovered
        } else {
            &args.accounts[..]
        };
        if accounts.is_empty() && !args.org {
            anyhow::bail!(
                "--assume-role {name} needs the accounts to assume it in: --account ID (repeatable) or --org"
            );
        }
        roles.extend(
            accounts
                .iter()
                .map(|id| format!("arn:aws:iam::{id}:role/{name}")),
        );
    }
    if !roles.is_empty() || args.org {
        let base = args.profiles.first().cloned();
        return Ok(roles
            .into_iter()
            .map(|role_arn| Source {
                profile: base.clone(),
                role_arn: Some(role_arn),
            })
            .collect());
    }
    if args.profiles.is_empty() {
        return Ok(vec![Source::default()]);
    }
    Ok(args
        .profiles
        .iter()
        .map(|p| Source {
            profile: Some(p.clone()),
            role_arn: None,
        })
        .collect())
}

fn options(
    args: &LiveArgs,
    gate: &collect::GateReads,
    source: &Source,
    inputs: &std::collections::BTreeSet<drift_core::input::Input>,
) -> Options {
    Options {
        targets: if args.all_clusters {
            Targets::All
        } else {
            Targets::Named(args.clusters.clone())
        },
        regions: args.regions.clone(),
        all_regions: args.all_regions,
        profile: source.profile.clone(),
        concurrency: args.concurrency as usize,
        timeout: Duration::from_secs(args.timeout),
        max_attempts: args.max_attempts,
        gate: gate.clone(),
        assume_role: source
            .role_arn
            .as_ref()
            .map(|role_arn| collect::AssumeRole {
                role_arn: role_arn.clone(),
                external_id: args.external_id.clone(),
                session_name: args.session_name.clone(),
            }),
        inputs: inputs.clone(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, collect::CollectError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            collect::CollectError::NoCredentials(format!("starting the async runtime: {e}"))
        })
}

/// The progress line: on stderr when it is a terminal and `--quiet` is not given, and only
/// once the run has taken more than two seconds (a quick run prints nothing; cron never sees
/// it).
struct Bar {
    line: ProgressBar,
    show: bool,
    started: Instant,
    shown: std::sync::atomic::AtomicBool,
}

impl Bar {
    fn new(quiet: bool, accounts: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        let template = if accounts > 1 {
            "{spinner} {msg} [{pos}/{len} clusters] {prefix} {elapsed}"
        } else {
            "{spinner} {msg} [{pos}/{len} clusters] {elapsed}"
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if accounts > 1 {
            bar.set_prefix(format!("0/{accounts} accounts"));
        }
        Bar {
            line: bar,
            show: !quiet && io::stderr().is_terminal(),
            started: Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn tick(&self) {
        if self.show
            && self.started.elapsed() > Duration::from_secs(2)
            && !self.shown.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            self.line.set_draw_target(ProgressDrawTarget::stderr());
            self.line.enable_steady_tick(Duration::from_millis(120));
        }
    }

    fn on_progress(&self, p: Progress) {
        match p {
            Progress::Region { region, clusters } => {
                self.line.inc_length(clusters as u64);
                self.line.set_message(format!("reading {region}"));
            }
            Progress::Cluster { .. } => self.line.inc(1),
        }
        self.tick();
    }
}

fn run_collector(
    args: &LiveArgs,
    gate: &collect::GateReads,
    source: &Source,
    inputs: &std::collections::BTreeSet<drift_core::input::Input>,
) -> Result<Collection, collect::CollectError> {
    let opts = options(args, gate, source, inputs);
    let bar = Bar::new(args.quiet, 1);
    let result = runtime()?.block_on(collect::collect(&opts, &|p| bar.on_progress(p)));
    bar.line.finish_and_clear();
    result
}

/// `--org`: the organisation's accounts in scope, said on stderr and kept for the report.
fn discover(
    runtime: &tokio::runtime::Runtime,
    args: &LiveArgs,
    inputs: &std::collections::BTreeSet<drift_core::input::Input>,
) -> Result<(
    Vec<String>,
    drift_core::report::Discovery,
    std::collections::BTreeMap<String, u64>,
)> {
    let opts = options(
        args,
        &collect::GateReads::default(),
        &Source {
            profile: args.profiles.first().cloned(),
            role_arn: None,
        },
        inputs,
    );
    let found = runtime
        .block_on(collect::org::discover(
            &opts,
            &args.ous,
            &args.exclude_accounts,
        ))
        .map_err(|e| {
            anyhow::anyhow!(drift_core::text::terminal_safe(&e.to_string()).into_owned())
        })?;
    for a in &found.inactive {
        let _ = writeln!(
            io::stderr(),
            "note: account {} ({}) is {}: not audited",
            drift_core::text::terminal_safe(&a.id),
            drift_core::text::terminal_safe(&a.name),
            drift_core::text::terminal_safe(&a.state)
        );
    }
    for id in args
        .exclude_accounts
        .iter()
        .filter(|id| !found.excluded.contains(id))
    {
        let _ = writeln!(
            io::stderr(),
            "note: --exclude-account {id} is not an account of the organisation (or of the OUs given)"
        );
    }
    let ids: Vec<String> = found.accounts.iter().map(|a| a.id.clone()).collect();
    let mut discovery = drift_core::report::Discovery::default();
    discovery.ous.clone_from(&args.ous);
    discovery.listed = found.accounts.len() + found.inactive.len() + found.excluded.len();
    discovery.audited.clone_from(&ids);
    discovery.excluded = found.excluded;
    discovery.inactive = found.inactive;
    if !args.quiet {
        let _ = writeln!(
            io::stderr(),
            "organisation: {} accounts in scope, {} to audit, {} excluded, {} not active",
            discovery.listed,
            ids.len(),
            discovery.excluded.len(),
            discovery.inactive.len()
        );
    }
    Ok((ids, discovery, found.api_calls))
}

/// A live audit, with the reads `gate` asks for beyond the default audit (a deletion gate's
/// importers, the upgrade gate's insights and addon versions, every Fargate profile). Accounts
/// are read `--account-concurrency` at a time.
pub fn audit(args: &LiveArgs, gate: &collect::GateReads, selection: &Selection) -> Result<Report> {
    use futures::StreamExt as _;
    let started = Instant::now();
    let inputs = selection.inputs();
    let mut targets = Vec::new();
    let mut api_calls: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let runtime = runtime()?;
    let (discovered, discovery) = if args.org {
        let (ids, discovery, calls) = discover(&runtime, args, &inputs)?;
        for (op, n) in calls {
            *api_calls.entry(op).or_default() += n;
        }
        (ids, Some(discovery))
    } else {
        (Vec::new(), None)
    };
    let sources = sources(args, &discovered)?;
    let bar = Bar::new(args.quiet, sources.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = sources.len();
    let collections = runtime.block_on(
        futures::stream::iter(sources.iter().enumerate())
            .map(|(i, source)| {
                let opts = options(args, gate, source, &inputs);
                let bar = &bar;
                let done = &done;
                async move {
                    let result = collect::collect(&opts, &|p| bar.on_progress(p)).await;
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if total > 1 {
                        bar.line.set_prefix(format!("{n}/{total} accounts"));
                    }
                    bar.tick();
                    (i, result)
                }
            })
            .buffer_unordered(args.account_concurrency.max(1) as usize)
            .collect::<Vec<_>>(),
    );
    bar.line.finish_and_clear();
    let mut collections = collections;
    collections.sort_by_key(|(i, _)| *i);
    for (i, result) in collections {
        let source = &sources[i];
        let collection = match result {
            Ok(c) => c,
            // An account whose role cannot be assumed (or whose regions cannot be listed) fails
            // alone; the others are audited.
            Err(e @ (collect::CollectError::AssumeRole(_) | collect::CollectError::Regions(_))) => {
                let _ = writeln!(
                    io::stderr(),
                    "error: {}{}",
                    source
                        .account()
                        .map(|a| format!("account {a}: "))
                        .unwrap_or_default(),
                    drift_core::text::terminal_safe(&e.to_string())
                );
                let error = drift_core::report::TargetError::new(e.kind(), e.to_string());
                let mut failed = TargetReport::failed("*", None, "live", error);
                failed.account = source.account();
                targets.push(failed);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for (op, n) in collection.api_calls {
            *api_calls.entry(op).or_default() += n;
        }
        let account = collection.account.clone().or_else(|| source.account());
        targets.extend(collection.targets.into_iter().map(|t| {
            let mut report = match t.result {
                Ok(snapshot) => {
                    if let Err(usage) = snapshot.check_upgrade_step() {
                        return crate::output::usage_failed(
                            t.cluster,
                            Some(t.region),
                            "live".to_owned(),
                            &usage,
                        );
                    }
                    let report = drift_core::audit_with(&snapshot, selection);
                    crate::output::warn_partial(&report);
                    report
                }
                Err(err) => {
                    let _ = writeln!(
                        io::stderr(),
                        "error: {} in {}: {}",
                        drift_core::text::terminal_safe(&t.cluster),
                        t.region,
                        drift_core::text::terminal_safe(&err.message)
                    );
                    TargetReport::failed(t.cluster, Some(t.region), "live", err)
                }
            };
            report.account.clone_from(&account);
            report
        }));
    }
    let stats = Stats::new(
        api_calls,
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    let mut report = Report::new(targets, crate::output::now_rfc3339(), stats);
    report.discovery = discovery;
    Ok(report)
}

/// Longest folder name `capture` writes, well under every file system's limit of 255 bytes.
const MAX_PART: usize = 100;

/// A cluster or region name as one safe path component: letters, digits, `-`, `_` and `.`
/// kept, anything else `_`, never hidden (no leading `.`), at most [`MAX_PART`] characters.
/// When that changed the name, a short hash of the real name follows, so different names never
/// share a folder.
fn path_part(s: &str) -> String {
    let mut cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_PART)
        .collect();
    if cleaned.starts_with('.') || cleaned.is_empty() {
        cleaned.insert(0, '_');
    }
    if cleaned == s {
        cleaned
    } else {
        format!("{cleaned}~{:08x}", fnv1a(s) as u32)
    }
}

/// FNV-1a: stable across runs and platforms, so a name always gets the same folder.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Folders for a region's clusters: [`path_part`], made unique even where the file system
/// ignores case (`Prod` and `prod`), by the same hash suffix.
fn cluster_folders<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::new();
    for name in names {
        let mut part = path_part(name);
        if !used.insert(part.to_lowercase()) {
            part = format!("{part}~{:08x}", fnv1a(name) as u32);
            used.insert(part.to_lowercase());
        }
        out.push((name.to_owned(), part));
    }
    out
}

/// Writes the bundle into a temporary sibling folder and renames it into place, so a reader
/// (or an interrupted run) never sees half a bundle.
fn write_bundle_atomically(
    dir: &Path,
    snapshot: &drift_core::Snapshot,
    info: &CaptureInfo,
) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = parent.join(crate::output::unpredictable_name(
        drift_core::bundle::TEMPORARY_PREFIX,
    ));
    // Created exclusively: an existing folder or link of that name is an error.
    std::fs::create_dir(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    crate::output::pending(&tmp);
    let result = (|| -> Result<()> {
        write_bundle(&tmp, snapshot, Some(info))?;
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("replacing {}", dir.display()))?;
        }
        std::fs::rename(&tmp, dir)
            .with_context(|| format!("moving the bundle into {}", dir.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    crate::output::done(&tmp);
    result
}

/// Writes one bundle per cluster under `out/<region>/<cluster>/`; prints each path on stdout.
/// A cluster whose name is not a safe folder name gets a changed, unique one (said on stderr;
/// `capture.json` keeps the real name). One bundle that cannot be read or written never stops
/// the others. Exit code: 0 when every target was written, 2 otherwise.
pub fn capture(
    args: &LiveArgs,
    out: &Path,
    plan: Option<drift_core::snapshot::Plan>,
) -> Result<u8> {
    if args.org {
        anyhow::bail!(
            "capture reads one account per run: --org is for audit; capture each account with its own --role-arn and --out"
        );
    }
    let sources = sources(args, &[])?;
    let [source] = sources.as_slice() else {
        anyhow::bail!(
            "capture reads one account per run (one -p or one role); run it once per account with its own --out"
        );
    };
    // A bundle is audited later, perhaps as a deletion gate, with any selection: it holds
    // every input, and every importer.
    let everything = drift_core::input::closure(drift_core::input::Input::ALL);
    let gate = collect::GateReads {
        all_imports: true,
        upgrade: true,
        fargate: true,
        to_version: None,
        plan,
    };
    let collection = run_collector(args, &gate, source, &everything)?;
    let captured_at = crate::output::now_rfc3339();
    let mut stdout = io::stdout().lock();
    let mut code = 0;
    let mut folders: std::collections::HashMap<(String, String), String> =
        std::collections::HashMap::new();
    let mut regions: Vec<&str> = collection
        .targets
        .iter()
        .map(|t| t.region.as_str())
        .collect();
    regions.dedup();
    for region in regions {
        let names = collection
            .targets
            .iter()
            .filter(|t| t.region == region)
            .map(|t| t.cluster.as_str());
        for (name, part) in cluster_folders(names) {
            folders.insert((region.to_owned(), name), part);
        }
    }
    for t in collection.targets {
        let written = match t.result {
            Ok(snapshot) => {
                // A bundle holds what could be read; capture.json names what could not, so
                // that auditing it reports the same rules as not checked. Exit 2 either way.
                for (input, f) in &snapshot.failures {
                    code = 2;
                    let _ = writeln!(
                        io::stderr(),
                        "error: {} in {}: {input} not captured: {} failed ({}): {}",
                        drift_core::text::terminal_safe(&t.cluster),
                        t.region,
                        drift_core::text::terminal_safe(&f.operation),
                        f.kind.as_str(),
                        drift_core::text::terminal_safe(&f.message)
                    );
                }
                let part = folders
                    .get(&(t.region.clone(), t.cluster.clone()))
                    .cloned()
                    .unwrap_or_else(|| path_part(&t.cluster));
                let dir: PathBuf = out.join(path_part(&t.region)).join(&part);
                if part != t.cluster {
                    let _ = writeln!(
                        io::stderr(),
                        "note: cluster {} is written to {} (its name is not a safe, unique folder name; capture.json has the real one)",
                        drift_core::text::terminal_safe(&t.cluster),
                        drift_core::text::terminal_safe(&dir.display().to_string())
                    );
                }
                let info = CaptureInfo {
                    tool: "eksdrift".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    region: Some(t.region.clone()),
                    cluster: t.cluster.clone(),
                    // When the collector read the cluster: the clock of the bundle's
                    // time-bound rules, so the capture audits as the live run did.
                    captured_at: snapshot
                        .observed_at
                        .clone()
                        .unwrap_or_else(|| captured_at.clone()),
                    queries: t.queries,
                    failures: snapshot.failures.clone(),
                };
                write_bundle_atomically(&dir, &snapshot, &info).map(|()| dir)
            }
            Err(err) => Err(anyhow::anyhow!(
                "{} in {}: {} ({})",
                t.cluster,
                t.region,
                err.message,
                err.kind.as_str()
            )),
        };
        match written {
            Ok(dir) => writeln!(
                stdout,
                "{}",
                drift_core::text::terminal_safe(&dir.display().to_string())
            )?,
            Err(err) => {
                code = 2;
                let mut msg = format!("error: {err}");
                for cause in err.chain().skip(1) {
                    let _ = std::fmt::Write::write_fmt(&mut msg, format_args!(": {cause}"));
                }
                let _ = writeln!(io::stderr(), "{}", drift_core::text::terminal_safe(&msg));
            }
        }
    }
    stdout.flush()?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::path_part;

    #[test]
    fn cluster_names_cannot_escape_the_capture_folder() {
        assert_eq!(path_part("prod-1"), "prod-1");
        assert!(path_part("../../etc").starts_with("_.._.._etc~"));
        assert!(path_part("..").starts_with("_..~"));
        assert!(path_part("").starts_with("_~"));
        assert!(path_part("a/b\u{1b}").starts_with("a_b_~"));
        assert!(path_part(".hidden").starts_with("_.hidden~"));
        assert!(path_part(&"x".repeat(300)).len() < 120);
    }

    #[test]
    fn different_names_never_share_a_folder() {
        let names = ["a/b", "a_b", "a?b", "Prod", "prod", "PROD"];
        let folders = super::cluster_folders(names.iter().copied());
        let lower: std::collections::HashSet<String> =
            folders.iter().map(|(_, f)| f.to_lowercase()).collect();
        assert_eq!(lower.len(), names.len(), "{folders:?}");
        assert_eq!(folders[1].1, "a_b");
        assert_eq!(folders[3].1, "Prod");
    }
}
