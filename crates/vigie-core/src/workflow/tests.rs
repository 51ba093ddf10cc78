use super::*;
use crate::actor::Role;
use crate::automation::{ActionInput, AutomationRuleInput};
use crate::calendar::CalendarInput;
use crate::command::{NewTicketInput, TicketPatchInput};
use crate::event::replay;
use crate::ids::{AgentId, CustomerId, TicketId};
use crate::rules::RulesInput;
use crate::ticket::{CustomerTier, Status};

struct Directory;

impl DirectoryLookup for Directory {
    fn team_exists(&self, team: &TeamId) -> bool {
        ["front_office", "billing_ops"].contains(&team.as_str())
    }
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>> {
        match agent.as_str() {
            "ana" => Some(vec![TeamId::parse("front_office").expect("id")]),
            "bob" => Some(vec![TeamId::parse("billing_ops").expect("id")]),
            _ => None,
        }
    }
    fn customer_tier(&self, _: &CustomerId) -> Option<CustomerTier> {
        None
    }
    fn agent_skills(&self, _: &AgentId) -> Option<crate::directory::Skills> {
        Some(crate::directory::Skills::default())
    }
}

/// Monday 2026-03-02 09:00 in Paris (08:00 UTC) plus `hours`.
fn at(hours: f64) -> Timestamp {
    let start: Timestamp = "2026-03-02T08:00:00Z".parse().expect("instant");
    start + SignedDuration::from_secs_f64(hours * 3600.0)
}

fn office() -> (String, CalendarInput) {
    let day = vec!["09:00-17:00".to_owned()];
    let days = ["monday", "tuesday", "wednesday", "thursday", "friday"].map(|d| (d.to_owned(), day.clone())).to_vec();
    ("office".into(), CalendarInput { time_zone: "Europe/Paris".into(), days, ..Default::default() })
}

fn tag(tag: &str) -> ConditionInput {
    ConditionInput { tag: Some(tag.into()), ..Default::default() }
}

fn step(name: &str, team: &str, sla_hours: Option<f64>, requires: Vec<ConditionInput>) -> StepInput {
    StepInput { name: name.into(), team: team.into(), sla_hours, requires }
}

/// Billing disputes: the front office qualifies (4 business hours, hands over once tagged
/// `qualified`), billing ops investigates (8 h), the front office answers.
fn dispute() -> WorkflowInput {
    WorkflowInput {
        category: "billing_dispute".into(),
        calendar: Some("office".into()),
        steps: vec![
            step("qualify", "front_office", Some(4.0), vec![tag("qualified")]),
            step("investigate", "billing_ops", Some(8.0), Vec::new()),
            step("answer", "front_office", None, Vec::new()),
        ],
    }
}

fn parse(workflows: Vec<WorkflowInput>, automations: Vec<AutomationRuleInput>) -> Result<Rules, ValidationErrors> {
    let input = RulesInput { calendars: vec![office()], workflows, automations, ..Default::default() };
    input.parse(&|name| jiff::tz::TimeZone::get(name).ok())
}

fn rules() -> Rules {
    parse(vec![dispute()], Vec::new()).expect("valid rules")
}

fn agent(name: &str, team: &str) -> Actor {
    Actor { name: name.into(), role: Role::Agent, teams: vec![TeamId::parse(team).expect("id")] }
}

fn create(rules: &Rules, category: &str, now: Timestamp) -> Decision {
    let input = NewTicketInput {
        subject: "Charged twice".into(),
        channel: "email".into(),
        category: category.into(),
        priority: "P3".into(),
        customer_id: "acme".into(),
        ..Default::default()
    };
    decide::create(
        TicketId::parse("T-1").expect("id"),
        input.parse().expect("valid"),
        &Actor::system(),
        now,
        &Directory,
        rules,
    )
    .expect("created")
}

fn handoff(reason: &str, to: Option<&str>) -> Handoff {
    HandoffInput { reason: reason.into(), to_step: to.map(str::to_owned) }.parse().expect("valid handoff")
}

fn tagged(ticket: &Ticket, tag: &str, rules: &Rules) -> Ticket {
    let patch = TicketPatchInput { tags: Some(vec![tag.into()]), ..Default::default() }.parse().expect("valid");
    decide::patch(ticket, ExpectedVersion::Any, &patch, &Actor::system(), ticket.updated_at, &Directory, rules)
        .expect("tagged")
        .ticket
}

