//! Bulk loads, and what survives closing and reopening the store.

use std::collections::HashSet;

use vigie_core::event::replay;
use vigie_core::{
    AgentId, Channel, CustomerId, CustomerTier, ExpectedVersion, Priority, Role, Status, Ticket, TicketId,
    TicketPatchInput,
};
use vigie_store::{Cursor, Store, StoreError, SubmitError, TicketQuery, TokenRecord};

use crate::fixtures::*;
use crate::harness::TestDb;

/// Tickets as an import would bring them: every status, resolved ones with their resolution.
fn imported(ids: impl Iterator<Item = String>) -> Vec<Ticket> {
    ids.enumerate()
        .map(|(i, id)| {
            let n = i64::try_from(i).expect("small");
            let status = Status::ALL[i % Status::ALL.len()];
            let resolved = !status.is_open();
            Ticket {
                id: TicketId::parse(id).expect("a valid id"),
                version: 1 + n % 3,
                created_at: at(n),
                updated_at: at(n + 30),
                first_response_at: (i % 2 == 0).then(|| at(n + 10)),
                resolved_at: resolved.then(|| at(n + 20)),
                status,
                priority: Priority::ALL[i % Priority::ALL.len()],
                category: ["billing", "incident", "delivery"][i % 3].to_owned(),
                channel: Channel::ALL[i % Channel::ALL.len()],
                customer_id: CustomerId::parse(format!("c{}", i % 50)).expect("a valid id"),
                customer_tier: CustomerTier::ALL[i % CustomerTier::ALL.len()],
                team: (i % 4 != 0).then(|| team_id(["alpha", "beta", "gamma"][i % 3])),
                assignee: (i % 5 == 0).then(|| AgentId::parse("ana").expect("a valid id")),
                subject: format!("Imported request {i}"),
                body: format!("Line one of {i}\nline \"two\"; é"),
                csat: resolved.then(|| u8::try_from(1 + i % 5).expect("small")),
                tags: if i % 3 == 0 { Vec::new() } else { vec!["imported".to_owned(), format!("batch{}", i / 1000)] },
                legal_risk: i % 7 == 0,
                blocking: i % 11 == 0,
                language: (i % 2 == 0).then(|| "fr".to_owned()),
                status_history: vec![vigie_core::StatusSince { status, since: at(n) }],
                sla_targets: None,
                sla_marks: vigie_core::SlaMarks::default(),
                rules_applied: Vec::new(),
                steps: Vec::new(),
            }
        })
        .collect()
}

const LOADED: usize = 2_500;

