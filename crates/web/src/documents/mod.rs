//! Documents: the incoming register (sổ văn bản đến), registering a document with
//! its attachments, a document's page and timeline, downloads, and the JSON API
//! for the same actions. The rules live in `lienthong_services::documents`.

pub(crate) mod actions;
mod api;
mod input;
mod outgoing;
pub(crate) mod page;

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use lienthong_domain::document::{Classification, Direction, DocumentType, Urgency};
use lienthong_services::auth::Principal;
use lienthong_services::documents::{self, RegisterFilter, RegisterRow, MAX_ATTACHMENT_BYTES};
use lienthong_services::{org, people, ServiceError};
use lienthong_store::time;
use serde::Deserialize;

use crate::http::form::{choices, parse_date_field, Choice, FieldErrors};
use crate::http::multipart::CsrfMultipart;
use crate::http::{render, Chrome, PageError, SignedIn};
use crate::AppState;

pub use input::IncomingInput;

/// Largest registration request: a few attachments at their size limit.
pub const UPLOAD_BODY_LIMIT: usize = 4 * MAX_ATTACHMENT_BYTES;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/documents/incoming",
            get(register_page)
                .post(register_incoming)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/documents/incoming/new", get(new_incoming_page))
        .route("/documents/{id}", get(page::document_page))
        .route("/documents/{id}/{action}", post(page::document_action))
        .route("/tasks/{id}/{action}", post(page::task_action))
        .route(
            "/tasks/{id}/progress",
            post(page::task_progress).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .merge(outgoing::routes())
        .route("/documents/{id}/attachments/{attachment}", get(download))
        .merge(api::routes())
}

/// The agency a page works on: the one asked for if the person belongs to it,
/// otherwise their first.
pub fn working_agency(who: &Principal, requested: Option<i64>) -> Option<i64> {
    let mine: Vec<i64> = who.positions.iter().map(|p| p.agency_id).collect();
    match requested {
        Some(a) if mine.contains(&a) => Some(a),
        Some(_) => None,
        None => mine.first().copied(),
    }
}