#[test]
fn a_request_starts_at_the_first_step_with_its_team() {
    let rules = rules();
    let created = create(&rules, "billing_dispute", at(0.0));
    assert_eq!(created.ticket.current_step(), Some("qualify"));
    assert_eq!(created.ticket.team.as_ref().map(TeamId::as_str), Some("front_office"));
    assert_eq!(created.ticket.step_since(), Some(at(0.0)));
    let other = create(&rules, "password", at(0.0));
    assert_eq!(other.ticket.current_step(), None);
    assert_eq!(other.ticket.team, None);
}

#[test]
fn a_handoff_moves_the_ticket_to_the_next_team_and_records_who_what_why() {
    let rules = rules();
    let mut ticket = create(&rules, "billing_dispute", at(0.0)).ticket;
    ticket.assignee = Some(AgentId::parse("ana").expect("id"));
    // Not qualified yet: refused, the missing check named.
    let refused = hand_over(
        &ticket,
        &ExpectedVersion::Any,
        &handoff("done", None),
        &agent("ana", "front_office"),
        at(1.0),
        &Directory,
        &rules,
    )
    .expect_err("requirements unmet");
    let CommandError::Invalid(errors) = refused else { panic!("expected invalid, got {refused:?}") };
    assert_eq!(errors.0[0].field, "requires[0]");
    assert_eq!(errors.0[0].reason, "step `qualify` hands over only when it has tag `qualified`");

    let ticket = tagged(&ticket, "qualified", &rules);
    let decision = hand_over(
        &ticket,
        &ExpectedVersion::Exactly(ticket.version),
        &handoff("amount confirmed, refund to check", None),
        &agent("ana", "front_office"),
        at(2.0),
        &Directory,
        &rules,
    )
    .expect("handed over");
    let after = &decision.ticket;
    assert_eq!(after.current_step(), Some("investigate"));
    assert_eq!(after.team.as_ref().map(TeamId::as_str), Some("billing_ops"));
    assert_eq!(after.assignee, None, "ana does not work for billing_ops");
    assert_eq!(after.step_since(), Some(at(2.0)));
    let kinds: Vec<&str> = decision.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["fields_changed", "handed_over"]);
    let last = decision.events.last().expect("event");
    assert_eq!(last.actor, "ana");
    assert_eq!(
        last.kind,
        EventKind::HandedOver {
            from: Some("qualify".into()),
            to: Some("investigate".into()),
            team: Some(TeamId::parse("billing_ops").expect("id")),
            reason: "amount confirmed, refund to check".into(),
        }
    );
    // The log replays to the same ticket.
    let mut log = vec![crate::event::Event {
        seq: 0,
        ticket_id: ticket.id.clone(),
        version: ticket.version,
        at: ticket.created_at,
        actor: "x".into(),
        kind: EventKind::TicketCreated(Box::new(ticket.clone())),
    }];
    log.extend(decision.events.clone());
    assert_eq!(replay(&log).expect("replays").as_ref(), Some(after));
}

#[test]
fn a_handoff_goes_back_but_never_skips_nor_runs_past_the_end() {
    let rules = rules();
    let ticket = tagged(&create(&rules, "billing_dispute", at(0.0)).ticket, "qualified", &rules);
    let actor = Actor::system();
    let go = |ticket: &Ticket, to: Option<&str>, now: f64| {
        hand_over(ticket, &ExpectedVersion::Any, &handoff("why", to), &actor, at(now), &Directory, &rules)
    };
    let skip = go(&ticket, Some("answer"), 1.0).expect_err("skips investigate");
    assert!(matches!(&skip, CommandError::Invalid(e) if e.0[0].field == "to_step" && e.0[0].reason.contains("skip")));
    let unknown = go(&ticket, Some("pay"), 1.0).expect_err("no such step");
    assert!(
        matches!(&unknown, CommandError::Invalid(e) if e.0[0].reason.contains("one of `qualify`, `investigate`, `answer`"))
    );
    let same = go(&ticket, Some("qualify"), 1.0).expect_err("already there");
    assert!(matches!(same, CommandError::Invalid(_)));

    let investigating = go(&ticket, None, 1.0).expect("next").ticket;
    // Sent back to qualify: no checks on the way back, the front office has it again.
    let back = go(&investigating, Some("qualify"), 2.0).expect("back").ticket;
    assert_eq!(back.current_step(), Some("qualify"));
    assert_eq!(back.team.as_ref().map(TeamId::as_str), Some("front_office"));
    let forward = go(&back, None, 3.0).expect("forward again").ticket;
    let answering = go(&forward, None, 4.0).expect("to answer").ticket;
    let end = go(&answering, None, 5.0).expect_err("last step");
    assert_eq!(
        end,
        CommandError::CannotHandOver("`answer` is the last step of the path: solve the ticket when it is done".into())
    );
    let plain = create(&rules, "password", at(0.0)).ticket;
    assert!(matches!(go(&plain, None, 1.0), Err(CommandError::CannotHandOver(why)) if why.contains("no workflow")));
}

