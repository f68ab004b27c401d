use serde_json::Value;

use crate::report::{Evidence, Resource, src};
use crate::rules::context::ROLE_OUTPUT;
use crate::rules::remedy::recreate_iamserviceaccount;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::tags;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// The trust policy of each eksctl IRSA stack's role (`AssumeRolePolicyDocument` in
    /// `list-roles.json`; the API's URL-encoded form and the AWS CLI's decoded one are both
    /// read) lets the cluster's service account in: a statement for
    /// `sts:AssumeRoleWithWebIdentity` whose `Federated` principal is the OIDC provider of the
    /// cluster's current issuer, whose `<issuer>:sub` condition (when present) matches
    /// `system:serviceaccount:<namespace>:<name>` of an iamserviceaccount stack, and whose
    /// `<issuer>:aud` condition (when present) allows `sts.amazonaws.com`. The finding shows
    /// the statement that is wrong.
    ///
    /// ## Why it matters
    ///
    /// A cluster recreated under the same name gets a new issuer; a stack copied from another
    /// cluster trusts that cluster's issuer. The role then refuses the pods' tokens
    /// (`AccessDenied` on `AssumeRoleWithWebIdentity`), while eksctl sees the stack and
    /// reports nothing to do (eksctl #4941, #5368).
    ///
    /// ## How to fix
    ///
    /// Recreate the iamserviceaccount with eksctl (delete, then create): eksctl writes the
    /// trust policy for the current issuer.
    code: "EKD602",
    slug: "irsa-role-trusts-other-issuer",
    severity: Error,
    since: "0.1.0",
    summary: "an eksctl IRSA role trusts an OIDC provider or service account other than the cluster's",
    breaks: [],
    inputs: [DescribeStacks, DescribeCluster, ListRoles],
}

/// A string or a list of strings, as IAM policies write either.
fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `pattern` (with IAM's `*` and `?` wildcards when `like`) matches `value`.
fn matches(pattern: &str, value: &str, like: bool) -> bool {
    if like {
        crate::text::glob_match(pattern, value)
    } else {
        pattern == value
    }
}

/// The values a condition key is tested against, with whether the test is a `Like`.
/// The values the statement's conditions test `key` against: (value, a `…Like` pattern, a
/// negated operator such as `StringNotEquals` / `StringNotLike`).
fn condition_values<'a>(statement: &'a Value, key: &str) -> Vec<(&'a str, bool, bool)> {
    let mut out = Vec::new();
    if let Some(conditions) = statement.get("Condition").and_then(Value::as_object) {
        for (operator, tests) in conditions {
            let like = operator.contains("Like");
            let negated = operator.contains("Not");
            if let Some(values) = tests.as_object().and_then(|t| t.get(key)) {
                out.extend(strings(values).into_iter().map(|v| (v, like, negated)));
            }
        }
    }
    out
}

/// Why the conditions on `key` refuse `value`, if they do: no positive test lets it in, or a
/// negated one (`StringNotEquals`, `StringNotLike`) names it.
fn refused(tests: &[(&str, bool, bool)], value: &str) -> Option<String> {
    if let Some((p, _, _)) = tests
        .iter()
        .find(|(p, like, negated)| *negated && matches(p, value, *like))
    {
        return Some(format!("refuses {value} (a negated condition names {p})"));
    }
    let positive: Vec<&str> = tests
        .iter()
        .filter(|(_, _, negated)| !negated)
        .map(|(p, _, _)| *p)
        .collect();
    if !positive.is_empty()
        && !tests
            .iter()
            .any(|(p, like, negated)| !negated && matches(p, value, *like))
    {
        return Some(format!("lets in {} instead of {value}", positive.join(", ")));
    }
    None
}

/// What is wrong with the trust policy for `issuer_path` and the service account, if anything:
/// (the statement to show, why).
fn trust_problem(policy: &Value, issuer_path: &str, subject: Option<&str>) -> Option<(Value, String)> {
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let web_identity: Vec<&Value> = statements
        .into_iter()
        .filter(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|s| {
            s.get("Action")
                .is_some_and(|a| strings(a).contains(&"sts:AssumeRoleWithWebIdentity"))
        })
        .collect();
    let first = *web_identity.first()?;
    let suffix = format!(":oidc-provider/{issuer_path}");
    let Some(ours) = web_identity.iter().find(|s| {
        s.get("Principal")
            .and_then(|p| p.get("Federated"))
            .is_some_and(|f| strings(f).iter().any(|p| p.ends_with(&suffix)))
    }) else {
        let trusted: Vec<&str> = first
            .get("Principal")
            .and_then(|p| p.get("Federated"))
            .map(strings)
            .unwrap_or_default();
        return Some((
            first.clone(),
            format!(
                "trusts {} instead of the cluster's issuer {issuer_path}",
                trusted.join(", ")
            ),
        ));
    };
    if let Some(subject) = subject {
        let subs = condition_values(ours, &format!("{issuer_path}:sub"));
        if let Some(why) = refused(&subs, subject) {
            return Some(((*ours).clone(), why));
        }
    }
    let auds = condition_values(ours, &format!("{issuer_path}:aud"));
    if let Some(why) = refused(&auds, "sts.amazonaws.com") {
        return Some(((*ours).clone(), format!("for the audience: {why}")));
    }
    None
}

