//! The working-day calendar of the province: each year's holidays as the law
//! computes them, and the government's moved days off and make-up working days,
//! which the province's administrators record here.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Datelike, NaiveDate};
use lienthong_domain::calendar::{DayKind, DayOverride, OverrideKind};
use lienthong_services::{calendar, ServiceError};
use lienthong_store::time;
use serde::Deserialize;

use super::{parse_date_field, require_province_admin};
use crate::http::{render, Chrome, CsrfForm, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendar", get(calendar_page))
        .route("/admin/calendar/days", post(set_day))
        .route("/admin/calendar/days/remove", post(remove_day))
}

pub struct DayRow {
    pub date: String,
    pub weekday: String,
    /// Message key of the kind of day.
    pub kind_key: &'static str,
    pub name: String,
    pub overridden: bool,
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    c: Chrome,
    year: i32,
    rows: Vec<DayRow>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<i32>,
}

async fn view(
    state: &AppState,
    user: &SignedIn,
    year: i32,
    error: Option<&'static str>,
) -> Result<CalendarPage, PageError> {
    require_province_admin(state, &user.principal).await?;
    let cal = calendar::load(&state.db).await?;
    let overrides = calendar::overrides(&state.db).await?;
    let rows = cal
        .special_days(year)
        .into_iter()
        .map(|(d, kind)| {
            let (kind_key, name) = match kind {
                DayKind::Holiday(h) => ("calendar.holiday", h.name_vi().to_owned()),
                DayKind::Compensatory(h) => {
                    ("calendar.compensatory", h.compensatory_name_vi().to_owned())
                }
                DayKind::ExtraDayOff { note } => ("calendar.day_off", note.to_owned()),
                DayKind::ExtraWorkingDay { note } => ("calendar.working_day", note.to_owned()),
                DayKind::Working | DayKind::WeeklyRest => ("calendar.working_day", String::new()),
            };
            DayRow {
                date: time::date(d),
                weekday: format!("weekday.{}", d.weekday().num_days_from_monday()),
                kind_key,
                name,
                overridden: overrides.days.iter().any(|o| o.date == d),
            }
        })
        .collect();
    Ok(CalendarPage {
        c: user.chrome(),
        year,
        rows,
        error,
    })
}

async fn calendar_page(
    State(state): State<AppState>,
    user: SignedIn,
    Query(q): Query<YearQuery>,
) -> Result<Response, PageError> {
    let year = q
        .year
        .filter(|y| (1950..=2100).contains(y))
        .unwrap_or_else(|| time::today().year());
    Ok(render(view(&state, &user, year, None).await?))
}

#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
struct DayForm {
    date: String,
    kind: String,
    note: String,
}

async fn refuse(
    state: &AppState,
    user: &SignedIn,
    year: i32,
    key: &'static str,
) -> Result<Response, PageError> {
    let mut res = render(view(state, user, year, Some(key)).await?);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

fn year_of(d: Option<NaiveDate>) -> i32 {
    d.map(|d| d.year()).unwrap_or_else(|| time::today().year())
}

async fn set_day(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(f): CsrfForm<DayForm>,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let date = match parse_date_field(&f.date) {
        Ok(Some(d)) => d,
        _ => return refuse(&state, &user, time::today().year(), "error.date").await,
    };
    let kind = match f.kind.as_str() {
        "day_off" => OverrideKind::DayOff,
        "working_day" => OverrideKind::WorkingDay,
        _ => return refuse(&state, &user, date.year(), "error.bad_form").await,
    };
    if f.note.trim().is_empty() {
        return refuse(&state, &user, date.year(), "error.calendar_note").await;
    }
    match calendar::set_day(
        &state.db,
        &user.principal,
        DayOverride {
            date,
            kind,
            note: f.note.trim().to_owned(),
        },
    )
    .await
    {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/calendar?year={}", date.year())).into_response())
        }
        Err(ServiceError::Invalid { code, .. }) => refuse(&state, &user, date.year(), code).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RemoveForm {
    date: String,
}

async fn remove_day(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(f): CsrfForm<RemoveForm>,
) -> Result<Response, PageError> {
    require_province_admin(&state, &user.principal).await?;
    let date = parse_date_field(&f.date).ok().flatten();
    let Some(date) = date else {
        return refuse(&state, &user, year_of(None), "error.date").await;
    };
    calendar::remove_day(&state.db, &user.principal, date).await?;
    Ok(Redirect::to(&format!("/admin/calendar?year={}", date.year())).into_response())
}
