use std::collections::HashSet;

use proptest::prelude::*;

use super::*;
use crate::actor::Role;
use crate::command::{NewCommentInput, NewTicketInput, TicketPatchInput};
use crate::event::{SimilarTicket, replay};
use crate::ticket::Priority;

struct Directory {
    teams: HashSet<&'static str>,
    agents: HashSet<&'static str>,
}

/// Ana works front office; Bob works both teams.
fn teams_of(agent: &str) -> Option<Vec<TeamId>> {
    let teams: &[&str] = match agent {
        "ana" => &["front_office"],
        "bob" => &["front_office", "back_office"],
        _ => return None,
    };
    Some(teams.iter().map(|t| TeamId::parse(*t).expect("valid id")).collect())
}

impl DirectoryLookup for Directory {
    fn team_exists(&self, team: &TeamId) -> bool {
        self.teams.contains(team.as_str())
    }
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>> {
        if self.agents.contains(agent.as_str()) { teams_of(agent.as_str()) } else { None }
    }
    fn customer_tier(&self, customer: &CustomerId) -> Option<CustomerTier> {
        (customer.as_str() == "bigco").then_some(CustomerTier::Strategic)
    }
    fn agent_skills(&self, agent: &AgentId) -> Option<crate::directory::Skills> {
        self.agents.contains(agent.as_str()).then(crate::directory::Skills::default)
    }
}

fn rules() -> Rules {
    Rules::empty()
}

fn directory() -> Directory {
    Directory { teams: ["front_office", "back_office"].into(), agents: ["ana", "bob"].into() }
}

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_770_000_000 + minutes * 60).expect("valid instant")
}

fn actor(role: Role, teams: &[&str]) -> Actor {
    Actor {
        name: format!("{role}-token"),
        role,
        teams: teams.iter().map(|t| TeamId::parse(*t).expect("valid id")).collect(),
    }
}

fn new_ticket(team: Option<&str>, customer: &str) -> NewTicket {
    NewTicketInput {
        subject: "Parcel lost".into(),
        body: "Where is it?".into(),
        channel: "email".into(),
        category: "delivery".into(),
        priority: "P3".into(),
        customer_id: customer.into(),
        team: team.map(str::to_owned),
        ..Default::default()
    }
    .parse()
    .expect("valid ticket")
}

fn created(team: Option<&str>) -> Ticket {
    let id = TicketId::from_number(1);
    create(id, new_ticket(team, "acme"), &actor(Role::Lead, &[]), at(0), &directory(), &rules())
        .expect("created")
        .ticket
}

fn patch_of(input: TicketPatchInput) -> TicketPatch {
    input.parse().expect("valid patch")
}

#[test]
fn create_takes_the_customers_tier_and_starts_new() {
    let decision = create(
        TicketId::from_number(7),
        new_ticket(Some("front_office"), "bigco"),
        &actor(Role::Agent, &["front_office"]),
        at(0),
        &directory(),
        &rules(),
    )
    .expect("created");
    assert_eq!(decision.ticket.customer_tier, CustomerTier::Strategic);
    assert_eq!(decision.ticket.status, Status::New);
    assert_eq!(decision.ticket.version, 1);
    assert_eq!(decision.events.len(), 1);
    assert_eq!(decision.events[0].kind.name(), "ticket_created");
}

#[test]
fn likely_duplicates_found_at_intake_are_recorded_beside_the_creation() {
    let mut ticket = new_ticket(None, "acme");
    ticket.similar =
        vec![SimilarTicket::new(TicketId::from_number(3), 0.9234), SimilarTicket::new(TicketId::from_number(5), 0.71)];
    let decision = create(TicketId::from_number(7), ticket, &actor(Role::Lead, &[]), at(0), &directory(), &rules())
        .expect("created");
    assert_eq!(decision.events.len(), 2);
    let EventKind::DuplicatesSuggested { similar } = &decision.events[1].kind else { panic!("{:?}", decision.events) };
    assert_eq!(similar[0].score_permille, 923);
    assert_eq!(similar[1].score(), 0.71);
    assert_eq!(decision.events[1].version, 1, "a suggestion is not a change of the ticket");
    assert_eq!(replay(&decision.events).expect("replays"), Some(decision.ticket));
}

