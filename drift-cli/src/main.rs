//! `eksdrift`: parse, run, map the outcome to the contracted exit code.

mod cli;
mod config;
#[cfg(feature = "aws")]
mod live;
mod offline;
mod output;
mod render;

use std::fmt::Write as _;
use std::io::{self, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser as _;
use drift_core::report::{Operation, Report, TargetStatus};
use drift_core::rules;

use crate::cli::{AuditArgs, Cli, ColorChoice, Command, FailOn, Format};

/// Exit codes of the contract.
const OK: u8 = 0;
const FINDINGS: u8 = 1;
const FAILURE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    output::remove_partial_output_on_interrupt();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if output::is_broken_pipe(&err) => ExitCode::from(OK),
        Err(err) => {
            // The whole cause chain, on one line per cause.
            let mut msg = format!("error: {err}");
            for cause in err.chain().skip(1) {
                let _ = write!(msg, "\n  caused by: {cause}");
            }
            // Line breaks stay; any other control character is shown escaped.
            let safe: Vec<_> = msg.lines().map(drift_core::text::terminal_safe).collect();
            let _ = writeln!(io::stderr(), "{}", safe.join("\n"));
            ExitCode::from(FAILURE)
        }
    }
}

fn init_logging(verbose: u8) {
    // The AWS SDK's own warnings (profile parsing, IMDS probes, retries) only under -v: without
    // it, a failure is the one line eksdrift prints.
    let filter = match verbose {
        0 => "off,eksdrift=warn,drift_core=warn",
        1 => "warn,eksdrift=info,drift_core=info",
        2 => "warn,eksdrift=debug,drift_core=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EKSDRIFT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init();
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Audit(args) => audit(&args),
        Command::Capture(args) => live_capture(&args),
        Command::Rules(args) => {
            let mut out = io::stdout().lock();
            match args.output {
                cli::RulesFormat::Table => render::table::rules(&mut out)?,
                cli::RulesFormat::Json => render::json::rules(&mut out)?,
                cli::RulesFormat::Markdown => {
                    out.write_all(rules::catalogue_markdown().as_bytes())?;
                }
            }
            out.flush()?;
            Ok(OK)
        }
        Command::Completions(args) => {
            use clap::CommandFactory as _;
            use clap_complete::shells;
            let mut cmd = Cli::command();
            let mut out = io::stdout().lock();
            match args.shell {
                cli::Shell::Bash => {
                    clap_complete::generate(shells::Bash, &mut cmd, "eksdrift", &mut out);
                }
                cli::Shell::Zsh => {
                    clap_complete::generate(shells::Zsh, &mut cmd, "eksdrift", &mut out);
                }
                cli::Shell::Fish => {
                    clap_complete::generate(shells::Fish, &mut cmd, "eksdrift", &mut out);
                }
            }
            out.flush()?;
            Ok(OK)
        }
        Command::Man => {
            use clap::CommandFactory as _;
            let mut out = io::stdout().lock();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            out.flush()?;
            Ok(OK)
        }
        Command::Explain(args) => {
            let Some(rule) = rules::find(&args.rule) else {
                anyhow::bail!(
                    "unknown rule {:?}; `eksdrift rules` lists the codes and slugs",
                    args.rule
                );
            };
            let mut out = io::stdout().lock();
            render::table::explain(&mut out, rule)?;
            out.flush()?;
            Ok(OK)
        }
    }
}

