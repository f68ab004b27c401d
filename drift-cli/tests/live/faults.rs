//! A fault-injecting HTTP proxy on 127.0.0.1 in front of moto, written for this test suite.
//! It speaks just enough HTTP/1.1 to forward one request per connection, and, by a seeded
//! plan per service and operation, answers instead with each service's real wire errors,
//! resets the connection, truncates the body, answers slowly, or never answers. It can add a
//! fixed latency to every request (a real region's round trip).
//!
//! moto 5.2 does not implement `cloudformation:ListImports`, so the proxy answers that call
//! itself, in CloudFormation's real wire format, from [`IMPORTS`] (set by the test): the
//! importing stacks, or — when nothing imports the export — the `ValidationError` CloudFormation
//! returns then.
//!
//! moto 5.2 does not implement EKS access entries, pod identity associations or addons
//! (`ListAccessEntries`, `DescribeAccessEntry`, `ListPodIdentityAssociations`,
//! `DescribePodIdentityAssociation`, `ListAddons`, `DescribeAddon`), nor `accessConfig` or
//! `deletionProtection` in `DescribeCluster`: the proxy answers those calls itself in EKS's real
//! REST/JSON wire format (shapes from botocore's model) from [`ACCESS`] (none by default), and
//! adds `accessConfig` to the `DescribeCluster` answer of a cluster [`ACCESS`] names and
//! `deletionProtection` to one [`DELETION_PROTECTED`] names.
//!
//! moto cannot leave a stack in a failed state: the proxy writes the statuses [`STACK_STATUS`]
//! names into moto's `DescribeStacks` answer.
//!
//! Nor does moto implement cluster insights, cluster versions or addon versions
//! (`ListInsights`, `DescribeInsight`, `DescribeClusterVersions`, `DescribeAddonVersions`): the
//! proxy answers them too, in EKS's wire format (shapes from botocore's model): the insights
//! from [`ClusterAccess::insights`]; the versions from [`CLUSTER_VERSIONS`], by default 1.28 to
//! 1.35 with support ending well after the test runs; an addon's versions from
//! [`ADDON_VERSIONS`], by default the versions the clusters' addons run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `ListImports` answers, by export name; cleared by every `harness::moto()` reset.
pub static IMPORTS: Mutex<BTreeMap<String, Vec<String>>> = Mutex::new(BTreeMap::new());

/// A cluster's access configuration as the proxy serves it.
#[derive(Debug, Clone, Default)]
pub struct ClusterAccess {
    /// `accessConfig.authenticationMode` added to `DescribeCluster`.
    pub authentication_mode: String,
    /// `describe-access-entry` bodies (`.accessEntry`), by principal ARN.
    pub entries: Vec<serde_json::Value>,
    /// `describe-pod-identity-association` bodies (`.association`).
    pub associations: Vec<serde_json::Value>,
    /// `describe-addon` bodies (`.addon`); moto has no addons, so every cluster gets an answer.
    pub addons: Vec<serde_json::Value>,
    /// `describe-insight` bodies (`.insight`); `ListInsights` answers their summaries.
    pub insights: Vec<serde_json::Value>,
}

/// `DescribeClusterVersions`'s `clusterVersions`, when a test sets them; cleared by every reset.
pub static CLUSTER_VERSIONS: Mutex<Option<Vec<serde_json::Value>>> = Mutex::new(None);

/// The versions `DescribeAddonVersions` lists, by (addon, Kubernetes version), when a test sets
/// them (the first is the default); cleared by every reset.
pub static ADDON_VERSIONS: Mutex<BTreeMap<(String, String), Vec<String>>> =
    Mutex::new(BTreeMap::new());