fn check(ctx: &Context<'_>) -> Checked {
    let stacks = ctx.irsa_stacks();
    if stacks.is_empty() {
        return Ok(Vec::new());
    }
    let Some(issuer) = ctx.cluster.oidc_issuer() else {
        return Err(Skip(
            "describe-cluster.json has no identity.oidc.issuer".to_owned(),
        ));
    };
    if ctx.snapshot.roles.is_none() {
        return Err(Skip("no IAM role data (list-roles.json absent)".to_owned()));
    }
    let issuer_path = issuer.trim_start_matches("https://");
    let mut findings = Vec::new();
    for stack in stacks {
        let Some(role) = stack
            .output(ROLE_OUTPUT)
            .and_then(|arn| ctx.role(arn.trim()))
        else {
            continue; // a missing role is EKD603's
        };
        let Some(policy) = role.trust_policy() else {
            continue;
        };
        let account = stack.tag(tags::IAMSERVICEACCOUNT_NAME).and_then(|a| a.split_once('/'));
        let subject = account.map(|(ns, sa)| format!("system:serviceaccount:{ns}:{sa}"));
        let Some((statement, why)) = trust_problem(&policy, issuer_path, subject.as_deref()) else {
            continue;
        };
        findings.push(
            RULE.finding(
                Resource::new("AWS::IAM::Role", &role.arn),
                format!("role {} of stack {} {why}", role.arn, stack.stack_name),
            )
            .with_expected(Evidence::live(src::CLUSTER, issuer.to_owned()))
            .with_actual(Evidence::live(src::ROLES, statement))
            .with_impact(
                "the role refuses the pods' tokens (AccessDenied on AssumeRoleWithWebIdentity), while eksctl create iamserviceaccount reports nothing to do",
            )
            .with_remediation(
                "recreate the iamserviceaccount with eksctl so that its role trusts the cluster's current issuer",
                vec![recreate_iamserviceaccount(ctx, stack)],
            ),
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PATH: &str = "oidc.eks.us-west-2.amazonaws.com/id/NEW";

    fn policy(provider: &str, sub: &str, like: bool) -> Value {
        let op = if like { "StringLike" } else { "StringEquals" };
        json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["sts:AssumeRoleWithWebIdentity"],
            "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{provider}")},
            "Condition": {op: {format!("{provider}:sub"): sub, format!("{provider}:aud"): "sts.amazonaws.com"}}
        }]})
    }

    #[test]
    fn the_issuer_the_subject_and_wildcards_are_compared() {
        let subject = "system:serviceaccount:kube-system:aws-node";
        let sa = Some(subject);
        assert!(trust_problem(&policy(PATH, subject, false), PATH, sa).is_none());
        assert!(trust_problem(&policy(PATH, "system:serviceaccount:kube-system:*", true), PATH, sa).is_none());
        let (_, why) = trust_problem(&policy("oidc.eks.us-west-2.amazonaws.com/id/OLD", subject, false), PATH, sa).unwrap();
        assert!(why.contains("instead of the cluster's issuer"), "{why}");
        let (_, why) = trust_problem(&policy(PATH, "system:serviceaccount:default:other", false), PATH, sa).unwrap();
        assert!(why.contains("lets in system:serviceaccount:default:other"), "{why}");
        // A role trusting a service principal only (pod identity) is not an IRSA trust.
        let service = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "pods.eks.amazonaws.com"}}]});
        assert!(trust_problem(&service, PATH, sa).is_none());
    }

    #[test]
    fn negated_operators_refuse_what_they_name() {
        let subject = "system:serviceaccount:kube-system:aws-node";
        let sa = Some(subject);
        for op in ["StringNotEquals", "StringNotLike"] {
            let value = if op == "StringNotLike" { "system:serviceaccount:kube-system:*" } else { subject };
            let p = json!({"Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{PATH}")},
                "Condition": {op: {format!("{PATH}:sub"): value}}
            }]});
            let (_, why) = trust_problem(&p, PATH, sa).expect(op);
            assert!(why.contains("refuses"), "{why}");
            // Naming another account only: this one is let in.
            let p = json!({"Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                "Principal": {"Federated": format!("arn:aws:iam::1:oidc-provider/{PATH}")},
                "Condition": {op: {format!("{PATH}:sub"): "system:serviceaccount:default:other"}}
            }]});
            assert!(trust_problem(&p, PATH, sa).is_none(), "{op}");
        }
    }
}
