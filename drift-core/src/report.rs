//! The report: the engine's output and the JSON document `eksdrift audit -o json` prints.
//!
//! Field names and shapes are public API (schema_version below); see docs/contracts and
//! `docs/report.schema.json`, which a test regenerates and compares.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "schema")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::snapshot::{Cluster, Stack};

/// Version of the JSON report layout: minor = additive, major = breaking.
pub const SCHEMA_VERSION: &str = "1.4";

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Stale or inconsistent: misleads later operations.
    Warning,
    /// An eksctl or EKS operation fails, or the stack describes something that is not there.
    Error,
}

impl Severity {
    /// The lower-case name the report uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Report {
    /// Version of this layout (`SCHEMA_VERSION`).
    pub schema_version: String,
    /// The program that wrote the report.
    pub tool: Tool,
    /// RFC 3339, UTC.
    pub generated_at: String,
    /// Counts over all targets.
    pub summary: Summary,
    /// One entry per audited (or failed) cluster.
    pub targets: Vec<TargetReport>,
    /// API calls and wall time of the run.
    pub stats: Stats,
    /// The comparison with `--baseline` (schema 1.4): its resolved findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::Baseline>,
    /// The accounts `--org` found (schema 1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
}

/// What Organizations discovery (`--org`) found: every account in scope is audited, excluded
/// or listed here as inactive — none is left out silently.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Discovery {
    /// The OUs given (`--ou`); empty: the whole organisation.
    pub ous: Vec<String>,
    /// Accounts found in scope.
    pub listed: usize,
    /// Active accounts audited (each is one or more targets).
    pub audited: Vec<String>,
    /// Accounts `--exclude-account` left out.
    pub excluded: Vec<String>,
    /// Accounts not audited because they are not active.
    pub inactive: Vec<OrgAccount>,
}

/// One account of an AWS Organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrgAccount {
    /// The account ID.
    pub id: String,
    /// Its name in the organisation.
    pub name: String,
    /// `State` (`ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`, …), else the retired
    /// `Status`, else `UNKNOWN`.
    pub state: String,
}

