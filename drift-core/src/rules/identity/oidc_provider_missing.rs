use crate::report::{Evidence, Resource, src};
use crate::rules::remedy::Cmd;
use crate::rules::context::ROLE_OUTPUT;
use crate::rules::{Checked, Context};
use crate::snapshot::{Stack, tags};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// When the cluster has eksctl IRSA stacks (`addon-iamserviceaccount-…`, or addon stacks
    /// with a role), the account has an IAM OIDC provider for the cluster's issuer
    /// (`identity.oidc.issuer`; the provider ARN ends in `oidc-provider/<issuer without
    /// https://>`). Needs `list-open-id-connect-providers.json`.
    ///
    /// Only stacks whose pods still need the provider count: a role that still trusts a web
    /// identity (with `list-roles.json`), else a stack that still carries eksctl's
    /// `alpha.eksctl.io/iamserviceaccount-name` tag. `eksctl utils migrate-to-pod-identity` keeps
    /// the stack names but removes the trust and swaps the tag
    /// (`pkg/actions/podidentityassociation/tasks.go`, `addon_migrator.go`): such stacks do
    /// not rely on the provider, and deleting the unused provider afterwards is no drift.
    ///
    /// ## Why it matters
    ///
    /// Every IRSA role trusts that provider: without it, `AssumeRoleWithWebIdentity` fails and
    /// every pod using such a role gets `InvalidIdentityToken`/`AccessDenied`. `eksctl create
    /// iamserviceaccount` refuses to run ("unable to create iamserviceaccount(s) without IAM
    /// OIDC provider enabled").
    ///
    /// ## How to fix
    ///
    /// Associate the provider again (`eksctl utils associate-iam-oidc-provider --approve`); the
    /// roles' trust policies name it by ARN, which is the same for the same issuer.
    code: "EKD601",
    slug: "oidc-provider-missing",
    severity: Error,
    since: "0.1.0",
    summary: "the cluster's OIDC issuer has no IAM OIDC provider while eksctl IRSA stacks exist: every IRSA role fails",
    breaks: [CreateIamserviceaccount],
    inputs: [DescribeStacks, DescribeCluster, ListOpenIdConnectProviders],
}

/// True when the stack's pods still need the OIDC provider: its role still trusts a web
/// identity, or — without the role's data — the stack still carries eksctl's iamserviceaccount
/// tag. `eksctl utils migrate-to-pod-identity` removes both (`--remove-oidc-provider-trust-
/// relationship`, always for addons) and keeps the stack's name.
fn relies_on_provider(ctx: &Context<'_>, stack: &Stack) -> bool {
    let role = stack
        .output(ROLE_OUTPUT)
        .and_then(|arn| ctx.role(arn.trim()));
    match role.and_then(crate::snapshot::Role::trust_policy) {
        Some(policy) => trusts_web_identity(&policy),
        None => stack.tag(tags::IAMSERVICEACCOUNT_NAME).is_some(),
    }
}

/// A trust policy with an `Allow` statement for `sts:AssumeRoleWithWebIdentity` or a
/// `Federated` principal.
fn trusts_web_identity(policy: &serde_json::Value) -> bool {
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    statements.iter().any(|st| {
        let allows = st["Effect"].as_str().is_none_or(|e| e == "Allow");
        let action = match &st["Action"] {
            serde_json::Value::String(a) => a.contains("AssumeRoleWithWebIdentity"),
            serde_json::Value::Array(a) => a
                .iter()
                .any(|a| a.as_str().is_some_and(|a| a.contains("AssumeRoleWithWebIdentity"))),
            _ => false,
        };
        allows && (action || !st["Principal"]["Federated"].is_null())
    })
}

fn check(ctx: &Context<'_>) -> Checked {
    let irsa: Vec<&Stack> = ctx
        .irsa_stacks()
        .into_iter()
        .filter(|s| relies_on_provider(ctx, s))
        .collect();
    if irsa.is_empty() {
        return Ok(Vec::new());
    }
    let oidc = ctx.oidc_provider()?;
    if oidc.exists {
        return Ok(Vec::new());
    }
    let (issuer, suffix, providers) = (oidc.issuer, oidc.suffix, oidc.providers);
    let names: Vec<&str> = irsa.iter().map(|s| s.stack_name.as_str()).collect();
    Ok(vec![
        RULE.finding(
            Resource::cluster(ctx.cluster),
            format!(
                "no IAM OIDC provider for issuer {issuer}, which {} IRSA stack(s) of the cluster rely on",
                names.len()
            ),
        )
        .with_expected(Evidence::live(src::OIDC_PROVIDERS, format!("arn:…{suffix}")))
        .with_actual(Evidence::live(src::OIDC_PROVIDERS, providers.to_vec()))
        .with_impact(
            "every IRSA role fails (pods get InvalidIdentityToken or AccessDenied), and eksctl create iamserviceaccount refuses to run",
        )
        .with_remediation(
            "associate the cluster's OIDC provider again",
            vec![
                Cmd::new("eksctl utils associate-iam-oidc-provider")
                    .opt("--cluster", &ctx.cluster.name)
                    .word("--approve")
                    .region(ctx)
                    .done(),
            ],
        ),
    ])
}
