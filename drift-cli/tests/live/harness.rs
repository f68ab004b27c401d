//! A real moto server on 127.0.0.1 for the whole test binary, reset before every test.
//! Tests take a lock because a reset is global.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;

pub const ACCOUNT: &str = "123456789012";

pub struct Moto {
    pub port: u16,
    /// The proxy every `eksdrift` of the tests talks to: it forwards to moto and answers
    /// `ListImports`, which moto does not implement (see `faults.rs`).
    front: super::faults::Proxy,
    recording: PathBuf,
    _child: Child,
    // Dropping this (at process exit) closes the pipe and the wrapper kills moto.
    _lifeline: Mutex<ChildStdin>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

/// The shared server, freshly reset, and the lock that keeps other tests off it.
pub fn moto() -> (MutexGuard<'static, ()>, &'static Moto) {
    let guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let moto = MOTO.get_or_init(start);
    // IAM enforcement off (a test that turned it on may have failed before turning it off).
    moto.post("/moto-api/reset-auth", &[], "inf");
    moto.post("/moto-api/reset", &[], "");
    moto.post("/moto-api/seed?a=42", &[], "");
    moto.post("/moto-api/recorder/reset-recording", &[], "");
    super::faults::IMPORTS.lock().unwrap().clear();
    super::faults::ACCESS.lock().unwrap().clear();
    super::faults::DELETION_PROTECTED.lock().unwrap().clear();
    *super::faults::CLUSTER_VERSIONS.lock().unwrap() = None;
    super::faults::ADDON_VERSIONS.lock().unwrap().clear();
    super::faults::STACK_STATUS.lock().unwrap().clear();
    (guard, moto)
}

/// A moto server of its own (not the shared one, not reset by [`moto`]), for a test that needs
/// a second emulator; it stops when dropped with the test process.
pub fn private_moto() -> Moto {
    start()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start() -> Moto {
    let bin = std::env::var("EKSDRIFT_MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
    let port = free_port();
    let recording =
        std::env::temp_dir().join(format!("eksdrift-moto-{}-{port}.jsonl", std::process::id()));
    let log = std::env::temp_dir().join(format!("eksdrift-moto-{}-{port}.log", std::process::id()));
    // The wrapper shell ends moto when this process goes away (stdin closes), without unsafe code.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#""$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 & pid=$!; read _ignored; kill $pid; wait $pid; rm -f "$2" "$3""#)
        .arg(&bin)
        .arg(port.to_string())
        .arg(&log)
        .arg(&recording)
        .env("MOTO_ENABLE_RECORDING", "True")
        .env("MOTO_RECORDER_FILEPATH", &recording)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start moto server {bin:?}: {e} (scripts/test installs it)")
        });
    let lifeline = child.stdin.take().unwrap();
    let moto = Moto {
        port,
        front: super::faults::Proxy::start(port, 1, Vec::new()),
        recording,
        _child: child,
        _lifeline: Mutex::new(lifeline),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((200, _)) = moto.try_request("GET", "/moto-api/data.json", &[], "") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "moto server {bin:?} did not answer on 127.0.0.1:{port} within 30 s; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The front proxy's endpoint: moto, plus the calls moto lacks (see `faults.rs`).
    pub fn front_endpoint(&self) -> String {
        self.front.endpoint()
    }

    /// `ListImports` calls answered by the front proxy since it started.
    pub fn listed_imports(&self) -> u64 {
        self.front.listed_imports()
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_mins(1)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            let _ = write!(req, "{k}: {v}\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body);
        stream.write_all(req.as_bytes())?;
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        reader.read_line(&mut status_line)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut rest = String::new();
        reader.read_to_string(&mut rest)?;
        let body = rest
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        Ok((status, body))
    }

    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> String {
        let (status, text) = self.try_request("POST", path, headers, body).unwrap();
        assert!((200..300).contains(&status), "POST {path}: {status} {text}");
        text
    }

    /// A raw EKS REST call: moto reads the region from the credential scope.
    pub fn eks(&self, region: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/20240101/{region}/eks/aws4_request, SignedHeaders=host, Signature=x",
            seed_access_key()
        );
        let text = self.post(
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            &body.to_string(),
        );
        serde_json::from_str(&text).unwrap()
    }

    /// A raw EKS REST `GET`, as JSON.
    pub fn eks_get(&self, region: &str, path: &str) -> serde_json::Value {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=x/20240101/{region}/eks/aws4_request, SignedHeaders=host, Signature=x"
        );
        let (status, text) = self
            .try_request("GET", path, &[("Authorization", &auth)], "")
            .unwrap();
        assert!((200..300).contains(&status), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A raw EKS REST `DELETE` (e.g. `/clusters/NAME`: a cluster deleted outside eksctl).
    pub fn eks_delete(&self, region: &str, path: &str) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=x/20240101/{region}/eks/aws4_request, SignedHeaders=host, Signature=x"
        );
        let (status, text) = self
            .try_request("DELETE", path, &[("Authorization", &auth)], "")
            .unwrap();
        assert!(
            (200..300).contains(&status),
            "DELETE {path}: {status} {text}"
        );
    }

    /// Every request moto received since the last reset, as `service:Operation`.
    pub fn recorded_actions(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                action_of(&v)
            })
            .collect()
    }

    /// `eksdrift` pointed at this server with test credentials and no user configuration.
    pub fn eksdrift_std(&self) -> std::process::Command {
        self.program_std(env!("CARGO_BIN_EXE_eksdrift"))
    }

    /// [`Self::eksdrift_std`] for another build of eksdrift (benchmarks compare builds).
    pub fn program_std(&self, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        let home = std::env::temp_dir().join("eksdrift-test-home");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_ENDPOINT_URL", self.front.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("COLUMNS", "100");
        cmd
    }

    /// [`Self::eksdrift_std`] for assertions, with a generous time limit.
    pub fn eksdrift(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.eksdrift_std());
        cmd.timeout(Duration::from_mins(5));
        cmd
    }

    /// An SDK configuration for seeding, pointed at this server.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(self.endpoint())
            .credentials_provider(seed_credentials())
            .load()
            .await
    }
}

