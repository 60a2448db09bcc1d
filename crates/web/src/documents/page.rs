//! A document's page: its particulars, attachments, tasks and timeline, and the
//! actions the reader may take on it now (and only those).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lienthong_domain::access;
use lienthong_domain::Role;
use lienthong_services::documents::outgoing::{self, Recipient};
use lienthong_services::documents::workflow::{self, Task};
use lienthong_services::documents::{self, Document, Event};
use lienthong_services::exchange::{self, Delivery, ExchangeRequest, RequestKind, StatusEntry};
use lienthong_services::{org, people, ServiceError};
use lienthong_store::time;
use serde::Deserialize;

use super::actions::{self, Fields};
use super::type_key;
use crate::http::form::Choice;
use crate::http::multipart::CsrfMultipart;
use crate::http::{render, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

pub struct TaskView {
    pub t: Task,
    pub role_key: String,
    pub status_key: String,
    pub can_act: bool,
    pub can_split: bool,
    pub can_manage: bool,
    /// People of the task's unit, for its head to split it among.
    pub unit_people: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "documents/document.html")]
pub struct DocumentPage {
    c: Chrome,
    d: Document,
    type_key: &'static str,
    urgency_key: String,
    classification_key: String,
    status_key: String,
    events: Vec<(Event, String)>,
    tasks: Vec<TaskView>,
    error: Option<&'static str>,
    incoming: bool,
    can_forward: bool,
    leaders: Vec<Choice>,
    can_assign: bool,
    targets: Vec<Choice>,
    default_deadline: String,
    can_reply: bool,
    replies: Vec<Choice>,
    can_submit: bool,
    unit_heads: Vec<Choice>,
    can_review: bool,
    can_approve: bool,
    can_issue: bool,
    recipients: Vec<Recipient>,
    /// Of an issued document sent by exchange: per recipient, delivery and statuses.
    deliveries: Vec<DeliveryView>,
    /// A clerk may recall, update or replace it (thu hồi, cập nhật, thay thế).
    can_recall: bool,
    recall_kinds: Vec<Choice>,
    /// Of an incoming document that arrived by exchange: the sender's pending
    /// recall, update and replace requests, for its clerk.
    requests: Vec<RequestView>,
}

/// A pending request with the message key of its kind.
pub struct RequestView {
    pub r: ExchangeRequest,
    pub kind_key: String,
}

pub fn request_view(r: ExchangeRequest) -> RequestView {
    RequestView {
        kind_key: format!("exchange.kind_{}", r.kind),
        r,
    }
}

/// One recipient's delivery, with the message keys of its state and statuses.
pub struct DeliveryView {
    pub d: Delivery,
    pub state_key: String,
    pub statuses: Vec<(StatusEntry, String)>,
}

fn delivery_view(d: Delivery) -> DeliveryView {
    DeliveryView {
        state_key: format!("exchange.delivery_{}", d.state),
        statuses: d
            .statuses
            .iter()
            .map(|s| (s.clone(), format!("exchange.status_{}", s.code)))
            .collect(),
        d,
    }
}

fn choice(value: String, label: String) -> Choice {
    Choice {
        value,
        key: label,
        selected: false,
    }
}