/// Seconds since the epoch, now.
fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The answers that name no cluster: the versions EKS offers, and an addon's versions.
fn version_response(method: &str, path: &str, operation: &str) -> Option<(u16, serde_json::Value)> {
    let query: BTreeMap<String, String> = path
        .split_once('?')
        .map_or("", |(_, q)| q)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    match (method, operation) {
        ("GET", "DescribeClusterVersions") => {
            let versions = CLUSTER_VERSIONS.lock().unwrap().clone().unwrap_or_else(|| {
                let day = 86_400.0;
                (28..=35)
                    .map(|minor| {
                        serde_json::json!({
                            "clusterVersion": format!("1.{minor}"), "clusterType": "eks",
                            "status": "standard-support", "versionStatus": "STANDARD_SUPPORT",
                            "endOfStandardSupportDate": epoch_now() + 400.0 * day,
                            "endOfExtendedSupportDate": epoch_now() + 800.0 * day,
                        })
                    })
                    .collect()
            });
            Some((200, serde_json::json!({"clusterVersions": versions})))
        }
        ("GET", "DescribeAddonVersions") => {
            let addon = query.get("addonName")?.clone();
            let kubernetes = query.get("kubernetesVersion").cloned().unwrap_or_default();
            let listed = ADDON_VERSIONS
                .lock()
                .unwrap()
                .get(&(addon.clone(), kubernetes.clone()))
                .cloned()
                .unwrap_or_else(|| {
                    let mut running: Vec<String> = ACCESS
                        .lock()
                        .unwrap()
                        .values()
                        .flat_map(|a| a.addons.iter())
                        .filter(|a| a["addonName"] == addon.as_str())
                        .filter_map(|a| a["addonVersion"].as_str().map(str::to_owned))
                        .collect();
                    running.dedup();
                    running
                });
            let versions: Vec<serde_json::Value> = listed
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    serde_json::json!({"addonVersion": v, "architecture": ["amd64", "arm64"],
                        "compatibilities": [{"clusterVersion": kubernetes, "platformVersions": ["*"], "defaultVersion": i == 0}],
                        "requiresConfiguration": false})
                })
                .collect();
            Some((
                200,
                serde_json::json!({"addons": [{"addonName": addon, "type": "networking", "owner": "aws",
                    "publisher": "eks", "addonVersions": versions}]}),
            ))
        }
        _ => None,
    }
}

/// Access entries and pod identity associations by cluster name; cleared by every reset.
pub static ACCESS: Mutex<BTreeMap<String, ClusterAccess>> = Mutex::new(BTreeMap::new());

/// Stack statuses the proxy writes into moto's `DescribeStacks` answer, by stack name (moto
/// cannot leave a stack in a failed state such as `ROLLBACK_COMPLETE`); cleared by every reset.
pub static STACK_STATUS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// `response` (moto's `DescribeStacks` XML) with each stack [`STACK_STATUS`] names given that
/// status.
fn with_stack_statuses(response: Vec<u8>) -> Vec<u8> {
    let statuses = STACK_STATUS.lock().unwrap().clone();
    if statuses.is_empty() {
        return response;
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return response;
    };
    let mut body = text[head_end + 4..].to_owned();
    for (stack, status) in statuses {
        let Some(at) = body.find(&format!("<StackName>{stack}</StackName>")) else {
            continue;
        };
        let Some(open) = body[at..]
            .find("<StackStatus>")
            .map(|i| at + i + "<StackStatus>".len())
        else {
            continue;
        };
        let Some(close) = body[open..].find("</StackStatus>").map(|i| open + i) else {
            continue;
        };
        body.replace_range(open..close, &status);
    }
    with_body(&response, &body)
}

/// Clusters whose `DescribeCluster` answer gets `deletionProtection: true` (moto lacks the
/// field); cleared by every reset.
pub static DELETION_PROTECTED: Mutex<std::collections::BTreeSet<String>> =
    Mutex::new(std::collections::BTreeSet::new());

