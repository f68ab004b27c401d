//! The read-only guard: an interceptor on every client that refuses any operation outside
//! [`crate::readonly::ALLOWED_OPERATIONS`] before it is serialized, and counts the calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::readonly::is_allowed;

/// Refuses non-allowlisted operations; counts allowed ones per `service:Operation`.
#[derive(Debug, Clone, Default)]
pub struct ReadOnlyGuard {
    calls: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// The error a refused call fails with.
#[derive(Debug, thiserror::Error)]
#[error(
    "eksdrift is read-only: refusing {0}, which is not on its allowlist (docs/iam-policy.json)"
)]
pub struct Refused(pub String);

impl ReadOnlyGuard {
    /// A guard with no calls counted.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls made so far, per `service:Operation`.
    #[must_use]
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// `EC2` + `DescribeSubnets` → `ec2:DescribeSubnets`, `Auto Scaling` +
/// `DescribeAutoScalingGroups` → `autoscaling:DescribeAutoScalingGroups` (IAM prefixes are the
/// SDK's service names lower-cased, without spaces, for the services eksdrift uses).
#[must_use]
pub fn action_name(service: &str, operation: &str) -> String {
    let prefix: String = service
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // Elastic Load Balancing v2 and Classic share one IAM prefix.
    let prefix = match prefix.as_str() {
        "elasticloadbalancingv2" => "elasticloadbalancing",
        p => p,
    };
    format!("{prefix}:{operation}")
}

impl Intercept for ReadOnlyGuard {
    fn name(&self) -> &'static str {
        "eksdrift::ReadOnlyGuard"
    }

    // Not `read_before_execution`: client interceptors run that before the operation's
    // configuration (and its `Metadata`) is in the bag. This hook runs once per operation,
    // after configuration and before the request is serialized, so nothing is ever sent.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(meta) = cfg.load::<Metadata>() else {
            return Err(Box::new(Refused(
                "an operation without metadata".to_owned(),
            )));
        };
        let action = action_name(meta.service(), meta.name());
        if !is_allowed(&action) {
            tracing::error!(%action, "refused by the read-only guard");
            return Err(Box::new(Refused(action)));
        }
        tracing::debug!(%action, "calling");
        if let Ok(mut calls) = self.calls.lock() {
            *calls.entry(action).or_default() += 1;
        }
        Ok(())
    }
}
