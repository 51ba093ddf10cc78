//! SLA bookkeeping and claims, decided in the write transaction: exactly once under
//! concurrency, on both backends.

use std::sync::Arc;

use vigie_core::rules::{RulesInput, SlaInput, SlaPolicyInput};
use vigie_core::{Actor, AgentId, CommandError, Rules, TicketId};
use vigie_store::{Store, Submission, SubmitError, TicketCommand};

use crate::fixtures::*;

/// Every ticket answered within 60 minutes and solved within 600, on calendar time.
fn rules() -> Arc<Rules> {
    let policy = SlaPolicyInput {
        name: "standard".into(),
        category: "*".into(),
        priority: "*".into(),
        first_response_minutes: Some(60),
        resolution_minutes: Some(600),
        ..SlaPolicyInput::default()
    };
    let input = RulesInput { sla: SlaInput { policies: vec![policy], ..SlaInput::default() }, ..RulesInput::default() };
    Arc::new(input.parse(&|_| None).expect("valid rules"))
}

async fn submit(
    store: &Store,
    command: TicketCommand,
    actor: Actor,
    minutes: i64,
) -> Result<vigie_store::Committed, SubmitError> {
    store.submit(Submission { command, actor, now: at(minutes), rules: rules() }).await
}

/// Eight checks of one ticket at once, after its deadline: one records the breach, the others
/// find it recorded.
pub async fn story_sla_checks_record_once(store: &Store) {
    let new_ticket = ticket_input().parse().expect("valid");
    let created =
        submit(store, TicketCommand::Create { new_ticket, idempotency: None }, lead(), 0).await.expect("created");
    let id = created.ticket.id.clone();
    assert_eq!(created.ticket.sla_targets.as_ref().map(|t| t.policy.as_str()), Some("standard"));
    let mut checks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let store = store.clone();
        let id = id.clone();
        checks
            .spawn(async move { submit(&store, TicketCommand::CheckSla { ticket_id: id }, Actor::system(), 61).await });
    }
    let mut recorded = Vec::new();
    while let Some(result) = checks.join_next().await {
        recorded.extend(result.expect("joined").expect("checked").events.into_iter().map(|e| e.kind.name()));
    }
    assert_eq!(recorded, ["sla_breached"], "the first-response breach, once");
    let ticket = stored(store, &id).await;
    assert!(ticket.sla_marks.first_response.breached);
    assert_eq!(ticket.version, 1);
    assert_log_matches_projection(store, &id).await;
    let missing = submit(store, TicketCommand::CheckSla { ticket_id: ticket_id("T-999") }, Actor::system(), 62).await;
    assert_rejected(missing, &CommandError::NotFound);
}

/// A claim takes the first of its candidates still free; two claims on the same candidates
/// get different tickets, and a third none.
pub async fn story_claims_take_the_first_free_candidate(store: &Store) {
    create_team(store, "front_office", "Front office", None).await;
    let agent = vigie_core::directory::AgentInput {
        id: "ana".into(),
        name: "Ana".into(),
        teams: vec!["front_office".into()],
        ..Default::default()
    }
    .parse()
    .expect("valid");
    store.create_agent(&agent, at(0)).await.expect("stored");
    let mut ids: Vec<TicketId> = Vec::new();
    for minute in 0..2 {
        let input = vigie_core::NewTicketInput { team: Some("front_office".into()), ..ticket_input() };
        let new_ticket = input.parse().expect("valid");
        let created = submit(store, TicketCommand::Create { new_ticket, idempotency: None }, lead(), minute).await;
        ids.push(created.expect("created").ticket.id);
    }
    let ana = AgentId::parse("ana").expect("valid");
    let claim = || TicketCommand::Claim { agent: ana.clone(), candidates: ids.clone() };
    let (first, second, third) = tokio::join!(
        submit(store, claim(), lead(), 5),
        submit(store, claim(), lead(), 5),
        submit(store, claim(), lead(), 5)
    );
    let mut claimed: Vec<TicketId> = Vec::new();
    let mut refused = 0;
    for result in [first, second, third] {
        match result {
            Ok(committed) => {
                assert_eq!(committed.ticket.assignee, Some(ana.clone()));
                claimed.push(committed.ticket.id);
            }
            Err(SubmitError::Rejected(CommandError::NotClaimable(_))) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    claimed.sort();
    assert_eq!((claimed, refused), (ids.clone(), 1));
    for id in &ids {
        assert_log_matches_projection(store, id).await;
    }
}
