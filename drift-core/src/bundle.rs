//! Capture bundles: one folder per cluster holding exactly what the AWS CLI prints with
//! `--output json`, so a user can assemble one by hand. See the README for the file list.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::snapshot::{Cluster, SecurityGroup, Snapshot, Stack, StackResource, Subnet};

pub const DESCRIBE_STACKS: &str = "describe-stacks.json";
pub const DESCRIBE_CLUSTER: &str = "describe-cluster.json";
pub const DESCRIBE_SUBNETS: &str = "describe-subnets.json";
pub const DESCRIBE_SECURITY_GROUPS: &str = "describe-security-groups.json";
pub const GET_TEMPLATE: &str = "get-template.json";
pub const DESCRIBE_STACK_RESOURCES: &str = "describe-stack-resources.json";
pub const CAPTURE: &str = "capture.json";

/// How deep `--from` looks for bundles below the folder it is given
/// (`capture` writes `DIR/<region>/<cluster>/`).
const MAX_DEPTH: usize = 4;

/// Why a bundle could not be read or written. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: required file is missing (a bundle holds {DESCRIBE_STACKS}, {DESCRIBE_CLUSTER} and {DESCRIBE_SUBNETS})", path.display())]
    Missing { path: PathBuf },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: no capture bundle found (a bundle folder holds {DESCRIBE_STACKS}, {DESCRIBE_CLUSTER} and {DESCRIBE_SUBNETS})", path.display())]
    NoBundles { path: PathBuf },
}

/// `capture.json`: what `eksdrift capture` records about how a bundle was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureInfo {
    pub tool: String,
    pub version: String,
    #[serde(default)]
    pub region: Option<String>,
    pub cluster: String,
    pub captured_at: String,
    /// The AWS calls made, as `service:Operation` with their parameters.
    #[serde(default)]
    pub queries: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StacksFile {
    stacks: Vec<Stack>,
}

#[derive(Serialize, Deserialize)]
struct ClusterFile {
    cluster: Cluster,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SubnetsFile {
    subnets: Vec<Subnet>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecurityGroupsFile {
    security_groups: Vec<SecurityGroup>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateFile {
    template_body: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StackResourcesFile {
    stack_resources: Vec<StackResource>,
}

fn parse<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, BundleError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        BundleError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_owned(),
        }
    })
}

fn read_bytes(dir: &Path, name: &str, required: bool) -> Result<Option<Vec<u8>>, BundleError> {
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if required {
                Err(BundleError::Missing { path })
            } else {
                Ok(None)
            }
        }
        Err(source) => Err(BundleError::Io { path, source }),
    }
}

/// The raw contents of a bundle's files; `None` for an absent optional file.
#[derive(Debug, Clone, Default)]
pub struct BundleFiles {
    pub describe_stacks: Vec<u8>,
    pub describe_cluster: Vec<u8>,
    pub describe_subnets: Vec<u8>,
    pub describe_security_groups: Option<Vec<u8>>,
    pub get_template: Option<Vec<u8>>,
    pub describe_stack_resources: Option<Vec<u8>>,
    pub capture: Option<Vec<u8>>,
}

/// Reads one bundle folder into a snapshot. `source` in the snapshot is the folder path.
pub fn read_bundle(dir: &Path) -> Result<Snapshot, BundleError> {
    if !dir.is_dir() {
        return Err(match fs::metadata(dir) {
            Err(source) => BundleError::Io {
                path: dir.to_owned(),
                source,
            },
            Ok(_) => BundleError::Invalid {
                path: dir.to_owned(),
                message: "not a folder; a capture bundle is a folder of AWS CLI JSON files"
                    .to_owned(),
            },
        });
    }
    let required = |name: &str| -> Result<Vec<u8>, BundleError> {
        read_bytes(dir, name, true)?.ok_or_else(|| BundleError::Missing {
            path: dir.join(name),
        })
    };
    let files = BundleFiles {
        describe_stacks: required(DESCRIBE_STACKS)?,
        describe_cluster: required(DESCRIBE_CLUSTER)?,
        describe_subnets: required(DESCRIBE_SUBNETS)?,
        describe_security_groups: read_bytes(dir, DESCRIBE_SECURITY_GROUPS, false)?,
        get_template: read_bytes(dir, GET_TEMPLATE, false)?,
        describe_stack_resources: read_bytes(dir, DESCRIBE_STACK_RESOURCES, false)?,
        capture: read_bytes(dir, CAPTURE, false)?,
    };
    parse_bundle(dir, &files)
}

