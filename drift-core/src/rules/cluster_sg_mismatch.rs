#![doc = include_str!("docs/cluster-sg-mismatch.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD303",
    slug: "cluster-sg-mismatch",
    summary: "output `ClusterSecurityGroupId` ≠ live `clusterSecurityGroupId`",
    severity: Severity::Error,
    doc: include_str!("docs/cluster-sg-mismatch.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let Some(recorded) = stack.cluster_security_group_id() else {
        return Outcome::NotChecked(
            "the stack has no ClusterSecurityGroupId output (see EKD104)".to_owned(),
        );
    };
    let Some(live) = ctx
        .cluster
        .resources_vpc_config
        .cluster_security_group_id
        .as_deref()
    else {
        return Outcome::NotChecked(
            "DescribeCluster returned no resourcesVpcConfig.clusterSecurityGroupId".to_owned(),
        );
    };
    if recorded.trim() == live {
        return Outcome::Checked(Vec::new());
    }
    Outcome::Checked(vec![
        RULE.finding(
            Resource::security_group(live),
            format!("stack output ClusterSecurityGroupId is {recorded}, but the cluster security group is {live}"),
        )
        .with_expected(Evidence::output(stack, outputs::CLUSTER_SECURITY_GROUP_ID))
        .with_actual(Evidence::live(src::CLUSTER, live.to_owned()))
        .with_impact(
            "managed nodegroups created by eksctl get launch templates with the recorded group instead of the cluster security group: nodes cannot talk to the control plane and never join",
        )
        .with_remediation(
            format!("correct ClusterSecurityGroupId to {live} with a reviewed change set that touches only that output"),
            Vec::new(),
        ),
    ])
}
