//! The report as the morning view on a terminal: at most 80 columns, the most pressing first
//! (how many, the urgent, the oldest), then the flow and the SLA compliance.

use std::fmt::Write;

use vigie_core::metrics::{Report, SlaCounts};

use super::{day, instant, percent};

/// Lines are cut to this width.
pub const WIDTH: usize = 80;
/// How many lines the at-risk and SLA sections list at most.
const LISTED: usize = 10;

/// Renders the report; `source` names the history (a file name) in the title.
pub fn to_text(report: &Report, source: &str) -> String {
    let mut out = String::new();
    let b = &report.backlog;
    let as_of = report.as_of.map_or_else(|| "-".to_owned(), instant);
    line(&mut out, format!("vigie report: {source}"));
    line(&mut out, format!("as of {as_of}, {} tickets in the history", thousands(report.tickets_total)));
    out.push('\n');

    let net = report.flow.net_flow_7d;
    line(
        &mut out,
        format!(
            "BACKLOG  {} open  {} hours of work  net flow 7 d {}{}",
            thousands(b.count),
            one_decimal(b.hours_of_work),
            if net > 0 { "+" } else { "" },
            thousands_signed(net)
        ),
    );
    line(&mut out, split("  by priority", b.by_priority.iter().map(|(k, v)| (k.as_str(), *v))));
    line(&mut out, split("  by channel ", b.by_channel.iter().map(|(k, v)| (k.as_str(), *v))));
    line(&mut out, split("  by age     ", b.age_buckets_in_order()));
    let mut teams: Vec<(&str, u64)> = b.by_team.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    teams.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    line(&mut out, split("  top teams  ", teams.into_iter().take(4)));
    if let Some(age) = b.age_minutes {
        line(
            &mut out,
            format!(
                "  age (days)  mean {} · median {} · p90 {} · max {}",
                days(age.mean),
                days(age.p50),
                days(age.p90),
                days(age.max)
            ),
        );
    }
    if !b.missing_handle_time.is_empty() {
        line(&mut out, format!("  no handle time for: {}", b.missing_handle_time.join(", ")));
    }
    out.push('\n');

    let p1 = b.by_priority.get("P1").copied().unwrap_or(0);
    line(
        &mut out,
        format!(
            "URGENT  P1 open {}  at risk (due within 60 min) {}  past resolution target {}",
            thousands(p1),
            thousands(report.at_risk.len() as u64),
            thousands(b.past_resolution_target)
        ),
    );
    if !report.at_risk.is_empty() {
        line(&mut out, format!("  {:<20} {:<24} {:<8} {:>12}", "at risk", "category", "priority", "minutes left"));
        for a in report.at_risk.iter().take(LISTED) {
            line(
                &mut out,
                format!(
                    "  {:<20} {:<24} {:<8} {:>12}",
                    cut(&a.id, 20),
                    cut(&a.category, 24),
                    a.priority,
                    one_decimal(a.minutes_left)
                ),
            );
        }
        if report.at_risk.len() > LISTED {
            line(&mut out, format!("  … and {} more", report.at_risk.len() - LISTED));
        }
    }
    if !b.oldest.is_empty() {
        line(&mut out, format!("  {:<20} {:<22} {:>10}", "oldest", "created", "age (days)"));
        for o in &b.oldest {
            line(
                &mut out,
                format!("  {:<20} {:<22} {:>10}", cut(&o.id, 20), instant(o.created_at), days(o.age_minutes)),
            );
        }
    }
    out.push('\n');

    let last_days: Vec<_> = report.flow.daily.iter().rev().take(7).rev().collect();
    if !last_days.is_empty() {
        line(&mut out, format!("FLOW  {:<12} {:>8} {:>8} {:>10}", "day", "in", "out", "backlog"));
        for d in last_days {
            line(
                &mut out,
                format!(
                    "      {:<12} {:>8} {:>8} {:>10}",
                    day(d.day),
                    thousands(d.inflow),
                    thousands(d.outflow),
                    thousands(d.backlog_end)
                ),
            );
        }
        out.push('\n');
    }

    let mut sla: Vec<(&str, &str, &SlaCounts, &SlaCounts)> = report
        .sla_by_category_priority
        .iter()
        .flat_map(|(c, by)| by.iter().map(move |(p, s)| (c.as_str(), p.as_str(), &s.frt, &s.resolution)))
        .collect();
    if !sla.is_empty() {
        // The worst first: lowest resolution compliance, then the most breaches.
        sla.sort_by(|a, b| {
            let key = |c: &SlaCounts| c.compliance().unwrap_or(1.0);
            key(a.3).total_cmp(&key(b.3)).then(b.3.breached.cmp(&a.3.breached))
        });
        line(&mut out, "SLA COMPLIANCE, tickets created in the last 28 days (worst first)".to_owned());
        line(
            &mut out,
            format!(
                "  {:<28} {:<4} {:>14} {:>14} {:>9}",
                "category", "prio", "first response", "resolution", "breached"
            ),
        );
        for (category, priority, frt, resolution) in sla.iter().take(LISTED) {
            line(
                &mut out,
                format!(
                    "  {:<28} {:<4} {:>14} {:>14} {:>9}",
                    cut(category, 28),
                    priority,
                    percent(frt.compliance()),
                    percent(resolution.compliance()),
                    thousands(frt.breached + resolution.breached)
                ),
            );
        }
        if sla.len() > LISTED {
            line(&mut out, format!("  … {} more pairs in --format json or html", sla.len() - LISTED));
        }
    }
    if !report.csat_by_team.is_empty() {
        out.push('\n');
        line(&mut out, "SATISFACTION, tickets resolved in the last 28 days".to_owned());
        for (team, c) in report.csat_by_team.iter().take(LISTED) {
            line(
                &mut out,
                format!(
                    "  {:<28} {:>6} rated  avg {:.2}  satisfied {:>5.1} %",
                    cut(team, 28),
                    thousands(c.count),
                    c.avg,
                    c.pct_satisfied
                ),
            );
        }
    }
    out
}

