use crate::report::{Evidence, Resource, src};
use crate::rules::context::ROLE_OUTPUT;
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::role_key;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The IAM role each EKS addon's service account uses (`serviceAccountRoleArn` in
    /// `describe-addon/`) still exists (`list-roles.json`). A role an eksctl IRSA or addon stack
    /// made (its `Role1` output) is EKD603's and not repeated here.
    ///
    /// ## Why it matters
    ///
    /// The addon's pods get `AccessDenied`: `vpc-cni` cannot assign addresses (new pods stay
    /// pending), `aws-ebs-csi-driver` cannot attach volumes. `eksctl update addon` keeps the
    /// role it is given, so updating does not bring it back (eksctl #7902, #5438).
    ///
    /// ## How to fix
    ///
    /// Give the addon an existing role: `eksctl update addon --name A --service-account-role-arn
    /// ARN` (or recreate the role with the same name and trust).
    code: "EKD803",
    slug: "addon-role-missing",
    severity: Error,
    since: "0.1.0",
    summary: "an EKS addon's service account role no longer exists",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster, ListAddons, ListRoles],
}

fn check(ctx: &Context<'_>) -> Checked {
    if ctx.snapshot.addon_names.is_none() {
        return Err(Skip("no addon list (list-addons.json absent)".to_owned()));
    }
    let named: Vec<(&str, &str)> = ctx
        .snapshot
        .addons
        .iter()
        .filter_map(|a| {
            a.service_account_role_arn
                .as_deref()
                .map(|r| (a.addon_name.as_str(), r.trim()))
        })
        .filter(|(_, r)| role_key(r).is_some())
        .collect();
    if named.is_empty() {
        return Ok(Vec::new());
    }
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let stack_roles: Vec<&str> = ctx
        .irsa_stacks()
        .iter()
        .filter_map(|s| s.output(ROLE_OUTPUT).map(str::trim))
        .collect();
    let mut findings = Vec::new();
    for (addon, arn) in named {
        if ctx.role(arn).is_some() || stack_roles.contains(&arn) {
            continue;
        }
        findings.push(
            RULE.finding(
                Resource::new("AWS::IAM::Role", arn),
                format!("addon {addon} uses role {arn}, which no longer exists"),
            )
            .with_expected(Evidence::live("eks:DescribeAddon", arn.to_owned()))
            .with_actual(Evidence::live(src::ROLES, serde_json::Value::Null))
            .with_impact(
                "the addon's pods get AccessDenied (vpc-cni: new pods get no address; ebs-csi: volumes do not attach)",
            )
            .with_remediation(
                "give the addon an existing role (or recreate the role with the same name and trust)",
                vec![
                    Cmd::new("eksctl update addon")
                        .opt("--cluster", &ctx.cluster.name)
                        .opt("--name", addon)
                        .word("--service-account-role-arn")
                        .word("ROLE_ARN")
                        .region(ctx)
                        .done(),
                ],
            ),
        );
    }
    Ok(findings)
}
