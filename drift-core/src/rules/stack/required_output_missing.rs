use crate::rules::{Checked, Context};
use crate::report::{Operation, src};
use crate::report::{Evidence, Resource, Severity};
use crate::snapshot::outputs;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The cluster stack lacks an output eksctl needs: `VPC`, `SecurityGroup` or
    /// `SharedNodeSecurityGroup` (error), or `ClusterSecurityGroupId` (warning, older stacks lack it).
    ///
    /// ## Why it matters
    ///
    /// eksctl loads these outputs for every nodegroup, Fargate and upgrade command and imports them
    /// into nodegroup stacks; without them those commands fail.
    ///
    /// ## How to fix
    ///
    /// Recent eksctl versions add missing outputs whenever they update the stack. Otherwise add the
    /// output with a reviewed change set; the finding shows the live value to use.
    code: "EKD104",
    slug: "required-output-missing",
    severity: Error,
    since: "0.1.0",
    summary: "`VPC`, `SecurityGroup` or `SharedNodeSecurityGroup` absent (error); `ClusterSecurityGroupId` absent (warning)",
    breaks: [CreateNodegroup, CreateFargateprofile, UpgradeCluster, DeleteCluster],
    inputs: [DescribeStacks, DescribeCluster],
}

/// Output key, severity when absent, what breaks, and the live value to put back.
const REQUIRED: &[(&str, Severity, &str)] = &[
    (
        outputs::VPC,
        Severity::Error,
        "every eksctl command that loads the cluster (create nodegroup, create fargateprofile, upgrade, delete) fails to read the VPC",
    ),
    (
        outputs::SECURITY_GROUP,
        Severity::Error,
        "eksctl create nodegroup cannot import the control-plane security group into the nodegroup stack",
    ),
    (
        outputs::SHARED_NODE_SECURITY_GROUP,
        Severity::Error,
        "eksctl create nodegroup fails its compatibility check and cannot import the shared node security group",
    ),
    (
        outputs::CLUSTER_SECURITY_GROUP_ID,
        Severity::Warning,
        "managed nodegroup launch templates cannot import the cluster security group; eksctl versions that expect it fail",
    ),
];

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let live = &ctx.cluster.resources_vpc_config;
    let findings = REQUIRED
        .iter()
        .filter(|(key, _, _)| stack.output(key).is_none())
        .map(|(key, severity, impact)| {
            let live_value = match *key {
                outputs::VPC => live.vpc_id.clone(),
                outputs::CLUSTER_SECURITY_GROUP_ID => live.cluster_security_group_id.clone(),
                outputs::SECURITY_GROUP => live.security_group_ids.first().cloned(),
                _ => None,
            };
            let actual = match &live_value {
                Some(v) => Evidence::live(src::CLUSTER, v.clone()),
                None => Evidence::live(src::STACKS, serde_json::Value::Null),
            };
            RULE.finding(
                Resource::stack(stack),
                format!("cluster stack {} has no {key} output", stack.stack_name),
            )
            .with_severity(*severity)
            .with_breaks(if *key == outputs::VPC {
                RULE.breaks
            } else {
                &[Operation::CreateNodegroup]
            })
            .with_expected(Evidence::output(stack, key))
            .with_actual(actual)
            .with_impact(*impact)
            .with_remediation(
                format!(
                    "add the {key} output with a reviewed change set; `eksctl utils update-cluster-stack` or any eksctl stack update adds missing outputs in recent eksctl"
                ),
                match live_value {
                    Some(v) => vec![
                        crate::rules::remedy::Script::new()
                            .comment(format!("the live value for {key} is {v}"))
                            .done(),
                    ],
                    None => Vec::new(),
                },
            )
        })
        .collect();
    Ok(findings)
}
