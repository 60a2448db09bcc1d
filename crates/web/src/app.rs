//! Assembling the application: state, routes of every capability, and the layers
//! every request passes (metrics, tracing, body limit, cookies, localized errors).

use std::future::Future;
use std::path::Path;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use anyhow::Context;
use lienthong_search::SearchIndex;
use lienthong_services::exchange::{self, KeyStore};
use lienthong_store::{BlobStore, Db};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::http::{cookies, error, PageError};
use crate::i18n::Lang;

/// Settings of the web layer (from file, environment or flags in the CLI).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure`: set when the server is reached over HTTPS.
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub blobs: BlobStore,
    /// The search index (derived from the database; one process writes it).
    pub search: Arc<SearchIndex>,
    /// The exchange's keys and trust anchors (`<data>/pki`).
    pub keys: KeyStore,
    /// The client the delivery worker posts packages to peers with.
    pub http: lienthong_services::exchange::HttpClient,
    pub config: WebConfig,
}

impl AppState {
    pub fn new(db: Db, data_dir: &Path, config: WebConfig) -> anyhow::Result<Self> {
        let blobs = BlobStore::filesystem(&data_dir.join("blobs"))?;
        let search = Arc::new(
            SearchIndex::open(&data_dir.join("search")).context("opening the search index")?,
        );
        Ok(AppState {
            db,
            blobs,
            search,
            keys: KeyStore::open(data_dir.join("pki")),
            http: exchange::http_client().context("building the exchange's HTTP client")?,
            config,
        })
    }
}

/// Indexes queued documents a few times a second, so that a document is
/// searchable within a second of being saved; an empty index is rebuilt once.
async fn index_queued_documents(state: AppState) {
    if state.search.num_docs() == 0 {
        if let Err(e) = lienthong_services::search::rebuild(&state.db, &state.search).await {
            tracing::warn!(error = %e, "search index rebuild failed");
        }
    }
    loop {
        match lienthong_services::search::drain(&state.db, &state.search).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "indexing queued documents failed"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Delivers the exchange packages of the outbox as they fall due. Any number of
/// processes may run it: rows are claimed in the database, by this process's name.
async fn deliver_exchange_packages(state: AppState) {
    let node = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "lienthong".into()),
        std::process::id()
    );
    exchange::deliver_continuously(&state.db, &state.blobs, &state.keys, &state.http, &node).await
}

/// Removes, every six hours, the blobs no row has pointed at for a day.
async fn sweep_orphan_blobs(state: AppState) {
    use lienthong_services::blob_sweep::{sweep, EVERY, GRACE};
    loop {
        tokio::time::sleep(EVERY).await;
        match sweep(&state.db, &state.blobs, GRACE).await {
            Ok(Some(s)) if s.removed > 0 => {
                tracing::info!(
                    removed = s.removed,
                    examined = s.examined,
                    "orphan blobs swept"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweeping orphan blobs failed"),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let secure = state.config.secure_cookies;
    let max_body = state.config.max_body_bytes;
    Router::new()
        .merge(crate::auth::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::documents::routes())
        .merge(crate::exchange::routes())
        .merge(crate::search::routes())
        .merge(crate::admin::routes())
        .merge(crate::ops::routes())
        .route("/lang", get(switch_language))
        .route("/static/app.css", get(|| static_file("text/css; charset=utf-8", include_str!("static/app.css"))))
        .route("/api/openapi.json", get(|| static_file("application/json", include_str!("openapi.json"))))
        .route(
            "/static/htmx.min.js",
            get(|| static_file("text/javascript; charset=utf-8", include_str!("static/htmx.min.js"))),
        )
        .fallback(|| async { PageError::NotFound })
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .layer(from_fn(error::localize))
        .layer(from_fn(move |req, next| cookies::ensure(secure, req, next)))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .route_layer(from_fn(crate::ops::track))
        .with_state(state)
}

async fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
    next: Option<String>,
}

/// Switches the language with a plain link (works without JavaScript), remembered
/// in a cookie for a year.
async fn switch_language(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let next = crate::auth::safe_next(q.next.as_deref());
    let Some(lang) = Lang::parse(&q.to) else {
        return Redirect::to(&next).into_response();
    };
    let cookie = cookies::set(
        cookies::LANG,
        lang.code(),
        60 * 60 * 24 * 365,
        "Lax",
        state.config.secure_cookies,
    );
    ([(SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let indexer = tokio::spawn(index_queued_documents(state.clone()));
    let courier = tokio::spawn(deliver_exchange_packages(state.clone()));
    let sweeper = tokio::spawn(sweep_orphan_blobs(state.clone()));
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    indexer.abort();
    sweeper.abort();
    courier.abort();
    served
}
