//! The rule catalogue. One file per rule; each registers a `RULE` constant in [`ALL`].
//!
//! A rule is a pure function of the [`Context`] (the snapshot plus indexes built once). It
//! returns its findings, or says why it could not check — never a silent clean.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde_json::Value;

use crate::discovery::{Discovery, discover};
use crate::report::{Evidence, Finding, Remediation, Resource, Severity};
use crate::snapshot::{Cluster, SecurityGroup, Snapshot, Stack, Subnet, outputs};

mod cluster_health_issue;
mod cluster_not_active;
mod cluster_sg_mismatch;
mod cluster_stack_ambiguous;
mod cluster_stack_missing;
mod control_plane_sg_output_stale;
mod control_plane_subnet_deleted;
mod control_plane_subnets_changed;
mod control_plane_subnets_single_az;
mod fully_private_flag_stale;
mod output_malformed;
mod output_subnet_deleted;
mod output_subnet_wrong_vpc;
mod output_subnets_all_deleted;
mod public_subnet_no_auto_assign_ip;
mod required_output_missing;
mod security_group_deleted;
mod stack_describes_other_cluster;
mod stack_status_unusable;
mod subnet_ip_exhausted;
mod subnet_unavailable;
mod vpc_mismatch;

pub(crate) mod remedy;

/// Every rule, in catalogue order.
pub static ALL: &[&Rule] = &[
    &cluster_stack_missing::RULE,
    &cluster_stack_ambiguous::RULE,
    &stack_status_unusable::RULE,
    &required_output_missing::RULE,
    &output_malformed::RULE,
    &stack_describes_other_cluster::RULE,
    &vpc_mismatch::RULE,
    &output_subnet_deleted::RULE,
    &output_subnets_all_deleted::RULE,
    &output_subnet_wrong_vpc::RULE,
    &control_plane_subnets_changed::RULE,
    &control_plane_subnet_deleted::RULE,
    &control_plane_subnets_single_az::RULE,
    &subnet_unavailable::RULE,
    &subnet_ip_exhausted::RULE,
    &public_subnet_no_auto_assign_ip::RULE,
    &control_plane_sg_output_stale::RULE,
    &security_group_deleted::RULE,
    &cluster_sg_mismatch::RULE,
    &fully_private_flag_stale::RULE,
    &cluster_not_active::RULE,
    &cluster_health_issue::RULE,
];

/// A rule of the catalogue. Codes and slugs are public API: never renamed, never reused.
#[derive(Debug)]
pub struct Rule {
    /// `EKDnnn`.
    pub code: &'static str,
    /// Kebab-case name of the drift.
    pub slug: &'static str,
    /// One line: when it fires.
    pub summary: &'static str,
    /// Default severity (some findings are raised or lowered, as the doc says).
    pub severity: Severity,
    /// Markdown: what it checks, why it matters, how to fix.
    pub doc: &'static str,
    pub(crate) check: fn(&Context<'_>) -> Outcome,
}

/// What a rule returns.
#[derive(Debug)]
pub enum Outcome {
    Checked(Vec<Finding>),
    /// The input the rule needs is missing; the reason says which.
    NotChecked(String),
}

/// Looks a rule up by code (`EKD202`, any case) or slug.
#[must_use]
pub fn find(code_or_slug: &str) -> Option<&'static Rule> {
    let wanted = code_or_slug.trim();
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(wanted) || r.slug == wanted)
}

/// `docs/rules.md`: the catalogue with one section per code, generated from the rules.
#[must_use]
pub fn catalogue_markdown() -> String {
    let mut md = String::from(
        "# eksdrift rules\n\nGenerated from `drift-core/src/rules/`; a test fails when this file is stale\n(`EKSDRIFT_BLESS=1 cargo test` rewrites it). Codes and slugs are stable and never reused.\n\n| code | slug | default severity | fires when |\n|---|---|---|---|\n",
    );
    for r in ALL {
        let _ = writeln!(
            md,
            "| [{}](#{}) | `{}` | {} | {} |",
            r.code,
            r.code.to_ascii_lowercase(),
            r.slug,
            r.severity,
            r.summary
        );
    }
    for r in ALL {
        let body = r.doc.replace("## ", "### ");
        let _ = write!(
            md,
            "\n## {}\n\n`{}` · default severity **{}** · fires when {}\n\n{}",
            r.code, r.slug, r.severity, r.summary, body
        );
    }
    md
}