#[test]
fn merging_closes_the_duplicate_and_records_both_sides() {
    let lead = actor(Role::Lead, &[]);
    let source = created(Some("front_office"));
    let target =
        create(TicketId::from_number(2), new_ticket(Some("back_office"), "acme"), &lead, at(0), &directory(), &rules())
            .expect("created")
            .ticket;
    let (merged, joined) =
        merge(&source, &ExpectedVersion::Any, Some(&target), &lead, at(5), &rules()).expect("merged");
    let kinds: Vec<&str> = merged.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["merged_into", "status_changed", "status_changed"]);
    assert_eq!(merged.ticket.status, Status::Closed);
    assert_eq!(merged.ticket.resolved_at, Some(at(5)));
    assert_eq!(merged.ticket.version, 2);
    assert_eq!(joined.events[0].kind, EventKind::MergedFrom { from: source.id.clone() });
    assert_eq!(joined.ticket.version, 2);
    assert_eq!(joined.ticket.status, target.status, "the target carries on");
    let mut log = vec![];
    log.extend(
        create(source.id.clone(), new_ticket(Some("front_office"), "acme"), &lead, at(0), &directory(), &rules())
            .expect("c")
            .events,
    );
    log.extend(merged.events.clone());
    assert_eq!(replay(&log).expect("replays"), Some(merged.ticket.clone()));

    let field = |error: CommandError| match error {
        CommandError::Invalid(errors) => errors.0[0].field.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(merge(&source, &ExpectedVersion::Any, Some(&source), &lead, at(5), &rules()).expect_err("itself")),
        "into"
    );
    assert_eq!(
        field(merge(&target, &ExpectedVersion::Any, Some(&merged.ticket), &lead, at(6), &rules()).expect_err("closed")),
        "into"
    );
    assert!(matches!(
        merge(&merged.ticket, &ExpectedVersion::Any, Some(&target), &lead, at(6), &rules()),
        Err(CommandError::Closed)
    ));
    let ana = actor(Role::Agent, &["front_office"]);
    assert_eq!(
        field(merge(&source, &ExpectedVersion::Any, Some(&target), &ana, at(5), &rules()).expect_err("unseen")),
        "into"
    );
    assert!(matches!(
        merge(&target, &ExpectedVersion::Any, Some(&source), &ana, at(5), &rules()),
        Err(CommandError::NotFound)
    ));
    assert!(
        matches!(merge(&target, &ExpectedVersion::Any, None, &ana, at(5), &rules()), Err(CommandError::NotFound)),
        "the source first"
    );
    assert_eq!(
        field(merge(&source, &ExpectedVersion::Any, None, &lead, at(5), &rules()).expect_err("no target")),
        "into"
    );
    let stale = merge(&source, &ExpectedVersion::Exactly(7), Some(&target), &lead, at(5), &rules());
    assert!(matches!(stale, Err(CommandError::StaleVersion { current: 1 })));
}

#[test]
fn create_refusals_name_the_field() {
    let dir = directory();
    let refused = |team: Option<&str>, who: &Actor| {
        create(TicketId::from_number(1), new_ticket(team, "acme"), who, at(0), &dir, &rules()).expect_err("refused")
    };
    let agent = actor(Role::Agent, &["front_office"]);
    assert_eq!(
        refused(Some("nowhere"), &agent),
        CommandError::Invalid(ValidationErrors::one("team", "`nowhere` does not exist"))
    );
    assert_eq!(
        refused(Some("back_office"), &agent),
        CommandError::Invalid(ValidationErrors::one("team", "must be one of your teams"))
    );
    assert!(matches!(refused(None, &agent), CommandError::Invalid(_)));
    assert_eq!(refused(None, &actor(Role::Viewer, &[])), CommandError::Forbidden("viewers cannot create tickets"));
}

