//! `eksdrift.toml`: suppressions, each with a reason and (strongly encouraged) an expiry date.
//!
//! ```toml
//! [[suppress]]
//! code = "EKD202"                 # or rule = "output-subnet-deleted"
//! cluster = "prod-*"              # optional globs: cluster, region, resource
//! resource = "subnet-0aa2*"
//! reason = "old private subnets retired in CHG-1234; stack output fixed in the next release"
//! expires = 2027-03-31            # a date (or "2027-03-31")
//! ```
//!
//! Unknown keys, a missing reason, an unknown code or rule and a bad date are usage errors that
//! name the file and line.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use drift_core::suppress::Suppression;
use serde::Deserialize;

/// The file read when `--config` is not given, in the working folder.
pub const DEFAULT_FILE: &str = "eksdrift.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Rules to run (as `--select`).
    #[serde(default)]
    select: Vec<String>,
    /// Rules to leave out (as `--ignore`).
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    suppress: Vec<toml::Spanned<Entry>>,
}

/// What a configuration file says.
#[derive(Debug, Default)]
pub struct Config {
    /// The file read, when one was.
    pub path: Option<PathBuf>,
    /// `select = [...]`.
    pub select: Vec<String>,
    /// `ignore = [...]`.
    pub ignore: Vec<String>,
    /// `[[suppress]]` entries.
    pub suppressions: Vec<Suppression>,
}

/// Where the configuration comes from: `--config PATH`; else `eksdrift.toml` in the working
/// folder, unless that folder is (inside) a `--from` folder — a bundle is data from elsewhere,
/// and a config shipped in it must not change the result; `--isolated` reads none.
pub fn discover(explicit: Option<&Path>, isolated: bool, from: &[PathBuf]) -> Option<PathBuf> {
    if isolated {
        return None;
    }
    if let Some(p) = explicit {
        return Some(p.to_owned());
    }
    let p = PathBuf::from(DEFAULT_FILE);
    if !p.is_file() {
        return None;
    }
    let here = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()?;
    let inside_bundle = from
        .iter()
        .any(|f| std::fs::canonicalize(f).is_ok_and(|f| here.starts_with(&f)));
    if inside_bundle {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"note: eksdrift.toml in the working folder is not read: the folder is inside a --from bundle folder (pass --config to use it)\n",
        );
        return None;
    }
    Some(p)
}

/// Reads the configuration at `path` (none: the empty configuration).
pub fn load_config(path: Option<&Path>) -> Result<Config> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    let file: File = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(&text, s.start));
        anyhow::anyhow!("{name}:{line}: {}", e.message())
    })?;
    Ok(Config {
        path: Some(path.to_owned()),
        select: file.select,
        ignore: file.ignore,
        suppressions: parse(&name, &text)?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    code: Option<String>,
    rule: Option<String>,
    cluster: Option<String>,
    region: Option<String>,
    account: Option<String>,
    resource: Option<String>,
    reason: Option<String>,
    expires: Option<toml::Value>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parses the text of a config file named `name` (for messages and `source`).
pub fn parse(name: &str, text: &str) -> Result<Vec<Suppression>> {
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        anyhow::anyhow!("{name}:{line}: {}", e.message())
    })?;
    let mut out = Vec::new();
    for spanned in file.suppress {
        let line = line_of(text, spanned.span().start);
        let source = format!("{name}:{line}");
        let e = spanned.into_inner();
        let what = match (&e.code, &e.rule) {
            (Some(code), None) => code.clone(),
            (None, Some(rule)) => rule.clone(),
            (Some(_), Some(_)) => bail!("{source}: give `code` or `rule`, not both"),
            (None, None) => bail!(
                "{source}: a suppression names the finding it accepts with `code = \"EKD…\"` or `rule = \"slug\"`"
            ),
        };
        let Some(rule) = drift_core::rules::find(&what) else {
            bail!("{source}: no rule {what:?}; `eksdrift rules` lists the codes and slugs");
        };
        let reason = match e.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_owned(),
            _ => bail!("{source}: a suppression needs a `reason` (who accepted it, and why)"),
        };
        let expires = match e.expires {
            None => None,
            Some(value) => Some(date(&value).ok_or_else(|| {
                let got = match &value {
                    toml::Value::String(s) => drift_core::text::inline(s).into_owned(),
                    toml::Value::Datetime(d) => d.to_string(),
                    other => other.type_str().to_owned(),
                };
                anyhow::anyhow!("{source}: `expires` must be a date, YYYY-MM-DD (got {got})")
            })?),
        };
        let mut s = Suppression::new(rule.code, &reason, &source);
        s.cluster = e.cluster;
        s.region = e.region;
        s.account = e.account;
        s.resource = e.resource;
        s.expires = expires;
        out.push(s);
    }
    Ok(out)
}

/// A TOML date (`2027-03-31`) or a string holding one, checked against the calendar.
fn date(value: &toml::Value) -> Option<String> {
    let text = match value {
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        toml::Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(&text, &format).ok()?;
    Some(text)
}

/// Today, UTC, as `YYYY-MM-DD`: suppressions expire at the end of their day.
pub fn today() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .date()
        .format(&format)
        .unwrap_or_else(|_| "1970-01-01".to_owned())
}