fn parse_optional<T: DeserializeOwned>(
    dir: &Path,
    name: &str,
    bytes: Option<&Vec<u8>>,
) -> Result<Option<T>, BundleError> {
    bytes.map(|b| parse(&dir.join(name), b)).transpose()
}

/// Parses a bundle's file contents (as read from `dir`, which errors and `source` name).
pub fn parse_bundle(dir: &Path, files: &BundleFiles) -> Result<Snapshot, BundleError> {
    let stacks: StacksFile = parse(&dir.join(DESCRIBE_STACKS), &files.describe_stacks)?;
    let cluster: ClusterFile = parse(&dir.join(DESCRIBE_CLUSTER), &files.describe_cluster)?;
    if cluster.cluster.name.trim().is_empty() {
        return Err(BundleError::Invalid {
            path: dir.join(DESCRIBE_CLUSTER),
            message: "cluster.name is empty".to_owned(),
        });
    }
    let subnets: SubnetsFile = parse(&dir.join(DESCRIBE_SUBNETS), &files.describe_subnets)?;
    let groups: Option<SecurityGroupsFile> = parse_optional(
        dir,
        DESCRIBE_SECURITY_GROUPS,
        files.describe_security_groups.as_ref(),
    )?;
    let template: Option<TemplateFile> =
        parse_optional(dir, GET_TEMPLATE, files.get_template.as_ref())?;
    let resources: Option<StackResourcesFile> = parse_optional(
        dir,
        DESCRIBE_STACK_RESOURCES,
        files.describe_stack_resources.as_ref(),
    )?;
    let capture: Option<CaptureInfo> = parse_optional(dir, CAPTURE, files.capture.as_ref())?;

    Ok(Snapshot {
        source: dir.display().to_string(),
        region: capture.and_then(|c| c.region),
        stacks: stacks.stacks,
        cluster: cluster.cluster,
        subnets: subnets.subnets,
        security_groups: groups.map(|g| g.security_groups),
        template: template.map(|t| t.template_body),
        stack_resources: resources.map(|r| r.stack_resources),
        imports: None,
    })
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), BundleError> {
    let path = dir.join(name);
    let io_err = |source| BundleError::Io {
        path: path.clone(),
        source,
    };
    // The AWS CLI indents with four spaces.
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut bytes,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    value
        .serialize(&mut ser)
        .map_err(|e| io_err(io::Error::other(e)))?;
    bytes.push(b'\n');
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp).map_err(|e| BundleError::Io {
        path: tmp.clone(),
        source: e,
    })?;
    file.write_all(&bytes).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    fs::rename(&tmp, &path).map_err(io_err)
}

