//! Phase 4 for one cluster: the template and resources where the cheap comparison needs them,
//! the templates of nodegroup stacks with a launch template of their own, and the importers of
//! exports (every export under a deletion gate; else a bounded read that only words a fix).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt as _};

use super::error::CallError;
use super::target::fail;
use super::{Clients, Options, cloudformation, iam};
use crate::discovery::discover;
use crate::input::Input;
use crate::report::ErrorKind;
use crate::snapshot::Snapshot;

/// How long the reads that only word a remediation may take together, per region.
const WORDING_DEADLINE: Duration = Duration::from_secs(2);

/// Attempts for a read that only words a remediation: the SDK's standard retries, never the
/// run's `--max-attempts`.
pub(super) const WORDING_ATTEMPTS: u32 = 3;

/// The budget of the reads that only word a remediation, shared by a region's clusters: one
/// deadline for them all, and after the first failure no more such reads.
pub(super) struct Wording {
    deadline: tokio::time::Instant,
    broken: AtomicBool,
    /// The first failure: reads not made after it report it.
    first: std::sync::Mutex<Option<CallError>>,
}

impl Wording {
    pub(super) fn new() -> Self {
        Wording {
            deadline: tokio::time::Instant::now() + WORDING_DEADLINE,
            broken: AtomicBool::new(false),
            first: std::sync::Mutex::new(None),
        }
    }
}

