use crate::report::{Evidence, Operation, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::{outputs, role_key};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The IAM roles the cluster stack's outputs name still exist: `ServiceRoleARN` (the
    /// cluster's own role) and `FargatePodExecutionRoleARN` (the default pod execution role of
    /// Fargate profiles). Needs `list-roles.json`.
    ///
    /// ## Why it matters
    ///
    /// `eksctl create fargateprofile` without `iam.fargatePodExecutionRoleARN` reads the role
    /// back from the cluster stack's output (`RefreshFargatePodExecutionRoleARN`,
    /// `pkg/actions/fargate/create.go`) and passes it to `CreateFargateProfile`, which refuses a
    /// role that does not exist. Without its service role, EKS cannot act for the cluster (the
    /// network interfaces and load balancers it manages) and reports it unhealthy.
    ///
    /// ## How to fix
    ///
    /// For the Fargate role, give the ClusterConfig an existing role
    /// (`iam.fargatePodExecutionRoleARN`) or recreate a role of that name with the
    /// `AmazonEKSFargatePodExecutionRolePolicy` policy and the `eks-fargate-pods.amazonaws.com`
    /// trust. For the service role, recreate it with the same name, its trust of
    /// `eks.amazonaws.com` and `AmazonEKSClusterPolicy`.
    code: "EKD608",
    slug: "cluster-stack-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "a role the cluster stack's outputs name (service role, Fargate pod execution role) no longer exists",
    breaks: [CreateFargateprofile],
    inputs: [DescribeStacks, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    let stack = ctx.stack()?;
    let named: Vec<(&str, &str)> = [
        (outputs::SERVICE_ROLE_ARN, stack.service_role_arn()),
        (
            outputs::FARGATE_POD_EXECUTION_ROLE_ARN,
            stack.fargate_pod_execution_role_arn(),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v.trim())))
    .filter(|(_, v)| role_key(v).is_some())
    .collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let mut findings = Vec::new();
    for (key, arn) in named {
        if ctx.role(arn).is_some() {
            continue;
        }
        let fargate = key == outputs::FARGATE_POD_EXECUTION_ROLE_ARN;
        let role = arn.rsplit('/').next().unwrap_or(arn);
        findings.push(
            RULE.finding(
                Resource::new("AWS::IAM::Role", arn),
                format!(
                    "role {arn} ({key} of stack {}) no longer exists",
                    stack.stack_name
                ),
            )
            .with_breaks(if fargate {
                &[Operation::CreateFargateprofile]
            } else {
                &[]
            })
            .with_expected(Evidence::output(stack, key))
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact(if fargate {
                "eksctl create fargateprofile passes this role to CreateFargateProfile, which refuses it"
            } else {
                "EKS cannot assume the cluster's role: it cannot manage the cluster's network interfaces and load balancers, and reports the cluster unhealthy"
            })
            .with_remediation(
                if fargate {
                    "give the ClusterConfig an existing role (iam.fargatePodExecutionRoleARN), or recreate this role with AmazonEKSFargatePodExecutionRolePolicy and the eks-fargate-pods.amazonaws.com trust"
                } else {
                    "recreate the role with the same name, trusting eks.amazonaws.com, with AmazonEKSClusterPolicy attached"
                },
                vec![
                    Cmd::new("aws iam get-role")
                        .opt("--role-name", role)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