impl Rule {
    /// A finding of this rule at its default severity; evidence is filled in by the caller.
    pub(crate) fn finding(&self, resource: Resource, message: String) -> Finding {
        Finding {
            code: self.code.to_owned(),
            rule: self.slug.to_owned(),
            severity: self.severity,
            message,
            resource,
            expected: Evidence::none(),
            actual: Evidence::none(),
            impact: String::new(),
            remediation: Remediation::default(),
        }
    }

    /// Runs the rule.
    #[must_use]
    pub fn check(&self, ctx: &Context<'_>) -> Outcome {
        (self.check)(ctx)
    }
}

impl Finding {
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
    #[must_use]
    pub fn with_expected(mut self, e: Evidence) -> Self {
        self.expected = e;
        self
    }
    #[must_use]
    pub fn with_actual(mut self, e: Evidence) -> Self {
        self.actual = e;
        self
    }
    #[must_use]
    pub fn with_impact(mut self, impact: impl Into<String>) -> Self {
        self.impact = impact.into();
        self
    }
    #[must_use]
    pub fn with_remediation(mut self, summary: impl Into<String>, commands: Vec<String>) -> Self {
        self.remediation = Remediation {
            summary: summary.into(),
            commands,
        };
        self
    }
}

pub(crate) mod src {
    pub const STACKS: &str = "cloudformation:DescribeStacks";
    pub const TEMPLATE: &str = "cloudformation:GetTemplate";
    pub const CLUSTER: &str = "eks:DescribeCluster";
    pub const SUBNETS: &str = "ec2:DescribeSubnets";
    pub const SECURITY_GROUPS: &str = "ec2:DescribeSecurityGroups";
}

impl Evidence {
    fn none() -> Self {
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

/// Where a subnet that eksctl created came from, per its template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetOrigin {
    pub logical_id: String,
    pub availability_zone: Option<String>,
    pub cidr_block: Option<String>,
}

/// What the stack's template says, resolved through its resources where needed.
#[derive(Debug, Clone, Default)]
pub struct TemplateFacts {
    /// The control-plane subnet list eksctl asked for: `None` without a template,
    /// `Some(Err(reason))` when the template's list cannot be resolved to IDs.
    pub control_plane_subnets: Option<Result<Vec<String>, String>>,
    /// Subnets the template creates, by physical ID (needs the stack resources).
    pub subnet_origins: HashMap<String, SubnetOrigin>,
}

impl TemplateFacts {
    fn from_snapshot(snapshot: &Snapshot) -> Self {
        let Some(template) = snapshot.template.as_ref() else {
            return TemplateFacts::default();
        };
        let parsed;
        let template = match template {
            // A TemplateBody the CLI printed as a string; eksctl writes JSON.
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(v) => {
                    parsed = v;
                    &parsed
                }
                Err(_) => {
                    return TemplateFacts {
                        control_plane_subnets: Some(Err(
                            "the template is not JSON (eksctl writes JSON templates)".into(),
                        )),
                        subnet_origins: HashMap::new(),
                    };
                }
            },
            v => v,
        };
        let physical: HashMap<&str, &str> = snapshot
            .stack_resources
            .iter()
            .flatten()
            .filter_map(|r| {
                r.physical_resource_id
                    .as_deref()
                    .map(|p| (r.logical_resource_id.as_str(), p))
            })
            .collect();
        let resources = template.get("Resources").and_then(Value::as_object);

