//! The page chrome (header, language switcher, navigation) shared by every page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use lienthong_domain::access;
use lienthong_services::auth::Principal;

use super::error::urlencode;
use super::extract::RequestCtx;
use crate::i18n::{Lang, Tr};

pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct Chrome {
    pub t: Tr,
    pub csrf: String,
    pub user_name: Option<String>,
    pub is_admin: bool,
    /// Works in some agency (sees the documents menu).
    pub is_staff: bool,
    pub langs: Vec<LangLink>,
    /// A message key shown once at the top of the page ("saved", "signed out"…).
    pub notice: Option<&'static str>,
}

impl Chrome {
    pub fn new(ctx: &RequestCtx, principal: Option<&Principal>) -> Self {
        let here = ctx.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let langs = Lang::ALL
            .into_iter()
            .map(|l| LangLink {
                code: l.code(),
                name: l.native_name(),
                href: format!("/lang?to={}&next={}", l.code(), urlencode(here)),
                current: l == ctx.lang,
            })
            .collect();
        Chrome {
            t: ctx.tr(),
            csrf: ctx.csrf.clone(),
            user_name: principal.map(|p| p.person.full_name.clone()),
            is_admin: principal.is_some_and(|p| access::is_any_admin(&p.memberships())),
            is_staff: principal.is_some_and(|p| !p.positions.is_empty()),
            langs,
            notice: None,
        }
    }

    pub fn with_notice(mut self, key: Option<&'static str>) -> Self {
        self.notice = key;
        self
    }
}

pub fn render(t: impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Chrome,
    pub message_key: &'static str,
    pub status: u16,
}
