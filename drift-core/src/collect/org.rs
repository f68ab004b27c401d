//! `--org`: the accounts of an AWS Organization, read from its management account or a
//! delegated administrator with `organizations:ListAccounts`, or, with `--ou`, with
//! `ListAccountsForParent` and `ListChildren` down every nested OU. Only active accounts are
//! audited: the account's `State` (and, where an older answer has only it, the retired
//! `Status`) must be `ACTIVE`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use aws_sdk_organizations::types::ChildType;

use super::error::{CallError, classify};
use super::guard::ReadOnlyGuard;
use super::paginate::paginate;
use super::{CollectError, Options, credentials};
use crate::report::OrgAccount;

/// What discovery found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Discovery {
    /// Active accounts in scope, not excluded: the ones to audit, by ID.
    pub accounts: Vec<OrgAccount>,
    /// Accounts in scope that are not active (not audited).
    pub inactive: Vec<OrgAccount>,
    /// Accounts in scope that `--exclude-account` left out.
    pub excluded: Vec<String>,
    /// The calls discovery made, per `service:Operation`.
    pub api_calls: BTreeMap<String, u64>,
}

fn account(a: &aws_sdk_organizations::types::Account) -> OrgAccount {
    let state = a
        .state()
        .map(|s| s.as_str().to_owned())
        .or_else(|| a.status().map(|s| s.as_str().to_owned()))
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    OrgAccount::new(
        a.id().unwrap_or_default().to_owned(),
        a.name().unwrap_or_default().to_owned(),
        state,
    )
}

fn org_error(e: CallError) -> CollectError {
    CollectError::Organizations(e)
}

/// The accounts of the organisation (of `ous` and the OUs nested in them, when given), minus
/// `exclude`, split into active and inactive.
pub async fn discover(
    opts: &Options,
    ous: &[String],
    exclude: &[String],
) -> Result<Discovery, CollectError> {
    let regions = credentials::resolve_regions(opts).await?;
    let base = credentials::resolve_credentials(opts).await?;
    let guard = ReadOnlyGuard::new();
    let config = credentials::sdk_config(&regions[0], opts, base).await;
    let client = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(&config)
            .interceptor(guard.clone())
            .build(),
    );
    let client = &client;
    let listed: Vec<OrgAccount> = if ous.is_empty() {
        paginate("organizations:ListAccounts", |token| async move {
            let page = client
                .list_accounts()
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("organizations:ListAccounts", &e))?;
            Ok((
                page.accounts().iter().map(account).collect::<Vec<_>>(),
                page.next_token().map(str::to_owned),
            ))
        })
        .await
        .map_err(org_error)?
    } else {
        let mut found = Vec::new();
        let mut queue: VecDeque<String> = ous.iter().cloned().collect();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        while let Some(parent) = queue.pop_front() {
            if !seen.insert(parent.clone()) {
                continue;
            }
            let parent = &parent;
            let accounts = paginate("organizations:ListAccountsForParent", |token| async move {
                let page = client
                    .list_accounts_for_parent()
                    .parent_id(parent)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify("organizations:ListAccountsForParent", &e))?;
                Ok((
                    page.accounts().iter().map(account).collect::<Vec<_>>(),
                    page.next_token().map(str::to_owned),
                ))
            })
            .await
            .map_err(org_error)?;
            found.extend(accounts);
            let children = paginate("organizations:ListChildren", |token| async move {
                let page = client
                    .list_children()
                    .parent_id(parent)
                    .child_type(ChildType::OrganizationalUnit)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| classify("organizations:ListChildren", &e))?;
                Ok((
                    page.children()
                        .iter()
                        .filter_map(|c| c.id().map(str::to_owned))
                        .collect::<Vec<_>>(),
                    page.next_token().map(str::to_owned),
                ))
            })
            .await
            .map_err(org_error)?;
            queue.extend(children);
        }
        found
    };
    let mut discovery = Discovery::default();
    let mut ids = BTreeSet::new();
    let mut sorted = listed;
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for a in sorted {
        if !ids.insert(a.id.clone()) {
            continue;
        }
        if exclude.contains(&a.id) {
            discovery.excluded.push(a.id);
        } else if a.state == "ACTIVE" {
            discovery.accounts.push(a);
        } else {
            discovery.inactive.push(a);
        }
    }
    discovery.api_calls = guard.calls();
    Ok(discovery)
}

#[cfg(test)]
mod tests {
    use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};

    use super::account;

    #[test]
    fn state_wins_and_the_retired_status_is_read_without_it() {
        let both = Account::builder()
            .id("111111111111")
            .name("a")
            .state(AccountState::PendingClosure)
            .status(AccountStatus::Active)
            .build();
        assert_eq!(account(&both).state, "PENDING_CLOSURE");
        let old = Account::builder()
            .id("222222222222")
            .status(AccountStatus::Suspended)
            .build();
        assert_eq!(account(&old).state, "SUSPENDED");
        let neither = Account::builder().id("333333333333").build();
        assert_eq!(account(&neither).state, "UNKNOWN");
    }
}
