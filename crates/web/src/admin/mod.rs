//! Administration: agencies and units (with reorganisation), staff, and the audit
//! log. Every handler checks that the signed-in person administers the agency
//! concerned (their own agency or one below it); province administrators, who
//! administer the root agency, see everything.

mod agencies;
mod audit;
mod calendar;
mod peers;
mod people;

use std::collections::HashMap;

use axum::Router;
use chrono::{Duration, NaiveDate};

pub use crate::http::form::{choices, parse_date_field, Choice, FieldErrors};
use lienthong_domain::access;
use lienthong_services::auth::Principal;
use lienthong_services::org;
use lienthong_store::time;

use crate::http::PageError;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(agencies::routes())
        .merge(people::routes())
        .merge(audit::routes())
        .merge(calendar::routes())
        .merge(peers::routes())
}

/// The agency and its parents, on the last day it existed if it has ended, so
/// that administrators can still open an agency that was merged away.
pub async fn ancestry_for_access(state: &AppState, agency_id: i64) -> Result<Vec<i64>, PageError> {
    let today = time::today();
    let agency = org::get(&state.db, agency_id, today).await?;
    let day = match agency.valid_to.as_deref().and_then(time::parse_date) {
        Some(end) if end <= today => end - Duration::days(1),
        _ => today,
    };
    Ok(org::ancestry(&state.db, agency_id, day).await?)
}

/// Forbidden unless `who` administers `agency_id`.
pub async fn require_admin_of(
    state: &AppState,
    who: &Principal,
    agency_id: i64,
) -> Result<(), PageError> {
    let ancestry = ancestry_for_access(state, agency_id).await?;
    if access::may_administer(&who.memberships(), &ancestry) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Forbidden unless `who` administers some agency.
pub fn require_any_admin(who: &Principal) -> Result<(), PageError> {
    if access::is_any_admin(&who.memberships()) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// Forbidden unless `who` administers a root agency (the province): the audit log
/// spans every agency, so only the province's administrators read it.
pub async fn require_province_admin(state: &AppState, who: &Principal) -> Result<(), PageError> {
    Ok(org::require_province_admin(&state.db, who).await?)
}

/// Every agency (in force on `day`) that `who` administers.
pub async fn administered(
    state: &AppState,
    who: &Principal,
    day: NaiveDate,
    include_ended: bool,
) -> Result<Vec<org::Agency>, PageError> {
    let all = org::list(&state.db, day, include_ended).await?;
    let parents: HashMap<i64, Option<i64>> = all.iter().map(|a| (a.id, a.parent_id)).collect();
    let memberships = who.memberships();
    Ok(all
        .into_iter()
        .filter(|a| {
            let mut chain = vec![a.id];
            let mut next = a.parent_id;
            while let Some(p) = next {
                if chain.contains(&p) {
                    break;
                }
                chain.push(p);
                next = parents.get(&p).copied().flatten();
            }
            access::may_administer(&memberships, &chain)
        })
        .collect())
}
