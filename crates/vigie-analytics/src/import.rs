//! A history row as vigie would have recorded it: the ticket's events with their original
//! instants (created, first response, status changes, resolution, rating), for `vigie import`.
//!
//! What an export does not say is chosen, and stated here: the first response is a public
//! comment (its text is not in the export) that also moves a new ticket to `open`; a ticket
//! solved or closed is solved at `resolved_at` (and closed at the same instant); a ticket still
//! waiting (`pending_*`) entered that status at its latest known instant (the first response,
//! else the creation); the rating is recorded at the resolution (or at a first reply that came
//! after it); the team and assignee are the export's from the creation on. A `lang:xx` tag gives
//! the ticket's language.

use jiff::Timestamp;
use vigie_core::{
    AgentId, Channel, CustomerId, CustomerTier, Event, EventKind, FieldChange, Priority, Status, TeamId, Ticket,
    TicketId,
};

use crate::history::{Column, FieldProblem, Row, problem};

/// The author of the events an import records (but the first response, written by the
/// assignee when there is one).
pub const IMPORT_ACTOR: &str = "import";

/// One ticket of a history, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryTicket {
    pub id: TicketId,
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub status: Status,
    pub priority: Priority,
    pub category: String,
    pub channel: Channel,
    pub customer_id: CustomerId,
    pub customer_tier: CustomerTier,
    pub team: TeamId,
    pub assignee: Option<AgentId>,
    pub subject: String,
    pub body: String,
    pub csat: Option<u8>,
    pub tags: Vec<String>,
}

fn instant(column: Column, seconds: Option<i64>) -> Result<Option<Timestamp>, FieldProblem> {
    seconds
        .map(|s| Timestamp::from_second(s).map_err(|_| problem(column, &s.to_string(), "is out of range")))
        .transpose()
}

impl HistoryTicket {
    /// Reads and checks a row for the import: the report's checks, plus ids the store accepts
    /// and a status that agrees with `resolved_at` (solved or closed exactly when resolved).
    pub fn from_row(row: &Row<'_>) -> Result<HistoryTicket, FieldProblem> {
        let facts = row.facts()?;
        let id = TicketId::parse(facts.id.as_ref()).map_err(|e| problem(Column::Id, &facts.id, &e.to_string()))?;
        let customer = row.required(Column::CustomerId)?;
        let customer_id =
            CustomerId::parse(customer.as_ref()).map_err(|e| problem(Column::CustomerId, &customer, &e.to_string()))?;
        let team =
            TeamId::parse(facts.team.as_ref()).map_err(|e| problem(Column::Team, &facts.team, &e.to_string()))?;
        let assignee = match row.optional(Column::Assignee)? {
            Some(a) => Some(AgentId::parse(a.as_ref()).map_err(|e| problem(Column::Assignee, &a, &e.to_string()))?),
            None => None,
        };
        let resolved = facts.resolved_at.is_some();
        if resolved == facts.status.is_open() {
            let reason = if resolved {
                "is an open status but resolved_at is set (an open ticket has no resolution)"
            } else {
                "is solved or closed but resolved_at is empty (when was it resolved?)"
            };
            return Err(problem(Column::Status, facts.status.as_str(), reason));
        }
        let tags =
            row.text(Column::Tags)?.split(';').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
        Ok(HistoryTicket {
            id,
            created_at: instant(Column::CreatedAt, Some(facts.created_at))?.unwrap_or_default(),
            first_response_at: instant(Column::FirstResponseAt, facts.first_response_at)?,
            resolved_at: instant(Column::ResolvedAt, facts.resolved_at)?,
            status: facts.status,
            priority: facts.priority,
            category: facts.category.into_owned(),
            channel: facts.channel,
            customer_id,
            customer_tier: facts.customer_tier,
            team,
            assignee,
            subject: row.text(Column::Subject)?.into_owned(),
            body: row.text(Column::Body)?.into_owned(),
            csat: facts.csat,
            tags,
        })
    }

