//! `docs/rules.md`, generated from the rule declarations.

use std::fmt::Write as _;

use super::ALL;
use crate::report::Operation;

fn breaks(ops: &[Operation]) -> String {
    if ops.is_empty() {
        return "—".to_owned();
    }
    ops.iter()
        .map(|o| format!("`{}`", o.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn inputs(r: &super::Rule) -> String {
    if r.inputs.is_empty() {
        return "— (from eksdrift.toml)".to_owned();
    }
    r.inputs
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn actions(r: &super::Rule) -> String {
    r.actions()
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn command(op: Operation) -> &'static str {
    match op {
        Operation::CreateCluster => "`eksctl create cluster` (a new cluster of the same name)",
        Operation::CreateNodegroup => "`eksctl create nodegroup`",
        Operation::CreateFargateprofile => "`eksctl create fargateprofile`",
        Operation::UpgradeCluster => "`eksctl upgrade cluster` (EKS version updates)",
        Operation::UpgradeNodegroup => "`eksctl upgrade nodegroup`, scaling an eksctl nodegroup",
        Operation::DeleteNodegroup => "`eksctl delete nodegroup`",
        Operation::DeleteCluster => "`eksctl delete cluster`",
        Operation::UpdateClusterVpcConfig => {
            "`eksctl utils update-cluster-vpc-config`, EKS `UpdateClusterConfig`"
        }
        Operation::CreateIamserviceaccount => "`eksctl create iamserviceaccount`",
        Operation::GetNodegroup => "`eksctl get nodegroup` (the listing of every nodegroup)",
        Operation::CreateAddon => {
            "`eksctl create addon` (and the addons of `eksctl create cluster`)"
        }
        Operation::UpdateAddon => "`eksctl update addon`",
    }
}

/// The catalogue in Markdown: a table, then one section per code.
#[must_use]
pub fn catalogue_markdown() -> String {
    let mut md = String::from(
        "# eksdrift rules\n\nGenerated from the rule declarations in `drift-core/src/rules/`; a test fails when this\nfile is stale (`EKSDRIFT_BLESS=1 cargo test` rewrites it). Codes and slugs are stable and never reused.\n\n| code | slug | default severity | since | breaks | fires when |\n|---|---|---|---|---|---|\n",
    );
    for r in ALL {
        let _ = writeln!(
            md,
            "| [{}](#{}) | `{}` | {} | {} | {} | {} |",
            r.code,
            r.code.to_ascii_lowercase(),
            r.slug,
            r.severity,
            r.since,
            breaks(r.breaks),
            r.summary
        );
    }
    md.push_str("\n## Inputs, IAM actions and rule selection\n\nEach rule declares the inputs it reads. `--select` / `--ignore` (codes, code prefixes such as `EKD6`, slugs, family names: `stack`, `subnets`, `security-groups`, `cluster`, `nodegroups`, `identity`, `lifecycle`, `upgrade`; also `select` / `ignore` in `eksdrift.toml`) decide which rules run, and a live audit reads only the inputs of the selected rules: a role granted the actions of the selected rules gets a complete audit of what was asked. A read that fails makes only the rules that need it `not_checked` (the reason names the operation and the error kind) and the target `partial`, which exits 2 unless `--allow-partial`; a `--for` gate never passes when a rule that breaks its operation could not check for a failed read. `docs/iam-policy.json` grants the union.\n\n| code | slug | inputs | IAM actions |\n|---|---|---|---|\n");
    for r in ALL {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {} |",
            r.code,
            r.slug,
            inputs(r),
            actions(r)
        );
    }
    md.push_str("\n## Operations (`breaks`, `eksdrift audit --for`)\n\nEvery finding names the eksctl operations it makes fail (a finding may name fewer than its rule, as its impact says). `eksdrift audit --for OPERATION` keeps the whole report but sets the exit code from the findings that break OPERATION only.\n\n| operation | eksctl command |\n|---|---|\n");
    for op in Operation::ALL {
        let _ = writeln!(md, "| `{}` | {} |", op.as_str(), command(op));
    }
    for r in ALL {
        let body = r.doc().replace("## ", "### ");
        let _ = write!(
            md,
            "\n## {}\n\n`{}` · default severity **{}** · since {} · breaks {} · reads {} · fires when {}\n\n{}",
            r.code,
            r.slug,
            r.severity,
            r.since,
            breaks(r.breaks),
            inputs(r),
            r.summary,
            body
        );
    }
    md
}
