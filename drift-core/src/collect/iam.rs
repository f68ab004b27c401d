//! IAM reads, once per run (IAM is global): the account's OIDC providers and its roles, each
//! only when a selected rule needs it.

use std::collections::BTreeSet;

use super::error::{CallError, classify};
use super::map;
use super::paginate::paginate;
use crate::input::Input;
use crate::snapshot::{AttachedPolicy, InstanceProfile, Role, RoleAttachments, Snapshot, role_key};

/// The account's IAM OIDC providers and roles (`ListRoles` with its trust policies, every
/// page); `None` for an input no selected rule needs.
pub(super) struct IamInputs {
    providers: Option<Result<Vec<String>, CallError>>,
    roles: Option<Result<Vec<Role>, CallError>>,
}

/// Reads what `inputs` asks for of IAM.
pub(super) async fn read(iam: &aws_sdk_iam::Client, inputs: &BTreeSet<Input>) -> IamInputs {
    let providers = async {
        if !inputs.contains(&Input::ListOpenIdConnectProviders) {
            return None;
        }
        Some(
            iam.list_open_id_connect_providers()
                .send()
                .await
                .map(|out| {
                    out.open_id_connect_provider_list()
                        .iter()
                        .filter_map(|p| p.arn().map(str::to_owned))
                        .collect()
                })
                .map_err(|e| classify("iam:ListOpenIDConnectProviders", &e)),
        )
    };
    let roles = async {
        if !inputs.contains(&Input::ListRoles) {
            return None;
        }
        Some(
            paginate("iam:ListRoles", |marker| async move {
                let page = iam
                    .list_roles()
                    .set_marker(marker)
                    .max_items(1000)
                    .send()
                    .await
                    .map_err(|e| classify("iam:ListRoles", &e))?;
                let next = if page.is_truncated() {
                    page.marker().map(str::to_owned)
                } else {
                    None
                };
                Ok((page.roles().iter().map(map::role).collect(), next))
            })
            .await,
        )
    };
    let (providers, roles) = tokio::join!(providers, roles);
    IamInputs { providers, roles }
}

/// Gives a snapshot the account's OIDC providers and the roles it names; a failed read fails
/// that input alone (nothing is reported deleted on half an answer). Returns the queries made.
pub(super) fn add(snapshot: &mut Snapshot, iam: &IamInputs) -> Vec<String> {
    let mut queries = Vec::new();
    match &iam.providers {
        Some(Ok(p)) => {
            snapshot.oidc_providers = Some(p.clone());
            queries.push("iam:ListOpenIDConnectProviders".to_owned());
        }
        Some(Err(e)) => {
            snapshot
                .failures
                .insert(Input::ListOpenIdConnectProviders, e.to_failure());
        }
        None => {}
    }
    match &iam.roles {
        Some(Ok(roles)) => {
            let wanted = wanted_roles(snapshot);
            let named: Vec<Role> = roles
                .iter()
                .filter(|r| role_key(&r.arn).is_some_and(|k| wanted.contains(&k)))
                .cloned()
                .collect();
            snapshot.roles = Some(named);
            queries.push("iam:ListRoles (every page)".to_owned());
        }
        Some(Err(e)) => {
            snapshot.failures.insert(Input::ListRoles, e.to_failure());
        }
        None => {}
    }
    queries
}

/// The roles a snapshot names, by (account, name): its identity stacks' `Role1`, its
/// nodegroups' roles, its access entries and pod identity associations.
fn wanted_roles(snapshot: &Snapshot) -> BTreeSet<(&str, &str)> {
    let mut arns: Vec<&str> = Vec::new();
    for stack in &snapshot.stacks {
        arns.extend(stack.output("Role1"));
        arns.extend(stack.output("InstanceRoleARN"));
    }
    arns.extend(
        snapshot
            .nodegroups
            .iter()
            .filter_map(|n| n.node_role.as_deref()),
    );
    arns.extend(snapshot.access_entries.iter().flatten().map(String::as_str));
    arns.extend(
        snapshot
            .pod_identity_details
            .iter()
            .filter_map(|a| a.role_arn.as_deref()),
    );
    arns.into_iter().filter_map(role_key).collect()
}

/// What is attached to one role: its managed policies, inline policy names and instance
/// profiles, every page of each.
pub(super) async fn role_attachments(
    iam: &aws_sdk_iam::Client,
    role: &str,
) -> Result<RoleAttachments, CallError> {
    let attached = paginate("iam:ListAttachedRolePolicies", |marker| async move {
        let page = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify("iam:ListAttachedRolePolicies", &e))?;
        let next = page
            .is_truncated()
            .then(|| page.marker().map(str::to_owned))
            .flatten();
        Ok((
            page.attached_policies()
                .iter()
                .map(|p| AttachedPolicy {
                    policy_name: p.policy_name().unwrap_or_default().to_owned(),
                    policy_arn: p.policy_arn().unwrap_or_default().to_owned(),
                })
                .collect::<Vec<_>>(),
            next,
        ))
    });
    let inline = paginate("iam:ListRolePolicies", |marker| async move {
        let page = iam
            .list_role_policies()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify("iam:ListRolePolicies", &e))?;
        let next = page
            .is_truncated()
            .then(|| page.marker().map(str::to_owned))
            .flatten();
        Ok((page.policy_names().to_vec(), next))
    });
    let profiles = paginate("iam:ListInstanceProfilesForRole", |marker| async move {
        let page = iam
            .list_instance_profiles_for_role()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| classify("iam:ListInstanceProfilesForRole", &e))?;
        let next = page
            .is_truncated()
            .then(|| page.marker().map(str::to_owned))
            .flatten();
        Ok((
            page.instance_profiles()
                .iter()
                .map(|p| InstanceProfile {
                    instance_profile_name: p.instance_profile_name().to_owned(),
                    arn: Some(p.arn().to_owned()),
                    tags: Vec::new(),
                })
                .collect::<Vec<_>>(),
            next,
        ))
    });
    let (attached, inline, profiles) = tokio::join!(attached, inline, profiles);
    Ok(RoleAttachments {
        attached_policies: attached?,
        inline_policies: inline?,
        instance_profiles: profiles?,
    })
}
