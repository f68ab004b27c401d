use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::Stack;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// No export of an eksctl stack of the cluster is imported by a stack that `eksctl delete
    /// cluster` does not delete before it. eksctl deletes the cluster's nodegroup, addon,
    /// pod-identity-role, fargate, karpenter and capability stacks first
    /// (`eksctl-<cluster>-…`), then the cluster stack; any other importer — another team's
    /// stack, a stack of another cluster, or a nodegroup stack in `DELETE_FAILED`, which
    /// eksctl skips — stays. Needs `list-imports/<export>.json` for every export; a live audit
    /// asks `ListImports` for every export only with `--for delete-cluster` or `--for
    /// delete-nodegroup` (one call per export).
    ///
    /// ## Why it matters
    ///
    /// CloudFormation refuses to delete a stack whose export another stack imports: `eksctl
    /// delete cluster` ends with the cluster stack in `DELETE_FAILED` ("Export … cannot be
    /// deleted as it is in use by …"), after the nodegroups are already gone.
    ///
    /// ## How to fix
    ///
    /// Before deleting, remove the import from the importing stack (or delete that stack).
    code: "EKD702",
    slug: "export-imported-elsewhere",
    severity: Error,
    since: "0.1.0",
    summary: "an export of an eksctl stack is imported by a stack eksctl will not delete first: deleting the cluster fails",
    breaks: [DeleteCluster],
    inputs: [DescribeStacks, ListImports],
}

/// True when `eksctl delete cluster` deletes `name` before the cluster stack
/// (`ourStackRegexFmt` in `pkg/cfn/manager/api.go`, cluster stack excluded).
fn deleted_first(ctx: &Context<'_>, name: &str) -> bool {
    let cluster = &ctx.cluster.name;
    let Some(tail) = name
        .strip_prefix(&format!("eksctl-{cluster}-"))
        .or_else(|| name.strip_prefix(&format!("EKS-{cluster}-")))
    else {
        return false;
    };
    let ours = ["nodegroup-", "addon-", "podidentityrole-", "capability-"]
        .iter()
        .any(|p| tail.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
        || ["fargate", "karpenter", "DefaultNodeGroup"].contains(&tail);
    // eksctl's listing skips a nodegroup stack in DELETE_FAILED: it is never deleted first.
    let skipped = ctx
        .snapshot
        .stacks
        .iter()
        .any(|s| s.stack_name == name && s.stack_status == "DELETE_FAILED");
    ours && !skipped
}

fn check(ctx: &Context<'_>) -> Checked {
    let cluster = ctx.cluster.name.as_str();
    let ours: Vec<&Stack> = ctx
        .snapshot
        .stacks
        .iter()
        .filter(|s| s.stack_status != "DELETE_COMPLETE" && s.cluster_name_tag() == Some(cluster))
        .collect();
    let exports: Vec<(&Stack, &str, &str)> = ours
        .iter()
        .flat_map(|s| {
            s.outputs.iter().filter_map(move |o| {
                o.export_name
                    .as_deref()
                    .map(|e| (*s, o.output_key.as_str(), e))
            })
        })
        .collect();
    if exports.is_empty() {
        return Ok(Vec::new());
    }
    let empty = std::collections::BTreeMap::new();
    let known = ctx.snapshot.imports.as_ref().unwrap_or(&empty);
    let unknown = exports
        .iter()
        .filter(|(_, _, e)| !known.contains_key(*e))
        .count();
    if unknown > 0 {
        return Err(Skip(format!(
            "the importers of {unknown} of {} exports are unknown: no list-imports/<export>.json; live, ListImports is asked for every export only with --for delete-cluster or --for delete-nodegroup",
            exports.len()
        )));
    }
    let mut findings = Vec::new();
    for (stack, key, export) in exports {
        let Some(importers) = known.get(export) else {
            continue;
        };
        for importer in importers.iter().filter(|i| !deleted_first(ctx, i)) {
            findings.push(
                RULE.finding(
                    Resource::stack(stack),
                    format!(
                        "export {export} (output {key} of {}) is imported by stack {importer}, which eksctl delete cluster does not delete first",
                        stack.stack_name
                    ),
                )
                .with_breaks(&[Operation::DeleteCluster])
                .with_expected(Evidence::live(src::IMPORTS, serde_json::json!([])))
                .with_actual(Evidence::live(src::IMPORTS, importers.clone()))
                .with_impact(
                    "CloudFormation refuses to delete a stack whose export is imported: eksctl delete cluster ends with the stack in DELETE_FAILED after the nodegroups are gone",
                )
                .with_remediation(
                    "before deleting the cluster, remove the import from the importing stack or delete that stack",
                    vec![
                        Cmd::new("aws cloudformation list-imports")
                            .opt("--export-name", export)
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
        }
    }
    Ok(findings)
}