#[test]
fn viewers_and_other_teams_cannot_hand_over() {
    let rules = rules();
    let ticket = tagged(&create(&rules, "billing_dispute", at(0.0)).ticket, "qualified", &rules);
    let viewer = Actor { name: "v".into(), role: Role::Viewer, teams: Vec::new() };
    assert!(matches!(
        hand_over(&ticket, &ExpectedVersion::Any, &handoff("x", None), &viewer, at(1.0), &Directory, &rules),
        Err(CommandError::Forbidden(_))
    ));
    // An agent of billing_ops does not see a ticket still with the front office.
    assert_eq!(
        hand_over(
            &ticket,
            &ExpectedVersion::Any,
            &handoff("x", None),
            &agent("bob", "billing_ops"),
            at(1.0),
            &Directory,
            &rules
        ),
        Err(CommandError::NotFound)
    );
    assert!(matches!(
        hand_over(
            &ticket,
            &ExpectedVersion::Exactly(99),
            &handoff("x", None),
            &Actor::system(),
            at(1.0),
            &Directory,
            &rules
        ),
        Err(CommandError::StaleVersion { .. })
    ));
    assert_eq!(
        HandoffInput { reason: "  ".into(), to_step: None }.parse().expect_err("empty reason").0[0].field,
        "reason"
    );
}

#[test]
fn a_new_category_puts_the_ticket_on_its_path_or_takes_it_off() {
    let rules = rules();
    let ticket = create(&rules, "password", at(0.0)).ticket;
    let recategorise = |ticket: &Ticket, category: &str| {
        let patch = TicketPatchInput { category: Some(category.into()), ..Default::default() }.parse().expect("valid");
        decide::patch(ticket, ExpectedVersion::Any, &patch, &Actor::system(), at(1.0), &Directory, &rules)
            .expect("patched")
            .ticket
    };
    let on = recategorise(&ticket, "billing_dispute");
    assert_eq!(on.current_step(), Some("qualify"));
    assert_eq!(on.team.as_ref().map(TeamId::as_str), Some("front_office"));
    let off = recategorise(&on, "password");
    assert_eq!(off.current_step(), None);
    assert_eq!(off.steps.len(), 2, "the stay in `qualify` ended when it left the path");
}

#[test]
fn the_path_shows_each_step_and_its_business_time_against_its_sla() {
    let rules = rules();
    let ticket = tagged(&create(&rules, "billing_dispute", at(0.0)).ticket, "qualified", &rules);
    // Qualified in 2 hours; investigated from Monday 11:00 to Tuesday 15:00 (6 + 6 = 12 business
    // hours, over its 8).
    let go = |ticket: &Ticket, now: f64| {
        hand_over(ticket, &ExpectedVersion::Any, &handoff("why", None), &Actor::system(), at(now), &Directory, &rules)
            .expect("handed over")
            .ticket
    };
    let investigating = go(&ticket, 2.0);
    let answering = go(&investigating, 24.0 + 6.0);
    let view = path(&answering, &rules, at(24.0 + 7.0)).expect("on a path");
    assert_eq!(view.current, Some(2));
    let hours = |d: SignedDuration| d.as_secs_f64() / 3600.0;
    assert_eq!(hours(view.steps[0].business_time), 2.0);
    assert_eq!(view.steps[0].over_sla, 0);
    assert_eq!(hours(view.steps[1].time), 28.0);
    assert_eq!(hours(view.steps[1].business_time), 12.0);
    assert_eq!(view.steps[1].over_sla, 1);
    assert_eq!(view.steps[2].visits, vec![Visit { entered: at(30.0), left: None }]);
    assert_eq!(hours(view.steps[2].time), 1.0);
    assert_eq!(view.steps[2].due_at, None, "answer has no step SLA");
    // In `investigate` at Monday 11:00, its 8 business hours end Tuesday 11:00.
    let view = path(&investigating, &rules, at(3.0)).expect("on a path");
    assert_eq!(view.steps[1].due_at, Some(at(24.0 + 2.0)));
}

