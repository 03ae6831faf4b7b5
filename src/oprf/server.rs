//! `leakmatch key-server`: the oblivious key service (axum on tokio).
//!
//! It evaluates batches of blinded elements under the OPRF key ([`super::OprfKey`]) for
//! authenticated clients, each within a query budget, and logs counts per client — never an
//! element (an element is blinded and tells nothing, but it is not logged either). Endpoints
//! and bodies: [`super::client`]. Errors:
//!
//! | status | when |
//! |---|---|
//! | 400 | body empty or not a whole number of 32-byte elements; an element that is not a ristretto255 point (the message names its index) |
//! | 401 | no `Authorization: Bearer` header, or a token no client has |
//! | 413 | more elements than `--max-batch` |
//! | 415 | `Content-Type` other than `application/octet-stream` |
//! | 429 | the request would exceed the client's budget for the current window (nothing is evaluated) |
//!
//! Tokens are compared in constant time (SHA-256 of the presented token against each
//! client's, with `subtle`, over all clients). The service speaks plain HTTP and binds the
//! loopback interface by default: for other hosts put a TLS reverse proxy in front of it
//! (README, "Key service").

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{OprfKey, ELEMENT_LEN, SUITE_NAME};

/// The service's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (default `127.0.0.1:8631`; port 0 picks a free port).
    pub listen: SocketAddr,
    /// The clients file: `NAME TOKEN` per line (see [`load_clients`]).
    pub clients: PathBuf,
    /// Evaluations each client may request per window.
    pub budget: u64,
    /// Length of a budget window (default one day).
    pub window: Duration,
    /// Most elements in one request.
    pub max_batch: usize,
    /// Append audit lines (JSON) here; `None`: to stderr.
    pub audit_log: Option<PathBuf>,
    /// Stop by itself after this long (tests, time-boxed engagements).
    pub stop_after: Option<Duration>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The clients file cannot be read or parsed.
    #[error("{path}: {message}")]
    Clients {
        /// The clients file.
        path: PathBuf,
        /// What is wrong (naming the line, if one is at fault; never a token).
        message: String,
    },
    /// An I/O error on the audit log.
    #[error("{path}: {source}")]
    Io {
        /// The audit log.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address given.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// One authorised client: its name and the SHA-256 of its token.
#[derive(Clone)]
pub struct ClientEntry {
    /// The client's name, as logged in the audit log.
    pub name: String,
    digest: [u8; 32],
}

impl std::fmt::Debug for ClientEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientEntry {{ name: {:?} }}", self.name)
    }
}

