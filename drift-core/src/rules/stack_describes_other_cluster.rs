#![doc = include_str!("docs/stack-describes-other-cluster.md")]

use super::{Context, Outcome, Rule, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

pub static RULE: Rule = Rule {
    code: "EKD106",
    slug: "stack-describes-other-cluster",
    summary: "output `ARN`/`Endpoint` differ from the live cluster (cluster recreated outside eksctl)",
    severity: Severity::Error,
    doc: include_str!("docs/stack-describes-other-cluster.md"),
    check,
};

fn check(ctx: &Context<'_>) -> Outcome {
    let stack = match ctx.stack() {
        Ok(s) => s,
        Err(reason) => return Outcome::NotChecked(reason),
    };
    let pairs = [
        (outputs::ARN, ctx.cluster.arn.as_deref()),
        (outputs::ENDPOINT, ctx.cluster.endpoint.as_deref()),
    ];
    let comparable: Vec<_> = pairs
        .iter()
        .filter_map(|(key, live)| Some((*key, stack.output(key)?, (*live)?)))
        .collect();
    if comparable.is_empty() {
        return Outcome::NotChecked(
            "neither an ARN nor an Endpoint output pairs with a live value".to_owned(),
        );
    }
    let findings = comparable
        .into_iter()
        .filter(|(_, recorded, live)| recorded.trim().trim_end_matches('/') != live.trim_end_matches('/'))
        .map(|(key, recorded, live)| {
            RULE.finding(
                Resource::cluster(ctx.cluster),
                format!(
                    "stack output {key} is {recorded}, but the live cluster's is {live}: the stack describes another cluster"
                ),
            )
            .with_expected(Evidence::output(stack, key))
            .with_actual(Evidence::live(src::CLUSTER, live.to_owned()))
            .with_impact(
                "the cluster was recreated outside eksctl; every output of the stack (VPC, subnets, security groups) may belong to the old cluster, and eksctl nodegroup and upgrade commands act on that layout",
            )
            .with_remediation(
                "treat every output of this stack as unverified; recreate the stack's view of the cluster (eksctl utils describe-stacks; for nodegroups pass subnets and security groups explicitly)",
                Vec::new(),
            )
        })
        .collect();
    Outcome::Checked(findings)
}