#[test]
fn the_review_finds_the_step_that_holds_the_most_work() {
    let rules = rules();
    let new_ticket = |id: &str, hours: f64| {
        let mut ticket = create(&rules, "billing_dispute", at(hours)).ticket;
        ticket.id = TicketId::parse(id).expect("id");
        tagged(&ticket, "qualified", &rules)
    };
    let go = |ticket: &Ticket, now: f64| {
        hand_over(ticket, &ExpectedVersion::Any, &handoff("why", None), &Actor::system(), at(now), &Directory, &rules)
            .expect("handed over")
            .ticket
    };
    // Three wait in investigate, one in qualify; one went through investigate in 2 hours.
    let tickets = [
        go(&new_ticket("T-1", 0.0), 1.0),
        go(&new_ticket("T-2", 0.0), 2.0),
        go(&new_ticket("T-3", 0.0), 3.0),
        new_ticket("T-4", 4.0),
        go(&go(&new_ticket("T-5", 0.0), 1.0), 3.0),
    ];
    let figures = step_figures(
        tickets.iter().map(|t| StepsOf { category: &t.category, steps: &t.steps, resolved_at: t.resolved_at }),
        &rules.workflows,
        at(0.0),
        at(5.0),
    );
    let names: Vec<(&str, u64)> = figures.iter().map(|f| (f.step.as_str(), f.waiting)).collect();
    assert_eq!(names, [("qualify", 1), ("investigate", 3), ("answer", 1)]);
    let investigate = &figures[1];
    assert_eq!(investigate.done.map(|s| (s.count, s.p50)), Some((1, 120.0)));
    assert_eq!(investigate.waits.map(|s| s.p50), Some(180.0));
    assert_eq!(bottleneck(&figures).map(|f| f.step.as_str()), Some("investigate"));
    assert_eq!(longest_waits(&figures).map(|f| f.step.as_str()), Some("investigate"));
    assert_eq!(figures[0].done.map(|s| s.count), Some(4), "four left qualify in the window");
}

#[test]
fn a_bad_workflow_is_refused_with_the_step_and_field_named() {
    let mut bad = dispute();
    bad.calendar = Some("nowhere".into());
    bad.steps[1].team = "".into();
    bad.steps[1].sla_hours = Some(-1.0);
    bad.steps[2].name = "qualify".into();
    bad.steps[2].requires = vec![tag("done")];
    bad.steps[0].requires =
        vec![ConditionInput { field: Some("colour".into()), is: Some(vec![]), ..Default::default() }];
    let errors = parse(vec![bad], Vec::new()).expect_err("refused").0;
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "workflows.billing_dispute.calendar",
            "workflows.billing_dispute.steps[0] (qualify).requires[0].is",
            "workflows.billing_dispute.steps[1] (investigate).team",
            "workflows.billing_dispute.steps[1] (investigate).sla_hours",
            "workflows.billing_dispute.steps[2] (qualify).name",
            "workflows.billing_dispute.steps[2] (qualify).requires",
        ]
    );
    let short = WorkflowInput { steps: vec![step("only", "front_office", None, Vec::new())], ..dispute() };
    let errors = parse(vec![short], Vec::new()).expect_err("refused").0;
    assert_eq!(errors[0].field, "workflows.billing_dispute.steps");
    // Rules naming steps: only steps of some workflow.
    let hand = AutomationRuleInput {
        name: "escalate".into(),
        on: vec!["ticket_created".into()],
        conditions: vec![ConditionInput {
            field: Some("step".into()),
            is: Some(vec!["nowhere".into()]),
            ..Default::default()
        }],
        actions: vec![ActionInput { hand_over: Some("elsewhere".into()), ..Default::default() }],
    };
    let errors = parse(vec![dispute()], vec![hand]).expect_err("refused").0;
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["automations[0] (escalate).conditions[0].is[0]", "automations[0] (escalate).actions[0].hand_over"]
    );
}

