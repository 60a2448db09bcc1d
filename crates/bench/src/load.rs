//! Closed-loop HTTP load: `clients` tasks, each with its own keep-alive connection,
//! send one request after another to one path for a fixed time and record the
//! latency of every answer (sending the request to reading the whole body).
//! [`run_op`] does the same for any async operation (a query run directly, say).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::header::{HeaderValue, AUTHORIZATION, COOKIE};
use reqwest::{redirect, Client, StatusCode};
use serde::Serialize;

/// What to load: one path, with the status a healthy answer has.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: &'static str,
    pub path: String,
    pub expect: StatusCode,
    /// Sent as the `Cookie` header of every request.
    pub cookie: Option<String>,
    /// Sent as `Authorization: Bearer …` with every request.
    pub bearer: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub clients: usize,
    pub duration: Duration,
    /// Run first and thrown away: connections opened, caches and pools warm.
    pub warmup: Duration,
}

/// Figures for one target. Latencies are of the answers with the expected status;
/// `errors` counts other statuses and transport failures.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub name: String,
    pub path: String,
    pub clients: usize,
    /// Measured wall time of the run, from the first request to the last answer.
    pub seconds: f64,
    /// Every request that got an answer or failed, errors included.
    pub requests: u64,
    pub errors: u64,
    /// Answers with the expected status per second of `seconds`.
    pub rps: f64,
    pub latency_ms: Latency,
    /// Mean body size of the answers with the expected status: shows the page
    /// measured is the real one, not a redirect or an empty shell.
    pub body_bytes_mean: Option<f64>,
    /// What the first error was, to tell a 404 from a refused connection.
    pub first_error: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// The nearest-rank percentile of an ascending slice: the smallest value such that
/// at least `p` percent of the values are at most it. `None` for an empty slice.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

impl Latency {
    /// From latencies in microseconds, sorted ascending.
    pub fn from_sorted_micros(sorted: &[u64]) -> Self {
        let ms = |us: Option<u64>| us.map(|us| us as f64 / 1000.0);
        let mean = (!sorted.is_empty()).then(|| {
            sorted.iter().map(|&us| us as f64).sum::<f64>() / sorted.len() as f64 / 1000.0
        });
        Latency {
            mean,
            p50: ms(percentile(sorted, 50.0)),
            p90: ms(percentile(sorted, 90.0)),
            p99: ms(percentile(sorted, 99.0)),
            max: ms(sorted.last().copied()),
        }
    }
}

/// A client that keeps its connection alive and never follows redirects (a
/// redirect to the sign-in page must count as an error, not as a fast answer).
pub fn client() -> anyhow::Result<Client> {
    Client::builder()
        .redirect(redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

#[derive(Default)]
struct ClientResult {
    ok_micros: Vec<u64>,
    ok_bytes: u64,
    errors: u64,
    first_error: Option<String>,
}

/// The headers every request of a target carries.
#[derive(Clone, Default)]
struct Headers {
    cookie: Option<HeaderValue>,
    authorization: Option<HeaderValue>,
}

async fn one_client(
    client: Client,
    url: String,
    headers: Headers,
    expect: StatusCode,
    until: Instant,
) -> ClientResult {
    let op = move || {
        let mut request = client.get(&url);
        if let Some(c) = &headers.cookie {
            request = request.header(COOKIE, c.clone());
        }
        if let Some(a) = &headers.authorization {
            request = request.header(AUTHORIZATION, a.clone());
        }
        async move {
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    match response.bytes().await {
                        Ok(body) if status == expect => Ok(body.len() as u64),
                        Ok(_) => Err(format!("status {status}, expected {expect}")),
                        Err(e) => Err(format!("reading the body: {e}")),
                    }
                }
                Err(e) => Err(format!("request: {e}")),
            }
        }
    };
    op_client(op, until).await
}

/// Runs `op` one call after another until `until`, timing each call.
async fn op_client<F, Fut>(op: F, until: Instant) -> ClientResult
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<u64, String>>,
{
    let mut out = ClientResult::default();
    while Instant::now() < until {
        let started = Instant::now();
        let outcome = op().await;
        let took = started.elapsed();
        match outcome {
            Ok(bytes) => {
                out.ok_micros
                    .push(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
                out.ok_bytes += bytes;
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e);
            }
        }
    }
    out
}

