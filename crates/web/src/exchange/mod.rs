//! Exchange (liên thông văn bản) over HTTP: the edXML endpoint peers post packages
//! to, the clerk's queue of arrived documents (văn bản đến qua liên thông) with
//! registering and refusing, and the quarantine of refused packages. The rules
//! live in `lienthong_services::exchange`.
//!
//! `POST /edxml/v1/packages` takes no session and no CSRF token: a package is
//! authenticated by its own signature. It answers 200 with a JSON receipt when the
//! package was accepted (a document filed as arrived, a status recorded, or the
//! same package received before), and 422 with the reason when it was refused and
//! quarantined: a 4xx tells the sending system not to send the same bytes again,
//! where a 2xx would tell it the document was delivered. It never answers 5xx for
//! a bad package; only a database it cannot reach gives 503, worth retrying.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lienthong_domain::document::{Classification, DocumentSymbol, DocumentType, Subject, Urgency};
use lienthong_services::exchange::{self, Arrival, Overrides, QuarantineEntry, Receipt};
use lienthong_services::ServiceError;
use serde::Deserialize;
use serde_json::json;

use crate::documents::actions::error_key;
use crate::documents::page::{request_view, RequestView};
use crate::http::form::{choices, parse_date_field, Choice};
use crate::http::{render, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

/// Largest package accepted: the services' own cap, so the reason for a package
/// too large comes from one place.
pub const PACKAGE_BODY_LIMIT: usize = exchange::MAX_PACKAGE_BYTES;

mod api;
mod published;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(api::routes())
        .merge(published::routes())
        .route(
            "/edxml/v1/packages",
            post(receive_package).layer(DefaultBodyLimit::max(PACKAGE_BODY_LIMIT)),
        )
        .route("/exchange/arrived", get(arrived_page))
        .route("/exchange/arrived/{id}", get(arrival_page))
        .route("/exchange/arrived/{id}/{action}", post(arrival_action))
        .route("/exchange/requests/{id}/{action}", post(request_action))
        .route("/exchange/quarantine", get(quarantine_page))
        .route(
            "/exchange/quarantine/{id}/package",
            get(quarantined_package),
        )
}

async fn receive_package(State(state): State<AppState>, body: Bytes) -> Response {
    match exchange::receive(&state.db, &state.blobs, &state.keys, body).await {
        Ok(receipt @ Receipt::Quarantined { .. }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Json(receipt)).into_response()
        }
        Ok(receipt) => (StatusCode::OK, Json(receipt)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "receiving an edXML package");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"outcome": "unavailable", "reason": "the receiving system cannot store packages right now; send again later"})),
            )
                .into_response()
        }
    }
}

/// An arrival as a row of the queue: its fields and the keys of its labels.
pub struct ArrivalRow {
    pub a: Arrival,
    pub type_key: &'static str,
    pub urgency_key: String,
}

fn row(a: Arrival) -> ArrivalRow {
    ArrivalRow {
        type_key: a
            .doc_type
            .as_deref()
            .map(crate::documents::type_key)
            .unwrap_or("doctype.cong_van"),
        urgency_key: format!("urgency.{}", a.urgency),
        a,
    }
}

#[derive(Template)]
#[template(path = "exchange/arrived.html")]
struct ArrivedPage {
    c: Chrome,
    rows: Vec<ArrivalRow>,
    /// Pending recall, update and replace requests (thu hồi, cập nhật, thay thế).
    requests: Vec<RequestView>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

const NOTICES: [&str; 3] = [
    "exchange.refused",
    "exchange.request_agreed",
    "exchange.request_refused",
];

async fn arrived_view(
    state: &AppState,
    user: &SignedIn,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<ArrivedPage, PageError> {
    let rows = exchange::arrivals(&state.db, &user.principal)
        .await?
        .into_iter()
        .map(row)
        .collect();
    let requests = exchange::requests(&state.db, &user.principal)
        .await?
        .into_iter()
        .map(request_view)
        .collect();
    Ok(ArrivedPage {
        c: user.chrome().with_notice(notice),
        rows,
        requests,
        error,
    })
}

async fn arrived_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|n| **n == d).copied());
    Ok(render(arrived_view(&state, &user, notice, None).await?))
}

