//! The live state against a model: whatever sequence of ticket states is applied, its lists
//! are the open tickets sorted by their place, its claimable sets and SLA checks follow them.

use proptest::prelude::*;
use vigie_core::queue::QueueFacts;
use vigie_core::{CustomerTier, SlaMarks, StatusSince};

use super::*;
use crate::rules::RulesDocument;

fn rules() -> Arc<Rules> {
    let document: RulesDocument = serde_json::from_value(serde_json::json!({
        "sla": {"policies": [
            {"name": "standard", "first_response_minutes": 60, "resolution_minutes": 1440},
            {"name": "urgent", "priority": "P1", "first_response_minutes": 15, "resolution_minutes": 240}
        ]},
        "handle_time": {"*": 20.0, "billing": 10.0}
    }))
    .expect("valid rules");
    Arc::new(document.to_rules().expect("valid rules"))
}

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + minutes * 60).expect("valid")
}

#[derive(Debug, Clone)]
struct Spec {
    number: u32,
    status: Status,
    priority: Priority,
    team: Option<u8>,
    assigned: bool,
    tier: CustomerTier,
    legal_risk: bool,
    created: i64,
    category: &'static str,
}

fn ticket(spec: &Spec, rules: &Rules) -> Ticket {
    let created_at = at(spec.created);
    let mut history = vec![StatusSince { status: Status::New, since: created_at }];
    if spec.status != Status::New {
        history.push(StatusSince { status: spec.status, since: at(spec.created + 5) });
    }
    Ticket {
        id: TicketId::parse(format!("T-{}", spec.number)).expect("valid"),
        version: 1,
        created_at,
        updated_at: created_at,
        first_response_at: None,
        resolved_at: (!spec.status.is_open()).then(|| at(spec.created + 5)),
        status: spec.status,
        priority: spec.priority,
        category: spec.category.to_owned(),
        channel: Channel::Email,
        customer_id: CustomerId::parse("acme").expect("valid"),
        customer_tier: spec.tier,
        team: spec.team.map(|t| TeamId::parse(format!("team{t}")).expect("valid")),
        assignee: spec.assigned.then(|| AgentId::parse("ana").expect("valid")),
        subject: "s".into(),
        body: "b".into(),
        csat: None,
        tags: Vec::new(),
        legal_risk: spec.legal_risk,
        blocking: false,
        language: None,
        status_history: history,
        sla_targets: rules.sla.select(spec.category, spec.priority, Channel::Email),
        sla_marks: SlaMarks::default(),
        rules_applied: Vec::new(),
        steps: Vec::new(),
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u32..60,
        prop::sample::select(Status::ALL.to_vec()),
        prop::sample::select(Priority::ALL.to_vec()),
        prop::option::of(0u8..3),
        any::<bool>(),
        prop::sample::select(CustomerTier::ALL.to_vec()),
        any::<bool>(),
        0i64..5_000,
        prop::sample::select(vec!["billing", "delivery"]),
    )
        .prop_map(|(number, status, priority, team, assigned, tier, legal_risk, created, category)| Spec {
            number,
            status,
            priority,
            team,
            assigned,
            tier,
            legal_risk,
            created,
            category,
        })
}

/// The place of a ticket as the core computes it, independently of the live state.
fn expected_key(ticket: &Ticket, rules: &Rules, now: Timestamp) -> QueueKey {
    let sla = ticket.sla_clock().map(|clock| rules.sla.evaluate(&clock, now));
    queue::place(&QueueFacts::of_ticket(ticket, sla.as_ref(), rules), &rules.queue).key
}

