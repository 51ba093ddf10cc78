use super::*;
use crate::calendar::Calendar;
use crate::sla::{TargetMarks, TargetStatus};

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid instant")
}

fn target(target: SlaTarget, state: SlaState, due: Option<&str>) -> TargetStatus {
    TargetStatus {
        target,
        target_minutes: 60,
        state,
        due_at: due.map(at),
        left: SignedDuration::from_mins(if state == SlaState::Paused { 90 } else { 0 }),
        at_risk_at: None,
        stopped_at: None,
        marks: TargetMarks::default(),
    }
}

struct Row {
    id: &'static str,
    priority: Priority,
    tier: CustomerTier,
    legal_risk: bool,
    blocking: bool,
    created_at: &'static str,
    waiting: bool,
    sla: Option<TicketSla>,
}

fn row(id: &'static str, priority: Priority, created_at: &'static str, sla: Option<TicketSla>) -> Row {
    Row {
        id,
        priority,
        tier: CustomerTier::Standard,
        legal_risk: false,
        blocking: false,
        created_at,
        waiting: false,
        sla,
    }
}

fn resolution(state: SlaState, due: &str) -> Option<TicketSla> {
    Some(TicketSla { first_response: None, resolution: Some(target(SlaTarget::Resolution, state, Some(due))) })
}

