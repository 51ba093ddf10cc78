//! The report as `shared/bench/REPORT_SCHEMA.md` writes it: one JSON object, keys sorted at
//! every level, no insignificant whitespace, one trailing newline; counts as integers, every
//! other figure as a float; absent values as `null`.

use std::collections::BTreeMap;

use serde_json::Value;
use vigie_core::metrics::{AtRisk, Backlog, Report, SlaCompliance, SlaCounts, Stats};

use super::{day, instant};

/// The schema name written in every report.
pub const SCHEMA: &str = "vigie.report.v1";

/// The canonical JSON of a report.
pub fn to_json(report: &Report) -> String {
    let mut text = serde_json::to_string(&to_value(report)).unwrap_or_default();
    text.push('\n');
    text
}

/// An object with sorted keys, whatever serde_json's map keeps.
pub fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let sorted: BTreeMap<&str, Value> = pairs.into_iter().collect();
    Value::Object(sorted.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn map<V>(entries: &BTreeMap<String, V>, value: impl Fn(&V) -> Value) -> Value {
    Value::Object(entries.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

pub fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn stats(s: &Stats) -> Value {
    object([("count", s.count.into()), ("mean", float(s.mean)), ("p50", float(s.p50)), ("p90", float(s.p90))])
}

fn sla_counts(c: &SlaCounts) -> Value {
    object([
        ("met", c.met.into()),
        ("breached", c.breached.into()),
        ("running", c.running.into()),
        ("compliance", c.compliance().map_or(Value::Null, float)),
    ])
}

/// The report's `backlog` object (also the live snapshot's).
pub fn backlog_value(b: &Backlog) -> Value {
    let count = |n: &u64| Value::from(*n);
    let mut backlog = vec![
        ("count", b.count.into()),
        ("by_priority", map(&b.by_priority, count)),
        ("by_category", map(&b.by_category, count)),
        ("by_channel", map(&b.by_channel, count)),
        ("by_team", map(&b.by_team, count)),
        ("by_customer_tier", map(&b.by_customer_tier, count)),
        ("age_buckets", map(&b.age_buckets, count)),
        (
            "age_minutes",
            match &b.age_minutes {
                Some(a) => object([
                    ("mean", float(a.mean)),
                    ("p50", float(a.p50)),
                    ("p90", float(a.p90)),
                    ("max", float(a.max)),
                ]),
                None => {
                    object([("mean", Value::Null), ("p50", Value::Null), ("p90", Value::Null), ("max", Value::Null)])
                }
            },
        ),
        (
            "oldest",
            b.oldest
                .iter()
                .map(|o| {
                    object([
                        ("id", o.id.clone().into()),
                        ("created_at", instant(o.created_at).into()),
                        ("age_minutes", float(o.age_minutes)),
                    ])
                })
                .collect(),
        ),
        ("hours_of_work", float(b.hours_of_work)),
        ("missing_handle_time", b.missing_handle_time.iter().map(|c| Value::from(c.clone())).collect()),
    ];
    if let Some(by_status) = &b.by_status {
        backlog.push(("by_status", map(by_status, count)));
    }
    let backlog: BTreeMap<&str, Value> = backlog.into_iter().collect();
    Value::Object(backlog.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The report's `sla` object (also the live snapshot's).
pub fn sla_value(
    by_category_priority: &BTreeMap<String, BTreeMap<String, SlaCompliance>>,
    at_risk: &[AtRisk],
) -> Value {
    let nested_sla = map(by_category_priority, |by_priority| {
        map(by_priority, |c| object([("frt", sla_counts(&c.frt)), ("resolution", sla_counts(&c.resolution))]))
    });
    object([("by_category_priority", nested_sla), ("at_risk", at_risk_value(at_risk))])
}

/// The report's `sla.at_risk` list.
pub fn at_risk_value(at_risk: &[AtRisk]) -> Value {
    at_risk
        .iter()
        .map(|a| {
            object([
                ("id", a.id.clone().into()),
                ("category", a.category.clone().into()),
                ("priority", a.priority.clone().into()),
                ("minutes_left", float(a.minutes_left)),
            ])
        })
        .collect()
}

/// The report as a JSON value (keys sorted).
pub fn to_value(report: &Report) -> Value {
    let backlog = backlog_value(&report.backlog);

    let flow = &report.flow;
    let optional_day = |d: Option<jiff::Timestamp>| d.map_or(Value::Null, |d| day(d).into());
    let flow = object([
        ("first_day", optional_day(flow.first_day)),
        ("last_day", optional_day(flow.last_day)),
        (
            "daily",
            flow.daily
                .iter()
                .map(|d| {
                    object([
                        ("day", day(d.day).into()),
                        ("inflow", d.inflow.into()),
                        ("outflow", d.outflow.into()),
                        ("backlog_end", d.backlog_end.into()),
                    ])
                })
                .collect(),
        ),
        ("net_flow_7d", flow.net_flow_7d.into()),
    ]);

    let nested_stats = map(&report.resolution_by_category_priority, |by_priority| map(by_priority, stats));
    let csat = map(&report.csat_by_team, |c| {
        object([("count", c.count.into()), ("avg", float(c.avg)), ("pct_satisfied", float(c.pct_satisfied))])
    });

    object([
        ("schema", SCHEMA.into()),
        ("as_of", report.as_of.map_or(Value::Null, |t| instant(t).into())),
        ("tickets_total", report.tickets_total.into()),
        (
            "window",
            report.window.map_or(Value::Null, |w| {
                object([
                    ("start_exclusive", instant(w.start_exclusive).into()),
                    ("end_inclusive", instant(w.end_inclusive).into()),
                ])
            }),
        ),
        ("backlog", backlog),
        ("flow", flow),
        ("frt", object([("by_channel", map(&report.frt_by_channel, stats))])),
        ("resolution", object([("by_category_priority", nested_stats)])),
        ("sla", sla_value(&report.sla_by_category_priority, &report.at_risk)),
        ("csat", object([("by_team", csat)])),
    ])
}
