use crate::rules::{Checked, Context, Skip};
use crate::report::src;
use crate::report::{Evidence, Resource};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The stack's `ARN` or `Endpoint` output differs from the live cluster's.
    ///
    /// ## Why it matters
    ///
    /// The cluster was deleted and recreated under the same name outside eksctl (console, Terraform,
    /// `aws eks create-cluster`). Every output of the stack may then describe the old cluster's layout,
    /// and eksctl acts on it.
    ///
    /// ## How to fix
    ///
    /// Treat all outputs of the stack as unverified. Give nodegroups explicit subnets and security
    /// groups, and bring the stack back in line with the cluster, or stop managing it with eksctl.
    code: "EKD106",
    slug: "stack-describes-other-cluster",
    severity: Error,
    since: "0.1.0",
    summary: "output `ARN`/`Endpoint` differ from the live cluster (cluster recreated outside eksctl)",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let pairs = [
        (outputs::ARN, ctx.cluster.arn.as_deref()),
        (outputs::ENDPOINT, ctx.cluster.endpoint.as_deref()),
    ];
    let comparable: Vec<_> = pairs
        .iter()
        .filter_map(|(key, live)| Some((*key, stack.output(key)?, (*live)?)))
        .collect();
    if comparable.is_empty() {
        return Err(Skip(
            "neither an ARN nor an Endpoint output pairs with a live value".to_owned(),
        ));
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
    Ok(findings)
}
