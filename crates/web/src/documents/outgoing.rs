//! Outgoing documents on the web: the outgoing register (sổ văn bản đi), the
//! drafting form, and register exports (CSV, XLSX, PDF) for both registers.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use lienthong_domain::document::{Classification, Direction, DocumentType, Urgency};
use lienthong_files::Table;
use lienthong_services::documents::{self, RegisterFilter, RegisterRow};
use lienthong_services::{org, ServiceError};
use lienthong_store::time;
use serde::Deserialize;

use super::actions::{self, Fields};
use super::{type_key, working_agency, RegisterQuery};
use crate::http::form::{choices, Choice};
use crate::http::multipart::CsrfMultipart;
use crate::http::{render, Chrome, PageError, SignedIn};
use crate::i18n::Tr;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/documents/outgoing",
            get(register_page)
                .post(create_draft)
                .layer(axum::extract::DefaultBodyLimit::max(
                    super::UPLOAD_BODY_LIMIT,
                )),
        )
        .route("/documents/outgoing/new", get(new_draft_page))
        .route("/documents/incoming/export", get(export_incoming))
        .route("/documents/outgoing/export", get(export_outgoing))
}

pub struct OutRow {
    pub r: RegisterRow,
    pub type_key: &'static str,
}

#[derive(Template)]
#[template(path = "documents/outgoing_register.html")]
struct OutgoingRegister {
    c: Chrome,
    agency_id: i64,
    agency_name: String,
    rows: Vec<OutRow>,
    from: String,
    to: String,
    export_query: String,
}

async fn register_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, q.agency).ok_or(PageError::Forbidden)?;
    let filter = q.filter();
    let (rows, _) = documents::list_register(
        &state.db,
        &user.principal,
        agency,
        Direction::Outgoing,
        &filter,
    )
    .await?;
    Ok(render(OutgoingRegister {
        c: user.chrome(),
        agency_id: agency,
        agency_name: org::get(&state.db, agency, time::today()).await?.name,
        rows: rows
            .into_iter()
            .map(|r| OutRow {
                type_key: type_key(&r.doc_type),
                r,
            })
            .collect(),
        from: filter.from.map(time::date).unwrap_or_default(),
        to: filter.to.map(time::date).unwrap_or_default(),
        export_query: format!(
            "agency={agency}&from={}&to={}",
            filter.from.map(time::date).unwrap_or_default(),
            filter.to.map(time::date).unwrap_or_default()
        ),
    }))
}

#[derive(Template)]
#[template(path = "documents/new_outgoing.html")]
struct NewDraftPage {
    c: Chrome,
    agency_id: i64,
    agency_name: String,
    reply_to: Option<(i64, String)>,
    types: Vec<Choice>,
    urgencies: Vec<Choice>,
    classifications: Vec<Choice>,
    units: Vec<Choice>,
    province: Vec<Choice>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct DraftQuery {
    agency: Option<i64>,
    reply_to: Option<i64>,
}

async fn draft_view(
    state: &AppState,
    user: &SignedIn,
    agency: i64,
    reply_to: Option<i64>,
    error: Option<&'static str>,
) -> Result<NewDraftPage, PageError> {
    let today = time::today();
    let reply_to = match reply_to {
        Some(id) => {
            let d = documents::get(&state.db, &user.principal, id).await?;
            Some((d.id, format!("{} — {}", d.symbol, d.subject)))
        }
        None => None,
    };
    Ok(NewDraftPage {
        c: user.chrome(),
        agency_id: agency,
        agency_name: org::get(&state.db, agency, today).await?.name,
        reply_to,
        types: choices(
            DocumentType::ALL
                .iter()
                .map(|t| (t.code(), t.key().to_owned())),
            "CV",
        ),
        urgencies: choices(
            Urgency::ALL
                .iter()
                .map(|u| (u.as_str(), format!("urgency.{}", u.as_str()))),
            "normal",
        ),
        classifications: choices(
            Classification::ALL
                .iter()
                .map(|c| (c.as_str(), format!("classification.{}", c.as_str()))),
            "normal",
        ),
        units: org::units(&state.db, agency, today)
            .await?
            .into_iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                key: u.name,
                selected: false,
            })
            .collect(),
        province: org::list(&state.db, today, false)
            .await?
            .into_iter()
            .filter(|a| a.id != agency)
            .map(|a| Choice {
                value: a.id.to_string(),
                key: a.name,
                selected: false,
            })
            .collect(),
        error,
    })
}

async fn new_draft_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<DraftQuery>,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, q.agency).ok_or(PageError::Forbidden)?;
    Ok(render(
        draft_view(&state, &user, agency, q.reply_to, None).await?,
    ))
}