/// Phase 4 for one cluster: the template and resources where the cheap comparison needs
/// them, and the importers of exports.
pub(super) async fn details(
    clients: &Clients,
    opts: &Options,
    wording: &Wording,
    mut snapshot: Snapshot,
    mut own_queries: Vec<String>,
) -> (Snapshot, Vec<String>) {
    let name = snapshot.cluster.name.clone();
    let stack_name = discover(&snapshot.stacks, &name)
        .stack
        .filter(|_| opts.inputs.contains(&Input::GetTemplate))
        .filter(|s| cloudformation::needs_template(s, &snapshot))
        .map(|s| s.stack_name.clone());
    // A deletion gate asks about every export of the cluster's eksctl stacks (EKD702), with
    // the run's retries; otherwise only the exports a remediation would change, a bounded read.
    let gate = opts.gate.all_imports && opts.inputs.contains(&Input::ListImports);
    let mut exports = crate::plan::exports_to_change(&snapshot);
    if gate {
        exports.extend(
            snapshot
                .stacks
                .iter()
                .filter(|s| s.cluster_name_tag() == Some(name.as_str()))
                .flat_map(|s| s.outputs.iter().filter_map(|o| o.export_name.clone())),
        );
        exports.sort();
        exports.dedup();
    }
    let template = async {
        match &stack_name {
            Some(stack) => Some(cloudformation::stack_details(&clients.cfn, stack).await),
            None => None,
        }
    };
    let imports = stream::iter(exports.iter())
        .map(|export| async move {
            let result = if gate {
                cloudformation::list_imports(&clients.cfn, export).await
            } else {
                bounded_list_imports(&clients.cfn_wording, wording, export).await
            };
            (export.clone(), result)
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    // The templates of the managed nodegroup stacks with a launch template of their own: the
    // version `eksctl upgrade nodegroup` starts from is recorded there.
    let ng_stacks: Vec<String> = if opts.inputs.contains(&Input::GetNodegroupTemplates) {
        snapshot
            .custom_launch_template_stacks()
            .iter()
            .map(|s| s.stack_name.clone())
            .collect()
    } else {
        Vec::new()
    };
    let ng_templates = stream::iter(ng_stacks.iter())
        .map(|stack| async move {
            (
                stack.clone(),
                cloudformation::template(&clients.cfn, stack).await,
            )
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    // Under a deletion gate: every eksctl stack's template and what is attached to the roles
    // their outputs name (EKD709).
    let roles_gate = gate && opts.inputs.contains(&Input::ListRoleAttachments);
    let (role_stacks, role_names) = if roles_gate {
        role_reads(&snapshot, stack_name.is_some())
    } else {
        (Vec::new(), Vec::new())
    };
    let role_templates = stream::iter(role_stacks.iter())
        .map(|stack| async move {
            (
                stack.clone(),
                cloudformation::template(&clients.cfn, stack).await,
            )
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    let attachments = stream::iter(role_names.iter())
        .map(|role| async move {
            (
                role.clone(),
                iam::role_attachments(&clients.iam, role).await,
            )
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>();
    let (template, imports, ng_templates, role_templates, attachments) =
        tokio::join!(template, imports, ng_templates, role_templates, attachments);
    if roles_gate {
        let mut templates = BTreeMap::new();
        let mut failed = false;
        for (stack, result) in role_templates {
            match result {
                Ok(body) => {
                    own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                    templates.insert(stack, body.unwrap_or_default());
                }
                Err(e) => {
                    failed = true;
                    fail(&mut snapshot, Input::ListRoleAttachments, &e);
                }
            }
        }
        let mut found = crate::snapshot::RoleAttachmentMap::new();
        for (role, result) in attachments {
            match result {
                Ok(a) => {
                    own_queries.push(format!(
                        "iam:ListAttachedRolePolicies, ListRolePolicies, ListInstanceProfilesForRole role={role}"
                    ));
                    found.insert(role, a);
                }
                // A role that is gone has nothing attached (EKD603/EKD606 say it is gone).
                Err(e) if e.code.as_deref() == Some("NoSuchEntity") => {}
                Err(e) => {
                    failed = true;
                    fail(&mut snapshot, Input::ListRoleAttachments, &e);
                }
            }
        }
        if !failed {
            snapshot.role_stack_templates = Some(templates);
            snapshot.role_attachments = Some(found);
        }
    }
    if opts.inputs.contains(&Input::GetNodegroupTemplates)
        && !snapshot.failures.contains_key(&Input::ListNodegroups)
    {
        let mut templates = BTreeMap::new();
        for (stack, result) in ng_templates {
            match result {
                Ok(body) => {
                    own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                    templates.insert(stack, body.unwrap_or_default());
                }
                Err(e) => fail(&mut snapshot, Input::GetNodegroupTemplates, &e),
            }
        }
        if !snapshot
            .failures
            .contains_key(&Input::GetNodegroupTemplates)
        {
            snapshot.nodegroup_templates = Some(templates);
        }
    }
    match template {
        Some(Ok((template, resources))) => {
            snapshot.template = template;
            snapshot.stack_resources = Some(resources);
            if let Some(stack) = &stack_name {
                own_queries.push(format!("cloudformation:GetTemplate stack={stack}"));
                own_queries.push(format!(
                    "cloudformation:DescribeStackResources stack={stack}"
                ));
            }
        }
        Some(Err(e)) => {
            fail(&mut snapshot, Input::GetTemplate, &e);
            fail(&mut snapshot, Input::DescribeStackResources, &e);
        }
        None => {}
    }
    let mut known = BTreeMap::new();
    for (export, result) in imports {
        match result {
            Ok(importers) => {
                own_queries.push(format!("cloudformation:ListImports export={export}"));
                known.insert(export, importers);
            }
            Err(e) => {
                tracing::warn!(export, error = %e, "could not list the importers of an export");
                let failure = if gate {
                    e.to_failure()
                } else {
                    // Only the remediation's wording depends on it: it then says how to check.
                    e.to_failure().for_wording()
                };
                snapshot
                    .failures
                    .entry(Input::ListImports)
                    .or_insert(failure);
            }
        }
    }
    snapshot.imports = Some(known);
    Box::pin(super::planned::read(
        clients,
        opts,
        &mut snapshot,
        &mut own_queries,
    ))
    .await;
    (snapshot, own_queries)
}

/// `ListImports` for a remediation's wording: standard retries, the region's shared deadline,
/// and none after the first failure.
async fn bounded_list_imports(
    cfn: &aws_sdk_cloudformation::Client,
    wording: &Wording,
    export: &str,
) -> Result<Vec<String>, CallError> {
    let skipped = |why: &str| CallError {
        action: "cloudformation:ListImports".to_owned(),
        kind: ErrorKind::Timeout,
        code: None,
        message: why.to_owned(),
    };
    if wording.broken.load(Ordering::Relaxed) {
        let first = wording.first.lock().ok().and_then(|f| f.clone());
        return Err(first.map_or_else(
            || {
                skipped(
                    "not asked after an earlier ListImports failed (it only words a remediation)",
                )
            },
            |mut e| {
                e.message = format!(
                    "not asked after an earlier ListImports failed: {}",
                    e.message
                );
                e
            },
        ));
    }
    let result =
        tokio::time::timeout_at(wording.deadline, cloudformation::list_imports(cfn, export))
            .await
            .unwrap_or_else(|_| {
                Err(skipped(&format!(
                    "no answer within {} s (it only words a remediation)",
                    WORDING_DEADLINE.as_secs()
                )))
            });
    if let Err(e) = &result {
        if let Ok(mut first) = wording.first.lock() {
            first.get_or_insert_with(|| e.clone());
        }
        wording.broken.store(true, Ordering::Relaxed);
    }
    result
}

/// The eksctl stacks of the cluster whose templates to read (the cluster stack's is read with
/// its resources when `have_cluster_template`), and the roles their outputs name.
fn role_reads(snapshot: &Snapshot, have_cluster_template: bool) -> (Vec<String>, Vec<String>) {
    let cluster = snapshot.cluster.name.as_str();
    let cluster_stack = discover(&snapshot.stacks, cluster)
        .stack
        .map(|s| s.stack_name.clone());
    let ours: Vec<&crate::snapshot::Stack> = snapshot
        .stacks
        .iter()
        .filter(|s| s.stack_status != "DELETE_COMPLETE")
        .filter(|s| {
            s.cluster_name_tag() == Some(cluster) || Some(&s.stack_name) == cluster_stack.as_ref()
        })
        .collect();
    let mut roles: Vec<String> = ours
        .iter()
        .flat_map(|s| &s.outputs)
        .filter_map(|o| o.output_value.split_once(":role/").map(|(_, r)| r))
        .filter_map(|r| r.rsplit('/').next())
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    roles.sort();
    roles.dedup();
    let stacks = ours
        .iter()
        .filter(|s| !(have_cluster_template && Some(&s.stack_name) == cluster_stack.as_ref()))
        .filter(|s| s.outputs.iter().any(|o| o.output_value.contains(":role/")))
        .map(|s| s.stack_name.clone())
        .collect();
    (stacks, roles)
}
