//! Server-rendered pages. Every value from the database or a user is escaped; the pages'
//! behaviour is in `static/app.js` (no inline script, so the CSP can forbid it).

use axum::extract::{Form, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{AppState, Authed, SESSION_COOKIE};
use crate::error::{Error, Result};
use crate::store::{Session, TaskKind, now_us};

const SCRIPT: &str = include_str!("../../static/app.js");
const STYLE: &str = include_str!("../../static/app.css");

/// Escapes text for HTML element content and quoted attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, page: &str, session: Option<&Session>, body: &str) -> Html<String> {
    let (csrf, who) = match session {
        Some(s) => (
            escape(&s.csrf_token),
            format!(
                "<span class=\"who\">{}</span> <button type=\"button\" id=\"logout\">Log out</button>",
                escape(&s.annotator.pseudonym)
            ),
        ),
        None => (String::new(), String::new()),
    };
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"csrf-token\" content=\"{csrf}\">\
         <title>{title} · pixmo annotate</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head>\
         <body data-page=\"{page}\"><header><a href=\"/\">pixmo annotate</a> {who}</header>\
         <main>{body}</main></body></html>\n",
        title = escape(title),
        page = escape(page),
    ))
}

pub(super) async fn index(
    State(app): State<AppState>,
    Authed(session, _): Authed,
) -> Result<Html<String>> {
    let mut rows = String::new();
    for (kind, path, name) in [
        (TaskKind::Points, "/points", "Points"),
        (TaskKind::AskModelAnything, "/ask", "Ask the model anything"),
        (
            TaskKind::PointExplanations,
            "/explain",
            "Point explanations",
        ),
    ] {
        let (open, claimed, done) = app.store.queue_counts(kind).await?;
        rows.push_str(&format!(
            "<tr><td><a href=\"{path}\">{name}</a></td><td>{open}</td><td>{claimed}</td><td>{done}</td></tr>"
        ));
    }
    let body = format!(
        "<h1>Tasks</h1><table><thead><tr><th>Kind</th><th>Open</th><th>In progress</th>\
         <th>Done</th></tr></thead><tbody>{rows}</tbody></table>"
    );
    Ok(page("Tasks", "index", Some(&session), &body))
}

fn login_page(message: Option<&str>) -> Html<String> {
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    page(
        "Log in",
        "login",
        None,
        &format!(
            "<h1>Log in</h1>{message}<form method=\"post\" action=\"/login\">\
             <label>Invite token <input name=\"token\" type=\"password\" autocomplete=\"off\" \
             required autofocus></label> <button type=\"submit\">Log in</button></form>"
        ),
    )
}