        let control_plane_subnets = Some(resources.map_or_else(
            || Err("the template has no Resources".to_owned()),
            |res| {
                let cluster = res
                    .get("ControlPlane")
                    .filter(|r| r.get("Type").and_then(Value::as_str) == Some("AWS::EKS::Cluster"))
                    .or_else(|| {
                        res.values().find(|r| {
                            r.get("Type").and_then(Value::as_str) == Some("AWS::EKS::Cluster")
                        })
                    });
                let Some(cluster) = cluster else {
                    return Err("the template has no AWS::EKS::Cluster resource".to_owned());
                };
                let ids = cluster
                    .pointer("/Properties/ResourcesVpcConfig/SubnetIds")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        "the template's ResourcesVpcConfig.SubnetIds is not a list".to_owned()
                    })?;
                ids.iter()
                    .map(|item| resolve_id(item, &physical, snapshot.stack_resources.is_some()))
                    .collect()
            },
        ));

        let mut subnet_origins = HashMap::new();
        for (logical, res) in resources.into_iter().flatten() {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::EC2::Subnet") {
                continue;
            }
            let Some(phys) = physical.get(logical.as_str()) else {
                continue;
            };
            let prop = |k: &str| {
                res.pointer(&format!("/Properties/{k}"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            subnet_origins.insert(
                (*phys).to_owned(),
                SubnetOrigin {
                    logical_id: logical.clone(),
                    availability_zone: prop("AvailabilityZone"),
                    cidr_block: prop("CidrBlock"),
                },
            );
        }
        TemplateFacts {
            control_plane_subnets,
            subnet_origins,
        }
    }
}

/// A template value that names a subnet: a literal ID, or a `Ref` to a resource of the stack.
fn resolve_id(
    item: &Value,
    physical: &HashMap<&str, &str>,
    have_resources: bool,
) -> Result<String, String> {
    match item {
        Value::String(s) => Ok(s.clone()),
        Value::Object(o) => match o.get("Ref").and_then(Value::as_str) {
            Some(logical) => physical
                .get(logical)
                .map(|p| (*p).to_owned())
                .ok_or_else(|| {
                    if have_resources {
                        format!("the template refers to {logical}, which the stack's resources do not list")
                    } else {
                        "the template refers to stack resources, and describe-stack-resources.json is absent".to_owned()
                    }
                }),
            None => Err(format!(
                "the template's subnet list uses {}, which eksdrift does not resolve",
                o.keys().next().map_or("an empty object", String::as_str)
            )),
        },
        other => Err(format!("the template's subnet list holds {other}")),
    }
}

/// How [`Context::referenced_subnets`] names the cluster's own subnet list.
pub(crate) const CONTROL_PLANE: &str = "control plane";

/// Indexes and derived facts shared by every rule, built once per snapshot.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    pub cluster: &'a Cluster,
    pub discovery: Discovery<'a>,
    pub subnets: HashMap<&'a str, &'a Subnet>,
    pub security_groups: Option<HashMap<&'a str, &'a SecurityGroup>>,
    pub template: TemplateFacts,
    /// The cluster stack's subnet-list outputs, parsed once (empty without a stack).
    pub(crate) output_lists: Vec<OutputSubnets<'a>>,
    /// Every subnet the stack's outputs or the cluster name, with who names it (output keys,
    /// and `control plane` for the cluster's own list).
    pub(crate) referenced: BTreeMap<&'a str, Vec<&'static str>>,
}

/// The subnets one subnet-list output names, cleaned for lookups.
pub(crate) struct OutputSubnets<'a> {
    pub key: &'static str,
    /// Distinct IDs, trimmed, in output order.
    pub ids: Vec<&'a str>,
}