/// EKS's JSON answer for the identity calls moto lacks, or `None` to forward the request.
fn access_response(method: &str, path: &str, operation: &str) -> Option<String> {
    if let Some((status, body)) = version_response(method, path, operation) {
        let body = body.to_string();
        return Some(format!(
            "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
    }
    let segments: Vec<String> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(form_decode)
        .collect();
    let cluster = segments.get(1)?.clone();
    let access = ACCESS
        .lock()
        .unwrap()
        .get(&cluster)
        .cloned()
        .unwrap_or_default();
    let not_found = |what: &str| {
        (
            404,
            serde_json::json!({"message": format!("No {what} found for cluster {cluster}.")}),
            "ResourceNotFoundException",
        )
    };
    let (status, body, error) = match (method, operation) {
        ("GET", "ListAccessEntries") => {
            let arns: Vec<&serde_json::Value> =
                access.entries.iter().map(|e| &e["principalArn"]).collect();
            (200, serde_json::json!({"accessEntries": arns}), "")
        }
        ("GET", "DescribeAccessEntry") => {
            let principal = segments.get(3)?;
            match access
                .entries
                .iter()
                .find(|e| e["principalArn"].as_str() == Some(principal.as_str()))
            {
                Some(e) => (200, serde_json::json!({"accessEntry": e}), ""),
                None => not_found("access entry"),
            }
        }
        ("GET", "ListPodIdentityAssociations") => {
            let summaries: Vec<serde_json::Value> = access
                .associations
                .iter()
                .map(|a| {
                    let mut s = a.clone();
                    if let Some(o) = s.as_object_mut() {
                        o.remove("roleArn");
                    }
                    s
                })
                .collect();
            (200, serde_json::json!({"associations": summaries}), "")
        }
        ("GET", "DescribePodIdentityAssociation") => {
            let id = segments.get(3)?;
            match access
                .associations
                .iter()
                .find(|a| a["associationId"].as_str() == Some(id.as_str()))
            {
                Some(a) => (200, serde_json::json!({"association": a}), ""),
                None => not_found("association"),
            }
        }
        ("GET", "ListAddons") => {
            let names: Vec<&serde_json::Value> =
                access.addons.iter().map(|a| &a["addonName"]).collect();
            (200, serde_json::json!({"addons": names}), "")
        }
        ("POST", "ListInsights") => {
            let summaries: Vec<serde_json::Value> = access
                .insights
                .iter()
                .map(|i| {
                    let mut s = i.clone();
                    if let Some(o) = s.as_object_mut() {
                        for k in [
                            "recommendation",
                            "additionalInfo",
                            "resources",
                            "categorySpecificSummary",
                        ] {
                            o.remove(k);
                        }
                    }
                    s
                })
                .collect();
            (200, serde_json::json!({"insights": summaries}), "")
        }
        ("GET", "DescribeInsight") => {
            let id = segments.get(3)?;
            match access
                .insights
                .iter()
                .find(|i| i["id"].as_str() == Some(id.as_str()))
            {
                Some(i) => (200, serde_json::json!({"insight": i}), ""),
                None => not_found("insight"),
            }
        }
        ("GET", "DescribeAddon") => {
            let name = segments.get(3)?;
            match access
                .addons
                .iter()
                .find(|a| a["addonName"].as_str() == Some(name.as_str()))
            {
                Some(a) => (200, serde_json::json!({"addon": a}), ""),
                None => not_found("addon"),
            }
        }
        _ => return None,
    };
    let body = body.to_string();
    let error = if error.is_empty() {
        String::new()
    } else {
        format!("x-amzn-ErrorType: {error}\r\n")
    };
    Some(format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n{error}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// `response` (moto's `DescribeCluster` answer) with `accessConfig` added for a cluster that
/// [`ACCESS`] names, and `deletionProtection` for one [`DELETION_PROTECTED`] names.
fn with_access_config(response: Vec<u8>) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response;
    };
    let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&response[end + 4..]) else {
        return response;
    };
    let Some(name) = body["cluster"]["name"].as_str().map(str::to_owned) else {
        return response;
    };
    let access = ACCESS.lock().unwrap().get(&name).cloned();
    let protected = DELETION_PROTECTED.lock().unwrap().contains(&name);
    if access.is_none() && !protected {
        return response;
    }
    if let Some(access) = access {
        body["cluster"]["accessConfig"] =
            serde_json::json!({"authenticationMode": access.authentication_mode});
    }
    if protected {
        body["cluster"]["deletionProtection"] = serde_json::json!(true);
    }
    let body = body.to_string();
    let head = String::from_utf8_lossy(&response[..end]);
    let head: Vec<String> = head
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// The service's throttling error (EC2 `RequestLimitExceeded` 503 XML, CloudFormation and
    /// STS `Throttling` 400 XML, EKS `ThrottlingException` 429 JSON).
    Throttle,
    /// 500 with the service's internal-error code.
    Internal,
    /// 503 with the service's unavailable code.
    Unavailable,
    /// 403 with the service's access-denied code.
    AccessDenied,
    /// The connection closes without an answer.
    Reset,
    /// Headers promise more body than is sent before the connection closes.
    Truncate,
    /// The real answer, 1.5 s late.
    Slow,
    /// No answer at all, for as long as the proxy lives.
    Hang,
    /// The real answer with its first listed resource left out, as an eventually consistent
    /// EC2 answers right after the resource was created.
    Stale,
    /// The real CloudFormation answer with a `NextToken` that alternates `A`, `B`, `A`, …:
    /// a listing that never ends.
    AlternateTokens,
    /// The real CloudFormation answer, always with `NextToken` `A`.
    SameToken,
    /// 400 with five megabytes of garbage for a body: the SDK keeps the raw answer in its error.
    HugeGarbage,
    /// The real EKS `ListClusters` answer with every name listed twice.
    DuplicateNames,
    /// 404 with an HTML page and no AWS error: an endpoint that does not offer the operation
    /// (an emulator, a partition without a newer API).
    BareNotFound,
}

/// Which requests a rule applies to.
#[derive(Debug, Clone, Default)]
pub struct Match {
    /// `ec2`, `cloudformation`, `eks`, `sts`; `None` for all.
    pub service: Option<&'static str>,
    /// Operation name (`DescribeSubnets`); `None` for all.
    pub operation: Option<&'static str>,
    /// Substring of the request path (EKS cluster names live there) or body (query
    /// protocols' parameters, such as the `RoleArn` of `sts:AssumeRole`).
    pub path_contains: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub on: Match,
    /// Probability of a fault for a matching request.
    pub rate: f64,
    /// Faults to choose from, uniformly.
    pub faults: Vec<Fault>,
    /// Inject at most this many faults under this rule.
    pub limit: Option<u64>,
}

impl Rule {
    /// Every request to `service:operation` (and, if given, a path containing `path`) gets
    /// `fault`.
    pub fn always(
        service: &'static str,
        operation: &'static str,
        path: Option<&str>,
        fault: Fault,
    ) -> Rule {
        Rule {
            on: Match {
                service: Some(service),
                operation: Some(operation),
                path_contains: path.map(str::to_owned),
            },
            rate: 1.0,
            faults: vec![fault],
            limit: None,
        }
    }
}

pub struct Proxy {
    pub port: u16,
    listed_imports: Arc<Mutex<u64>>,
    injected: Arc<Mutex<BTreeMap<Fault, u64>>>,
    forwarded: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Proxy {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn injected(&self) -> BTreeMap<Fault, u64> {
        self.injected.lock().unwrap().clone()
    }

    pub fn forwarded(&self) -> u64 {
        *self.forwarded.lock().unwrap()
    }

    /// `ListImports` calls the proxy answered.
    pub fn listed_imports(&self) -> u64 {
        *self.listed_imports.lock().unwrap()
    }

    /// Starts a proxy to `upstream` (moto's port) with `rules`, seeded.
    pub fn start(upstream: u16, seed: u64, rules: Vec<Rule>) -> Proxy {
        Proxy::start_with_latency(upstream, seed, rules, Duration::ZERO)
    }

    /// [`Proxy::start`], with `latency` added to every request before it is answered.
    pub fn start_with_latency(
        upstream: u16,
        seed: u64,
        rules: Vec<Rule>,
        latency: Duration,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let injected = Arc::new(Mutex::new(BTreeMap::new()));
        let forwarded = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let rng = Arc::new(Mutex::new(seed.max(1)));
        let rules = Arc::new(rules);
        let used: Arc<Mutex<BTreeMap<usize, u64>>> = Arc::default();
        let listed_imports: Arc<Mutex<u64>> = Arc::default();
        {
            let (injected, forwarded, stop) = (injected.clone(), forwarded.clone(), stop.clone());
            let listed = listed_imports.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (rules, rng, injected, forwarded, stop, used, listed) = (
                        rules.clone(),
                        rng.clone(),
                        injected.clone(),
                        forwarded.clone(),
                        stop.clone(),
                        used.clone(),
                        listed.clone(),
                    );
                    std::thread::spawn(move || {
                        let _ = serve(
                            conn,
                            upstream,
                            &rules,
                            &rng,
                            &Counters {
                                injected: &injected,
                                forwarded: &forwarded,
                                listed_imports: &listed,
                            },
                            &stop,
                            &used,
                            latency,
                        );
                    });
                }
            });
        }
        Proxy {
            port,
            listed_imports,
            injected,
            forwarded,
            stop,
        }
    }
}

