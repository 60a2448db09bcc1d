//! Scenario `dashboard`: a generated province in a fresh SQLite database, the web
//! server in this process, the bench clerk signed in; then `/healthz` as the
//! baseline and the clerk's dashboard `/`, one after the other in the same run.

use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use lienthong_services::auth;
use lienthong_store::Db;
use lienthong_web::{AppState, WebConfig};
use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde::Serialize;

use crate::generator::{self, Generated, Shape, BENCH_CLERK, BENCH_PASSWORD};
use crate::load::{self, Load, TargetReport};
use crate::Environment;

pub(crate) const SESSION_COOKIE: &str = "lt_session";
const CSRF_COOKIE: &str = "lt_csrf";

#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub seconds: f64,
    pub warmup_seconds: f64,
    pub clients: usize,
    pub shape: Shape,
    pub database: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub environment: Environment,
    pub config: Config,
    pub generation: Generated,
    /// How the clerk's session was obtained: `http` (the sign-in form) or `direct`
    /// (the auth service, used when the form did not give a working session).
    pub session_via: String,
    /// Status of `GET /` with the session, checked once before loading.
    pub dashboard_check_status: u16,
    pub targets: Vec<TargetReport>,
    pub ratios: Ratios,
}

/// Dashboard over healthz: how much the real page costs next to the cheapest one.
#[derive(Debug, Serialize)]
pub struct Ratios {
    pub dashboard_over_healthz_rps: Option<f64>,
    pub dashboard_over_healthz_p99: Option<f64>,
}

pub async fn run(shape: Shape, load: Load) -> anyhow::Result<Report> {
    let dir = tempfile::tempdir().context("creating a temporary data directory")?;
    let db = Db::open_sqlite(dir.path()).await?;
    db.migrate().await?;
    eprintln!(
        "generating {} agencies, {} people, {} records…",
        shape.agencies, shape.people, shape.records
    );
    let generation = generator::generate(&db, shape).await?;
    eprintln!("generated in {:.2} s", generation.elapsed.as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(db.clone(), dir.path(), WebConfig::default())?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lienthong_web::serve(listener, state, async move {
        let _ = stopped.await;
    }));

    let outcome = measure(&db, &base, load).await;

    let _ = stop.send(());
    match tokio::time::timeout(Duration::from_secs(10), server).await {
        Ok(joined) => joined
            .context("the server task failed")?
            .context("the server failed")?,
        Err(_) => eprintln!("warning: the server did not stop within 10 s"),
    }
    db.close().await;
    let (session_via, dashboard_check_status, targets) = outcome?;

    let find = |name: &str| targets.iter().find(|t| t.name == name);
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    };
    let (healthz, dashboard) = (find("healthz"), find("dashboard"));
    let ratios = Ratios {
        dashboard_over_healthz_rps: ratio(dashboard.map(|t| t.rps), healthz.map(|t| t.rps)),
        dashboard_over_healthz_p99: ratio(
            dashboard.and_then(|t| t.latency_ms.p99),
            healthz.and_then(|t| t.latency_ms.p99),
        ),
    };
    Ok(Report {
        scenario: "dashboard",
        environment: Environment::current(),
        config: Config {
            seconds: load.duration.as_secs_f64(),
            warmup_seconds: load.warmup.as_secs_f64(),
            clients: load.clients,
            shape,
            database: "sqlite",
        },
        generation,
        session_via,
        dashboard_check_status,
        targets,
        ratios,
    })
}

async fn measure(
    db: &Db,
    base: &str,
    load: Load,
) -> anyhow::Result<(String, u16, Vec<TargetReport>)> {
    let (session, via) = sign_in(db, base).await?;
    let cookie = format!("{SESSION_COOKIE}={session}");
    let check = dashboard_status(base, &cookie).await?;
    if check != StatusCode::OK {
        eprintln!("warning: GET / with the clerk's session answers {check}; the dashboard figures will be errors");
    }

    let healthz = load::Target {
        name: "healthz",
        path: "/healthz".to_owned(),
        expect: StatusCode::OK,
        cookie: None,
        bearer: None,
    };
    let dashboard = load::Target {
        name: "dashboard",
        path: "/".to_owned(),
        expect: StatusCode::OK,
        cookie: Some(cookie),
        bearer: None,
    };
    let mut reports = Vec::new();
    for target in [healthz, dashboard] {
        eprintln!(
            "loading {} with {} clients for {:.0} s (+{:.0} s warm-up)…",
            target.path,
            load.clients,
            load.duration.as_secs_f64(),
            load.warmup.as_secs_f64()
        );
        reports.push(load::run(base, &target, load).await?);
    }
    Ok((via, check.as_u16(), reports))
}

