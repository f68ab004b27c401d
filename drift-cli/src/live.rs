//! Live audit and capture: the collector, a tokio runtime, and progress on a terminal.

use std::io::{self, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use drift_core::bundle::{CaptureInfo, write_bundle};
use drift_core::collect::{self, Collection, Options, Progress, Targets};
use drift_core::report::{Report, Stats, TargetReport};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cli::LiveArgs;

fn options(args: &LiveArgs) -> Options {
    Options {
        targets: if args.all_clusters {
            Targets::All
        } else {
            Targets::Named(args.clusters.clone())
        },
        regions: args.regions.clone(),
        profile: args.profile.clone(),
        concurrency: args.concurrency as usize,
        timeout: Duration::from_secs(args.timeout),
        max_attempts: args.max_attempts,
    }
}

fn run_collector(args: &LiveArgs) -> Result<Collection> {
    let opts = options(args);
    let bar = if io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{pos}/{len} clusters] {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let on_progress = |p: Progress| match p {
        Progress::Region { region, clusters } => {
            bar.inc_length(clusters as u64);
            bar.set_message(format!("reading {region}"));
        }
        Progress::Cluster { .. } => bar.inc(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(collect::collect(&opts, &on_progress));
    bar.finish_and_clear();
    Ok(result?)
}

pub fn audit(args: &LiveArgs) -> Result<Report> {
    let started = Instant::now();
    let collection = run_collector(args)?;
    let targets = collection
        .targets
        .into_iter()
        .map(|t| match t.result {
            Ok(snapshot) => drift_core::audit(&snapshot),
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
        })
        .collect();
    let stats = Stats {
        api_calls: collection.api_calls,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    Ok(Report::new(targets, crate::output::now_rfc3339(), stats))
}

/// A cluster or region name as one safe path component.
fn path_part(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        format!("_{cleaned}")
    } else {
        cleaned
    }
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
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    crate::output::pending(&tmp);
    let result = (|| -> Result<()> {
        let _ = std::fs::remove_dir_all(&tmp);
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
/// Exit code: 0 when every target was written, 2 otherwise.
pub fn capture(args: &LiveArgs, out: &Path) -> Result<u8> {
    let collection = run_collector(args)?;
    let captured_at = crate::output::now_rfc3339();
    let mut stdout = io::stdout().lock();
    let mut code = 0;
    for t in collection.targets {
        match t.result {
            Ok(snapshot) => {
                let dir: PathBuf = out.join(path_part(&t.region)).join(path_part(&t.cluster));
                let info = CaptureInfo {
                    tool: "eksdrift".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    region: Some(t.region.clone()),
                    cluster: t.cluster.clone(),
                    captured_at: captured_at.clone(),
                    queries: t.queries,
                };
                write_bundle_atomically(&dir, &snapshot, &info)?;
                writeln!(
                    stdout,
                    "{}",
                    drift_core::text::terminal_safe(&dir.display().to_string())
                )?;
            }
            Err(err) => {
                code = 2;
                let _ = writeln!(
                    io::stderr(),
                    "error: {} in {}: {} ({})",
                    drift_core::text::terminal_safe(&t.cluster),
                    t.region,
                    drift_core::text::terminal_safe(&err.message),
                    err.kind.as_str()
                );
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
        assert_eq!(path_part("../../etc"), ".._.._etc");
        assert_eq!(path_part(".."), "_..");
        assert_eq!(path_part(""), "_");
        assert_eq!(path_part("a/b\u{1b}"), "a_b_");
    }
}
