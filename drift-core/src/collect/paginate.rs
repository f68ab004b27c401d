//! Every listing is paginated by hand: a repeated token or more than [`MAX_PAGES`] pages fails
//! the call (a listing that never ends is never taken as complete). EC2 lookups by ID go by
//! filter, in chunks, never by explicit IDs.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;

use aws_sdk_ec2::types::Filter;

use super::error::{self, CallError};
use crate::report::ErrorKind;

/// Pages one listing may take before it is taken for a listing that never ends.
pub const MAX_PAGES: usize = 1000;

/// Values per EC2 filter (the API's limit).
pub(super) const FILTER_CHUNK: usize = 200;

/// Every page of a listing. A token the service already gave, or more than [`MAX_PAGES`]
/// pages, fails the listing: it would never end, and a truncated listing must never look
/// complete.
pub(super) async fn paginate<T, F, Fut>(action: &str, mut page: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let mut seen: HashSet<String> = HashSet::new();
    let mut token = None;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let (more, next) = page(token.take()).await?;
        items.extend(more);
        match next.filter(|t| !t.is_empty()) {
            None => return Ok(items),
            Some(next) => {
                if !seen.insert(next.clone()) {
                    return Err(CallError {
                        action: action.to_owned(),
                        kind: ErrorKind::InvalidResponse,
                        code: None,
                        message: format!(
                            "the service returned the pagination token {} a second time; a listing that does not end is not trusted",
                            error::cap(&next)
                        ),
                    });
                }
                token = Some(next);
            }
        }
    }
    Err(CallError {
        action: action.to_owned(),
        kind: ErrorKind::InvalidResponse,
        code: None,
        message: format!(
            "the listing did not end after {MAX_PAGES} pages; a truncated listing is not trusted"
        ),
    })
}

/// One filtered describe family: `ids` in chunks of [`FILTER_CHUNK`] as values of the
/// `filter` filter, every page of each chunk. Filters return what exists and nothing for what
/// does not, where explicit IDs would fail the whole call on the first deleted one.
pub(super) async fn describe_filtered<T, F, Fut>(
    action: &str,
    filter: &str,
    ids: &BTreeSet<String>,
    page: F,
) -> Result<Vec<T>, CallError>
where
    F: Fn(Filter, Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let ids: Vec<String> = ids.iter().cloned().collect();
    // The chunks are independent: asked for at once.
    let page = &page;
    let chunks = ids.chunks(FILTER_CHUNK).map(|chunk| {
        let filter = Filter::builder()
            .name(filter)
            .set_values(Some(chunk.to_vec()))
            .build();
        async move { paginate(action, |token| page(filter.clone(), token)).await }
    });
    let found = futures::future::try_join_all(chunks).await?;
    Ok(found.into_iter().flatten().collect())
}
