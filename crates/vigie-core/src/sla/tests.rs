use jiff::tz::TimeZoneDatabase;
use proptest::prelude::*;

use super::*;
use crate::calendar::{CalendarInput, HolidayInput};
use crate::rules::{Rules, RulesInput, SlaInput, SlaPolicyInput};

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid instant")
}

fn resolve(name: &str) -> Option<jiff::tz::TimeZone> {
    TimeZoneDatabase::bundled().get(name).ok()
}

fn policy(
    name: &str,
    category: &str,
    priority: &str,
    first: Option<i64>,
    resolution: Option<i64>,
    calendar: &str,
) -> SlaPolicyInput {
    SlaPolicyInput {
        name: name.into(),
        category: category.into(),
        priority: priority.into(),
        channel: None,
        first_response_minutes: first,
        resolution_minutes: resolution,
        calendar: Some(calendar.into()),
    }
}

/// Paris office hours 09:00–17:00 on weekdays; Christmas off.
fn rules() -> Rules {
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"]
        .iter()
        .map(|day| (day.to_string(), vec!["09:00-17:00".to_string()]))
        .collect();
    RulesInput {
        calendars: vec![(
            "paris".into(),
            CalendarInput {
                time_zone: "Europe/Paris".into(),
                days,
                holidays: vec![HolidayInput { date: "2026-12-25".into(), ..Default::default() }],
                ..Default::default()
            },
        )],
        sla: SlaInput {
            pause_statuses: None,
            at_risk_minutes: Some(60),
            policies: vec![
                policy("default", "*", "*", Some(480), Some(2400), "paris"),
                policy("billing", "billing", "*", Some(120), Some(960), "paris"),
                policy("urgent", "*", "P1", Some(30), Some(240), "24x7"),
                policy("billing-urgent", "billing", "P1", Some(15), Some(120), "24x7"),
            ],
        },
        ..Default::default()
    }
    .parse(&resolve)
    .expect("valid rules")
}

#[test]
fn the_most_specific_policy_wins() {
    let rules = rules();
    let select =
        |category: &str, priority: Priority| rules.sla.select(category, priority, Channel::Email).map(|t| t.policy);
    assert_eq!(select("billing", Priority::P1).as_deref(), Some("billing-urgent"));
    // Exact category beats exact priority.
    assert_eq!(select("billing", Priority::P3).as_deref(), Some("billing"));
    assert_eq!(select("delivery", Priority::P1).as_deref(), Some("urgent"));
    assert_eq!(select("delivery", Priority::P4).as_deref(), Some("default"));
    assert_eq!(Rules::empty().sla.select("delivery", Priority::P4, Channel::Email), None);
}