fn order(rows: &[Row], settings: &QueueSettings) -> Vec<(&'static str, QueuePlace)> {
    let calendar = Calendar::always_open();
    let mut placed: Vec<(&'static str, QueuePlace)> = rows
        .iter()
        .map(|row| {
            let facts = QueueFacts {
                priority: row.priority,
                customer_tier: row.tier,
                legal_risk: row.legal_risk,
                blocking: row.blocking,
                created_at: at(row.created_at),
                waiting: row.waiting,
                sla: row.sla.as_ref(),
                calendar: &calendar,
            };
            (row.id, place(&facts, settings))
        })
        .collect();
    placed.sort_by(|a, b| a.1.key.cmp(&b.1.key).then(a.0.cmp(b.0)));
    placed
}

/// (id, class, effective deadline, boosts) of a ticket in order.
type Placed = (&'static str, &'static str, Option<String>, Vec<(Boost, u32)>);

#[test]
fn the_order_table() {
    let settings = QueueSettings::DEFAULT;
    let rows = vec![
        // Deadline first.
        row("later", Priority::P3, "2026-03-01T08:00:00Z", resolution(SlaState::Running, "2026-03-05T12:00:00Z")),
        row("sooner", Priority::P3, "2026-03-02T08:00:00Z", resolution(SlaState::Running, "2026-03-04T12:00:00Z")),
        // P1 above all, however far its deadline.
        row("p1-far", Priority::P1, "2026-03-03T08:00:00Z", resolution(SlaState::Running, "2026-03-20T12:00:00Z")),
        // Already breached: before every deadline still ahead, never starved.
        row("breached", Priority::P4, "2026-02-20T08:00:00Z", resolution(SlaState::Breached, "2026-03-01T00:00:00Z")),
        // Equal deadlines: FIFO by creation, then id.
        row("fifo-b", Priority::P2, "2026-03-01T09:00:00Z", resolution(SlaState::Running, "2026-03-06T12:00:00Z")),
        row("fifo-a", Priority::P2, "2026-03-01T09:00:00Z", resolution(SlaState::Running, "2026-03-06T12:00:00Z")),
        row("fifo-old", Priority::P2, "2026-03-01T08:00:00Z", resolution(SlaState::Running, "2026-03-06T12:00:00Z")),
        // Strategic customer: 240 minutes earlier, before `sooner`.
        Row {
            tier: CustomerTier::Strategic,
            ..row(
                "strategic",
                Priority::P3,
                "2026-03-02T08:00:00Z",
                resolution(SlaState::Running, "2026-03-04T15:00:00Z"),
            )
        },
        // Legal risk and blocking add up: 480 + 240 minutes earlier.
        Row {
            legal_risk: true,
            blocking: true,
            ..row(
                "legal-blocking",
                Priority::P3,
                "2026-03-02T08:00:00Z",
                resolution(SlaState::Running, "2026-03-04T20:00:00Z"),
            )
        },
        // No SLA: created + 5 days.
        row("no-sla", Priority::P3, "2026-02-28T00:00:00Z", None),
        // Paused: after everything workable, by time left.
        row(
            "paused",
            Priority::P1,
            "2026-02-01T00:00:00Z",
            Some(TicketSla {
                first_response: None,
                resolution: Some(target(SlaTarget::Resolution, SlaState::Paused, None)),
            }),
        ),
        // Waiting on the customer with a breach already: paused too (nothing to do now), but
        // before the paused ones still on time.
        Row {
            waiting: true,
            ..row(
                "waiting-breached",
                Priority::P2,
                "2026-02-01T00:00:00Z",
                resolution(SlaState::Breached, "2026-02-10T00:00:00Z"),
            )
        },
        // Waiting without SLA: last.
        Row { waiting: true, ..row("waiting-no-sla", Priority::P2, "2026-01-01T00:00:00Z", None) },
    ];
    let ordered: Vec<Placed> = order(&rows, &settings)
        .into_iter()
        .map(|(id, place)| (id, place.class.as_str(), place.effective_deadline.map(|t| t.to_string()), place.boosts))
        .collect();
    let expected: Vec<Placed> = vec![
        ("p1-far", "p1", Some("2026-03-20T12:00:00Z".into()), vec![]),
        ("breached", "deadline", Some("2026-03-01T00:00:00Z".into()), vec![]),
        (
            "legal-blocking",
            "deadline",
            Some("2026-03-04T08:00:00Z".into()),
            vec![(Boost::LegalRisk, 480), (Boost::Blocking, 240)],
        ),
        ("strategic", "deadline", Some("2026-03-04T11:00:00Z".into()), vec![(Boost::Strategic, 240)]),
        ("sooner", "deadline", Some("2026-03-04T12:00:00Z".into()), vec![]),
        ("no-sla", "deadline", Some("2026-03-05T00:00:00Z".into()), vec![]),
        ("later", "deadline", Some("2026-03-05T12:00:00Z".into()), vec![]),
        ("fifo-old", "deadline", Some("2026-03-06T12:00:00Z".into()), vec![]),
        ("fifo-a", "deadline", Some("2026-03-06T12:00:00Z".into()), vec![]),
        ("fifo-b", "deadline", Some("2026-03-06T12:00:00Z".into()), vec![]),
        ("waiting-breached", "paused", None, vec![]),
        ("paused", "paused", None, vec![]),
        ("waiting-no-sla", "paused", None, vec![]),
    ];
    assert_eq!(ordered, expected);
}

#[test]
fn the_first_response_deadline_leads_while_unanswered() {
    let sla = TicketSla {
        first_response: Some(target(SlaTarget::FirstResponse, SlaState::Running, Some("2026-03-02T10:00:00Z"))),
        resolution: Some(target(SlaTarget::Resolution, SlaState::Running, Some("2026-03-04T10:00:00Z"))),
    };
    let placed = order(&[row("t", Priority::P3, "2026-03-02T08:00:00Z", Some(sla.clone()))], &QueueSettings::DEFAULT);
    assert_eq!(placed[0].1.deadline_source, Some(DeadlineSource::FirstResponse));
    let answered = TicketSla {
        first_response: Some(target(SlaTarget::FirstResponse, SlaState::Met, Some("2026-03-02T10:00:00Z"))),
        ..sla
    };
    let placed = order(&[row("t", Priority::P3, "2026-03-02T08:00:00Z", Some(answered))], &QueueSettings::DEFAULT);
    assert_eq!(placed[0].1.deadline_source, Some(DeadlineSource::Resolution));
    assert_eq!(placed[0].1.deadline, Some(at("2026-03-04T10:00:00Z")));
    // Answered late: the breach is a fact, and the resolution is what is left to work to.
    let answered_late = TicketSla {
        first_response: Some(TargetStatus {
            stopped_at: Some(at("2026-03-02T11:00:00Z")),
            ..target(SlaTarget::FirstResponse, SlaState::Breached, Some("2026-03-02T10:00:00Z"))
        }),
        resolution: Some(target(SlaTarget::Resolution, SlaState::Running, Some("2026-03-04T10:00:00Z"))),
    };
    let placed = order(&[row("t", Priority::P3, "2026-03-02T08:00:00Z", Some(answered_late))], &QueueSettings::DEFAULT);
    assert_eq!(placed[0].1.deadline_source, Some(DeadlineSource::Resolution));
}

#[test]
fn weights_come_from_the_settings() {
    let no_boosts = QueueSettings { strategic_minutes: 0, ..QueueSettings::DEFAULT };
    let rows = [Row {
        tier: CustomerTier::Strategic,
        ..row("s", Priority::P3, "2026-03-02T08:00:00Z", resolution(SlaState::Running, "2026-03-04T15:00:00Z"))
    }];
    let placed = order(&rows, &no_boosts);
    assert!(placed[0].1.boosts.is_empty());
    assert_eq!(placed[0].1.effective_deadline, Some(at("2026-03-04T15:00:00Z")));
}

#[test]
fn predictions_follow_the_work_ahead() {
    let calendar = Calendar::always_open();
    let now = at("2026-03-02T08:00:00Z");
    let sla = TicketSla {
        first_response: Some(target(SlaTarget::FirstResponse, SlaState::Running, Some("2026-03-02T09:00:00Z"))),
        resolution: Some(target(SlaTarget::Resolution, SlaState::Running, Some("2026-03-02T12:00:00Z"))),
    };
    // 2 agents, 300 minutes ahead: starts in 150 min (10:30), done 15 min later (10:45). The
    // first response (due 09:00) will be missed; the resolution (12:00) will not.
    let capacity = Capacity { agents: 2.0, calendar: &calendar };
    let prediction = predict(now, capacity, 300.0, 30.0, Some(&sla)).expect("a prediction");
    assert_eq!(prediction.start_at, at("2026-03-02T10:30:00Z"));
    assert_eq!(prediction.done_at, at("2026-03-02T10:45:00Z"));
    assert_eq!(prediction.breach, Some((SlaTarget::FirstResponse, at("2026-03-02T09:00:00Z"))));
    // Nothing ahead: on time.
    let prediction = predict(now, capacity, 0.0, 30.0, Some(&sla)).expect("a prediction");
    assert_eq!(prediction.breach, None);
    // Nobody on the team: no prediction.
    assert_eq!(predict(now, Capacity { agents: 0.0, calendar: &calendar }, 0.0, 30.0, Some(&sla)), None);
}