/// The clerk's decision on a recall, update or replace request: `agree` (status
/// 15) or `refuse` with a reason (16). Back to the incoming document it is about,
/// or to the arrived queue.
async fn request_action(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let who = &user.principal;
    // Nobody learns that another agency received a request.
    let req = match exchange::request(&state.db, who, id).await {
        Err(ServiceError::Forbidden) => return Err(PageError::NotFound),
        other => other?,
    };
    let (outcome, notice) = match action.as_str() {
        "agree" => (
            exchange::agree_request(&state.db, &state.blobs, who, id).await,
            "exchange.request_agreed",
        ),
        "refuse" => {
            let reason = pairs
                .iter()
                .find(|(k, _)| k == "reason")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            (
                exchange::refuse_request(&state.db, who, id, reason).await,
                "exchange.request_refused",
            )
        }
        _ => return Err(PageError::NotFound),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to(&match req.incoming_document_id {
            Some(doc) => format!("/documents/{doc}?done={notice}"),
            None => format!("/exchange/arrived?done={notice}"),
        })
        .into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_))) => {
            let mut res = render(arrived_view(&state, &user, None, Some(error_key(&e))).await?);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// The registration form, prefilled from the package (or from what the clerk
/// sent, when it is shown again with an error).
#[derive(Debug, Clone, Default)]
struct RegisterForm {
    symbol: String,
    issued_on: String,
    doc_type: String,
    subject: String,
    urgency: String,
    classification: String,
    due_on: String,
    signer: String,
    page_count: String,
    note: String,
}

impl RegisterForm {
    fn of(a: &Arrival) -> Self {
        RegisterForm {
            symbol: a.symbol.clone(),
            issued_on: a.issued_on.clone(),
            doc_type: a.doc_type.clone().unwrap_or_else(|| "CV".into()),
            subject: a.subject.clone(),
            urgency: a.urgency.clone(),
            classification: Classification::Normal.as_str().into(),
            due_on: a.due_on.clone().unwrap_or_default(),
            signer: a.signer_name.clone(),
            page_count: a.page_count.map(|p| p.to_string()).unwrap_or_default(),
            note: String::new(),
        }
    }

    fn from_fields(f: &[(String, String)]) -> Self {
        let one = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        RegisterForm {
            symbol: one("symbol"),
            issued_on: one("issued_on"),
            doc_type: one("doc_type"),
            subject: one("subject"),
            urgency: one("urgency"),
            classification: one("classification"),
            due_on: one("due_on"),
            signer: one("signer"),
            page_count: one("page_count"),
            note: one("note"),
        }
    }

    /// What the clerk changed or confirmed; an empty field keeps the package's value.
    fn overrides(&self, allow_duplicate: bool) -> Result<Overrides, ServiceError> {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let date = |field: &'static str, s: &str| {
            parse_date_field(s).map_err(|_| ServiceError::Invalid {
                field,
                code: "error.date",
            })
        };
        Ok(Overrides {
            register_id: None,
            symbol: opt(&self.symbol)
                .map(|s| DocumentSymbol::parse(&s).map_err(|e| ServiceError::invalid("symbol", e)))
                .transpose()?,
            issued_on: date("issued_on", &self.issued_on)?,
            doc_type: opt(&self.doc_type)
                .map(|s| DocumentType::parse(&s).map_err(|e| ServiceError::invalid("doc_type", e)))
                .transpose()?,
            subject: opt(&self.subject)
                .map(|s| Subject::parse(&s).map_err(|e| ServiceError::invalid("subject", e)))
                .transpose()?,
            urgency: opt(&self.urgency)
                .map(|s| Urgency::parse(&s).map_err(|e| ServiceError::invalid("urgency", e)))
                .transpose()?,
            classification: opt(&self.classification)
                .map(|s| {
                    Classification::parse(&s)
                        .map_err(|e| ServiceError::invalid("classification", e))
                })
                .transpose()?,
            due_on: date("due_on", &self.due_on)?,
            signer_name: opt(&self.signer),
            page_count: opt(&self.page_count)
                .map(|s| {
                    s.parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(ServiceError::Invalid {
                            field: "page_count",
                            code: "error.page_count",
                        })
                })
                .transpose()?,
            note: opt(&self.note),
            allow_duplicate,
        })
    }
}

