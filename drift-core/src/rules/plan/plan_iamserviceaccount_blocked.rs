use serde_json::json;

use crate::report::{Evidence, Operation, Resource, Severity, src};
use crate::rules::planning;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// For `audit -f cluster.yaml --for create-iamserviceaccount`, in eksctl's order
    /// (`pkg/ctl/create/iamserviceaccount.go`):
    ///
    /// - the cluster's IAM OIDC provider exists (eksctl refuses every iamserviceaccount
    ///   without it: "unable to create iamserviceaccount(s) without IAM OIDC provider
    ///   enabled");
    /// - for each service account the filter keeps (`--include`/`--exclude` on
    ///   `namespace/name`): no stack `eksctl-<cluster>-addon-iamserviceaccount-<ns>-<name>`
    ///   exists. eksctl **excludes** every service account whose stack is listed, in any state
    ///   but `DELETE_COMPLETE` (`SetExcludeExistingFilter`): a failed stack makes the command
    ///   succeed while creating nothing (error); a healthy one is skipped as you may intend
    ///   (info);
    /// - a `roleName` the file fixes is not taken by an existing role (CloudFormation refuses
    ///   to create a role whose name exists);
    /// - each customer-managed policy of `attachPolicyARNs` exists (`iam:GetPolicy`;
    ///   AWS-managed ones always do).
    ///
    /// ## Why it matters
    ///
    /// Each case is a service account whose role never arrives, and pods that then fail on
    /// `AccessDenied`.
    ///
    /// ## How to fix
    ///
    /// `eksctl utils associate-iam-oidc-provider --approve`; delete the failed stack; pick
    /// another `roleName`, or reuse the role with `attachRoleARN`.
    code: "EKD907",
    slug: "plan-iamserviceaccount-blocked",
    severity: Error,
    since: "0.1.0",
    summary: "an iamserviceaccount of the ClusterConfig cannot be created: no OIDC provider, a failed stack of that name, or a role name taken",
    breaks: [CreateIamserviceaccount],
    inputs: [DescribeStacks, DescribeCluster, ListOpenIdConnectProviders, ListRoles, GetPolicies],
}

