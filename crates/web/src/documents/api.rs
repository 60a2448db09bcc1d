//! `/api/v1/documents/…`: the same actions as the pages, for integrations.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lienthong_domain::document::Direction;
use lienthong_domain::Role;
use lienthong_services::documents;
use lienthong_store::time;
use serde::Deserialize;
use serde_json::json;

use super::input::{ApiIncoming, IncomingInput};
use super::{attachment_response, working_agency, RegisterQuery, UPLOAD_BODY_LIMIT};
use crate::http::form::FieldErrors;
use crate::http::{ApiError, ApiJson, ApiUser};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/documents/incoming",
            post(register_incoming)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT / 3 * 4 + 64 * 1024)),
        )
        .route("/api/v1/documents", get(list))
        .route("/api/v1/documents/{id}", get(one))
        .route(
            "/api/v1/documents/{id}/attachments/{attachment}",
            get(download),
        )
}

#[derive(Deserialize)]
struct AgencyParam {
    agency: Option<i64>,
}

fn first_error(errors: &FieldErrors) -> ApiError {
    match errors.first() {
        Some((field, code)) => ApiError::Invalid { field, code },
        None => ApiError::Invalid {
            field: "body",
            code: "error.bad_form",
        },
    }
}

async fn register_incoming(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Query(q): Query<AgencyParam>,
    ApiJson(body): ApiJson<ApiIncoming>,
) -> Result<Response, ApiError> {
    let clerk_of = who
        .positions
        .iter()
        .find(|p| p.role == Role::Clerk)
        .map(|p| p.agency_id);
    let agency = q.agency.or(clerk_of).ok_or(ApiError::Forbidden)?;
    let mut errors = FieldErrors::default();
    let input = IncomingInput::from_api(body, time::today(), &mut errors);
    let parsed = input
        .parse(&state, &mut errors)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let new = match parsed {
        Some(new) if errors.is_empty() => new,
        _ => return Err(first_error(&errors)),
    };
    let registered =
        documents::register_incoming(&state.db, &state.blobs, &who, agency, new).await?;
    let record = documents::get(&state.db, &who, registered.id).await?;
    let mut body = serde_json::to_value(&record).map_err(|e| ApiError::Internal(e.to_string()))?;
    body["arrival_number"] = json!(registered.arrival_number);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn list(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Query(q): Query<RegisterQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let direction = match q.direction.as_deref() {
        None => Direction::Incoming,
        Some(d) => Direction::parse(d).ok_or(ApiError::Invalid {
            field: "direction",
            code: "error.bad_form",
        })?,
    };
    let agency = working_agency(&who, q.agency).ok_or(ApiError::Forbidden)?;
    let filter = q.filter();
    let (rows, more) =
        documents::list_register(&state.db, &who, agency, direction, &filter).await?;
    Ok(Json(json!({
        "agency_id": agency,
        "direction": direction.as_str(),
        "page": filter.page,
        "documents": rows,
        "next_page": more.then_some(filter.page + 1),
    })))
}

async fn one(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<documents::Document>, ApiError> {
    Ok(Json(documents::get(&state.db, &who, id).await?))
}

async fn download(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    Ok(attachment_response(&state, &who, id, attachment).await?)
}
