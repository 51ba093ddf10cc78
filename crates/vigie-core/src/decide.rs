//! Deciding a command against the current state: the checks, then the events, then the new
//! ticket (by applying those events, so the log and the projection cannot disagree).

use jiff::Timestamp;

use crate::actor::Actor;
use crate::command::{ExpectedVersion, NewComment, NewTicket, Patch, TicketPatch, ValidationErrors};
use crate::event::{self, Event, EventKind, FieldChange};
use crate::ids::{AgentId, CustomerId, TeamId, TicketId};
use crate::lifecycle;
use crate::ticket::{CustomerTier, Status, Ticket};

/// What the store knows of the directory, as far as a command needs it. The store answers
/// from the same transaction the command is decided in.
pub trait DirectoryLookup {
    fn team_exists(&self, team: &TeamId) -> bool;
    /// The teams an agent works for; `None` for an agent not on record.
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>>;
    /// The tier on record for a customer; `None` for a customer not yet on record.
    fn customer_tier(&self, customer: &CustomerId) -> Option<CustomerTier>;
}

/// The outcome of an accepted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The ticket after the command.
    pub ticket: Ticket,
    /// What to record, in order. Empty when the command changed nothing (no new version).
    /// Their `seq` is 0 until the store assigns the real one at commit.
    pub events: Vec<Event>,
}

/// Why a command is refused. Each variant is an expected outcome a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such ticket, or one the actor may not see (the two look the same on purpose, so that
    /// an agent cannot probe other teams' tickets).
    #[error("ticket not found")]
    NotFound,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("the ticket is at version {current}, not the one expected")]
    StaleVersion { current: i64 },
    #[error("{0}")]
    Invalid(ValidationErrors),
    #[error("status cannot go from `{from}` to `{to}`")]
    IllegalTransition { from: Status, to: Status },
    #[error("the ticket is closed: closed is final")]
    Closed,
}

/// Creates ticket `id` from a checked [`NewTicket`].
pub fn create(
    id: TicketId,
    new_ticket: NewTicket,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
) -> Result<Decision, CommandError> {
    if !actor.can_write_tickets() {
        return Err(CommandError::Forbidden("viewers cannot create tickets"));
    }
    let mut errors = Vec::new();
    match &new_ticket.team {
        Some(team) if !directory.team_exists(team) => errors.push(unknown("team", team)),
        Some(team) if !actor.can_see_team(Some(team)) => {
            errors.push(crate::FieldError::new("team", "must be one of your teams"));
        }
        None if actor.team_scope().is_some() => {
            errors.push(crate::FieldError::new("team", "is required: an agent creates tickets for one of their teams"));
        }
        _ => {}
    }
    if let Some(agent) = &new_ticket.assignee
        && let Some(error) = check_assignee(agent, new_ticket.team.as_ref(), directory)
    {
        errors.push(error);
    }
    ValidationErrors::finish(errors).map_err(CommandError::Invalid)?;

    let customer_tier = new_ticket
        .customer_tier
        .or_else(|| directory.customer_tier(&new_ticket.customer_id))
        .unwrap_or(CustomerTier::Standard);
    let ticket = Ticket {
        id: id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
        first_response_at: None,
        resolved_at: None,
        status: Status::New,
        priority: new_ticket.priority,
        category: new_ticket.category,
        channel: new_ticket.channel,
        customer_id: new_ticket.customer_id,
        customer_tier,
        team: new_ticket.team,
        assignee: new_ticket.assignee,
        subject: new_ticket.subject,
        body: new_ticket.body,
        csat: None,
        tags: new_ticket.tags,
        legal_risk: new_ticket.legal_risk,
        blocking: new_ticket.blocking,
    };
    let event = Event {
        seq: 0,
        ticket_id: id,
        version: 1,
        at: now,
        actor: actor.name.clone(),
        kind: EventKind::TicketCreated(Box::new(ticket.clone())),
    };
    Ok(Decision { ticket, events: vec![event] })
}

