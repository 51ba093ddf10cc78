//! Events: the record of every change, from which the ticket projection can be rebuilt.
//!
//! [`apply`] is the only function that changes a ticket; [`crate::decide`] computes the events
//! of a command and then applies them, so replaying the log always gives the stored ticket.

use jiff::Timestamp;

pub use crate::automation::Audience;
use crate::ids::{AgentId, TeamId, TicketId};
use crate::sla::{SlaTarget, SlaTargets, StatusSince};
use crate::ticket::{CustomerTier, Priority, Status, Ticket};

/// One recorded change of one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Global sequence number, assigned by the store at commit: the order of the log.
    pub seq: i64,
    pub ticket_id: TicketId,
    /// The ticket's version once this event is applied.
    pub version: i64,
    pub at: Timestamp,
    /// Who caused it (a token's name, or `system`).
    pub actor: String,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The ticket as first recorded (version 1).
    TicketCreated(Box<Ticket>),
    /// A move in the lifecycle. Entering solved or closed sets `resolved_at` (if unset);
    /// reopening clears it.
    StatusChanged { from: Status, to: Status },
    /// Other fields changed, each with its old and new value.
    FieldsChanged(Vec<FieldChange>),
    /// A comment; `first_response` when it was the first public answer to the customer.
    CommentAdded { public: bool, body: String, first_response: bool },
    /// The ticket's SLA targets were set anew (its category or priority changed, or an admin
    /// applied the current policies): a new cycle, with no warning or breach recorded yet.
    SlaApplied { from: Option<SlaTargets>, to: Option<SlaTargets> },
    /// A target entered its warning window (recorded once per target and cycle).
    SlaAtRisk { target: SlaTarget, due_at: Timestamp },
    /// A target's deadline passed without it being met (recorded once per target and cycle).
    SlaBreached { target: SlaTarget, due_at: Timestamp },
    /// Open tickets that say nearly the same thing, found when the ticket arrived, the most
    /// similar first: suggestions for an agent to merge, nothing changes on the ticket.
    DuplicatesSuggested { similar: Vec<SimilarTicket> },
    /// This ticket was merged into `into`, which carries the request on: recorded as it is
    /// solved and closed, and what tells its requester where their request went.
    MergedInto { into: TicketId },
    /// Ticket `from` was merged into this one (its history stays on it).
    MergedFrom { from: TicketId },
    /// A time rule fired on the ticket (once per status: the record is what keeps it from
    /// firing again until someone changes its status), or could not (`failed`: why; it is not
    /// tried again in this status either, rather than every minute).
    RuleApplied { rule: String, failed: Option<String> },
    /// A message to send, rendered from a template: written to the outbox in the same
    /// transaction, delivered after the commit. Nothing changes on the ticket.
    MessageQueued { audience: Audience, template: String, subject: String, body: String },
    /// The ticket moved along its category's path (see [`crate::workflow`]): from step `from`
    /// to step `to` (`None`: off the path, or not on it yet), owned by `team`, and why. The team
    /// change itself is the `fields_changed` recorded with it; the step's clock starts here.
    HandedOver { from: Option<String>, to: Option<String>, team: Option<TeamId>, reason: String },
}

/// A ticket found similar to another, with the similarity of their normalised texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimilarTicket {
    pub ticket: TicketId,
    /// The Jaccard similarity in thousandths (0 to 1000), so that events compare exactly.
    pub score_permille: u16,
}

impl SimilarTicket {
    /// A similarity in [0, 1], rounded to the thousandth.
    pub fn new(ticket: TicketId, score: f64) -> SimilarTicket {
        SimilarTicket { ticket, score_permille: (score.clamp(0.0, 1.0) * 1000.0).round() as u16 }
    }

    pub fn score(&self) -> f64 {
        f64::from(self.score_permille) / 1000.0
    }
}