#[derive(Template)]
#[template(path = "exchange/arrival.html")]
struct ArrivalPage {
    c: Chrome,
    r: ArrivalRow,
    form: RegisterForm,
    types: Vec<Choice>,
    urgencies: Vec<Choice>,
    classifications: Vec<Choice>,
    error: Option<&'static str>,
    duplicate: bool,
}

impl ArrivalPage {
    fn state_key(&self) -> &'static str {
        match self.r.a.state.as_str() {
            "registered" => "exchange.state_registered",
            "refused" => "exchange.state_refused",
            "recalled" => "exchange.state_recalled",
            _ => "exchange.state_arrived",
        }
    }
}

async fn arrival_view(
    state: &AppState,
    user: &SignedIn,
    id: i64,
    form: Option<RegisterForm>,
    error: Option<&'static str>,
    duplicate: bool,
) -> Result<ArrivalPage, PageError> {
    let a = match exchange::arrival(&state.db, &state.blobs, &user.principal, id).await {
        // Nobody learns that another agency received something.
        Err(ServiceError::Forbidden) => return Err(PageError::NotFound),
        other => other?,
    };
    let form = form.unwrap_or_else(|| RegisterForm::of(&a));
    Ok(ArrivalPage {
        c: user.chrome(),
        types: choices(
            DocumentType::ALL
                .iter()
                .map(|t| (t.code(), t.key().to_owned())),
            &form.doc_type,
        ),
        urgencies: choices(
            Urgency::ALL
                .iter()
                .map(|u| (u.as_str(), format!("urgency.{}", u.as_str()))),
            &form.urgency,
        ),
        classifications: choices(
            Classification::ALL
                .iter()
                .map(|c| (c.as_str(), format!("classification.{}", c.as_str()))),
            &form.classification,
        ),
        r: row(a),
        form,
        error,
        duplicate,
    })
}

async fn arrival_page(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    Ok(render(
        arrival_view(&state, &user, id, None, None, false).await?,
    ))
}

/// `register` (vào sổ, with the form's corrections) or `refuse` (with a reason).
async fn arrival_action(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // Reading comes first: nobody learns an arrival exists by acting on it.
    arrival_view(&state, &user, id, None, None, false).await?;
    let who = &user.principal;
    let form = RegisterForm::from_fields(&pairs);
    let outcome = match action.as_str() {
        "register" => {
            let allow = pairs
                .iter()
                .any(|(k, v)| k == "allow_duplicate" && v == "1");
            match form.overrides(allow) {
                Ok(o) => exchange::register_arrival(&state.db, &state.blobs, who, id, o)
                    .await
                    .map(|r| format!("/documents/{}", r.id)),
                Err(e) => Err(e),
            }
        }
        "refuse" => {
            let reason = pairs
                .iter()
                .find(|(k, _)| k == "reason")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            exchange::refuse_arrival(&state.db, who, id, reason)
                .await
                .map(|_| "/exchange/arrived?done=exchange.refused".to_owned())
        }
        _ => return Err(PageError::NotFound),
    };
    match outcome {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(
            e @ (ServiceError::Invalid { .. }
            | ServiceError::Conflict(_)
            | ServiceError::Duplicate(_)),
        ) => {
            let duplicate = matches!(e, ServiceError::Duplicate(_));
            let mut res = render(
                arrival_view(
                    &state,
                    &user,
                    id,
                    Some(form),
                    Some(error_key(&e)),
                    duplicate,
                )
                .await?,
            );
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "exchange/quarantine.html")]
struct QuarantinePage {
    c: Chrome,
    rows: Vec<QuarantineEntry>,
}

/// The refused bytes as received, as a download (never rendered: they may be anything).
async fn quarantined_package(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let bytes = exchange::quarantined_package(&state.db, &user.principal, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"quarantine-{id}.xml\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn quarantine_page(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let rows = exchange::quarantine(&state.db, &user.principal, 200).await?;
    Ok(render(QuarantinePage {
        c: user.chrome(),
        rows,
    }))
}
