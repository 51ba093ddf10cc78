//! The life of one ticket: create, patch (version checks, lifecycle), comment.

use jiff::Timestamp;
use vigie_core::event::replay;
use vigie_core::{
    Channel, CommandError, CustomerTier, EventKind, ExpectedVersion, NewTicketInput, Priority, Status, TicketPatchInput,
};
use vigie_store::Store;

use crate::fixtures::*;

pub async fn story_create(store: &Store) {
    let input = NewTicketInput {
        subject: "  Facture payée deux fois  ".to_owned(),
        body: "Bonjour,\nj'ai payé \"deux fois\"; merci — 👍\n".to_owned(),
        channel: "chat".to_owned(),
        category: "billing".to_owned(),
        priority: "P2".to_owned(),
        customer_id: "acme".to_owned(),
        tags: vec!["vip".to_owned(), "refund".to_owned()],
        legal_risk: true,
        ..NewTicketInput::default()
    };
    let committed = create(store, &lead(), at(0), input).await.expect("a valid ticket is accepted");
    assert!(!committed.replayed);
    let ticket = &committed.ticket;
    assert_eq!(ticket.id.as_str(), "T-1", "the first ticket of a fresh store");
    assert_eq!(ticket.version, 1);
    assert_eq!(ticket.status, Status::New);
    assert_eq!((ticket.created_at, ticket.updated_at), (at(0), at(0)));
    assert_eq!((ticket.first_response_at, ticket.resolved_at), (None, None));
    assert_eq!(ticket.subject, "Facture payée deux fois");
    assert_eq!(ticket.body, "Bonjour,\nj'ai payé \"deux fois\"; merci — 👍\n");
    assert_eq!((ticket.channel, ticket.priority, ticket.category.as_str()), (Channel::Chat, Priority::P2, "billing"));
    assert_eq!(ticket.customer_tier, CustomerTier::Standard);
    assert_eq!(ticket.tags, ["vip", "refund"]);
    assert!(ticket.legal_risk && !ticket.blocking);

    let stored_ticket = stored(store, &ticket.id).await;
    assert_eq!(&stored_ticket, ticket, "the acknowledged ticket is the stored one");

    let events = store.ticket_events(&ticket.id).await.expect("the events can be read");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.kind.name(), "ticket_created");
    assert!(event.seq > 0, "a stored event has a real sequence number, got {}", event.seq);
    assert_eq!((event.version, event.at, event.actor.as_str()), (1, at(0), "lead-token"));
    assert_eq!(event.ticket_id, ticket.id);
    assert_eq!(events, committed.events, "the acknowledged events are the stored ones, seqs included");
    assert_eq!(replay(&events).expect("the log replays"), Some(stored_ticket));

    assert_eq!(store.count_tickets().await.expect("count"), 1);
    store.ping().await.expect("the database answers");
    let missing = ticket_id("T-999");
    assert_eq!(store.ticket(&missing).await.expect("a read of a missing ticket succeeds"), None);
    assert!(store.ticket_events(&missing).await.expect("a read of a missing history succeeds").is_empty());
}

