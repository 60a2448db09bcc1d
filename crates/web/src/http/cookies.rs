//! The three cookies: the session (`lt_session`), the CSRF token (`lt_csrf`,
//! double-submit: a form must echo it), and the chosen language (`lt_lang`).

use axum::extract::Request;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;

use crate::i18n::Lang;

pub const SESSION: &str = "lt_session";
pub const CSRF: &str = "lt_csrf";
pub const LANG: &str = "lt_lang";

pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value. Every cookie is HttpOnly and SameSite; `secure` adds
/// `Secure` when the server is reached over HTTPS.
pub fn set(
    name: &str,
    value: &str,
    max_age_secs: i64,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let s = format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}"
    );
    HeaderValue::from_str(&s)
        .unwrap_or_else(|_| HeaderValue::from_static("lt_invalid=1; Max-Age=0"))
}

/// The session cookie, lasting as long as the server-side session.
pub fn session(secret: &str, secure: bool) -> HeaderValue {
    set(
        SESSION,
        secret,
        lienthong_services::auth::SESSION_HOURS * 3600,
        "Lax",
        secure,
    )
}

pub fn clear(name: &str) -> HeaderValue {
    set(name, "", 0, "Lax", false)
}

/// The CSRF token of this request (from its cookie, or freshly made).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Gives every request a CSRF token and a language, setting the token cookie on
/// the response when the browser had none.
pub async fn ensure(secure: bool, mut req: Request, next: Next) -> Response {
    let existing = get(req.headers(), CSRF)
        .filter(|t| t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()));
    let token = existing.clone().unwrap_or_else(|| {
        let mut b = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut b);
        hex::encode(b)
    });
    let lang = get(req.headers(), LANG)
        .and_then(|l| Lang::parse(&l))
        .unwrap_or(Lang::Vi);
    req.extensions_mut().insert(CsrfToken(token.clone()));
    req.extensions_mut().insert(lang);
    let mut res = next.run(req).await;
    if existing.is_none() {
        res.headers_mut().append(
            SET_COOKIE,
            set(CSRF, &token, 60 * 60 * 24 * 365, "Lax", secure),
        );
    }
    res
}
