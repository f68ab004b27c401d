//! Command-line surface (contracts: command line and exit codes).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes (the same for every output format):
  0  every target audited; no finding at or above --fail-on
  1  every target audited; at least one finding at or above --fail-on (with --for: at least
     one finding that breaks that operation, whatever its severity)
  2  usage error, unreadable input, or at least one target that could not be audited or was
     audited only in part (this wins over 1; --allow-partial takes the code from the findings
     when targets are partial, but never when a rule the --for gate depends on could not check)

When AWS fails:
  Every call is retried with exponential backoff and jitter (--max-attempts, default 10), and
  each attempt is bounded (--timeout, default 20 s), so a hung endpoint costs at most about
  attempts x timeout plus backoff. A read that still fails (access_denied, unsupported,
  throttled, timeout, network, invalid_response) fails that input alone: the rules that need it
  are not checked, every other rule runs, and the target is `partial`. A cluster whose stacks
  or DescribeCluster cannot be read is `failed`. Either way the exit code is 2: a cluster is
  never reported clean unless everything its rules need was read. Subnets and security groups missing from a first answer are
  asked for once more before they are reported deleted (EC2 is eventually consistent).

eksdrift only reads: it calls the CloudFormation, EKS, EC2 and STS read operations listed in
docs/iam-policy.json, and a guard in its AWS client refuses any other before it is sent.";

/// Audit eksctl cluster stacks for drift from the live EKS cluster.
///
/// eksctl records a cluster's VPC, subnets and security groups as CloudFormation stack outputs
/// and trusts them forever. When the cluster is changed outside eksctl (console,
/// `aws eks update-cluster-config`, deleted subnets), the outputs go stale and the next
/// `eksctl create nodegroup` fails with InvalidSubnetID.NotFound. eksdrift reports that drift
/// before it bites, read-only.
#[derive(Debug, Parser)]
#[command(name = "eksdrift", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// More logs on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit clusters live, or offline from capture bundles
    #[command(after_help = AUDIT_EXAMPLES)]
    Audit(Box<AuditArgs>),
    /// Save what a live audit reads as capture bundles (DIR/<region>/<cluster>/)
    Capture(Box<CaptureArgs>),
    /// List the rule catalogue
    Rules(RulesArgs),
    /// Show one rule's documentation
    Explain(ExplainArgs),
    /// Print a shell completion script (`eksdrift completions bash > /etc/bash_completion.d/eksdrift`)
    Completions(CompletionsArgs),
    /// Print the man page, in roff (`eksdrift man > eksdrift.1; man -l eksdrift.1`)
    Man,
}

const AUDIT_EXAMPLES: &str = "\
Examples:
  eksdrift audit -c prod -r us-west-2               one cluster, live
  eksdrift audit --all-clusters -r us-east-1 -r eu-west-1 -o json --output-file drift.json
  eksdrift audit --from fixtures/subnet-replaced    offline, from a capture bundle
  eksdrift audit --from captures/ --fail-on warning every bundle below captures/
  eksdrift audit -f cluster.yaml --for create-nodegroup --include ng-2 && \
    eksctl create nodegroup -f cluster.yaml --include ng-2    plan the change, then make it

Live mode reads credentials, region and endpoint from the standard AWS configuration chain
(AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, SSO, web identity, IMDS).

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error, unreadable input or a
target that could not be audited.";

/// Which clusters to read live, and how.
#[derive(Debug, Args, Clone)]
#[allow(clippy::struct_excessive_bools)] // each is a flag of the command line
pub struct LiveArgs {
    /// Cluster to audit (repeatable)
    #[arg(short = 'c', long = "cluster", value_name = "NAME", value_parser = cluster_name)]
    pub clusters: Vec<String>,

    /// Audit every EKS cluster of each region (eks:ListClusters)
    #[arg(long, conflicts_with = "clusters")]
    pub all_clusters: bool,

    /// Region to read (repeatable); default: the region of the AWS configuration chain
    #[arg(short = 'r', long = "region", value_name = "REGION")]
    pub regions: Vec<String>,

