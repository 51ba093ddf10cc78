//! Teams, agents, customers and API tokens, and how ticket creates check against them.

use vigie_core::directory::{Agent, AgentInput, Customer, CustomerInput, Team, TeamInput};
use vigie_core::{CommandError, CustomerTier, NewTicketInput, Role};
use vigie_store::{Store, StoreError, SubmitError, TokenRecord};

use crate::fixtures::*;

fn team(id: &str, name: &str, calendar: Option<&str>) -> Team {
    TeamInput { id: id.to_owned(), name: name.to_owned(), calendar: calendar.map(str::to_owned) }
        .parse()
        .expect("a valid team")
}

fn customer(id: &str, name: &str, tier: &str) -> Customer {
    CustomerInput { id: id.to_owned(), name: name.to_owned(), tier: Some(tier.to_owned()), email: None }
        .parse()
        .expect("a valid customer")
}

#[track_caller]
fn assert_conflict(result: Result<(), StoreError>) {
    assert!(matches!(result, Err(StoreError::Conflict(_))), "expected Conflict, got {result:?}");
}

pub async fn story_directory(store: &Store) {
    // A team or assignee that does not exist refuses the create, naming the field; nothing is
    // stored, not even the customer the ticket named.
    let ghost_team = NewTicketInput { team: Some("ghost".to_owned()), ..ticket_input() };
    assert_eq!(invalid_fields(create(store, &lead(), at(0), ghost_team).await), ["team"]);
    let ghost_agent = NewTicketInput { assignee: Some("nobody".to_owned()), ..ticket_input() };
    assert_eq!(invalid_fields(create(store, &lead(), at(0), ghost_agent).await), ["assignee"]);
    let both = NewTicketInput { team: Some("ghost".to_owned()), assignee: Some("nobody".to_owned()), ..ticket_input() };
    assert_eq!(invalid_fields(create(store, &lead(), at(0), both).await), ["team", "assignee"]);
    let viewer_create = create(store, &viewer(), at(0), ticket_input()).await;
    assert!(matches!(viewer_create, Err(SubmitError::Rejected(CommandError::Forbidden(_)))), "{viewer_create:?}");
    assert_eq!(store.count_tickets().await.expect("count"), 0);
    assert!(store.customers().await.expect("customers").is_empty(), "a refused create records no customer");

    // The directory as created, listed in id order.
    let front = team("front_office", "Front office", Some("paris-office-hours"));
    let back = team("back_office", "Back office", None);
    store.create_team(&front, at(1)).await.expect("a new team");
    store.create_team(&back, at(1)).await.expect("a new team");
    let ana = AgentInput {
        id: "ana".to_owned(),
        name: "Ana Lima".to_owned(),
        teams: vec!["front_office".to_owned(), "back_office".to_owned()],
        skill_categories: vec!["billing".to_owned(), "delivery".to_owned()],
        skill_languages: vec!["fr".to_owned(), "en".to_owned()],
    }
    .parse()
    .expect("a valid agent");
    let bob = AgentInput { id: "bob".to_owned(), name: "Bob".to_owned(), ..AgentInput::default() }
        .parse()
        .expect("a valid agent");
    store.create_agent(&ana, at(1)).await.expect("a new agent");
    store.create_agent(&bob, at(1)).await.expect("a new agent");
    let acme = customer("acme", "ACME Corp.", "premium");
    store.create_customer(&acme, at(1)).await.expect("a new customer");

    assert_eq!(store.teams().await.expect("teams"), [back.clone(), front.clone()]);
    assert_eq!(store.agents().await.expect("agents"), [ana.clone(), bob.clone()]);
    assert_eq!(store.customers().await.expect("customers"), std::slice::from_ref(&acme));

    // Records with a key already taken conflict, and leave the first one as it was.
    assert_conflict(store.create_team(&team("front_office", "Other", None), at(2)).await);
    let ana_again = Agent { name: "Someone else".to_owned(), ..ana.clone() };
    assert_conflict(store.create_agent(&ana_again, at(2)).await);
    assert_conflict(store.create_customer(&customer("acme", "Other", "standard"), at(2)).await);
    assert_eq!(store.teams().await.expect("teams"), [back, front]);
    assert_eq!(store.agents().await.expect("agents"), [ana, bob]);

    // A create naming them succeeds and takes the customer's tier from its record.
    let named =
        NewTicketInput { team: Some("front_office".to_owned()), assignee: Some("ana".to_owned()), ..ticket_input() };
    let ticket = create_ok(store, &lead(), at(3), named).await;
    assert_eq!(ticket.team, Some(team_id("front_office")));
    assert_eq!(ticket.assignee.as_ref().map(|a| a.as_str()), Some("ana"));
    assert_eq!(ticket.customer_tier, CustomerTier::Premium, "the tier on record");
    assert_eq!(stored(store, &ticket.id).await, ticket);

    // A tier given on the ticket wins for the ticket and leaves the record alone.
    let explicit = NewTicketInput { customer_tier: Some("standard".to_owned()), ..ticket_input() };
    assert_eq!(create_ok(store, &lead(), at(4), explicit).await.customer_tier, CustomerTier::Standard);

    // An agent creates for one of their teams only.
    let agent = agent_of("ana-token", &["front_office"]);
    let elsewhere = NewTicketInput { team: Some("back_office".to_owned()), ..ticket_input() };
    assert_eq!(invalid_fields(create(store, &agent, at(5), elsewhere).await), ["team"]);
    let own = NewTicketInput { team: Some("front_office".to_owned()), ..ticket_input() };
    create_ok(store, &agent, at(5), own).await;

    // A customer not yet on record is created with the ticket: standard, or the tier given.
    let newco = NewTicketInput { customer_id: "newco".to_owned(), ..ticket_input() };
    assert_eq!(create_ok(store, &lead(), at(6), newco).await.customer_tier, CustomerTier::Standard);
    let bigco = NewTicketInput {
        customer_id: "bigco".to_owned(),
        customer_tier: Some("strategic".to_owned()),
        ..ticket_input()
    };
    assert_eq!(create_ok(store, &lead(), at(7), bigco).await.customer_tier, CustomerTier::Strategic);
    let newco_again = NewTicketInput { customer_id: "newco".to_owned(), ..ticket_input() };
    create_ok(store, &lead(), at(8), newco_again).await;
    assert_eq!(
        store.customers().await.expect("customers"),
        [acme, customer("bigco", "bigco", "strategic"), customer("newco", "newco", "standard"),],
        "new customers are named by their id until someone names them"
    );
    assert_eq!(store.count_tickets().await.expect("count"), 6);
}

pub async fn story_tokens(store: &Store) {
    let agent_token = TokenRecord {
        hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        name: "ana-token".to_owned(),
        role: Role::Agent,
        teams: vec![team_id("front_office"), team_id("back_office")],
    };
    let admin_token = TokenRecord {
        hash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752".to_owned(),
        name: "admin".to_owned(),
        role: Role::Admin,
        teams: Vec::new(),
    };
    store.create_token(&agent_token, at(0)).await.expect("a new token");
    store.create_token(&admin_token, at(0)).await.expect("a new token");
    assert_eq!(store.token_by_hash(&agent_token.hash).await.expect("lookup"), Some(agent_token.clone()));
    assert_eq!(store.token_by_hash(&admin_token.hash).await.expect("lookup"), Some(admin_token.clone()));
    assert_eq!(store.token_by_hash("0000").await.expect("lookup"), None);

    // The same secret hash twice conflicts, whatever the rest, and the first record stays.
    let clash = TokenRecord { name: "other".to_owned(), role: Role::Viewer, teams: Vec::new(), ..agent_token.clone() };
    assert_conflict(store.create_token(&clash, at(1)).await);
    assert_eq!(store.token_by_hash(&agent_token.hash).await.expect("lookup"), Some(agent_token));
}
