//! `GET /metrics`: the backlog, the SLA and the HTTP traffic for Prometheus, in the
//! OpenMetrics text format (which Prometheus reads).
//!
//! The backlog's gauges are read from the live backlog at scrape time ([`Dashboard`], the same
//! numbers as `/api/v1/backlog`), through a collector: nothing is copied between scrapes. The
//! counters (requests, their durations, SLA breaches recorded) count from this process's start,
//! as Prometheus counters do; a restart resets them and `rate()` copes.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::backlog::Dashboard;
use crate::error::ApiError;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route's pattern (`/api/v1/tickets/{id}`), never the raw path: one series per route.
    route: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type DurationFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn duration_histogram() -> Histogram {
    // 0.25 ms to ~4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The process's counters, shared by the handlers, the commit listener and the scrape.
#[derive(Debug, Clone)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: DurationFamily,
    sla_breaches: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            sla_breaches: Counter::default(),
        }
    }
}

impl Metrics {
    /// Counts SLA breaches recorded (by this process's commits).
    pub fn count_sla_breaches(&self, n: u64) {
        if n > 0 {
            self.sla_breaches.inc_by(n);
        }
    }
}

/// Counts a request and its duration, under its route's pattern.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    state.metrics.requests.get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status }).inc();
    state.metrics.durations.get_or_create(&RouteLabels { method, route }).observe(started.elapsed().as_secs_f64());
    response
}

/// The backlog's gauges, read at each scrape.
struct BacklogCollector(AppState);

impl std::fmt::Debug for BacklogCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BacklogCollector")
    }
}

fn gauge(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: f64) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
    gauge.encode(metric)
}

fn gauges<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    label: &str,
    values: impl IntoIterator<Item = (&'a str, f64)>,
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(name, help, None, prometheus_client::metrics::MetricType::Gauge)?;
    for (key, value) in values {
        let labels = [(label, key)];
        let family = metric.encode_family(&labels)?;
        ConstGauge::new(value).encode(family)?;
    }
    Ok(())
}

impl Collector for BacklogCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let state = &self.0;
        let dashboard = Dashboard::at(state, state.now());
        let backlog = &dashboard.live.backlog;
        let e = &mut encoder;
        gauge(e, "vigie_backlog_tickets", "Open tickets.", backlog.count as f64)?;
        gauges(
            e,
            "vigie_backlog_tickets_by_priority",
            "Open tickets per priority.",
            "priority",
            backlog.by_priority.iter().map(|(k, v)| (k.as_str(), *v as f64)),
        )?;
        gauges(
            e,
            "vigie_backlog_tickets_by_team",
            "Open tickets per team (empty: without a team).",
            "team",
            backlog.by_team.iter().map(|(k, v)| (k.as_str(), *v as f64)),
        )?;
        gauges(
            e,
            "vigie_backlog_tickets_by_age",
            "Open tickets per age bucket.",
            "age",
            backlog.age_buckets_in_order().map(|(k, v)| (k, v as f64)),
        )?;
        gauge(e, "vigie_backlog_hours_of_work", "The backlog in hours of hands-on work.", backlog.hours_of_work)?;
        gauges(
            e,
            "vigie_backlog_hours_of_work_by_team",
            "The backlog in hours of work per team.",
            "team",
            dashboard.live.hours_of_work_by_team.iter().map(|(k, v)| (k.as_str(), *v)),
        )?;
        let oldest = backlog.age_minutes.as_ref().map_or(0.0, |age| age.max * 60.0);
        gauge(e, "vigie_backlog_oldest_age_seconds", "Age of the oldest open ticket.", oldest)?;
        gauge(
            e,
            "vigie_sla_at_risk_tickets",
            "Open tickets whose resolution deadline comes within the hour.",
            dashboard.live.at_risk.len() as f64,
        )?;
        gauge(
            e,
            "vigie_sla_past_resolution_target_tickets",
            "Open tickets past their resolution target.",
            backlog.past_resolution_target as f64,
        )?;
        gauge(
            e,
            "vigie_sla_first_response_overdue_tickets",
            "Open tickets past their first-response target without a reply.",
            dashboard.live.response_overdue as f64,
        )?;
        gauge(
            e,
            "vigie_capacity_remaining_today_hours",
            "Productive hours left on shift today (the roster).",
            dashboard.capacity.remaining_today_hours,
        )?;
        gauge(e, "vigie_flow_today_created_tickets", "Tickets created today.", dashboard.today.inflow as f64)?;
        gauge(e, "vigie_flow_today_resolved_tickets", "Tickets resolved today.", dashboard.today.outflow as f64)?;
        gauges(
            e,
            "vigie_dashboard_figure_level",
            "Each watched figure's level: 0 ok, 1 amber, 2 red.",
            "figure",
            dashboard.figures.iter().map(|(figure, (_, level))| (figure.as_str(), f64::from(*level as u8))),
        )?;
        Ok(())
    }
}

/// Prometheus metrics: the backlog's gauges, the SLA breaches recorded, the HTTP requests.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut registry = Registry::default();
    let counters = state.metrics.clone();
    registry.register("vigie_http_requests", "HTTP requests answered, by route and status.", counters.requests);
    registry.register(
        "vigie_http_request_duration_seconds",
        "Time to answer HTTP requests, by route.",
        counters.durations,
    );
    registry.register("vigie_sla_breaches", "SLA breaches recorded by this process.", counters.sla_breaches);
    registry.register_collector(Box::new(BacklogCollector(state.clone())));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .map_err(|_| ApiError::Internal("the metrics could not be written".into()))?;
    Ok(([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response())
}
