//! The live backlog against the report's definitions: whatever tickets are applied, in any
//! order, the snapshot at an instant equals `MetricsAccumulator`'s report at that instant,
//! also after the instant moves forward (the window slides, deadlines pass) with or without
//! changes in between.

use proptest::prelude::*;
use vigie_core::metrics::{self, AsOf, MetricsAccumulator, SlaMinutes, SlaTable, TicketFacts};
use vigie_core::{SlaMarks, StatusSince};

use super::*;
use crate::rules::RulesDocument;

/// The report's case: 24x7, nothing pauses the clock.
fn rules() -> Arc<Rules> {
    let document: RulesDocument = serde_json::from_value(serde_json::json!({
        "sla": {"pause_statuses": [], "policies": [
            {"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440},
            {"name": "urgent", "priority": "P1", "first_response_minutes": 15, "resolution_minutes": 240}
        ]},
        "handle_time": {"*": 20.0, "billing": 10.0}
    }))
    .expect("valid rules");
    Arc::new(document.to_rules().expect("valid rules"))
}

const ORIGIN: i64 = 1_780_000_000;

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(ORIGIN + minutes * 60).expect("valid")
}

#[derive(Debug, Clone)]
struct Spec {
    number: u32,
    created: i64,
    response_after: Option<i64>,
    resolved_after: Option<i64>,
    priority: Priority,
    category: &'static str,
    team: Option<u8>,
    pending: bool,
}

impl Spec {
    fn latest(&self) -> i64 {
        self.created + self.response_after.unwrap_or(0).max(self.resolved_after.unwrap_or(0))
    }

    fn ticket(&self, rules: &Rules) -> Ticket {
        let created_at = at(self.created);
        let first_response_at = self.response_after.map(|m| at(self.created + m));
        let resolved_at = self.resolved_after.map(|m| at(self.created + m));
        let mut history = vec![StatusSince { status: Status::New, since: created_at }];
        if let Some(answered) = first_response_at {
            history.push(StatusSince { status: Status::Open, since: answered });
        }
        let status = match (resolved_at, first_response_at.is_some() && self.pending) {
            (Some(_), _) => Status::Solved,
            (None, true) => Status::PendingCustomer,
            (None, false) if first_response_at.is_some() => Status::Open,
            (None, false) => Status::New,
        };
        if let Some(resolved) = resolved_at {
            history.push(StatusSince { status: Status::Solved, since: resolved.max(history[history.len() - 1].since) });
        } else if status == Status::PendingCustomer {
            history.push(StatusSince { status, since: history[history.len() - 1].since });
        }
        Ticket {
            id: TicketId::parse(format!("T-{}", self.number)).expect("valid"),
            version: 1,
            created_at,
            updated_at: created_at,
            first_response_at,
            resolved_at,
            status,
            priority: self.priority,
            category: self.category.to_owned(),
            channel: Channel::Email,
            customer_id: CustomerId::parse("acme").expect("valid"),
            customer_tier: CustomerTier::Standard,
            team: self.team.map(|t| TeamId::parse(format!("team{t}")).expect("valid")),
            assignee: None,
            subject: String::new(),
            body: String::new(),
            csat: None,
            tags: Vec::new(),
            legal_risk: false,
            blocking: false,
            language: None,
            status_history: history,
            sla_targets: rules.sla.select(self.category, self.priority, Channel::Email),
            sla_marks: SlaMarks::default(),
            rules_applied: Vec::new(),
            steps: Vec::new(),
        }
    }
}

/// Tickets over ~40 days (minutes), some answered, some resolved, a few pending.
fn spec(number: u32, span: i64) -> impl Strategy<Value = Spec> {
    (
        0..span,
        prop::option::of(0i64..600),
        prop::option::of(0i64..4000),
        prop::sample::select(Priority::ALL.to_vec()),
        prop::sample::select(vec!["billing", "access", "incident"]),
        prop::option::of(0u8..3),
        prop::bool::weighted(0.2),
    )
        .prop_map(move |(created, response_after, resolved_after, priority, category, team, pending)| Spec {
            number,
            created,
            response_after,
            resolved_after: resolved_after.map(|r| r.max(response_after.unwrap_or(0))),
            priority,
            category,
            team,
            pending,
        })
}

