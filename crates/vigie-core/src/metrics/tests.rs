use proptest::prelude::*;

use super::*;

const H: i64 = 3600;
const D: i64 = 86_400;
/// 2026-03-02T00:00:00Z, a Monday.
const MONDAY: i64 = 1_772_409_600;

fn ticket<'a>(id: &'a str, created_at: i64, response: Option<i64>, resolved: Option<i64>) -> TicketFacts<'a> {
    TicketFacts {
        id,
        created_at,
        first_response_at: response,
        resolved_at: resolved,
        status: if resolved.is_some() { Status::Solved } else { Status::Open },
        priority: Priority::P3,
        category: "billing",
        channel: Channel::Email,
        customer_tier: CustomerTier::Standard,
        team: "front_office",
        csat: None,
    }
}

fn tables() -> (SlaTable, HandleTimes) {
    let mut sla = SlaTable::default();
    sla.insert("*", "*", SlaMinutes { first_response: 60.0, resolution: 600.0 });
    sla.insert("billing", "*", SlaMinutes { first_response: 30.0, resolution: 120.0 });
    sla.insert("*", "P1", SlaMinutes { first_response: 5.0, resolution: 20.0 });
    let mut handle = HandleTimes::default();
    handle.insert("billing", 12.0);
    (sla, handle)
}

fn report(as_of: AsOf, tickets: &[TicketFacts<'_>]) -> Report {
    let (sla, handle) = tables();
    let mut acc = MetricsAccumulator::new(as_of);
    tickets.iter().for_each(|t| acc.add(t));
    acc.finish(&sla, &handle)
}

#[test]
fn the_backlog_at_t_counts_what_was_open_then_and_not_what_came_later() {
    let t = MONDAY + 10 * D + 12 * H;
    let tickets = [
        ticket("a", t - 8 * D, Some(t - 8 * D + 60), None),   // >=7d
        ticket("b", t - 2 * H, None, Some(t + H)),            // resolved after T: open
        ticket("c", t - 5 * H, Some(t - 4 * H), Some(t - H)), // resolved: not open
        ticket("d", t + 1, None, None),                       // created after T: ignored
        TicketFacts { category: "gdpr", priority: Priority::P1, ..ticket("e", t - 4 * H, None, None) }, // 4h-24h
    ];
    let r = report(AsOf::At(t), &tickets);
    assert_eq!(r.tickets_total, 5, "every data row is counted, even those after T");
    assert_eq!(r.backlog.count, 3);
    assert_eq!(r.backlog.by_category.get("gdpr"), Some(&1));
    assert_eq!(r.backlog.age_buckets["<4h"], 1);
    assert_eq!(r.backlog.age_buckets["4h-24h"], 1, "the lower bound is inclusive");
    assert_eq!(r.backlog.age_buckets[">=7d"], 1);
    assert_eq!(r.backlog.age_buckets["1d-3d"], 0, "every bucket is reported, 0 included");
    let ids: Vec<&str> = r.backlog.oldest.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["a", "e", "b"]);
    assert_eq!(r.backlog.hours_of_work, 2.0 * 12.0 / 60.0, "gdpr has no handle time and no `*` row");
    assert_eq!(r.backlog.missing_handle_time, ["gdpr"]);
    assert_eq!(r.backlog.by_status, None, "T is before the export: statuses of then are unknown");
    let age = r.backlog.age_minutes.expect("ages");
    assert_eq!(age.max, 8.0 * 24.0 * 60.0);
    assert_eq!(age.p50, 4.0 * 60.0);
    // ages 120, 240, 11520 minutes: rank 1.8 is 0.8 of the way from 240 to 11520
    assert!((age.p90 - (240.0 + 0.8 * (11_520.0 - 240.0))).abs() < 1e-9);
}

