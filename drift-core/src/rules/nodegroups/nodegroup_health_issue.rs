use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// No managed nodegroup reports `health.issues` in `describe-nodegroup` (for example
    /// `Ec2SubnetNotFound`, `Ec2SecurityGroupNotFound`, `IamInstanceProfileNotFound`,
    /// `Ec2LaunchTemplateVersionNotFound`, `AccessDenied`). Needs `list-nodegroups.json` and a
    /// `describe-nodegroup/` file per nodegroup.
    ///
    /// ## Why it matters
    ///
    /// A health issue is EKS saying it cannot manage the nodegroup's instances: updates
    /// (`eksctl upgrade nodegroup`) and scaling fail or stall until the cause is fixed, and
    /// nodes that fail do not come back.
    ///
    /// ## How to fix
    ///
    /// Fix what the issue names (its `resourceIds` say which resource). A resource deleted
    /// out of band usually means replacing the nodegroup.
    code: "EKD506",
    slug: "nodegroup-health-issue",
    severity: Error,
    since: "0.1.0",
    summary: "a managed nodegroup reports health issues: EKS cannot manage its instances",
    breaks: [UpgradeNodegroup],
    inputs: [DescribeCluster, ListNodegroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let mut findings = Vec::new();
    for ng in ctx.managed_nodegroups()? {
        for issue in ng.health.iter().flat_map(|h| &h.issues) {
            let resources = if issue.resource_ids.is_empty() {
                String::new()
            } else {
                format!(" [{}]", issue.resource_ids.join(", "))
            };
            findings.push(
                RULE.finding(
                    Resource::new("AWS::EKS::Nodegroup", &ng.nodegroup_name),
                    format!(
                        "nodegroup {} reports {}: {}{resources}",
                        ng.nodegroup_name, issue.code, issue.message
                    ),
                )
                .with_expected(Evidence::live(src::NODEGROUP, serde_json::json!([])))
                .with_actual(Evidence::live(
                    src::NODEGROUP,
                    serde_json::to_value(issue).unwrap_or_default(),
                ))
                .with_impact(
                    "EKS cannot manage the nodegroup's instances: updates and scaling fail or stall until the cause is fixed",
                )
                .with_remediation(
                    "fix the resource the issue names; a resource deleted out of band usually means replacing the nodegroup",
                    vec![
                        Cmd::new("aws eks describe-nodegroup")
                            .opt("--cluster-name", &ctx.cluster.name)
                            .opt("--nodegroup-name", &ng.nodegroup_name)
                            .opt("--query", "nodegroup.health")
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
        }
    }
    Ok(findings)
}
