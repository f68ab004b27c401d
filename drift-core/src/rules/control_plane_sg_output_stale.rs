#![doc = include_str!("docs/control-plane-sg-output-stale.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD301",
    slug: "control-plane-sg-output-stale",
    summary: "output `SecurityGroup` is not among the live `securityGroupIds`",
    severity: Severity::Warning,
    doc: include_str!("docs/control-plane-sg-output-stale.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let Some(recorded) = stack.security_group() else {
        return Outcome::NotChecked(
            "the stack has no SecurityGroup output (see EKD104)".to_owned(),
        );
    };
    let live = &ctx.cluster.resources_vpc_config.security_group_ids;
    if live.iter().any(|g| g == recorded.trim()) {
        return Outcome::Checked(Vec::new());
    }
    Outcome::Checked(vec![
        RULE.finding(
            Resource::security_group(recorded.trim()),
            format!(
                "stack output SecurityGroup is {recorded}, but the control plane now uses {}",
                if live.is_empty() { "no additional security group".to_owned() } else { live.join(", ") }
            ),
        )
        .with_expected(Evidence::output(stack, outputs::SECURITY_GROUP))
        .with_actual(Evidence::live(src::CLUSTER, live.clone()))
        .with_impact(
            "eksctl create nodegroup opens node ingress from the recorded security group, not from the one the control plane uses: nodes may fail to join or the API server cannot reach kubelets and webhooks",
        )
        .with_remediation(
            "correct the SecurityGroup output with a reviewed change set, or add the recorded group back with eksctl utils update-cluster-vpc-config --control-plane-security-group-ids",
            Vec::new(),
        ),
    ])
}