pub async fn story_bulk_load(store: &Store) {
    let tickets = imported((0..LOADED).map(|i| format!("IMP-{i:05}")));
    store.load_tickets(&tickets, "import").await.expect("the load succeeds");
    store.load_tickets(&[], "import").await.expect("an empty load is fine");
    assert_eq!(store.count_tickets().await.expect("count"), i64::try_from(LOADED).expect("small"));

    // Every ticket as loaded, each with its one creation event (across the load's chunks).
    let mut seqs = HashSet::new();
    for ticket in &tickets {
        assert_eq!(&stored(store, &ticket.id).await, ticket);
        let events = store.ticket_events(&ticket.id).await.expect("events");
        assert_eq!(events.len(), 1, "{}: one creation event", ticket.id);
        let event = &events[0];
        assert_eq!(event.kind.name(), "ticket_created");
        assert_eq!((event.version, event.at, event.actor.as_str()), (ticket.version, ticket.created_at, "import"));
        assert!(event.seq > 0);
        seqs.insert(event.seq);
        assert_eq!(replay(&events).expect("the log replays").as_ref(), Some(ticket));
    }
    assert_eq!(seqs.len(), LOADED, "every loaded event has its own seq");

    // Listing walks them all, in pages.
    let mut walked = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let query = TicketQuery { limit: 500, after: after.clone(), ..TicketQuery::default() };
        let page = store.list_tickets(&query).await.expect("list");
        walked.extend(page.items.into_iter().map(|t| t.id));
        match page.next {
            Some(cursor) => after = Some(cursor),
            None => break,
        }
    }
    let all_ids: Vec<TicketId> = tickets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(walked, all_ids, "oldest first, every loaded ticket once");
    let open: Vec<Status> = Status::ALL.iter().copied().filter(|s| s.is_open()).collect();
    let open = TicketQuery { statuses: open, limit: 500, ..TicketQuery::default() };
    let page = store.list_tickets(&open).await.expect("list");
    assert_eq!(page.items.len(), 500);
    assert!(page.items.iter().all(|t| t.status.is_open()));
    // The scan of the open tickets (what the live state is built from): every open ticket
    // once, across pages, without its texts (its tags stay: the time rules read them).
    let mut scanned = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = store.open_tickets_page(cursor.as_ref(), 300).await.expect("a page");
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 300);
        assert!(page.iter().all(|s| s.ticket.subject.is_empty() && s.ticket.body.is_empty()));
        scanned.extend(page);
        cursor = next;
    }
    for stored in scanned.iter().take(20) {
        let events = store.ticket_events(&stored.ticket.id).await.expect("events");
        assert_eq!(
            Some(stored.last_seq),
            events.last().map(|e| e.seq),
            "the last event's number comes with the ticket"
        );
    }
    let scanned: Vec<Ticket> = scanned.into_iter().map(|s| s.ticket).collect();
    let mut scanned_ids: Vec<TicketId> = scanned.iter().map(|t| t.id.clone()).collect();
    scanned_ids.sort();
    let mut open_ids: Vec<TicketId> = tickets.iter().filter(|t| t.status.is_open()).map(|t| t.id.clone()).collect();
    open_ids.sort();
    assert_eq!(scanned_ids, open_ids);
    let sample = tickets.iter().find(|t| t.status.is_open()).expect("an open ticket");
    let scanned_sample = scanned.iter().find(|t| t.id == sample.id).expect("scanned");
    assert_eq!(
        scanned_sample,
        &Ticket { subject: String::new(), body: String::new(), tags: Vec::new(), ..sample.clone() },
        "everything but the texts as stored"
    );
    // And tickets by id: the stored ones, texts included; unknown ids left out.
    let mut wanted: Vec<TicketId> = tickets.iter().take(1_200).map(|t| t.id.clone()).collect();
    wanted.push(ticket_id("NOPE-1"));
    let mut fetched = store.tickets_by_ids(&wanted).await.expect("fetched");
    fetched.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected: Vec<Ticket> = tickets.iter().take(1_200).cloned().collect();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(fetched, expected);

    let team = TicketQuery { teams: vec![team_id("gamma")], limit: 500, ..TicketQuery::default() };
    let expected_gamma = tickets.iter().filter(|t| t.team == Some(team_id("gamma"))).count();
    let mut gamma = 0;
    let mut after = None;
    loop {
        let page = store.list_tickets(&TicketQuery { after, ..team.clone() }).await.expect("list");
        gamma += page.items.len();
        assert!(page.items.iter().all(|t| t.team == Some(team_id("gamma"))));
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(gamma, expected_gamma);

    // Live commands work on loaded tickets.
    let first = &tickets[1];
    assert_eq!(first.status, Status::Open);
    let change = TicketPatchInput { priority: Some("P1".to_owned()), ..TicketPatchInput::default() };
    let changed = patch(store, &lead(), at(10_000), &first.id, ExpectedVersion::Exactly(first.version), change)
        .await
        .expect("a loaded ticket can be changed");
    assert_eq!(changed.ticket.version, first.version + 1);
    assert!(changed.events.iter().all(|e| !seqs.contains(&e.seq)), "new events take new seqs");
    assert_log_matches_projection(store, &first.id).await;
    let created = create_ok(store, &lead(), at(10_001), ticket_input()).await;
    assert!(!all_ids.contains(&created.id));
    assert_eq!(store.count_tickets().await.expect("count"), i64::try_from(LOADED + 1).expect("small"));
}

/// Regression: loading kept the tickets' own ids without reserving them, and a create upserted
/// its new row, so creating after loading `T-1`... silently replaced the loaded `T-1` and gave
/// it a second `ticket_created` event. Loads now advance the ticket counter and creates insert.
pub async fn story_create_after_load_keeps_loaded_tickets(store: &Store) {
    // As from an export of another vigie store (SQLite to PostgreSQL, say).
    let tickets = imported((1..=3).map(|n| format!("T-{n}")));
    store.load_tickets(&tickets, "import").await.expect("the load succeeds");
    let result = create(store, &lead(), at(5_000), ticket_input()).await;
    for ticket in &tickets {
        assert_eq!(&stored(store, &ticket.id).await, ticket, "a create leaves loaded ticket {} alone", ticket.id);
        assert_log_matches_projection(store, &ticket.id).await;
    }
    let created = result.expect("a create after a load is accepted");
    assert!(tickets.iter().all(|t| t.id != created.ticket.id), "the new ticket got a free id");
    assert_eq!(store.count_tickets().await.expect("count"), 4);
}

/// Regression: a load upserted, so loading an id already stored replaced the ticket and appended
/// a second `ticket_created` event instead of failing on the primary key; and the backends
/// disagreed on a load repeating an id in one chunk. Loads now insert: both refuse.
pub async fn story_load_never_overwrites(store: &Store) {
    let original = imported(std::iter::once("IMP-1".to_owned()));
    store.load_tickets(&original, "import").await.expect("the load succeeds");
    let changed = Ticket { subject: "Another ticket".to_owned(), ..original[0].clone() };
    let twice = vec![
        Ticket { id: ticket_id("IMP-2"), ..original[0].clone() },
        Ticket { id: ticket_id("IMP-2"), ..changed.clone() },
    ];
    let repeated = store.load_tickets(&twice, "import").await;
    assert!(repeated.is_err(), "a load that repeats an id is refused, on every backend");
    assert_eq!(store.ticket(&ticket_id("IMP-2")).await.expect("read"), None, "a refused load writes nothing");
    let again = store.load_tickets(std::slice::from_ref(&changed), "import").await;
    assert!(again.is_err(), "loading an id already stored is refused");
    assert_eq!(stored(store, &changed.id).await, original[0]);
    assert_eq!(event_count(store, &changed.id).await, 1);
}

