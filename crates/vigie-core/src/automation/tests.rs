use std::collections::HashSet;

use super::*;
use crate::actor::Role;
use crate::calendar::CalendarInput;
use crate::command::{ExpectedVersion, NewTicketInput, TicketPatchInput};
use crate::event::{Event, replay};
use crate::ids::{CustomerId, TicketId};
use crate::rules::RulesInput;

struct Directory;

impl DirectoryLookup for Directory {
    fn team_exists(&self, team: &TeamId) -> bool {
        ["front_office", "billing_ops"].contains(&team.as_str())
    }
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>> {
        (agent.as_str() == "ana").then(|| vec![TeamId::parse("front_office").expect("id")])
    }
    fn customer_tier(&self, _: &CustomerId) -> Option<CustomerTier> {
        None
    }
    fn agent_skills(&self, agent: &AgentId) -> Option<crate::directory::Skills> {
        (agent.as_str() == "ana").then(crate::directory::Skills::default)
    }
}

/// Monday 2026-03-02 09:00 in Paris (08:00 UTC) plus `hours`.
fn at(hours: f64) -> Timestamp {
    let start: Timestamp = "2026-03-02T08:00:00Z".parse().expect("instant");
    start + SignedDuration::from_secs_f64(hours * 3600.0)
}

fn template(name: &str, subject: &str, body: &str) -> TemplateInput {
    TemplateInput { name: name.into(), subject: subject.into(), body: body.into() }
}

