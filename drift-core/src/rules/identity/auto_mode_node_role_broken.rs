use serde_json::json;

use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// A cluster with EKS Auto Mode (`computeConfig.enabled` in `DescribeCluster`): the node
    /// role it names (`computeConfig.nodeRoleArn`) still exists (`list-roles.json`) and still has
    /// its access entry (`list-access-entries.json`; EKS makes an `EC2` entry for it with
    /// `AmazonEKSAutoNodePolicy` when Auto Mode is enabled). The entry is not judged under
    /// `authenticationMode: CONFIG_MAP`, which Auto Mode does not allow anyway.
    ///
    /// ## Why it matters
    ///
    /// Auto Mode launches every node with this role. A deleted role stops all node launches
    /// (pods stay `Pending`); a deleted access entry lets the instances start but never join
    /// the cluster. eksctl makes this role in the cluster stack for `autoModeConfig` clusters,
    /// and nothing puts it back once it is deleted outside eksctl.
    ///
    /// ## How to fix
    ///
    /// Recreate the role with the same name (trusting `ec2.amazonaws.com`, with
    /// `AmazonEKSWorkerNodeMinimalPolicy` and `AmazonEC2ContainerRegistryPullOnly`), or give
    /// the entry back: `aws eks create-access-entry --type EC2` and `aws eks
    /// associate-access-policy` with `AmazonEKSAutoNodePolicy`.
    code: "EKD610",
    slug: "auto-mode-node-role-broken",
    severity: Error,
    since: "0.1.0",
    summary: "EKS Auto Mode's node role no longer exists or lost its access entry: Auto Mode nodes cannot launch or join",
    breaks: [],
    inputs: [DescribeCluster, ListRoles, ListAccessEntries],
}

/// The Auto Mode policy EKS associates with the node role's entry.
const AUTO_NODE_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy";

fn check(ctx: &Context<'_>) -> Checked {
    let compute = ctx.cluster.other.get("computeConfig");
    let enabled = compute
        .and_then(|c| c.get("enabled"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let Some(arn) = compute
        .and_then(|c| c.get("nodeRoleArn"))
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|a| enabled && role_key(a).is_some())
    else {
        return Ok(Vec::new());
    };
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let cluster = &ctx.cluster.name;
    let role = arn.rsplit('/').next().unwrap_or(arn);
    let expected = Evidence::live(src::CLUSTER, json!({"computeConfig.nodeRoleArn": arn}));
    if ctx.role(arn).is_none() {
        return Ok(vec![
            RULE.finding(
                Resource::new("AWS::IAM::Role", arn),
                format!("EKS Auto Mode's node role {arn} no longer exists"),
            )
            .with_expected(expected)
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact("Auto Mode cannot launch nodes: new pods stay Pending")
            .with_remediation(
                "recreate the role with the same name, trusting ec2.amazonaws.com, with AmazonEKSWorkerNodeMinimalPolicy and AmazonEC2ContainerRegistryPullOnly attached",
                vec![Cmd::new("aws iam get-role").opt("--role-name", role).done()],
            ),
        ]);
    }
    if ctx.cluster.authentication_mode() == Some("CONFIG_MAP") {
        return Ok(Vec::new());
    }
    let Some(entries) = &ctx.snapshot.access_entries else {
        return Err(Skip(
            "no access entry list (list-access-entries.json absent)".to_owned(),
        ));
    };
    if entries.iter().any(|e| role_key(e) == role_key(arn)) {
        return Ok(Vec::new());
    }
    Ok(vec![
        RULE.finding(
            Resource::new("AWS::IAM::Role", arn),
            format!("EKS Auto Mode's node role {arn} has no access entry"),
        )
        .with_expected(expected)
        .with_actual(Evidence::live("eks:ListAccessEntries", json!(entries)))
        .with_impact("instances Auto Mode launches cannot join the cluster: new pods stay Pending")
        .with_remediation(
            "give the node role its EC2 access entry and the AmazonEKSAutoNodePolicy access policy back",
            vec![
                Cmd::new("aws eks create-access-entry")
                    .opt("--cluster-name", cluster)
                    .opt("--principal-arn", arn)
                    .opt("--type", "EC2")
                    .region(ctx)
                    .done(),
                Cmd::new("aws eks associate-access-policy")
                    .opt("--cluster-name", cluster)
                    .opt("--principal-arn", arn)
                    .opt("--policy-arn", AUTO_NODE_POLICY)
                    .opt("--access-scope", "type=cluster")
                    .region(ctx)
                    .done(),
            ],
        ),
    ])
}
