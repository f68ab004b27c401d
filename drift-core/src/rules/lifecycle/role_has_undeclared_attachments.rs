use serde_json::{Value, json};

use crate::report::{Evidence, Resource};
use crate::rules::deletion::{eksctl_stacks, stack_breaks, stack_label};
use crate::rules::remedy::Cmd;
use crate::rules::{Checked, Context, Skip};
use crate::snapshot::Stack;

crate::rules::declare_rule! {
    /// ## What it checks
    ///
    /// Every IAM role an eksctl stack of the cluster made (an `AWS::IAM::Role` of its template
    /// whose ARN an output gives: the cluster's service and Fargate roles, each nodegroup's
    /// instance role, each iamserviceaccount's, addon's, pod identity's and Karpenter's role)
    /// carries only what the template declares: the role's `ManagedPolicyArns` and `Policies`,
    /// and the stack's `AWS::IAM::ManagedPolicy`, `AWS::IAM::Policy` and
    /// `AWS::IAM::InstanceProfile` resources that name it. The `eks-<uuid>` instance profile
    /// EKS makes for each managed nodegroup is EKS's and deleted with the nodegroup. A
    /// declared policy the template gives through a parameter or an import cannot be told apart
    /// from an extra one: such a role's managed policies are not judged. Read only with `--for
    /// delete-cluster` / `--for delete-nodegroup` and by `capture` (three IAM calls per role and
    /// one `GetTemplate` per stack); offline, `list-attached-role-policies/`,
    /// `list-role-policies/`, `list-instance-profiles-for-role/` and `get-template/`.
    ///
    /// ## Why it matters
    ///
    /// IAM refuses to delete a role that still has a managed policy attached, an inline policy,
    /// or an instance profile: CloudFormation's delete of the role fails with `DeleteConflict`
    /// and the stack ends in `DELETE_FAILED` (eksctl #4318, #5430, #3705). A policy attached by
    /// hand (for S3 access, SSM, CloudWatch) or an instance profile Karpenter made for the node
    /// role are the usual causes. On a nodegroup's role it stops `eksctl delete nodegroup` too.
    ///
    /// ## How to fix
    ///
    /// Detach the extra managed policies, delete the extra inline ones and take the role out of
    /// the extra instance profiles (the commands are in the finding), or add them to the
    /// ClusterConfig (`iam.attachPolicyARNs`, `attachPolicy`) for the next cluster; then delete.
    code: "EKD709",
    slug: "role-has-undeclared-attachments",
    severity: Error,
    since: "0.1.0",
    summary: "a role an eksctl stack made has policies or instance profiles its template does not declare: deleting it fails with DeleteConflict",
    breaks: [DeleteCluster, DeleteNodegroup],
    inputs: [DescribeStacks, DescribeCluster, GetTemplate, ListRoleAttachments],
}

/// What a template declares for one role.
#[derive(Default)]
struct Declared {
    /// Patterns (`*` matches anything) of the managed policy ARNs.
    managed_arns: Vec<String>,
    /// Prefixes or names of the managed policies the stack itself makes.
    managed_names: Vec<String>,
    /// A managed policy given by a parameter or an import: extras cannot be told apart.
    managed_unknown: bool,
    /// Patterns of the inline policy names.
    inline: Vec<String>,
    /// Prefixes or names of the instance profiles the stack makes.
    profiles: Vec<String>,
}