struct Case {
    history: Vec<(Status, &'static str)>,
    first_response_at: Option<&'static str>,
    resolved_at: Option<&'static str>,
}

fn evaluate(rules: &Rules, policy: &str, case: &Case, now: &str) -> TicketSla {
    let history: Vec<StatusSince> =
        case.history.iter().map(|(status, since)| StatusSince { status: *status, since: at(since) }).collect();
    let targets = rules.sla.policies().iter().find(|p| p.name == policy).expect("policy").targets();
    let clock = SlaClock {
        created_at: history[0].since,
        first_response_at: case.first_response_at.map(at),
        resolved_at: case.resolved_at.map(at),
        status_history: &history,
        targets: &targets,
        marks: SlaMarks::default(),
    };
    rules.sla.evaluate(&clock, at(now))
}

/// (state, due_at, minutes_left) of a target.
fn summary(status: &Option<TargetStatus>) -> (SlaState, Option<String>, i64) {
    let status = status.as_ref().expect("a target");
    (status.state, status.due_at.map(|t| t.to_string()), status.minutes_left())
}

#[test]
fn clocks_run_in_business_hours() {
    let rules = rules();
    // Created Monday 2026-03-02 16:00 Paris (15:00Z): 480 business minutes to answer, so
    // 1 hour on Monday and 7 on Tuesday: due Tuesday 16:00 Paris (15:00Z).
    let case =
        Case { history: vec![(Status::New, "2026-03-02T15:00:00Z")], first_response_at: None, resolved_at: None };
    let sla = evaluate(&rules, "default", &case, "2026-03-02T15:30:00Z");
    assert_eq!(summary(&sla.first_response), (SlaState::Running, Some("2026-03-03T15:00:00Z".into()), 450));
    // 2400 minutes = 5 business days: due the next Monday 16:00.
    assert_eq!(summary(&sla.resolution), (SlaState::Running, Some("2026-03-09T15:00:00Z".into()), 2370));
    assert_eq!(sla.state(), Some(SlaState::Running));
    assert_eq!(sla.deadline().map(|t| t.target), Some(SlaTarget::FirstResponse));
    // The warning window opens an hour of business time before: Tuesday 15:00 Paris.
    assert_eq!(
        sla.first_response.as_ref().and_then(|t| t.at_risk_at).map(|t| t.to_string()).as_deref(),
        Some("2026-03-03T14:00:00Z")
    );

    // Wednesday 10:00 Paris, unanswered: breached, two business hours late (Tuesday 16:00–17:00
    // and Wednesday 09:00–10:00).
    let later = evaluate(&rules, "default", &case, "2026-03-04T09:00:00Z");
    assert_eq!(summary(&later.first_response), (SlaState::Breached, Some("2026-03-03T15:00:00Z".into()), -120));
    assert_eq!(later.state(), Some(SlaState::Breached));
}

#[test]
fn pending_statuses_pause_the_clock_exactly() {
    let rules = rules();
    // Answered at once, then waiting on the customer from Tuesday 10:00 to Thursday 10:00
    // (Paris): 16 business hours paused, so the resolution deadline moves two days later.
    let case = Case {
        history: vec![
            (Status::New, "2026-03-02T15:00:00Z"),
            (Status::Open, "2026-03-02T15:10:00Z"),
            (Status::PendingCustomer, "2026-03-03T09:00:00Z"),
            (Status::Open, "2026-03-05T09:00:00Z"),
        ],
        first_response_at: Some("2026-03-02T15:10:00Z"),
        resolved_at: None,
    };
    let sla = evaluate(&rules, "default", &case, "2026-03-05T10:00:00Z");
    assert_eq!(summary(&sla.first_response).0, SlaState::Met);
    assert_eq!(summary(&sla.resolution), (SlaState::Running, Some("2026-03-11T15:00:00Z".into()), 2400 - 60 - 60 - 60));
    // While paused: no deadline, the time left frozen.
    let paused =
        evaluate(&rules, "default", &Case { history: case.history[..3].to_vec(), ..case }, "2026-03-04T12:00:00Z");
    assert_eq!(summary(&paused.resolution), (SlaState::Paused, None, 2400 - 60 - 60));
    assert_eq!(paused.state(), Some(SlaState::Paused));
    assert!(paused.deadline().is_none());
}

#[test]
fn pending_internal_does_not_pause_by_default() {
    let rules = rules();
    let case = Case {
        history: vec![(Status::Open, "2026-03-02T08:00:00Z"), (Status::PendingInternal, "2026-03-02T09:00:00Z")],
        first_response_at: Some("2026-03-02T08:00:00Z"),
        resolved_at: None,
    };
    let sla = evaluate(&rules, "default", &case, "2026-03-02T10:00:00Z");
    assert_eq!(summary(&sla.resolution), (SlaState::Running, Some("2026-03-06T16:00:00Z".into()), 2400 - 120));
}

#[test]
fn solving_stops_and_reopening_resumes() {
    let rules = rules();
    let solved = Case {
        history: vec![(Status::Open, "2026-03-02T08:00:00Z"), (Status::Solved, "2026-03-02T10:00:00Z")],
        first_response_at: None,
        resolved_at: Some("2026-03-02T10:00:00Z"),
    };
    let sla = evaluate(&rules, "default", &solved, "2026-03-20T10:00:00Z");
    assert_eq!(summary(&sla.resolution), (SlaState::Met, Some("2026-03-06T16:00:00Z".into()), 2400 - 120));
    // Solved without a public reply: the solution was the answer, on time.
    assert_eq!(summary(&sla.first_response).0, SlaState::Met);
    assert_eq!(sla.state(), Some(SlaState::Met));
    // Reopened a week later: the clock resumes with what was left; the week solved is not counted.
    let reopened = Case {
        history: vec![
            (Status::Open, "2026-03-02T08:00:00Z"),
            (Status::Solved, "2026-03-02T10:00:00Z"),
            (Status::Open, "2026-03-09T08:00:00Z"),
        ],
        first_response_at: None,
        resolved_at: None,
    };
    let sla = evaluate(&rules, "default", &reopened, "2026-03-09T09:00:00Z");
    assert_eq!(summary(&sla.resolution), (SlaState::Running, Some("2026-03-13T14:00:00Z".into()), 2400 - 180));
}

#[test]
fn a_reply_after_a_reopening_does_not_rewrite_the_first_response() {
    let rules = rules();
    // Solved within the hour without a reply: the solution answered. Reopened the next day and
    // answered that afternoon: the first response stays met.
    let case = Case {
        history: vec![
            (Status::New, "2026-03-02T08:00:00Z"),
            (Status::Solved, "2026-03-02T08:30:00Z"),
            (Status::Open, "2026-03-03T09:00:00Z"),
        ],
        first_response_at: Some("2026-03-03T14:00:00Z"),
        resolved_at: None,
    };
    let sla = evaluate(&rules, "billing", &case, "2026-03-03T15:00:00Z");
    assert_eq!(summary(&sla.first_response).0, SlaState::Met);
    assert_eq!(sla.first_response.as_ref().and_then(|t| t.stopped_at), Some(at("2026-03-02T08:30:00Z")));
}

#[test]
fn late_stops_are_breaches() {
    let rules = rules();
    let case = Case {
        history: vec![(Status::New, "2026-03-02T08:00:00Z"), (Status::Solved, "2026-03-10T08:00:00Z")],
        first_response_at: Some("2026-03-02T08:15:00Z"),
        resolved_at: Some("2026-03-10T08:00:00Z"),
    };
    let sla = evaluate(&rules, "billing", &case, "2026-03-20T00:00:00Z");
    // 120 minutes to answer, answered in 15: met with 105 left.
    assert_eq!(summary(&sla.first_response), (SlaState::Met, Some("2026-03-02T10:00:00Z".into()), 105));
    // 960 minutes (two days) to solve, solved 6 business days in: breached, four days late.
    assert_eq!(summary(&sla.resolution), (SlaState::Breached, Some("2026-03-03T16:00:00Z".into()), -4 * 480));
}

#[test]
fn a_response_exactly_at_the_deadline_meets_it() {
    let rules = rules();
    let case = Case {
        history: vec![(Status::New, "2026-03-02T08:00:00Z")],
        first_response_at: Some("2026-03-02T10:00:00Z"),
        resolved_at: None,
    };
    let sla = evaluate(&rules, "billing", &case, "2026-03-02T12:00:00Z");
    assert_eq!(summary(&sla.first_response), (SlaState::Met, Some("2026-03-02T10:00:00Z".into()), 0));
}

#[test]
fn marks_are_due_once() {
    let rules = rules();
    let history = vec![StatusSince { status: Status::New, since: at("2026-03-02T08:00:00Z") }];
    let targets = rules.sla.policies().iter().find(|p| p.name == "billing").expect("policy").targets();
    let mut marks = SlaMarks::default();
    let sla_at = |now: &str, marks: SlaMarks| {
        let clock = SlaClock {
            created_at: history[0].since,
            first_response_at: None,
            resolved_at: None,
            status_history: &history,
            targets: &targets,
            marks,
        };
        rules.sla.evaluate(&clock, at(now))
    };
    // First-response deadline 10:00Z, warning from 09:00Z.
    let sla = sla_at("2026-03-02T08:30:00Z", marks);
    assert_eq!(sla.next_check().map(|t| t.to_string()).as_deref(), Some("2026-03-02T09:00:00Z"));
    assert!(sla.pending_marks(at("2026-03-02T08:30:00Z")).is_empty());
    let warn = sla_at("2026-03-02T09:00:00Z", marks).pending_marks(at("2026-03-02T09:00:00Z"));
    assert_eq!(warn, vec![(SlaTarget::FirstResponse, SlaMark::AtRisk, at("2026-03-02T10:00:00Z"))]);
    marks.first_response.at_risk = true;
    let sla = sla_at("2026-03-02T09:30:00Z", marks);
    assert!(sla.pending_marks(at("2026-03-02T09:30:00Z")).is_empty(), "warned once");
    assert_eq!(sla.next_check().map(|t| t.to_string()).as_deref(), Some("2026-03-02T10:00:00.000001Z"));
    // Slept through everything: only the breach of the first response is recorded (no late
    // warning for it); the resolution (due Tuesday 17:00 Paris) gets its warning.
    let late = sla_at("2026-03-03T15:30:00Z", SlaMarks::default()).pending_marks(at("2026-03-03T15:30:00Z"));
    assert_eq!(
        late,
        vec![
            (SlaTarget::FirstResponse, SlaMark::Breached, at("2026-03-02T10:00:00Z")),
            (SlaTarget::Resolution, SlaMark::AtRisk, at("2026-03-03T16:00:00Z")),
        ]
    );
}

#[test]
fn bad_rules_name_the_field_and_change_nothing() {
    let input = RulesInput {
        calendars: vec![(
            "lyon".into(),
            CalendarInput {
                time_zone: "Europe/Lyon".into(),
                days: vec![("monday".into(), vec!["09:00-12:00".into(), "11:00-18:00".into()])],
                ..Default::default()
            },
        )],
        sla: SlaInput {
            pause_statuses: Some(vec!["pending_customer".into(), "waiting".into(), "open".into()]),
            at_risk_minutes: Some(-5),
            policies: vec![
                policy("a", "*", "*", Some(-10), Some(100), "24x7"),
                policy("b", "*", "P9", Some(10), Some(10_000_000), "nowhere"),
                policy("c", "billing", "*", None, None, "24x7"),
                policy("d", "*", "*", Some(10), None, "24x7"),
            ],
        },
        ..Default::default()
    };
    let errors = input.parse(&resolve).expect_err("refused").0;
    let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.reason.as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("calendars.lyon.time_zone", "`Europe/Lyon` is not a known IANA time zone (such as `Europe/Paris`)"),
            ("calendars.lyon.monday[1]", "overlaps 09:00-12:00 on the same day"),
            (
                "sla.pause_statuses[1]",
                "`waiting` is not a status: one of `pending_customer`, `pending_third_party`, `pending_internal`"
            ),
            ("sla.pause_statuses[2]", "`open` cannot pause the clock: only the pending statuses can"),
            ("sla.at_risk_minutes", "must be a whole number of minutes from 1 to 43200"),
            ("sla.policies[0].first_response_minutes", "must be a whole number of minutes from 1 to 2628000"),
            ("sla.policies[1].priority", "must be one of `P1`, `P2`, `P3`, `P4` (or `*` for any)"),
            ("sla.policies[1].resolution_minutes", "must be a whole number of minutes from 1 to 2628000"),
            ("sla.policies[1].calendar", "`nowhere` is not a calendar (define it under `calendars`, or use `24x7`)"),
            (
                "sla.policies[2].resolution_minutes",
                "is required when first_response_minutes is absent: a policy sets at least one target"
            ),
        ]
    );
}

