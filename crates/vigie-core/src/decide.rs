//! Deciding a command against the current state: the checks, then the events, then the new
//! ticket (by applying those events, so the log and the projection cannot disagree).

use jiff::Timestamp;

use crate::actor::Actor;
use crate::command::{ExpectedVersion, NewComment, NewTicket, Patch, TicketPatch, ValidationErrors};
use crate::directory::Skills;
use crate::event::{self, Event, EventKind, FieldChange};
use crate::ids::{AgentId, CustomerId, TeamId, TicketId};
use crate::lifecycle;
use crate::rules::Rules;
use crate::sla::{SlaMark, StatusSince};
use crate::ticket::{CustomerTier, Priority, Status, Ticket};

/// What the store knows of the directory, as far as a command needs it. The store answers
/// from the same transaction the command is decided in.
pub trait DirectoryLookup {
    fn team_exists(&self, team: &TeamId) -> bool;
    /// The teams an agent works for; `None` for an agent not on record.
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>>;
    /// The tier on record for a customer; `None` for a customer not yet on record.
    fn customer_tier(&self, customer: &CustomerId) -> Option<CustomerTier>;
    /// The categories and languages an agent handles; `None` for an agent not on record.
    fn agent_skills(&self, agent: &AgentId) -> Option<Skills>;
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
    /// The ticket cannot be claimed: someone holds it already, or it is not waiting to be
    /// worked.
    #[error("cannot be claimed: {0}")]
    NotClaimable(&'static str),
    /// The ticket cannot move along a path now: its category has none, it is at the last step,
    /// or it is resolved.
    #[error("cannot be handed over: {0}")]
    CannotHandOver(String),
}

/// Creates ticket `id` from a checked [`NewTicket`].
pub fn create(
    id: TicketId,
    new_ticket: NewTicket,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    if !actor.can_write_tickets() {
        return Err(CommandError::Forbidden("viewers cannot create tickets"));
    }
    // A request of a category with a workflow starts on its path: at the first step its team
    // works (a request routed straight to the back office starts at the back office's step), or
    // at the first step, with that step's team when the creator named none.
    let workflow = rules.workflows.for_category(&new_ticket.category);
    let team = new_ticket.team.clone().or_else(|| workflow.map(|w| w.first().team.clone()));
    let mut errors = Vec::new();
    match (&team, &new_ticket.team) {
        (Some(team), None) if !directory.team_exists(team) => errors.push(crate::FieldError::new(
            "team",
            format!(
                "is missing, and `{team}`, the first step's team of the `{}` path, does not exist",
                new_ticket.category
            ),
        )),
        (Some(team), _) if !directory.team_exists(team) => errors.push(unknown("team", team)),
        (Some(team), _) if !actor.can_see_team(Some(team)) => {
            errors.push(crate::FieldError::new("team", "must be one of your teams"));
        }
        (None, _) if actor.team_scope().is_some() => {
            errors.push(crate::FieldError::new("team", "is required: an agent creates tickets for one of their teams"));
        }
        _ => {}
    }
    if let Some(agent) = &new_ticket.assignee
        && let Some(error) = check_assignee(agent, team.as_ref(), directory)
    {
        errors.push(error);
    }
    ValidationErrors::finish(errors).map_err(CommandError::Invalid)?;
    let steps = workflow
        .map(|w| vec![crate::workflow::StepSince { step: w.entry(team.as_ref()).name.clone(), since: now }])
        .unwrap_or_default();
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
        category: new_ticket.category.clone(),
        channel: new_ticket.channel,
        customer_id: new_ticket.customer_id,
        customer_tier,
        team,
        assignee: new_ticket.assignee,
        subject: new_ticket.subject,
        body: new_ticket.body,
        csat: None,
        tags: new_ticket.tags,
        legal_risk: new_ticket.legal_risk,
        blocking: new_ticket.blocking,
        sla_targets: rules.sla.select(&new_ticket.category, new_ticket.priority, new_ticket.channel),
        language: new_ticket.language,
        status_history: vec![StatusSince { status: Status::New, since: now }],
        sla_marks: Default::default(),
        rules_applied: Vec::new(),
        steps,
    };
    let event = |kind| Event { seq: 0, ticket_id: id.clone(), version: 1, at: now, actor: actor.name.clone(), kind };
    let mut events = vec![event(EventKind::TicketCreated(Box::new(ticket.clone())))];
    if !new_ticket.similar.is_empty() {
        events.push(event(EventKind::DuplicatesSuggested { similar: new_ticket.similar }));
    }
    Ok(Decision { ticket, events })
}