impl EventKind {
    /// The stable name of the kind, as stored and served (`ticket_created`...).
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::TicketCreated(_) => "ticket_created",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::FieldsChanged(_) => "fields_changed",
            EventKind::CommentAdded { .. } => "comment_added",
            EventKind::SlaApplied { .. } => "sla_applied",
            EventKind::SlaAtRisk { .. } => "sla_at_risk",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::DuplicatesSuggested { .. } => "duplicates_suggested",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::MergedFrom { .. } => "merged_from",
            EventKind::RuleApplied { .. } => "rule_applied",
            EventKind::MessageQueued { .. } => "message_queued",
            EventKind::HandedOver { .. } => "handed_over",
        }
    }

    /// The engine's SLA bookkeeping (targets applied, warnings, breaches), as opposed to a
    /// change someone made: it does not move the ticket's version (what `If-Match` protects) nor
    /// its `updated_at`, so that a deadline passing never makes a client's write stale.
    pub fn is_sla_bookkeeping(&self) -> bool {
        matches!(self, EventKind::SlaApplied { .. } | EventKind::SlaAtRisk { .. } | EventKind::SlaBreached { .. })
    }

    /// What does not move the ticket's version nor its `updated_at`: the SLA bookkeeping, a
    /// time rule's record and the messages sent (a rule that only tells the customer must not
    /// make an agent's open form stale, nor count as an update for other rules).
    pub fn is_bookkeeping(&self) -> bool {
        self.is_sla_bookkeeping() || matches!(self, EventKind::RuleApplied { .. } | EventKind::MessageQueued { .. })
    }
}

/// The fields a [`FieldChange`] can name, spelled as in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketField {
    Priority,
    Category,
    Team,
    Assignee,
    CustomerTier,
    LegalRisk,
    Blocking,
    Tags,
    Csat,
    Language,
}

/// One field's old and new value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldChange {
    Priority { from: Priority, to: Priority },
    Category { from: String, to: String },
    Team { from: Option<TeamId>, to: Option<TeamId> },
    Assignee { from: Option<AgentId>, to: Option<AgentId> },
    CustomerTier { from: CustomerTier, to: CustomerTier },
    LegalRisk { from: bool, to: bool },
    Blocking { from: bool, to: bool },
    Tags { from: Vec<String>, to: Vec<String> },
    Csat { from: Option<u8>, to: Option<u8> },
    Language { from: Option<String>, to: Option<String> },
}

/// A field value in a generic shape, for printing a change (JSON, CSV, a history page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Null,
    Text(String),
    Bool(bool),
    Int(i64),
    List(Vec<String>),
}

impl FieldChange {
    pub fn field(&self) -> TicketField {
        match self {
            FieldChange::Priority { .. } => TicketField::Priority,
            FieldChange::Category { .. } => TicketField::Category,
            FieldChange::Team { .. } => TicketField::Team,
            FieldChange::Assignee { .. } => TicketField::Assignee,
            FieldChange::CustomerTier { .. } => TicketField::CustomerTier,
            FieldChange::LegalRisk { .. } => TicketField::LegalRisk,
            FieldChange::Blocking { .. } => TicketField::Blocking,
            FieldChange::Tags { .. } => TicketField::Tags,
            FieldChange::Csat { .. } => TicketField::Csat,
            FieldChange::Language { .. } => TicketField::Language,
        }
    }

    /// The old and new values in the generic shape.
    pub fn values(&self) -> (FieldValue, FieldValue) {
        fn text(value: impl ToString) -> FieldValue {
            FieldValue::Text(value.to_string())
        }
        fn optional(value: Option<impl ToString>) -> FieldValue {
            value.map_or(FieldValue::Null, text)
        }
        match self {
            FieldChange::Priority { from, to } => (text(from), text(to)),
            FieldChange::Category { from, to } => (text(from), text(to)),
            FieldChange::Team { from, to } => (optional(from.as_ref()), optional(to.as_ref())),
            FieldChange::Assignee { from, to } => (optional(from.as_ref()), optional(to.as_ref())),
            FieldChange::CustomerTier { from, to } => (text(from), text(to)),
            FieldChange::LegalRisk { from, to } | FieldChange::Blocking { from, to } => {
                (FieldValue::Bool(*from), FieldValue::Bool(*to))
            }
            FieldChange::Tags { from, to } => (FieldValue::List(from.clone()), FieldValue::List(to.clone())),
            FieldChange::Csat { from, to } => (
                from.map_or(FieldValue::Null, |v| FieldValue::Int(v.into())),
                to.map_or(FieldValue::Null, |v| FieldValue::Int(v.into())),
            ),
            FieldChange::Language { from, to } => (optional(from.as_ref()), optional(to.as_ref())),
        }
    }
}

impl TicketField {
    pub fn name(self) -> &'static str {
        match self {
            TicketField::Priority => "priority",
            TicketField::Category => "category",
            TicketField::Team => "team",
            TicketField::Assignee => "assignee",
            TicketField::CustomerTier => "customer_tier",
            TicketField::LegalRisk => "legal_risk",
            TicketField::Blocking => "blocking",
            TicketField::Tags => "tags",
            TicketField::Csat => "csat",
            TicketField::Language => "language",
        }
    }
}