/// xorshift64*: deterministic for a seed, good enough to pick faults.
fn next(rng: &Mutex<u64>) -> f64 {
    let mut s = rng.lock().unwrap();
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    let v = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
    (v >> 11) as f64 / (1u64 << 53) as f64
}

/// An index below `len` from a draw in [0, 1).
#[allow(clippy::cast_sign_loss)]
fn pick(draw: f64, len: usize) -> usize {
    (draw * len as f64) as usize
}

struct Request {
    method: String,
    path: String,
    head: String,
    body: Vec<u8>,
    service: String,
    operation: String,
}

fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut first = head.lines().next().unwrap_or("").split_whitespace();
    let method = first.next().unwrap_or("").to_owned();
    let path = first.next().unwrap_or("").to_owned();
    let service = head
        .lines()
        .find_map(|l| {
            l.split_once("Credential=")
                .map(|(_, c)| c.split('/').nth(3).unwrap_or("").to_owned())
        })
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    // JSON protocols (Organizations) name the operation in X-Amz-Target: `Prefix.Operation`.
    let target = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("x-amz-target")
            .then(|| value.trim().rsplit('.').next().unwrap_or("").to_owned())
    });
    let operation = text
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .map(str::to_owned)
        .or(target)
        .unwrap_or_else(|| super::harness::eks_operation(&method, &path).to_owned());
    Ok(Some(Request {
        method,
        path,
        head,
        body,
        service,
        operation,
    }))
}

