use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource, Severity};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The live cluster's status is `ACTIVE`. `FAILED` is an error; `CREATING`, `UPDATING`,
    /// `DELETING` and `PENDING` are warnings.
    ///
    /// ## Why it matters
    ///
    /// EKS refuses nodegroup and configuration changes until the cluster is `ACTIVE`; an update in
    /// progress may be changing the VPC configuration the audit compares. `eksctl delete
    /// cluster` on a cluster that is not `ACTIVE` fails too: EKS refuses `DeleteCluster` while an
    /// update runs, the cluster stack ends in `DELETE_FAILED`, and eksctl still exits 0
    /// (eksctl #4979).
    ///
    /// ## How to fix
    ///
    /// Wait for the operation to end and audit again; for `FAILED`, inspect `aws eks list-updates`
    /// and the cluster's health.
    code: "EKD402",
    slug: "cluster-not-active",
    severity: Warning,
    since: "0.1.0",
    summary: "live cluster status is not `ACTIVE`",
    breaks: [CreateNodegroup, UpgradeCluster, UpgradeNodegroup, UpdateClusterVpcConfig, DeleteCluster],
    inputs: [DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(status) = ctx.cluster.status.as_deref() else {
        return Err(Skip("DescribeCluster returned no status".to_owned()));
    };
    if status == "ACTIVE" {
        return Ok(Vec::new());
    }
    let failed = status == "FAILED";
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!("cluster {} is {status}", ctx.cluster.name),
        )
        .with_severity(if failed { Severity::Error } else { Severity::Warning })
        .with_expected(Evidence::live(src::CLUSTER, "ACTIVE"))
        .with_actual(Evidence::live(src::CLUSTER, status.to_owned()))
        .with_impact(if failed {
            "the cluster failed; eksctl and EKS refuse nodegroup and update operations on it"
        } else {
            "EKS refuses nodegroup and configuration changes until the cluster is ACTIVE; an update may be changing the VPC configuration right now"
        })
        .with_remediation(
            if failed {
                "inspect the cluster's health and recent updates (aws eks list-updates)"
            } else {
                "wait for the current operation to finish, then audit again"
            },
            Vec::new(),
        ),
    ])
}