fn check(ctx: &Context<'_>) -> Checked {
    let Some(plan) = planning::plan_for(ctx, &[Operation::CreateIamserviceaccount]) else {
        return Ok(Vec::new());
    };
    let accounts: Vec<_> = plan
        .config
        .iam
        .iter()
        .flat_map(|i| &i.service_accounts)
        .filter(|sa| plan.keeps(&sa.id()))
        .collect();
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let cluster = &ctx.cluster.name;
    let file = crate::text::inline(&plan.source).into_owned();
    let mut findings = Vec::new();
    let oidc = ctx.oidc_provider()?;
    let (issuer, providers) = (oidc.issuer, oidc.providers);
    if !oidc.exists {
        findings.push(
            RULE.finding(
                Resource::cluster(ctx.cluster),
                format!(
                    "{file} plans {} iamserviceaccount(s), but the cluster has no IAM OIDC provider for {issuer}",
                    accounts.len()
                ),
            )
            .with_expected(Evidence::live(src::CLUSTER, json!(issuer)))
            .with_actual(Evidence::live("iam:ListOpenIDConnectProviders", json!(providers)))
            .with_impact("eksctl create iamserviceaccount refuses every service account: \"unable to create iamserviceaccount(s) without IAM OIDC provider enabled\"")
            .with_remediation(
                "associate the cluster's OIDC provider, then create the service accounts",
                vec![Cmd::new("eksctl utils associate-iam-oidc-provider")
                    .opt("--cluster", cluster)
                    .region(ctx)
                    .word("--approve")
                    .done()],
            ),
        );
    }
    for sa in accounts {
        let id = crate::text::inline(&sa.id()).into_owned();
        let ns = sa.metadata.namespace.as_deref().unwrap_or("default");
        let stack_name = format!(
            "eksctl-{cluster}-addon-iamserviceaccount-{ns}-{}",
            sa.metadata.name
        );
        if let Some(stack) = ctx
            .snapshot
            .stacks
            .iter()
            .find(|s| s.stack_name == stack_name && s.stack_status != "DELETE_COMPLETE")
        {
            let status = stack.stack_status.as_str();
            let failed = planning::FAILED_STACK_STATES.contains(&status);
            findings.push(
                RULE.finding(
                    Resource::new("eksctl::IAMServiceAccount", &id),
                    format!(
                        "iamserviceaccount {id} of {file} is taken by stack {stack_name} ({}): eksctl will not create it",
                        crate::text::inline(status)
                    ),
                )
                .with_severity(if failed { Severity::Error } else { Severity::Info })
                .with_breaks(if failed { &[Operation::CreateIamserviceaccount] } else { &[] })
                .with_expected(Evidence::live(src::STACKS, json!(format!("no stack {stack_name}"))))
                .with_actual(Evidence::stack(stack, json!(status)))
                .with_impact(if failed {
                    "eksctl excludes the service account as existing: the command succeeds and its role is never made"
                } else {
                    "the service account exists: eksctl skips it"
                })
                .with_remediation(
                    if failed {
                        "delete the failed stack, then create the service account"
                    } else {
                        "nothing to do if it is meant to stay"
                    },
                    if failed {
                        vec![Cmd::new("eksctl delete iamserviceaccount")
                            .opt("--cluster", cluster)
                            .opt("--namespace", ns)
                            .opt("--name", &sa.metadata.name)
                            .region(ctx)
                            .done()]
                    } else {
                        Vec::new()
                    },
                ),
            );
            continue;
        }
        let mut policy_unread = false;
        for policy in sa
            .attach_policy_arns
            .iter()
            .map(|p| p.trim())
            .filter(|p| crate::config::is_customer_policy(p))
        {
            match &ctx.snapshot.policies {
                None => policy_unread = true,
                Some(found) if found.iter().any(|f| f == policy) => {}
                Some(_) => findings.push(
                    RULE.finding(
                        Resource::new("AWS::IAM::ManagedPolicy", policy),
                        format!(
                            "iamserviceaccount {id} of {file} attaches policy {}, which does not exist",
                            crate::text::inline(policy)
                        ),
                    )
                    .with_expected(Evidence::live("ClusterConfig", json!(policy)))
                    .with_actual(Evidence::live("iam:GetPolicy", serde_json::Value::Null))
                    .with_impact("the service account's stack fails: IAM cannot attach a policy that does not exist")
                    .with_remediation("point attachPolicyARNs at policies that exist", Vec::new()),
                ),
            }
        }
        if policy_unread {
            return Err(Skip(
                "whether the file's customer-managed policies exist is unknown (get-policy.json absent): capture with -f FILE, or audit live".to_owned(),
            ));
        }
        let Some(role) = sa
            .role_name
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty() && sa.attach_role_arn.is_none())
        else {
            continue;
        };
        let Some(roles) = &ctx.snapshot.roles else {
            return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
        };
        if let Some(taken) = roles.iter().find(|r| r.role_name == role) {
            findings.push(
                RULE.finding(
                    Resource::new("AWS::IAM::Role", &taken.arn),
                    format!(
                        "iamserviceaccount {id} of {file} asks for roleName {}, which an existing role has",
                        crate::text::inline(role)
                    ),
                )
                .with_expected(Evidence::live("ClusterConfig", json!(role)))
                .with_actual(Evidence::live(src::ROLES, json!(taken.arn)))
                .with_impact("the service account's stack fails: CloudFormation cannot create a role whose name exists")
                .with_remediation(
                    "pick another roleName, or reuse the role with attachRoleARN",
                    Vec::new(),
                ),
            );
        }
    }
    Ok(findings)
}
