//! Agencies and units: the list as of any date, an agency's page with its units,
//! staff and history, adding agencies and units, and recording reorganisations.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use lienthong_domain::agency::{AgencyName, ReorganisationRequest, ShortName};
use lienthong_domain::{AgencyKind, ErrorCode, OrgCode, ReorganisationKind, Role};
use lienthong_services::{org, people};
use lienthong_store::time;
use serde::Deserialize;
use serde_json::json;

use super::{
    administered, ancestry_for_access, choices, parse_date_field, require_admin_of,
    require_any_admin, Choice, FieldErrors,
};
use crate::http::{render, ApiError, ApiUser, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/agencies", get(list_page).post(create_agency))
        .route("/admin/agencies/{id}", get(agency_page))
        .route("/admin/agencies/{id}/units", post(create_unit))
        .route(
            "/admin/agencies/{id}/people",
            post(super::people::create_person),
        )
        .route("/admin/reorganise", get(reorganise_page).post(reorganise))
        .route("/api/v1/agencies", get(api_directory))
        .route("/api/v1/agencies/{id}/people", get(api_agency_people))
}

pub fn kind_key(kind: &str) -> String {
    format!("kind.{kind}")
}

#[derive(Deserialize, Default)]
pub struct AsOfQuery {
    as_of: Option<String>,
    ended: Option<String>,
    notice: Option<String>,
}

impl AsOfQuery {
    fn day(&self) -> NaiveDate {
        org::as_of_or_today(
            self.as_of
                .as_deref()
                .and_then(|d| parse_date_field(d).ok().flatten()),
        )
    }
}

/// A row of the agency list.
pub struct AgencyRow {
    pub a: org::Agency,
    pub parent_name: String,
    pub kind_key: String,
    pub ended: bool,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewAgencyForm {
    code: String,
    name: String,
    short_name: String,
    kind: String,
    parent_id: String,
    valid_from: String,
}

#[derive(Template)]
#[template(path = "admin/agencies.html")]
struct ListPage {
    c: Chrome,
    as_of: String,
    include_ended: bool,
    rows: Vec<AgencyRow>,
    parents: Vec<org::Agency>,
    kinds: Vec<Choice>,
    form: NewAgencyForm,
    errors: FieldErrors,
}

fn rows(
    agencies: Vec<org::Agency>,
    names: &HashMap<i64, String>,
    day: NaiveDate,
) -> Vec<AgencyRow> {
    agencies
        .into_iter()
        .map(|a| AgencyRow {
            parent_name: a
                .parent_id
                .and_then(|p| names.get(&p).cloned())
                .unwrap_or_default(),
            kind_key: kind_key(&a.kind),
            ended: !a.is_in_force(day),
            a,
        })
        .collect()
}

async fn list_view(
    state: &AppState,
    user: &SignedIn,
    q: &AsOfQuery,
    form: NewAgencyForm,
    errors: FieldErrors,
) -> Result<ListPage, PageError> {
    require_any_admin(&user.principal)?;
    let day = q.day();
    let include_ended = q.ended.is_some();
    let all = org::list(&state.db, day, true).await?;
    let names: HashMap<i64, String> = all.iter().map(|a| (a.id, a.name.clone())).collect();
    let mine = administered(state, &user.principal, day, include_ended).await?;
    let parents = administered(state, &user.principal, time::today(), false).await?;
    let notice = match q.notice.as_deref() {
        Some("created") => Some("people.created"),
        _ => None,
    };
    Ok(ListPage {
        c: user.chrome().with_notice(notice),
        as_of: time::date(day),
        include_ended,
        rows: rows(mine, &names, day),
        parents,
        kinds: choices(
            AgencyKind::ALL
                .iter()
                .map(|k| (k.as_str(), kind_key(k.as_str()))),
            &form.kind,
        ),
        form,
        errors,
    })
}

async fn list_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, PageError> {
    let form = NewAgencyForm {
        valid_from: time::date(time::today()),
        ..Default::default()
    };
    Ok(render(
        list_view(&state, &user, &q, form, FieldErrors::default()).await?,
    ))
}

async fn create_agency(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<NewAgencyForm>,
) -> Result<Response, PageError> {
    require_any_admin(&user.principal)?;
    let mut errors = FieldErrors::default();
    let code = OrgCode::parse(&form.code)
        .map_err(|e| errors.add("code", e.code()))
        .ok();
    let name = AgencyName::parse(&form.name)
        .map_err(|e| errors.add("name", e.code()))
        .ok();
    let short_name = ShortName::parse(&form.short_name)
        .map_err(|e| errors.add("short_name", e.code()))
        .ok();
    let kind = form
        .kind
        .parse::<AgencyKind>()
        .map_err(|e| errors.add("kind", e.code()))
        .ok();
    let valid_from = match parse_date_field(&form.valid_from) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            errors.add("valid_from", "error.required");
            None
        }
        Err(crate::http::form::InvalidDate) => {
            errors.add("valid_from", "error.date");
            None
        }
    };
    // A new agency must sit under one the person administers.
    let parent_id = form.parent_id.trim().parse::<i64>().ok();
    match parent_id {
        Some(p) => require_admin_of(&state, &user.principal, p).await?,
        None => errors.add("parent_id", "error.required"),
    }
    if let (Some(code), Some(name), Some(short_name), Some(kind), Some(valid_from), true) =
        (code, name, short_name, kind, valid_from, errors.is_empty())
    {
        let new = org::NewAgency {
            code,
            kind,
            name,
            short_name,
            parent_id,
            valid_from,
        };
        match org::create(&state.db, &user.principal.actor(), new).await {
            Ok(id) => return Ok(Redirect::to(&format!("/admin/agencies/{id}")).into_response()),
            Err(lienthong_services::ServiceError::Invalid { field, code }) => {
                errors.add(field, code)
            }
            Err(e) => return Err(e.into()),
        }
    }
    let mut res = render(list_view(&state, &user, &AsOfQuery::default(), form, errors).await?);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

