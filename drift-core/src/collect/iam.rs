//! IAM reads, once per run (IAM is global): the account's OIDC providers and its roles, each
//! only when a selected rule needs it.

use std::collections::BTreeSet;

use super::error::{CallError, classify};
use super::map;
use super::paginate::paginate;
use crate::input::Input;
use crate::snapshot::{Role, Snapshot, role_key};

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
