//! Staff administration: adding a person with a first role, a person's page with
//! every position they held, assigning and ending roles, resetting a password.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::NaiveDate;
use lienthong_domain::{access, Email, ErrorCode, FullName, Password, PersonKind, Role, Username};
use lienthong_services::auth::Principal;
use lienthong_services::{org, people, ServiceError};
use lienthong_store::time;
use serde::Deserialize;

use super::agencies::{agency_view, NewPersonForm};
use super::{
    administered, ancestry_for_access, choices, parse_date_field, require_admin_of, Choice,
    FieldErrors,
};
use crate::http::{render, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/people/{id}", get(person_page))
        .route("/admin/people/{id}/positions", post(add_position))
        .route(
            "/admin/people/{id}/positions/{position}/end",
            post(end_position),
        )
        .route("/admin/people/{id}/password", post(reset_password))
}

/// Adds a staff member with a first role in the agency (form on the agency page).
pub async fn create_person(
    State(state): State<AppState>,
    user: SignedIn,
    Path(agency_id): Path<i64>,
    CsrfForm(form): CsrfForm<NewPersonForm>,
) -> Result<Response, PageError> {
    require_admin_of(&state, &user.principal, agency_id).await?;
    let mut errors = FieldErrors::default();
    let username = Username::parse(&form.username)
        .map_err(|e| errors.add("username", e.code()))
        .ok();
    let full_name = FullName::parse(&form.full_name)
        .map_err(|e| errors.add("full_name", e.code()))
        .ok();
    let email = match form.email.trim() {
        "" => None,
        e => Email::parse(e)
            .map_err(|e| errors.add("email", e.code()))
            .ok(),
    };
    let password = Password::parse(&form.password)
        .map_err(|e| errors.add("password", e.code()))
        .ok();
    let role = form
        .role
        .parse::<Role>()
        .map_err(|_| errors.add("role", "error.role"))
        .ok();
    let unit_id = form.unit_id.trim().parse::<i64>().ok();
    if let (Some(username), Some(full_name), Some(password), Some(role), true) =
        (username, full_name, password, role, errors.is_empty())
    {
        let actor = user.principal.actor();
        let new = people::NewPerson {
            username,
            full_name,
            email,
            kind: PersonKind::Staff,
            password,
        };
        match people::create(&state.db, &actor, new).await {
            Ok(id) => {
                let position = people::NewPosition {
                    agency_id,
                    unit_id,
                    role,
                    title: form.title.trim().to_owned(),
                    valid_from: time::today(),
                };
                people::add_position(&state.db, &actor, id, &position).await?;
                return Ok(
                    Redirect::to(&format!("/admin/people/{id}?notice=created")).into_response()
                );
            }
            Err(ServiceError::Invalid { field, code }) => errors.add(field, code),
            Err(e) => return Err(e.into()),
        }
    }
    let form = NewPersonForm {
        password: String::new(),
        ..form
    };
    let page = agency_view(
        &state,
        &user,
        agency_id,
        time::today(),
        Default::default(),
        (form, errors),
    )
    .await?;
    let mut res = render(page);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

/// How much of a person's scope an administrator must cover.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Viewing: administering any agency where the person holds or held a role.
    Any,
    /// Changing roles or the password: administering every agency where the
    /// person holds a role today, so that no administrator can take over an
    /// account that also serves elsewhere.
    AllCurrent,
}

