use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::is_resource_id;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For any plan (`audit -f cluster.yaml --for …`): the cluster-wide parts of the file
    /// against the cluster stack and the live cluster.
    ///
    /// - `vpc.subnets` naming a subnet that no longer exists: eksctl resolves the file's
    ///   subnets by ID and fails (`InvalidSubnetID.NotFound`): the seed case from the file's
    ///   side. Error, breaks `create-nodegroup`.
    /// - `vpc.id` differing from the stack's `VPC` output: warning only, since eksctl overwrites
    ///   it from the stack.
    /// - `metadata.version` differing from the live version, `accessConfig.authenticationMode`
    ///   differing from the live one: warning (the file no longer says what runs; a plan made
    ///   from it plans from stale values).
    /// - `iam.withOIDC: true` while the cluster has no IAM OIDC provider: warning.
    ///
    /// ## Why it matters
    ///
    /// A ClusterConfig kept in git goes stale the same way the stack's outputs do, and eksctl
    /// reads both.
    ///
    /// ## How to fix
    ///
    /// Update the file to what runs (the finding gives the live values).
    code: "EKD903",
    slug: "plan-config-disagrees",
    severity: Warning,
    since: "0.1.0",
    summary: "the ClusterConfig disagrees with the cluster stack or the live cluster (VPC, subnets, version, authentication mode)",
    breaks: [CreateNodegroup],
    inputs: [DescribeStacks, DescribeCluster, DescribeSubnets, ListOpenIdConnectProviders],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = ctx.snapshot.plan.as_ref() else {
        return Ok(Vec::new());
    };
    let config = &plan.config;
    let file = crate::text::inline(&plan.source).into_owned();
    let cluster = Resource::cluster(ctx.cluster);
    let mut findings = Vec::new();
    let mut unknown = Vec::new();
    if let Some(vpc) = &config.vpc {
        if let Some(subnets) = &vpc.subnets {
            for (kind, map) in [("private", &subnets.private), ("public", &subnets.public)] {
                for (name, spec) in map {
                    let Some(id) = spec.id.as_deref().map(str::trim) else {
                        continue;
                    };
                    // A create-cluster plan's subnets are EKD911's.
                    if !is_resource_id(id, "subnet")
                        || ctx.subnets.contains_key(id)
                        || plan.operation == crate::report::Operation::CreateCluster
                    {
                        continue;
                    }
                    if ctx.snapshot.source != "live" {
                        unknown.push(id.to_owned());
                        continue;
                    }
                    findings.push(
                        RULE.finding(
                            Resource::subnet(id),
                            format!(
                                "{file} names {kind} subnet {id} ({}) in vpc.subnets, which no longer exists",
                                crate::text::inline(name)
                            ),
                        )
                        .with_severity(Severity::Error)
                        .with_breaks(&[Operation::CreateNodegroup])
                        .with_expected(Evidence::live("ClusterConfig", json!(id)))
                        .with_actual(Evidence::live(src::SUBNETS, serde_json::Value::Null))
                        .with_impact("eksctl resolves the file's subnets by ID: eksctl create nodegroup fails with InvalidSubnetID.NotFound")
                        .with_remediation(
                            "replace the subnet in vpc.subnets with its live replacement (or drop vpc.subnets: eksctl reads them from the stack)",
                            Vec::new(),
                        ),
                    );
                }
            }
        }
        if let (Some(file_vpc), Ok(stack)) = (vpc.id.as_deref(), planning::stack(ctx))
            && let Some(stack_vpc) = stack.vpc().map(str::trim)
            && file_vpc.trim() != stack_vpc
        {
            findings.push(
                RULE.finding(
                    cluster.clone(),
                    format!(
                        "{file} says vpc.id {}, the cluster stack's VPC output says {stack_vpc}",
                        crate::text::inline(file_vpc)
                    ),
                )
                .with_breaks(&[])
                .with_expected(Evidence::output(stack, crate::snapshot::outputs::VPC))
                .with_actual(Evidence::live("ClusterConfig", json!(file_vpc)))
                .with_impact("eksctl overwrites vpc.id from the stack: the file is stale, nothing fails")
                .with_remediation("set vpc.id to the stack's VPC", Vec::new()),
            );
        }
    }
    let mut stale = |field: &str, file_value: Option<&str>, live: Option<&str>| {
        if let (Some(f), Some(l)) = (file_value, live)
            && f.trim() != l.trim()
        {
            findings.push(
                RULE.finding(
                    cluster.clone(),
                    format!(
                        "{file} says {field} {}, the live cluster runs {}",
                        crate::text::inline(f),
                        crate::text::inline(l)
                    ),
                )
                .with_breaks(&[])
                .with_expected(Evidence::live(src::CLUSTER, json!(l)))
                .with_actual(Evidence::live("ClusterConfig", json!(f)))
                .with_impact("the file no longer says what runs: what eksctl plans from it is planned from a stale value")
                .with_remediation(format!("set {field} to {} in the file", crate::text::inline(l)), Vec::new()),
            );
        }
    };
    stale(
        "metadata.version",
        config.metadata.version.as_deref(),
        ctx.cluster.version.as_deref(),
    );
    stale(
        "accessConfig.authenticationMode",
        config
            .access_config
            .as_ref()
            .and_then(|a| a.authentication_mode.as_deref()),
        ctx.cluster.authentication_mode(),
    );
    // iam.withOIDC: true, but the cluster's provider is gone (or was never made).
    if config.iam.as_ref().and_then(|i| i.with_oidc) == Some(true)
        && let Ok(oidc) = ctx.oidc_provider()
    {
        let (issuer, providers) = (oidc.issuer, oidc.providers);
        if !oidc.exists {
            findings.push(
                RULE.finding(
                    cluster.clone(),
                    format!("{file} says iam.withOIDC: true, but the cluster has no IAM OIDC provider for {issuer}"),
                )
                .with_breaks(&[])
                .with_expected(Evidence::live("ClusterConfig", json!(true)))
                .with_actual(Evidence::live("iam:ListOpenIDConnectProviders", json!(providers)))
                .with_impact("every IRSA role of the cluster fails to be assumed until the provider exists (see EKD601)")
                .with_remediation(
                    "associate the provider again",
                    vec![crate::rules::remedy::Cmd::new("eksctl utils associate-iam-oidc-provider")
                        .opt("--cluster", &ctx.cluster.name)
                        .region(ctx)
                        .word("--approve")
                        .done()],
                ),
            );
        }
    }
    if !unknown.is_empty() {
        return Err(Skip(format!(
            "the file's vpc.subnets name subnets the bundle's describe-subnets.json does not hold ({}): whether they exist is unknown; capture with -f FILE, or audit live",
            unknown.join(", ")
        )));
    }
    Ok(findings)
}
