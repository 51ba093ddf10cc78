//! Many commands at once: group commit must neither lose nor mix them up.

use std::collections::HashSet;

use vigie_core::{CommandError, ExpectedVersion, NewTicketInput, TicketPatchInput};
use vigie_store::{Store, SubmitError};

use crate::fixtures::*;

const CREATES: usize = 200;

pub async fn story_concurrent_creates(store: &Store) {
    let tasks: Vec<_> = (0..CREATES)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let minute = i64::try_from(i % 7).expect("small");
                let input = NewTicketInput {
                    subject: format!("Request {i}"),
                    customer_id: format!("c{}", i % 13),
                    ..ticket_input()
                };
                create(&store, &lead(), at(minute), input).await
            })
        })
        .collect();
    let mut committed = Vec::with_capacity(CREATES);
    for task in tasks {
        committed.push(task.await.expect("the task ran").expect("every create is accepted"));
    }

    let ids: HashSet<_> = committed.iter().map(|c| c.ticket.id.clone()).collect();
    assert_eq!(ids.len(), CREATES, "every create gets its own id");
    assert_eq!(store.count_tickets().await.expect("count"), i64::try_from(CREATES).expect("small"));

    let mut seqs = HashSet::new();
    for c in &committed {
        assert_eq!(stored(store, &c.ticket.id).await, c.ticket, "each caller got its own ticket");
        let events = store.ticket_events(&c.ticket.id).await.expect("events");
        assert_eq!(events, c.events, "each caller's events are the stored ones");
        assert_eq!(events.len(), 1);
        assert!(events[0].seq > 0);
        seqs.insert(events[0].seq);
    }
    assert_eq!(seqs.len(), CREATES, "every event has its own seq");
    let customers: Vec<String> =
        store.customers().await.expect("customers").into_iter().map(|c| c.id.into_string()).collect();
    assert_eq!(customers.len(), 13, "each new customer recorded once: {customers:?}");
}

pub async fn story_concurrent_writes_to_one_ticket(store: &Store) {
    let id = create_ok(store, &lead(), at(0), ticket_input()).await.id;

    // Comments with no version check all apply, one version each.
    const COMMENTS: i64 = 30;
    let tasks: Vec<_> = (0..COMMENTS)
        .map(|i| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { comment(&store, &lead(), at(1 + i), &id, &format!("note {i}"), false).await })
        })
        .collect();
    let mut versions = HashSet::new();
    for task in tasks {
        versions.insert(task.await.expect("the task ran").expect("every comment applies").ticket.version);
    }
    let expected: HashSet<i64> = (2..=COMMENTS + 1).collect();
    assert_eq!(versions, expected, "no two comments got the same version");
    let current = stored(store, &id).await;
    assert_eq!(current.version, COMMENTS + 1);

    // Changes that all expect the current version: exactly one wins, the others are stale.
    const PATCHES: usize = 20;
    let tasks: Vec<_> = (0..PATCHES)
        .map(|i| {
            let (store, id) = (store.clone(), id.clone());
            let expected = ExpectedVersion::Exactly(current.version);
            tokio::spawn(async move {
                let change = TicketPatchInput { tags: Some(vec![format!("t{i}")]), ..TicketPatchInput::default() };
                patch(&store, &lead(), at(100), &id, expected, change).await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("the task ran") {
            Ok(committed) => {
                winners += 1;
                assert_eq!(committed.ticket.version, COMMENTS + 2);
            }
            Err(SubmitError::Rejected(CommandError::StaleVersion { current })) => assert_eq!(current, COMMENTS + 2),
            Err(other) => panic!("a racing change is applied or stale, not {other:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one change for one expected version");
    assert_eq!(stored(store, &id).await.version, COMMENTS + 2);
    assert_eq!(event_count(store, &id).await, usize::try_from(COMMENTS).expect("small") + 2);
    assert_log_matches_projection(store, &id).await;
}