#[test]
fn a_trigger_hands_over_when_the_step_is_done() {
    // When the front office tags a dispute `qualified`, it goes on by itself.
    let on_tag = AutomationRuleInput {
        name: "qualified-goes-on".into(),
        on: vec!["fields_changed".into()],
        conditions: vec![
            ConditionInput { field: Some("step".into()), is: Some(vec!["qualify".into()]), ..Default::default() },
            tag("qualified"),
        ],
        actions: vec![ActionInput { hand_over: Some("next".into()), ..Default::default() }],
    };
    let rules = parse(vec![dispute()], vec![on_tag]).expect("valid: moving on leaves `qualify`");
    let ticket = create(&rules, "billing_dispute", at(0.0)).ticket;
    let patch = TicketPatchInput { tags: Some(vec!["qualified".into()]), ..Default::default() }.parse().expect("ok");
    let decision = decide::patch(&ticket, ExpectedVersion::Any, &patch, &Actor::system(), at(1.0), &Directory, &rules)
        .map(|d| crate::automation::fire_triggers(d, at(1.0), &Directory, &rules))
        .expect("patched");
    assert_eq!(decision.ticket.current_step(), Some("investigate"));
    let handed = decision.events.iter().find(|e| e.kind.name() == "handed_over").expect("handed over");
    assert_eq!(handed.actor, "rule:qualified-goes-on");
    // A step condition reads the ticket as a rule does.
    assert_eq!(decision.ticket.status, Status::New);
}

#[test]
fn a_request_routed_to_a_later_steps_team_starts_there() {
    let rules = rules();
    let input = NewTicketInput {
        subject: "Refund".into(),
        channel: "email".into(),
        category: "billing_dispute".into(),
        priority: "P3".into(),
        customer_id: "acme".into(),
        team: Some("billing_ops".into()),
        ..Default::default()
    };
    let ticket = decide::create(
        TicketId::parse("T-9").expect("id"),
        input.parse().expect("valid"),
        &Actor::system(),
        at(0.0),
        &Directory,
        &rules,
    )
    .expect("created")
    .ticket;
    assert_eq!(ticket.current_step(), Some("investigate"));
}

#[test]
fn a_recorded_history_is_put_on_its_path_by_its_team_changes() {
    use crate::event::{Event, FieldChange};
    let rules = rules();
    let mut created = create(&Rules::empty(), "billing_dispute", at(0.0)).ticket;
    created.steps = Vec::new();
    let event = |version: i64, hours: f64, kind: EventKind| Event {
        seq: 0,
        ticket_id: created.id.clone(),
        version,
        at: at(hours),
        actor: "lead".into(),
        kind,
    };
    let team = |from: Option<&str>, to: &str| {
        EventKind::FieldsChanged(vec![FieldChange::Team {
            from: from.map(|t| TeamId::parse(t).expect("id")),
            to: Some(TeamId::parse(to).expect("id")),
        }])
    };
    let history = vec![
        event(1, 0.0, EventKind::TicketCreated(Box::new(created.clone()))),
        event(2, 1.0, team(None, "front_office")),
        event(3, 2.0, team(Some("front_office"), "billing_ops")),
        event(4, 5.0, team(Some("billing_ops"), "front_office")),
        event(5, 6.0, EventKind::StatusChanged { from: Status::New, to: Status::Solved }),
    ];
    let assigned = assign_steps(history.clone(), &rules);
    let moves: Vec<(Option<&str>, Option<&str>)> = assigned
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::HandedOver { from, to, .. } => Some((from.as_deref(), to.as_deref())),
            _ => None,
        })
        .collect();
    // Created without a team: at the first step; the front office keeps it; billing takes it
    // (investigate), the front office gets it back (answer, the next step it works).
    assert_eq!(moves, [(Some("qualify"), Some("investigate")), (Some("investigate"), Some("answer"))]);
    let ticket = replay(&assigned).expect("replays").expect("a ticket");
    let view = path(&ticket, &rules, at(10.0)).expect("on a path");
    let hours: Vec<f64> = view.steps.iter().map(|s| s.time.as_secs_f64() / 3600.0).collect();
    assert_eq!(hours, [2.0, 3.0, 1.0], "answer ended at the resolution");
    assert_eq!(view.current, None);
    assert_eq!(assign_steps(history.clone(), &Rules::empty()), history, "no workflow: unchanged");
}

