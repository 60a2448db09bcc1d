//! The search box: one page for staff and `GET /api/v1/search` for integrations.
//! Results are always filtered by what the reader may see (in the index query).

use askama::Template;
use axum::extract::{Query as QueryParams, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use lienthong_search::Query;
use lienthong_services::search;
use serde::Deserialize;
use serde_json::json;

use crate::http::form::parse_date_field;
use crate::http::{render, ApiError, ApiUser, Chrome, PageError, SignedIn};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search_page))
        .route("/api/v1/search", get(api_search))
}

#[derive(Deserialize, Default)]
struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    direction: Option<String>,
    agency: Option<i64>,
    from: Option<String>,
    to: Option<String>,
    page: Option<usize>,
}

const PER_PAGE: usize = 20;

impl SearchParams {
    fn query(&self) -> Query {
        let text = |s: &Option<String>| {
            s.as_ref()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let date = |s: &Option<String>| text(s).and_then(|d| parse_date_field(&d).ok().flatten());
        Query {
            text: text(&self.q).unwrap_or_default(),
            agency: self.agency,
            doc_type: text(&self.doc_type),
            direction: text(&self.direction),
            from: date(&self.from),
            to: date(&self.to),
            limit: PER_PAGE,
            offset: self.page.unwrap_or(0).min(500) * PER_PAGE,
        }
    }
}

#[derive(Template)]
#[template(path = "search/search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    from: String,
    to: String,
    types: Vec<crate::http::form::Choice>,
    directions: Vec<crate::http::form::Choice>,
    hits: Vec<search::Hit>,
    total: usize,
    searched: bool,
}

async fn search_page(
    State(state): State<AppState>,
    user: SignedIn,
    QueryParams(p): QueryParams<SearchParams>,
) -> Result<Response, PageError> {
    let query = p.query();
    let searched = !query.text.is_empty()
        || query.doc_type.is_some()
        || query.from.is_some()
        || query.to.is_some();
    let results = if searched {
        Some(search::search(&state.search, &user.principal, query).await?)
    } else {
        None
    };
    let (hits, total) = results.map(|r| (r.hits, r.total)).unwrap_or_default();
    use crate::http::form::choices;
    use lienthong_domain::document::DocumentType;
    Ok(render(SearchPage {
        c: user.chrome(),
        q: p.q.clone().unwrap_or_default(),
        from: p.from.clone().unwrap_or_default(),
        to: p.to.clone().unwrap_or_default(),
        types: choices(
            DocumentType::ALL
                .iter()
                .map(|t| (t.code(), t.key().to_owned())),
            p.doc_type.as_deref().unwrap_or(""),
        ),
        directions: choices(
            [
                ("incoming", "documents.incoming".to_owned()),
                ("outgoing", "documents.outgoing".to_owned()),
            ],
            p.direction.as_deref().unwrap_or(""),
        ),
        hits,
        total,
        searched,
    }))
}

async fn api_search(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    QueryParams(p): QueryParams<SearchParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let results = search::search(&state.search, &who, p.query()).await?;
    Ok(Json(json!({"hits": results.hits, "total": results.total})))
}