pub struct PersonRow {
    pub id: i64,
    pub username: String,
    pub full_name: String,
    pub roles: Vec<&'static str>,
}

pub struct HistoryRow {
    pub kind_key: String,
    pub effective_on: String,
    pub subjects: String,
    pub successors: String,
    pub note: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewUnitForm {
    pub name: String,
    pub short_name: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct NewPersonForm {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub password: String,
    pub role: String,
    pub unit_id: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "admin/agency.html")]
pub struct AgencyPage {
    c: Chrome,
    a: org::Agency,
    as_of: String,
    in_force: bool,
    kind_key: String,
    parent_name: String,
    units: Vec<org::Unit>,
    people: Vec<PersonRow>,
    history: Vec<HistoryRow>,
    roles: Vec<Choice>,
    unit_form: NewUnitForm,
    unit_errors: FieldErrors,
    person_form: NewPersonForm,
    person_errors: FieldErrors,
}

pub async fn agency_view(
    state: &AppState,
    user: &SignedIn,
    id: i64,
    day: NaiveDate,
    unit_form: (NewUnitForm, FieldErrors),
    person_form: (NewPersonForm, FieldErrors),
) -> Result<AgencyPage, PageError> {
    require_admin_of(state, &user.principal, id).await?;
    let a = org::get(&state.db, id, day).await?;
    let all = org::list(&state.db, day, true).await?;
    let names: HashMap<i64, String> = all.iter().map(|x| (x.id, x.name.clone())).collect();
    let mut people_rows = Vec::new();
    for p in people::list_in_agency(&state.db, id, day).await? {
        let roles = people::positions(&state.db, p.id, Some(day))
            .await?
            .iter()
            .filter(|x| x.agency_id == id)
            .map(|x| crate::role_key(&x.role))
            .collect();
        people_rows.push(PersonRow {
            id: p.id,
            username: p.username,
            full_name: p.full_name,
            roles,
        });
    }
    let name_list = |ids: &[i64]| {
        ids.iter()
            .filter_map(|i| names.get(i).cloned())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let history = org::history(&state.db, id)
        .await?
        .into_iter()
        .map(|h| HistoryRow {
            kind_key: format!("reorg.{}", h.kind),
            effective_on: h.effective_on,
            subjects: name_list(&h.subjects),
            successors: name_list(&h.successors),
            note: h.note,
        })
        .collect();
    Ok(AgencyPage {
        c: user.chrome(),
        in_force: a.is_in_force(time::today()),
        kind_key: kind_key(&a.kind),
        parent_name: a
            .parent_id
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_default(),
        units: org::units(&state.db, id, day).await?,
        people: people_rows,
        history,
        roles: choices(
            Role::ALL
                .iter()
                .map(|r| (r.as_str(), crate::role_key(r).to_owned())),
            &person_form.0.role,
        ),
        as_of: time::date(day),
        a,
        unit_form: unit_form.0,
        unit_errors: unit_form.1,
        person_form: person_form.0,
        person_errors: person_form.1,
    })
}

async fn agency_page(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("created") => Some("people.created"),
        _ => None,
    };
    let mut page = agency_view(
        &state,
        &user,
        id,
        q.day(),
        Default::default(),
        Default::default(),
    )
    .await?;
    page.c = page.c.with_notice(notice);
    Ok(render(page))
}

async fn create_unit(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<NewUnitForm>,
) -> Result<Response, PageError> {
    require_admin_of(&state, &user.principal, id).await?;
    let mut errors = FieldErrors::default();
    let name = AgencyName::parse(&form.name)
        .map_err(|e| errors.add("unit_name", e.code()))
        .ok();
    let short = ShortName::parse(&form.short_name)
        .map_err(|e| errors.add("unit_short_name", e.code()))
        .ok();
    if let (Some(name), Some(short)) = (name, short) {
        org::create_unit(
            &state.db,
            &user.principal.actor(),
            id,
            &name,
            &short,
            time::today(),
        )
        .await?;
        return Ok(Redirect::to(&format!("/admin/agencies/{id}")).into_response());
    }
    let page = agency_view(
        &state,
        &user,
        id,
        time::today(),
        (form, errors),
        Default::default(),
    )
    .await?;
    let mut res = render(page);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Default, Clone)]