/// Why an event cannot be applied: the log and the ticket disagree. Never expected; reported
/// rather than panicking, so that a damaged log is diagnosed instead of crashing the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("event {seq} creates ticket {ticket_id}, which already exists")]
    AlreadyCreated { seq: i64, ticket_id: String },
    #[error("event {seq} changes ticket {ticket_id}, which was never created")]
    NotCreated { seq: i64, ticket_id: String },
}

/// Applies one event to the ticket it belongs to (`None` before its creation).
pub fn apply(ticket: Option<Ticket>, event: &Event) -> Result<Ticket, ApplyError> {
    let mut ticket = match (&event.kind, ticket) {
        (EventKind::TicketCreated(created), None) => return Ok((**created).clone()),
        (EventKind::TicketCreated(_), Some(_)) => {
            return Err(ApplyError::AlreadyCreated { seq: event.seq, ticket_id: event.ticket_id.to_string() });
        }
        (_, None) => return Err(ApplyError::NotCreated { seq: event.seq, ticket_id: event.ticket_id.to_string() }),
        (_, Some(ticket)) => ticket,
    };
    match &event.kind {
        EventKind::TicketCreated(_) => {}
        EventKind::StatusChanged { to, .. } => {
            ticket.status = *to;
            ticket.status_history.push(StatusSince { status: *to, since: event.at });
            // A new status is a new episode for the time rules, unless a rule made it: a rule
            // whose move another rule undoes must not fire again (that would loop).
            if !event.actor.starts_with(crate::automation::RULE_ACTOR_PREFIX) {
                ticket.rules_applied.clear();
            }
            if to.is_open() {
                ticket.resolved_at = None;
            } else if ticket.resolved_at.is_none() {
                ticket.resolved_at = Some(event.at);
            }
        }
        EventKind::FieldsChanged(changes) => {
            for change in changes {
                apply_field(&mut ticket, change);
            }
        }
        EventKind::CommentAdded { first_response, .. } => {
            if *first_response && ticket.first_response_at.is_none() {
                ticket.first_response_at = Some(event.at);
            }
        }
        EventKind::SlaApplied { to, .. } => {
            ticket.sla_targets = to.clone();
            ticket.sla_marks = Default::default();
        }
        EventKind::SlaAtRisk { target, .. } => ticket.sla_marks.of_mut(*target).at_risk = true,
        EventKind::SlaBreached { target, .. } => ticket.sla_marks.of_mut(*target).breached = true,
        EventKind::RuleApplied { rule, .. } => {
            if !ticket.rules_applied.contains(rule) {
                ticket.rules_applied.push(rule.clone());
            }
        }
        EventKind::HandedOver { to, .. } => {
            // (The time rules measured from `step_entered` are recorded per stay: see
            // `AutomationRule::record_key`; the others are not re-armed by a handoff.)
            ticket.steps.push(crate::workflow::StepSince { step: to.clone().unwrap_or_default(), since: event.at });
        }
        EventKind::DuplicatesSuggested { .. }
        | EventKind::MergedInto { .. }
        | EventKind::MergedFrom { .. }
        | EventKind::MessageQueued { .. } => {}
    }
    ticket.version = event.version;
    if !event.kind.is_bookkeeping() {
        ticket.updated_at = event.at;
    }
    Ok(ticket)
}

fn apply_field(ticket: &mut Ticket, change: &FieldChange) {
    match change {
        FieldChange::Priority { to, .. } => ticket.priority = *to,
        FieldChange::Category { to, .. } => ticket.category = to.clone(),
        FieldChange::Team { to, .. } => ticket.team = to.clone(),
        FieldChange::Assignee { to, .. } => ticket.assignee = to.clone(),
        FieldChange::CustomerTier { to, .. } => ticket.customer_tier = *to,
        FieldChange::LegalRisk { to, .. } => ticket.legal_risk = *to,
        FieldChange::Blocking { to, .. } => ticket.blocking = *to,
        FieldChange::Tags { to, .. } => ticket.tags = to.clone(),
        FieldChange::Csat { to, .. } => ticket.csat = *to,
        FieldChange::Language { to, .. } => ticket.language = to.clone(),
    }
}

/// Rebuilds a ticket from its whole history, in sequence order.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Result<Option<Ticket>, ApplyError> {
    let mut ticket = None;
    for event in events {
        ticket = Some(apply(ticket, event)?);
    }
    Ok(ticket)
}