fn audit(args: &AuditArgs) -> Result<u8> {
    let config_path = config::discover(args.config.as_deref(), args.isolated, &args.from);
    let config = config::load_config(config_path.as_deref())?;
    if let Some(p) = &config.path {
        let _ = writeln!(
            io::stderr(),
            "using {}",
            drift_core::text::terminal_safe(&p.display().to_string())
        );
    }
    // The command line's --select replaces the file's; --ignore adds to it.
    let select = if args.select.is_empty() {
        &config.select
    } else {
        &args.select
    };
    let ignore: Vec<String> = config.ignore.iter().chain(&args.ignore).cloned().collect();
    let selection = drift_core::selection::Selection::new(select, &ignore).map_err(|e| {
        anyhow::anyhow!(
            "{}{e}",
            config
                .path
                .as_ref()
                .filter(|_| args.select.is_empty() && args.ignore.is_empty())
                .map(|p| format!("{}: ", p.display()))
                .unwrap_or_default()
        )
    })?;
    let plan = match &args.config_file {
        Some(path) => Some(read_plan(&PlanArgs::of_audit(args), path)?),
        None => None,
    };
    // `eksctl upgrade cluster -f FILE` goes to the file's metadata.version.
    let to_version = args.to_version.clone().or_else(|| {
        plan.as_ref()
            .filter(|p| p.operation == Operation::UpgradeCluster)
            .and_then(|p| p.config.metadata.version.clone())
    });
    let mut report = if args.from.is_empty() {
        live_audit(args, &selection, plan.as_ref(), to_version.clone())?
    } else {
        let report = offline::audit(
            &args.from,
            drift_core::bundle::ReadLimits::with_max_file_bytes(args.max_file_mb * 1024 * 1024),
            &selection,
            &offline::Attach {
                to_version: to_version.as_deref(),
                plan: plan.as_ref(),
            },
        );
        if let Some(plan) = &plan
            && !report
                .targets
                .iter()
                .any(|t| t.cluster == plan.config.metadata.name)
        {
            anyhow::bail!(
                "{}: no bundle under --from is of cluster {} (metadata.name)",
                drift_core::text::terminal_safe(&plan.source),
                drift_core::text::terminal_safe(&plan.config.metadata.name)
            );
        }
        report
    };
    report.tool.config = config.path.as_ref().map(|p| p.display().to_string());
    if !selection.is_all() {
        report.tool.selection = Some(selection.to_string());
    }
    if !args.no_suppress && !config.suppressions.is_empty() {
        drift_core::suppress::apply(&mut report, &config.suppressions, &config::today(), None);
    }
    if let Some(path) = &args.baseline {
        let shown = path.display().to_string();
        // Untrusted like a bundle file: a regular file, at most --max-file-mb.
        let limits =
            drift_core::bundle::ReadLimits::with_max_file_bytes(args.max_file_mb * 1024 * 1024);
        let bytes = drift_core::bundle::read_bounded(path, limits)
            .map_err(|e| {
                anyhow::anyhow!(drift_core::text::terminal_safe(&e.to_string()).into_owned())
            })?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--baseline {}: no such file",
                    drift_core::text::terminal_safe(&shown)
                )
            })?;
        let baseline = drift_core::baseline::parse(&bytes, &shown).map_err(|e| {
            anyhow::anyhow!(drift_core::text::terminal_safe(&e.to_string()).into_owned())
        })?;
        drift_core::baseline::compare(&mut report, &baseline, &shown).map_err(|e| {
            anyhow::anyhow!(drift_core::text::terminal_safe(&e.to_string()).into_owned())
        })?;
    } else if args.fail_on.only_new {
        anyhow::bail!(
            "--fail-on new needs --baseline PREVIOUS.json: without one, no finding can be told new"
        );
    }
    let report = report;
    if args.for_operation == Some(Operation::UpgradeCluster) {
        note_no_upgrade_target(&report);
    }
    // The -o format goes to stdout, or to the one bare --output-file; FORMAT=PATH adds files.
    let bare: Vec<&cli::OutputFile> = args
        .output_file
        .iter()
        .filter(|o| o.format.is_none())
        .collect();
    if bare.len() > 1 {
        anyhow::bail!(
            "--output-file without FORMAT= is the -o format's destination and may be given once; name the format of the others (json=PATH, prometheus=PATH, …)"
        );
    }
    let main_file = bare.first().map(|o| o.path.as_path());
    check_destinations(args, main_file)?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            main_file.is_none_or(|p| p.as_os_str() == "-")
                && io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let render = |format: Format, color: bool, w: &mut dyn io::Write| match format {
        Format::Table => render::table::report(w, &report, color, args.for_operation),
        Format::Json => render::json::report(w, &report),
        Format::Junit => render::junit::report(w, &report),
        Format::Markdown => render::markdown::report(w, &report),
        Format::Prometheus => render::prometheus::report(w, &report, output::now_epoch()),
        Format::Sarif => render::sarif::report(w, &report),
        Format::Html => render::html::report(w, &report),
    };
    for extra in args.output_file.iter().filter(|o| o.format.is_some()) {
        let format = extra.format.unwrap_or(args.output);
        match output::emit(Some(&extra.path), |w| render(format, false, w)) {
            Err(err) if output::is_broken_pipe(&err) => {}
            other => other?,
        }
    }
    let written = output::emit(main_file, |w| render(args.output, color, w));
    match written {
        // A reader that stopped early (`| head`) does not change what the audit found.
        Err(err) if output::is_broken_pipe(&err) => {}
        other => other?,
    }
    Ok(exit_code(
        &report,
        args.fail_on,
        args.for_operation,
        args.allow_partial,
    ))
}

