//! Extractors: who is asking (session cookie or bearer token), in which language,
//! and a form body whose CSRF token has been checked.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::Uri;
use lienthong_services::auth::{self, Principal};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::cookies::{self, CsrfToken};
use super::{ApiError, Chrome, PageError};
use crate::i18n::{Lang, Tr};
use crate::AppState;

/// What every page needs from the request, signed in or not.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub lang: Lang,
    pub csrf: String,
    pub uri: Uri,
}

impl RequestCtx {
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }

    pub fn chrome(&self, principal: Option<&Principal>) -> Chrome {
        Chrome::new(self, principal)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestCtx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = parts.extensions.get::<Lang>().copied().unwrap_or(Lang::Vi);
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        Ok(RequestCtx {
            lang,
            csrf,
            uri: parts.uri.clone(),
        })
    }
}

/// A signed-in person on a page; anyone else is sent to the sign-in page.
pub struct SignedIn {
    pub principal: Principal,
    pub ctx: RequestCtx,
    /// The session cookie's secret (to close this session on sign-out).
    pub session: String,
}

impl SignedIn {
    pub fn chrome(&self) -> Chrome {
        self.ctx.chrome(Some(&self.principal))
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ctx = RequestCtx::from_request_parts(parts, state).await?;
        let secret = cookies::get(&parts.headers, cookies::SESSION);
        let found = match &secret {
            Some(s) => auth::session_principal(&state.db, s).await?,
            None => None,
        };
        match (found, secret) {
            (Some(principal), Some(session)) => Ok(SignedIn {
                principal,
                ctx,
                session,
            }),
            _ => Err(PageError::SignInRequired(ctx.uri.to_string())),
        }
    }
}

/// A person authenticated with `Authorization: Bearer <token>`.
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::Unauthorized)?;
        match auth::token_principal(&state.db, token).await? {
            Some(p) => Ok(ApiUser(p)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// A url-encoded form whose `_csrf` field matches the `lt_csrf` cookie.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(PageError::UnsupportedType);
        }
        let cookie = cookies::get(req.headers(), cookies::CSRF).unwrap_or_default();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::TooLarge)?;
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| PageError::BadForm)?;
        let sent = fields
            .iter()
            .find(|(k, _)| k == "_csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        if cookie.is_empty() || !bool::from(sent.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(PageError::Csrf);
        }
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|_| PageError::BadForm)
    }
}

/// A JSON body; anything else is a JSON error with a stable code.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedType);
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::TooLarge)?;
        serde_json::from_slice(&body)
            .map(ApiJson)
            .map_err(|e| ApiError::BadJson(e.to_string()))
    }
}