fn error_response(service: &str, fault: Fault) -> (u16, Vec<(&'static str, String)>, String) {
    let xml = |status: u16, code: &str, msg: &str| {
        let body = match service {
            "ec2" => format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code><Message>{msg}</Message></Error></Errors><RequestID>00000000-fault</RequestID></Response>"#
            ),
            "cloudformation" => format!(
                r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>00000000-fault</RequestId></ErrorResponse>"#
            ),
            _ => format!(
                r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message></Error><RequestId>00000000-fault</RequestId></ErrorResponse>"#
            ),
        };
        (status, vec![("Content-Type", "text/xml".to_owned())], body)
    };
    let json = |status: u16, code: &str, msg: &str| {
        (
            status,
            vec![
                ("Content-Type", "application/json".to_owned()),
                ("x-amzn-ErrorType", code.to_owned()),
            ],
            format!(r#"{{"message":"{msg}"}}"#),
        )
    };
    match (service, fault) {
        ("eks", Fault::Throttle) => json(429, "ThrottlingException", "Rate exceeded"),
        ("eks", Fault::Internal) => json(500, "ServerException", "internal error"),
        ("eks", Fault::Unavailable) => {
            json(503, "ServiceUnavailableException", "service unavailable")
        }
        ("eks", _) => json(
            403,
            "AccessDeniedException",
            "User is not authorized to perform: eks:DescribeCluster",
        ),
        ("ec2", Fault::Throttle) => xml(503, "RequestLimitExceeded", "Request limit exceeded."),
        ("ec2", Fault::Internal) => xml(500, "InternalError", "An internal error has occurred"),
        ("ec2", Fault::Unavailable) => xml(503, "Unavailable", "The server is overloaded"),
        ("ec2", _) => xml(
            403,
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
        ),
        ("organizations", Fault::Throttle) => {
            json(400, "TooManyRequestsException", "Rate exceeded")
        }
        ("organizations", Fault::Internal) => json(500, "ServiceException", "internal error"),
        ("organizations", _) => json(
            400,
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        ),
        (_, Fault::Throttle) => xml(400, "Throttling", "Rate exceeded"),
        (_, Fault::Internal) => xml(500, "InternalFailure", "internal failure"),
        (_, Fault::Unavailable) => xml(503, "ServiceUnavailable", "service unavailable"),
        (_, _) => xml(
            403,
            "AccessDenied",
            "User is not authorized to perform this action",
        ),
    }
}

/// The answer to a request: the proxy's own for the calls moto lacks (`ListImports`, access
/// entries, pod identity), else moto's (with `accessConfig` added to `DescribeCluster`).
fn answer(req: &Request, upstream: u16) -> std::io::Result<Vec<u8>> {
    if req.service == "cloudformation" && req.operation == "ListImports" {
        return Ok(list_imports_response(&req.body).into_bytes());
    }
    if req.service == "eks"
        && let Some(answer) = access_response(&req.method, &req.path, &req.operation)
    {
        return Ok(answer.into_bytes());
    }
    let response = forward(req, upstream)?;
    if req.service == "eks" && req.operation == "DescribeCluster" {
        return Ok(with_access_config(response));
    }
    if req.service == "cloudformation" && req.operation == "DescribeStacks" {
        return Ok(with_stack_statuses(response));
    }
    Ok(response)
}

fn forward(req: &Request, upstream: u16) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.set_read_timeout(Some(Duration::from_mins(1)))?;
    let head: Vec<&str> = req
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    up.write_all(head.join("\r\n").as_bytes())?;
    up.write_all(b"\r\nConnection: close\r\n\r\n")?;
    up.write_all(&req.body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    // Tell the client not to reuse the connection: one request per connection here.
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(response);
    };
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let mut lines: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&response[end + 4..]);
    Ok(out)
}

