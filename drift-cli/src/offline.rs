//! Offline audits: read capture bundles and run the engine on each, in parallel.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use drift_core::bundle::{self, BundleError, ReadLimits};
use drift_core::report::{ErrorKind, Report, Stats, TargetError, TargetReport};
use drift_core::selection::Selection;

/// What the command line adds to each bundle before it is audited.
#[derive(Default, Clone, Copy)]
pub struct Attach<'a> {
    /// `--to-version`: checked against each bundle's cluster.
    pub to_version: Option<&'a str>,
    /// `-f FILE`: the plan, for the bundles of its cluster.
    pub plan: Option<&'a drift_core::snapshot::Plan>,
}

/// Audits every bundle at or below `paths`. A bundle or folder that cannot be read becomes a
/// failed target (and a line on stderr); it never stops the others.
/// `attach`: what the command line adds to each bundle (the upgrade's target, a plan).
pub fn audit(
    paths: &[PathBuf],
    limits: ReadLimits,
    selection: &Selection,
    attach: &Attach<'_>,
) -> Report {
    let started = Instant::now();
    let mut targets = Vec::new();
    let mut dirs = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        match bundle::find_bundles(path) {
            Ok(found) => {
                for link in &found.skipped_links {
                    let _ = writeln!(
                        io::stderr(),
                        "warning: {}: a link to a folder is not followed; pass it to --from itself to audit what it points to",
                        drift_core::text::terminal_safe(&link.display().to_string())
                    );
                }
                for err in &found.unreadable {
                    targets.push(failed(err.path(), err));
                }
                // The same bundle named twice (`--from a --from a/b`) is audited once.
                dirs.extend(found.bundles.into_iter().filter(|d| {
                    seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone()))
                }));
            }
            Err(err) => targets.push(failed(path, &err)),
        }
    }
    targets.extend(audit_all(&dirs, limits, selection, attach));
    let stats = Stats::new(
        std::collections::BTreeMap::new(),
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    Report::new(targets, crate::output::now_rfc3339(), stats)
}

/// One bundle's report. A panic (a bug: property tests say the engine has none) fails that
/// bundle alone, as `internal`, rather than losing it or the other bundles' results.
fn audit_one(
    dir: &Path,
    limits: ReadLimits,
    selection: &Selection,
    attach: &Attach<'_>,
) -> TargetReport {
    let run = || match bundle::read_bundle_with(dir, &limits) {
        Ok(mut snapshot) => {
            snapshot.to_version = attach.to_version.map(str::to_owned);
            snapshot.plan = attach
                .plan
                .filter(|p| p.config.metadata.name == snapshot.cluster.name)
                .cloned();
            if let Err(usage) = snapshot.check_upgrade_step() {
                return crate::output::usage_failed(
                    snapshot.cluster.name.clone(),
                    snapshot.region.clone(),
                    dir.display().to_string(),
                    &usage,
                );
            }
            let report = drift_core::audit_with(&snapshot, selection);
            crate::output::warn_partial(&report);
            report
        }
        Err(err) => failed(dir, &err),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        TargetReport::failed(
            folder_name(dir),
            None,
            dir.display().to_string(),
            TargetError::new(ErrorKind::Internal, "eksdrift failed while auditing this bundle (a bug: please report it with the bundle)".to_owned()),
        )
    })
}

fn folder_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn failed(path: &Path, err: &BundleError) -> TargetReport {
    let _ = writeln!(
        io::stderr(),
        "error: {}",
        drift_core::text::terminal_safe(&err.to_string())
    );
    TargetReport::failed(
        folder_name(path),
        None,
        path.display().to_string(),
        TargetError::new(ErrorKind::InvalidInput, err.to_string()),
    )
}

/// Reads and audits bundles on every core; results keep the input order.
fn audit_all(
    dirs: &[PathBuf],
    limits: ReadLimits,
    selection: &Selection,
    attach: &Attach<'_>,
) -> Vec<TargetReport> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(dirs.len().max(1));
    if workers <= 1 {
        return dirs
            .iter()
            .map(|d| audit_one(d, limits, selection, attach))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, TargetReport)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(dir) = dirs.get(i) else { break };
                        mine.push((i, audit_one(dir, limits, selection, attach)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
