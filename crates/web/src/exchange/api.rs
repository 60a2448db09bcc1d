//! The exchange in the JSON API: the clerk's arrived queue with registering and
//! refusing, the recall, update and replace requests (thu hồi, cập nhật, thay thế)
//! with agreeing and refusing, and the sender's per-recipient delivery timeline.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lienthong_services::exchange::{self, Overrides};
use lienthong_services::ServiceError;
use serde_json::json;

use crate::http::{ApiError, ApiJson, ApiUser};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exchange/arrivals", get(arrivals))
        .route(
            "/api/v1/exchange/arrivals/{id}/{action}",
            post(arrival_action),
        )
        .route("/api/v1/documents/{id}/deliveries", get(deliveries))
        .route("/api/v1/exchange/requests", get(requests))
        .route(
            "/api/v1/exchange/requests/{id}/{action}",
            post(request_action),
        )
}

/// `GET /api/v1/exchange/arrivals`: packages arrived for the clerk's agencies.
async fn arrivals(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let arrivals = exchange::arrivals(&state.db, &who).await?;
    Ok(Json(json!({ "arrivals": arrivals })))
}

/// `POST /api/v1/exchange/arrivals/{id}/register` (as the package says; answers 201
/// with the incoming document) or `…/refuse` with `{"reason"}`.
async fn arrival_action(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    // Whoever may not see the arrival is not told it exists.
    exchange::arrival(&state.db, &state.blobs, &who, id)
        .await
        .map_err(|e| match e {
            ServiceError::Forbidden => ApiError::NotFound,
            e => e.into(),
        })?;
    match action.as_str() {
        "register" => {
            let registered =
                exchange::register_arrival(&state.db, &state.blobs, &who, id, Overrides::default())
                    .await?;
            let document =
                lienthong_services::documents::get(&state.db, &who, registered.id).await?;
            Ok((StatusCode::CREATED, Json(document)).into_response())
        }
        "refuse" => {
            let reason = body["reason"].as_str().unwrap_or_default();
            exchange::refuse_arrival(&state.db, &who, id, reason).await?;
            Ok(Json(exchange::arrival(&state.db, &state.blobs, &who, id).await?).into_response())
        }
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /api/v1/documents/{id}/deliveries`: per recipient of an issued document, the
/// delivery state and the statuses its system sent back.
async fn deliveries(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let deliveries = exchange::deliveries(&state.db, &who, id).await?;
    Ok(Json(json!({ "deliveries": deliveries })))
}

/// `GET /api/v1/exchange/requests`: the pending recall, update and replace requests
/// of the clerk's agencies.
async fn requests(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let requests = exchange::requests(&state.db, &who).await?;
    Ok(Json(json!({ "requests": requests })))
}

/// `POST /api/v1/exchange/requests/{id}/agree` (status 15) or `…/refuse` with
/// `{"reason"}` (status 16); answers the request as it now stands.
async fn request_action(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    // Whoever may not see the request is not told it exists.
    exchange::request(&state.db, &who, id)
        .await
        .map_err(|e| match e {
            ServiceError::Forbidden => ApiError::NotFound,
            e => e.into(),
        })?;
    match action.as_str() {
        "agree" => exchange::agree_request(&state.db, &state.blobs, &who, id).await?,
        "refuse" => {
            let reason = body["reason"].as_str().unwrap_or_default();
            exchange::refuse_request(&state.db, &who, id, reason).await?
        }
        _ => return Err(ApiError::NotFound),
    }
    Ok(Json(exchange::request(&state.db, &who, id).await?).into_response())
}
