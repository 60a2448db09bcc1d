//! The exchange's peer directory (danh bạ hệ thống liên thông): which system, at
//! which address, serves the agencies that are not on this one. The province's
//! administrators keep it here, as with `lienthong exchange peer` on the command line.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lienthong_domain::OrgCode;
use lienthong_services::exchange::{self, Peer};
use lienthong_services::ServiceError;
use serde::Deserialize;

use super::require_province_admin;
use crate::http::{render, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/peers", get(peers_page).post(add_peer))
        .route("/admin/peers/remove", post(remove_peer))
}

#[derive(Template)]
#[template(path = "admin/peers.html")]
struct PeersPage {
    c: Chrome,
    peers: Vec<Peer>,
    error: Option<&'static str>,
    /// What was typed, kept when it is refused.
    form: PeerForm,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PeerForm {
    code_pattern: String,
    base_url: String,
    note: String,
}

async fn view(
    state: &AppState,
    user: &SignedIn,
    error: Option<&'static str>,
    form: PeerForm,
) -> Result<Response, PageError> {
    require_province_admin(state, &user.principal).await?;
    let page = PeersPage {
        c: user.chrome(),
        peers: exchange::peers(&state.db).await?,
        error,
        form,
    };
    let mut res = render(page);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn peers_page(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    view(&state, &user, None, PeerForm::default()).await
}

/// Adds the peer serving a code pattern, or changes its address.
async fn add_peer(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(f): CsrfForm<PeerForm>,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let Ok(pattern) = OrgCode::parse(f.code_pattern.trim()) else {
        return view(&state, &user, Some("error.org_code"), f).await;
    };
    match exchange::add_peer(
        &state.db,
        &user.principal.actor(),
        &pattern,
        &f.base_url,
        &f.note,
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/admin/peers").into_response()),
        Err(ServiceError::Invalid { code, .. }) => view(&state, &user, Some(code), f).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveForm {
    code_pattern: String,
}

/// Removes the route of a code pattern (a button on each row of the directory).
async fn remove_peer(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(f): CsrfForm<RemoveForm>,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let Ok(pattern) = OrgCode::parse(f.code_pattern.trim()) else {
        return view(&state, &user, Some("error.org_code"), PeerForm::default()).await;
    };
    // Already gone (removed in another tab, say): the directory shows it is.
    exchange::remove_peer(&state.db, &user.principal.actor(), &pattern).await?;
    Ok(Redirect::to("/admin/peers").into_response())
}