pub struct ReorganiseForm {
    kind: String,
    effective_on: String,
    subjects: Vec<String>,
    primary_successor: String,
    other_successors: Vec<String>,
    new_name: String,
    new_parent: String,
    note: String,
}

#[derive(Template)]
#[template(path = "admin/reorganise.html")]
struct ReorganisePage {
    c: Chrome,
    agencies: Vec<org::Agency>,
    kinds: Vec<Choice>,
    form: ReorganiseForm,
    error: Option<&'static str>,
}

impl ReorganisePage {
    fn selected(&self, id: &i64) -> bool {
        self.form.subjects.iter().any(|s| s == &id.to_string())
    }
    fn other_selected(&self, id: &i64) -> bool {
        self.form
            .other_successors
            .iter()
            .any(|s| s == &id.to_string())
    }
}

async fn reorganise_view(
    state: &AppState,
    user: &SignedIn,
    form: ReorganiseForm,
    error: Option<&'static str>,
) -> Result<ReorganisePage, PageError> {
    require_any_admin(&user.principal)?;
    Ok(ReorganisePage {
        c: user.chrome(),
        agencies: administered(state, &user.principal, time::today(), false).await?,
        kinds: choices(
            ReorganisationKind::ALL
                .iter()
                .map(|k| (k.as_str(), format!("reorg.{}", k.as_str()))),
            &form.kind,
        ),
        form,
        error,
    })
}

async fn reorganise_page(
    State(state): State<AppState>,
    user: SignedIn,
) -> Result<Response, PageError> {
    let form = ReorganiseForm {
        effective_on: time::date(time::today()),
        kind: "merge".into(),
        ..Default::default()
    };
    Ok(render(reorganise_view(&state, &user, form, None).await?))
}