fn cond(field: &str, is: &[&str]) -> ConditionInput {
    ConditionInput {
        field: Some(field.into()),
        is: Some(is.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

fn since(anchor: &str, hours: f64, calendar: Option<&str>) -> ConditionInput {
    ConditionInput {
        since: Some(anchor.into()),
        hours: Some(hours),
        calendar: calendar.map(str::to_owned),
        ..Default::default()
    }
}

fn set(field: &str, to: &str) -> ActionInput {
    ActionInput { set: Some(field.into()), to: Some(to.into()), ..Default::default() }
}

fn message(template: &str) -> ActionInput {
    ActionInput { message_customer: Some(template.into()), ..Default::default() }
}

fn rule(name: &str, on: &[&str], conditions: Vec<ConditionInput>, actions: Vec<ActionInput>) -> AutomationRuleInput {
    AutomationRuleInput { name: name.into(), on: on.iter().map(|s| s.to_string()).collect(), conditions, actions }
}

fn office() -> (String, CalendarInput) {
    let day = vec!["09:00-17:00".to_owned()];
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"].map(|d| (d.to_owned(), day.clone())).to_vec();
    ("office".into(), CalendarInput { time_zone: "Europe/Paris".into(), days, ..Default::default() })
}

fn parse(automations: Vec<AutomationRuleInput>, templates: Vec<TemplateInput>) -> Result<Rules, ValidationErrors> {
    let input = RulesInput { calendars: vec![office()], automations, templates, ..Default::default() };
    input.parse(&|name| jiff::tz::TimeZone::get(name).ok())
}

/// The shipped clean-up: a reminder after 16 business hours pending, a close after 40.
fn cleanup() -> Rules {
    parse(
        vec![
            rule(
                "pending-reminder",
                &["time"],
                vec![cond("status", &["pending_customer"]), since("status_changed", 16.0, Some("office"))],
                vec![message("reminder")],
            ),
            rule(
                "pending-close",
                &["time"],
                vec![cond("status", &["pending_customer"]), since("status_changed", 40.0, Some("office"))],
                vec![message("closed"), set("status", "closed")],
            ),
        ],
        vec![
            template(
                "reminder",
                "Still waiting on you: {{ ticket.subject }}",
                "Hello {{ customer.id }}, ticket {{ ticket.id }} waits for your answer.",
            ),
            template("closed", "Closed: {{ ticket.subject }}", "We closed {{ ticket.id }} ({{ ticket.status }})."),
        ],
    )
    .expect("valid rules")
}

fn lead() -> Actor {
    Actor { name: "lea".into(), role: Role::Lead, teams: Vec::new() }
}

/// A ticket set pending at `at(0)`.
fn pending(rules: &Rules) -> (Ticket, Vec<Event>) {
    let new_ticket = NewTicketInput {
        subject: "Refund".into(),
        body: "Please refund".into(),
        channel: "email".into(),
        category: "billing".into(),
        priority: "P3".into(),
        customer_id: "acme".into(),
        team: Some("front_office".into()),
        ..Default::default()
    }
    .parse()
    .expect("valid");
    let created =
        decide::create(TicketId::from_number(7), new_ticket, &lead(), at(0.0), &Directory, rules).expect("created");
    let created = fire_triggers(created, at(0.0), &Directory, rules);
    let patch =
        TicketPatchInput { status: Some("pending_customer".into()), ..Default::default() }.parse().expect("valid");
    let moved = decide::patch(&created.ticket, ExpectedVersion::Any, &patch, &lead(), at(0.0), &Directory, rules)
        .expect("pending");
    let moved = fire_triggers(moved, at(0.0), &Directory, rules);
    let mut events = created.events;
    events.extend(moved.events.clone());
    (moved.ticket, events)
}

fn kinds(decision: &Decision) -> Vec<&'static str> {
    decision.events.iter().map(|e| e.kind.name()).collect()
}

#[test]
fn time_rules_count_business_hours_and_fire_once_per_status() {
    let rules = cleanup();
    let (ticket, mut history) = pending(&rules);
    let reminder = rules.automations.rule("pending-reminder").expect("rule");
    // Monday 9:00 + 16 business hours = Tuesday 17:00 (Paris); not at Tuesday 9:00 (24 h later).
    assert!(!reminder.holds(&ticket, at(24.0), &rules));
    assert!(!reminder.holds(&ticket, at(31.9), &rules));
    assert!(reminder.holds(&ticket, at(32.0), &rules));

    let fired = automate(&ticket, "pending-reminder", at(32.0), &Directory, &rules).expect("fired");
    assert_eq!(kinds(&fired), ["message_queued", "rule_applied"]);
    let EventKind::MessageQueued { audience, subject, body, .. } = &fired.events[0].kind else { panic!("a message") };
    assert_eq!(audience, &Audience::Customer("acme".into()));
    assert_eq!(subject, "Still waiting on you: Refund");
    assert_eq!(body, "Hello acme, ticket T-7 waits for your answer.");
    assert_eq!(fired.events[0].actor, "rule:pending-reminder");
    history.extend(fired.events.clone());

    // Again, later: nothing (once per status), and the pass would not propose it.
    assert!(!reminder.holds(&fired.ticket, at(40.0), &rules));
    let again = automate(&fired.ticket, "pending-reminder", at(40.0), &Directory, &rules).expect("decided");
    assert!(again.events.is_empty());

    // Friday 17:00 is 40 business hours: closed through solved, with its notice.
    assert!(!rules.automations.rule("pending-close").expect("rule").holds(&fired.ticket, at(4.0 * 24.0 + 7.9), &rules));
    let closed = automate(&fired.ticket, "pending-close", at(4.0 * 24.0 + 8.0), &Directory, &rules).expect("closed");
    assert_eq!(kinds(&closed), ["status_changed", "status_changed", "message_queued", "rule_applied"]);
    assert_eq!(closed.ticket.status, Status::Closed);
    let EventKind::MessageQueued { body, .. } = &closed.events[2].kind else { panic!("a message") };
    assert_eq!(body, "We closed T-7 (closed).");
    history.extend(closed.events.clone());
    assert_eq!(replay(&history).expect("replays"), Some(closed.ticket));
}

#[test]
fn a_status_change_starts_a_new_episode() {
    let rules = cleanup();
    let (ticket, _) = pending(&rules);
    let fired = automate(&ticket, "pending-reminder", at(32.0), &Directory, &rules).expect("fired");
    assert_eq!(fired.ticket.rules_applied, ["pending-reminder"]);
    let reopen = TicketPatchInput { status: Some("open".into()), ..Default::default() }.parse().expect("valid");
    let open = decide::patch(&fired.ticket, ExpectedVersion::Any, &reopen, &lead(), at(33.0), &Directory, &rules)
        .expect("open");
    assert!(open.ticket.rules_applied.is_empty());
    let pending_again =
        TicketPatchInput { status: Some("pending_customer".into()), ..Default::default() }.parse().expect("valid");
    let again =
        decide::patch(&open.ticket, ExpectedVersion::Any, &pending_again, &lead(), at(34.0), &Directory, &rules)
            .expect("pending");
    let reminder = rules.automations.rule("pending-reminder").expect("rule");
    assert!(!reminder.holds(&again.ticket, at(40.0), &rules));
    // Pending again on Tuesday at 19:00, after hours: 16 business hours end on Thursday 17:00.
    assert!(!reminder.holds(&again.ticket, at(79.9), &rules));
    assert!(reminder.holds(&again.ticket, at(80.0), &rules));
}

#[test]
fn a_rule_that_no_longer_applies_records_nothing() {
    let rules = cleanup();
    let (ticket, _) = pending(&rules);
    assert!(automate(&ticket, "pending-reminder", at(1.0), &Directory, &rules).expect("decided").events.is_empty());
    assert!(automate(&ticket, "no-such-rule", at(100.0), &Directory, &rules).expect("decided").events.is_empty());
}

#[test]
fn triggers_fire_in_the_command_once_each() {
    let rules = parse(
        vec![
            rule(
                "escalate-legal",
                &["ticket_created", "fields_changed"],
                vec![
                    ConditionInput { field: Some("legal_risk".into()), set: Some(true), ..Default::default() },
                    ConditionInput { no_tag: Some("escalated".into()), ..Default::default() },
                ],
                vec![ActionInput {
                    notify_team: Some("billing_ops".into()),
                    template: Some("escalation".into()),
                    ..Default::default()
                }],
            ),
            rule(
                "tag-on-status",
                &["status_changed"],
                vec![cond("status", &["pending_customer"])],
                vec![ActionInput { add_tag: Some("waiting".into()), ..Default::default() }],
            ),
            rule(
                "priority-on-tag",
                &["fields_changed", "status_changed"],
                vec![ConditionInput { tag: Some("waiting".into()), ..Default::default() }],
                vec![message("ack")],
            ),
        ],
        vec![
            template("escalation", "Legal risk on {{ ticket.id }}", "{{ ticket.subject }}"),
            template("ack", "We wait for you", "{{ ticket.tags | join(', ') }}"),
        ],
    )
    .expect("valid rules");
    let (ticket, _) = pending(&rules);
    // The pending move fired tag-on-status, whose tag change fired priority-on-tag, once.
    assert_eq!(ticket.tags, ["waiting"]);
    let legal = TicketPatchInput { legal_risk: Some(true), ..Default::default() }.parse().expect("valid");
    let decided =
        decide::patch(&ticket, ExpectedVersion::Any, &legal, &lead(), at(1.0), &Directory, &rules).expect("patched");
    let decided = fire_triggers(decided, at(1.0), &Directory, &rules);
    assert_eq!(kinds(&decided), ["fields_changed", "message_queued", "message_queued"]);
    let EventKind::MessageQueued { audience, subject, .. } = &decided.events[1].kind else { panic!("a message") };
    assert_eq!(audience, &Audience::Team("billing_ops".into()));
    assert_eq!(subject, "Legal risk on T-7");
    assert_eq!(decided.events[1].actor, "rule:escalate-legal");
}

#[test]
fn every_problem_is_named_by_rule_and_field() {
    let errors = parse(
        vec![
            rule("a", &["time"], vec![cond("colour", &["red"])], vec![set("priority", "P1")]),
            rule(
                "b",
                &["time"],
                vec![cond("status", &["open"]), cond("status", &["pending_customer"]), since("created", 1.0, None)],
                vec![set("priority", "P1")],
            ),
            rule("c", &["status_changed"], vec![], vec![set("status", "open")]),
            rule("d", &["ticket_created"], vec![], vec![message("nope")]),
            rule("e", &["on_fire"], vec![], vec![set("priority", "P9")]),
            rule("f", &["time"], vec![since("created", 1.0, Some("moon"))], vec![set("status", "new")]),
            rule("g", &["time"], vec![cond("status", &["open"])], vec![set("priority", "P1")]),
        ],
        vec![template("bad", "{{ ticket.colour }}", "{{ customer.name }}"), template("broken", "{% if %}", "x")],
    )
    .expect_err("refused");
    let fields: HashSet<String> = errors.0.iter().map(|e| e.field.clone()).collect();
    for field in [
        "automations[0] (a).conditions[0].field",
        "automations[1] (b).conditions[1]",
        "automations[2] (c).actions[0]",
        "automations[3] (d).actions[0].message_customer",
        "automations[4] (e).on[0]",
        "automations[4] (e).actions[0].to",
        "automations[5] (f).conditions[0].calendar",
        "automations[5] (f).actions[0].to",
        "automations[6] (g).conditions",
        "templates.bad.subject",
        "templates.bad.body",
        "templates.broken.subject",
    ] {
        assert!(fields.contains(field), "{field} not in {errors}");
    }
    let text = errors.to_string();
    assert!(text.contains("`ticket.colour`, which is not a variable"), "{text}");
    assert!(text.contains("does not compile"), "{text}");
}

#[test]
fn a_template_cannot_run_away() {
    let rules = parse(
        vec![rule("loop", &["ticket_created"], vec![], vec![message("spin")])],
        vec![template(
            "spin",
            "x",
            "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}",
        )],
    );
    // Refused at load: the sample render runs out of fuel.
    let errors = rules.expect_err("refused");
    assert!(errors.to_string().contains("templates.spin"), "{errors}");
}

#[test]
fn a_prepared_rule_holds_exactly_when_the_rule_does() {
    let rules = parse(
        vec![
            rule(
                "business",
                &["time"],
                vec![since("status_changed", 16.0, Some("office")), cond("status", &["pending_customer"])],
                vec![message("reminder")],
            ),
            rule("calendar", &["time"], vec![since("created", 30.5, None)], vec![message("reminder")]),
        ],
        vec![template("reminder", "r", "b")],
    )
    .expect("valid");
    let (ticket, _) = pending(&rules);
    for rule in &rules.automations.rules {
        // Every 7 minutes over two weeks, across nights and a weekend.
        let micro = SignedDuration::from_micros(1);
        let edges = [at(32.0), at(32.0) - micro, at(30.5), at(30.5) - micro];
        let steps = (0..(14 * 24 * 60 / 7)).map(|step| at(f64::from(step) * 7.0 / 60.0));
        for now in steps.chain(edges) {
            // Each condition on its own, each `since` measured for this ticket.
            let plain = rule.conditions.iter().all(|condition| condition.holds(&ticket, now, &rules));
            assert_eq!(rule.at(now).holds(&ticket, now, &rules), plain, "{} at {now}", rule.name);
        }
    }
}

#[test]
fn rules_that_undo_each_other_do_not_loop() {
    // A moves open tickets to pending_internal after an hour; B moves them back: each fires
    // once, since a move made by a rule does not start a new episode.
    let rules = parse(
        vec![
            rule(
                "park",
                &["time"],
                vec![cond("status", &["open"]), since("created", 1.0, None)],
                vec![set("status", "pending_internal")],
            ),
            rule(
                "unpark",
                &["time"],
                vec![cond("status", &["pending_internal"]), since("created", 1.0, None)],
                vec![set("status", "open")],
            ),
        ],
        Vec::new(),
    )
    .expect("valid");
    let (pending, _) = pending(&rules);
    let reopen = TicketPatchInput { status: Some("open".into()), ..Default::default() }.parse().expect("valid");
    let mut ticket = decide::patch(&pending, ExpectedVersion::Any, &reopen, &lead(), at(0.5), &Directory, &rules)
        .expect("open")
        .ticket;
    let mut fired = 0;
    for step in 0..10 {
        for name in ["park", "unpark"] {
            let decision = automate(&ticket, name, at(2.0 + f64::from(step)), &Directory, &rules).expect("decided");
            fired += usize::from(!decision.events.is_empty());
            ticket = decision.ticket;
        }
    }
    assert_eq!(fired, 2, "each rule once");
    assert_eq!(ticket.status, Status::Open);
}

#[test]
fn a_rule_the_ticket_refuses_is_recorded_as_failed_once() {
    // Closing goes through solved; a solved ticket cannot go to pending_customer.
    let rules = parse(
        vec![rule(
            "repend",
            &["time"],
            vec![cond("status", &["solved"]), since("created", 1.0, None)],
            vec![set("status", "pending_customer")],
        )],
        Vec::new(),
    )
    .expect("valid");
    let (pending, _) = pending(&rules);
    let solve = TicketPatchInput { status: Some("solved".into()), ..Default::default() }.parse().expect("valid");
    let solved =
        decide::patch(&pending, ExpectedVersion::Any, &solve, &lead(), at(0.5), &Directory, &rules).expect("solved");
    let failed = automate(&solved.ticket, "repend", at(2.0), &Directory, &rules).expect("decided");
    let [event] = failed.events.as_slice() else { panic!("one event: {:?}", failed.events) };
    let EventKind::RuleApplied { failed: Some(reason), .. } = &event.kind else { panic!("a failure: {event:?}") };
    assert!(reason.contains("solved"), "{reason}");
    // Bookkeeping: the version and `updated_at` do not move.
    assert_eq!(failed.ticket.version, solved.ticket.version);
    assert_eq!(failed.ticket.updated_at, solved.ticket.updated_at);
    assert!(automate(&failed.ticket, "repend", at(3.0), &Directory, &rules).expect("decided").events.is_empty());
}

#[test]
fn templates_cannot_grow_values_and_keys_of_another_kind_are_refused() {
    let errors = parse(
        vec![rule(
            "mixed",
            &["time"],
            vec![ConditionInput { is: Some(vec!["solved".into()]), ..since("status_changed", 96.0, None) }],
            vec![ActionInput {
                to: Some("x".into()),
                ..ActionInput { add_tag: Some("bad tag".into()), ..Default::default() }
            }],
        )],
        vec![
            template("repeat", "x", "{{ ticket.subject * 100000000 }}"),
            template("double", "x", "{% set s = ticket.subject %}{{ s }}"),
        ],
    )
    .expect_err("refused");
    let fields: HashSet<String> = errors.0.iter().map(|e| e.field.clone()).collect();
    for field in [
        "automations[0] (mixed).conditions[0].is",
        "automations[0] (mixed).actions[0].to",
        "automations[0] (mixed).actions[0].add_tag",
        "templates.repeat.body",
        "templates.double.body",
    ] {
        assert!(fields.contains(field), "{field} not in {errors}");
    }
}