/// Every report goes to its own place: one path named twice (or stdout twice) would leave one
/// format overwriting another.
fn check_destinations(args: &AuditArgs, main_file: Option<&std::path::Path>) -> Result<()> {
    let key = |p: &std::path::Path| -> std::path::PathBuf {
        if p.as_os_str() == "-" {
            return p.to_owned();
        }
        std::fs::canonicalize(p).unwrap_or_else(|_| {
            std::env::current_dir().map_or_else(|_| p.to_owned(), |d| d.join(p))
        })
    };
    let mut seen: Vec<(std::path::PathBuf, String)> = Vec::new();
    if main_file.is_none() {
        seen.push(("-".into(), "the -o report on stdout".to_owned()));
    }
    for o in &args.output_file {
        let what = o.format.map_or_else(
            || format!("--output-file {}", o.path.display()),
            |f| format!("--output-file {}={}", format_name(f), o.path.display()),
        );
        let k = key(&o.path);
        if let Some((_, first)) = seen.iter().find(|(p, _)| *p == k) {
            anyhow::bail!(
                "{what} names the same destination as {first}: give each report its own file"
            );
        }
        seen.push((k, what));
    }
    Ok(())
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Table => "table",
        Format::Json => "json",
        Format::Junit => "junit",
        Format::Markdown => "markdown",
        Format::Prometheus => "prometheus",
        Format::Sarif => "sarif",
        Format::Html => "html",
    }
}

/// The largest ClusterConfig read from stdin or a file (the parser checks it again).
const MAX_PLAN_BYTES: u64 = drift_core::config::MAX_CONFIG_BYTES as u64;

/// Reads and parses `-f FILE` (`-`: stdin), bounded; names the fields eksdrift does not know.
/// What a plan is asked for on the command line, beside its file.
struct PlanArgs<'a> {
    live: &'a cli::LiveArgs,
    operation: Option<Operation>,
    include: &'a [String],
    exclude: &'a [String],
    eksctl_version: Option<(u32, u32, u32)>,
}

impl<'a> PlanArgs<'a> {
    fn of_audit(args: &'a AuditArgs) -> Self {
        PlanArgs {
            live: &args.live,
            operation: args.for_operation,
            include: &args.include,
            exclude: &args.exclude,
            eksctl_version: args.eksctl_version,
        }
    }
}