pub async fn document_view(
    state: &AppState,
    user: &SignedIn,
    id: i64,
    error: Option<&'static str>,
    notice: Option<&'static str>,
) -> Result<DocumentPage, PageError> {
    let who = &user.principal;
    let d = documents::get(&state.db, who, id).await?;
    let memberships = who.memberships();
    let agency = d.agency_id;
    let incoming = d.direction == "incoming";
    let is = |role: Role| access::has_role_in(&memberships, agency, role);
    let me = who.person.id;

    let staff = people::holders(&state.db, agency, None).await?;
    let pick = |role: Role| {
        let mut seen = Vec::new();
        staff
            .iter()
            .filter(|h| h.role == role && h.person_id != me)
            .filter(|h| {
                let new = !seen.contains(&h.person_id);
                seen.push(h.person_id);
                new
            })
            .map(|h| choice(h.person_id.to_string(), h.full_name.clone()))
            .collect::<Vec<_>>()
    };
    let mut targets: Vec<Choice> = org::units(&state.db, agency, time::today())
        .await?
        .into_iter()
        .map(|u| choice(format!("u:{}", u.id), format!("▣ {}", u.name)))
        .collect();
    let mut seen = Vec::new();
    for h in &staff {
        if !seen.contains(&h.person_id) {
            seen.push(h.person_id);
            let unit = h
                .unit_name
                .clone()
                .map(|u| format!(" — {u}"))
                .unwrap_or_default();
            targets.push(choice(
                format!("p:{}", h.person_id),
                format!("{}{unit}", h.full_name),
            ));
        }
    }

    let mut tasks = Vec::new();
    for t in workflow::tasks_of(&state.db, id).await? {
        let open = t.status == "open";
        let can_act = open && workflow::may_act(who, t.person_id, t.unit_id);
        let unit_people = match (t.unit_id, can_act) {
            (Some(u), true) => staff
                .iter()
                .filter(|h| h.unit_id == Some(u))
                .map(|h| choice(h.person_id.to_string(), h.full_name.clone()))
                .collect(),
            _ => Vec::new(),
        };
        tasks.push(TaskView {
            role_key: format!("task.{}", t.role),
            status_key: format!("task_status.{}", t.status),
            can_split: can_act && t.person_id.is_none(),
            can_manage: open && workflow::may_manage(who, t.assigned_by_id, agency),
            can_act,
            unit_people,
            t,
        });
    }
    // Outgoing documents written in reply to this one, for "complete with a reply".
    let replies = outgoing::replies_to(&state.db, id)
        .await?
        .into_iter()
        .map(|(rid, symbol, subject)| {
            choice(
                rid.to_string(),
                if symbol.is_empty() {
                    subject
                } else {
                    format!("{symbol} — {subject}")
                },
            )
        })
        .collect();

    let handlers = outgoing::handlers(&state.db, id).await?;
    let status = d.status.as_str();
    // A recalled document keeps the timeline that shows how it was given back.
    let deliveries: Vec<DeliveryView> = if incoming || !matches!(status, "issued" | "recalled") {
        Vec::new()
    } else {
        exchange::deliveries(&state.db, who, id)
            .await?
            .into_iter()
            .map(delivery_view)
            .collect()
    };
    let requests = if incoming && is(Role::Clerk) {
        exchange::requests(&state.db, who)
            .await?
            .into_iter()
            .filter(|r| r.incoming_document_id == Some(id))
            .map(request_view)
            .collect()
    } else {
        Vec::new()
    };
    Ok(DocumentPage {
        c: user.chrome().with_notice(notice),
        type_key: type_key(&d.doc_type),
        urgency_key: format!("urgency.{}", d.urgency),
        classification_key: format!("classification.{}", d.classification),
        status_key: format!("status.{}", d.status),
        events: d
            .events
            .iter()
            .map(|e| (e.clone(), format!("event.{}", e.kind)))
            .collect(),
        tasks,
        error,
        incoming,
        can_forward: incoming && is(Role::Clerk) && status == "registered",
        leaders: pick(Role::Leader),
        can_assign: incoming
            && is(Role::Leader)
            && matches!(
                status,
                "registered" | "submitted" | "assigned" | "in_progress"
            ),
        targets,
        default_deadline: time::date(
            lienthong_services::calendar::load(&state.db)
                .await?
                .add_working_days(time::today(), 10),
        ),
        can_reply: incoming && access::is_member_of(&memberships, agency),
        replies,
        can_submit: !incoming
            && handlers.drafter == Some(me)
            && matches!(status, "draft" | "returned"),
        unit_heads: pick(Role::UnitHead),
        can_review: !incoming && handlers.reviewer == Some(me) && status == "in_review",
        can_approve: !incoming && handlers.approver == Some(me) && status == "awaiting_approval",
        can_issue: !incoming && is(Role::Clerk) && status == "approved",
        recipients: if incoming {
            Vec::new()
        } else {
            outgoing::recipients(&state.db, id).await?
        },
        can_recall: !incoming && is(Role::Clerk) && !deliveries.is_empty(),
        recall_kinds: RequestKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str().to_owned(),
                key: format!("exchange.kind_{}", k.as_str()),
                selected: false,
            })
            .collect(),
        deliveries,
        requests,
        d,
    })
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Message keys a redirect may ask the page to show.
const NOTICES: [&str; 15] = [
    "actions.recall_sent",
    "exchange.request_agreed",
    "exchange.request_refused",
    "actions.forwarded",
    "actions.assigned",
    "actions.submitted",
    "actions.reviewed",
    "actions.approved",
    "actions.issued",
    "actions.progress",
    "actions.extension_requested",
    "actions.extension_granted",
    "actions.completed",
    "actions.split",
    "actions.taken_back",
];

pub async fn document_page(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .done
        .as_deref()
        .and_then(|d| NOTICES.iter().find(|n| **n == d).copied());
    Ok(render(
        document_view(&state, &user, id, None, notice).await?,
    ))
}

async fn after(
    state: &AppState,
    user: &SignedIn,
    document: i64,
    outcome: Result<&'static str, ServiceError>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(key) => Ok(Redirect::to(&format!("/documents/{document}?done={key}")).into_response()),
        Err(
            e
            @ (ServiceError::Invalid { .. } | ServiceError::Conflict(_) | ServiceError::Forbidden),
        ) => {
            let status = if matches!(e, ServiceError::Forbidden) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut res = render(
                document_view(state, user, document, Some(actions::error_key(&e)), None).await?,
            );
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn document_action(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, action)): Path<(i64, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // Reading comes first: nobody learns a document exists by acting on it.
    documents::get(&state.db, &user.principal, id).await?;
    let outcome = actions::on_document(&state, &user.principal, id, &action, &Fields(pairs)).await;
    if matches!(outcome, Err(ServiceError::NotFound)) {
        return Err(PageError::NotFound);
    }
    after(&state, &user, id, outcome).await
}

pub async fn task_action(
    State(state): State<AppState>,
    user: SignedIn,
    Path((task, action)): Path<(i64, String)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let document = workflow::task_document(&state.db, task).await?;
    documents::get(&state.db, &user.principal, document).await?;
    let outcome =
        actions::on_task(&state, &user.principal, task, &action, &Fields(pairs), &[]).await;
    if matches!(outcome, Err(ServiceError::NotFound)) {
        return Err(PageError::NotFound);
    }
    after(&state, &user, document, outcome).await
}

/// A progress note with files (the progress form is multipart).
pub async fn task_progress(
    State(state): State<AppState>,
    user: SignedIn,
    Path(task): Path<i64>,
    form: CsrfMultipart,
) -> Result<Response, PageError> {
    let document = workflow::task_document(&state.db, task).await?;
    documents::get(&state.db, &user.principal, document).await?;
    let files: Vec<documents::Upload> = form
        .files
        .iter()
        .map(|p| documents::Upload {
            file_name: p.file_name.clone(),
            bytes: p.bytes.clone(),
            claimed_type: p.content_type.clone(),
        })
        .collect();
    let outcome = actions::on_task(
        &state,
        &user.principal,
        task,
        "progress",
        &Fields(form.fields.clone()),
        &files,
    )
    .await;
    after(&state, &user, document, outcome).await
}
