//! Failures of AWS calls, classified into the report's error kinds.

use std::error::Error as StdError;
use std::fmt::Debug;

use aws_smithy_runtime_api::client::result::SdkError;
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
    /// The failure of one input.
    #[must_use]
    pub fn to_failure(&self) -> crate::input::InputFailure {
        crate::input::InputFailure::new(self.action.clone(), self.kind, self.message.clone())
    }

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
    "MissingAuthenticationToken",
    "UnauthorizedException",
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
const UNSUPPORTED: &[&str] = &[
    "UnknownOperationException",
    "InvalidAction",
    "UnsupportedOperation",
    "NotImplemented",
    "UnsupportedOperationException",
];

/// An error and its causes as one line of plain words: each cause's `Display`, joined by `: `,
/// a cause that repeats the one before left out. Never a `Debug` rendering (which
/// `DisplayErrorContext` appends), so no SDK type names or response dumps reach a report.
#[must_use]
pub fn plain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = text.trim();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(text)) {
            parts.push(text.to_owned());
        }
        next = e.source();
    }
    let line = parts.join(": ");
    cap(&line.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Classifies an SDK error for `action` (`service:Operation`).
pub fn classify<E, R>(action: &str, err: &SdkError<E, R>) -> CallError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + HttpStatus + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let (kind, message) = match err {
        SdkError::ServiceError(service) => {
            let code_str = code.as_deref().unwrap_or("");
            let msg = service.err().message().unwrap_or("").trim().to_owned();
            let status = service.raw().status_code();
            // A 401/403 whose body names no code (a proxy, or an emulator's other error
            // format) is still a refusal.
            let refused = code_str.is_empty() && matches!(status, Some(401 | 403));
            let kind = if ACCESS_DENIED.contains(&code_str) || refused {
                ErrorKind::AccessDenied
            } else if THROTTLED.contains(&code_str) {
                ErrorKind::Throttled
            } else if NOT_FOUND.contains(&code_str) {
                ErrorKind::NotFound
            } else if UNSUPPORTED.contains(&code_str)
                || (code_str.is_empty() && status == Some(404))
            {
                ErrorKind::Unsupported
            } else if status.is_some_and(|s| s >= 500) {
                ErrorKind::Network
            } else if code_str.is_empty() {
                ErrorKind::InvalidResponse
            } else {
                ErrorKind::Internal
            };
            let says = if msg.is_empty() {
                String::new()
            } else {
                format!("; AWS says: {msg}")
            };
            let http = status.map_or_else(String::new, |s| format!("HTTP {s}"));
            let message = match kind {
                ErrorKind::AccessDenied => format!(
                    "access denied ({}): the credentials need {action} (docs/iam-policy.json lists every action eksdrift uses){says}",
                    if code_str.is_empty() {
                        http.as_str()
                    } else {
                        code_str
                    }
                ),
                ErrorKind::Throttled => format!("throttled ({code_str}) after every retry{says}"),
                ErrorKind::Unsupported if code_str.is_empty() => {
                    format!("the endpoint does not offer {action} ({http} with no AWS error)")
                }
                ErrorKind::Unsupported => {
                    format!("the endpoint does not offer {action} ({code_str}){says}")
                }
                ErrorKind::Network if code_str.is_empty() => {
                    format!("the service failed ({http}) after every retry")
                }
                ErrorKind::Network => {
                    format!("the service failed ({http}, {code_str}) after every retry{says}")
                }
                _ if code_str.is_empty() => {
                    format!("an answer eksdrift cannot read ({http} with no AWS error code)")
                }
                _ => format!("{code_str}{says}"),
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
                plain(err)
            ),
        ),
        SdkError::DispatchFailure(_) => {
            (ErrorKind::Network, format!("network error: {}", plain(err)))
        }
        SdkError::ResponseError(_) => (
            ErrorKind::InvalidResponse,
            format!("an answer eksdrift cannot read: {}", plain(err)),
        ),
        _ => (ErrorKind::Internal, plain(err)),
    };
    CallError {
        action: action.to_owned(),
        kind,
        code: code.map(|c| cap(&c)),
        message: cap(&message),
    }
}

/// The HTTP status of a raw response, when there is one.
pub trait HttpStatus {
    /// The status code.
    fn status_code(&self) -> Option<u16>;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("dispatch failure")
        }
    }
    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection refused\n(os error 111)")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }
    impl StdError for Inner {}

    #[test]
    fn plain_is_one_line_of_display_without_debug() {
        let text = plain(&Outer(Inner));
        assert_eq!(text, "dispatch failure: connection refused (os error 111)");
        assert!(!text.contains("Inner") && !text.contains('\n'));
    }
}