fn report(specs: &[Spec], t: i64, rules: &Rules) -> metrics::Report {
    let mut table = SlaTable::default();
    table.insert("*", "*", SlaMinutes { first_response: 60.0, resolution: 1440.0 });
    table.insert("*", "P1", SlaMinutes { first_response: 15.0, resolution: 240.0 });
    let mut handle_times = metrics::HandleTimes::default();
    handle_times.insert("*", 20.0);
    handle_times.insert("billing", 10.0);
    let mut accumulator = MetricsAccumulator::new(AsOf::At(ORIGIN + t * 60));
    let tickets: Vec<Ticket> = specs.iter().map(|s| s.ticket(rules)).collect();
    let teams: Vec<String> = tickets.iter().map(|t| t.team.as_ref().map_or("", |t| t.as_str()).to_owned()).collect();
    for (ticket, team) in tickets.iter().zip(&teams) {
        accumulator.add(&TicketFacts {
            id: ticket.id.as_str(),
            created_at: ticket.created_at.as_second(),
            first_response_at: ticket.first_response_at.map(|t| t.as_second()),
            resolved_at: ticket.resolved_at.map(|t| t.as_second()),
            status: ticket.status,
            priority: ticket.priority,
            category: &ticket.category,
            channel: ticket.channel,
            customer_tier: ticket.customer_tier,
            team,
            csat: None,
        });
    }
    accumulator.finish(&table, &handle_times)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn check(live: &LiveState, specs: &[Spec], t: i64, rules: &Rules) -> Result<(), TestCaseError> {
    let snapshot = live.backlog(at(t));
    let expected = report(specs, t, rules);
    let (mut got, mut want) = (snapshot.backlog.clone(), expected.backlog.clone());
    let (got_age, want_age) = (got.age_minutes.take(), want.age_minutes.take());
    prop_assert_eq!(got_age.is_some(), want_age.is_some());
    if let (Some(g), Some(w)) = (got_age, want_age) {
        prop_assert!(close(g.mean, w.mean), "mean {} vs {}", g.mean, w.mean);
        prop_assert!(close(g.p50, w.p50) && close(g.p90, w.p90) && close(g.max, w.max), "{g:?} vs {w:?}");
    }
    prop_assert!(close(got.hours_of_work, want.hours_of_work));
    got.hours_of_work = want.hours_of_work;
    // The live backlog always has the statuses; the report only at the export instant.
    if want.by_status.is_none() {
        got.by_status = None;
    }
    prop_assert_eq!(got, want);
    prop_assert_eq!(&snapshot.sla_by_category_priority, &expected.sla_by_category_priority);
    prop_assert_eq!(&snapshot.at_risk, &expected.at_risk);
    Ok(())
}

fn specs() -> impl Strategy<Value = Vec<Spec>> {
    (1usize..120).prop_flat_map(|n| (0..n as u32).map(|i| spec(i, 40 * 1440)).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_live_backlog_is_the_report_at_every_instant(
        first in specs(),
        later in prop::collection::vec(spec(0, 10 * 1440), 0..40),
        steps in prop::collection::vec(0i64..(20 * 1440), 1..4),
    ) {
        let rules = rules();
        let live = LiveState::new(rules.clone());
        let t0 = first.iter().map(Spec::latest).max().unwrap_or(0);
        for spec in &first {
            live.apply(&spec.ticket(&rules), 1, at(spec.latest()));
        }
        check(&live, &first, t0, &rules)?;
        // Time passes; new tickets arrive and some of the first ones change (answered,
        // resolved), each at its own instant.
        let mut all = first.clone();
        let mut t = t0;
        for (round, step) in steps.iter().enumerate() {
            let base = t;
            for (idx, spec) in later.iter().enumerate().filter(|(idx, _)| idx % steps.len() == round) {
                let mut spec = spec.clone();
                spec.created += base;
                spec.number = if idx % 3 == 0 && !first.is_empty() {
                    first[idx % first.len()].number
                } else {
                    1_000 + idx as u32
                };
                spec.created = spec.created.max(all.iter().filter(|s| s.number == spec.number).map(|s| s.created).max().unwrap_or(0));
                if let Some(previous) = all.iter().position(|s| s.number == spec.number) {
                    spec.created = all[previous].created;
                    all.remove(previous);
                }
                t = t.max(spec.latest());
                live.apply(&spec.ticket(&rules), 2 + round as i64, at(spec.latest().max(base)));
                all.push(spec);
            }
            t += step;
            check(&live, &all, t, &rules)?;
        }
    }
}