#[derive(Deserialize, Default)]
pub struct RegisterQuery {
    /// `incoming` (default) or `outgoing`; used by the API's list.
    pub direction: Option<String>,
    /// `csv`, `xlsx` or `pdf`; used by the exports.
    pub format: Option<String>,
    pub agency: Option<i64>,
    register: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    issuer: Option<String>,
    status: Option<String>,
    page: Option<i64>,
    registered: Option<i64>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl RegisterQuery {
    pub fn filter(&self) -> RegisterFilter {
        let date =
            |s: &Option<String>| non_empty(s).and_then(|d| parse_date_field(&d).ok().flatten());
        RegisterFilter {
            register_id: self.register,
            from: date(&self.from),
            to: date(&self.to),
            doc_type: non_empty(&self.doc_type),
            issuer: non_empty(&self.issuer),
            status: non_empty(&self.status),
            page: self.page.unwrap_or(0).max(0),
        }
    }

    /// The query string for another page with the same filters.
    fn page_link(&self, agency: i64, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> =
            vec![("agency", agency.to_string()), ("page", page.to_string())];
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("type", &self.doc_type),
            ("issuer", &self.issuer),
            ("status", &self.status),
        ] {
            if let Some(v) = non_empty(v) {
                pairs.push((k, v));
            }
        }
        if let Some(r) = self.register {
            pairs.push(("register", r.to_string()));
        }
        format!(
            "/documents/incoming?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

pub struct Row {
    pub r: RegisterRow,
    pub type_key: &'static str,
    pub status_key: String,
    pub classified: bool,
}

pub fn type_key(code: &str) -> &'static str {
    DocumentType::parse(code)
        .map(DocumentType::key)
        .unwrap_or("doctype.cong_van")
}

#[derive(Template)]
#[template(path = "documents/register.html")]
struct RegisterPage {
    c: Chrome,
    agency_id: i64,
    agency_name: String,
    agencies: Vec<Choice>,
    can_register: bool,
    rows: Vec<Row>,
    from: String,
    to: String,
    issuer: String,
    types: Vec<Choice>,
    statuses: Vec<Choice>,
    prev: Option<String>,
    next: Option<String>,
    registered: Option<i64>,
    export_query: String,
}

/// The agencies a person works in, as choices with the current one selected.
fn agencies_of(who: &Principal, current: i64) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    for p in &who.positions {
        let value = p.agency_id.to_string();
        if !out.iter().any(|c| c.value == value) {
            out.push(Choice {
                value,
                key: p.agency_name.clone(),
                selected: p.agency_id == current,
            });
        }
    }
    out
}

async fn register_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, q.agency).ok_or(PageError::Forbidden)?;
    let filter = q.filter();
    let (rows, more) = documents::list_register(
        &state.db,
        &user.principal,
        agency,
        Direction::Incoming,
        &filter,
    )
    .await?;
    let agency_name = org::get(&state.db, agency, time::today()).await?.name;
    let page = filter.page;
    let export_query = q
        .page_link(agency, 0)
        .replacen("/documents/incoming?", "", 1);
    Ok(render(RegisterPage {
        c: user.chrome(),
        agency_id: agency,
        agency_name,
        agencies: agencies_of(&user.principal, agency),
        can_register: lienthong_domain::access::has_role_in(
            &user.principal.memberships(),
            agency,
            lienthong_domain::Role::Clerk,
        ),
        rows: rows
            .into_iter()
            .map(|r| Row {
                type_key: type_key(&r.doc_type),
                status_key: format!("status.{}", r.status),
                classified: r.classification != "normal",
                r,
            })
            .collect(),
        from: q.from.clone().unwrap_or_default(),
        to: q.to.clone().unwrap_or_default(),
        issuer: q.issuer.clone().unwrap_or_default(),
        types: type_choices(q.doc_type.as_deref().unwrap_or("")),
        statuses: choices(
            [
                "registered",
                "submitted",
                "assigned",
                "in_progress",
                "done",
                "recalled",
            ]
            .iter()
            .map(|s| (*s, format!("status.{s}"))),
            q.status.as_deref().unwrap_or(""),
        ),
        prev: (page > 0).then(|| q.page_link(agency, page - 1)),
        next: more.then(|| q.page_link(agency, page + 1)),
        registered: q.registered,
        export_query,
    }))
}

fn type_choices(current: &str) -> Vec<Choice> {
    choices(
        DocumentType::ALL
            .iter()
            .map(|t| (t.code(), t.key().to_owned())),
        current,
    )
}

#[derive(Template)]
#[template(path = "documents/new_incoming.html")]
pub struct NewIncomingPage {
    c: Chrome,
    agency_id: i64,
    agency_name: String,
    form: IncomingInput,
    errors: FieldErrors,
    types: Vec<Choice>,
    urgencies: Vec<Choice>,
    classifications: Vec<Choice>,
    registers: Vec<Choice>,
    province: Vec<Choice>,
    colleagues: Vec<(i64, String)>,
    duplicate_of: Vec<i64>,
    max_mb: usize,
}

impl NewIncomingPage {
    fn reader_selected(&self, id: &i64) -> bool {
        self.form.readers.contains(id)
    }
}

