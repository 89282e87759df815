//! `diaoyan serve OUT`: the reviewer's local web page over one run's outputs.
//!
//! Pages (Simplified Chinese, no scripts, no external assets): an overview, the redo list, each
//! document with the sentences its reasons quote marked in place, search with filters, facets
//! and marked passages, issues and topics with their member suggestions, and the cadres' rule
//! checks. Reviewer decisions (confirm a redo, override a verdict with a note, mark an issue
//! handled, withdraw) are appended to `OUT/decisions.jsonl`, which the next `diaoyan run` reads.
//!
//! Security: loopback only unless a listen address is given, and then every request needs the
//! access token printed at start (taken from `?token=` once, then kept in a same-site cookie);
//! on loopback the Host header must name the loopback (no DNS rebinding); state changes are
//! POST with a same-origin check; no path from a request ever reaches the file system (pages
//! look submissions up by id in memory); every piece of submission text is escaped; bad
//! requests get a Chinese 4xx page.

mod evidence;
mod pages;
mod store;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

pub use evidence::{Mark, marks, quotes};
use store::Store;

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder is not a run's output folder.
    #[error("{path} 不是 diaoyan 的输出目录：{reason}（请先运行 diaoyan run）")]
    NotARun {
        /// The folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An output file could not be read.
    #[error("无法读取 {path}：{reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An output file was replaced (a re-run) after the page read the run.
    #[error("{path} 已被新的运行改写，请稍后刷新页面")]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The address could not be used.
    #[error("无法在 {addr} 上启动审核页面：{reason}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    /// The run's output folder.
    pub out: PathBuf,
    /// Address to listen on; `None`: 127.0.0.1 only. Any other address needs the token.
    pub listen: Option<IpAddr>,
    /// Port (0: any free port).
    pub port: u16,
}

/// Where the page is, once listening.
#[derive(Debug, Clone)]
pub struct Started {
    /// The address to open (with the token when one is needed).
    pub url: String,
    /// The access token, when listening beyond the loopback.
    pub token: Option<String>,
}

/// The running app's state.
struct App {
    out: PathBuf,
    store: RwLock<Arc<Store>>,
    token: Option<String>,
    /// Serialises writes to decisions.jsonl.
    write: Mutex<()>,
}

impl App {
    /// The run's outputs, read again when `run.json` changed (a re-run while the page is open).
    fn store(&self) -> Result<Arc<Store>, pages::Refusal> {
        let now = store::stamp(&self.out);
        {
            let s = self.store.read().map_err(|_| internal())?;
            if s.stamp == now {
                return Ok(s.clone());
            }
        }
        match Store::load(&self.out) {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.store.write().map_err(|_| internal())? = fresh.clone();
                Ok(fresh)
            }
            // A run in progress replaces files one by one: keep showing the last complete one.
            Err(_) => Ok(self.store.read().map_err(|_| internal())?.clone()),
        }
    }
}

fn internal() -> pages::Refusal {
    pages::refuse(
        StatusCode::INTERNAL_SERVER_ERROR,
        "服务器内部错误，请重新启动审核页面。",
    )
}

