//! Filtered, ordered lists with keyset pagination.

use vigie_core::NewTicketInput;
use vigie_core::{Priority, Status, TeamId, Ticket, TicketId};
use vigie_store::{Cursor, Store, TicketQuery};

use crate::fixtures::*;

/// One seeded ticket: (minute, priority, team, status, category, customer).
type Seed = (i64, &'static str, Option<&'static str>, &'static str, &'static str, &'static str);

/// The tickets of the list stories.
/// Minutes repeat so that ties are broken by id, and `T-9`/`T-10` share a minute so that the
/// id order is the text order (`T-10` < `T-9`), the same on both backends.
const TICKETS: &[Seed] = &[
    (0, "P3", Some("alpha"), "new", "delivery", "acme"),
    (0, "P1", Some("beta"), "open", "incident", "globex"),
    (1, "P2", Some("alpha"), "solved", "billing", "acme"),
    (2, "P1", Some("alpha"), "pending_customer", "incident", "acme"),
    (2, "P4", None, "new", "delivery", "globex"),
    (3, "P2", Some("beta"), "new", "billing", "acme"),
    (3, "P3", Some("alpha"), "new", "delivery", "globex"),
    (4, "P1", Some("beta"), "solved", "incident", "acme"),
    (5, "P2", Some("alpha"), "new", "billing", "globex"),
    (5, "P2", Some("alpha"), "open", "billing", "acme"),
    (6, "P4", Some("beta"), "pending_internal", "delivery", "globex"),
    (7, "P3", Some("alpha"), "closed", "delivery", "acme"),
];

/// Creates the tickets of [`TICKETS`] and returns them as stored.
async fn seed(store: &Store) -> Vec<Ticket> {
    create_team(store, "alpha", "Alpha", None).await;
    create_team(store, "beta", "Beta", None).await;
    let mut ids = Vec::new();
    for &(minute, priority, team, _, category, customer) in TICKETS {
        let input = NewTicketInput {
            priority: priority.to_owned(),
            team: team.map(str::to_owned),
            category: category.to_owned(),
            customer_id: customer.to_owned(),
            ..ticket_input()
        };
        ids.push(create_ok(store, &lead(), at(minute), input).await.id);
    }
    for (id, &(_, _, _, status, _, _)) in ids.iter().zip(TICKETS) {
        match status {
            "new" => {}
            "closed" => {
                set_status(store, at(100), id, "solved").await;
                set_status(store, at(101), id, "closed").await;
            }
            other => {
                set_status(store, at(100), id, other).await;
            }
        }
    }
    let mut tickets = Vec::new();
    for id in &ids {
        tickets.push(stored(store, id).await);
    }
    tickets
}

/// The ids `query` should list, from `all`, by the documented order.
fn expected(all: &[Ticket], query: &TicketQuery) -> Vec<TicketId> {
    let mut matching: Vec<&Ticket> = all
        .iter()
        .filter(|t| query.statuses.is_empty() || query.statuses.contains(&t.status))
        .filter(|t| query.teams.is_empty() || t.team.as_ref().is_some_and(|team| query.teams.contains(team)))
        .filter(|t| query.priorities.is_empty() || query.priorities.contains(&t.priority))
        .filter(|t| query.categories.is_empty() || query.categories.contains(&t.category))
        .filter(|t| query.customer_ids.is_empty() || query.customer_ids.contains(&t.customer_id))
        .filter(|t| match &query.scope {
            None => true,
            Some(scope) => t.team.as_ref().is_some_and(|team| scope.contains(team)),
        })
        .collect();
    matching.sort_by(|a, b| (a.created_at, a.id.as_str()).cmp(&(b.created_at, b.id.as_str())));
    matching.into_iter().map(|t| t.id.clone()).collect()
}

/// Lists `query` in one page, then walks it `page_size` at a time, and checks both against the
/// expected ids: same items, no duplicates, no gaps, no empty last page.
async fn check_list(store: &Store, all: &[Ticket], query: TicketQuery, what: &str) {
    let want = expected(all, &query);
    let whole = store.list_tickets(&TicketQuery { limit: 500, after: None, ..query.clone() }).await.expect("list");
    let got: Vec<TicketId> = whole.items.iter().map(|t| t.id.clone()).collect();
    assert_eq!(got, want, "{what}: one page");
    assert_eq!(whole.next, None, "{what}: a page holding everything is the last");
    for item in &whole.items {
        let original = all.iter().find(|t| t.id == item.id).expect("a listed ticket is one of ours");
        assert_eq!(item, original, "{what}: a listed ticket is the stored one");
    }

    for page_size in [1_u32, 2, 5] {
        let mut walked: Vec<TicketId> = Vec::new();
        let mut after: Option<Cursor> = None;
        let mut pages = 0;
        loop {
            let page = store
                .list_tickets(&TicketQuery { limit: page_size, after: after.clone(), ..query.clone() })
                .await
                .expect("list page");
            pages += 1;
            assert!(page.items.len() <= page_size as usize, "{what}: page of {page_size} holds too many");
            walked.extend(page.items.iter().map(|t| t.id.clone()));
            match page.next {
                Some(cursor) => {
                    let last = page.items.last().expect("a page with a next cursor has items");
                    assert_eq!(cursor, Cursor::of(last), "{what}: the cursor is the last item's position");
                    after = Some(cursor);
                }
                None => break,
            }
            assert!(pages <= want.len() + 1, "{what}: pagination does not end");
        }
        assert_eq!(walked, want, "{what}: walked {page_size} at a time");
        let full_pages = want.len().div_ceil(page_size as usize).max(1);
        assert_eq!(pages, full_pages, "{what}: {page_size} a page takes {full_pages} pages, none of them empty");
    }
}

fn open_statuses() -> Vec<Status> {
    Status::ALL.iter().copied().filter(|s| s.is_open()).collect()
}

fn teams(ids: &[&str]) -> Vec<TeamId> {
    ids.iter().map(|t| team_id(t)).collect()
}

pub async fn story_lists(store: &Store) {
    let all = seed(store).await;
    assert_eq!(all.len(), TICKETS.len());
    let q = TicketQuery::default;

    check_list(store, &all, q(), "everything, oldest first").await;
    let open = TicketQuery { statuses: open_statuses(), ..q() };
    check_list(store, &all, open.clone(), "open").await;
    check_list(store, &all, TicketQuery { statuses: vec![Status::Solved, Status::Closed], ..q() }, "resolved").await;
    check_list(store, &all, TicketQuery { statuses: vec![Status::New, Status::Open], ..q() }, "new or open").await;
    check_list(store, &all, TicketQuery { teams: teams(&["alpha"]), ..q() }, "team alpha").await;
    check_list(store, &all, TicketQuery { priorities: vec![Priority::P1], ..q() }, "P1").await;
    check_list(
        store,
        &all,
        TicketQuery { teams: teams(&["alpha"]), priorities: vec![Priority::P2, Priority::P3], ..open.clone() },
        "open P2/P3 of alpha",
    )
    .await;
    check_list(store, &all, TicketQuery { categories: vec!["billing".to_owned()], ..q() }, "billing").await;
    let globex = vec![vigie_core::CustomerId::parse("globex").expect("valid id")];
    check_list(store, &all, TicketQuery { customer_ids: globex, ..q() }, "customer globex").await;

    // An agent's scope: only their teams' tickets (not the unrouted ones), whatever the filters.
    check_list(store, &all, TicketQuery { scope: Some(teams(&["alpha"])), ..q() }, "scope alpha").await;
    let scoped_open = TicketQuery { scope: Some(teams(&["beta"])), ..open.clone() };
    check_list(store, &all, scoped_open, "scope beta, open").await;
    check_list(store, &all, TicketQuery { scope: Some(Vec::new()), ..q() }, "no team in scope").await;
    check_list(store, &all, TicketQuery { scope: Some(teams(&["beta"])), teams: teams(&["alpha"]), ..q() }, "disjoint")
        .await;

    // Spot checks of the expectations themselves, so that a bug in `expected` cannot hide one
    // in the store.
    let scoped = store.list_tickets(&TicketQuery { scope: Some(teams(&["alpha"])), limit: 100, ..q() }).await;
    let scoped = scoped.expect("list");
    assert_eq!(scoped.items.len(), 7);
    assert!(scoped.items.iter().all(|t| t.team == Some(team_id("alpha"))));
    let created = store.list_tickets(&TicketQuery { limit: 100, ..q() }).await.expect("list");
    let created: Vec<&str> = created.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(created, ["T-1", "T-2", "T-3", "T-4", "T-5", "T-6", "T-7", "T-8", "T-10", "T-9", "T-11", "T-12"]);
    let open = store.list_tickets(&TicketQuery { limit: 100, ..open }).await;
    let open: Vec<&str> = open.as_ref().expect("list").items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(open.len(), 9);
}

/// Regression: a status filter that repeated a status as many times as there are open
/// statuses was taken for "every open status".
pub async fn story_list_repeated_status(store: &Store) {
    let all = seed(store).await;
    let statuses = vec![Status::New; open_statuses().len()];
    let query = TicketQuery { statuses, limit: 100, ..TicketQuery::default() };
    let page = store.list_tickets(&query).await.expect("list");
    let statuses: Vec<Status> = page.items.iter().map(|t| t.status).collect();
    assert!(statuses.iter().all(|s| *s == Status::New), "`new` (repeated) lists only new tickets, got {statuses:?}");
    check_list(store, &all, query, "new, repeated").await;
}