fn check(ctx: &Context<'_>) -> Checked {
    let snapshot = ctx.snapshot;
    // No eksctl stack of the cluster gives a role's ARN: no role of eksctl's to check.
    if !eksctl_stacks(ctx)
        .iter()
        .any(|s| s.outputs.iter().any(|o| o.output_value.contains(":role/")))
    {
        return Ok(Vec::new());
    }
    let Some(attachments) = &snapshot.role_attachments else {
        return Err(Skip(
            "what is attached to eksctl's roles is unknown: live, it is read only with --for delete-cluster or --for delete-nodegroup (and by capture); offline, list-attached-role-policies/ is absent".to_owned(),
        ));
    };
    let Some(templates) = &snapshot.role_stack_templates else {
        return Err(Skip(
            "the templates of eksctl's stacks are unknown (get-template/ absent)".to_owned(),
        ));
    };
    let mut findings = Vec::new();
    for stack in eksctl_stacks(ctx) {
        let template = templates.get(&stack.stack_name).or_else(|| {
            (ctx.discovery.stack.map(|s| s.stack_name.as_str()) == Some(stack.stack_name.as_str()))
                .then_some(snapshot.template.as_ref())
                .flatten()
        });
        let Some(template) = template else { continue };
        for (logical, arn) in stack_roles(template, stack) {
            let Some(role) = arn.rsplit('/').next().filter(|r| !r.is_empty()) else {
                continue;
            };
            let Some(live) = attachments.get(role) else {
                continue;
            };
            let declared = declared(template, &logical, &stack.stack_name);
            let managed: Vec<&str> = if declared.managed_unknown {
                Vec::new()
            } else {
                live.attached_policies
                    .iter()
                    .filter(|p| {
                        !declared.managed_arns.iter().any(|pat| glob(pat, &p.policy_arn))
                            && !declared.managed_names.iter().any(|n| p.policy_name.starts_with(n.as_str()))
                    })
                    .map(|p| p.policy_arn.as_str())
                    .collect()
            };
            let inline: Vec<&str> = live
                .inline_policies
                .iter()
                .filter(|p| !declared.inline.iter().any(|pat| glob(pat, p)))
                .map(String::as_str)
                .collect();
            let profiles: Vec<&str> = live
                .instance_profiles
                .iter()
                .map(|p| p.instance_profile_name.as_str())
                .filter(|p| !is_eks_profile(p))
                .filter(|p| !declared.profiles.iter().any(|n| p.starts_with(n.as_str())))
                .collect();
            if managed.is_empty() && inline.is_empty() && profiles.is_empty() {
                continue;
            }
            let mut extras = Vec::new();
            let mut commands = Vec::new();
            for a in &managed {
                extras.push(format!("managed policy {a}"));
                commands.push(
                    Cmd::new("aws iam detach-role-policy")
                        .opt("--role-name", role)
                        .opt("--policy-arn", a)
                        .done(),
                );
            }
            for p in &inline {
                extras.push(format!("inline policy {p}"));
                commands.push(
                    Cmd::new("aws iam delete-role-policy")
                        .opt("--role-name", role)
                        .opt("--policy-name", p)
                        .done(),
                );
            }
            for p in &profiles {
                let karpenter = karpenter_profile(p, &ctx.cluster.name);
                extras.push(if karpenter {
                    format!("instance profile {p} (Karpenter's, for an EC2NodeClass)")
                } else {
                    format!("instance profile {p}")
                });
                commands.push(
                    Cmd::new("aws iam remove-role-from-instance-profile")
                        .opt("--instance-profile-name", p)
                        .opt("--role-name", role)
                        .done(),
                );
            }
            findings.push(
                RULE.finding(
                    Resource::new("AWS::IAM::Role", role),
                    format!(
                        "role {role} of {} carries what its template does not declare: {}; IAM refuses to delete it (DeleteConflict)",
                        stack_label(ctx, stack),
                        extras.join(", ")
                    ),
                )
                .with_breaks(stack_breaks(ctx, Some(stack)))
                .with_expected(Evidence::stack(stack, json!("only what the stack's template declares")))
                .with_actual(Evidence::live(
                    "iam:ListAttachedRolePolicies",
                    json!({"role": role, "managedPolicies": managed, "inlinePolicies": inline, "instanceProfiles": profiles}),
                ))
                .with_impact("CloudFormation cannot delete the role: the stack ends in DELETE_FAILED with DeleteConflict")
                .with_remediation(
                    "detach and delete what the template does not declare (or declare it in the ClusterConfig for the next cluster), then delete",
                    commands,
                ),
            );
        }
    }
    Ok(findings)
}

/// The roles a template makes whose ARN an output gives, with the output's live value.
fn stack_roles(template: &Value, stack: &Stack) -> Vec<(String, String)> {
    let resources = template.get("Resources").and_then(Value::as_object);
    let is_role = |id: &str| {
        resources
            .and_then(|r| r.get(id))
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            == Some("AWS::IAM::Role")
    };
    let mut out = Vec::new();
    for (key, output) in template
        .get("Outputs")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Some(get_att) = output.get("Value").and_then(|v| v.get("Fn::GetAtt")) else {
            continue;
        };
        let (id, attr) = match get_att {
            Value::Array(a) => (
                a.first().and_then(Value::as_str).unwrap_or_default(),
                a.get(1).and_then(Value::as_str).unwrap_or_default(),
            ),
            Value::String(s) => s.split_once('.').unwrap_or_default(),
            _ => continue,
        };
        if attr != "Arn" || !is_role(id) {
            continue;
        }
        if let Some(arn) = stack.output(key).filter(|a| a.contains(":role/")) {
            out.push((id.to_owned(), arn.to_owned()));
        }
    }
    out
}

/// True when `v` is `{"Ref": id}`.
fn refers_to(v: &Value, id: &str) -> bool {
    v.get("Ref").and_then(Value::as_str) == Some(id)
}