#[test]
fn patch_checks_version_lifecycle_and_scope() {
    let ticket = created(Some("front_office"));
    let lead = actor(Role::Lead, &[]);
    let dir = directory();
    let solve = patch_of(TicketPatchInput { status: Some("solved".into()), ..Default::default() });

    assert_eq!(
        patch(&ticket, ExpectedVersion::Exactly(9), &solve, &lead, at(5), &dir, &rules()),
        Err(CommandError::StaleVersion { current: 1 })
    );
    let solved =
        patch(&ticket, ExpectedVersion::Exactly(1), &solve, &lead, at(5), &dir, &rules()).expect("solved").ticket;
    assert_eq!(solved.version, 2);
    assert_eq!(solved.resolved_at, Some(at(5)));

    let back_to_pending = patch_of(TicketPatchInput { status: Some("pending_customer".into()), ..Default::default() });
    assert_eq!(
        patch(&solved, ExpectedVersion::Any, &back_to_pending, &lead, at(6), &dir, &rules()),
        Err(CommandError::IllegalTransition { from: Status::Solved, to: Status::PendingCustomer })
    );
    let reopen = patch_of(TicketPatchInput { status: Some("open".into()), ..Default::default() });
    let reopened =
        patch(&solved, ExpectedVersion::Any, &reopen, &lead, at(7), &dir, &rules()).expect("reopened").ticket;
    assert_eq!(reopened.resolved_at, None);

    let close = patch_of(TicketPatchInput { status: Some("closed".into()), ..Default::default() });
    let closed = patch(&solved, ExpectedVersion::Any, &close, &lead, at(8), &dir, &rules()).expect("closed").ticket;
    assert_eq!(closed.resolved_at, Some(at(5)), "closing keeps the resolution time");
    assert_eq!(patch(&closed, ExpectedVersion::Any, &reopen, &lead, at(9), &dir, &rules()), Err(CommandError::Closed));

    let other_agent = actor(Role::Agent, &["back_office"]);
    assert_eq!(
        patch(&ticket, ExpectedVersion::Any, &solve, &other_agent, at(5), &dir, &rules()),
        Err(CommandError::NotFound)
    );
}

#[test]
fn unchanged_patch_records_nothing() {
    let ticket = created(Some("front_office"));
    let same = patch_of(TicketPatchInput { priority: Some("P3".into()), ..Default::default() });
    let decision = patch(&ticket, ExpectedVersion::Any, &same, &actor(Role::Lead, &[]), at(1), &directory(), &rules())
        .expect("accepted");
    assert!(decision.events.is_empty());
    assert_eq!(decision.ticket, ticket);
}

#[test]
fn first_public_agent_comment_is_the_first_response() {
    let ticket = created(Some("front_office"));
    let agent = actor(Role::Agent, &["front_office"]);
    let internal = NewCommentInput { body: "checking".into(), public: false }.parse().expect("valid");
    let public = NewCommentInput { body: "On it".into(), public: true }.parse().expect("valid");
    let after_note = comment(&ticket, &internal, &agent, at(3), &rules()).expect("noted").ticket;
    assert_eq!(after_note.first_response_at, None);
    let answered = comment(&after_note, &public, &agent, at(4), &rules()).expect("answered").ticket;
    assert_eq!(answered.first_response_at, Some(at(4)));
    let again = comment(&answered, &public, &agent, at(9), &rules()).expect("answered again").ticket;
    assert_eq!(again.first_response_at, Some(at(4)));
    assert_eq!(again.version, 4);
}

fn arb_patch() -> impl Strategy<Value = TicketPatchInput> {
    let status = prop::option::of(prop::sample::select(Status::ALL.to_vec()).prop_map(|s| s.as_str().to_owned()));
    let priority = prop::option::of(prop::sample::select(Priority::ALL.to_vec()).prop_map(|p| p.as_str().to_owned()));
    let team = prop::option::of(prop::option::of(prop::sample::select(vec!["front_office", "back_office"])));
    let assignee = prop::option::of(prop::option::of(prop::sample::select(vec!["ana", "bob"])));
    let flags = (prop::option::of(any::<bool>()), prop::option::of(any::<bool>()));
    let csat = prop::option::of(prop::option::of(1i64..=5));
    (status, priority, team, assignee, flags, csat).prop_map(|(status, priority, team, assignee, flags, csat)| {
        TicketPatchInput {
            status,
            priority,
            team: team.map(|t| t.map(str::to_owned)),
            assignee: assignee.map(|a| a.map(str::to_owned)),
            legal_risk: flags.0,
            blocking: flags.1,
            csat,
            ..Default::default()
        }
    })
}

proptest! {
    /// The projection kept by `decide` always equals the replay of the recorded events, and the
    /// version counts the commands that changed something.
    #[test]
    fn replaying_the_log_gives_the_projection(patches in prop::collection::vec(arb_patch(), 0..30)) {
        let lead = actor(Role::Lead, &[]);
        let dir = directory();
        let first = create(TicketId::from_number(1), new_ticket(Some("front_office"), "acme"), &lead, at(0), &dir, &rules())
            .expect("created");
        let mut log = first.events;
        let mut ticket = first.ticket;
        let mut n_changes = 1;
        for (idx, input) in patches.into_iter().enumerate() {
            let minutes = i64::try_from(idx).expect("small") + 1;
            if let Ok(decision) = patch(&ticket, ExpectedVersion::Any, &patch_of(input), &lead, at(minutes), &dir, &rules()) {
                if !decision.events.is_empty() {
                    n_changes += 1;
                }
                log.extend(decision.events);
                ticket = decision.ticket;
            }
        }
        prop_assert_eq!(replay(&log).expect("replays"), Some(ticket.clone()));
        prop_assert_eq!(ticket.version, n_changes);
        prop_assert_eq!(ticket.resolved_at.is_some(), !ticket.status.is_open());
    }
}