/// Changes fields of `current` as `patch` asks, if `expected` still holds.
pub fn patch(
    current: &Ticket,
    expected: ExpectedVersion,
    patch: &TicketPatch,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
) -> Result<Decision, CommandError> {
    check_access(current, &expected, actor)?;

    let mut errors = Vec::new();
    let mut changes = Vec::new();
    if let Some(to) = &patch.priority
        && *to != current.priority
    {
        changes.push(FieldChange::Priority { from: current.priority, to: *to });
    }
    if let Some(to) = &patch.category
        && *to != current.category
    {
        changes.push(FieldChange::Category { from: current.category.clone(), to: to.clone() });
    }
    let team_change = resolve(&patch.team, &current.team);
    if let Some(to) = &team_change {
        match to {
            Some(team) if !directory.team_exists(team) => errors.push(unknown("team", team)),
            None if actor.team_scope().is_some() => {
                errors.push(crate::FieldError::new("team", "cannot be cleared by an agent: hand the ticket to a team"));
            }
            _ => changes.push(FieldChange::Team { from: current.team.clone(), to: to.clone() }),
        }
    }
    let final_team = team_change.as_ref().map_or(current.team.as_ref(), Option::as_ref);
    match resolve(&patch.assignee, &current.assignee) {
        Some(Some(agent)) => match check_assignee(&agent, final_team, directory) {
            Some(error) => errors.push(error),
            None => changes.push(FieldChange::Assignee { from: current.assignee.clone(), to: Some(agent) }),
        },
        Some(None) => changes.push(FieldChange::Assignee { from: current.assignee.clone(), to: None }),
        None => {
            // Handing a ticket to another team unassigns it when its assignee does not work
            // there: the new team decides who takes it.
            if let (Some(_), Some(agent)) = (&team_change, &current.assignee)
                && check_assignee(agent, final_team, directory).is_some()
            {
                changes.push(FieldChange::Assignee { from: current.assignee.clone(), to: None });
            }
        }
    }
    if let Some(to) = patch.customer_tier
        && to != current.customer_tier
    {
        changes.push(FieldChange::CustomerTier { from: current.customer_tier, to });
    }
    if let Some(to) = patch.legal_risk
        && to != current.legal_risk
    {
        changes.push(FieldChange::LegalRisk { from: current.legal_risk, to });
    }
    if let Some(to) = patch.blocking
        && to != current.blocking
    {
        changes.push(FieldChange::Blocking { from: current.blocking, to });
    }
    if let Some(to) = &patch.tags
        && *to != current.tags
    {
        changes.push(FieldChange::Tags { from: current.tags.clone(), to: to.clone() });
    }
    if let Some(to) = resolve(&patch.csat, &current.csat) {
        changes.push(FieldChange::Csat { from: current.csat, to });
    }
    ValidationErrors::finish(errors).map_err(CommandError::Invalid)?;

    let mut kinds = Vec::new();
    if !changes.is_empty() {
        kinds.push(EventKind::FieldsChanged(changes));
    }
    if let Some(to) = patch.status
        && to != current.status
    {
        if !lifecycle::is_allowed(current.status, to) {
            return Err(CommandError::IllegalTransition { from: current.status, to });
        }
        kinds.push(EventKind::StatusChanged { from: current.status, to });
    }
    record(current, kinds, actor, now)
}

/// Adds a comment to `current`. A public comment by someone who answers customers is the first
/// response if there was none.
pub fn comment(
    current: &Ticket,
    comment: &NewComment,
    actor: &Actor,
    now: Timestamp,
) -> Result<Decision, CommandError> {
    check_access(current, &ExpectedVersion::Any, actor)?;
    let answer = comment.public && actor.answers_customers();
    let first_response = answer && current.first_response_at.is_none();
    let mut kinds =
        vec![EventKind::CommentAdded { public: comment.public, body: comment.body.clone(), first_response }];
    // `new` means nobody has looked yet: an answer to the customer ends that.
    if answer && current.status == Status::New {
        kinds.push(EventKind::StatusChanged { from: Status::New, to: Status::Open });
    }
    record(current, kinds, actor, now)
}

fn check_access(current: &Ticket, expected: &ExpectedVersion, actor: &Actor) -> Result<(), CommandError> {
    if !actor.can_see(current) {
        return Err(CommandError::NotFound);
    }
    if !actor.can_write_tickets() {
        return Err(CommandError::Forbidden("viewers cannot change tickets"));
    }
    if !expected.matches(current.version) {
        return Err(CommandError::StaleVersion { current: current.version });
    }
    if current.status == Status::Closed {
        return Err(CommandError::Closed);
    }
    Ok(())
}

/// Turns event kinds into events of the next version and applies them.
fn record(current: &Ticket, kinds: Vec<EventKind>, actor: &Actor, now: Timestamp) -> Result<Decision, CommandError> {
    let version = current.version + 1;
    let events: Vec<Event> = kinds
        .into_iter()
        .map(|kind| Event { seq: 0, ticket_id: current.id.clone(), version, at: now, actor: actor.name.clone(), kind })
        .collect();
    let mut ticket = current.clone();
    for event in &events {
        // Applying our own, freshly made events to an existing ticket cannot fail; map the
        // impossible case to NotFound rather than panic.
        ticket = event::apply(Some(ticket), event).map_err(|_| CommandError::NotFound)?;
    }
    Ok(Decision { ticket, events })
}

/// For a nullable field: `Some(new value)` when the patch changes it, `None` when it doesn't.
fn resolve<T: Clone + PartialEq>(patch: &Patch<T>, current: &Option<T>) -> Option<Option<T>> {
    let to = match patch {
        Patch::Keep => return None,
        Patch::Clear => None,
        Patch::Set(value) => Some(value.clone()),
    };
    (to != *current).then_some(to)
}

/// Why `agent` cannot hold a ticket of `team`, if it cannot: an assignee must exist and work for
/// the ticket's team, so that team scoping and the team's queue stay true.
fn check_assignee(
    agent: &AgentId,
    team: Option<&TeamId>,
    directory: &impl DirectoryLookup,
) -> Option<crate::FieldError> {
    let Some(teams) = directory.agent_teams(agent) else { return Some(unknown("assignee", agent)) };
    match team {
        Some(team) if teams.contains(team) => None,
        Some(team) => Some(crate::FieldError::new("assignee", format!("`{agent}` does not work for team `{team}`"))),
        None => Some(crate::FieldError::new("assignee", "needs the ticket to have a team first")),
    }
}

fn unknown(field: &str, id: &impl std::fmt::Display) -> crate::FieldError {
    crate::FieldError::new(field, format!("`{id}` does not exist"))
}

#[cfg(test)]
mod tests;