/// What the template declares for role `role` of stack `stack`.
fn declared(template: &Value, role: &str, stack: &str) -> Declared {
    let mut d = Declared::default();
    let resources = template.get("Resources").and_then(Value::as_object);
    let Some(resources) = resources else { return d };
    let generated = |logical: &str| {
        // CloudFormation names what it makes `<stack>-<logical ID>-<random>`, shortening both
        // parts when the whole is too long: the stack's first characters always lead.
        let prefix: String = format!("{stack}-{logical}").chars().take(20).collect();
        prefix
    };
    let props = |id: &str| resources.get(id).and_then(|r| r.get("Properties"));
    if let Some(p) = props(role) {
        for arn in p.get("ManagedPolicyArns").and_then(Value::as_array).into_iter().flatten() {
            if let Some(target) = arn.get("Ref").and_then(Value::as_str)
                && let Some(r) = resources.get(target)
            {
                if r.get("Type").and_then(Value::as_str) == Some("AWS::IAM::ManagedPolicy") {
                    d.managed_names.push(managed_policy_name(r, &generated(target), stack));
                } else {
                    d.managed_unknown = true;
                }
                continue;
            }
            match resolve(arn, stack) {
                Some(pattern) => d.managed_arns.push(pattern),
                None => d.managed_unknown = true,
            }
        }
        for policy in p.get("Policies").and_then(Value::as_array).into_iter().flatten() {
            d.inline.push(
                policy
                    .get("PolicyName")
                    .and_then(|n| resolve(n, stack))
                    .unwrap_or_else(|| "*".to_owned()),
            );
        }
    }
    for (id, r) in resources {
        let names_role = r
            .get("Properties")
            .and_then(|p| p.get("Roles"))
            .and_then(Value::as_array)
            .is_some_and(|roles| roles.iter().any(|v| refers_to(v, role)));
        if !names_role {
            continue;
        }
        match r.get("Type").and_then(Value::as_str) {
            Some("AWS::IAM::ManagedPolicy") => {
                d.managed_names.push(managed_policy_name(r, &generated(id), stack));
            }
            Some("AWS::IAM::Policy") => d.inline.push(
                r.get("Properties")
                    .and_then(|p| p.get("PolicyName"))
                    .and_then(|n| resolve(n, stack))
                    .unwrap_or_else(|| "*".to_owned()),
            ),
            Some("AWS::IAM::InstanceProfile") => d.profiles.push(
                r.get("Properties")
                    .and_then(|p| p.get("InstanceProfileName"))
                    .and_then(|n| resolve(n, stack))
                    .map_or_else(|| generated(id), |n| n.replace('*', "")),
            ),
            _ => {}
        }
    }
    d
}

/// The name (or generated prefix) of an `AWS::IAM::ManagedPolicy` resource.
fn managed_policy_name(r: &Value, generated: &str, stack: &str) -> String {
    r.get("Properties")
        .and_then(|p| p.get("ManagedPolicyName"))
        .and_then(|n| resolve(n, stack))
        .map_or_else(|| generated.to_owned(), |n| n.split('*').next().unwrap_or_default().to_owned())
}

/// A template string as a pattern (`*` where a value is known only at deploy time), or `None`
/// when it comes from a parameter, an import or anything else the template does not spell.
fn resolve(value: &Value, stack: &str) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(call) if call.len() == 1 => {
            let (function, arg) = call.iter().next()?;
            match function.as_str() {
                "Fn::Sub" => {
                    let text = match arg {
                        Value::String(s) => s.as_str(),
                        Value::Array(a) => a.first()?.as_str()?,
                        _ => return None,
                    };
                    Some(substitute(text, stack))
                }
                "Fn::Join" => {
                    let a = arg.as_array()?;
                    let sep = a.first()?.as_str()?;
                    let parts = a.get(1)?.as_array()?;
                    Some(
                        parts
                            .iter()
                            .map(|p| match p {
                                Value::String(s) => s.clone(),
                                p if refers_to(p, "AWS::StackName") => stack.to_owned(),
                                _ => "*".to_owned(),
                            })
                            .collect::<Vec<_>>()
                            .join(sep),
                    )
                }
                "Ref" if arg.as_str() == Some("AWS::StackName") => Some(stack.to_owned()),
                "Ref" if arg.as_str().is_some_and(|a| a.starts_with("AWS::")) => Some("*".to_owned()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `${AWS::StackName}` replaced, every other `${…}` a wildcard.
fn substitute(text: &str, stack: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        out.push_str(if name == "AWS::StackName" { stack } else { "*" });
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `*` matches any run of characters; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return text.len() >= pos + part.len() && text[pos..].ends_with(part);
        } else if let Some(found) = text[pos..].find(part) {
            pos += found + part.len();
        } else {
            return false;
        }
    }
    true
}

/// The instance profile EKS makes for a managed nodegroup: `eks-` and a UUID.
fn is_eks_profile(name: &str) -> bool {
    name.strip_prefix("eks-").is_some_and(|rest| {
        rest.len() == 36 && rest.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    })
}

/// Karpenter names the profiles it makes `<cluster>_<number>`.
fn karpenter_profile(name: &str, cluster: &str) -> bool {
    name.strip_prefix(cluster)
        .and_then(|r| r.strip_prefix('_'))
        .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_substitutions() {
        assert!(glob("arn:*:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"));
        assert!(!glob("arn:*:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonS3FullAccess"));
        assert!(glob("*", "anything"));
        assert_eq!(substitute("arn:${AWS::Partition}:iam::aws:policy/X", "s"), "arn:*:iam::aws:policy/X");
        assert_eq!(substitute("${AWS::StackName}-PolicyELB", "s"), "s-PolicyELB");
        assert!(is_eks_profile("eks-0ac6a2c5-6b7e-4a1b-9b0a-1c2d3e4f5a6b"));
        assert!(!is_eks_profile("eks-extra"));
        assert!(karpenter_profile("prod_1234567890", "prod"));
    }
}
