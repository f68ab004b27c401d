//! Where the report goes: stdout, or a file replaced atomically so a reader never sees half a
//! report. A closed stdout (`| head`) ends the run quietly.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};

/// Temporary files and folders that an interrupted run must not leave behind.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes pending temporaries on Ctrl-C (and SIGTERM), then exits with 130, so an
/// interrupted run never leaves a partial report or bundle.
pub fn remove_partial_output_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(pending) = PENDING.lock() {
            for p in pending.iter() {
                let _ = fs::remove_file(p).or_else(|_| fs::remove_dir_all(p));
            }
        }
        let _ = writeln!(io::stderr(), "interrupted");
        std::process::exit(130);
    });
}

/// Registers `path` as pending until [`done`] is called for it.
pub fn pending(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(path.to_owned());
    }
}

/// `path` was renamed into place or cleaned up.
pub fn done(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}

/// A name no other process will guess: the temporary files and folders are created
/// exclusively under it, so a planted link or file is never followed or reused.
pub fn unpredictable_name(prefix: &str) -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    format!("{prefix}{:016x}", h.finish())
}

/// Writes with `render` to `file` or to stdout (`None` or `-`).
///
/// A regular file (or a new one) is replaced atomically: the report goes to a temporary file
/// created exclusively beside it, is synced, then renamed over it, so a reader never sees half
/// a report. A link is written through: its target is replaced, the link stays. Anything else
/// (`/dev/null`, `/dev/stdout`, a FIFO) is written straight into, never replaced.
pub fn emit(
    file: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let Some(path) = file.filter(|p| p.as_os_str() != "-") else {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        render(&mut out)?;
        out.flush()?;
        return Ok(());
    };
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).with_context(|| {
            format!(
                "{}: a link to a missing file; give the file itself",
                path.display()
            )
        })?,
        _ => path.to_owned(),
    };
    match fs::metadata(&target) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            // A device or FIFO: write into it, as a shell redirection would.
            let mut out = BufWriter::new(
                fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("opening {}", path.display()))?,
            );
            render(&mut out)?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(())
        }
        Ok(m) if m.is_dir() => {
            anyhow::bail!("{}: is a folder; give a file path", path.display())
        }
        existing => replace_atomically(&target, existing.ok().map(|m| m.permissions()), render)
            .with_context(|| format!("writing {}", path.display())),
    }
}

fn replace_atomically(
    path: &Path,
    permissions: Option<fs::Permissions>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
    let (tmp, file) = create_exclusive(dir, &format!(".{name}."))?;
    pending(&tmp);
    let result = (|| -> io::Result<()> {
        let mut out = BufWriter::new(file);
        render(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    done(&tmp);
    result
}

/// A new file in `dir` with an unpredictable name, created exclusively (`O_EXCL`: an existing
/// file or link of that name is an error, never followed).
fn create_exclusive(dir: &Path, prefix: &str) -> io::Result<(PathBuf, fs::File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = dir.join(format!("{}.tmp", unpredictable_name(prefix)));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary name was free")))
}

/// True when the failure is stdout closed by the reader.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The report timestamp, UTC, second precision.
/// Now, in seconds since the epoch.
pub fn now_epoch() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

pub fn now_rfc3339() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// A target that cannot be audited as asked (`--to-version` is not its next minor): an
/// `invalid_input` failed target, and the reason on stderr as a usage error.
pub fn usage_failed(
    cluster: String,
    region: Option<String>,
    source: String,
    usage: &str,
) -> drift_core::TargetReport {
    let _ = writeln!(
        std::io::stderr(),
        "error: {}",
        drift_core::text::terminal_safe(usage)
    );
    drift_core::TargetReport::failed(
        cluster,
        region,
        source,
        drift_core::report::TargetError::new(
            drift_core::report::ErrorKind::InvalidInput,
            usage.to_owned(),
        ),
    )
}

/// A line on stderr for a target audited in part: which reads failed, and how many rules that
/// left out.
pub fn warn_partial(report: &drift_core::TargetReport) {
    if report.status != drift_core::report::TargetStatus::Partial {
        return;
    }
    let whom = if report.source == "live" {
        format!(
            "{} in {}",
            report.cluster,
            report.region.as_deref().unwrap_or("?")
        )
    } else {
        report.source.clone()
    };
    let reads: Vec<String> = report
        .failed_inputs()
        .map(|f| format!("{} failed ({})", f.operation, f.kind.as_str()))
        .collect();
    let _ = writeln!(
        io::stderr(),
        "warning: {}: partial audit: {}; {} rules not checked",
        drift_core::text::terminal_safe(&whom),
        drift_core::text::terminal_safe(&reads.join("; ")),
        report.coverage.not_checked.len()
    );
}
