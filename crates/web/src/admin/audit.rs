//! The audit log for the province's administrators: filter, page, verify.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use lienthong_services::audit::{self, AuditFilter};
use serde::Deserialize;

use super::require_province_admin;
use crate::http::{render, Chrome, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit/verify", get(verify))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    record_type: Option<String>,
    record_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    c: Chrome,
    actor: String,
    action: String,
    record_type: String,
    record_id: String,
    from: String,
    to: String,
    entries: Vec<audit::AuditEntry>,
    older: Option<String>,
}

async fn audit_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let date = |s: &Option<String>| {
        non_empty(s).filter(|d| lienthong_store::time::parse_date(d).is_some())
    };
    let filter = AuditFilter {
        actor: non_empty(&q.actor),
        action: non_empty(&q.action),
        record_type: non_empty(&q.record_type),
        record_id: non_empty(&q.record_id),
        from: date(&q.from),
        to: date(&q.to),
        before_seq: q.before,
    };
    let entries = audit::list(&state.db, &filter).await?;
    let older = (entries.len() as i64 == audit::PAGE_SIZE).then(|| {
        let last = entries.last().map(|e| e.seq).unwrap_or_default();
        let keep = [
            ("actor", &filter.actor),
            ("action", &filter.action),
            ("record_type", &filter.record_type),
            ("record_id", &filter.record_id),
            ("from", &filter.from),
            ("to", &filter.to),
        ];
        let mut pairs: Vec<(&str, String)> = keep
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone())))
            .collect();
        pairs.push(("before", last.to_string()));
        format!(
            "/admin/audit?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
    Ok(render(AuditPage {
        c: user.chrome(),
        actor: filter.actor.unwrap_or_default(),
        action: filter.action.unwrap_or_default(),
        record_type: filter.record_type.unwrap_or_default(),
        record_id: filter.record_id.unwrap_or_default(),
        from: filter.from.unwrap_or_default(),
        to: filter.to.unwrap_or_default(),
        entries,
        older,
    }))
}

#[derive(Template)]
#[template(path = "admin/audit_verify.html")]
struct VerifyResult {
    c: Chrome,
    ok: bool,
    detail: String,
    fragment: bool,
}

/// Verifies the whole chain; with htmx it answers the result fragment only.
async fn verify(
    State(state): State<AppState>,
    user: SignedIn,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let (ok, detail) = match audit::verify(&state.db).await {
        Ok(n) => (true, n.to_string()),
        Err(audit::VerifyError::Broken(b)) => (false, b.to_string()),
        Err(audit::VerifyError::Service(e)) => return Err(e.into()),
    };
    Ok(render(VerifyResult {
        c: user.chrome(),
        ok,
        detail,
        fragment: headers.contains_key("hx-request"),
    }))
}