/// The credentials seeding uses: the default account's, or those of a role assumed in another
/// account. moto makes every request signed with credentials that its `sts:AssumeRole` issued in
/// the role's account (moto's docs/multi_account.rst), so seeding another account is assuming a
/// role there first ([`seed_in_account`]).
static SEED_CREDENTIALS: Mutex<Option<aws_sdk_ec2::config::Credentials>> = Mutex::new(None);

/// The account seeding writes into: the assumed role's, else the default [`ACCOUNT`].
static SEED_ACCOUNT: Mutex<Option<String>> = Mutex::new(None);

/// The account seeding writes into now (ARNs the seeded stacks output name it).
pub fn seed_account() -> String {
    SEED_ACCOUNT
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| ACCOUNT.to_owned())
}

fn seed_credentials() -> aws_sdk_ec2::config::Credentials {
    SEED_CREDENTIALS.lock().unwrap().clone().unwrap_or_else(|| {
        aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "test")
    })
}

/// The access key raw requests sign with (moto reads the account from it).
fn seed_access_key() -> String {
    SEED_CREDENTIALS
        .lock()
        .unwrap()
        .as_ref()
        .map_or_else(|| "x".to_owned(), |c| c.access_key_id().to_owned())
}

/// Runs `seed` with the credentials of `role_arn` (assumed on moto), then back to the default
/// account.
pub async fn seed_in_account<F, Fut>(moto: &Moto, role_arn: &str, seed: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let config = moto.sdk_config("us-east-1").await;
    let out = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    *SEED_CREDENTIALS.lock().unwrap() = Some(aws_sdk_ec2::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    ));
    *SEED_ACCOUNT.lock().unwrap() = role_arn.split(':').nth(4).map(str::to_owned);
    seed().await;
    *SEED_CREDENTIALS.lock().unwrap() = None;
    *SEED_ACCOUNT.lock().unwrap() = None;
}

/// `service:Operation` of one recorded request (query protocols carry `Action=`; EKS is REST).
fn action_of(v: &serde_json::Value) -> String {
    let url = v["url"].as_str().unwrap_or_default();
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map_or("/".to_owned(), |p| format!("/{p}"));
    let method = v["method"].as_str().unwrap_or_default();
    if path.starts_with("/moto-api") {
        return format!("moto:{path}");
    }
    let auth = v["headers"]["Authorization"].as_str().unwrap_or_default();
    let service = auth
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_owned();
    let body = match v["body"].as_str() {
        Some(b) if v["body_encoded"].as_bool() == Some(true) => String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
        )
        .unwrap_or_default(),
        Some(b) => b.to_owned(),
        None => String::new(),
    };
    if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return format!("{service}:{action}");
    }
    // JSON protocols (Organizations): `X-Amz-Target: Prefix.Operation`.
    if let Some(target) = v["headers"]["X-Amz-Target"]
        .as_str()
        .or_else(|| v["headers"]["x-amz-target"].as_str())
    {
        return format!("{service}:{}", target.rsplit('.').next().unwrap_or(target));
    }
    if service == "eks" {
        let op = eks_operation(method, &path);
        return format!("eks:{op} {method} {path}");
    }
    format!("{service}:Unknown {method} {path}")
}

/// The EKS operation a REST request stands for.
pub fn eks_operation(method: &str, path: &str) -> &'static str {
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    match (method, segments.as_slice()) {
        ("GET", ["clusters"]) => "ListClusters",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("GET", ["clusters", _, "node-groups"]) => "ListNodegroups",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("GET", ["clusters", _, "access-entries"]) => "ListAccessEntries",
        ("GET", ["clusters", _, "access-entries", _]) => "DescribeAccessEntry",
        ("GET", ["clusters", _, "pod-identity-associations"]) => "ListPodIdentityAssociations",
        ("GET", ["clusters", _, "pod-identity-associations", _]) => {
            "DescribePodIdentityAssociation"
        }
        ("GET", ["clusters", _, "addons"]) => "ListAddons",
        ("GET", ["clusters", _, "addons", _]) => "DescribeAddon",
        ("GET", ["clusters", _, "fargate-profiles"]) => "ListFargateProfiles",
        ("GET", ["clusters", _, "fargate-profiles", _]) => "DescribeFargateProfile",
        ("POST", ["clusters", _, "insights"]) => "ListInsights",
        ("GET", ["clusters", _, "insights", _]) => "DescribeInsight",
        ("GET", ["cluster-versions"]) => "DescribeClusterVersions",
        ("GET", ["addons", "supported-versions"]) => "DescribeAddonVersions",
        ("POST", ["clusters"]) => "CreateCluster",
        ("DELETE", ["clusters", _]) => "DeleteCluster",
        ("POST", ["clusters", _, "update-config"]) => "UpdateClusterConfig",
        _ => "Unknown",
    }
}
