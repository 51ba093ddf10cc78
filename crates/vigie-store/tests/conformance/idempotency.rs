//! `Idempotency-Key` on creates: the same key and body give the first result, per actor.

use std::collections::HashSet;

use vigie_core::{Actor, ExpectedVersion, Role, TicketPatchInput};
use vigie_store::{IdempotencyKey, Store, SubmitError};

use crate::fixtures::*;

fn key(key: &str, digest: &str) -> Option<IdempotencyKey> {
    Some(IdempotencyKey { key: key.to_owned(), request_digest: digest.to_owned() })
}

pub async fn story_idempotency(store: &Store) {
    let first = create_keyed(store, &lead(), at(0), ticket_input(), key("key-1", "digest-a")).await.expect("accepted");
    assert!(!first.replayed);
    let id = first.ticket.id.clone();

    // The same key and body: the first result, nothing new written.
    let second = create_keyed(store, &lead(), at(1), ticket_input(), key("key-1", "digest-a")).await.expect("replay");
    assert!(second.replayed);
    assert!(second.events.is_empty(), "a replay records nothing");
    assert_eq!(second.ticket, first.ticket);
    assert_eq!(store.count_tickets().await.expect("count"), 1);
    assert_eq!(event_count(store, &id).await, 1);

    // A replay gives the first result, even after the ticket changed.
    let change = TicketPatchInput { priority: Some("P1".to_owned()), ..TicketPatchInput::default() };
    let changed = patch(store, &lead(), at(2), &id, ExpectedVersion::Exactly(1), change).await.expect("accepted");
    assert_eq!(changed.ticket.version, 2);
    let third = create_keyed(store, &lead(), at(3), ticket_input(), key("key-1", "digest-a")).await.expect("replay");
    assert!(third.replayed);
    assert_eq!(third.ticket, first.ticket);

    // The same key with another body is refused, and writes nothing.
    let mismatch = create_keyed(store, &lead(), at(4), ticket_input(), key("key-1", "digest-b")).await;
    assert!(matches!(mismatch, Err(SubmitError::IdempotencyMismatch)), "{mismatch:?}");
    assert_eq!(store.count_tickets().await.expect("count"), 1);

    // Keys are per actor: another token's key-1 is another request.
    let other = Actor { name: "other-token".to_owned(), role: Role::Lead, teams: Vec::new() };
    let theirs = create_keyed(store, &other, at(5), ticket_input(), key("key-1", "digest-a")).await.expect("new");
    assert!(!theirs.replayed);
    assert_ne!(theirs.ticket.id, id);
    let theirs_again = create_keyed(store, &other, at(6), ticket_input(), key("key-1", "digest-a")).await.expect("ok");
    assert!(theirs_again.replayed);
    assert_eq!(theirs_again.ticket.id, theirs.ticket.id);

    // Another key is another request.
    let fresh = create_keyed(store, &lead(), at(7), ticket_input(), key("key-2", "digest-a")).await.expect("new");
    assert!(!fresh.replayed);
    assert_eq!(store.count_tickets().await.expect("count"), 3);

    // The same key sent many times at once (one group-commit batch, or on PostgreSQL several
    // writers racing): exactly one ticket, every caller answered with it.
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                create_keyed(&store, &lead(), at(8), ticket_input(), key("key-burst", "digest-a")).await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    let mut originals = 0;
    for task in tasks {
        let committed = task.await.expect("the task ran").expect("every repeat is answered");
        ids.insert(committed.ticket.id.clone());
        originals += usize::from(!committed.replayed);
    }
    assert_eq!(ids.len(), 1, "one ticket for one key: {ids:?}");
    assert_eq!(originals, 1, "exactly one answer is the original create");
    assert_eq!(store.count_tickets().await.expect("count"), 4);
    for id in &ids {
        assert_eq!(event_count(store, id).await, 1);
    }
}
