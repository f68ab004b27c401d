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
    md.push_str("\n## Operations (`breaks`, `eksdrift audit --for`)\n\nEvery finding names the eksctl operations it makes fail (a finding may name fewer than its rule, as its impact says). `eksdrift audit --for OPERATION` keeps the whole report but sets the exit code from the findings that break OPERATION only.\n\n| operation | eksctl command |\n|---|---|\n");
    for op in Operation::ALL {
        let _ = writeln!(md, "| `{}` | {} |", op.as_str(), command(op));
    }
    for r in ALL {
        let body = r.doc().replace("## ", "### ");
        let _ = write!(
            md,
            "\n## {}\n\n`{}` · default severity **{}** · since {} · breaks {} · fires when {}\n\n{}",
            r.code,
            r.slug,
            r.severity,
            r.since,
            breaks(r.breaks),
            r.summary,
            body
        );
    }
    md
}