fn read_plan(args: &PlanArgs<'_>, path: &std::path::Path) -> Result<drift_core::snapshot::Plan> {
    use std::io::Read as _;
    let source = if path.as_os_str() == "-" {
        "-".to_owned()
    } else {
        path.display().to_string()
    };
    let mut bytes = Vec::new();
    let read = if source == "-" {
        io::stdin()
            .lock()
            .take(MAX_PLAN_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => anyhow::bail!(
                "{}: not a regular file",
                drift_core::text::terminal_safe(&source)
            ),
            Ok(m) if m.len() > MAX_PLAN_BYTES => anyhow::bail!(
                "{}: the file is {} bytes; a ClusterConfig larger than {} MiB is not read",
                drift_core::text::terminal_safe(&source),
                m.len(),
                MAX_PLAN_BYTES / 1024 / 1024
            ),
            _ => {}
        }
        std::fs::File::open(path).and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| anyhow::anyhow!("{}: {e}", drift_core::text::terminal_safe(&source)))?;
    let parsed = drift_core::config::parse(&bytes, &source)
        .map_err(|e| anyhow::anyhow!("{}", drift_core::text::terminal_safe(&e.to_string())))?;
    for field in &parsed.unknown {
        let _ = writeln!(
            io::stderr(),
            "warning: {}: field {} is not one eksdrift knows: eksctl refuses a misspelt field; one newer than eksdrift is not checked",
            drift_core::text::terminal_safe(&source),
            drift_core::text::terminal_safe(&field.path)
        );
    }
    let meta = &parsed.config.metadata;
    if let Some(c) = args.live.clusters.iter().find(|c| **c != meta.name) {
        anyhow::bail!(
            "-c {} contradicts metadata.name {} in {}: the plan is for the file's cluster",
            drift_core::text::terminal_safe(c),
            drift_core::text::terminal_safe(&meta.name),
            drift_core::text::terminal_safe(&source)
        );
    }
    if let (Some(region), false) = (&meta.region, args.live.regions.is_empty())
        && args.live.regions.iter().any(|r| r != region)
    {
        anyhow::bail!(
            "-r contradicts metadata.region {} in {}: the plan is for the file's region",
            drift_core::text::terminal_safe(region),
            drift_core::text::terminal_safe(&source)
        );
    }
    Ok(drift_core::snapshot::Plan {
        source,
        config: parsed.config,
        operation: args
            .operation
            .ok_or_else(|| anyhow::anyhow!("-f needs --for OPERATION"))?,
        include: args.include.to_vec(),
        exclude: args.exclude.to_vec(),
        eksctl_version: args
            .eksctl_version
            .unwrap_or(drift_core::snapshot::CURRENT_EKSCTL),
    })
}

/// Under `--for upgrade-cluster`, a line on stderr for each cluster that has no upgrade target
/// (already on the newest version EKS offers): the gate checked nothing version-specific.
fn note_no_upgrade_target(report: &Report) {
    for t in &report.targets {
        let Some(reason) = t
            .coverage
            .not_checked
            .iter()
            .find(|n| n.reason.starts_with("no upgrade target"))
            .map(|n| n.reason.as_str())
        else {
            continue;
        };
        let _ = writeln!(
            io::stderr(),
            "note: {} in {}: {reason}; nothing version-specific was checked",
            drift_core::text::terminal_safe(&t.cluster),
            t.region.as_deref().unwrap_or("?")
        );
    }
}

/// The contract's exit code. A failed target, or a partial one (unless `--allow-partial`),
/// gives 2; so does a `--for` gate that depends on a rule whose read failed, whatever
/// `--allow-partial` says. Under a gate, any finding that breaks the operation gives 1,
/// whatever its severity.
fn exit_code(report: &Report, fail_on: FailOn, gate: Option<Operation>, allow_partial: bool) -> u8 {
    if report
        .targets
        .iter()
        .any(|t| t.status == TargetStatus::Failed)
    {
        return FAILURE;
    }
    let partial: Vec<&drift_core::TargetReport> = report
        .targets
        .iter()
        .filter(|t| t.status == TargetStatus::Partial)
        .collect();
    if let Some(op) = gate {
        let mut blind = gate_blind_spots(&partial, op);
        blind.extend(plan_blind_spots(report, op));
        if !blind.is_empty() {
            for line in blind {
                let _ = writeln!(
                    io::stderr(),
                    "error: {}",
                    drift_core::text::terminal_safe(&line)
                );
            }
            return FAILURE;
        }
    }
    if !partial.is_empty() && !allow_partial {
        return FAILURE;
    }
    let Some(threshold) = fail_on.severity else {
        return OK;
    };
    let mut open = report
        .targets
        .iter()
        .flat_map(|t| &t.findings)
        .filter(|f| f.suppressed.is_none());
    let hit = match gate {
        // A finding that makes the gated command fail is what the gate is for.
        Some(op) => open.any(|f| f.breaks.contains(&op)),
        None if fail_on.only_new => report.has_new_finding_at_or_above(threshold),
        None => open.any(|f| f.severity >= threshold),
    };
    if hit { FINDINGS } else { OK }
}