fn all(live: &LiveState, order: LiveOrder, limit: usize, now: Timestamp) -> Vec<String> {
    let mut ids = Vec::new();
    let mut query = LiveQuery { order, limit, ..LiveQuery::default() };
    loop {
        let (items, next) = live.page(&query, now);
        ids.extend(items.into_iter().map(|item| item.id.to_string()));
        match next {
            Some(cursor) => query.after = Some(cursor),
            None => break,
        }
    }
    ids
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn lists_follow_the_open_tickets(specs in prop::collection::vec(spec(), 1..120), limit in 1usize..9) {
        let rules = rules();
        let live = Arc::new(LiveState::new(rules.clone()));
        let now = at(6_000);
        let mut model: std::collections::BTreeMap<String, Ticket> = Default::default();
        for (seq, spec) in specs.iter().enumerate() {
            let ticket = ticket(spec, &rules);
            live.apply(&ticket, i64::try_from(seq).expect("small") + 1, now);
            model.insert(ticket.id.to_string(), ticket);
        }
        // A commit older than the one applied is ignored.
        if let Some(first) = specs.first() {
            let stale = Ticket { status: Status::Closed, ..ticket(first, &rules) };
            live.apply(&stale, 0, now);
        }
        let open: Vec<&Ticket> = model.values().filter(|t| t.status.is_open()).collect();
        prop_assert_eq!(live.len(), open.len());

        let mut by_queue: Vec<(QueueKey, String)> = open.iter().map(|t| (expected_key(t, &rules, now), t.id.to_string())).collect();
        by_queue.sort();
        let expected: Vec<String> = by_queue.into_iter().map(|(_, id)| id).collect();
        prop_assert_eq!(all(&live, LiveOrder::Queue, limit, now), expected);

        let mut by_creation: Vec<(Timestamp, String)> = open.iter().map(|t| (t.created_at, t.id.to_string())).collect();
        by_creation.sort();
        let expected: Vec<String> = by_creation.into_iter().map(|(_, id)| id).collect();
        prop_assert_eq!(all(&live, LiveOrder::Created, limit, now), expected);

        // What an agent of team0 may claim: unassigned, new or open, of team0, in queue order.
        let team0 = TeamId::parse("team0").expect("valid");
        let claimable = live.reserve_candidates(std::slice::from_ref(&team0), &Skills::default(), 1_000);
        let claimed_ids = claimable.ids.clone();
        let mut expected: Vec<(QueueKey, String)> = open
            .iter()
            .filter(|t| t.team.as_ref() == Some(&team0) && t.assignee.is_none() && matches!(t.status, Status::New | Status::Open))
            .map(|t| (expected_key(t, &rules, now), t.id.to_string()))
            .collect();
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
        prop_assert_eq!(claimed_ids.iter().map(ToString::to_string).collect::<Vec<_>>(), expected);
        // Reserved: nobody else gets them until the reservation ends, but they are counted busy.
        let other = live.reserve_candidates(std::slice::from_ref(&team0), &Skills::default(), 1_000);
        prop_assert!(other.ids.is_empty());
        prop_assert_eq!(other.n_busy, claimed_ids.len());
        drop(other);
        drop(claimable);
        prop_assert_eq!(live.reserve_candidates(&[team0], &Skills::default(), 1_000).ids.len(), claimed_ids.len());

        // Every open ticket with SLA targets has its next check; breached ones are due now.
        let due = live.due_checks(now);
        for ticket in &open {
            let sla = ticket.sla_clock().map(|clock| rules.sla.evaluate(&clock, now));
            let next = sla.as_ref().and_then(TicketSla::next_check);
            prop_assert_eq!(due.contains(&ticket.id), next.is_some_and(|at| at <= now), "{}", ticket.id);
        }
    }
}

#[test]
fn standings_count_the_work_ahead() {
    let rules = rules();
    let live = Arc::new(LiveState::new(rules.clone()));
    let now = at(100);
    let specs: Vec<Spec> = (0..3)
        .map(|n| Spec {
            number: n,
            status: Status::Open,
            priority: Priority::P3,
            team: Some(0),
            assigned: false,
            tier: CustomerTier::Standard,
            legal_risk: false,
            created: i64::from(n),
            category: if n == 0 { "billing" } else { "delivery" },
        })
        .collect();
    for (seq, spec) in specs.iter().enumerate() {
        live.apply(&ticket(spec, &rules), i64::try_from(seq).expect("small") + 1, now);
    }
    let third = TicketId::parse("T-2").expect("valid");
    let standing = live.standing(&third).expect("open");
    assert_eq!((standing.position, standing.queue_length), (3, 3));
    assert_eq!(standing.work_ahead_minutes, 30.0, "10 minutes of billing and 20 of delivery ahead");
    assert_eq!(standing.own_minutes, 20.0);
    let capacity = standing.capacity.expect("a team");
    assert_eq!((capacity.agents, capacity.calendar), (0.0, None), "no agent on record");
}
