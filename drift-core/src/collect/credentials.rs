//! Where the collector's AWS access comes from: regions, credentials (resolved once, so that
//! their absence is one clear error), an assumed role, and the per-region SDK configuration
//! with the run's timeouts and retries.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::default_provider::region::DefaultRegionChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;

use super::error::{self, CallError, classify};
use super::guard::ReadOnlyGuard;
use super::{AssumeRole, CollectError, Options};
use crate::report::ErrorKind;

/// IMDS answers in well under a second where it exists; elsewhere it must not cost seconds
/// before the "no credentials" message.
fn quick_imds() -> aws_config::imds::Client {
    aws_config::imds::Client::builder()
        .max_attempts(1)
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(500))
        .build()
}

async fn default_region(profile: Option<&str>) -> Option<String> {
    let mut chain = DefaultRegionChain::builder();
    if let Some(p) = profile {
        chain = chain.profile_name(p);
    }
    let chain = chain.build();
    tokio::time::timeout(Duration::from_secs(3), chain.region())
        .await
        .ok()
        .flatten()
        .map(|r| r.to_string())
}

/// Shared AWS configuration for one region: credentials, timeouts, retries, endpoint from the
/// environment (`AWS_ENDPOINT_URL`, per-service variants, profile settings).
pub async fn sdk_config(
    region: &str,
    opts: &Options,
    credentials: SharedCredentialsProvider,
) -> SdkConfig {
    sdk_config_with(region, opts, credentials, opts.max_attempts).await
}

/// [`sdk_config`] with its own number of attempts (a read that only words a remediation gets
/// the SDK's standard three, never the run's `--max-attempts`).
pub(super) async fn sdk_config_with(
    region: &str,
    opts: &Options,
    credentials: SharedCredentialsProvider,
    max_attempts: u32,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(opts.timeout)
                .read_timeout(opts.timeout)
                .operation_attempt_timeout(opts.timeout)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(max_attempts.max(1)));
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    loader.load().await
}

/// Credentials for `role`, assumed with the base credentials.
pub(super) async fn assume_role(
    region: &str,
    opts: &Options,
    base: SharedCredentialsProvider,
    guard: &ReadOnlyGuard,
    role: &AssumeRole,
) -> Result<SharedCredentialsProvider, CollectError> {
    let config = sdk_config(region, opts, base).await;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&config)
            .interceptor(guard.clone())
            .build(),
    );
    let failed = |e: CallError| {
        let mut e = e;
        e.message = format!("assuming {}: {}", role.role_arn, e.message);
        CollectError::AssumeRole(e)
    };
    let out = sts
        .assume_role()
        .role_arn(&role.role_arn)
        .role_session_name(&role.session_name)
        .set_external_id(role.external_id.clone())
        .send()
        .await
        .map_err(|e| failed(classify("sts:AssumeRole", &e)))?;
    let Some(c) = out.credentials() else {
        return Err(failed(CallError {
            action: "sts:AssumeRole".to_owned(),
            kind: ErrorKind::InvalidResponse,
            code: None,
            message: "the answer holds no credentials".to_owned(),
        }));
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    let credentials = aws_credential_types::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        "eksdrift-assume-role",
    );
    Ok(SharedCredentialsProvider::new(credentials))
}

/// The regions the account has enabled (`ec2:DescribeRegions` answers only those by default:
/// opt-in regions appear where the account opted in), sorted.
pub(super) async fn enabled_regions(
    home: &str,
    opts: &Options,
    credentials: SharedCredentialsProvider,
    guard: &ReadOnlyGuard,
) -> Result<Vec<String>, CallError> {
    let config = sdk_config(home, opts, credentials).await;
    let ec2 = aws_sdk_ec2::Client::from_conf(
        aws_sdk_ec2::config::Builder::from(&config)
            .interceptor(guard.clone())
            .build(),
    );
    let out = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| classify("ec2:DescribeRegions", &e))?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter(|r| r.opt_in_status() != Some("not-opted-in"))
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(CallError {
            action: "ec2:DescribeRegions".to_owned(),
            kind: ErrorKind::InvalidResponse,
            code: None,
            message: "the answer lists no region".to_owned(),
        });
    }
    Ok(regions)
}

/// The regions to read: as given (deduplicated), else the configuration chain's.
pub(super) async fn resolve_regions(opts: &Options) -> Result<Vec<String>, CollectError> {
    if opts.regions.is_empty() {
        return Ok(vec![
            default_region(opts.profile.as_deref())
                .await
                .ok_or(CollectError::NoRegion)?,
        ]);
    }
    let mut seen = BTreeSet::new();
    Ok(opts
        .regions
        .iter()
        .filter(|r| seen.insert(r.as_str()))
        .cloned()
        .collect())
}

/// Credentials from the default chain, resolved once before any call so that their absence
/// is one clear error rather than one per call.
pub(super) async fn resolve_credentials(
    opts: &Options,
) -> Result<SharedCredentialsProvider, CollectError> {
    use aws_credential_types::provider::ProvideCredentials as _;
    use aws_credential_types::provider::error::CredentialsError;

    // An explicit profile means that profile, as with the AWS CLI's --profile: not credentials
    // from the environment that would read another account.
    if let Some(p) = &opts.profile {
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(p)
            .build();
        return match tokio::time::timeout(Duration::from_secs(10), provider.provide_credentials())
            .await
        {
            Ok(Ok(_)) => Ok(SharedCredentialsProvider::new(provider)),
            Ok(Err(e)) => Err(CollectError::NoCredentials(format!(
                "profile {p}: {}",
                error::plain(&e)
            ))),
            Err(_) => Err(CollectError::NoCredentials(format!(
                "profile {p}: its credentials did not come within 10 s"
            ))),
        };
    }
    let chain = DefaultCredentialsChain::builder()
        .imds_client(quick_imds())
        .build()
        .await;
    match tokio::time::timeout(Duration::from_secs(10), chain.provide_credentials()).await {
        Ok(Ok(_)) => Ok(SharedCredentialsProvider::new(chain)),
        Ok(Err(CredentialsError::CredentialsNotLoaded(_))) => {
            Err(CollectError::NoCredentials(
                "none found (tried the environment, the AWS config and credentials files, SSO, web identity, ECS and EC2 instance metadata); set AWS_PROFILE or pass -p PROFILE, run `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned()
            ))
        }
        Ok(Err(e)) => Err(CollectError::NoCredentials(error::plain(&e))),
        Err(_) => Err(CollectError::NoCredentials(
            "the credential providers did not answer within 10 s".to_owned(),
        )),
    }
}