/// Changes fields of `current` as `patch` asks, if `expected` still holds.
pub fn patch(
    current: &Ticket,
    expected: ExpectedVersion,
    patch: &TicketPatch,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    check_access(current, &expected, actor)?;
    let kinds = patch_kinds(current, patch, actor, directory, rules)?;
    record(current, kinds, actor, now, rules)
}

/// The events of a checked patch on `current` (access and version already checked).
pub(crate) fn patch_kinds(
    current: &Ticket,
    patch: &TicketPatch,
    actor: &Actor,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Vec<EventKind>, CommandError> {
    patch_kinds_on_path(current, patch, actor, directory, rules, false)
}

/// [`patch_kinds`], from a handoff (`handing_over`: the team change is the handoff's own) or not.
pub(crate) fn patch_kinds_on_path(
    current: &Ticket,
    patch: &TicketPatch,
    actor: &Actor,
    directory: &impl DirectoryLookup,
    rules: &Rules,
    handing_over: bool,
) -> Result<Vec<EventKind>, CommandError> {
    // A new category may put an open ticket on another path (or take it off one): it enters at
    // the step its team works (as a new ticket does), else at the first step, handed to that
    // step's team.
    let new_category = patch.category.as_ref().filter(|category| **category != current.category);
    let moves_on_paths = new_category.is_some() && patch.status.unwrap_or(current.status).is_open();
    let entered = new_category.filter(|_| moves_on_paths).and_then(|category| rules.workflows.for_category(category));
    let adjusted;
    let patch = match entered {
        Some(workflow)
            if patch.team == Patch::Keep
                && !current.team.as_ref().is_some_and(|team| workflow.steps.iter().any(|s| s.team == *team)) =>
        {
            adjusted = TicketPatch { team: Patch::Set(workflow.first().team.clone()), ..patch.clone() };
            &adjusted
        }
        _ => patch,
    };
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
    // On a path, the team that works another step gets the ticket by a handoff, so that the
    // step's checks run and the history says why.
    if !handing_over
        && new_category.is_none()
        && current.status.is_open()
        && let Some(Some(team)) = &team_change
        && let Some(workflow) = rules.workflows.for_category(&current.category)
        && let Some(at) = workflow.current(current)
        && workflow.steps[at].team != *team
        && workflow.steps.iter().any(|step| step.team == *team)
    {
        let steps: Vec<String> =
            workflow.steps.iter().filter(|step| step.team == *team).map(|step| format!("`{}`", step.name)).collect();
        errors.push(crate::FieldError::new(
            "team",
            format!(
                "`{team}` works step {} of the `{}` path: hand the ticket over (POST \
                 /api/v1/tickets/{{id}}/handoff) so that the step's checks run and the history says why",
                steps.join(" and "),
                workflow.category
            ),
        ));
    }
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
    if let Some(to) = resolve(&patch.language, &current.language) {
        changes.push(FieldChange::Language { from: current.language.clone(), to });
    }
    ValidationErrors::finish(errors).map_err(CommandError::Invalid)?;

    let mut kinds = Vec::new();
    if !changes.is_empty() {
        kinds.push(EventKind::FieldsChanged(changes));
    }
    if let Some(category) = new_category {
        kinds.extend(crate::workflow::recategorised(current, category, final_team, moves_on_paths, rules));
    }
    if let Some(to) = patch.status
        && to != current.status
    {
        if !lifecycle::is_allowed(current.status, to) {
            return Err(CommandError::IllegalTransition { from: current.status, to });
        }
        kinds.push(EventKind::StatusChanged { from: current.status, to });
    }
    // A new category or priority may fall under another policy: the targets follow the ticket.
    let category = patch.category.as_ref().unwrap_or(&current.category);
    let priority = patch.priority.unwrap_or(current.priority);
    if (category, priority) != (&current.category, current.priority) {
        let status = patch.status.unwrap_or(current.status);
        kinds.extend(retarget(current, category, priority, status, rules));
    }
    Ok(kinds)
}

/// Adds a comment to `current`. A public comment by someone who answers customers is the first
/// response if there was none.
pub fn comment(
    current: &Ticket,
    comment: &NewComment,
    actor: &Actor,
    now: Timestamp,
    rules: &Rules,
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
    record(current, kinds, actor, now, rules)
}

/// Merges `source` into `target` (a duplicate into the ticket that carries the request on):
/// `source` records where it went and is solved and closed (the lifecycle's own moves), `target`
/// records what joined it; each keeps its own comments and history. Both must be visible and
/// writable to `actor`, `source` at `expected`, and `target` (`None`: no such ticket) open.
pub fn merge(
    source: &Ticket,
    expected: &ExpectedVersion,
    target: Option<&Ticket>,
    actor: &Actor,
    now: Timestamp,
    rules: &Rules,
) -> Result<(Decision, Decision), CommandError> {
    check_access(source, expected, actor)?;
    // The target is named in the request body: an unknown or unseen one is a bad field, not a
    // missing resource.
    let Some(target) = target.filter(|target| actor.can_see(target)) else {
        return Err(invalid("into", "names no ticket you can see"));
    };
    if source.id == target.id {
        return Err(invalid("into", "is this ticket: a ticket cannot be merged into itself"));
    }
    if !target.status.is_open() {
        return Err(invalid("into", "is solved or closed: merge into an open ticket"));
    }
    let mut kinds = vec![EventKind::MergedInto { into: target.id.clone() }];
    if source.status != Status::Solved {
        kinds.push(EventKind::StatusChanged { from: source.status, to: Status::Solved });
    }
    kinds.push(EventKind::StatusChanged { from: Status::Solved, to: Status::Closed });
    let merged = record(source, kinds, actor, now, rules)?;
    let joined = record(target, vec![EventKind::MergedFrom { from: source.id.clone() }], actor, now, rules)?;
    Ok((merged, joined))
}

fn invalid(field: &str, reason: &str) -> CommandError {
    CommandError::Invalid(crate::ValidationErrors::one(field, reason))
}

/// The statuses a ticket can be claimed in: waiting for someone to work on it.
pub const CLAIMABLE: [Status; 2] = [Status::New, Status::Open];

/// Gives `current` to `agent` ("next ticket"): only an unassigned ticket waiting to be worked,
/// of one of the agent's teams, within their skills. A `new` ticket becomes `open`: someone is
/// on it.
pub fn claim(
    current: &Ticket,
    agent: &AgentId,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    check_access(current, &ExpectedVersion::Any, actor)?;
    if current.assignee.is_some() {
        return Err(CommandError::NotClaimable("it is assigned already"));
    }
    if !CLAIMABLE.contains(&current.status) {
        return Err(CommandError::NotClaimable("it is not waiting to be worked (new or open)"));
    }
    if let Some(error) = check_assignee(agent, current.team.as_ref(), directory) {
        // Named after what the claim was asked with: the agent.
        return Err(CommandError::Invalid(ValidationErrors::one("agent", error.reason)));
    }
    let skills = directory.agent_skills(agent).unwrap_or_default();
    if !skills.covers(&current.category, current.language.as_deref()) {
        return Err(CommandError::NotClaimable("it is outside the agent's skills"));
    }
    let mut kinds = vec![EventKind::FieldsChanged(vec![FieldChange::Assignee { from: None, to: Some(agent.clone()) }])];
    if current.status == Status::New {
        kinds.push(EventKind::StatusChanged { from: Status::New, to: Status::Open });
    }
    record(current, kinds, actor, now, rules)
}

/// Records the SLA warnings and breaches due at `now` that are not recorded yet (the
/// scheduler's command). Nothing to record is an empty decision, not an error.
pub fn check_sla(current: &Ticket, now: Timestamp, rules: &Rules) -> Result<Decision, CommandError> {
    record(current, Vec::new(), &Actor::system(), now, rules)
}

/// Applies the current SLA policies to `current` (an admin's request after a policy change):
/// its targets become those of the policy that matches it now. Solved and closed tickets keep
/// the targets they were measured against.
pub fn apply_sla(current: &Ticket, actor: &Actor, now: Timestamp, rules: &Rules) -> Result<Decision, CommandError> {
    if !actor.can_manage_directory() {
        return Err(CommandError::Forbidden("only admins apply SLA policies"));
    }
    let kinds = retarget(current, &current.category, current.priority, current.status, rules).into_iter().collect();
    record(current, kinds, actor, now, rules)
}

/// The `SlaApplied` that gives `ticket` the targets of the policy matching this category and
/// priority under `rules`, if they differ from its own. Only while it is open (`status` is its
/// status after the change): a solved or closed ticket keeps the targets it was measured against.
fn retarget(ticket: &Ticket, category: &str, priority: Priority, status: Status, rules: &Rules) -> Option<EventKind> {
    if !status.is_open() {
        return None;
    }
    let targets = rules.sla.select(category, priority, ticket.channel);
    (targets != ticket.sla_targets).then(|| EventKind::SlaApplied { from: ticket.sla_targets.clone(), to: targets })
}

pub(crate) fn check_access(current: &Ticket, expected: &ExpectedVersion, actor: &Actor) -> Result<(), CommandError> {
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

/// Turns event kinds into events and applies them, then adds the SLA warnings and breaches
/// that are due at `now` and not recorded yet, so that whatever command touches a ticket keeps
/// its SLA record current. The events of a command share its new version; SLA bookkeeping alone
/// keeps the current one (see [`EventKind::is_sla_bookkeeping`]).
pub(crate) fn record(
    current: &Ticket,
    kinds: Vec<EventKind>,
    actor: &Actor,
    now: Timestamp,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    let changes_version = kinds.iter().any(|kind| !kind.is_bookkeeping());
    let version = if changes_version { current.version + 1 } else { current.version };
    // A command decided with a "now" older than the ticket's last change (two writers, two
    // clocks) is recorded at that change: a ticket's history never goes back in time.
    let now = now.max(current.updated_at);
    let event = |kind: EventKind, actor: &str| Event {
        seq: 0,
        ticket_id: current.id.clone(),
        version,
        at: now,
        actor: actor.to_owned(),
        kind,
    };
    let mut events: Vec<Event> = kinds.into_iter().map(|kind| event(kind, &actor.name)).collect();
    let mut ticket = apply_all(current.clone(), &events)?;
    if let Some(clock) = ticket.sla_clock() {
        let sla = rules.sla.evaluate(&clock, now);
        let marks: Vec<Event> = sla
            .pending_marks(now)
            .into_iter()
            .map(|(target, mark, due_at)| {
                let kind = match mark {
                    SlaMark::AtRisk => EventKind::SlaAtRisk { target, due_at },
                    SlaMark::Breached => EventKind::SlaBreached { target, due_at },
                };
                event(kind, &Actor::system().name)
            })
            .collect();
        ticket = apply_all(ticket, &marks)?;
        events.extend(marks);
    }
    Ok(Decision { ticket, events })
}

fn apply_all(mut ticket: Ticket, events: &[Event]) -> Result<Ticket, CommandError> {
    for event in events {
        // Applying our own, freshly made events to an existing ticket cannot fail; map the
        // impossible case to NotFound rather than panic.
        ticket = event::apply(Some(ticket), event).map_err(|_| CommandError::NotFound)?;
    }
    Ok(ticket)
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

/// The history of a ticket as it would have been recorded under `rules`: the targets of the
/// matching policy in its creation, and an `SlaApplied` after each change of its category or
/// priority that moves it under another policy. For bulk loads (demo data, imports) whose
/// histories were made without rules. A history that does not replay is returned unchanged.
pub fn assign_sla_targets(history: Vec<Event>, rules: &Rules) -> Vec<Event> {
    let mut assigned = Vec::with_capacity(history.len());
    let mut ticket: Option<Ticket> = None;
    for mut event in history.iter().cloned() {
        if let EventKind::TicketCreated(created) = &mut event.kind {
            created.sla_targets = rules.sla.select(&created.category, created.priority, created.channel);
        }
        let Ok(after) = event::apply(ticket.take(), &event) else { return history };
        let recategorised = matches!(&event.kind, EventKind::FieldsChanged(changes)
            if changes.iter().any(|c| matches!(c, FieldChange::Category { .. } | FieldChange::Priority { .. })));
        let applied = recategorised
            .then(|| retarget(&after, &after.category, after.priority, after.status, rules))
            .flatten()
            .map(|kind| Event { kind, ..event.clone() });
        assigned.push(event);
        ticket = Some(after);
        if let Some(applied) = applied {
            let Ok(after) = event::apply(ticket.take(), &applied) else { return history };
            ticket = Some(after);
            assigned.push(applied);
        }
    }
    assigned
}
