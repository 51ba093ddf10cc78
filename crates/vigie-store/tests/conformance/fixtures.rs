//! Fixed instants, actors, and the few helpers that call the store, so that each story reads as
//! inputs and expected outcomes.

use jiff::Timestamp;
use vigie_core::directory::TeamInput;
use vigie_core::event::replay;
use vigie_core::{
    Actor, CommandError, ExpectedVersion, NewCommentInput, NewTicketInput, Role, TeamId, Ticket, TicketId,
    TicketPatchInput,
};
use vigie_store::{Committed, IdempotencyKey, Store, Submission, SubmitError, TicketCommand};

/// 2026-01-01T00:00:00Z: every story's time is minutes after it; no test reads the clock.
pub const EPOCH_SECOND: i64 = 1_767_225_600;

pub fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(EPOCH_SECOND + minutes * 60).expect("a 2026 instant is in range")
}

/// No SLA policy: the stories of this suite are about storage, not SLAs (see `sla.rs`).
pub fn no_rules() -> std::sync::Arc<vigie_core::Rules> {
    std::sync::Arc::new(vigie_core::Rules::empty())
}

pub fn team_id(id: &str) -> TeamId {
    TeamId::parse(id).expect("a valid team id")
}

pub fn ticket_id(id: &str) -> TicketId {
    TicketId::parse(id).expect("a valid ticket id")
}

pub fn lead() -> Actor {
    Actor { name: "lead-token".to_owned(), role: Role::Lead, teams: Vec::new() }
}

pub fn agent_of(name: &str, teams: &[&str]) -> Actor {
    Actor { name: name.to_owned(), role: Role::Agent, teams: teams.iter().map(|t| team_id(t)).collect() }
}

pub fn viewer() -> Actor {
    Actor { name: "viewer-token".to_owned(), role: Role::Viewer, teams: Vec::new() }
}

/// A valid new ticket; stories override the fields they care about.
pub fn ticket_input() -> NewTicketInput {
    NewTicketInput {
        subject: "Parcel lost".to_owned(),
        body: "Where is my parcel?".to_owned(),
        channel: "email".to_owned(),
        category: "delivery".to_owned(),
        priority: "P3".to_owned(),
        customer_id: "acme".to_owned(),
        ..NewTicketInput::default()
    }
}

pub async fn create(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    input: NewTicketInput,
) -> Result<Committed, SubmitError> {
    create_keyed(store, actor, now, input, None).await
}

pub async fn create_keyed(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    input: NewTicketInput,
    idempotency: Option<IdempotencyKey>,
) -> Result<Committed, SubmitError> {
    let new_ticket = input.parse().expect("the story's ticket input is valid");
    store
        .submit(Submission {
            command: TicketCommand::Create { new_ticket, idempotency },
            actor: actor.clone(),
            now,
            rules: no_rules(),
        })
        .await
}

/// Creates a ticket that must be accepted, and returns it.
pub async fn create_ok(store: &Store, actor: &Actor, now: Timestamp, input: NewTicketInput) -> Ticket {
    let committed = create(store, actor, now, input).await.expect("the create is accepted");
    assert!(!committed.replayed, "a create without idempotency key is never a replay");
    committed.ticket
}

pub async fn patch(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    id: &TicketId,
    expected: ExpectedVersion,
    input: TicketPatchInput,
) -> Result<Committed, SubmitError> {
    let patch = input.parse().expect("the story's patch input is valid");
    store
        .submit(Submission {
            command: TicketCommand::Patch { ticket_id: id.clone(), expected, patch },
            actor: actor.clone(),
            now,
            rules: no_rules(),
        })
        .await
}

/// Moves a ticket to `status` (with `If-Match: *`), which must be accepted.
pub async fn set_status(store: &Store, now: Timestamp, id: &TicketId, status: &str) -> Ticket {
    let input = TicketPatchInput { status: Some(status.to_owned()), ..TicketPatchInput::default() };
    patch(store, &lead(), now, id, ExpectedVersion::Any, input).await.expect("the status change is accepted").ticket
}

pub async fn comment(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    id: &TicketId,
    body: &str,
    public: bool,
) -> Result<Committed, SubmitError> {
    let comment = NewCommentInput { body: body.to_owned(), public }.parse().expect("the story's comment is valid");
    store
        .submit(Submission {
            command: TicketCommand::Comment { ticket_id: id.clone(), comment },
            actor: actor.clone(),
            now,
            rules: no_rules(),
        })
        .await
}

pub async fn create_team(store: &Store, id: &str, name: &str, calendar: Option<&str>) {
    let team = TeamInput { id: id.to_owned(), name: name.to_owned(), calendar: calendar.map(str::to_owned) }
        .parse()
        .expect("a valid team");
    store.create_team(&team, at(0)).await.expect("a new team is stored");
}

/// The stored ticket, which must exist.
pub async fn stored(store: &Store, id: &TicketId) -> Ticket {
    store.ticket(id).await.expect("the ticket can be read").unwrap_or_else(|| panic!("ticket {id} is stored"))
}

pub async fn event_count(store: &Store, id: &TicketId) -> usize {
    store.ticket_events(id).await.expect("the events can be read").len()
}

/// Replaying the stored events gives the stored ticket, and their versions are 1, 2, ... with
/// the events of one command sharing its version.
pub async fn assert_log_matches_projection(store: &Store, id: &TicketId) {
    let events = store.ticket_events(id).await.expect("the events can be read");
    let ticket = stored(store, id).await;
    let rebuilt = replay(&events).expect("the log replays").expect("the log creates the ticket");
    assert_eq!(rebuilt, ticket, "replaying {id}'s events gives the stored ticket");
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq), "{id}'s events are in seq order");
    assert!(
        events.windows(2).all(|w| w[1].version == w[0].version || w[1].version == w[0].version + 1),
        "{id}'s event versions grow by one per command"
    );
    assert!(events.iter().all(|e| e.ticket_id == *id), "{id}'s events all name it");
}

/// The command was refused with exactly `expected`.
#[track_caller]
pub fn assert_rejected(result: Result<Committed, SubmitError>, expected: &CommandError) {
    match result {
        Err(SubmitError::Rejected(error)) => assert_eq!(&error, expected),
        other => panic!("expected Rejected({expected:?}), got {other:?}"),
    }
}

/// The command was refused as invalid; the fields named, in order.
#[track_caller]
pub fn invalid_fields(result: Result<Committed, SubmitError>) -> Vec<String> {
    match result {
        Err(SubmitError::Rejected(CommandError::Invalid(errors))) => errors.0.into_iter().map(|e| e.field).collect(),
        other => panic!("expected Rejected(Invalid(..)), got {other:?}"),
    }
}
