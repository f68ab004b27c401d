use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-nodegroup`, each nodegroup the filter keeps
    /// (`--include`/`--exclude`, eksctl's globs): is its name free? eksctl lists the cluster's
    /// nodegroup stacks in every state but `DELETE_COMPLETE`, and EKS's managed nodegroups, and
    /// **excludes** every nodegroup of the file that one of them names ("N existing
    /// nodegroup(s) will be excluded", `SetOnlyLocal`, `pkg/ctl/cmdutils/filter`).
    ///
    /// - A stack that failed (`ROLLBACK_COMPLETE`, `CREATE_FAILED`, `ROLLBACK_FAILED`,
    ///   `DELETE_FAILED`, `UPDATE_ROLLBACK_FAILED`) takes the name: eksctl reports success and
    ///   creates nothing. Error, breaks `create-nodegroup`.
    /// - A stack in progress: warning.
    /// - A healthy nodegroup of that name: info (eksctl skips it, as you may intend).
    /// - A name that makes the stack's name end in `-cluster`: warning. eksctl finds the cluster
    ///   stack as the first stack whose name ends in `-cluster` (EKD102).
    ///
    /// ## Why it matters
    ///
    /// A planned nodegroup that eksctl silently skips is a change that did not happen: the
    /// command exits 0 and the capacity never arrives.
    ///
    /// ## How to fix
    ///
    /// Delete the failed stack (`eksctl delete nodegroup`, or `aws cloudformation delete-stack`),
    /// or give the nodegroup another name.
    code: "EKD902",
    slug: "plan-nodegroup-name-taken",
    severity: Error,
    since: "0.1.0",
    summary: "a nodegroup of the ClusterConfig is named by an existing or failed stack: eksctl skips it and creates nothing",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, ListNodegroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateNodegroup]) else {
        return Ok(Vec::new());
    };
    let cluster = &ctx.cluster.name;
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    for (_, ng) in plan.config.node_pools().filter(|(_, n)| plan.keeps(&n.name)) {
        let name = crate::text::inline(&ng.name).into_owned();
        let stack_name = format!("eksctl-{cluster}-nodegroup-{}", ng.name);
        let resource = Resource::new("eksctl::NodeGroup", &name);
        let stack = ctx
            .snapshot
            .stacks
            .iter()
            .find(|s| s.stack_name == stack_name && s.stack_status != "DELETE_COMPLETE");
        let in_eks = ctx
            .snapshot
            .nodegroup_names
            .as_ref()
            .is_some_and(|n| n.iter().any(|n| n == &ng.name));
        let delete = Cmd::new("eksctl delete nodegroup")
            .opt("--cluster", cluster)
            .opt("--name", &ng.name)
            .region(ctx)
            .done();
        if let Some(stack) = stack {
            let status = stack.stack_status.as_str();
            let (severity, breaks, impact): (Severity, &[Operation], &str) =
                if planning::FAILED_STACK_STATES.contains(&status) {
                    (
                        Severity::Error,
                        &[Operation::CreateNodegroup],
                        "eksctl counts the failed stack as an existing nodegroup and excludes it: the command succeeds and creates nothing",
                    )
                } else if status.ends_with("_IN_PROGRESS") {
                    (
                        Severity::Warning,
                        &[],
                        "eksctl excludes the nodegroup as existing while its stack is being changed",
                    )
                } else {
                    (
                        Severity::Info,
                        &[],
                        "the nodegroup exists: eksctl excludes it and creates the others",
                    )
                };
            findings.push(
                RULE.finding(
                    resource,
                    format!(
                        "nodegroup {name} of {file} is taken by stack {stack_name} ({}): eksctl will not create it",
                        crate::text::inline(status)
                    ),
                )
                .with_severity(severity)
                .with_breaks(breaks)
                .with_expected(Evidence::live(src::STACKS, json!(format!("no stack {stack_name}"))))
                .with_actual(Evidence::stack(stack, json!(status)))
                .with_impact(impact)
                .with_remediation(
                    if breaks.is_empty() {
                        "nothing to do if the nodegroup is meant to stay; otherwise rename the new one"
                    } else {
                        "delete the failed stack, or give the nodegroup another name, then create it"
                    },
                    if breaks.is_empty() { Vec::new() } else { vec![delete] },
                ),
            );
        } else if in_eks {
            findings.push(
                RULE.finding(
                    resource,
                    format!(
                        "nodegroup {name} of {file} already exists in EKS (without an eksctl stack): eksctl will not create it"
                    ),
                )
                .with_severity(Severity::Info)
                .with_breaks(&[])
                .with_expected(Evidence::live(src::LIST_NODEGROUPS, json!(format!("no nodegroup {name}"))))
                .with_actual(Evidence::live(src::LIST_NODEGROUPS, json!(name)))
                .with_impact("eksctl excludes the nodegroup as existing")
                .with_remediation("rename the new nodegroup if it is meant to be another one", Vec::new()),
            );
        }
        if stack_name.ends_with("-cluster") {
            findings.push(
                RULE.finding(
                    Resource::new("eksctl::NodeGroup", &name),
                    format!(
                        "nodegroup {name} of {file} gets the stack {stack_name}, whose name ends in -cluster: later eksctl commands may take it for the cluster stack"
                    ),
                )
                .with_severity(Severity::Warning)
                .with_breaks(&[])
                .with_expected(Evidence::live("ClusterConfig", json!("a nodegroup name not ending in cluster")))
                .with_actual(Evidence::live("ClusterConfig", json!(name)))
                .with_impact("eksctl finds the cluster stack as the first stack whose name ends in -cluster (EKD102)")
                .with_remediation("give the nodegroup a name that does not end in cluster", Vec::new()),
            );
        }
    }
    Ok(findings)
}
