//! What the provincial CA publishes for other systems: its certificate (to trust)
//! and its current CRL (to check revocations), at fixed public addresses.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pki/ca.pem", get(ca_certificate))
        .route("/pki/crl.pem", get(crl))
}

async fn ca_certificate(State(state): State<AppState>) -> Response {
    file(&state, lienthong_pki::ca::CA_CERT, "application/x-pem-file").await
}

async fn crl(State(state): State<AppState>) -> Response {
    file(&state, lienthong_pki::ca::CRL, "application/x-pem-file").await
}

async fn file(state: &AppState, name: &str, content_type: &'static str) -> Response {
    let path = state.keys.ca_dir().join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "max-age=300")],
            bytes,
        )
            .into_response(),
        // No CA on this system (yet): nothing is published.
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