pub async fn story_patch(store: &Store) {
    let id = create_ok(store, &lead(), at(0), ticket_input()).await.id;

    // A change for the current version is applied and makes the next version.
    let change = TicketPatchInput {
        status: Some("open".to_owned()),
        priority: Some("P1".to_owned()),
        tags: Some(vec!["urgent".to_owned()]),
        ..TicketPatchInput::default()
    };
    let v2 = patch(store, &lead(), at(5), &id, ExpectedVersion::Exactly(1), change).await.expect("v1 is current");
    assert_eq!(v2.ticket.version, 2);
    assert_eq!((v2.ticket.status, v2.ticket.priority, v2.ticket.updated_at), (Status::Open, Priority::P1, at(5)));
    assert_eq!(v2.ticket.tags, ["urgent"]);
    let kinds: Vec<&str> = v2.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(kinds, ["fields_changed", "status_changed"]);
    assert!(v2.events.iter().all(|e| e.version == 2 && e.seq > 0));
    assert_eq!(stored(store, &id).await, v2.ticket);
    assert_eq!(event_count(store, &id).await, 3);

    // The same expected version again is stale, and nothing changes.
    let again = TicketPatchInput { priority: Some("P4".to_owned()), ..TicketPatchInput::default() };
    let stale = patch(store, &lead(), at(6), &id, ExpectedVersion::Exactly(1), again).await;
    assert_rejected(stale, &CommandError::StaleVersion { current: 2 });
    assert_eq!(stored(store, &id).await, v2.ticket);
    assert_eq!(event_count(store, &id).await, 3);

    // A change to the values the ticket already has records nothing and keeps the version.
    let same = TicketPatchInput { priority: Some("P1".to_owned()), ..TicketPatchInput::default() };
    let noop = patch(store, &lead(), at(7), &id, ExpectedVersion::Exactly(2), same).await.expect("a no-op is fine");
    assert!(noop.events.is_empty());
    assert_eq!(noop.ticket, v2.ticket);
    assert_eq!(stored(store, &id).await, v2.ticket);
    assert_eq!(event_count(store, &id).await, 3);

    // A team that does not exist is refused, naming the field.
    let ghost = TicketPatchInput { team: Some(Some("ghost".to_owned())), ..TicketPatchInput::default() };
    let fields = invalid_fields(patch(store, &lead(), at(8), &id, ExpectedVersion::Any, ghost).await);
    assert_eq!(fields, ["team"]);
    assert_eq!(stored(store, &id).await, v2.ticket);

    // Solve, then an illegal move (solved -> pending_customer) is refused and stores nothing.
    let solved = set_status(store, at(10), &id, "solved").await;
    assert_eq!((solved.version, solved.status, solved.resolved_at), (3, Status::Solved, Some(at(10))));
    let illegal = TicketPatchInput { status: Some("pending_customer".to_owned()), ..TicketPatchInput::default() };
    let refused = patch(store, &lead(), at(11), &id, ExpectedVersion::Exactly(3), illegal).await;
    assert_rejected(refused, &CommandError::IllegalTransition { from: Status::Solved, to: Status::PendingCustomer });
    assert_eq!(stored(store, &id).await, solved);
    assert_eq!(event_count(store, &id).await, 4);

    // A satisfaction score, then closing; a closed ticket takes no more changes.
    let rated = TicketPatchInput { csat: Some(Some(5)), ..TicketPatchInput::default() };
    let rated = patch(store, &lead(), at(12), &id, ExpectedVersion::Exactly(3), rated).await.expect("csat is set");
    assert_eq!(rated.ticket.csat, Some(5));
    let closed = set_status(store, at(13), &id, "closed").await;
    assert_eq!((closed.version, closed.status, closed.resolved_at), (5, Status::Closed, Some(at(10))));
    let late = TicketPatchInput { priority: Some("P2".to_owned()), ..TicketPatchInput::default() };
    assert_rejected(patch(store, &lead(), at(14), &id, ExpectedVersion::Any, late).await, &CommandError::Closed);
    assert_eq!(stored(store, &id).await, closed);

    // An unknown ticket is not found, for a patch as for a comment.
    let unknown = ticket_id("T-404");
    let open = TicketPatchInput { status: Some("open".to_owned()), ..TicketPatchInput::default() };
    assert_rejected(patch(store, &lead(), at(15), &unknown, ExpectedVersion::Any, open).await, &CommandError::NotFound);
    assert_rejected(comment(store, &lead(), at(15), &unknown, "hello?", true).await, &CommandError::NotFound);
    assert_eq!(store.count_tickets().await.expect("count"), 1);
    assert!(store.ticket_events(&unknown).await.expect("events").is_empty());

    assert_log_matches_projection(store, &id).await;
}

