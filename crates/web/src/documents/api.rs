//! `/api/v1/documents/…`: the same actions as the pages, for integrations.

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lienthong_domain::document::Direction;
use lienthong_domain::Role;
use lienthong_services::documents::{self, workflow};
use lienthong_store::time;
use serde::Deserialize;
use serde_json::json;

use super::actions::{self, Fields};
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
        .route("/api/v1/documents/{id}/{action}", post(document_action))
        .route("/api/v1/tasks/{id}/{action}", post(task_action))
        .route(
            "/api/v1/documents/outgoing",
            post(create_draft).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT / 3 * 4 + 64 * 1024)),
        )
        .route("/api/v1/inbox", get(inbox))
}

/// `POST /api/v1/documents/{id}/{forward|assign|submit|review|approve|issue}` with the
/// same fields as the page's form (arrays for multi-selects); answers the document.
async fn document_action(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<documents::Document>, ApiError> {
    documents::get(&state.db, &who, id).await?;
    actions::on_document(&state, &who, id, &action, &Fields::from_json(&body)).await?;
    Ok(Json(documents::get(&state.db, &who, id).await?))
}

/// `POST /api/v1/tasks/{id}/{progress|extension|grant-extension|complete|split|take-back}`.
async fn task_action(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<documents::Document>, ApiError> {
    let document = workflow::task_document(&state.db, id).await?;
    documents::get(&state.db, &who, document).await?;
    actions::on_task(
        &state,
        &who,
        id,
        &action,
        &Fields::from_json(&body),
        &actions::uploads_from_json(&body)?,
    )
    .await?;
    Ok(Json(documents::get(&state.db, &who, document).await?))
}

/// `POST /api/v1/documents/outgoing`: a new draft (fields as the form; attachments
/// as `[{"file_name", "content_base64"}]`).
async fn create_draft(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Query(q): Query<AgencyParam>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Response, ApiError> {
    let agency = working_agency(&who, q.agency).ok_or(ApiError::Forbidden)?;
    let uploads = actions::uploads_from_json(&body)?;
    let mut fields = Fields::from_json(&body);
    fields.0.retain(|(k, _)| k != "attachments");
    let draft = actions::new_draft(&state, &fields, uploads).await?;
    let id =
        documents::outgoing::create_draft(&state.db, &state.blobs, &who, agency, draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(documents::get(&state.db, &who, id).await?),
    )
        .into_response())
}

/// `GET /api/v1/inbox`: the person's open tasks by box, and drafts waiting on them.
async fn inbox(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let calendar = lienthong_services::calendar::load(&state.db).await?;
    let inbox = workflow::inbox(&state.db, &who, &calendar).await?;
    let drafts = documents::outgoing::drafts(&state.db, &who).await?;
    Ok(Json(json!({"tasks": inbox, "drafts": drafts})))
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
        // The form names the field doc_type; this body names it type.
        _ => {
            return Err(match first_error(&errors) {
                ApiError::Invalid {
                    field: "doc_type",
                    code,
                } => ApiError::Invalid {
                    field: "type",
                    code,
                },
                other => other,
            })
        }
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