/// Reads the clients file: one `NAME TOKEN` per line (`#` comments and blank lines skipped),
/// NAME of 1..=64 letters, digits or `._-`, TOKEN at least 16 characters without spaces
/// (e.g. `openssl rand -hex 32`). The file must be readable by its owner only. Errors name
/// the line, never a token.
pub fn load_clients(path: &Path) -> Result<Vec<ClientEntry>, ServerError> {
    let err = |message: String| ServerError::Clients { path: path.into(), message };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "clients file is readable by group or others (mode {mode:04o}); run `chmod 600 {}`",
                path.display()
            )));
        }
    }
    if !meta.is_file() || meta.len() > 1 << 20 {
        return Err(err("not a clients file (a regular file of at most 1 MiB)".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let mut clients: Vec<ClientEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |what: &str| err(format!("line {}: {what}", i + 1));
        let mut parts = line.split_whitespace();
        let (Some(name), Some(token), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected NAME TOKEN"));
        };
        let name_ok = name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !name_ok {
            return Err(bad("client name: 1 to 64 letters, digits or . _ -"));
        }
        if token.len() < 16 {
            return Err(bad("token shorter than 16 characters"));
        }
        if clients.iter().any(|c| c.name == name) {
            return Err(bad("client name given twice"));
        }
        clients.push(ClientEntry { name: name.to_string(), digest: Sha256::digest(token).into() });
    }
    if clients.is_empty() {
        return Err(err("no client (expected lines NAME TOKEN)".into()));
    }
    Ok(clients)
}

/// The index of the client holding `token`, compared in constant time against every client.
pub fn authenticate(clients: &[ClientEntry], token: &[u8]) -> Option<usize> {
    let d: [u8; 32] = Sha256::digest(token).into();
    let mut found = None;
    for (i, c) in clients.iter().enumerate() {
        if bool::from(c.digest.ct_eq(&d)) {
            found = Some(i);
        }
    }
    found
}

/// Evaluations used per client in the current window.
#[derive(Debug, Default)]
pub struct Budget {
    used: HashMap<String, (u64, u64)>,
}

impl Budget {
    /// Reserves `n` evaluations for `client` in window `window`, or says how many are used.
    pub fn reserve(&mut self, client: &str, window: u64, n: u64, limit: u64) -> Result<u64, u64> {
        let e = self.used.entry(client.to_string()).or_insert((window, 0));
        if e.0 != window {
            *e = (window, 0);
        }
        if e.1.saturating_add(n) > limit {
            return Err(e.1);
        }
        e.1 += n;
        Ok(e.1)
    }

    /// Replays an audit log so that a restart does not reset the budget of the current window.
    pub fn replay(&mut self, log: &str, window: u64) {
        for line in log.lines() {
            let Ok(a) = serde_json::from_str::<AuditLine>(line) else { continue };
            if a.window == window && a.outcome == "ok" {
                let e = self.used.entry(a.client).or_insert((window, 0));
                e.1 += a.evaluated;
            }
        }
    }
}

/// One audit record: counts, never elements.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct AuditLine {
    /// Unix seconds.
    pub time: u64,
    /// The client's name.
    pub client: String,
    /// Budget window index (Unix seconds / window length).
    pub window: u64,
    /// Elements evaluated by this request (0 when refused).
    pub evaluated: u64,
    /// Elements requested.
    pub requested: u64,
    /// Used in this window after the request.
    pub used: u64,
    /// The client's budget per window.
    pub budget: u64,
    /// `ok` or `refused: budget`.
    pub outcome: String,
}

struct Shared {
    key: OprfKey,
    clients: Vec<ClientEntry>,
    cfg: ServerConfig,
    budget: Mutex<Budget>,
    audit: Mutex<Box<dyn Write + Send>>,
}

impl Shared {
    fn audit(&self, line: &AuditLine) {
        let text = serde_json::to_string(line).expect("plain struct");
        let mut out = self.audit.lock().expect("unpoisoned");
        // An audit log that cannot be written must not pass silently.
        if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
            eprintln!("leakmatch key-server: cannot write the audit log");
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn text(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], msg.into() + "\n")
        .into_response()
}

async fn info(State(st): State<Arc<Shared>>) -> Response {
    let info = super::client::Info {
        suite: SUITE_NAME.to_string(),
        mode: "voprf".to_string(),
        public_key: st.key.public_key().hex(),
        max_batch: st.cfg.max_batch,
    };
    let body = serde_json::to_string(&info).expect("plain struct");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn evaluate(State(st): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ctype.split(';').next().map(str::trim) != Some("application/octet-stream") {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/octet-stream (concatenated 32-byte elements)",
        );
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let client = bearer.and_then(|t| authenticate(&st.clients, t.trim().as_bytes()));
    let Some(client) = client.and_then(|i| st.clients.get(i)) else {
        let mut r = text(StatusCode::UNAUTHORIZED, "missing or unknown bearer token");
        r.headers_mut().insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("static"));
        return r;
    };
    let limit = st.cfg.max_batch * ELEMENT_LEN;
    let bytes: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("batch over {} elements ({limit} bytes)", st.cfg.max_batch),
            )
        }
    };
    let n = bytes.len() / ELEMENT_LEN;
    let blinded = match super::parse_elements(&bytes) {
        Ok(b) => b,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let name = client.name.clone();
    let window = now() / st.cfg.window.as_secs().max(1);
    let reserved =
        st.budget.lock().expect("unpoisoned").reserve(&name, window, n as u64, st.cfg.budget);
    let mut line = AuditLine {
        time: now(),
        client: name.clone(),
        window,
        evaluated: n as u64,
        requested: n as u64,
        used: 0,
        budget: st.cfg.budget,
        outcome: "ok".into(),
    };
    match reserved {
        Ok(used) => line.used = used,
        Err(used) => {
            line.evaluated = 0;
            line.used = used;
            line.outcome = "refused: budget".into();
            st.audit(&line);
            return text(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "query budget exhausted for client {name}: {used} of {} evaluations used in \
                     this {}-second window, {n} more requested",
                    st.cfg.budget,
                    st.cfg.window.as_secs()
                ),
            );
        }
    }
    st.audit(&line);
    let shared = st.clone();
    let answer =
        tokio::task::spawn_blocking(move || shared.key.blind_evaluate_parsed(&blinded)).await;
    match answer {
        Ok(Ok(out)) => ([(header::CONTENT_TYPE, "application/octet-stream")], out).into_response(),
        _ => text(StatusCode::INTERNAL_SERVER_ERROR, "evaluation failed"),
    }
}