/// `response` with its body replaced by `body` and Content-Length corrected.
fn with_body(response: &[u8], body: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return response.to_vec();
    };
    let head: Vec<String> = text[..head_end]
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// The request with its `NextToken` parameter removed (and Content-Length corrected).
fn without_next_token(req: Request) -> Request {
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let body: Vec<&str> = body
        .split('&')
        .filter(|kv| !kv.starts_with("NextToken="))
        .collect();
    let body = body.join("&").into_bytes();
    let head = req
        .head
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    Request { head, body, ..req }
}

/// A CloudFormation listing answer with `<NextToken>token</NextToken>` in its result.
fn with_next_token(response: &[u8], token: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return response.to_vec();
    };
    let body = &text[head_end + 4..];
    let Some(at) = body.find("</DescribeStacksResult>") else {
        return response.to_vec();
    };
    let body = format!(
        "{}<NextToken>{token}</NextToken>{}",
        &body[..at],
        &body[at..]
    );
    with_body(response, &body)
}

/// An EKS `ListClusters` answer with every name twice.
fn with_duplicate_clusters(response: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return response.to_vec();
    };
    let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text[head_end + 4..]) else {
        return response.to_vec();
    };
    if let Some(names) = v["clusters"].as_array().cloned() {
        v["clusters"] = serde_json::Value::Array(names.iter().chain(&names).cloned().collect());
    }
    with_body(response, &v.to_string())
}

/// The response with the first `<item>` of its first `…Set` element removed (nested items,
/// such as tags, go with it), and Content-Length corrected.
fn without_first_item(response: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response).into_owned();
    let Some(head_end) = text.find("\r\n\r\n") else {
        return response.to_vec();
    };
    let (head, body) = (&text[..head_end], &text[head_end + 4..]);
    let Some(start) = body
        .find("Set>")
        .and_then(|i| body[i..].find("<item>").map(|j| i + j))
    else {
        return response.to_vec();
    };
    let mut depth = 0;
    let mut i = start;
    let end = loop {
        let open = body[i..].find("<item>").map(|j| i + j);
        let close = body[i..].find("</item>").map(|j| i + j);
        match (open, close) {
            (Some(o), Some(c)) if o < c => {
                depth += 1;
                i = o + 6;
            }
            (_, Some(c)) => {
                depth -= 1;
                i = c + 7;
                if depth == 0 {
                    break i;
                }
            }
            _ => return response.to_vec(),
        }
    };
    let body = format!("{}{}", &body[..start], &body[end..]);
    let head: Vec<String> = head
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

struct Counters<'a> {
    injected: &'a Mutex<BTreeMap<Fault, u64>>,
    forwarded: &'a Mutex<u64>,
    listed_imports: &'a Mutex<u64>,
}

/// `%XX` and `+` decoded, as in a form-encoded body.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 3 <= bytes.len() => {
                let v = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(v);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// CloudFormation's `ListImports` answer for the export in `body`, from [`IMPORTS`].