/// The plan's rules that break `op` and could not check (a bundle without the subnets the
/// file names): a plan's gate cannot pass on them either.
fn plan_blind_spots(report: &Report, op: Operation) -> Vec<String> {
    let mut out = Vec::new();
    for t in &report.targets {
        for n in &t.coverage.not_checked {
            let Some(rule) = rules::find(&n.rule) else {
                continue;
            };
            if rule.is_plan() && rule.breaks.contains(&op) {
                out.push(format!(
                    "--for {} cannot pass for {} in {}: {} ({}) could not check: {}",
                    op.as_str(),
                    t.cluster,
                    t.region.as_deref().unwrap_or("?"),
                    rule.code,
                    rule.slug,
                    n.reason
                ));
            }
        }
    }
    out
}

/// For each partial target, the rules that break `op` and could not check for a failed read,
/// with the read: a gate cannot pass on them.
fn gate_blind_spots(partial: &[&drift_core::TargetReport], op: Operation) -> Vec<String> {
    let mut out = Vec::new();
    for t in partial {
        for n in &t.coverage.not_checked {
            let Some(rule) = rules::find(&n.rule) else {
                continue;
            };
            let failed = t
                .inputs
                .iter()
                .filter(|i| rule.inputs.contains(&i.input))
                .find_map(|i| i.failure.as_ref().filter(|f| !f.wording_only));
            if rule.breaks.contains(&op)
                && let Some(f) = failed
            {
                out.push(format!(
                    "--for {} cannot pass for {} in {}: {} ({}) could not check because {} failed ({})",
                    op.as_str(),
                    t.cluster,
                    t.region.as_deref().unwrap_or("?"),
                    rule.code,
                    rule.slug,
                    f.operation,
                    f.kind.as_str()
                ));
            }
        }
    }
    out
}

#[cfg(not(feature = "aws"))]
fn live_audit(
    _: &AuditArgs,
    _: &drift_core::selection::Selection,
    _: Option<&drift_core::snapshot::Plan>,
    _: Option<String>,
) -> Result<Report> {
    anyhow::bail!("this eksdrift was built without the `aws` feature: only --from is available")
}

#[cfg(not(feature = "aws"))]
fn live_capture(_: &cli::CaptureArgs) -> Result<u8> {
    anyhow::bail!("this eksdrift was built without the `aws` feature: capture needs it")
}

#[cfg(feature = "aws")]
fn live_audit(
    args: &AuditArgs,
    selection: &drift_core::selection::Selection,
    plan: Option<&drift_core::snapshot::Plan>,
    to_version: Option<String>,
) -> Result<Report> {
    use drift_core::report::Operation;
    let gate = drift_core::collect::GateReads {
        all_imports: matches!(
            args.for_operation,
            Some(Operation::DeleteCluster | Operation::DeleteNodegroup)
        ),
        upgrade: args.for_operation == Some(Operation::UpgradeCluster),
        fargate: matches!(
            args.for_operation,
            Some(Operation::UpgradeCluster | Operation::CreateFargateprofile)
        ),
        to_version,
        plan: plan.cloned(),
    };
    // A plan audits the file's cluster in the file's region.
    let mut live_args = args.live.clone();
    if let Some(plan) = plan {
        live_args.clusters = vec![plan.config.metadata.name.clone()];
        if live_args.regions.is_empty() {
            live_args
                .regions
                .extend(plan.config.metadata.region.clone());
        }
    }
    live::audit(&live_args, &gate, selection)
}

#[cfg(feature = "aws")]
fn live_capture(args: &cli::CaptureArgs) -> Result<u8> {
    // With -f FILE, the bundle also holds what a plan of that file reads.
    let plan = match &args.config_file {
        Some(path) => Some(read_plan(
            &PlanArgs {
                live: &args.live,
                operation: Some(Operation::CreateNodegroup),
                include: &[],
                exclude: &[],
                eksctl_version: None,
            },
            path,
        )?),
        None => None,
    };
    let mut live_args = args.live.clone();
    if let Some(plan) = &plan
        && live_args.clusters.is_empty()
        && !live_args.all_clusters
    {
        live_args.clusters = vec![plan.config.metadata.name.clone()];
        if live_args.regions.is_empty() {
            live_args
                .regions
                .extend(plan.config.metadata.region.clone());
        }
    }
    live::capture(&live_args, &args.out, plan)
}