#[test]
fn an_assignee_must_work_for_the_tickets_team() {
    let lead = actor(Role::Lead, &[]);
    let dir = directory();
    let ticket = created(Some("back_office"));
    let assign = |agent: &str| patch_of(TicketPatchInput { assignee: Some(Some(agent.into())), ..Default::default() });
    assert_eq!(
        patch(&ticket, ExpectedVersion::Any, &assign("ana"), &lead, at(1), &dir, &rules()),
        Err(CommandError::Invalid(ValidationErrors::one("assignee", "`ana` does not work for team `back_office`")))
    );
    let assigned =
        patch(&ticket, ExpectedVersion::Any, &assign("bob"), &lead, at(1), &dir, &rules()).expect("bob works there");
    assert_eq!(assigned.ticket.assignee.as_ref().map(AgentId::as_str), Some("bob"));

    // Handing the ticket to a team its assignee does not work for unassigns it.
    let ana_ticket =
        patch(&created(Some("front_office")), ExpectedVersion::Any, &assign("ana"), &lead, at(1), &dir, &rules())
            .expect("ana works front office")
            .ticket;
    let hand_over = patch_of(TicketPatchInput { team: Some(Some("back_office".into())), ..Default::default() });
    let handed =
        patch(&ana_ticket, ExpectedVersion::Any, &hand_over, &lead, at(2), &dir, &rules()).expect("handed over");
    assert_eq!(handed.ticket.assignee, None);
    assert_eq!(handed.ticket.team.as_ref().map(TeamId::as_str), Some("back_office"));

    let no_team = created(None);
    assert!(matches!(
        patch(&no_team, ExpectedVersion::Any, &assign("ana"), &lead, at(1), &dir, &rules()),
        Err(CommandError::Invalid(_))
    ));
}

#[test]
fn answering_a_new_ticket_opens_it() {
    let ticket = created(Some("front_office"));
    let public = NewCommentInput { body: "On it".into(), public: true }.parse().expect("valid");
    let answered =
        comment(&ticket, &public, &actor(Role::Agent, &["front_office"]), at(2), &rules()).expect("answered");
    assert_eq!(answered.ticket.status, Status::Open);
    assert_eq!(answered.events.len(), 2);
    assert!(answered.events.iter().all(|event| event.version == 2));
}

#[test]
fn if_match_lists_and_weak_tags() {
    let ticket = created(Some("front_office"));
    let lead = actor(Role::Lead, &[]);
    let change = patch_of(TicketPatchInput { priority: Some("P1".into()), ..Default::default() });
    assert!(patch(&ticket, ExpectedVersion::OneOf(vec![0, 1]), &change, &lead, at(1), &directory(), &rules()).is_ok());
    assert_eq!(
        patch(&ticket, ExpectedVersion::OneOf(Vec::new()), &change, &lead, at(1), &directory(), &rules()),
        Err(CommandError::StaleVersion { current: 1 })
    );
}

/// Rules with one policy: delivery tickets answered within 60 minutes and solved within 600,
/// P1 within 10 and 60, on calendar time.
fn sla_rules() -> Rules {
    use crate::rules::{RulesInput, SlaInput, SlaPolicyInput};
    let policy = |name: &str, priority: &str, first: i64, resolution: i64| SlaPolicyInput {
        name: name.into(),
        category: "delivery".into(),
        priority: priority.into(),
        first_response_minutes: Some(first),
        resolution_minutes: Some(resolution),
        ..Default::default()
    };
    RulesInput {
        sla: SlaInput {
            policies: vec![policy("delivery", "*", 60, 600), policy("delivery-p1", "P1", 10, 60)],
            at_risk_minutes: Some(30),
            ..Default::default()
        },
        ..Default::default()
    }
    .parse(&|_| None)
    .expect("valid rules")
}

fn created_with_sla() -> Ticket {
    let lead = actor(Role::Lead, &[]);
    create(TicketId::from_number(1), new_ticket(Some("front_office"), "acme"), &lead, at(0), &directory(), &sla_rules())
        .expect("created")
        .ticket
}

