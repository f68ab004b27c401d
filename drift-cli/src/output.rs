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

/// Writes with `render` to `file` (atomically) or to stdout.
pub fn emit(
    file: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match file {
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            render(&mut out)?;
            out.flush()?;
            Ok(())
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let name = path
                .file_name()
                .with_context(|| format!("{}: not a file path", path.display()))?;
            let tmp = dir.join(format!(
                ".{}.{}.tmp",
                name.to_string_lossy(),
                std::process::id()
            ));
            pending(&tmp);
            let result = (|| -> io::Result<()> {
                let mut out = BufWriter::new(fs::File::create(&tmp)?);
                render(&mut out)?;
                let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
                file.sync_all()?;
                fs::rename(&tmp, path)
            })();
            if result.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            done(&tmp);
            result.with_context(|| format!("writing {}", path.display()))
        }
    }
}

/// True when the failure is stdout closed by the reader.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The report timestamp, UTC, second precision.
pub fn now_rfc3339() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