    /// Named profile from the AWS config files (repeatable: each profile's account is audited)
    #[arg(short = 'p', long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Audit other accounts through this role: assumes arn:aws:iam::ACCOUNT:role/NAME for each
    /// --account (or each account --org finds) with sts:AssumeRole (which issues credentials
    /// and changes nothing)
    #[arg(long, value_name = "NAME")]
    pub assume_role: Option<String>,

    /// Audit every active account of the AWS Organization (organizations:ListAccounts, from
    /// the management account or a delegated administrator; docs/iam-policy-organizations.json),
    /// each through --assume-role. Suspended and closed accounts are listed, not audited
    #[arg(long, requires = "assume_role", conflicts_with_all = ["accounts", "role_arns"])]
    pub org: bool,

    /// With --org: only the accounts of this organizational unit and of the OUs nested in it
    /// (repeatable; ou-xxxx-yyyyyyyy, or r-xxxx for the root)
    #[arg(long = "ou", value_name = "ID", requires = "org")]
    pub ous: Vec<String>,

    /// With --org: leave this account out (repeatable)
    #[arg(long = "exclude-account", value_name = "ID", requires = "org", value_parser = account_id)]
    pub exclude_accounts: Vec<String>,

    /// Read every region each account has enabled (ec2:DescribeRegions with that account's
    /// credentials; opt-in regions only where the account opted in) instead of -r
    #[arg(long, conflicts_with = "regions")]
    pub all_regions: bool,

    /// Accounts audited at once (each reads its regions in parallel, and --concurrency
    /// clusters per region)
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub account_concurrency: u32,

    /// No progress line on stderr (it is shown only on a terminal, for runs of more than two
    /// seconds)
    #[arg(short, long)]
    pub quiet: bool,

    /// Account to audit through --assume-role (repeatable)
    #[arg(long = "account", value_name = "ID", requires = "assume_role", value_parser = account_id)]
    pub accounts: Vec<String>,

    /// Role to assume before reading (repeatable: one audited account each)
    #[arg(long = "role-arn", value_name = "ARN")]
    pub role_arns: Vec<String>,

    /// External ID the assumed roles' trust policies ask for
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// Session name of the assumed roles (CloudTrail shows it)
    #[arg(long, value_name = "NAME", default_value = "eksdrift")]
    pub session_name: String,

    /// Clusters described at once per region
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,