/// A random token (128 bits from the standard library's OS-seeded hash keys).
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Serves `opts.out` until the process is stopped; `ready` is called once listening.
pub fn serve(opts: Options, ready: impl FnOnce(&Started)) -> Result<(), Error> {
    let store = Store::load(&opts.out)?;
    let ip = opts.listen.unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let token = (!ip.is_loopback()).then(new_token);
    let app = Arc::new(App {
        out: opts.out.clone(),
        store: RwLock::new(Arc::new(store)),
        token: token.clone(),
        write: Mutex::new(()),
    });
    // The index is let go when unused, so a re-run can replace it (see `store::Index`).
    let idle = Arc::downgrade(&app);
    std::thread::spawn(move || {
        while let Some(app) = idle.upgrade() {
            if let Ok(s) = app.store.read()
                && let Ok(index) = &s.index
            {
                index.close_idle(store::Index::IDLE);
            }
            drop(app);
            std::thread::sleep(store::Index::IDLE / 4);
        }
    });
    let addr = SocketAddr::new(ip, opts.port);
    let bind_err = |e: std::io::Error| Error::Bind {
        addr: addr.to_string(),
        reason: e.to_string(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(bind_err)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let host = if ip.is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            local.ip().to_string()
        };
        let mut url = format!("http://{host}:{}/", local.port());
        if let Some(t) = &token {
            url.push_str(&format!("?token={t}"));
        }
        ready(&Started {
            url,
            token: token.clone(),
        });
        axum::serve(listener, router(app))
            .await
            .map_err(|e| Error::Bind {
                addr: addr.to_string(),
                reason: e.to_string(),
            })
    })
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/redo", get(redo))
        .route("/doc/{id}", get(doc))
        .route("/search", get(search))
        .route("/search.csv", get(search_csv))
        .route("/issues", get(issues))
        .route("/issue/{id}", get(issue))
        .route("/cadres", get(cadres))
        .route("/decide", post(decide))
        .fallback(|| async { pages::error_page(StatusCode::NOT_FOUND, "没有这个页面。") })
        .method_not_allowed_fallback(|| async {
            pages::error_page(
                StatusCode::METHOD_NOT_ALLOWED,
                "这个页面不接受这种请求方式。",
            )
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// The cookie that carries the access token.
const COOKIE: &str = "diaoyan_token";

/// The cookie that remembers the reviewer's name for the next form.
const REVIEWER: &str = "diaoyan_reviewer";

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// The reviewer's name as last typed (percent-encoded in its cookie).
fn reviewer(headers: &HeaderMap) -> String {
    cookie(headers, REVIEWER)
        .and_then(|v| params(Some(&format!("r={v}"))).ok())
        .and_then(|mut p| p.remove("r"))
        .unwrap_or_default()
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Every request: the token (beyond loopback), the Host (on loopback), same origin for POST.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(token) = &app.token {
        let given = params(req.uri().query())
            .ok()
            .and_then(|p| p.get("token").cloned());
        if let Some(g) = given {
            if !same(&g, token) {
                return pages::error_page(
                    StatusCode::FORBIDDEN,
                    "访问口令不对。请使用启动审核页面时显示的地址。",
                );
            }
            // Keep the token in a cookie and drop it from the address bar.
            let mut resp = redirect(req.uri().path());
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
            )) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            return resp;
        }
        if !cookie_token(headers).is_some_and(|c| same(&c, token)) {
            return pages::error_page(
                StatusCode::FORBIDDEN,
                "需要访问口令。请使用启动审核页面时显示的完整地址（含 token）。",
            );
        }
    } else {
        let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
            return pages::error_page(
                StatusCode::FORBIDDEN,
                "只接受本机访问（地址应为 127.0.0.1）。",
            );
        }
    }
    if req.method() == Method::POST {
        let origin = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ours = format!("http://{host}");
        if !(origin == ours || origin.starts_with(&format!("{ours}/"))) {
            return pages::error_page(
                StatusCode::FORBIDDEN,
                "拒绝来自其他网站的提交。请在审核页面里操作。",
            );
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Query or form parameters (the last value of a repeated name wins).
fn params(raw: Option<&str>) -> Result<HashMap<String, String>, pages::Refusal> {
    match raw {
        None | Some("") => Ok(HashMap::new()),
        Some(q) => serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(|v| v.into_iter().collect())
            .map_err(|_| pages::refuse(StatusCode::BAD_REQUEST, "地址中的参数无法识别。")),
    }
}

/// The id in a page's address (`/doc/{id}`), or a 400 naming what it should have been.
fn path_id(
    id: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
    what: &str,
) -> Result<String, pages::Refusal> {
    id.map(|UrlPath(id)| id).map_err(|_| {
        pages::refuse(
            StatusCode::BAD_REQUEST,
            &format!("地址中的{what}无法识别。"),
        )
    })
}

/// Runs a page function, turning its error page into the response.
fn respond(r: Result<Response, pages::Refusal>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn overview(State(app): State<Arc<App>>) -> Response {
    respond((|| {
        let s = app.store()?;
        Ok(pages::overview(&s, &pages::decisions(&s.out)))
    })())
}

async fn redo(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    respond((|| {
        let s = app.store()?;
        let p = params(q.as_deref())?;
        pages::redo(&s, &pages::decisions(&s.out), &p)
    })())
}

async fn doc(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    id: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    respond((|| {
        let s = app.store()?;
        let id = path_id(id, "材料编号")?;
        pages::doc(&s, &pages::decisions(&s.out), &id, &reviewer(&headers))
    })())
}

async fn search(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    respond((|| {
        let s = app.store()?;
        let p = params(q.as_deref())?;
        pages::search(&s, &p)
    })())
}

async fn search_csv(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Response {
    respond((|| {
        let s = app.store()?;
        let p = params(q.as_deref())?;
        pages::search_csv(&s, &p)
    })())
}

async fn issues(State(app): State<Arc<App>>) -> Response {
    respond((|| {
        let s = app.store()?;
        Ok(pages::issues(&s, &pages::decisions(&s.out)))
    })())
}

async fn issue(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    id: Result<UrlPath<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    respond((|| {
        let s = app.store()?;
        let id = path_id(id, "问题编号")?;
        pages::issue(&s, &pages::decisions(&s.out), &id, &reviewer(&headers))
    })())
}

async fn cadres(State(app): State<Arc<App>>) -> Response {
    respond((|| {
        let s = app.store()?;
        Ok(pages::cadres(&s))
    })())
}

async fn decide(
    State(app): State<Arc<App>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    respond((|| {
        let s = app.store()?;
        let body =
            body.map_err(|_| pages::refuse(StatusCode::BAD_REQUEST, "提交的内容过大或无法读取。"))?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| pages::refuse(StatusCode::BAD_REQUEST, "提交的内容不是 UTF-8 文本。"))?;
        let form = params(Some(text))?;
        let (decision, back) = pages::decision(&s, &pages::decisions(&s.out), &form)?;
        let _w = app.write.lock().map_err(|_| internal())?;
        diaoyan_digest::append_decision(&s.out.join(diaoyan_digest::DECISIONS_FILE), &decision)
            .map_err(|e| {
                pages::refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("审核意见没有保存：{e}"),
                )
            })?;
        let mut resp = redirect(&back);
        // Remember the name for the next form.
        let name =
            serde_urlencoded::to_string([("r", decision.reviewer.as_str())]).unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{REVIEWER}={}; HttpOnly; SameSite=Strict; Path=/",
            name.trim_start_matches("r=")
        )) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        Ok(resp)
    })())
}
