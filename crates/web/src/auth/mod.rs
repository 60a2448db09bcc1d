//! Signing in and out, the person's own account page, API tokens and `/api/v1/me`.

use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lienthong_domain::Password;
use lienthong_services::auth::{self, PasswordChangeError, SignInError};
use serde::Deserialize;
use serde_json::json;

use crate::http::cookies;
use crate::http::{
    render, ApiError, ApiJson, ApiUser, Chrome, CsrfForm, PageError, RequestCtx, SignedIn,
};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/profile", get(profile_page))
        .route("/profile/password", post(change_password))
        .route("/api/v1/auth/token", post(api_token))
        .route("/api/v1/me", get(api_me))
}

/// The client's address, for throttling (the socket peer; a reverse proxy in
/// front should be configured to connect from a trusted address per client).
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(ClientAddr(addr))
    }
}

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    c: Chrome,
    next: String,
    username: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn sign_in_page(ctx: RequestCtx, Query(q): Query<SignInQuery>) -> Response {
    let notice = (q.notice.as_deref() == Some("signed_out")).then_some("sign_in.signed_out");
    render(SignInPage {
        c: ctx.chrome(None).with_notice(notice),
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct SignInForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn sign_in(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ClientAddr(addr): ClientAddr,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let failed = |status: StatusCode, key: &'static str| {
        let mut res = render(SignInPage {
            c: ctx.chrome(None),
            next: next.clone(),
            username: form.username.clone(),
            error: Some(key),
        });
        *res.status_mut() = status;
        res
    };
    match auth::check_credentials(&state.db, &form.username, &form.password, &addr).await {
        Ok(person) => {
            let secret = auth::open_session(&state.db, &person, &addr).await?;
            let cookie = cookies::session(&secret, state.config.secure_cookies);
            Ok(([(SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
        }
        Err(SignInError::Invalid) => Ok(failed(StatusCode::UNAUTHORIZED, "sign_in.invalid")),
        Err(SignInError::Throttled) => {
            Ok(failed(StatusCode::TOO_MANY_REQUESTS, "sign_in.throttled"))
        }
        Err(SignInError::Service(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn sign_out(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    auth::close_session(&state.db, &user.principal, &user.session).await?;
    Ok((
        [(SET_COOKIE, cookies::clear(cookies::SESSION))],
        Redirect::to("/sign-in?notice=signed_out"),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "auth/profile.html")]
struct ProfilePage {
    c: Chrome,
    username: String,
    full_name: String,
    email: String,
    positions: Vec<lienthong_services::people::Position>,
    error: Option<&'static str>,
}

impl ProfilePage {
    fn of(user: &SignedIn, c: Chrome, error: Option<&'static str>) -> Self {
        let p = &user.principal.person;
        ProfilePage {
            c,
            username: p.username.clone(),
            full_name: p.full_name.clone(),
            email: p.email.clone().unwrap_or_default(),
            positions: user.principal.positions.clone(),
            error,
        }
    }
}

async fn profile_page(user: SignedIn) -> Response {
    render(ProfilePage::of(&user, user.chrome(), None))
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    user: SignedIn,
    ClientAddr(addr): ClientAddr,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let refuse = |key: &'static str| {
        let mut res = render(ProfilePage::of(&user, user.chrome(), Some(key)));
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(res)
    };
    if form.new != form.confirm {
        return refuse("profile.mismatch");
    }
    let new = match Password::parse(&form.new) {
        Ok(p) => p,
        Err(_) => return refuse("error.password_length"),
    };
    match auth::change_password(&state.db, &user.principal, &form.current, &new).await {
        Ok(()) => {}
        Err(PasswordChangeError::WrongCurrent) => return refuse("profile.wrong_current"),
        Err(PasswordChangeError::Service(e)) => return Err(e.into()),
    }
    // Changing the password closed every session, this one included: open a fresh one.
    let secret = auth::open_session(&state.db, &user.principal.person, &addr).await?;
    let cookie = cookies::session(&secret, state.config.secure_cookies);
    let page = render(ProfilePage::of(
        &user,
        user.chrome().with_notice(Some("profile.changed")),
        None,
    ));
    Ok(([(SET_COOKIE, cookie)], page).into_response())
}

#[derive(Deserialize)]
struct TokenRequest {
    username: String,
    password: String,
}

async fn api_token(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    match auth::check_credentials(&state.db, &req.username, &req.password, &addr).await {
        Ok(person) => {
            let token = auth::issue_api_token(&state.db, &person).await?;
            Ok(Json(json!({"token": token, "token_type": "Bearer", "expires_in_days": auth::TOKEN_DAYS})).into_response())
        }
        Err(SignInError::Invalid) => Ok((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "invalid_credentials", "message": "Wrong user name or password.", "field": null}})),
        )
            .into_response()),
        Err(SignInError::Throttled) => Err(ApiError::Throttled),
        Err(SignInError::Service(e)) => Err(e.into()),
    }
}

async fn api_me(ApiUser(p): ApiUser) -> Json<serde_json::Value> {
    let mut agencies: Vec<serde_json::Value> = Vec::new();
    for pos in &p.positions {
        match agencies
            .iter_mut()
            .find(|a| a["code"] == pos.agency_code.as_str())
        {
            Some(a) => {
                if let Some(roles) = a["roles"].as_array_mut() {
                    roles.push(json!(pos.role));
                }
            }
            None => agencies.push(
                json!({"id": pos.agency_id, "code": pos.agency_code, "name": pos.agency_name,
                                          "roles": [pos.role]}),
            ),
        }
    }
    let mut roles: Vec<_> = p.positions.iter().map(|x| x.role).collect();
    roles.sort();
    roles.dedup();
    Json(json!({
        "id": p.person.id,
        "username": p.person.username,
        "full_name": p.person.full_name,
        "kind": p.person.kind,
        "agency_codes": p.positions.iter().map(|x| x.agency_code.clone()).collect::<std::collections::BTreeSet<_>>(),
        "roles": roles,
        "agencies": agencies,
    }))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/admin/agencies?x=1")),
            "/admin/agencies?x=1"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