#[test]
fn two_policies_for_the_same_tickets_are_refused() {
    let input = RulesInput {
        sla: SlaInput {
            policies: vec![
                policy("a", "billing", "*", Some(10), None, "24x7"),
                policy("b", "billing", "*", Some(20), None, "24x7"),
            ],
            ..Default::default()
        },
        ..Default::default()
    };
    let errors = input.parse(&resolve).expect_err("refused").0;
    assert_eq!(errors[0].field, "sla.policies[1].category");
    assert_eq!(errors[0].reason, "covers the same category, priority and channel as sla.policies[0]");
}

/// Business time the clock ran in `[created, until)`: the running spans of the history.
fn running_time(rules: &Rules, calendar: &str, history: &[StatusSince], until: Timestamp) -> SignedDuration {
    let calendar = rules.sla.calendar_or_always(calendar);
    let mut total = SignedDuration::ZERO;
    for (idx, entry) in history.iter().enumerate() {
        let end = history.get(idx + 1).map_or(until, |next| next.since.min(until));
        let runs = entry.status.is_open() && !rules.sla.pause_statuses().contains(&entry.status);
        if runs && end > entry.since {
            total += calendar.business_time_between(entry.since, end);
        }
    }
    total
}

fn arb_history() -> impl Strategy<Value = Vec<StatusSince>> {
    let statuses = prop::sample::select(vec![
        Status::Open,
        Status::PendingCustomer,
        Status::PendingThirdParty,
        Status::PendingInternal,
        Status::Solved,
    ]);
    (1_772_000_000i64..1_790_000_000, prop::collection::vec((statuses, 1i64..400_000), 0..8)).prop_map(
        |(start, steps)| {
            let mut since = Timestamp::from_second(start).expect("valid");
            let mut history = vec![StatusSince { status: Status::New, since }];
            for (status, gap) in steps {
                since = since.checked_add(SignedDuration::from_secs(gap)).expect("valid");
                if history.last().is_some_and(|last| last.status != status) {
                    history.push(StatusSince { status, since });
                }
            }
            history
        },
    )
}