pub async fn story_comments(store: &Store) {
    create_team(store, "front_office", "Front office", None).await;
    create_team(store, "back_office", "Back office", None).await;
    let input = NewTicketInput { team: Some("front_office".to_owned()), ..ticket_input() };
    let id = create_ok(store, &lead(), at(0), input).await.id;
    let ana = agent_of("ana-token", &["front_office"]);

    // An internal note is not an answer to the customer.
    let internal = comment(store, &ana, at(3), &id, "Checking with the carrier.", false).await.expect("accepted");
    assert_eq!((internal.ticket.version, internal.ticket.first_response_at), (2, None));
    assert_eq!(
        internal.events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
        [EventKind::CommentAdded {
            public: false,
            body: "Checking with the carrier.".to_owned(),
            first_response: false
        }]
    );
    assert_eq!(stored(store, &id).await.first_response_at, None);

    // The first public comment by an agent is the first response.
    let public = comment(store, &ana, at(7), &id, "Your parcel is on its way.", true).await.expect("accepted");
    assert_eq!((public.ticket.version, public.ticket.first_response_at), (3, Some(at(7))));
    assert!(matches!(public.events[0].kind, EventKind::CommentAdded { public: true, first_response: true, .. }));
    assert_eq!(stored(store, &id).await, public.ticket);

    // A later one does not move it.
    let later = comment(store, &ana, at(9), &id, "Delivered?", true).await.expect("accepted");
    assert_eq!((later.ticket.version, later.ticket.first_response_at), (4, Some(at(7))));
    assert!(matches!(later.events[0].kind, EventKind::CommentAdded { first_response: false, .. }));

    // An agent of another team cannot see the ticket; a viewer cannot write.
    let bob = agent_of("bob-token", &["back_office"]);
    assert_rejected(comment(store, &bob, at(10), &id, "Mine?", true).await, &CommandError::NotFound);
    let forbidden = comment(store, &viewer(), at(10), &id, "Hi", true).await;
    assert!(matches!(forbidden, Err(vigie_store::SubmitError::Rejected(CommandError::Forbidden(_)))), "{forbidden:?}");

    let ticket = stored(store, &id).await;
    assert_eq!(ticket, later.ticket);
    let kinds: Vec<&str> =
        store.ticket_events(&id).await.expect("events").iter().map(|e| e.kind.name()).collect::<Vec<_>>();
    // The first public answer also opened the new ticket.
    assert_eq!(kinds, ["ticket_created", "comment_added", "comment_added", "status_changed", "comment_added"]);
    assert_log_matches_projection(store, &id).await;
}

/// Regression: the store keeps microseconds but acknowledged the caller's `now` as given, so
/// with a real clock (nanoseconds) the acknowledged ticket was not the stored one. `submit` now
/// cuts "now" to the stored precision first.
pub async fn story_sub_microsecond_now(store: &Store) {
    let now = Timestamp::new(EPOCH_SECOND, 123_456_789).expect("a valid instant");
    let committed = create(store, &lead(), now, ticket_input()).await.expect("accepted");
    let id = committed.ticket.id.clone();
    let stored_ticket = stored(store, &id).await;
    assert_eq!(stored_ticket, committed.ticket, "the acknowledged ticket is the stored one, to the nanosecond");
    let events = store.ticket_events(&id).await.expect("events");
    assert_eq!(events, committed.events, "the acknowledged events are the stored ones");
    assert_log_matches_projection(store, &id).await;

    let later = Timestamp::new(EPOCH_SECOND + 60, 987_654_321).expect("a valid instant");
    let commented = comment(store, &lead(), later, &id, "On it.", true).await.expect("accepted");
    assert_eq!(stored(store, &id).await, commented.ticket);
}

/// A commit listener that panics does not take the answer of a committed command with it: the
/// caller is told it succeeded, and the next command goes through.
pub async fn story_panicking_listener(store: &Store) {
    store.on_commit(std::sync::Arc::new(|_: &[&vigie_store::Committed]| panic!("a listener bug")));
    let first = create_ok(store, &lead(), at(0), ticket_input()).await;
    let second = create_ok(store, &lead(), at(1), ticket_input()).await;
    assert_eq!(stored(store, &first.id).await, first);
    assert_eq!(stored(store, &second.id).await, second);
}