async fn new_incoming_view(
    state: &AppState,
    user: &SignedIn,
    agency: i64,
    form: IncomingInput,
    errors: FieldErrors,
    duplicate_of: Vec<i64>,
) -> Result<NewIncomingPage, PageError> {
    let today = time::today();
    let registers = documents::registers(&state.db, agency, Direction::Incoming).await?;
    let register_choices = registers
        .iter()
        .map(|r| Choice {
            value: r.id.to_string(),
            key: r.name.clone(),
            selected: form.register_id == Some(r.id),
        })
        .collect();
    let province = org::list(&state.db, today, false).await?;
    let issuer_choices = province
        .iter()
        .filter(|a| a.id != agency)
        .map(|a| Choice {
            value: a.id.to_string(),
            key: a.name.clone(),
            selected: form.issuer_agency_id == Some(a.id),
        })
        .collect();
    let colleagues = people::list_in_agency(&state.db, agency, today)
        .await?
        .into_iter()
        .filter(|p| p.id != user.principal.person.id)
        .map(|p| (p.id, p.full_name))
        .collect();
    Ok(NewIncomingPage {
        c: user.chrome(),
        agency_id: agency,
        agency_name: org::get(&state.db, agency, today).await?.name,
        types: type_choices(&form.doc_type),
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
        registers: register_choices,
        province: issuer_choices,
        colleagues,
        form,
        errors,
        duplicate_of,
        max_mb: MAX_ATTACHMENT_BYTES / (1024 * 1024),
    })
}

#[derive(Deserialize)]
struct AgencyQuery {
    agency: Option<i64>,
}

fn require_clerk(who: &Principal, agency: i64) -> Result<(), PageError> {
    if lienthong_domain::access::has_role_in(
        &who.memberships(),
        agency,
        lienthong_domain::Role::Clerk,
    ) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

async fn new_incoming_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<AgencyQuery>,
) -> Result<Response, PageError> {
    let agency = working_agency(&user.principal, q.agency).ok_or(PageError::Forbidden)?;
    require_clerk(&user.principal, agency)?;
    let form = IncomingInput::blank(time::today());
    Ok(render(
        new_incoming_view(&state, &user, agency, form, FieldErrors::default(), vec![]).await?,
    ))
}

async fn register_incoming(
    State(state): State<AppState>,
    user: SignedIn,
    form: CsrfMultipart,
) -> Result<Response, PageError> {
    let requested = form.field("agency_id").parse::<i64>().ok();
    let agency = working_agency(&user.principal, requested).ok_or(PageError::Forbidden)?;
    require_clerk(&user.principal, agency)?;
    let input = IncomingInput::from_form(&form);
    let mut errors = FieldErrors::default();
    let mut duplicate_of = Vec::new();
    match input.parse(&state, &mut errors).await? {
        Some(new) if errors.is_empty() => {
            match documents::register_incoming(
                &state.db,
                &state.blobs,
                &user.principal,
                agency,
                new,
            )
            .await
            {
                Ok(r) => {
                    return Ok(Redirect::to(&format!(
                        "/documents/incoming?agency={agency}&registered={}",
                        r.arrival_number
                    ))
                    .into_response())
                }
                Err(ServiceError::Invalid { field, code }) => errors.add(field, code),
                Err(ServiceError::Duplicate(ids)) => duplicate_of = ids,
                Err(e) => return Err(e.into()),
            }
        }
        _ => {}
    }
    let mut res =
        render(new_incoming_view(&state, &user, agency, input, errors, duplicate_of).await?);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// Serves an attachment to someone who may read its document. PDFs and images
/// open in the browser; anything else downloads. The sandbox keeps a hostile file
/// from running script on our origin.
pub async fn attachment_response(
    state: &AppState,
    who: &Principal,
    id: i64,
    attachment: i64,
) -> Result<Response, ServiceError> {
    let (meta, bytes) = documents::attachment(&state.db, &state.blobs, who, id, attachment).await?;
    let inline = meta.content_type == "application/pdf" || meta.content_type.starts_with("image/");
    let disposition = format!(
        "{}; filename=\"{}\"; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        meta.file_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            })
            .collect::<String>(),
        crate::http::error::urlencode(&meta.file_name)
    );
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(res)
}

async fn download(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, attachment)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    Ok(attachment_response(&state, &user.principal, id, attachment).await?)
}