#[test]
fn targets_follow_the_ticket() {
    let rules = sla_rules();
    let ticket = created_with_sla();
    assert_eq!(ticket.sla_targets.as_ref().map(|t| t.policy.as_str()), Some("delivery"));
    assert_eq!(ticket.status_history, vec![StatusSince { status: Status::New, since: at(0) }]);
    let urgent = patch_of(TicketPatchInput { priority: Some("P1".into()), ..Default::default() });
    let decision = patch(&ticket, ExpectedVersion::Any, &urgent, &actor(Role::Lead, &[]), at(5), &directory(), &rules)
        .expect("accepted");
    let kinds: Vec<&str> = decision.events.iter().map(|e| e.kind.name()).collect();
    // The P1 first response (10 minutes) is inside the half hour of warning at once.
    assert_eq!(kinds, vec!["fields_changed", "sla_applied", "sla_at_risk"]);
    assert_eq!(decision.ticket.version, 2, "one change, one version");
    assert_eq!(decision.ticket.sla_targets.as_ref().map(|t| t.policy.as_str()), Some("delivery-p1"));
}

#[test]
fn breaches_are_recorded_once_without_moving_the_version() {
    let rules = sla_rules();
    let ticket = created_with_sla();
    // The first response is due at 60 minutes, warned about from 30.
    let early = check_sla(&ticket, at(29), &rules).expect("checked");
    assert!(early.events.is_empty());
    let warned = check_sla(&ticket, at(31), &rules).expect("checked");
    let kinds: Vec<&str> = warned.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, vec!["sla_at_risk"]);
    assert_eq!((warned.ticket.version, warned.ticket.updated_at), (1, at(0)), "bookkeeping moves neither");
    assert!(check_sla(&warned.ticket, at(32), &rules).expect("checked").events.is_empty(), "warned once");
    let breached = check_sla(&warned.ticket, at(61), &rules).expect("checked");
    let kinds: Vec<&str> = breached.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, vec!["sla_breached"]);
    assert_eq!(breached.events[0].actor, "system");
    assert!(check_sla(&breached.ticket, at(62), &rules).expect("checked").events.is_empty(), "breached once");
    // A change made after the deadline records the breach itself if the scheduler has not.
    let answer = NewCommentInput { body: "Found it".into(), public: true }.parse().expect("valid");
    let late = comment(&warned.ticket, &answer, &actor(Role::Lead, &[]), at(90), &rules).expect("answered");
    let kinds: Vec<&str> = late.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, vec!["comment_added", "status_changed", "sla_breached"]);
    assert_eq!(
        replay(&[first_event(&ticket), warned.events.clone(), late.events.clone()].concat())
            .ok()
            .flatten()
            .map(|t| t.sla_marks),
        Some(late.ticket.sla_marks)
    );
}

fn first_event(ticket: &Ticket) -> Vec<Event> {
    vec![Event {
        seq: 0,
        ticket_id: ticket.id.clone(),
        version: 1,
        at: ticket.created_at,
        actor: "x".into(),
        kind: EventKind::TicketCreated(Box::new(ticket.clone())),
    }]
}

#[test]
fn claims_take_unassigned_workable_tickets() {
    let rules = sla_rules();
    let lead = actor(Role::Lead, &[]);
    let ana = AgentId::parse("ana").expect("valid id");
    let ticket = created_with_sla();
    let claimed = claim(&ticket, &ana, &lead, at(1), &directory(), &rules).expect("claimed");
    assert_eq!(claimed.ticket.assignee, Some(ana.clone()));
    assert_eq!(claimed.ticket.status, Status::Open, "someone is on it");
    assert_eq!(
        claim(&claimed.ticket, &ana, &lead, at(2), &directory(), &rules),
        Err(CommandError::NotClaimable("it is assigned already"))
    );
    let waiting = patch_of(TicketPatchInput { status: Some("pending_customer".into()), ..Default::default() });
    let pending = patch(&ticket, ExpectedVersion::Any, &waiting, &lead, at(1), &directory(), &rules).expect("pending");
    assert_eq!(
        claim(&pending.ticket, &ana, &lead, at(2), &directory(), &rules),
        Err(CommandError::NotClaimable("it is not waiting to be worked (new or open)"))
    );
    let back_office = patch_of(TicketPatchInput { team: Some(Some("back_office".into())), ..Default::default() });
    let elsewhere =
        patch(&ticket, ExpectedVersion::Any, &back_office, &lead, at(1), &directory(), &rules).expect("moved");
    assert!(matches!(
        claim(&elsewhere.ticket, &ana, &lead, at(2), &directory(), &rules),
        Err(CommandError::Invalid(_))
    ));
}
