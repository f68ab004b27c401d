#![doc = include_str!("docs/cluster-not-active.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};

pub static RULE: Rule = Rule {
    code: "EKD402",
    slug: "cluster-not-active",
    summary: "live cluster status is not `ACTIVE`",
    severity: Severity::Warning,
    doc: include_str!("docs/cluster-not-active.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let Some(status) = ctx.cluster.status.as_deref() else {
        return Outcome::NotChecked("DescribeCluster returned no status".to_owned());
    };
    if status == "ACTIVE" {
        return Outcome::Checked(Vec::new());
    }
    let failed = status == "FAILED";
    Outcome::Checked(vec![
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