async fn create_draft(
    State(state): State<AppState>,
    user: SignedIn,
    form: CsrfMultipart,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, form.field("agency_id").parse().ok())
        .ok_or(PageError::Forbidden)?;
    let uploads = form
        .files
        .iter()
        .map(|p| documents::Upload {
            file_name: p.file_name.clone(),
            bytes: p.bytes.clone(),
            claimed_type: p.content_type.clone(),
        })
        .collect();
    let fields = Fields(form.fields.clone());
    let outcome = match actions::new_draft(&state, &fields, uploads).await {
        Ok(d) => {
            documents::outgoing::create_draft(&state.db, &state.blobs, &user.principal, agency, d)
                .await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/documents/{id}")).into_response()),
        Err(e @ (ServiceError::Invalid { .. } | ServiceError::Forbidden)) => {
            let reply_to = form.field("in_reply_to").parse().ok();
            let mut res = render(
                draft_view(
                    &state,
                    &user,
                    agency,
                    reply_to,
                    Some(actions::error_key(&e)),
                )
                .await?,
            );
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

/// Every row of a register matching the filters (up to 20,000), for export.
async fn all_rows(
    state: &AppState,
    user: &SignedIn,
    agency: i64,
    direction: Direction,
    mut filter: RegisterFilter,
) -> Result<Vec<RegisterRow>, PageError> {
    let mut rows = Vec::new();
    for page in 0..400 {
        filter.page = page;
        let (mut batch, more) =
            documents::list_register(&state.db, &user.principal, agency, direction, &filter)
                .await?;
        rows.append(&mut batch);
        if !more {
            break;
        }
    }
    Ok(rows)
}

/// The register as a table with the ND 30 columns, headed in the reader's language.
fn table(
    t: Tr,
    agency_name: &str,
    direction: Direction,
    rows: &[RegisterRow],
    period: String,
) -> Table {
    let name = |r: &RegisterRow| format!("{}: {}", t.get(type_key(&r.doc_type)), r.subject);
    match direction {
        Direction::Incoming => Table {
            title: format!("{} — {}", t.get("documents.incoming"), agency_name),
            subtitle: period,
            columns: [
                "documents.arrived_on",
                "documents.arrival_number",
                "documents.issuer",
                "documents.symbol",
                "documents.issued_on",
                "documents.type_and_subject",
                "documents.status",
                "documents.note",
            ]
            .iter()
            .map(|k| t.get(k).to_owned())
            .collect(),
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        r.arrived_on.clone().unwrap_or_default(),
                        r.number.map(|n| n.to_string()).unwrap_or_default(),
                        r.issuer_name.clone(),
                        r.symbol.clone(),
                        r.issued_on.clone().unwrap_or_default(),
                        name(r),
                        t.get(&format!("status.{}", r.status)).to_owned(),
                        r.note.clone(),
                    ]
                })
                .collect(),
        },
        Direction::Outgoing => Table {
            title: format!("{} — {}", t.get("documents.outgoing"), agency_name),
            subtitle: period,
            columns: [
                "documents.symbol",
                "documents.issued_on",
                "documents.type_and_subject",
                "documents.signer",
                "documents.recipients",
                "documents.retained_copy",
                "documents.copies",
                "documents.note",
            ]
            .iter()
            .map(|k| t.get(k).to_owned())
            .collect(),
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        r.symbol.clone(),
                        r.issued_on.clone().unwrap_or_default(),
                        name(r),
                        r.signer_name.clone(),
                        r.recipients.clone(),
                        r.retained_copy.clone().unwrap_or_default(),
                        r.copies.map(|n| n.to_string()).unwrap_or_default(),
                        r.note.clone(),
                    ]
                })
                .collect(),
        },
    }
}

async fn export(
    state: AppState,
    user: SignedIn,
    q: RegisterQuery,
    direction: Direction,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, q.agency).ok_or(PageError::Forbidden)?;
    let filter = q.filter();
    let rows = all_rows(&state, &user, agency, direction, filter.clone()).await?;
    let agency_name = org::get(&state.db, agency, time::today()).await?.name;
    let period = match (filter.from, filter.to) {
        (None, None) => String::new(),
        (f, to) => format!(
            "{} – {}",
            f.map(time::date).unwrap_or_default(),
            to.map(time::date).unwrap_or_default()
        ),
    };
    let t = table(user.ctx.tr(), &agency_name, direction, &rows, period);
    let base = format!(
        "so-van-ban-{}-{}",
        if direction == Direction::Incoming {
            "den"
        } else {
            "di"
        },
        time::date(time::today())
    );
    let (bytes, mime, ext) = match q.format.as_deref().unwrap_or("csv") {
        "csv" => (
            lienthong_files::to_csv(&t),
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => (
            lienthong_files::to_xlsx(&t).map_err(|e| PageError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "pdf" => (
            lienthong_files::to_pdf(&t).map_err(|e| PageError::Internal(e.to_string()))?,
            "application/pdf",
            "pdf",
        ),
        _ => return Err(PageError::BadForm),
    };
    Ok((
        [
            (CONTENT_TYPE, mime.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{base}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn export_incoming(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    export(state, user, q, Direction::Incoming).await
}

async fn export_outgoing(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    export(state, user, q, Direction::Outgoing).await
}