    /// The events vigie would have recorded for this ticket, in order, without SLA targets
    /// (the caller applies its rules: `vigie_core::decide::assign_sla_targets`).
    pub fn events(&self) -> Vec<Event> {
        let language = self.tags.iter().find_map(|t| t.strip_prefix("lang:")).map(str::to_owned);
        let created = Ticket {
            id: self.id.clone(),
            version: 1,
            created_at: self.created_at,
            updated_at: self.created_at,
            first_response_at: None,
            resolved_at: None,
            status: Status::New,
            priority: self.priority,
            category: self.category.clone(),
            channel: self.channel,
            customer_id: self.customer_id.clone(),
            customer_tier: self.customer_tier,
            team: Some(self.team.clone()),
            assignee: self.assignee.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            csat: None,
            tags: self.tags.clone(),
            legal_risk: false,
            blocking: false,
            language,
            status_history: vec![vigie_core::StatusSince { status: Status::New, since: self.created_at }],
            sla_targets: None,
            sla_marks: Default::default(),
            rules_applied: Vec::new(),
            steps: Vec::new(),
        };
        let mut history = Recorder { id: &self.id, events: Vec::new(), status: Status::New };
        history.push(self.created_at, IMPORT_ACTOR, EventKind::TicketCreated(Box::new(created)));
        let mut latest = self.created_at;
        let first_response = |history: &mut Recorder<'_>, at: Timestamp| {
            let author = self.assignee.as_ref().map_or(IMPORT_ACTOR, AgentId::as_str);
            let body = "(imported: the first public reply; its text is not in the export)".to_owned();
            history.push(at, author, EventKind::CommentAdded { public: true, body, first_response: true });
        };
        // A first reply after the resolution (some desks record a closing message so) comes
        // after it, and does not reopen the ticket: the events stay in time order.
        let reply_after_resolution = matches!((self.first_response_at, self.resolved_at), (Some(f), Some(r)) if f > r);
        if let Some(at) = self.first_response_at.filter(|_| !reply_after_resolution) {
            first_response(&mut history, at);
            history.move_to(at, Status::Open);
            latest = at;
        }
        match (self.resolved_at, self.status) {
            (Some(at), status) => {
                history.move_to(at, Status::Solved);
                if status == Status::Closed {
                    history.move_to(at, Status::Closed);
                }
                latest = at;
            }
            (None, status) if status != history.status && status != Status::New => history.move_to(latest, status),
            (None, _) => {}
        }
        if let Some(at) = self.first_response_at.filter(|_| reply_after_resolution) {
            first_response(&mut history, at);
            latest = at;
        }
        if let Some(csat) = self.csat {
            history.push(
                latest,
                IMPORT_ACTOR,
                EventKind::FieldsChanged(vec![FieldChange::Csat { from: None, to: Some(csat) }]),
            );
        }
        history.events
    }
}

/// Appends events with consecutive versions.
struct Recorder<'a> {
    id: &'a TicketId,
    events: Vec<Event>,
    status: Status,
}

impl Recorder<'_> {
    fn push(&mut self, at: Timestamp, actor: &str, kind: EventKind) {
        let version = self.events.len() as i64 + 1;
        self.events.push(Event { seq: 0, ticket_id: self.id.clone(), version, at, actor: actor.to_owned(), kind });
    }

    fn move_to(&mut self, at: Timestamp, to: Status) {
        if self.status != to {
            let from = self.status;
            self.push(at, IMPORT_ACTOR, EventKind::StatusChanged { from, to });
            self.status = to;
        }
    }
}

#[cfg(test)]
mod tests {
    use vigie_core::event::replay;
    use vigie_core::lifecycle;

    use super::*;

    fn ticket(first_response: Option<i64>, resolved: Option<i64>, status: Status, csat: Option<u8>) -> HistoryTicket {
        let at = |s: i64| Timestamp::from_second(1_772_409_600 + s).expect("instant");
        HistoryTicket {
            id: TicketId::parse("T000000042").expect("id"),
            created_at: at(0),
            first_response_at: first_response.map(at),
            resolved_at: resolved.map(at),
            status,
            priority: Priority::P2,
            category: "billing".to_owned(),
            channel: Channel::Email,
            customer_id: CustomerId::parse("C1").expect("id"),
            customer_tier: CustomerTier::Premium,
            team: TeamId::parse("billing_ops").expect("id"),
            assignee: Some(AgentId::parse("bil_003").expect("id")),
            subject: "Charged twice".to_owned(),
            body: "Two debits".to_owned(),
            csat,
            tags: vec!["lang:fr".to_owned(), "vip".to_owned()],
        }
    }

    /// Every shape of row replays into a ticket that says what the row says, through allowed
    /// moves only.
    #[test]
    fn the_events_replay_into_the_row() {
        let cases = [
            ticket(None, None, Status::New, None),
            ticket(Some(600), None, Status::Open, None),
            ticket(Some(600), None, Status::PendingCustomer, None),
            ticket(None, None, Status::PendingThirdParty, None),
            ticket(Some(600), Some(7_200), Status::Solved, Some(4)),
            ticket(None, Some(7_200), Status::Closed, Some(2)),
            ticket(Some(7_200), Some(7_200), Status::Closed, None),
            ticket(Some(9_000), Some(7_200), Status::Solved, Some(5)),
        ];
        for row in cases {
            let events = row.events();
            for pair in events.windows(2) {
                assert!(pair[0].at <= pair[1].at, "{row:?}: events in time order");
            }
            for event in &events {
                if let EventKind::StatusChanged { from, to } = event.kind {
                    assert!(lifecycle::is_allowed(from, to), "{from} -> {to}");
                }
            }
            let replayed = replay(&events).expect("replays").expect("a ticket");
            assert_eq!(
                replayed.status,
                if row.status == Status::New && row.first_response_at.is_some() { Status::Open } else { row.status }
            );
            assert_eq!(replayed.first_response_at, row.first_response_at);
            assert_eq!(replayed.resolved_at, row.resolved_at);
            assert_eq!(replayed.csat, row.csat);
            assert_eq!(replayed.created_at, row.created_at);
            assert_eq!(replayed.version, events.len() as i64);
            assert_eq!(replayed.language.as_deref(), Some("fr"));
            assert_eq!(replayed.assignee, row.assignee);
        }
    }
}