async fn dashboard_status(base: &str, cookie: &str) -> anyhow::Result<StatusCode> {
    let response = load::client()?
        .get(format!("{base}/"))
        .header(COOKIE, cookie)
        .send()
        .await?;
    Ok(response.status())
}

/// Signs the bench clerk in through the real form; when that does not give a
/// session that opens the dashboard, opens one through the auth service instead.
pub(crate) async fn sign_in(db: &Db, base: &str) -> anyhow::Result<(String, String)> {
    let form_error = match sign_in_http(base).await {
        Ok(secret) => match dashboard_status(base, &format!("{SESSION_COOKIE}={secret}")).await? {
            StatusCode::OK => return Ok((secret, "http".to_owned())),
            other => format!("the form's session opens / with {other}"),
        },
        Err(e) => format!("{e:#}"),
    };
    eprintln!(
        "note: signing in through the form failed ({form_error}); opening a session directly"
    );
    let person = auth::check_credentials(db, BENCH_CLERK, BENCH_PASSWORD, "127.0.0.1").await?;
    let secret = auth::open_session(db, &person, "127.0.0.1").await?;
    Ok((secret, format!("direct ({form_error})")))
}

/// GET /sign-in for the CSRF cookie and field, then POST the form.
async fn sign_in_http(base: &str) -> anyhow::Result<String> {
    let client = load::client()?;
    let page = client.get(format!("{base}/sign-in")).send().await?;
    if page.status() != StatusCode::OK {
        bail!("GET /sign-in answered {}", page.status());
    }
    let csrf_cookie = set_cookie(page.headers(), CSRF_COOKIE)
        .ok_or_else(|| anyhow!("GET /sign-in set no {CSRF_COOKIE} cookie"))?;
    let html = page.text().await?;
    let csrf_field = hidden_input(&html, "_csrf").unwrap_or_else(|| csrf_cookie.clone());
    let response = client
        .post(format!("{base}/sign-in"))
        .header(COOKIE, format!("{CSRF_COOKIE}={csrf_cookie}"))
        .header(ORIGIN, base)
        .form(&[
            ("username", BENCH_CLERK),
            ("password", BENCH_PASSWORD),
            ("_csrf", csrf_field.as_str()),
        ])
        .send()
        .await?;
    set_cookie(response.headers(), SESSION_COOKIE)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "POST /sign-in answered {} without a {SESSION_COOKIE} cookie",
                response.status()
            )
        })
}

/// The value a response sets for cookie `name`.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().find_map(|h| {
        let pair = h.to_str().ok()?.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The `value` of the `<input>` named `name` in a page.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    let at = [format!("name=\"{name}\""), format!("name='{name}'")]
        .iter()
        .find_map(|n| html.find(n.as_str()))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    ['"', '\''].iter().find_map(|q| {
        let open = format!("value={q}");
        let from = tag.find(&open)? + open.len();
        let len = tag[from..].find(*q)?;
        Some(tag[from..from + len].to_owned())
    })
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn reads_the_csrf_field_and_cookies() {
        let html = r#"<form method="post"><input type="hidden" name="_csrf" value="abc123"><input name="username"></form>"#;
        assert_eq!(hidden_input(html, "_csrf").as_deref(), Some("abc123"));
        let html = "<input value='x9' name='_csrf' type='hidden'/>";
        assert_eq!(hidden_input(html, "_csrf").as_deref(), Some("x9"));
        assert_eq!(
            hidden_input("<input name=\"other\" value=\"1\">", "_csrf"),
            None
        );

        let mut headers = HeaderMap::new();
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("lt_csrf=tok; Path=/; HttpOnly; SameSite=Strict"),
        );
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("lt_session=s3cr3t; Path=/; HttpOnly"),
        );
        assert_eq!(set_cookie(&headers, "lt_csrf").as_deref(), Some("tok"));
        assert_eq!(
            set_cookie(&headers, "lt_session").as_deref(),
            Some("s3cr3t")
        );
        assert_eq!(set_cookie(&headers, "lt_other"), None);
    }
}