/// Writes `snapshot` as a bundle in `dir` (created if needed), in the AWS CLI's shapes.
/// Optional inputs the snapshot lacks are not written, so reading the folder back gives the
/// same snapshot (with `source` set to the folder).
pub fn write_bundle(
    dir: &Path,
    snapshot: &Snapshot,
    capture: Option<&CaptureInfo>,
) -> Result<(), BundleError> {
    fs::create_dir_all(dir).map_err(|source| BundleError::Io {
        path: dir.to_owned(),
        source,
    })?;
    write_json(
        dir,
        DESCRIBE_STACKS,
        &StacksFile {
            stacks: snapshot.stacks.clone(),
        },
    )?;
    write_json(
        dir,
        DESCRIBE_CLUSTER,
        &ClusterFile {
            cluster: snapshot.cluster.clone(),
        },
    )?;
    write_json(
        dir,
        DESCRIBE_SUBNETS,
        &SubnetsFile {
            subnets: snapshot.subnets.clone(),
        },
    )?;
    if let Some(groups) = &snapshot.security_groups {
        write_json(
            dir,
            DESCRIBE_SECURITY_GROUPS,
            &SecurityGroupsFile {
                security_groups: groups.clone(),
            },
        )?;
    }
    if let Some(body) = &snapshot.template {
        write_json(
            dir,
            GET_TEMPLATE,
            &TemplateFile {
                template_body: body.clone(),
            },
        )?;
    }
    if let Some(resources) = &snapshot.stack_resources {
        write_json(
            dir,
            DESCRIBE_STACK_RESOURCES,
            &StackResourcesFile {
                stack_resources: resources.clone(),
            },
        )?;
    }
    if let Some(capture) = capture {
        write_json(dir, CAPTURE, capture)?;
    }
    Ok(())
}

fn is_bundle(dir: &Path) -> bool {
    [DESCRIBE_STACKS, DESCRIBE_CLUSTER, DESCRIBE_SUBNETS]
        .iter()
        .any(|f| dir.join(f).is_file())
}

/// The bundle folders at or below `path`: `path` itself when it is a bundle, otherwise every
/// bundle folder below it (up to four levels), sorted. A folder holding any of the required
/// files counts, so a bundle missing one is reported rather than skipped.
pub fn find_bundles(path: &Path) -> Result<Vec<PathBuf>, BundleError> {
    let meta = fs::metadata(path).map_err(|source| BundleError::Io {
        path: path.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(BundleError::Invalid {
            path: path.to_owned(),
            message: "not a folder; --from takes a bundle folder or a folder of bundles".to_owned(),
        });
    }
    let mut found = Vec::new();
    walk(path, 0, &mut found)?;
    if found.is_empty() {
        return Err(BundleError::NoBundles {
            path: path.to_owned(),
        });
    }
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), BundleError> {
    if is_bundle(dir) {
        found.push(dir.to_owned());
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let entries = fs::read_dir(dir).map_err(|source| BundleError::Io {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| BundleError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let p = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && p.is_dir() {
            walk(&p, depth + 1, found)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(DESCRIBE_STACKS),
            "{\"Stacks\": [\n  {,}\n]}",
        )
        .unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        let err = read_bundle(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                BundleError::Parse {
                    line: 2,
                    column: 4,
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("describe-stacks.json:2:4: "), "{text}");
    }

    #[test]
    fn missing_required_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DESCRIBE_STACKS), r#"{"Stacks":[]}"#).unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        let err = read_bundle(dir.path()).unwrap_err();
        assert!(
            matches!(&err, BundleError::Missing { path } if path.ends_with(DESCRIBE_SUBNETS)),
            "{err}"
        );
    }

    #[test]
    fn wrong_top_level_shape_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(DESCRIBE_STACKS), r#"{"StackSummaries":[]}"#).unwrap();
        fs::write(
            dir.path().join(DESCRIBE_CLUSTER),
            r#"{"cluster":{"name":"x"}}"#,
        )
        .unwrap();
        fs::write(dir.path().join(DESCRIBE_SUBNETS), r#"{"Subnets":[]}"#).unwrap();
        let err = read_bundle(dir.path()).unwrap_err().to_string();
        assert!(err.contains("missing field `Stacks`"), "{err}");
    }

    #[test]
    fn a_file_is_not_a_bundle_folder() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.json");
        fs::write(&f, "{}").unwrap();
        assert!(matches!(find_bundles(&f), Err(BundleError::Invalid { .. })));
        assert!(matches!(
            find_bundles(dir.path()),
            Err(BundleError::NoBundles { .. })
        ));
    }
}
