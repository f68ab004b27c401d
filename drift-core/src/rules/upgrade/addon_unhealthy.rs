use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

/// Where the addons come from.
const SOURCE: &str = "eks:DescribeAddon";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every EKS addon of the cluster (`describe-addon/`) is `ACTIVE` with no health issue.
    ///
    /// ## Why it matters
    ///
    /// - `CREATE_FAILED`: `eksctl create addon` (and the addons of `eksctl create cluster`)
    ///   skips an addon that exists in any other state, but not this one
    ///   (`pkg/actions/addon/create.go`): it calls `CreateAddon` again, which EKS refuses while
    ///   the failed addon exists (eksctl #5444, #5613). Error.
    /// - `DELETE_FAILED`, `UPDATE_FAILED`, `DEGRADED`: the addon is not doing its job (for
    ///   `vpc-cni`, new pods get no address), and `eksctl create addon` skips it as present.
    ///   Error for the failed states, warning for `DEGRADED`.
    /// - `CREATING`, `UPDATING`, `DELETING`: EKS refuses another `UpdateAddon` until it ends
    ///   (`eksctl update addon` fails). Warning.
    /// - Health issues on an `ACTIVE` addon (`health.issues`: a conflict with a field changed in
    ///   Kubernetes, a role it cannot assume): warning, with EKS's words.
    ///
    /// ## How to fix
    ///
    /// For `CREATE_FAILED` and `DELETE_FAILED`, delete the addon (`eksctl delete addon`) and
    /// create it again; otherwise follow EKS's health issue, or wait for the operation to end.
    code: "EKD802",
    slug: "addon-unhealthy",
    severity: Error,
    since: "0.1.0",
    summary: "an EKS addon is failed, degraded, busy or reports health issues",
    breaks: [CreateAddon, UpdateAddon],
    inputs: [DescribeCluster, ListAddons],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.addon_names.is_none() {
        return Err(Skip("no addon list (list-addons.json absent)".to_owned()));
    }
    let cluster = &ctx.cluster.name;
    let mut findings = Vec::new();
    for addon in &ctx.snapshot.addons {
        let name = &addon.addon_name;
        let status = addon.status.as_deref().unwrap_or("unknown");
        let issues: Vec<String> = addon
            .health
            .iter()
            .flat_map(|h| &h.issues)
            .map(|i| format!("{}: {}", i.code, crate::text::inline(&i.message)))
            .collect();
        let (severity, breaks, impact): (Severity, &[Operation], &str) = match status {
            "ACTIVE" if issues.is_empty() => continue,
            "ACTIVE" => (
                Severity::Warning,
                &[],
                "the addon runs, but EKS reports it cannot manage it as configured",
            ),
            "CREATE_FAILED" => (
                Severity::Error,
                &[Operation::CreateAddon],
                "eksctl create addon does not skip a CREATE_FAILED addon: it calls CreateAddon again, which EKS refuses while the addon exists",
            ),
            "DELETE_FAILED" | "UPDATE_FAILED" => (
                Severity::Error,
                &[],
                "the addon is half changed; eksctl create addon skips it as present",
            ),
            "DEGRADED" => (
                Severity::Warning,
                &[],
                "the addon is not doing its job (for vpc-cni, new pods get no address)",
            ),
            "CREATING" | "UPDATING" | "DELETING" => (
                Severity::Warning,
                &[Operation::UpdateAddon],
                "EKS refuses another UpdateAddon until the current operation ends",
            ),
            _ => (
                Severity::Warning,
                &[],
                "EKS reports a status eksdrift does not know",
            ),
        };
        let recreate = matches!(status, "CREATE_FAILED" | "DELETE_FAILED");
        let mut commands = vec![
            Cmd::new("aws eks describe-addon")
                .opt("--cluster-name", cluster)
                .opt("--addon-name", name)
                .region(ctx)
                .done(),
        ];
        if recreate {
            commands.push(
                Cmd::new("eksctl delete addon")
                    .opt("--cluster", cluster)
                    .opt("--name", name)
                    .region(ctx)
                    .done(),
            );
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::EKS::Addon", name),
                if issues.is_empty() {
                    format!("addon {name} is {status}")
                } else {
                    format!("addon {name} is {status}: {}", issues.join("; "))
                },
            )
            .with_severity(severity)
            .with_breaks(breaks)
            .with_expected(Evidence::live(SOURCE, json!("ACTIVE, no health issues")))
            .with_actual(Evidence::live(
                SOURCE,
                json!({"status": status, "issues": issues, "version": addon.addon_version}),
            ))
            .with_impact(impact)
            .with_remediation(
                if recreate {
                    "delete the addon and create it again (eksctl create addon)"
                } else {
                    "follow EKS's health issue, or wait for the operation to end, then audit again"
                },
                commands,
            ),
        );
    }
    Ok(findings)
}