#[test]
fn a_team_of_another_step_gets_the_ticket_only_by_a_handoff() {
    let rules = rules();
    let ticket = create(&rules, "billing_dispute", at(0.0)).ticket;
    let patch = TicketPatchInput { team: Some(Some("billing_ops".into())), ..Default::default() }.parse().expect("ok");
    let refused = decide::patch(&ticket, ExpectedVersion::Any, &patch, &Actor::system(), at(1.0), &Directory, &rules)
        .expect_err("skips the checks");
    let CommandError::Invalid(errors) = refused else { panic!("expected invalid, got {refused:?}") };
    assert_eq!(errors.0[0].field, "team");
    assert!(errors.0[0].reason.contains("works step `investigate`"), "{}", errors.0[0].reason);
    // Off a path, a team change is a team change.
    let plain = create(&rules, "password", at(0.0)).ticket;
    assert!(decide::patch(&plain, ExpectedVersion::Any, &patch, &Actor::system(), at(1.0), &Directory, &rules).is_ok());
}

#[test]
fn a_stay_on_one_path_never_counts_on_another() {
    let mut refund = dispute();
    refund.category = "refund".into();
    let rules = parse(vec![dispute(), refund], Vec::new()).expect("valid");
    let recategorise = |ticket: &Ticket, category: &str, status: Option<&str>, now: f64| {
        let patch = TicketPatchInput {
            category: Some(category.into()),
            status: status.map(str::to_owned),
            ..Default::default()
        }
        .parse()
        .expect("valid");
        decide::patch(ticket, ExpectedVersion::Any, &patch, &Actor::system(), at(now), &Directory, &rules)
            .expect("patched")
            .ticket
    };
    let dispute = create(&rules, "billing_dispute", at(0.0)).ticket;
    let refund = recategorise(&dispute, "refund", None, 2.0);
    assert_eq!(refund.current_step(), Some("qualify"));
    let view = path(&refund, &rules, at(3.0)).expect("on the refund path");
    assert_eq!(view.steps[0].visits, vec![Visit { entered: at(2.0), left: None }], "the dispute's stay is not counted");
    // A solved ticket recategorised stays off every path.
    let solved = recategorise(&refund, "billing_dispute", Some("solved"), 4.0);
    assert_eq!(solved.steps.len(), refund.steps.len() + 1, "it left the refund path, and entered none");
    assert_eq!(solved.current_step(), None);
    assert!(path(&solved, &rules, at(5.0)).expect("a workflow").steps.iter().all(|s| s.visits.is_empty()));
}

#[test]
fn a_step_of_a_removed_workflow_is_no_step_for_the_rules() {
    use crate::automation::Facts;
    let rules = rules();
    let ticket = create(&rules, "billing_dispute", at(0.0)).ticket;
    let condition = || {
        let input = AutomationRuleInput {
            name: "r".into(),
            on: vec!["ticket_created".into()],
            conditions: vec![ConditionInput { field: Some("step".into()), set: Some(true), ..Default::default() }],
            actions: vec![ActionInput { add_tag: Some("x".into()), ..Default::default() }],
        };
        let rules = parse(vec![dispute()], vec![input]).expect("valid");
        let rule = rules.automations.rules[0].clone();
        rule.conditions[0].clone()
    };
    let on_path = condition();
    assert_eq!(ticket.step(), Some("qualify"));
    assert!(on_path.holds(&ticket, at(1.0), &rules));
    assert!(!on_path.holds(&ticket, at(1.0), &Rules::empty()), "the workflow was removed");
    assert_eq!(on_path.describe(), "the ticket has a step");
    let no_assignee = crate::automation::Condition::IsSet(crate::automation::SettableField::Assignee, false);
    assert_eq!(no_assignee.describe(), "the ticket has no assignee");
}