impl OrgAccount {
    /// An account as Organizations lists it.
    #[must_use]
    pub fn new(id: String, name: String, state: String) -> Self {
        OrgAccount { id, name, state }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// The program that wrote the report.
pub struct Tool {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The configuration file in use (`eksdrift.toml`, `--config`), when one was read (schema
    /// 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The rule selection (`--select` / `--ignore`), when one was given (schema 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// Counts over all targets.
pub struct Summary {
    /// One entry per audited (or failed) cluster.
    pub targets: usize,
    /// Targets audited in full.
    pub audited: usize,
    /// Targets audited in part: an input failed, and the rules that need it were not checked
    /// (schema 1.3).
    #[serde(default)]
    pub partial: usize,
    /// Targets that could not be audited.
    pub failed: usize,
    /// Findings by severity, suppressed ones left out.
    pub findings: SeverityCounts,
    /// Findings a suppression accepted (schema 1.2): in the report, out of the counts and the
    /// exit code.
    #[serde(default)]
    pub suppressed: usize,
    /// Findings by baseline state, with `--baseline` (schema 1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCounts>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
/// Findings by baseline state (suppressed ones left out).
pub struct BaselineCounts {
    /// Findings the baseline did not have.
    pub new: usize,
    /// Findings the baseline had too.
    pub persisting: usize,
    /// Findings of the baseline this run no longer has.
    pub resolved: usize,
    /// Findings of the baseline this run could not check again.
    pub unverified: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
/// Findings per severity.
pub struct SeverityCounts {
    /// Findings at severity error.
    pub error: usize,
    /// Findings at severity warning.
    pub warning: usize,
    /// Findings at severity info.
    pub info: usize,
}

impl SeverityCounts {
    /// Counts one finding of `severity`.
    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// What the run cost.
pub struct Stats {
    /// Calls made per `service:Operation`; empty for offline audits.
    pub api_calls: BTreeMap<String, u64>,
    /// The `elapsed_ms` of this record.
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
/// Whether a target was audited.
pub enum TargetStatus {
    /// Every rule ran (or said why it could not).
    Audited,
    /// An input failed: the rules that need it are not checked, every other rule ran (schema
    /// 1.3).
    Partial,
    /// The target could not be read; see `error`.
    Failed,
}

/// One cluster's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TargetReport {
    /// The EKS cluster name.
    pub cluster: String,
    /// The AWS account the target was read from (`sts:GetCallerIdentity`, or the assumed
    /// role's), when known (schema 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The AWS region, when known.
    pub region: Option<String>,
    /// `live`, or the bundle path.
    pub source: String,
    /// Whether the target was audited.
    pub status: TargetStatus,
    /// Findings at severity error.
    pub error: Option<TargetError>,
    /// The cluster stack the audit used, if any.
    pub stack: Option<StackInfo>,
    /// Which rules ran, and which could not and why.
    pub coverage: Coverage,
    /// Each input: read, absent or failed (schema 1.3; empty for a target that failed before
    /// any input was read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::input::InputResult>,
    /// Findings by severity.
    pub findings: Vec<Finding>,
}

impl Stats {
    /// Calls made per `service:Operation`, and the run's wall time.
    #[must_use]
    pub fn new(api_calls: BTreeMap<String, u64>, elapsed_ms: u64) -> Self {
        Stats {
            api_calls,
            elapsed_ms,
        }
    }
}

impl TargetError {
    /// Why a target could not be audited.
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TargetError {
            kind,
            message: message.into(),
        }
    }
}

impl TargetReport {
    /// A target that could not be audited: no findings, nothing checked.
    #[must_use]
    pub fn failed(
        cluster: impl Into<String>,
        region: Option<String>,
        source: impl Into<String>,
        error: TargetError,
    ) -> Self {
        TargetReport {
            cluster: cluster.into(),
            account: None,
            region,
            source: source.into(),
            status: TargetStatus::Failed,
            error: Some(error),
            stack: None,
            coverage: Coverage::default(),
            inputs: Vec::new(),
            findings: Vec::new(),
        }
    }

    /// The inputs that failed and made rules not checked.
    pub fn failed_inputs(&self) -> impl Iterator<Item = &crate::input::InputFailure> {
        self.inputs
            .iter()
            .filter_map(|i| i.failure.as_ref())
            .filter(|f| !f.wording_only)
    }

    /// True when the target was audited, in full or in part.
    #[must_use]
    pub fn was_audited(&self) -> bool {
        matches!(self.status, TargetStatus::Audited | TargetStatus::Partial)
    }

    /// Findings of this target per severity.
    #[must_use]
    pub fn counts(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in self.findings.iter().filter(|f| f.suppressed.is_none()) {
            c.add(f.severity);
        }
        c
    }
}

/// Why a target could not be audited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TargetError {
    /// The class of failure (decides nothing but the message; every failure exits 2).
    pub kind: ErrorKind,
    /// What happened, naming the file or AWS operation.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
/// The class of a target's failure.
pub enum ErrorKind {
    /// `not_found`: the cluster (or stack) does not exist.
    NotFound,
    /// `access_denied`: the credentials lack a permission.
    AccessDenied,
    /// `unsupported`: the endpoint does not offer the operation (HTTP 404 without an AWS error,
    /// `UnknownOperationException`, `InvalidAction`).
    Unsupported,
    /// `throttled`: AWS throttled every retry.
    Throttled,
    /// `timeout`: every attempt timed out.
    Timeout,
    /// `network`: the endpoint could not be reached.
    Network,
    /// `invalid_input`: a bundle or config file that is not what it should be.
    InvalidInput,
    /// `invalid_response`: an AWS answer that does not parse, or a listing that never ends.
    InvalidResponse,
    /// `credentials`: no usable credentials.
    Credentials,
    /// `internal`: a bug in eksdrift, or an answer it cannot classify.
    Internal,
}

impl ErrorKind {
    /// The snake-case name the report uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Credentials => "credentials",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The cluster stack the audit used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StackInfo {
    /// Name.
    pub name: String,
    /// Whether the target was audited.
    pub status: String,
    /// The `alpha.eksctl.io/eksctl-version` tag: which eksctl made or last updated the stack.
    pub eksctl_version: Option<String>,
}

/// Which rules ran, and which could not run and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Coverage {
    /// Slugs of the rules that ran on complete input.
    pub checked: Vec<String>,
    /// The `not_checked` of this record.
    pub not_checked: Vec<NotChecked>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// A rule that could not check, and why.
pub struct NotChecked {
    /// The rule slug.
    pub rule: String,
    /// Why the rule could not check: the missing input.
    pub reason: String,
}

/// An eksctl (or EKS) operation a finding makes fail: the closed vocabulary of `breaks` and
/// `eksdrift audit --for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Operation {
    /// `eksctl create cluster` (a new cluster of the same name).
    CreateCluster,
    /// `eksctl create nodegroup`.
    CreateNodegroup,
    /// `eksctl create fargateprofile`.
    CreateFargateprofile,
    /// `eksctl upgrade cluster` (and EKS version updates).
    UpgradeCluster,
    /// `eksctl upgrade nodegroup` (and scaling an eksctl nodegroup).
    UpgradeNodegroup,
    /// `eksctl delete nodegroup`.
    DeleteNodegroup,
    /// `eksctl delete cluster`.
    DeleteCluster,
    /// `eksctl utils update-cluster-vpc-config` / EKS `UpdateClusterConfig`.
    UpdateClusterVpcConfig,
    /// `eksctl create iamserviceaccount`.
    CreateIamserviceaccount,
    /// `eksctl get nodegroup` (listing every nodegroup of the cluster).
    GetNodegroup,
    /// `eksctl create addon` (and the addons of `eksctl create cluster`).
    CreateAddon,
    /// `eksctl update addon`.
    UpdateAddon,
}

impl Operation {
    /// Every operation, in the order the docs list them.
    pub const ALL: [Operation; 12] = [
        Operation::CreateCluster,
        Operation::CreateNodegroup,
        Operation::CreateFargateprofile,
        Operation::UpgradeCluster,
        Operation::UpgradeNodegroup,
        Operation::DeleteNodegroup,
        Operation::DeleteCluster,
        Operation::UpdateClusterVpcConfig,
        Operation::CreateIamserviceaccount,
        Operation::GetNodegroup,
        Operation::CreateAddon,
        Operation::UpdateAddon,
    ];

    /// The kebab-case name the report and `--for` use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CreateCluster => "create-cluster",
            Operation::CreateNodegroup => "create-nodegroup",
            Operation::CreateFargateprofile => "create-fargateprofile",
            Operation::UpgradeCluster => "upgrade-cluster",
            Operation::UpgradeNodegroup => "upgrade-nodegroup",
            Operation::DeleteNodegroup => "delete-nodegroup",
            Operation::DeleteCluster => "delete-cluster",
            Operation::UpdateClusterVpcConfig => "update-cluster-vpc-config",
            Operation::CreateIamserviceaccount => "create-iamserviceaccount",
            Operation::GetNodegroup => "get-nodegroup",
            Operation::CreateAddon => "create-addon",
            Operation::UpdateAddon => "update-addon",
        }
    }

    /// The operation named `name` (kebab-case).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// One inconsistency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Finding {
    /// Stable code, `EKDnnn`.
    pub code: String,
    /// Stable slug of the rule.
    pub rule: String,
    /// The `severity` of this record.
    pub severity: Severity,
    /// What happened, naming the file or AWS operation.
    pub message: String,
    /// The `resource` of this record.
    pub resource: Resource,
    /// What the eksctl stack says.
    pub expected: Evidence,
    /// What AWS says now.
    pub actual: Evidence,
    /// What breaks, naming the eksctl or EKS operation.
    pub impact: String,
    /// How to fix it.
    pub remediation: Remediation,
    /// The eksctl operations this finding makes fail (schema 1.1); `eksdrift audit --for OP`
    /// sets the exit code from the findings that name OP.
    #[serde(default)]
    pub breaks: Vec<Operation>,
    /// The suppression that accepted this finding (schema 1.2); such a finding stays in the
    /// report but counts toward neither the severity counts nor the exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    /// `new` or `persisting` against the `--baseline` report (schema 1.4); absent without
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<crate::baseline::BaselineState>,
}

/// The suppression that accepted a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Suppressed {
    /// Why the finding is accepted, as the suppression says.
    pub reason: String,
    /// The day the suppression stops applying (`YYYY-MM-DD`), if it has one.
    pub expires: Option<String>,
    /// Where the suppression is written: `FILE:LINE`.
    pub source: String,
}

impl Suppressed {
    /// A suppression record.
    #[must_use]
    pub fn new(reason: String, expires: Option<String>, source: String) -> Self {
        Suppressed {
            reason,
            expires,
            source,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// The resource a finding is about.
pub struct Resource {
    /// CloudFormation resource type, e.g. `AWS::EC2::Subnet`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource ID (or name).
    pub id: String,
}

/// Where a value came from, and the value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Evidence {
    /// `service:Operation` that reported the value.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The cluster stack the audit used, if any.
    pub stack: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The `output_key` of this record.
    pub output_key: Option<String>,
    /// The value itself; `null` when the resource or field does not exist.
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
/// How to fix a finding.
pub struct Remediation {
    /// Counts over all targets.
    pub summary: String,
    /// Commands or configuration snippets, in the order to apply them.
    pub commands: Vec<String>,
}

/// Sorts findings the way every report shows them: severity (worst first), code, resource
/// id, then message so equal keys still give one order.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.resource.id.cmp(&b.resource.id))
            .then_with(|| a.message.cmp(&b.message))
    });
}

impl Report {
    /// Assembles the document from target reports; the caller supplies the clock and stats.
    #[must_use]
    pub fn new(targets: Vec<TargetReport>, generated_at: String, stats: Stats) -> Self {
        let mut report = Report {
            schema_version: SCHEMA_VERSION.to_owned(),
            tool: Tool {
                name: "eksdrift".to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
                config: None,
                selection: None,
            },
            generated_at,
            summary: Summary {
                targets: 0,
                audited: 0,
                partial: 0,
                failed: 0,
                findings: SeverityCounts::default(),
                suppressed: 0,
                baseline: None,
            },
            targets,
            stats,
            baseline: None,
            discovery: None,
        };
        report.recount();
        report
    }

    /// Computes the summary again from the targets (after suppressions were applied).
    pub fn recount(&mut self) {
        let mut findings = SeverityCounts::default();
        let mut audited = 0;
        let mut partial = 0;
        let mut suppressed = 0;
        let mut states = self.baseline.as_ref().map(|b| BaselineCounts {
            resolved: b.resolved.len(),
            unverified: b.unverified,
            ..BaselineCounts::default()
        });
        for t in &self.targets {
            match t.status {
                TargetStatus::Audited => audited += 1,
                TargetStatus::Partial => partial += 1,
                TargetStatus::Failed => {}
            }
            for f in &t.findings {
                if f.suppressed.is_some() {
                    suppressed += 1;
                } else {
                    findings.add(f.severity);
                    match (&mut states, f.baseline_state) {
                        (Some(s), Some(crate::baseline::BaselineState::New)) => s.new += 1,
                        (Some(s), Some(crate::baseline::BaselineState::Persisting)) => {
                            s.persisting += 1;
                        }
                        _ => {}
                    }
                }
            }
        }
        self.summary = Summary {
            targets: self.targets.len(),
            audited,
            partial,
            failed: self.targets.len() - audited - partial,
            findings,
            suppressed,
            baseline: states,
        };
    }

    /// True when any new finding (against `--baseline`) that no suppression accepted is at or
    /// above `threshold`. Without a baseline every finding is new.
    #[must_use]
    pub fn has_new_finding_at_or_above(&self, threshold: Severity) -> bool {
        self.targets.iter().flat_map(|t| &t.findings).any(|f| {
            f.suppressed.is_none()
                && f.severity >= threshold
                && f.baseline_state != Some(crate::baseline::BaselineState::Persisting)
        })
    }

    /// True when any finding that no suppression accepted is at or above `threshold`.
    #[must_use]
    pub fn has_finding_at_or_above(&self, threshold: Severity) -> bool {
        self.targets
            .iter()
            .flat_map(|t| &t.findings)
            .any(|f| f.suppressed.is_none() && f.severity >= threshold)
    }

    /// The JSON Schema of this document, as committed in `docs/report.schema.json` (feature
    /// `schema`).
    #[cfg(feature = "schema")]
    #[must_use]
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
    }
}

/// Builders the rules use; a finding's wording lives in its rule.
impl Finding {
    /// The evidence and severity of a stack eksctl cannot work with: error, or warning while
    /// an operation is still `in_progress`.
    #[must_use]
    pub(crate) fn with_unusable_status(self, stack: &Stack, in_progress: bool) -> Self {
        self.with_severity(if in_progress {
            Severity::Warning
        } else {
            Severity::Error
        })
        .with_expected(Evidence::live(
            src::STACKS,
            "CREATE_COMPLETE | UPDATE_COMPLETE",
        ))
        .with_actual(Evidence::stack(stack, stack.stack_status.clone().into()))
    }

