//! The HTTP server: routes, sessions, CSRF, rate limits, security headers, error replies.

mod api;
mod explain;
mod pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::assistant::Assistant;
use crate::error::Error;
use crate::ocr::OcrEngine;
use crate::store::{Session, Store, now_us};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "pixmo_session";
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Limits and timings of a running app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSettings {
    /// How long a claim lasts without a save, in seconds.
    pub lease_seconds: u64,
    /// How long a login lasts, in hours.
    pub session_hours: u64,
    /// API requests per account per minute.
    pub requests_per_minute: u32,
    /// LLM calls (drafts, revisions and automatic re-drafts) per account per minute.
    pub llm_calls_per_minute: u32,
}

impl Default for AppSettings {
    fn default() -> AppSettings {
        AppSettings {
            lease_seconds: 15 * 60,
            session_hours: 12,
            requests_per_minute: 1200,
            llm_calls_per_minute: 20,
        }
    }
}

impl AppSettings {
    pub(crate) fn lease_us(&self) -> i64 {
        i64::try_from(self.lease_seconds.saturating_mul(1_000_000)).unwrap_or(i64::MAX)
    }
}

#[derive(Default)]
struct Window {
    minute: i64,
    requests: u32,
    llm_calls: u32,
}

/// Shared state of the handlers.
pub(crate) struct App {
    pub store: Store,
    pub settings: AppSettings,
    pub assistant: Option<Arc<dyn Assistant>>,
    pub ocr: Option<Arc<dyn OcrEngine>>,
    windows: Mutex<HashMap<String, Window>>,
}

impl App {
    /// Counts one request (and one LLM call when `llm`) against the account's minute.
    pub(crate) fn rate_limit(&self, annotator_id: &str, llm: bool) -> Result<(), Error> {
        let minute = now_us() / 60_000_000;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = windows.entry(annotator_id.to_string()).or_default();
        if window.minute != minute {
            *window = Window {
                minute,
                ..Window::default()
            };
        }
        window.requests += 1;
        if window.requests > self.settings.requests_per_minute {
            return Err(Error::RateLimited(
                "Too many requests from this account; wait a minute".into(),
            ));
        }
        if llm {
            count_llm_call(window, self.settings.llm_calls_per_minute)?;
        }
        Ok(())
    }

    /// Counts one more LLM call of a request already counted (an automatic re-draft)
    /// against the account's minute.
    pub(crate) fn llm_call(&self, annotator_id: &str) -> Result<(), Error> {
        let minute = now_us() / 60_000_000;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = windows.entry(annotator_id.to_string()).or_default();
        if window.minute != minute {
            *window = Window {
                minute,
                ..Window::default()
            };
        }
        count_llm_call(window, self.settings.llm_calls_per_minute)
    }
}

fn count_llm_call(window: &mut Window, limit: u32) -> Result<(), Error> {
    window.llm_calls += 1;
    if window.llm_calls > limit {
        return Err(Error::RateLimited(
            "Too many assistant calls from this account; wait a minute".into(),
        ));
    }
    Ok(())
}

pub(crate) type AppState = Arc<App>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = match &self {
            Error::Invalid(_) | Error::DatabaseUrl(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Assistant(_) | Error::Ocr(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut message = self.to_string();
        if status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::BAD_GATEWAY {
            // The chain may name files or hosts: log it, show a summary.
            let mut source = std::error::Error::source(&self);
            let mut chain = message.clone();
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            eprintln!("pixmo annotate: {chain}");
            if status == StatusCode::BAD_GATEWAY {
                message.push_str("; try again");
            }
        }
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// The logged-in annotator of a request (from the session cookie).
pub(crate) struct Authed(pub Session, pub String);

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let unauthorized = || {
            if parts.uri.path().starts_with("/api/") || parts.uri.path().starts_with("/images/") {
                Error::Unauthorized("Log in first".into()).into_response()
            } else {
                (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response()
            }
        };
        let Some(cookie) = cookie_value(&parts.headers) else {
            return Err(unauthorized());
        };
        match app.store.session(&cookie, now_us()).await {
            Ok(Some(session)) => {
                if parts.method != Method::GET && parts.method != Method::HEAD {
                    let sent = parts
                        .headers
                        .get("x-csrf-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
                        return Err(Error::Forbidden(
                            "Missing or wrong CSRF token (header `x-csrf-token`)".into(),
                        )
                        .into_response());
                    }
                }
                Ok(Authed(session, cookie))
            }
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(e.into_response()),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        "content-security-policy",
        "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    // `same-origin`, not `no-referrer`: with the latter browsers send `Origin: null` on the
    // app's own form posts, which the login's origin check refuses.
    set(headers, "referrer-policy", "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, "cache-control", "no-store");
    }
    response
}

async fn fallback() -> Response {
    Error::NotFound("No such page".into()).into_response()
}

/// The app's routes over `app`.
pub(crate) fn router(app: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/points", get(pages::points))
        .route("/ask", get(pages::ask))
        .route("/explain", get(pages::explain))
        .route("/static/app.js", get(pages::script))
        .route("/static/app.css", get(pages::style))
        .route("/images/{sha256}", get(api::image))
        .route("/api/claim", post(api::claim))
        .route("/api/tasks/{id}", get(api::task))
        .route("/api/tasks/{id}/work", post(api::save))
        .route("/api/tasks/{id}/submit", post(api::submit))
        .route("/api/tasks/{id}/draft", post(api::draft))
        .route("/api/tasks/{id}/explain", post(explain::explain))
        .route("/api/tasks/{id}/feedback", post(api::feedback))
        .route("/api/tasks/{id}/accept", post(api::accept))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// A server bound to its address and running on the tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The bound address (the real port when 0 was asked for).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, finishes requests in flight and returns.
    ///
    /// # Errors
    /// [`Error::Server`] when the server failed.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Runs until the server stops.
    ///
    /// # Errors
    /// [`Error::Server`] when the server failed.
    pub async fn wait(self) -> Result<(), Error> {
        match self.task.await {
            Ok(result) => result.map_err(Error::Server),
            Err(e) => Err(Error::Server(std::io::Error::other(e))),
        }
    }
}

/// Binds `addr` and serves `store` until [`RunningServer::shutdown`].
pub(crate) async fn start_app(
    addr: SocketAddr,
    store: Store,
    settings: AppSettings,
    assistant: Option<Arc<dyn Assistant>>,
    ocr: Option<Arc<dyn OcrEngine>>,
) -> Result<RunningServer, Error> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(Error::Server)?;
    let addr = listener.local_addr().map_err(Error::Server)?;
    let app = Arc::new(App {
        store,
        settings,
        assistant,
        ocr,
        windows: Mutex::new(HashMap::new()),
    });
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
}

/// Reads a JSON body with a clear message on failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Invalid(format!("Bad JSON body: {e}")))
}