#[test]
fn a_rule_on_step_entered_fires_once_per_stay_and_others_once_per_status() {
    let since = |anchor: &str, hours: f64| ConditionInput {
        since: Some(anchor.into()),
        hours: Some(hours),
        ..Default::default()
    };
    let time_rule = |name: &str, anchor: &str, tag: &str| AutomationRuleInput {
        name: name.into(),
        on: vec!["time".into()],
        conditions: vec![since(anchor, 2.0)],
        actions: vec![ActionInput { add_tag: Some(tag.into()), ..Default::default() }],
    };
    let rules = parse(
        vec![dispute()],
        vec![time_rule("step-late", "step_entered", "step-late"), time_rule("status-late", "status_changed", "late")],
    )
    .expect("valid");
    let fire = |ticket: &Ticket, rule: &str, now: f64| {
        crate::automation::automate(ticket, rule, at(now), &Directory, &rules).expect("decided").ticket
    };
    let ticket = create(&rules, "billing_dispute", at(0.0)).ticket;
    let ticket = fire(&fire(&ticket, "step-late", 3.0), "status-late", 3.0);
    assert_eq!(ticket.rules_applied.len(), 2, "{:?}", ticket.rules_applied);
    assert!(ticket.rules_applied[0].starts_with("step-late@"));
    let again = fire(&fire(&ticket, "step-late", 4.0), "status-late", 4.0);
    assert_eq!(again.rules_applied, ticket.rules_applied, "once per stay, once per status");
    // Handed over (same status): the step rule fires again in the new stay, the other does not.
    let ticket = tagged(&again, "qualified", &rules);
    let handed =
        hand_over(&ticket, &ExpectedVersion::Any, &handoff("why", None), &Actor::system(), at(5.0), &Directory, &rules)
            .expect("handed over")
            .ticket;
    let later = fire(&fire(&handed, "step-late", 8.0), "status-late", 8.0);
    assert_eq!(later.rules_applied.len(), 3, "{:?}", later.rules_applied);
}

#[test]
fn a_rule_cannot_move_tickets_on_a_path_to_another_steps_team() {
    let route = |conditions: Vec<ConditionInput>| AutomationRuleInput {
        name: "route".into(),
        on: vec!["ticket_created".into()],
        conditions,
        actions: vec![ActionInput { set: Some("team".into()), to: Some("billing_ops".into()), ..Default::default() }],
    };
    let errors = parse(vec![dispute()], vec![route(Vec::new())]).expect_err("refused").0;
    assert_eq!(errors[0].field, "automations[0] (route).actions[0].to");
    assert!(
        errors[0].reason.contains("works step `investigate` of the `billing_dispute` path"),
        "{}",
        errors[0].reason
    );
    let elsewhere = ConditionInput {
        field: Some("category".into()),
        is_not: Some(vec!["billing_dispute".into()]),
        ..Default::default()
    };
    assert!(parse(vec![dispute()], vec![route(vec![elsewhere])]).is_ok(), "kept off the path");
}

#[test]
fn what_a_new_user_tried_is_refused_or_consistent() {
    // A step SLA under a minute is a typo.
    let mut tiny = dispute();
    tiny.steps[1].sla_hours = Some(0.0001);
    let errors = parse(vec![tiny], Vec::new()).expect_err("refused").0;
    assert_eq!(errors[0].field, "workflows.billing_dispute.steps[1] (investigate).sla_hours");
    // An empty target is not "the next step".
    let empty = HandoffInput { reason: "x".into(), to_step: Some(" ".into()) }.parse().expect_err("refused");
    assert_eq!(empty.0[0].field, "to_step");
    // A rule kept to one category cannot hand over to a step of another path.
    let mut refund = dispute();
    refund.category = "refund".into();
    refund.steps[1].name = "pay".into();
    let hand = AutomationRuleInput {
        name: "jump".into(),
        on: vec!["comment_added".into()],
        conditions: vec![ConditionInput {
            field: Some("category".into()),
            is: Some(vec!["billing_dispute".into()]),
            ..Default::default()
        }],
        actions: vec![ActionInput { hand_over: Some("pay".into()), ..Default::default() }],
    };
    let errors = parse(vec![dispute(), refund], vec![hand]).expect_err("refused").0;
    assert_eq!(errors[0].field, "automations[0] (jump).actions[0].hand_over");
    // A ticket recategorised enters at the step its team works, as a new ticket does.
    let rules = rules();
    let mut ticket = create(&rules, "password", at(0.0)).ticket;
    ticket.team = Some(TeamId::parse("billing_ops").expect("id"));
    let patch =
        TicketPatchInput { category: Some("billing_dispute".into()), ..Default::default() }.parse().expect("ok");
    let moved = decide::patch(&ticket, ExpectedVersion::Any, &patch, &Actor::system(), at(1.0), &Directory, &rules)
        .expect("patched")
        .ticket;
    assert_eq!(moved.current_step(), Some("investigate"));
    assert_eq!(moved.team.as_ref().map(TeamId::as_str), Some("billing_ops"));
}