/// Appends a line, cut to [`WIDTH`] characters. Control characters (a line feed or an escape
/// sequence in a category or an id) are shown as `?`, so that the data cannot break the layout
/// or drive the terminal.
fn line(out: &mut String, text: String) {
    let text: String = text.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
    let text = text.trim_end();
    let _ = writeln!(out, "{}", cut(text, WIDTH));
}

fn cut(text: &str, width: usize) -> String {
    match text.char_indices().nth(width) {
        Some((at, _)) => {
            let keep: String = text[..at].chars().take(width - 1).collect();
            format!("{keep}…")
        }
        None => text.to_owned(),
    }
}

fn split<'a>(label: &str, parts: impl IntoIterator<Item = (&'a str, u64)>) -> String {
    let parts: Vec<String> = parts.into_iter().map(|(k, v)| format!("{k} {}", thousands(v))).collect();
    if parts.is_empty() { String::new() } else { format!("{label} {}", parts.join(" · ")) }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn thousands_signed(n: i64) -> String {
    if n < 0 { format!("-{}", thousands(n.unsigned_abs())) } else { thousands(n as u64) }
}

pub(crate) fn one_decimal(x: f64) -> String {
    let whole = x.trunc();
    let tenth = ((x - whole).abs() * 10.0).round() as u64;
    let (whole, tenth) = if tenth == 10 { (whole + x.signum(), 0) } else { (whole, tenth) };
    let sign = if x < 0.0 && (whole != 0.0 || tenth != 0) { "-" } else { "" };
    format!("{sign}{}.{tenth}", thousands(whole.abs() as u64))
}

fn days(minutes: f64) -> String {
    one_decimal(minutes / 1440.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(one_decimal(1234.56), "1,234.6");
        assert_eq!(one_decimal(9.96), "10.0");
        assert_eq!(one_decimal(-0.04), "0.0");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