impl<'a> Context<'a> {
    #[must_use]
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let cluster = &snapshot.cluster;
        let discovery = discover(&snapshot.stacks, &cluster.name);
        let output_lists = discovery
            .stack
            .map(Context::output_subnets)
            .unwrap_or_default();
        let mut referenced: BTreeMap<&'a str, Vec<&'static str>> = BTreeMap::new();
        for o in &output_lists {
            for id in &o.ids {
                referenced.entry(id).or_default().push(o.key);
            }
        }
        for id in &cluster.resources_vpc_config.subnet_ids {
            referenced
                .entry(id.as_str())
                .or_default()
                .push(CONTROL_PLANE);
        }
        Context {
            snapshot,
            cluster,
            discovery,
            subnets: snapshot
                .subnets
                .iter()
                .map(|s| (s.subnet_id.as_str(), s))
                .collect(),
            security_groups: snapshot
                .security_groups
                .as_ref()
                .map(|g| g.iter().map(|g| (g.group_id.as_str(), g)).collect()),
            template: TemplateFacts::from_snapshot(snapshot),
            output_lists,
            referenced,
        }
    }

    /// The cluster stack, or the reason a stack rule cannot run.
    pub(crate) fn stack(&self) -> Result<&'a Stack, String> {
        match self.discovery.stack {
            Some(s) => Ok(s),
            None if self.discovery.is_ambiguous() => {
                Err("several stacks could be the cluster stack (see EKD102)".to_owned())
            }
            None => Err("no eksctl cluster stack for this cluster (see EKD101)".to_owned()),
        }
    }

    /// Every subnet-list output of the stack with its IDs (trimmed, empty items and
    /// duplicates dropped; malformed values are EKD105's business).
    pub(crate) fn output_subnets(stack: &'a Stack) -> Vec<OutputSubnets<'a>> {
        outputs::SUBNET_LISTS
            .iter()
            .filter_map(|key| {
                let list = stack.output_list(key)?;
                let mut seen = BTreeSet::new();
                let ids = list
                    .into_iter()
                    .map(str::trim)
                    .filter(|id| !id.is_empty() && seen.insert(*id))
                    .collect();
                Some(OutputSubnets { key, ids })
            })
            .collect()
    }

    /// The AZ of a subnet: live when it exists, else from the template when eksctl made it.
    pub(crate) fn subnet_az(&self, id: &str) -> Option<&str> {
        self.subnets
            .get(id)
            .map(|s| s.availability_zone.as_str())
            .filter(|az| !az.is_empty())
            .or_else(|| {
                self.template
                    .subnet_origins
                    .get(id)
                    .and_then(|o| o.availability_zone.as_deref())
            })
    }

    /// The VPC the stack's subnets should be in: the cluster's live VPC, else the `VPC`
    /// output (a stale `VPC` output is EKD201's finding, not every subnet's).
    pub(crate) fn expected_vpc(&self, stack: &'a Stack) -> Option<&'a str> {
        self.cluster
            .resources_vpc_config
            .vpc_id
            .as_deref()
            .or_else(|| stack.vpc().map(str::trim).filter(|v| !v.is_empty()))
    }

    /// Region for commands, when known.
    pub(crate) fn region(&self) -> Option<&str> {
        self.snapshot.effective_region()
    }
}

/// True when `id` looks like an AWS resource ID with `prefix` (`subnet`, `sg`, `vpc`).
#[must_use]
pub fn is_resource_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (8..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_in_order() {
        let mut seen = BTreeSet::new();
        let mut slugs = BTreeSet::new();
        let mut last = "";
        for rule in ALL {
            assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
            assert!(slugs.insert(rule.slug), "duplicate slug {}", rule.slug);
            assert!(
                rule.code.len() == 6
                    && rule.code.starts_with("EKD")
                    && rule.code[3..].bytes().all(|b| b.is_ascii_digit()),
                "bad code {}",
                rule.code
            );
            assert!(rule.code > last, "{} out of order", rule.code);
            last = rule.code;
            assert!(
                rule.slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "bad slug {}",
                rule.slug
            );
            for part in ["## What it checks", "## Why it matters", "## How to fix"] {
                assert!(rule.doc.contains(part), "{} doc lacks {part}", rule.slug);
            }
        }
        assert_eq!(ALL.len(), 22);
    }

    #[test]
    fn every_rule_file_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rules");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                let stem = name.strip_suffix(".rs")?.to_owned();
                (stem != "mod" && stem != "remedy").then_some(stem)
            })
            .collect();
        files.sort();
        let mut registered: Vec<String> = ALL.iter().map(|r| r.slug.replace('-', "_")).collect();
        registered.sort();
        assert_eq!(files, registered);
    }

    #[test]
    fn lookup_by_code_or_slug() {
        assert_eq!(find("ekd202").unwrap().slug, "output-subnet-deleted");
        assert_eq!(find("output-subnet-deleted").unwrap().code, "EKD202");
        assert!(find("EKD999").is_none());
    }

    #[test]
    fn resource_ids() {
        assert!(is_resource_id("subnet-0aa1122334455667a", "subnet"));
        assert!(is_resource_id("sg-12345678", "sg"));
        assert!(!is_resource_id("subnet-0AA11223", "subnet"));
        assert!(!is_resource_id(" subnet-0aa11223", "subnet"));
        assert!(!is_resource_id("sg-0aa11223", "subnet"));
        assert!(!is_resource_id("subnet-", "subnet"));
    }
}