/// People with no role at all (citizens) belong to the province's administrators.
async fn require_admin_of_person(
    state: &AppState,
    who: &Principal,
    person_id: i64,
    reach: Reach,
) -> Result<Vec<people::Position>, PageError> {
    let positions = people::positions(&state.db, person_id, None).await?;
    let today = time::date(time::today());
    let relevant: Vec<&people::Position> = match reach {
        Reach::Any => positions.iter().collect(),
        Reach::AllCurrent => positions
            .iter()
            .filter(|p| p.valid_to.as_ref().is_none_or(|t| *t > today))
            .collect(),
    };
    if relevant.is_empty() {
        people::get(&state.db, person_id).await?;
        super::require_province_admin(state, who).await?;
        return Ok(positions);
    }
    let memberships = who.memberships();
    let mut covered = 0;
    for p in &relevant {
        if access::may_administer(
            &memberships,
            &ancestry_for_access(state, p.agency_id).await?,
        ) {
            covered += 1;
        }
    }
    let ok = match reach {
        Reach::Any => covered > 0,
        Reach::AllCurrent => covered == relevant.len(),
    };
    if ok {
        Ok(positions)
    } else {
        Err(PageError::Forbidden)
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct PositionForm {
    agency_id: String,
    unit_id: String,
    role: String,
    title: String,
    valid_from: String,
}

#[derive(Template)]
#[template(path = "admin/person.html")]
struct PersonPage {
    c: Chrome,
    person: people::Person,
    kind_key: String,
    positions: Vec<people::Position>,
    agencies: Vec<org::Agency>,
    roles: Vec<Choice>,
    today: String,
    form: PositionForm,
    errors: FieldErrors,
}

async fn person_view(
    state: &AppState,
    user: &SignedIn,
    id: i64,
    form: PositionForm,
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> Result<PersonPage, PageError> {
    let positions = require_admin_of_person(state, &user.principal, id, Reach::Any).await?;
    let person = people::get(&state.db, id).await?;
    Ok(PersonPage {
        c: user.chrome().with_notice(notice),
        kind_key: format!("kind.{}", person.kind),
        person,
        positions,
        agencies: administered(state, &user.principal, time::today(), false).await?,
        roles: choices(
            Role::ALL
                .iter()
                .map(|r| (r.as_str(), crate::role_key(r).to_owned())),
            &form.role,
        ),
        today: time::date(time::today()),
        form,
        errors,
    })
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

async fn person_page(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("created") => Some("people.created"),
        Some("password_reset") => Some("people.password_reset"),
        _ => None,
    };
    let form = PositionForm {
        valid_from: time::date(time::today()),
        ..Default::default()
    };
    Ok(render(
        person_view(&state, &user, id, form, FieldErrors::default(), notice).await?,
    ))
}

async fn add_position(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PositionForm>,
) -> Result<Response, PageError> {
    require_admin_of_person(&state, &user.principal, id, Reach::AllCurrent).await?;
    let mut errors = FieldErrors::default();
    let agency_id = form.agency_id.trim().parse::<i64>().ok();
    match agency_id {
        Some(a) => require_admin_of(&state, &user.principal, a).await?,
        None => errors.add("agency_id", "error.required"),
    }
    let role = form
        .role
        .parse::<Role>()
        .map_err(|_| errors.add("role", "error.role"))
        .ok();
    let valid_from: Option<NaiveDate> = match parse_date_field(&form.valid_from) {
        Ok(d) => Some(d.unwrap_or_else(time::today)),
        Err(crate::http::form::InvalidDate) => {
            errors.add("valid_from", "error.date");
            None
        }
    };
    if let (Some(agency_id), Some(role), Some(valid_from), true) =
        (agency_id, role, valid_from, errors.is_empty())
    {
        let p = people::NewPosition {
            agency_id,
            unit_id: form.unit_id.trim().parse::<i64>().ok(),
            role,
            title: form.title.trim().to_owned(),
            valid_from,
        };
        match people::add_position(&state.db, &user.principal.actor(), id, &p).await {
            Ok(_) => return Ok(Redirect::to(&format!("/admin/people/{id}")).into_response()),
            Err(ServiceError::Invalid { field, code }) => errors.add(field, code),
            Err(e) => return Err(e.into()),
        }
    }
    let mut res = render(person_view(&state, &user, id, form, errors, None).await?);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

#[derive(Deserialize)]
struct Empty {}

async fn end_position(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, position)): Path<(i64, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let agency = people::position_agency(&state.db, position).await?;
    require_admin_of(&state, &user.principal, agency).await?;
    let held = people::positions(&state.db, id, None).await?;
    if !held.iter().any(|p| p.id == position) {
        return Err(PageError::NotFound);
    }
    people::end_position(&state.db, &user.principal.actor(), position, time::today()).await?;
    Ok(Redirect::to(&format!("/admin/people/{id}")).into_response())
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, PageError> {
    require_admin_of_person(&state, &user.principal, id, Reach::AllCurrent).await?;
    let password = match Password::parse(&form.password) {
        Ok(p) => p,
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("new_password", e.code());
            let form = PositionForm {
                valid_from: time::date(time::today()),
                ..Default::default()
            };
            let mut res = render(person_view(&state, &user, id, form, errors, None).await?);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(res);
        }
    };
    people::set_password(&state.db, &user.principal.actor(), id, &password).await?;
    Ok(Redirect::to(&format!("/admin/people/{id}?notice=password_reset")).into_response())
}