pub(super) async fn login_form() -> Html<String> {
    login_page(None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

/// A cross-site form posting someone's token (login CSRF) carries a foreign `Origin`.
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // Not sent by older browsers or non-browser clients.
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

pub(super) async fn login(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return Error::Forbidden("Log in from this app's own page".into()).into_response();
    }
    let ttl =
        i64::try_from(app.settings.session_hours.saturating_mul(3_600_000_000)).unwrap_or(i64::MAX);
    match app.store.login(&form.token, now_us(), ttl).await {
        Ok((cookie, _)) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/".to_string()),
                (
                    header::SET_COOKIE,
                    format!("{SESSION_COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Strict"),
                ),
            ],
        )
            .into_response(),
        Err(Error::Unauthorized(message)) => {
            (StatusCode::UNAUTHORIZED, login_page(Some(&message))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub(super) async fn logout(
    State(app): State<AppState>,
    Authed(_, cookie): Authed,
) -> Result<Response> {
    app.store.logout(&cookie).await?;
    Ok((
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
        axum::Json(serde_json::json!({ "logged_out": true })),
    )
        .into_response())
}

const KEYS_POINTS: &str = "<p class=\"keys\">Click the image to add a point · \
    <kbd>z</kbd>/<kbd>Backspace</kbd> undo last point · <kbd>n</kbd> not present · \
    <kbd>c</kbd> toggle count-every-instance · <kbd>Enter</kbd> accept label · \
    <kbd>Shift</kbd>+<kbd>Enter</kbd> submit image · <kbd>Esc</kbd> leave the text field</p>";

pub(super) async fn points(Authed(session, _): Authed) -> Html<String> {
    let body = format!(
        "<h1>Points</h1>{KEYS_POINTS}<p id=\"status\" role=\"status\">Loading…</p>\
         <section id=\"task\" hidden><div class=\"stage\"><img id=\"image\" alt=\"Image to annotate\">\
         <div id=\"marks\"></div></div>\
         <div class=\"panel\"><label>Referring expression <input id=\"label\" autocomplete=\"off\"></label>\
         <label class=\"check\"><input type=\"checkbox\" id=\"counting\"> Count every instance</label>\
         <label class=\"check\"><input type=\"checkbox\" id=\"not-present\"> Not present</label>\
         <p>Points: <span id=\"count\">0</span></p>\
         <button type=\"button\" id=\"accept\">Accept label (Enter)</button> \
         <button type=\"button\" id=\"submit\">Submit image (Shift+Enter)</button>\
         <h2>Accepted labels</h2><ul id=\"entries\"></ul></div></section>"
    );
    page("Points", "points", Some(&session), &body)
}

pub(super) async fn ask(Authed(session, _): Authed) -> Html<String> {
    let body = "<h1>Ask the model anything</h1>\
         <p class=\"keys\"><kbd>Ctrl</kbd>+<kbd>Enter</kbd> ask / send feedback · \
         <kbd>Alt</kbd>+<kbd>a</kbd> accept the latest answer</p>\
         <p id=\"status\" role=\"status\">Loading…</p>\
         <section id=\"task\" hidden><div class=\"stage\"><img id=\"image\" alt=\"Image to ask about\"></div>\
         <div class=\"panel\"><label>Question <textarea id=\"question\" rows=\"3\"></textarea></label>\
         <button type=\"button\" id=\"ask\">Ask the model (Ctrl+Enter)</button>\
         <ol id=\"turns\"></ol>\
         <label>What is wrong with the answer? <textarea id=\"feedback\" rows=\"3\"></textarea></label>\
         <button type=\"button\" id=\"revise\">Ask for a revision</button> \
         <button type=\"button\" id=\"accept\">Accept latest answer (Alt+a)</button></div></section>";
    page("Ask the model anything", "ask", Some(&session), body)
}

pub(super) async fn explain(Authed(session, _): Authed) -> Html<String> {
    let body = "<h1>Point explanations</h1>\
         <p class=\"keys\">Write the question · click the places the answer must cite · \
         <kbd>z</kbd>/<kbd>Backspace</kbd> undo last point · <kbd>Enter</kbd> accept the group · \
         <kbd>Esc</kbd> leave the text field · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> ask / send feedback · \
         <kbd>Alt</kbd>+<kbd>a</kbd> accept the latest answer</p>\
         <p id=\"status\" role=\"status\">Loading…</p>\
         <section id=\"task\" hidden><div class=\"stage\"><img id=\"image\" alt=\"Image to explain\">\
         <div id=\"marks\"></div></div>\
         <div class=\"panel\"><label>Question <textarea id=\"question\" rows=\"2\"></textarea></label>\
         <label>What the clicked points show <input id=\"label\" autocomplete=\"off\"></label>\
         <p>Points in this group: <span id=\"count\">0</span> \
         <button type=\"button\" id=\"add-group\">Accept group (Enter)</button></p>\
         <h2>Marked groups</h2><ol id=\"groups\"></ol>\
         <button type=\"button\" id=\"ask\">Ask the model (Ctrl+Enter)</button>\
         <ol id=\"turns\"></ol>\
         <label>What is wrong with the answer? <textarea id=\"feedback\" rows=\"2\"></textarea></label>\
         <button type=\"button\" id=\"revise\">Ask for a revision</button> \
         <button type=\"button\" id=\"accept\">Accept latest answer (Alt+a)</button></div></section>";
    page("Point explanations", "explain", Some(&session), body)
}

pub(super) async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}
