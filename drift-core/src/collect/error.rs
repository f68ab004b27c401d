//! Failures of AWS calls, classified into the report's error kinds.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::report::{ErrorKind, TargetError};

/// A failed AWS call: which operation, and what the service or the network said.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{action}: {message}")]
pub struct CallError {
    /// The `service:Operation` that failed.
    pub action: String,
    /// The class of failure (decides nothing but the message; every failure exits 2).
    pub kind: ErrorKind,
    /// The service's error code, when it gave one.
    pub code: Option<String>,
    /// What happened, naming the file or AWS operation.
    pub message: String,
}

impl CallError {
    /// The failure as the report shows it.
    #[must_use]
    pub fn to_target_error(&self) -> TargetError {
        TargetError {
            kind: self.kind,
            message: self.to_string(),
        }
    }
}

/// Longest text an error carries from an answer: a garbage or hostile body of megabytes is
/// cut, never copied whole into the report or onto the terminal.
pub const MAX_ERROR_TEXT: usize = 1000;

/// `text`, cut at [`MAX_ERROR_TEXT`] characters with a note of how much was left out.
#[must_use]
pub fn cap(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        None => text.to_owned(),
        Some((cut, _)) => format!(
            "{}… ({} more bytes not shown)",
            &text[..cut],
            text.len() - cut
        ),
    }
}

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
    "SignatureDoesNotMatch",
];
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "SlowDown",
];
const NOT_FOUND: &[&str] = &["ResourceNotFoundException", "NotFoundException"];

/// Classifies an SDK error for `action` (`service:Operation`).
pub fn classify<E, R>(action: &str, err: &SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug,
{
    let code = err.code().map(str::to_owned);
    let (kind, message) = match err {
        SdkError::ServiceError(service) => {
            let code_str = code.as_deref().unwrap_or("");
            let msg = service.err().message().unwrap_or("").to_owned();
            let kind = if ACCESS_DENIED.contains(&code_str) {
                ErrorKind::AccessDenied
            } else if THROTTLED.contains(&code_str) {
                ErrorKind::Throttled
            } else if NOT_FOUND.contains(&code_str) {
                ErrorKind::NotFound
            } else {
                ErrorKind::Internal
            };
            let message = match kind {
                ErrorKind::AccessDenied => format!(
                    "access denied ({code_str}): the credentials need {action} (docs/iam-policy.json lists every action eksdrift uses){}",
                    if msg.is_empty() {
                        String::new()
                    } else {
                        format!("; AWS says: {msg}")
                    }
                ),
                ErrorKind::Throttled => format!("throttled ({code_str}) after every retry: {msg}"),
                _ if code_str.is_empty() => format!("service error: {}", DisplayErrorContext(err)),
                _ => format!("{code_str}: {msg}"),
            };
            (kind, message)
        }
        SdkError::TimeoutError(_) => (
            ErrorKind::Timeout,
            "timed out (see --timeout and --max-attempts)".to_owned(),
        ),
        SdkError::DispatchFailure(d) if d.is_timeout() => (
            ErrorKind::Timeout,
            format!(
                "timed out (see --timeout and --max-attempts): {}",
                DisplayErrorContext(err)
            ),
        ),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => (
            ErrorKind::Network,
            format!("network error: {}", DisplayErrorContext(err)),
        ),
        _ => (ErrorKind::Internal, DisplayErrorContext(err).to_string()),
    };
    CallError {
        action: action.to_owned(),
        kind,
        code: code.map(|c| cap(&c)),
        message: cap(&message),
    }
}
