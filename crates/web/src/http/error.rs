//! Errors as the reader sees them. Pages get a localized error page (built by the
//! [`localize`] middleware from the status, so even the framework's own rejections
//! are translated); the API gets JSON with a stable code.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use lienthong_services::ServiceError;
use serde_json::json;

use super::cookies::CsrfToken;
use super::extract::RequestCtx;
use crate::i18n::{Lang, Tr};

/// A message key attached to an error response, when the status alone is too vague.
#[derive(Debug, Clone, Copy)]
pub struct ErrorKey(pub &'static str);

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("malformed form")]
    BadForm,
    #[error("body too large")]
    TooLarge,
    #[error("unsupported content type")]
    UnsupportedType,
    #[error("sign-in required")]
    SignInRequired(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => PageError::NotFound,
            ServiceError::Forbidden => PageError::Forbidden,
            ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::Duplicate(_) => PageError::BadForm,
            ServiceError::Store(e) => PageError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, key) = match &self {
            PageError::NotFound => (StatusCode::NOT_FOUND, "error.not_found"),
            PageError::Forbidden => (StatusCode::FORBIDDEN, "error.forbidden"),
            PageError::Csrf => (StatusCode::FORBIDDEN, "error.csrf"),
            PageError::BadForm => (StatusCode::BAD_REQUEST, "error.bad_form"),
            PageError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "error.too_large"),
            PageError::UnsupportedType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "error.unsupported_type")
            }
            PageError::SignInRequired(next) => {
                let target = format!("/sign-in?next={}", urlencode(next));
                return Redirect::to(&target).into_response();
            }
            PageError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
            }
        };
        let mut res = (status, key).into_response();
        res.extensions_mut().insert(ErrorKey(key));
        res
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|s| s[1..].to_owned())
        .unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("malformed JSON: {0}")]
    BadJson(String),
    #[error("unsupported content type")]
    UnsupportedType,
    #[error("body too large")]
    TooLarge,
    #[error("invalid {field}")]
    Invalid {
        field: &'static str,
        code: &'static str,
    },
    #[error("too many attempts")]
    Throttled,
    #[error("possible duplicate")]
    Duplicate(Vec<i64>),
    /// The action does not fit the record's current state (already issued, closed…).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::Invalid { field, code } => ApiError::Invalid { field, code },
            ServiceError::Conflict(c) => ApiError::Conflict(c),
            ServiceError::Duplicate(ids) => ApiError::Duplicate(ids),
            ServiceError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let en = Tr::new(Lang::En);
        let (status, code, message, field) = match &self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                en.get("error.unauthorized").to_owned(),
                None,
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                en.get("error.forbidden").to_owned(),
                None,
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                en.get("error.not_found").to_owned(),
                None,
            ),
            ApiError::BadJson(detail) => {
                (StatusCode::BAD_REQUEST, "bad_json", detail.clone(), None)
            }
            ApiError::UnsupportedType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json".to_owned(),
                None,
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                en.get("error.too_large").to_owned(),
                None,
            ),
            ApiError::Invalid { field, code } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code.strip_prefix("error.").unwrap_or(code),
                en.get(code).to_owned(),
                Some(*field),
            ),
            ApiError::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                en.get("sign_in.throttled").to_owned(),
                None,
            ),
            ApiError::Duplicate(_) => (
                StatusCode::CONFLICT,
                "duplicate",
                en.get("documents.duplicate").to_owned(),
                Some("symbol"),
            ),
            ApiError::Conflict(detail) => (
                StatusCode::CONFLICT,
                "conflict",
                format!("{} ({detail})", en.get("error.conflict")),
                None,
            ),
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "API request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    en.get("error.internal").to_owned(),
                    None,
                )
            }
        };
        let mut body = json!({"error": {"code": code, "message": message, "field": field}});
        if let ApiError::Duplicate(ids) = &self {
            body["error"]["duplicate_of"] = json!(ids);
        }
        (status, axum::Json(body)).into_response()
    }
}

/// Turns every error response that is not already HTML or JSON into a localized
/// page (or, under `/api/`, a JSON error), whoever produced it.
pub async fn localize(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let ctx = RequestCtx {
        lang: req.extensions().get::<Lang>().copied().unwrap_or(Lang::Vi),
        csrf: req
            .extensions()
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        uri: req.uri().clone(),
    };
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || path == "/healthz"
        || path == "/metrics"
    {
        return res;
    }
    let content_type = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("text/html") || content_type.starts_with("application/json") {
        return res;
    }
    let key = res
        .extensions()
        .get::<ErrorKey>()
        .map(|k| k.0)
        .unwrap_or(match status {
            StatusCode::NOT_FOUND => "error.not_found",
            StatusCode::FORBIDDEN => "error.forbidden",
            StatusCode::UNAUTHORIZED => "error.unauthorized",
            StatusCode::METHOD_NOT_ALLOWED => "error.method",
            StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "error.unsupported_type",
            s if s.is_client_error() => "error.bad_form",
            _ => "error.internal",
        });
    if path.starts_with("/api/") {
        let code = key.strip_prefix("error.").unwrap_or(key);
        let body =
            json!({"error": {"code": code, "message": Tr::new(Lang::En).get(key), "field": null}});
        return (status, axum::Json(body)).into_response();
    }
    let page = super::page::ErrorPage {
        c: ctx.chrome(None),
        message_key: key,
        status: status.as_u16(),
    };
    let mut out = super::render(page);
    *out.status_mut() = status;
    out.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    out
}