    /// Seconds allowed for each attempt of an AWS call (connect and read)
    #[arg(long, value_name = "SECONDS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Attempts per AWS call, with exponential backoff and jitter between them
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["clusters", "all_clusters", "from", "config_file"])))]
pub struct AuditArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Capture bundle, or folder of bundles, to audit offline (repeatable)
    #[arg(long = "from", value_name = "PATH", conflicts_with_all = ["clusters", "all_clusters", "regions", "profiles", "assume_role", "role_arns", "org", "all_regions"])]
    pub from: Vec<PathBuf>,

    /// Report format
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// Write the report to PATH instead of stdout (`-` is stdout), or, as FORMAT=PATH, also
    /// in another format (repeatable: `--output-file json=drift.json --output-file
    /// prometheus=/var/lib/node_exporter/textfile/eksdrift.prom`). A file is replaced
    /// atomically; a link is written through; a device or FIFO is written into
    #[arg(long, value_name = "[FORMAT=]PATH", value_parser = output_file)]
    pub output_file: Vec<OutputFile>,

    /// Lowest severity that makes the exit code 1: error, warning, info or never; or
    /// new[:SEVERITY] (needs --baseline): only findings the baseline did not have count, so a
    /// nightly job alerts on change, not on the known backlog (`new` is `new:error`)
    #[arg(long, default_value = "error", value_name = "SEVERITY", value_parser = fail_on)]
    pub fail_on: FailOn,

    /// The JSON report of an earlier run (schema 1.x): each finding is marked new or
    /// persisting (same fingerprint: rule, account, region, cluster, resource), and the
    /// baseline's findings that are gone are listed as resolved. An unreadable baseline, or one
    /// that shares no account and region with the run, is an error (exit 2)
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<PathBuf>,

    /// Gate one eksctl operation: the exit code counts only the findings that break it (the
    /// report stays whole; those findings come first in the table). E.g.
    /// `eksdrift audit -c prod --for delete-cluster && eksctl delete cluster prod`
    #[arg(long = "for", value_name = "OPERATION", value_parser = operation)]
    pub for_operation: Option<drift_core::report::Operation>,

    /// The Kubernetes version `--for upgrade-cluster` plans to (MAJOR.MINOR, one minor above
    /// the cluster's, or one below for a rollback; default: the next minor EKS offers, or the
    /// file's metadata.version with -f). A version that skips a minor is a usage error naming
    /// the next one; one EKS does not offer is EKD806
    #[arg(long, value_name = "X.Y", value_parser = kubernetes_version, requires = "for_operation")]
    pub to_version: Option<String>,

    /// Plan one eksctl change from its ClusterConfig (`-` reads stdin): the cluster and region
    /// come from metadata.name and metadata.region, and the plan's findings (EKD9xx) say
    /// whether `eksctl <OPERATION> -f FILE` will work. Needs --for. E.g. `eksdrift audit -f
    /// cluster.yaml --for create-nodegroup --include ng-2 && eksctl create nodegroup -f
    /// cluster.yaml --include ng-2`
    #[arg(
        short = 'f',
        long = "config-file",
        value_name = "FILE",
        requires = "for_operation",
        conflicts_with = "all_clusters"
    )]
    pub config_file: Option<PathBuf>,

    /// Nodegroups of the file the planned command includes (eksctl's --include: globs,
    /// comma-separated or repeated)
    #[arg(
        long,
        value_name = "GLOBS",
        value_delimiter = ',',
        requires = "config_file"
    )]
    pub include: Vec<String>,

    /// Nodegroups of the file the planned command excludes (eksctl's --exclude)
    #[arg(
        long,
        value_name = "GLOBS",
        value_delimiter = ',',
        requires = "config_file"
    )]
    pub exclude: Vec<String>,

    /// The eksctl version that will run the planned command (default: current eksctl's
    /// behaviour). Before 0.177.0 eksctl fails on any deleted subnet of the cluster stack
    #[arg(long, value_name = "X.Y.Z", value_parser = eksctl_version, requires = "config_file")]
    pub eksctl_version: Option<(u32, u32, u32)>,

    /// Suppressions file (default: eksdrift.toml in the working folder, when it exists):
    /// `[[suppress]]` entries with `code` or `rule`, optional `cluster`/`region`/`resource`
    /// globs and `account`, a required `reason` and an `expires` date
    #[arg(long, value_name = "PATH", conflicts_with = "no_suppress")]
    pub config: Option<PathBuf>,

    /// Apply no suppressions: report every finding as if no eksdrift.toml existed
    #[arg(long)]
    pub no_suppress: bool,

    /// Read no configuration file at all (no eksdrift.toml, no --config)
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,

    /// Run only these rules: codes (EKD202), code prefixes (EKD6), slugs or families (stack,
    /// subnets, security-groups, cluster, nodegroups, identity, lifecycle, upgrade, plan);
    /// comma-separated or repeated. A live audit reads only what the selected rules need; the
    /// plan's rules run only with -f FILE
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Vec<String>,

    /// Leave out these rules (same forms as --select)
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub ignore: Vec<String>,

    /// Take the exit code from the findings alone when targets are partial (an input failed).
    /// Never when a rule the --for gate depends on could not check, never for failed targets
    #[arg(long)]
    pub allow_partial: bool,

    /// Colour in the table (NO_COLOR is honoured under auto)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Largest bundle file read with --from, in MiB; a larger file (or anything but a regular
    /// file) fails its bundle as invalid input
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_file_mb: u64,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true).args(["clusters", "all_clusters", "config_file"])))]
pub struct CaptureArgs {
    #[command(flatten)]
    pub live: LiveArgs,

