//! HTTP for Liên Thông: staff pages (server-rendered, htmx), the JSON API, and the
//! operations endpoints. One folder per capability, mirroring `lienthong-services`:
//!
//! - `auth/`: sign-in, sign-out, account page, API tokens, `/api/v1/me`
//! - `dashboard/`: the home page with one panel per role
//! - `documents/`: the incoming register, registering documents, downloads, API
//! - `exchange/`: the edXML endpoint, arrived documents, the quarantine
//! - `search/`: the search box and `/api/v1/search`
//! - `admin/`: agencies, units, reorganisation, staff, audit log
//! - `ops/`: `/healthz`, `/metrics`
//! - `http/`: cookies, CSRF, extractors, localized errors, page chrome
//! - `i18n/`: message catalogues (vi, en, km)

mod admin;
mod app;
mod auth;
mod dashboard;
mod documents;
mod exchange;
pub mod http;
pub mod i18n;
mod ops;
mod search;

pub use app::{router, serve, AppState, WebConfig};

use lienthong_domain::Role;

/// The catalogue key naming a role.
pub fn role_key(r: &Role) -> &'static str {
    match r {
        Role::Admin => "role.admin",
        Role::Clerk => "role.clerk",
        Role::Leader => "role.leader",
        Role::UnitHead => "role.unit_head",
        Role::Specialist => "role.specialist",
        Role::OneStopOfficer => "role.one_stop_officer",
        Role::Editor => "role.editor",
    }
}

/// A stored UTC timestamp shown in Vietnam time (UTC+7), as clerks read it:
/// `2026-11-25 23:08`. Anything unparseable is shown as stored.
pub fn local_time(stamp: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(stamp) {
        Ok(t) => (t.with_timezone(&chrono::Utc) + chrono::Duration::hours(7))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => stamp.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_shown_in_vietnam_time() {
        assert_eq!(
            super::local_time("2026-11-25T16:08:16.405204Z"),
            "2026-11-25 23:08"
        );
        assert_eq!(
            super::local_time("2026-12-31T18:30:00.000000Z"),
            "2027-01-01 01:30"
        );
        assert_eq!(super::local_time("not a time"), "not a time");
    }
}
