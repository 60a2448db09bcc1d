//! HTTP for Liên Thông: staff pages (server-rendered, htmx), the JSON API, and the
//! operations endpoints. One folder per capability, mirroring `lienthong-services`:
//!
//! - `auth/`: sign-in, sign-out, account page, API tokens, `/api/v1/me`
//! - `dashboard/`: the home page with one panel per role
//! - `documents/`: the incoming register, registering documents, downloads, API
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