    #[must_use]
    pub(crate) fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
    #[must_use]
    pub(crate) fn with_expected(mut self, e: Evidence) -> Self {
        self.expected = e.capped();
        self
    }
    #[must_use]
    pub(crate) fn with_actual(mut self, e: Evidence) -> Self {
        self.actual = e.capped();
        self
    }
    #[must_use]
    pub(crate) fn with_breaks(mut self, breaks: &[Operation]) -> Self {
        self.breaks = breaks.to_vec();
        self
    }
    #[must_use]
    pub(crate) fn with_impact(mut self, impact: impl Into<String>) -> Self {
        self.impact = impact.into();
        self
    }
    #[must_use]
    pub(crate) fn with_remediation(
        mut self,
        summary: impl Into<String>,
        commands: Vec<String>,
    ) -> Self {
        self.remediation = Remediation {
            summary: summary.into(),
            commands,
        };
        self
    }
}

/// The AWS operations evidence names as its source.
pub(crate) mod src {
    pub const STACKS: &str = "cloudformation:DescribeStacks";
    pub const TEMPLATE: &str = "cloudformation:GetTemplate";
    pub const CLUSTER: &str = "eks:DescribeCluster";
    pub const SUBNETS: &str = "ec2:DescribeSubnets";
    pub const SECURITY_GROUPS: &str = "ec2:DescribeSecurityGroups";
    pub const LIST_NODEGROUPS: &str = "eks:ListNodegroups";
    pub const NODEGROUP: &str = "eks:DescribeNodegroup";
    pub const AUTO_SCALING_GROUPS: &str = "autoscaling:DescribeAutoScalingGroups";
    pub const LAUNCH_TEMPLATE_VERSIONS: &str = "ec2:DescribeLaunchTemplateVersions";
    pub const IMPORTS: &str = "cloudformation:ListImports";
    pub const LIST_CLUSTERS: &str = "eks:ListClusters";
    pub const OIDC_PROVIDERS: &str = "iam:ListOpenIDConnectProviders";
    pub const ROLES: &str = "iam:ListRoles";
    pub const ACCESS_ENTRIES: &str = "eks:ListAccessEntries";
    pub const POD_IDENTITY: &str = "eks:DescribePodIdentityAssociation";
}

/// Longest string an evidence value carries, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 1024;
/// Most items an evidence list carries.
pub const MAX_EVIDENCE_ITEMS: usize = 100;

/// Longest finding message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2048;

/// `text` cut at `max` characters, saying how much was left out.
#[must_use]
pub fn cap_text(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text,
        Some((cut, _)) => format!(
            "{}… (cut: {} more bytes; -o json evidence and the input have the values)",
            &text[..cut],
            text.len() - cut
        ),
    }
}