#[test]
fn sla_targets_run_in_calendar_minutes_and_a_reply_on_the_deadline_meets_it() {
    let t = MONDAY + 5 * D;
    let tickets = [
        ticket("met", t - 3 * H, Some(t - 3 * H + 30 * 60), Some(t - 3 * H + 120 * 60)), // both exactly on time
        ticket("late", t - 3 * H, Some(t - 3 * H + 31 * 60), None), // frt breached, res breached (3h > 2h)
        ticket("waiting", t - 10 * 60, None, None),                 // both running
        ticket("silent", t - H, None, None),                        // frt breached by time, res running
    ];
    let r = report(AsOf::At(t), &tickets);
    let billing = r.sla_by_category_priority["billing"]["P3"];
    assert_eq!(billing.frt, SlaCounts { met: 1, breached: 2, running: 1 });
    assert_eq!(billing.resolution, SlaCounts { met: 1, breached: 1, running: 2 });
    assert_eq!(billing.frt.compliance(), Some(1.0 / 3.0));
    // at risk: open, resolution target (120 min) not breached, due within 60 minutes
    let at_risk: Vec<(&str, f64)> = r.at_risk.iter().map(|a| (a.id.as_str(), a.minutes_left)).collect();
    assert_eq!(at_risk, [("silent", 60.0)]);
}

#[test]
fn the_daily_series_covers_every_day_and_a_resolution_at_midnight_counts_in_the_new_day() {
    let t = MONDAY + 9 * D + 6 * H;
    let tickets = [
        ticket("a", MONDAY + 10 * H, None, Some(MONDAY + D)), // resolved exactly at midnight
        ticket("b", MONDAY + 3 * D, None, None),
        ticket("c", MONDAY + 8 * D + H, None, Some(MONDAY + 8 * D + 2 * H)),
    ];
    let r = report(AsOf::At(t), &tickets);
    assert_eq!(r.flow.daily.len(), 10);
    let day1 = &r.flow.daily[0];
    assert_eq!((day1.inflow, day1.outflow, day1.backlog_end), (1, 0, 1));
    let day2 = &r.flow.daily[1];
    assert_eq!((day2.inflow, day2.outflow, day2.backlog_end), (0, 1, 0));
    assert_eq!(r.flow.daily.last().map(|d| d.backlog_end), Some(1));
    // the last 7 full days before T are days 2..=8 (0-based): b in, c in and out
    assert_eq!(r.flow.net_flow_7d, 1);
}

#[test]
fn csat_is_over_tickets_resolved_in_the_window() {
    let t = MONDAY + 40 * D;
    let rated = |id, resolved, csat| TicketFacts { csat: Some(csat), ..ticket(id, resolved - H, None, Some(resolved)) };
    let tickets = [rated("old", t - 29 * D, 1), rated("x", t - D, 5), rated("y", t - 2 * D, 3), rated("z", t, 4)];
    let r = report(AsOf::At(t), &tickets);
    let csat = r.csat_by_team["front_office"];
    assert_eq!(csat.count, 3);
    assert_eq!(csat.avg, 4.0);
    assert!((csat.pct_satisfied - 200.0 / 3.0).abs() < 1e-12);
}

#[test]
fn an_empty_history_has_no_instant_unless_one_is_given() {
    let r = report(AsOf::Latest, &[]);
    assert_eq!(r.as_of, None);
    assert!(r.flow.daily.is_empty());
    let r = report(AsOf::At(MONDAY), &[]);
    assert!(r.flow.daily.is_empty(), "no ticket, no day (REPORT_SCHEMA.md: first_day null)");
    assert_eq!(r.flow.first_day, None);
    assert_eq!(r.backlog.age_minutes, None);
}

#[test]
fn the_sla_table_prefers_the_exact_category_then_the_exact_priority() {
    let (sla, _) = tables();
    assert_eq!(sla.lookup("billing", Priority::P1).map(|m| m.resolution), Some(120.0), "category,* beats *,P1");
    assert_eq!(sla.lookup("account", Priority::P1).map(|m| m.resolution), Some(20.0));
    assert_eq!(sla.lookup("account", Priority::P2).map(|m| m.resolution), Some(600.0));
    assert_eq!(SlaTable::default().lookup("account", Priority::P2), None);
}

/// A generated ticket: created offset, response delay, resolution delay, category, csat,
/// priority.
type GeneratedTicket = (i64, Option<i64>, Option<i64>, u8, Option<u8>, u8);