fn list_imports_response(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let export = text
        .split('&')
        .find_map(|kv| kv.strip_prefix("ExportName="))
        .map(form_decode)
        .unwrap_or_default();
    let importers = IMPORTS
        .lock()
        .unwrap()
        .get(&export)
        .cloned()
        .unwrap_or_default();
    let (status, body) = if importers.is_empty() {
        (
            400,
            format!(
                r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Export '{export}' is not imported by any stack.</Message></Error><RequestId>00000000-imports</RequestId></ErrorResponse>"#
            ),
        )
    } else {
        let mut members = String::new();
        for s in &importers {
            let _ = write!(members, "<member>{s}</member>");
        }
        (
            200,
            format!(
                r#"<ListImportsResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ListImportsResult><Imports>{members}</Imports></ListImportsResult><ResponseMetadata><RequestId>00000000-imports</RequestId></ResponseMetadata></ListImportsResponse>"#
            ),
        )
    };
    format!(
        "HTTP/1.1 {status} OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[allow(clippy::too_many_arguments)]
fn serve(
    mut conn: TcpStream,
    upstream: u16,
    rules: &[Rule],
    rng: &Mutex<u64>,
    counters: &Counters<'_>,
    stop: &AtomicBool,
    used: &Mutex<BTreeMap<usize, u64>>,
    latency: Duration,
) -> std::io::Result<()> {
    let Some(req) = read_request(&mut conn)? else {
        return Ok(());
    };
    if !latency.is_zero() {
        std::thread::sleep(latency);
    }
    let (injected, forwarded) = (counters.injected, counters.forwarded);
    let rule = rules.iter().enumerate().find(|(_, r)| {
        r.on.service.is_none_or(|s| s == req.service)
            && r.on.operation.is_none_or(|o| o == req.operation)
            && r.on.path_contains.as_deref().is_none_or(|p| {
                req.path.contains(p) || form_decode(&String::from_utf8_lossy(&req.body)).contains(p)
            })
    });
    let fault = rule.and_then(|(i, r)| {
        if next(rng) >= r.rate {
            return None;
        }
        let mut used = used.lock().unwrap();
        let n = used.entry(i).or_default();
        if r.limit.is_some_and(|l| *n >= l) {
            return None;
        }
        *n += 1;
        Some(r.faults[pick(next(rng), r.faults.len()).min(r.faults.len() - 1)])
    });
    if let Some(f) = fault {
        *injected.lock().unwrap().entry(f).or_default() += 1;
    }
    match fault {
        None if req.service == "cloudformation" && req.operation == "ListImports" => {
            *counters.listed_imports.lock().unwrap() += 1;
            conn.write_all(list_imports_response(&req.body).as_bytes())?;
        }
        None | Some(Fault::Slow) => {
            if fault.is_some() {
                std::thread::sleep(Duration::from_millis(1500));
            }
            let response = answer(&req, upstream)?;
            *forwarded.lock().unwrap() += 1;
            conn.write_all(&response)?;
        }
        Some(Fault::Reset) => {}
        Some(Fault::Stale) => {
            let response = answer(&req, upstream)?;
            conn.write_all(&without_first_item(&response))?;
        }
        Some(Fault::Truncate) => {
            let response = answer(&req, upstream)?;
            let cut = response
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map_or(response.len() / 2, |end| {
                    end + 4 + (response.len() - end - 4) / 2
                });
            conn.write_all(&response[..cut])?;
        }
        Some(f @ (Fault::AlternateTokens | Fault::SameToken)) => {
            // moto knows nothing of these tokens: it is always asked for the first page.
            let response = forward(&without_next_token(req), upstream)?;
            let token = if f == Fault::SameToken
                || (*counters.forwarded.lock().unwrap()).is_multiple_of(2)
            {
                "A"
            } else {
                "B"
            };
            *forwarded.lock().unwrap() += 1;
            conn.write_all(&with_next_token(&response, token))?;
        }
        Some(Fault::HugeGarbage) => {
            let body = "x".repeat(5 << 20);
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes())?;
            conn.write_all(body.as_bytes())?;
        }
        Some(Fault::BareNotFound) => {
            let body = "<html><body><h1>404 Not Found</h1></body></html>";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes())?;
            conn.write_all(body.as_bytes())?;
        }
        Some(Fault::DuplicateNames) => {
            let response = forward(&req, upstream)?;
            conn.write_all(&with_duplicate_clusters(&response))?;
        }
        Some(Fault::Hang) => {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(f) => {
            let (status, headers, body) = error_response(&req.service, f);
            let mut out = format!(
                "HTTP/1.1 {status} Fault\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                let _ = write!(out, "{k}: {v}\r\n");
            }
            out.push_str("\r\n");
            out.push_str(&body);
            conn.write_all(out.as_bytes())?;
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(Shutdown::Both);
    Ok(())
}