/// `value` with long strings and lists cut, saying so inside the value: every finding of an
/// output carries its value, so an uncut value would make the report grow with the square of
/// the input.
fn cap_value(value: Value) -> Value {
    match value {
        Value::String(s) => match s.char_indices().nth(MAX_EVIDENCE_CHARS) {
            None => Value::String(s),
            Some((cut, _)) => Value::String(format!(
                "{}… (cut: {} more bytes; the input file has the whole value)",
                &s[..cut],
                s.len() - cut
            )),
        },
        Value::Array(mut items) if items.len() > MAX_EVIDENCE_ITEMS => {
            let more = items.len() - MAX_EVIDENCE_ITEMS;
            items.truncate(MAX_EVIDENCE_ITEMS);
            let mut items: Vec<Value> = items.into_iter().map(cap_value).collect();
            items.push(Value::String(format!(
                "… (cut: {more} more items; the input file has them all)"
            )));
            Value::Array(items)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(cap_value).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, cap_value(v))).collect())
        }
        other => other,
    }
}

impl Evidence {
    fn capped(mut self) -> Self {
        self.value = cap_value(self.value);
        self
    }

    pub(crate) fn none() -> Self {
        Evidence {
            source: String::new(),
            stack: None,
            output_key: None,
            value: Value::Null,
        }
    }