proptest! {
    /// Whatever the pauses, the deadline is the instant at which the running time reaches the
    /// target; the business time left is the target minus what ran.
    #[test]
    fn pauses_are_excluded_exactly(history in arb_history(), minutes in 1u32..20_000, which in 0usize..2) {
        let rules = rules();
        let calendar = ["paris", "24x7"][which];
        let targets = SlaTargets { policy: "p".into(), calendar: calendar.into(), first_response_minutes: None, resolution_minutes: Some(minutes) };
        let resolved_at = history.last().filter(|e| !e.status.is_open()).map(|e| e.since);
        let last = history.last().map(|e| e.since).expect("history");
        let now = last.checked_add(SignedDuration::from_hours(1)).expect("valid");
        let clock = SlaClock { created_at: history[0].since, first_response_at: None, resolved_at, status_history: &history, targets: &targets, marks: SlaMarks::default() };
        let status = rules.sla.evaluate(&clock, now).resolution.expect("a resolution target");
        let target = crate::calendar::minutes(i64::from(minutes));
        match status.state {
            SlaState::Running | SlaState::Breached => {
                let due = status.due_at.expect("a deadline");
                prop_assert_eq!(running_time(&rules, calendar, &history, due), target);
            }
            SlaState::Paused => {
                prop_assert!(status.due_at.is_none());
                prop_assert_eq!(status.left, target - running_time(&rules, calendar, &history, now));
            }
            SlaState::Met => {
                let stop = resolved_at.expect("met means stopped");
                prop_assert!(running_time(&rules, calendar, &history, stop) <= target);
            }
        }
    }
}