async fn reorganise(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // Multi-selects send repeated fields (`subjects=1&subjects=2`), which
    // serde_urlencoded cannot gather into a Vec field: read the pairs by hand.
    let mut form = ReorganiseForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "kind" => form.kind = v,
            "effective_on" => form.effective_on = v,
            "subjects" => form.subjects.push(v),
            "primary_successor" => form.primary_successor = v,
            "other_successors" => form.other_successors.push(v),
            "new_name" => form.new_name = v,
            "new_parent" => form.new_parent = v,
            "note" => form.note = v,
            _ => {}
        }
    }
    require_any_admin(&user.principal)?;
    let outcome = match parse_reorganisation(&form) {
        Ok(req) => {
            // The person must administer every agency the change touches.
            for id in req
                .subjects
                .iter()
                .chain(&req.successors)
                .chain(&req.new_parent)
            {
                require_admin_of(&state, &user.principal, *id).await?;
            }
            match org::reorganise(&state.db, &user.principal.actor(), &req, form.note.trim()).await
            {
                Ok(_) => Ok(req),
                Err(lienthong_services::ServiceError::Invalid { code, .. }) => Err(code),
                Err(e) => return Err(e.into()),
            }
        }
        Err(code) => Err(code),
    };
    match outcome {
        Ok(req) => {
            let target = req.subjects.first().copied().unwrap_or_default();
            let day = time::date(req.effective_on);
            Ok(Redirect::to(&format!("/admin/agencies/{target}?as_of={day}")).into_response())
        }
        Err(code) => {
            let mut res = render(reorganise_view(&state, &user, form, Some(code)).await?);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

/// Turns the form into a request the domain can check; an error is a message key.
fn parse_reorganisation(form: &ReorganiseForm) -> Result<ReorganisationRequest, &'static str> {
    let kind = form
        .kind
        .parse::<ReorganisationKind>()
        .map_err(|e| e.code())?;
    let effective_on = match parse_date_field(&form.effective_on) {
        Ok(Some(d)) => d,
        _ => return Err("error.date"),
    };
    let ids = |v: &[String]| {
        v.iter()
            .filter_map(|s| s.trim().parse::<i64>().ok())
            .collect::<Vec<i64>>()
    };
    let mut successors = Vec::new();
    if matches!(kind, ReorganisationKind::Merge | ReorganisationKind::Split) {
        for id in ids(std::slice::from_ref(&form.primary_successor))
            .into_iter()
            .chain(ids(&form.other_successors))
        {
            if !successors.contains(&id) {
                successors.push(id);
            }
        }
    }
    let new_name = match (kind, form.new_name.trim().is_empty()) {
        (ReorganisationKind::Rename, false) => {
            Some(AgencyName::parse(&form.new_name).map_err(|e| e.code())?)
        }
        _ => None,
    };
    let new_parent = match kind {
        ReorganisationKind::Move => form.new_parent.trim().parse::<i64>().ok(),
        _ => None,
    };
    Ok(ReorganisationRequest {
        kind,
        effective_on,
        subjects: ids(&form.subjects),
        successors,
        new_name,
        new_parent,
    })
}

/// The directory of agencies, for integrations (any authenticated account).
async fn api_directory(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
    Query(q): Query<AsOfQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let day = q.day();
    let list = org::list(&state.db, day, q.ended.is_some()).await?;
    Ok(Json(json!({"as_of": time::date(day), "agencies": list})))
}

/// The staff of an agency: its administrators only.
async fn api_agency_people(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let ancestry = ancestry_for_access(&state, id).await.map_err(|e| match e {
        PageError::NotFound => ApiError::NotFound,
        other => ApiError::Internal(other.to_string()),
    })?;
    if !lienthong_domain::access::may_administer(&p.memberships(), &ancestry) {
        return Err(ApiError::Forbidden);
    }
    let list = people::list_in_agency(&state.db, id, time::today()).await?;
    Ok(Json(json!({"agency_id": id, "people": list})))
}
