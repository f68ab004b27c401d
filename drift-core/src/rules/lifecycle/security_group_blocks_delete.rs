use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity};
use crate::rules::deletion::{eksctl_groups, eksctl_vpc, group_stack, kubernetes_made, maker, stack_breaks, stack_label};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

/// Where the groups come from.
const SOURCE: &str = "ec2:DescribeSecurityGroups";

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Two things stand in the way of deleting eksctl's security groups and VPC:
    ///
    /// - a security group that eksctl's stacks did not make with a rule (inbound or outbound)
    ///   naming a group they did make;
    /// - in a VPC eksctl created, a security group that eksctl did not make.
    ///
    /// Not counted: eksctl's own groups (CloudFormation's `aws:cloudformation:stack-name` tag
    /// names one of the cluster's eksctl stacks, or the cluster stack's outputs name them), the
    /// cluster security group EKS makes (whose rule naming the shared node group is eksctl's
    /// template's own and goes with the stack) and EKS's other groups for the cluster (tagged
    /// `eks:cluster-name`, such as a managed nodegroup's remote-access group, deleted with the
    /// nodegroup), the VPC's `default` group, and the groups
    /// Kubernetes made for the cluster's load balancers (`kubernetes.io/cluster/<name>`,
    /// `elbv2.k8s.aws/cluster`), which go with their load balancers (EKD705 reports the ones
    /// eksctl leaves). Needs `describe-security-groups-vpc.json`.
    ///
    /// ## Why it matters
    ///
    /// EC2 refuses to delete a group another group's rule names, and a VPC that still holds a
    /// group: CloudFormation ends the stack in `DELETE_FAILED` with `DependencyViolation`
    /// (eksctl #4203, #5135, #1849). A reference to a nodegroup's group blocks `eksctl delete
    /// nodegroup` as well.
    ///
    /// ## How to fix
    ///
    /// Remove the rule that names eksctl's group (`aws ec2 revoke-security-group-ingress` /
    /// `revoke-security-group-egress` with the rule's ID), or delete the outside group, then
    /// delete again.
    code: "EKD707",
    slug: "security-group-blocks-delete",
    severity: Error,
    since: "0.1.0",
    summary: "a security group eksctl did not make references eksctl's groups or sits in eksctl's VPC, and blocks deleting them",
    breaks: [DeleteCluster, DeleteNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, DescribeVpcSecurityGroups],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(listed) = &ctx.snapshot.vpc_security_groups else {
        return Err(Skip(
            "no security groups of the VPC (describe-security-groups-vpc.json absent)".to_owned(),
        ));
    };
    let ours = eksctl_groups(ctx);
    let vpc = eksctl_vpc(ctx);
    let cluster = ctx.cluster.name.as_str();
    let cluster_sg = ctx.cluster.resources_vpc_config.cluster_security_group_id.as_deref();
    let mut findings = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for g in listed {
        let id = g.group_id.as_str();
        if ours.contains(id) || Some(id) == cluster_sg || !seen.insert(id) {
            continue;
        }
        if kubernetes_made(cluster, |k| g.tag(k).map(str::to_owned)) {
            continue;
        }
        // EKS's own groups for this cluster (a managed nodegroup's remote-access group, the
        // cluster group) go with the nodegroup or the cluster.
        if g.tag("eks:cluster-name") == Some(cluster) || g.tag("aws:eks:cluster-name") == Some(cluster)
        {
            continue;
        }
        let name = g.group_name.as_deref().unwrap_or_default();
        let named: Vec<&str> = g
            .referenced_groups()
            .into_iter()
            .filter(|r| *r != id && ours.contains(r))
            .collect();
        let made_by = maker(cluster, &g.tags);
        if !named.is_empty() {
            let mut breaks: Vec<Operation> = Vec::new();
            let mut labels = Vec::new();
            for r in &named {
                let stack = group_stack(ctx, r);
                labels.push(match stack {
                    Some(s) => format!("{r} of {}", stack_label(ctx, s)),
                    None => format!("{r} of the cluster stack"),
                });
                for op in stack_breaks(ctx, stack.or(ctx.discovery.stack)) {
                    if !breaks.contains(op) {
                        breaks.push(*op);
                    }
                }
            }
            breaks.sort();
            findings.push(
                RULE.finding(
                    Resource::security_group(id),
                    format!(
                        "security group {id} ({name}, made by: {made_by}) has rules naming eksctl's group {}: EC2 refuses to delete a group another group references",
                        labels.join(", ")
                    ),
                )
                .with_breaks(&breaks)
                .with_expected(Evidence::live(SOURCE, json!("no rule outside eksctl's stacks naming eksctl's groups")))
                .with_actual(Evidence::live(SOURCE, json!({"groupId": id, "groupName": name, "names": named})))
                .with_impact("CloudFormation cannot delete the referenced group: the stack ends in DELETE_FAILED (DependencyViolation)")
                .with_remediation(
                    "remove the rules that name eksctl's groups (or delete the outside group), then delete again",
                    vec![
                        Cmd::new("aws ec2 describe-security-group-rules")
                            .opt("--filters", format!("Name=group-id,Values={id}"))
                            .region(ctx)
                            .done(),
                        Cmd::new("aws ec2 revoke-security-group-ingress")
                            .opt("--group-id", id)
                            .word("--security-group-rule-ids")
                            .word("RULE_ID")
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
            continue;
        }
        if let Some(vpc) = vpc
            && g.vpc_id.as_deref() == Some(vpc)
            && name != "default"
        {
            findings.push(
                RULE.finding(
                    Resource::security_group(id),
                    format!(
                        "security group {id} ({name}, made by: {made_by}) sits in eksctl's VPC {vpc} and eksctl did not make it: the VPC cannot be deleted while it exists"
                    ),
                )
                .with_severity(Severity::Error)
                .with_breaks(&[Operation::DeleteCluster])
                .with_expected(Evidence::live(SOURCE, json!(format!("only eksctl's, EKS's and Kubernetes' groups in {vpc}"))))
                .with_actual(Evidence::live(SOURCE, json!({"groupId": id, "groupName": name, "vpc": vpc})))
                .with_impact("CloudFormation cannot delete the VPC: the cluster stack ends in DELETE_FAILED (DependencyViolation)")
                .with_remediation(
                    "delete the group (after whatever uses it) through whatever made it, then run eksctl delete cluster",
                    vec![
                        Cmd::new("aws ec2 delete-security-group")
                            .opt("--group-id", id)
                            .region(ctx)
                            .done(),
                    ],
                ),
            );
        }
    }
    Ok(findings)
}