pub async fn story_reopen(db: &TestDb) {
    let store = db.open().await;
    create_team(&store, "alpha", "Alpha", None).await;
    let token = TokenRecord { hash: "abc123".to_owned(), name: "admin".to_owned(), role: Role::Admin, teams: vec![] };
    store.create_token(&token, at(0)).await.expect("a new token");
    let ticket = create_ok(&store, &lead(), at(0), ticket_input()).await;
    set_status(&store, at(1), &ticket.id, "open").await;
    comment(&store, &lead(), at(2), &ticket.id, "On it.", true).await.expect("accepted");
    let loaded = imported((0..10).map(|i| format!("IMP-{i}")));
    store.load_tickets(&loaded, "import").await.expect("the load succeeds");

    let before_ticket = stored(&store, &ticket.id).await;
    let before_events = store.ticket_events(&ticket.id).await.expect("events");
    let before_teams = store.teams().await.expect("teams");
    let before_customers = store.customers().await.expect("customers");
    let mut max_seq = before_events.iter().map(|e| e.seq).max().expect("events exist");
    for t in &loaded {
        let events = store.ticket_events(&t.id).await.expect("events");
        max_seq = max_seq.max(events.iter().map(|e| e.seq).max().expect("a loaded ticket has its event"));
    }
    store.close().await;

    // A closed store refuses commands rather than losing them.
    let refused = create(&store, &lead(), at(3), ticket_input()).await;
    assert!(matches!(refused, Err(SubmitError::Store(StoreError::Closed))), "{refused:?}");

    let store = db.open().await;
    assert_eq!(stored(&store, &ticket.id).await, before_ticket);
    assert_eq!(store.ticket_events(&ticket.id).await.expect("events"), before_events);
    for t in &loaded {
        assert_eq!(&stored(&store, &t.id).await, t);
        assert_eq!(event_count(&store, &t.id).await, 1);
    }
    assert_eq!(store.count_tickets().await.expect("count"), 11);
    assert_eq!(store.teams().await.expect("teams"), before_teams);
    assert_eq!(store.customers().await.expect("customers"), before_customers);
    assert_eq!(store.token_by_hash("abc123").await.expect("lookup"), Some(token));

    // The counters carry on where they were: no id or seq is handed out twice.
    let next = create(&store, &lead(), at(4), ticket_input()).await.expect("accepted");
    assert_ne!(next.ticket.id, ticket.id);
    assert!(next.events.iter().all(|e| e.seq > max_seq), "seqs carry on after {max_seq}: {:?}", next.events);
    assert_log_matches_projection(&store, &ticket.id).await;
    store.close().await;
}

/// A whole history loads as it is: the projection is its replay, the log keeps every event in
/// order with fresh sequence numbers; a history that does not replay is refused whole.
pub async fn story_load_histories(store: &Store) {
    use vigie_core::{Event, EventKind};
    let created = Ticket {
        status: Status::New,
        status_history: vec![vigie_core::StatusSince { status: Status::New, since: at(0) }],
        first_response_at: None,
        resolved_at: None,
        csat: None,
        version: 1,
        ..imported(std::iter::once("H-1".to_owned())).remove(0)
    };
    let event = |version: i64, minutes: i64, kind: EventKind| Event {
        seq: 0,
        ticket_id: created.id.clone(),
        version,
        at: at(minutes),
        actor: "import".to_owned(),
        kind,
    };
    let history = vec![
        event(1, 0, EventKind::TicketCreated(Box::new(created.clone()))),
        event(2, 5, EventKind::CommentAdded { public: true, body: "On it".to_owned(), first_response: true }),
        event(2, 5, EventKind::StatusChanged { from: Status::New, to: Status::Open }),
        event(3, 9, EventKind::StatusChanged { from: Status::Open, to: Status::PendingCustomer }),
        event(4, 30, EventKind::StatusChanged { from: Status::PendingCustomer, to: Status::Solved }),
    ];
    store.load_histories(vec![history.clone()]).await.expect("a valid history loads");
    let ticket = stored(store, &created.id).await;
    assert_eq!(ticket.version, 4);
    assert_eq!(ticket.status, Status::Solved);
    assert_eq!(ticket.first_response_at, Some(at(5)));
    assert_eq!(ticket.resolved_at, Some(at(30)));
    let events = store.ticket_events(&created.id).await.expect("events");
    assert_eq!(events.len(), 5);
    assert!(events.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_log_matches_projection(store, &created.id).await;

    // A change before the creation does not replay: nothing of that load is written.
    let orphan = Event { ticket_id: ticket_id("H-2"), ..history[1].clone() };
    let refused = store.load_histories(vec![vec![orphan]]).await;
    assert!(matches!(refused, Err(StoreError::InvalidHistory(_))), "{refused:?}");
    assert!(store.ticket(&ticket_id("H-2")).await.expect("read").is_none());
}