fn history() -> impl Strategy<Value = Vec<GeneratedTicket>> {
    prop::collection::vec(
        (0..90 * D, prop::option::of(0..3 * D), prop::option::of(0..40 * D), 0..4u8, prop::option::of(1..=5u8), 0..4u8),
        0..300,
    )
}

fn facts<'a>(rows: &[GeneratedTicket], ids: &'a [String]) -> Vec<TicketFacts<'a>> {
    const CATEGORIES: [&str; 4] = ["billing", "account", "gdpr", "incident"];
    rows.iter()
        .zip(ids)
        .map(|(&(created, response, resolution, category, csat, priority), id)| {
            let created_at = MONDAY + created;
            TicketFacts {
                category: CATEGORIES[category as usize],
                priority: Priority::ALL[priority as usize],
                csat,
                ..ticket(id, created_at, response.map(|d| created_at + d), resolution.map(|d| created_at + d))
            }
        })
        .collect()
}

proptest! {
    /// Partial reports merge into the one report, whatever the split (the parallel reader
    /// relies on it).
    #[test]
    fn merging_partial_accumulators_gives_the_same_report(rows in history(), split in any::<prop::sample::Index>(), at in 0..100 * D) {
        let ids: Vec<String> = (0..rows.len()).map(|i| format!("T{i:05}")).collect();
        let tickets = facts(&rows, &ids);
        let (sla, handle) = tables();
        for as_of in [AsOf::Latest, AsOf::At(MONDAY + at)] {
            let whole = report(as_of, &tickets);
            let cut = if tickets.is_empty() { 0 } else { split.index(tickets.len()) };
            let mut first = MetricsAccumulator::new(as_of);
            let mut second = MetricsAccumulator::new(as_of);
            tickets[..cut].iter().for_each(|t| first.add(t));
            tickets[cut..].iter().rev().for_each(|t| second.add(t));
            second.merge(first);
            let merged = second.finish(&sla, &handle);
            prop_assert_eq!(&whole.backlog.oldest, &merged.backlog.oldest);
            prop_assert_eq!(&whole.flow, &merged.flow);
            prop_assert_eq!(&whole.sla_by_category_priority, &merged.sla_by_category_priority);
            prop_assert_eq!(&whole.csat_by_team.keys().collect::<Vec<_>>(), &merged.csat_by_team.keys().collect::<Vec<_>>());
            prop_assert_eq!(whole.backlog.count, merged.backlog.count);
            prop_assert_eq!(&whole.backlog.by_category, &merged.backlog.by_category);
            prop_assert_eq!(&whole.at_risk, &merged.at_risk);
        }
    }

    /// The latest mode, which prunes its window as it goes, equals the report at the latest
    /// timestamp given explicitly.
    #[test]
    fn the_latest_mode_equals_the_explicit_latest_instant(rows in history()) {
        let ids: Vec<String> = (0..rows.len()).map(|i| format!("T{i:05}")).collect();
        let tickets = facts(&rows, &ids);
        let latest = report(AsOf::Latest, &tickets);
        if let Some(t) = latest.as_of {
            let explicit = report(AsOf::At(t.as_second()), &tickets);
            prop_assert_eq!(latest, explicit);
        }
    }
}

#[test]
fn the_latest_mode_prunes_the_window_and_keeps_what_is_in_it() {
    // Far more tickets than the first pruning size, over two years, in a shuffled order.
    let n = 200_000i64;
    let ids: Vec<String> = (0..n).map(|i| format!("T{i:07}")).collect();
    let order = |i: i64| (i * 7919) % n;
    let tickets: Vec<TicketFacts<'_>> = (0..n)
        .map(|i| {
            let k = order(i);
            let created = MONDAY + k * 300;
            ticket(&ids[k as usize], created, Some(created + 600), (k % 3 != 0).then_some(created + 5 * H))
        })
        .collect();
    let latest = report(AsOf::Latest, &tickets);
    let t = latest.as_of.expect("instant").as_second();
    assert_eq!(latest, report(AsOf::At(t), &tickets));
    // T is the latest resolution, 5 h after the latest creation: the window holds 28 d - 5 h.
    assert_eq!(latest.frt_by_channel["email"].count, ((WINDOW_SECONDS - 5 * H) / 300) as u64);
}