    /// Folder to write bundles into, as DIR/<region>/<cluster>/
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Also read what a plan of this eksctl ClusterConfig needs (the subnets, groups, key
    /// pairs, AMIs and instance type offerings it names), so that `audit -f FILE --from`
    /// judges it; the cluster and region default to the file's
    #[arg(short = 'f', long = "config-file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Catalogue format
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub output: RulesFormat,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule code (EKD202) or slug (output-subnet-deleted)
    #[arg(value_name = "CODE-or-SLUG")]
    pub rule: String,
}

/// An eksctl release: X.Y.Z (a leading `v` allowed).
fn eksctl_version(s: &str) -> Result<(u32, u32, u32), String> {
    let parts: Vec<Option<u32>> = s
        .trim()
        .trim_start_matches('v')
        .split('.')
        .map(|p| p.parse().ok())
        .collect();
    match parts.as_slice() {
        [Some(a), Some(b), Some(c)] => Ok((*a, *b, *c)),
        _ => Err("an eksctl release as X.Y.Z, e.g. 0.176.0".to_owned()),
    }
}

/// A Kubernetes version as EKS names them: MAJOR.MINOR.
fn kubernetes_version(s: &str) -> Result<String, String> {
    let mut parts = s.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if ok(parts.next()) && ok(parts.next()) && parts.next().is_none() {
        Ok(s.to_owned())
    } else {
        Err("a Kubernetes version as EKS names it: MAJOR.MINOR, e.g. 1.31".to_owned())
    }
}

/// One of the operations `breaks` names.
fn operation(s: &str) -> Result<drift_core::report::Operation, String> {
    drift_core::report::Operation::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = drift_core::report::Operation::ALL
            .iter()
            .map(|o| o.as_str())
            .collect();
        format!("one of: {}", names.join(", "))
    })
}

/// An EKS cluster name: 1 to 100 characters, a letter or digit first, then letters, digits,
/// `-` and `_` (the EKS API's pattern).
fn cluster_name(s: &str) -> Result<String, String> {
    let ok = (1..=100).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err("an EKS cluster name is 1 to 100 letters, digits, `-` and `_`, starting with a letter or digit".to_owned())
    }
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table per target, for people (the default)
    Table,
    /// The JSON report (docs/report.schema.json)
    Json,
    /// JUnit XML: a suite per target, a case per rule (Jenkins, GitLab)
    Junit,
    /// Markdown: a fleet summary, then findings per target ($GITHUB_STEP_SUMMARY)
    Markdown,
    /// Prometheus text format, for node_exporter's textfile collector
    Prometheus,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
    /// One self-contained HTML file: fleet overview, then each cluster's findings, evidence
    /// and fix commands; opens from disk with no network, filters with JavaScript on
    Html,
}

/// One `--output-file`: `FORMAT=PATH`, or a bare `PATH` for the `-o` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// `None`: the `-o` format, instead of stdout.
    pub format: Option<Format>,
    pub path: PathBuf,
}

fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("an AWS account ID is 12 digits".to_owned())
    }
}

fn output_file(s: &str) -> Result<OutputFile, String> {
    if let Some((name, path)) = s.split_once('=')
        && let Ok(format) = <Format as ValueEnum>::from_str(name, false)
    {
        if path.is_empty() {
            return Err(format!("{name}= needs a path after the ="));
        }
        return Ok(OutputFile {
            format: Some(format),
            path: PathBuf::from(path),
        });
    }
    if s.is_empty() {
        return Err("an empty path".to_owned());
    }
    Ok(OutputFile {
        format: None,
        path: PathBuf::from(s),
    })
}

/// Formats of the rule catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    /// docs/rules.md
    Markdown,
}

/// Shells `eksdrift completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// `--fail-on`: a severity threshold (none for `never`), over every finding or only the new
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailOn {
    /// `None`: never.
    pub severity: Option<drift_core::report::Severity>,
    /// Only findings new against `--baseline` count.
    pub only_new: bool,
}

fn fail_on(s: &str) -> Result<FailOn, String> {
    use drift_core::report::Severity;
    let (only_new, level) = match s.split_once(':') {
        Some(("new", level)) => (true, level),
        None if s == "new" => (true, "error"),
        _ => (false, s),
    };
    let severity = match level {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        "never" if !only_new => None,
        _ => {
            return Err(
                "error, warning, info, never, or new[:error|warning|info] (e.g. new:warning)"
                    .to_owned(),
            );
        }
    };
    Ok(FailOn { severity, only_new })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