    /// A stack output's raw value (or `null` when absent).
    pub(crate) fn output(stack: &Stack, key: &str) -> Self {
        Evidence {
            source: src::STACKS.to_owned(),
            stack: Some(stack.stack_name.clone()),
            output_key: Some(key.to_owned()),
            value: stack.output(key).map_or(Value::Null, Value::from),
        }
    }

    /// Something read from the stack itself rather than one output.
    pub(crate) fn stack(stack: &Stack, value: Value) -> Self {
        Evidence {
            source: src::STACKS.to_owned(),
            stack: Some(stack.stack_name.clone()),
            output_key: None,
            value,
        }
    }

    /// A live value from `source`.
    pub(crate) fn live(source: &str, value: impl Into<Value>) -> Self {
        Evidence {
            source: source.to_owned(),
            stack: None,
            output_key: None,
            value: value.into(),
        }
    }
}

impl Resource {
    pub(crate) fn new(kind: &str, id: &str) -> Self {
        Resource {
            kind: kind.to_owned(),
            id: id.to_owned(),
        }
    }
    pub(crate) fn subnet(id: &str) -> Self {
        Self::new("AWS::EC2::Subnet", id)
    }
    pub(crate) fn security_group(id: &str) -> Self {
        Self::new("AWS::EC2::SecurityGroup", id)
    }
    pub(crate) fn stack(stack: &Stack) -> Self {
        Self::new("AWS::CloudFormation::Stack", &stack.stack_name)
    }
    pub(crate) fn cluster(cluster: &Cluster) -> Self {
        Self::new("AWS::EKS::Cluster", &cluster.name)
    }
}