/// Runs the service until `stop_after` elapses (or forever). `ready(addr)` is called once
/// the socket is bound, with the address actually bound (port 0 resolved).
pub fn run(
    key: OprfKey,
    cfg: ServerConfig,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let clients = load_clients(&cfg.clients)?;
    let mut budget = Budget::default();
    let audit: Box<dyn Write + Send> = match &cfg.audit_log {
        Some(p) => {
            let io = |source| ServerError::Io { path: p.clone(), source };
            if let Ok(old) = std::fs::read_to_string(p) {
                budget.replay(&old, now() / cfg.window.as_secs().max(1));
            }
            Box::new(std::fs::OpenOptions::new().create(true).append(true).open(p).map_err(io)?)
        }
        None => Box::new(std::io::stderr()),
    };
    let listen = cfg.listen;
    let stop_after = cfg.stop_after;
    let shared = Arc::new(Shared {
        key,
        clients,
        cfg,
        budget: Mutex::new(budget),
        audit: Mutex::new(audit),
    });
    let app = Router::new()
        .route("/v1/info", get(info))
        .route("/v1/evaluate", post(evaluate))
        .with_state(shared);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServerError::Listen { addr: listen, source })?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| ServerError::Listen { addr: listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| ServerError::Listen { addr: listen, source })?;
        ready(addr);
        let stop = async move {
            match stop_after {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
            .map_err(|source| ServerError::Listen { addr, source })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_the_request_that_exceeds_it_and_resets_per_window() {
        let mut b = Budget::default();
        assert_eq!(b.reserve("a", 7, 60, 100), Ok(60));
        assert_eq!(b.reserve("a", 7, 41, 100), Err(60));
        assert_eq!(b.reserve("b", 7, 100, 100), Ok(100));
        assert_eq!(b.reserve("a", 7, 40, 100), Ok(100));
        assert_eq!(b.reserve("a", 8, 100, 100), Ok(100));
    }

    #[test]
    fn budget_replays_the_current_window_of_the_audit_log() {
        let line = |window, evaluated, outcome: &str| {
            serde_json::to_string(&AuditLine {
                time: 0,
                client: "a".into(),
                window,
                evaluated,
                requested: evaluated,
                used: 0,
                budget: 100,
                outcome: outcome.into(),
            })
            .unwrap()
        };
        let log = [line(6, 50, "ok"), line(7, 30, "ok"), line(7, 0, "refused: budget")].join("\n");
        let mut b = Budget::default();
        b.replay(&log, 7);
        assert_eq!(b.reserve("a", 7, 71, 100), Err(30));
    }

    #[test]
    fn authenticates_by_token_only() {
        let clients = vec![
            ClientEntry { name: "a".into(), digest: Sha256::digest("token-of-a-0123456").into() },
            ClientEntry { name: "b".into(), digest: Sha256::digest("token-of-b-0123456").into() },
        ];
        assert_eq!(authenticate(&clients, b"token-of-b-0123456"), Some(1));
        assert_eq!(authenticate(&clients, b"token-of-b-012345"), None);
        assert_eq!(authenticate(&clients, b""), None);
    }

    #[cfg(unix)]
    #[test]
    fn clients_file_errors_name_the_line_not_the_token() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("clients");
        std::fs::write(&p, "# comment\nirfirm s3cr3t-short\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = load_clients(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && !e.contains("s3cr3t"), "{e}");
        std::fs::write(&p, "irfirm 0123456789abcdef0123\n").unwrap();
        assert_eq!(load_clients(&p).unwrap()[0].name, "irfirm");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_clients(&p).unwrap_err().to_string().contains("chmod 600"));
    }
}