async fn phase(
    clients: &[Client],
    url: &str,
    target: &Target,
    duration: Duration,
) -> anyhow::Result<(Vec<ClientResult>, Duration)> {
    let header = |v: &Option<String>, what: &str| {
        v.as_deref()
            .map(HeaderValue::from_str)
            .transpose()
            .with_context(|| format!("bad {what}"))
    };
    let headers = Headers {
        cookie: header(&target.cookie, "cookie")?,
        authorization: header(
            &target.bearer.as_ref().map(|t| format!("Bearer {t}")),
            "token",
        )?,
    };
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            tokio::spawn(one_client(
                c.clone(),
                url.to_owned(),
                headers.clone(),
                target.expect,
                until,
            ))
        })
        .collect();
    collect(tasks, started).await
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<ClientResult>>,
    started: Instant,
) -> anyhow::Result<(Vec<ClientResult>, Duration)> {
    let mut results = Vec::with_capacity(tasks.len());
    for t in tasks {
        results.push(t.await.context("a load client failed")?);
    }
    Ok((results, started.elapsed()))
}

/// Loads `base_url` + `target.path` and reports what was measured.
pub async fn run(base_url: &str, target: &Target, load: Load) -> anyhow::Result<TargetReport> {
    let url = format!("{base_url}{}", target.path);
    let clients = (0..load.clients.max(1))
        .map(|_| client())
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !load.warmup.is_zero() {
        phase(&clients, &url, target, load.warmup).await?;
    }
    let (results, elapsed) = phase(&clients, &url, target, load.duration).await?;
    Ok(summarise(
        target.name,
        &target.path,
        clients.len(),
        results,
        elapsed,
    ))
}

/// Runs `op` from `load.clients` concurrent tasks, one call after another, for
/// `load.duration` (after `load.warmup` unrecorded) and reports it like an HTTP
/// target: `Ok(bytes)` is a good answer, `Err(why)` an error. `what` describes the
/// operation where an HTTP target has its path.
pub async fn run_op<F, Fut>(name: &str, what: &str, load: Load, op: F) -> TargetReport
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<u64, String>> + Send + 'static,
{
    let phase = |duration: Duration| {
        let op = op.clone();
        async move {
            let started = Instant::now();
            let until = started + duration;
            let tasks = (0..load.clients.max(1))
                .map(|_| tokio::spawn(op_client(op.clone(), until)))
                .collect();
            collect(tasks, started).await
        }
    };
    if !load.warmup.is_zero() {
        let _ = phase(load.warmup).await;
    }
    match phase(load.duration).await {
        Ok((results, elapsed)) => summarise(name, what, load.clients.max(1), results, elapsed),
        Err(e) => summarise(
            name,
            what,
            load.clients.max(1),
            vec![ClientResult {
                errors: 1,
                first_error: Some(format!("{e:#}")),
                ..ClientResult::default()
            }],
            Duration::ZERO,
        ),
    }
}

fn summarise(
    name: &str,
    path: &str,
    clients: usize,
    results: Vec<ClientResult>,
    elapsed: Duration,
) -> TargetReport {
    let mut micros = Vec::new();
    let mut errors = 0;
    let mut bytes = 0;
    let mut first_error = None;
    for r in results {
        micros.extend(r.ok_micros);
        errors += r.errors;
        bytes += r.ok_bytes;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }
    micros.sort_unstable();
    let seconds = elapsed.as_secs_f64();
    TargetReport {
        name: name.to_owned(),
        path: path.to_owned(),
        clients,
        seconds,
        requests: micros.len() as u64 + errors,
        errors,
        rps: if seconds > 0.0 {
            micros.len() as f64 / seconds
        } else {
            0.0
        },
        latency_ms: Latency::from_sorted_micros(&micros),
        body_bytes_mean: (!micros.is_empty()).then(|| bytes as f64 / micros.len() as f64),
        first_error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 50.0), Some(50));
        assert_eq!(percentile(&hundred, 90.0), Some(90));
        assert_eq!(percentile(&hundred, 99.0), Some(99));
        assert_eq!(percentile(&hundred, 99.5), Some(100));
        assert_eq!(percentile(&hundred, 100.0), Some(100));
        assert_eq!(percentile(&hundred, 0.0), Some(1));

        let ten: Vec<u64> = (1..=10).map(|x| x * 10).collect();
        assert_eq!(percentile(&ten, 50.0), Some(50));
        assert_eq!(percentile(&ten, 51.0), Some(60));
        assert_eq!(percentile(&ten, 99.0), Some(100));

        assert_eq!(percentile(&[7], 1.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
        // A slow tail shows at p99 and max, not at p50.
        let mut tail = vec![1; 98];
        tail.extend([500, 900]);
        assert_eq!(percentile(&tail, 50.0), Some(1));
        assert_eq!(percentile(&tail, 99.0), Some(500));
    }

    #[test]
    fn latency_summary_in_milliseconds() {
        let l = Latency::from_sorted_micros(&[1000, 2000, 3000, 4000]);
        assert_eq!(l.p50, Some(2.0));
        assert_eq!(l.p99, Some(4.0));
        assert_eq!(l.max, Some(4.0));
        assert_eq!(l.mean, Some(2.5));
        assert!(Latency::from_sorted_micros(&[]).p50.is_none());
    }
}
