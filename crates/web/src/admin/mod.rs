//! Administration: agencies and units (with reorganisation), staff, and the audit
//! log. Every handler checks that the signed-in person administers the agency
//! concerned (their own agency or one below it); province administrators, who
//! administer the root agency, see everything.

mod agencies;
mod audit;
mod people;

use std::collections::HashMap;

use axum::Router;
use chrono::{Duration, NaiveDate};
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
    require_any_admin(who)?;
    for m in who.memberships() {
        if m.role == lienthong_domain::Role::Admin
            && org::ancestry(&state.db, m.agency_id, time::today())
                .await?
                .len()
                == 1
        {
            return Ok(());
        }
    }
    Err(PageError::Forbidden)
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

/// An `<option>` of a select: its value, the message key of its label, and
/// whether the form being shown had it selected.
pub struct Choice {
    pub value: String,
    pub key: String,
    pub selected: bool,
}

pub fn choices<'a>(
    options: impl IntoIterator<Item = (&'a str, String)>,
    current: &str,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, key)| Choice {
            selected: value == current,
            value: value.to_owned(),
            key,
        })
        .collect()
}

/// Field errors of a form: field name → message key.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(HashMap<&'static str, &'static str>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, key: &'static str) {
        self.0.entry(field).or_insert(key);
    }
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.get(field).copied()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Parses an `<input type="date">` value; empty means "not given".
pub fn parse_date_field(s: &str) -> Result<Option<NaiveDate>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    time::parse_date(s).map(Some).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_forms() {
        assert_eq!(parse_date_field(""), Ok(None));
        assert_eq!(
            parse_date_field(" 2025-03-01 "),
            Ok(NaiveDate::from_ymd_opt(2025, 3, 1))
        );
        assert_eq!(parse_date_field("2025-02-30"), Err(()));
        assert_eq!(parse_date_field("01/03/2025"), Err(()));
    }

    #[test]
    fn field_errors_keep_the_first_message() {
        let mut e = FieldErrors::default();
        assert!(e.is_empty());
        e.add("code", "error.org_code");
        e.add("code", "error.code_taken");
        assert_eq!(e.get("code"), Some("error.org_code"));
        assert_eq!(e.get("name"), None);
    }
}
