//! How core values are written to and read from SQL rows: the one place that knows the
//! storage spelling (epoch microseconds, `;`-joined lists, the JSON payload of each event).

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use vigie_core::sla::{SlaMarks, SlaTarget, SlaTargets, StatusSince, TargetMarks};
use vigie_core::workflow::StepSince;
use vigie_core::{
    AgentId, Channel, CustomerId, CustomerTier, Event, EventKind, FieldChange, Priority, Status, TeamId, Ticket,
    TicketId,
};

use crate::StoreError;

/// A `tickets` row, column for column. Also read from a JSON array of its columns in this
/// order (see `Queries::json_rows`).
#[derive(Debug, Clone, sqlx::FromRow, Deserialize)]
pub(crate) struct TicketRow {
    pub id: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub status: String,
    #[serde(deserialize_with = "flag")]
    pub is_open: bool,
    pub priority: i64,
    pub category: String,
    pub channel: String,
    pub customer_id: String,
    pub customer_tier: String,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub subject: String,
    pub body: String,
    pub csat: Option<i64>,
    pub tags: String,
    #[serde(deserialize_with = "flag")]
    pub legal_risk: bool,
    #[serde(deserialize_with = "flag")]
    pub blocking: bool,
    pub language: Option<String>,
    /// `status@micros;...`; `None` on rows written before it existed (rebuilt at open).
    pub status_history: Option<String>,
    /// JSON; `None` without targets.
    pub sla_targets: Option<String>,
    pub sla_marks: i64,
    /// The time rules applied since the last status change, `;`-joined.
    pub rules_applied: String,
    /// The steps of its path it entered, `step@micros;...` (an empty step: it left the path).
    pub steps: String,
    /// The sequence number of the ticket's last event (set by the writer, not by
    /// [`TicketRow::from_ticket`]).
    pub last_seq: i64,
}

/// The column list of `tickets`, in [`TicketRow`]'s order.
pub(crate) const TICKET_COLUMNS: &str = "id, version, created_at, updated_at, first_response_at, resolved_at, \
     status, is_open, priority, category, channel, customer_id, customer_tier, team, assignee, subject, body, \
     csat, tags, legal_risk, blocking, language, status_history, sla_targets, sla_marks, rules_applied, steps, last_seq";

/// [`TICKET_COLUMNS`] with empty texts (subject, body): for reads that never show them (the
/// live state, which keeps the tags for the time rules' conditions).
pub(crate) const TICKET_COLUMNS_NO_TEXT: &str = "id, version, created_at, updated_at, first_response_at, \
     resolved_at, status, is_open, priority, category, channel, customer_id, customer_tier, team, assignee, \
     '' AS subject, '' AS body, csat, tags, legal_risk, blocking, language, status_history, sla_targets, \
     sla_marks, rules_applied, steps, last_seq";

/// A JSON boolean, or SQLite's `1`/`0` (its JSON functions write booleans as integers).
fn flag<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(flag) => Ok(flag),
        Value::Number(number) => Ok(number.as_i64() != Some(0)),
        other => Err(serde::de::Error::custom(format!("not a flag: {other}"))),
    }
}

/// An `events` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub ticket_id: String,
    pub version: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub data: String,
}

pub(crate) fn micros(at: Timestamp) -> i64 {
    // i64 microseconds cover ±292,000 years; jiff's range is ±9999 years, so this is exact.
    at.as_microsecond()
}

/// `at` cut to the microsecond: the precision stored. Applied to every instant on its way in,
/// so that what a caller is answered equals what a later read returns.
pub fn to_stored_precision(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond()).unwrap_or(at)
}

pub(crate) fn timestamp(micros: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(micros).map_err(|e| StoreError::corrupt(format!("timestamp {micros}: {e}")))
}

pub(crate) fn join_list(items: &[String]) -> String {
    items.join(";")
}

pub(crate) fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() { Vec::new() } else { text.split(';').map(str::to_owned).collect() }
}

/// An event with every instant in it cut to the stored precision.
pub(crate) fn event_to_stored_precision(event: Event) -> Event {
    let kind = match event.kind {
        EventKind::TicketCreated(ticket) => EventKind::TicketCreated(Box::new(ticket_to_stored_precision(*ticket))),
        other => other,
    };
    Event { at: to_stored_precision(event.at), kind, ..event }
}

fn ticket_to_stored_precision(ticket: Ticket) -> Ticket {
    Ticket {
        created_at: to_stored_precision(ticket.created_at),
        updated_at: to_stored_precision(ticket.updated_at),
        first_response_at: ticket.first_response_at.map(to_stored_precision),
        resolved_at: ticket.resolved_at.map(to_stored_precision),
        status_history: ticket
            .status_history
            .iter()
            .map(|entry| StatusSince { since: to_stored_precision(entry.since), ..*entry })
            .collect(),
        steps: ticket
            .steps
            .into_iter()
            .map(|entry| StepSince { since: to_stored_precision(entry.since), step: entry.step })
            .collect(),
        ..ticket
    }
}

impl TicketRow {
    pub(crate) fn from_ticket(ticket: &Ticket) -> Self {
        TicketRow {
            id: ticket.id.to_string(),
            version: ticket.version,
            created_at: micros(ticket.created_at),
            updated_at: micros(ticket.updated_at),
            first_response_at: ticket.first_response_at.map(micros),
            resolved_at: ticket.resolved_at.map(micros),
            status: ticket.status.as_str().to_owned(),
            is_open: ticket.status.is_open(),
            priority: ticket.priority.rank(),
            category: ticket.category.clone(),
            channel: ticket.channel.as_str().to_owned(),
            customer_id: ticket.customer_id.to_string(),
            customer_tier: ticket.customer_tier.as_str().to_owned(),
            team: ticket.team.as_ref().map(ToString::to_string),
            assignee: ticket.assignee.as_ref().map(ToString::to_string),
            subject: ticket.subject.clone(),
            body: ticket.body.clone(),
            csat: ticket.csat.map(i64::from),
            tags: join_list(&ticket.tags),
            legal_risk: ticket.legal_risk,
            blocking: ticket.blocking,
            language: ticket.language.clone(),
            status_history: Some(status_history_text(&ticket.status_history)),
            sla_targets: ticket.sla_targets.as_ref().map(|targets| targets_json(targets).to_string()),
            sla_marks: marks_bits(ticket.sla_marks),
            rules_applied: join_list(&ticket.rules_applied),
            steps: steps_text(&ticket.steps),
            last_seq: 0,
        }
    }

    /// The ticket and the sequence number of its last event.
    pub(crate) fn into_stored(self) -> Result<crate::StoredTicket, StoreError> {
        let last_seq = self.last_seq;
        Ok(crate::StoredTicket { ticket: self.into_ticket()?, last_seq })
    }

    pub(crate) fn into_ticket(self) -> Result<Ticket, StoreError> {
        let id = self.id.clone();
        let bad = |what: &str, value: &str| StoreError::corrupt(format!("ticket {id}: bad {what} `{value}`"));
        Ok(Ticket {
            id: TicketId::parse(self.id.clone()).map_err(|_| bad("id", &self.id))?,
            version: self.version,
            created_at: timestamp(self.created_at)?,
            updated_at: timestamp(self.updated_at)?,
            first_response_at: self.first_response_at.map(timestamp).transpose()?,
            resolved_at: self.resolved_at.map(timestamp).transpose()?,
            status: Status::parse(&self.status).ok_or_else(|| bad("status", &self.status))?,
            priority: Priority::from_rank(self.priority).ok_or_else(|| bad("priority", &self.priority.to_string()))?,
            category: self.category,
            channel: Channel::parse(&self.channel).ok_or_else(|| bad("channel", &self.channel))?,
            customer_id: CustomerId::parse(self.customer_id.clone()).map_err(|_| bad("customer", &self.customer_id))?,
            customer_tier: CustomerTier::parse(&self.customer_tier).ok_or_else(|| bad("tier", &self.customer_tier))?,
            team: self.team.map(|t| TeamId::parse(t.clone()).map_err(|_| bad("team", &t))).transpose()?,
            assignee: self.assignee.map(|a| AgentId::parse(a.clone()).map_err(|_| bad("assignee", &a))).transpose()?,
            subject: self.subject,
            body: self.body,
            csat: self.csat.map(|c| u8::try_from(c).map_err(|_| bad("csat", &c.to_string()))).transpose()?,
            tags: split_list(&self.tags),
            legal_risk: self.legal_risk,
            blocking: self.blocking,
            language: self.language,
            status_history: match &self.status_history {
                Some(text) => parse_status_history(text).ok_or_else(|| bad("status history", text))?,
                // A row an older version wrote after this one rebuilt the others: the status
                // since the creation is the best known until the store opens again and rebuilds
                // it from the log.
                None => vec![StatusSince {
                    status: Status::parse(&self.status).unwrap_or(Status::New),
                    since: timestamp(self.created_at)?,
                }],
            },
            sla_targets: match &self.sla_targets {
                Some(text) => Some(
                    serde_json::from_str::<Value>(text)
                        .ok()
                        .as_ref()
                        .and_then(decode_targets)
                        .ok_or_else(|| bad("SLA targets", text))?,
                ),
                None => None,
            },
            sla_marks: marks_from_bits(self.sla_marks),
            rules_applied: split_list(&self.rules_applied),
            steps: parse_steps(&self.steps).ok_or_else(|| bad("steps", &self.steps))?,
        })
    }
}

/// `step@micros;...`.
fn steps_text(steps: &[StepSince]) -> String {
    let entries: Vec<String> = steps.iter().map(|entry| format!("{}@{}", entry.step, micros(entry.since))).collect();
    entries.join(";")
}

fn parse_steps(text: &str) -> Option<Vec<StepSince>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(';')
        .map(|entry| {
            let (step, since) = entry.rsplit_once('@')?;
            Some(StepSince { step: step.to_owned(), since: Timestamp::from_microsecond(since.parse().ok()?).ok()? })
        })
        .collect()
}

/// `status@micros;...`.
fn status_history_text(history: &[StatusSince]) -> String {
    let entries: Vec<String> =
        history.iter().map(|entry| format!("{}@{}", entry.status.as_str(), micros(entry.since))).collect();
    entries.join(";")
}

fn parse_status_history(text: &str) -> Option<Vec<StatusSince>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(';')
        .map(|entry| {
            let (status, since) = entry.split_once('@')?;
            Some(StatusSince {
                status: Status::parse(status)?,
                since: Timestamp::from_microsecond(since.parse().ok()?).ok()?,
            })
        })
        .collect()
}

fn marks_bits(marks: SlaMarks) -> i64 {
    let bit = |flag: bool, value: i64| if flag { value } else { 0 };
    bit(marks.first_response.at_risk, 1)
        | bit(marks.first_response.breached, 2)
        | bit(marks.resolution.at_risk, 4)
        | bit(marks.resolution.breached, 8)
}

fn marks_from_bits(bits: i64) -> SlaMarks {
    SlaMarks {
        first_response: TargetMarks { at_risk: bits & 1 != 0, breached: bits & 2 != 0 },
        resolution: TargetMarks { at_risk: bits & 4 != 0, breached: bits & 8 != 0 },
    }
}

fn targets_json(targets: &SlaTargets) -> Value {
    json!({
        "policy": targets.policy,
        "calendar": targets.calendar,
        "first_response_minutes": targets.first_response_minutes,
        "resolution_minutes": targets.resolution_minutes,
    })
}

fn decode_targets(data: &Value) -> Option<SlaTargets> {
    let minutes = |key: &str| -> Option<Option<u32>> {
        match data.get(key)? {
            Value::Null => Some(None),
            value => u32::try_from(value.as_u64()?).ok().map(Some),
        }
    };
    Some(SlaTargets {
        policy: data.get("policy")?.as_str()?.to_owned(),
        calendar: data.get("calendar")?.as_str()?.to_owned(),
        first_response_minutes: minutes("first_response_minutes")?,
        resolution_minutes: minutes("resolution_minutes")?,
    })
}

fn optional_targets(targets: Option<&SlaTargets>) -> Value {
    targets.map_or(Value::Null, targets_json)
}

impl EventRow {
    pub(crate) fn from_event(event: &Event) -> Self {
        EventRow {
            seq: event.seq,
            ticket_id: event.ticket_id.to_string(),
            version: event.version,
            at: micros(event.at),
            actor: event.actor.clone(),
            kind: event.kind.name().to_owned(),
            data: event_data(&event.kind).to_string(),
        }
    }

    pub(crate) fn into_event(self) -> Result<Event, StoreError> {
        let data: Value = serde_json::from_str(&self.data)
            .map_err(|e| StoreError::corrupt(format!("event {}: data is not JSON: {e}", self.seq)))?;
        let kind = decode_kind(&self.kind, &data)
            .ok_or_else(|| StoreError::corrupt(format!("event {}: unreadable `{}` payload", self.seq, self.kind)))?;
        Ok(Event {
            seq: self.seq,
            ticket_id: TicketId::parse(self.ticket_id)
                .map_err(|e| StoreError::corrupt(format!("event {}: ticket id {e}", self.seq)))?,
            version: self.version,
            at: timestamp(self.at)?,
            actor: self.actor,
            kind,
        })
    }
}

/// The JSON payload of an event. Also what the API shows as the event's `change`.
pub fn event_data(kind: &EventKind) -> Value {
    match kind {
        EventKind::TicketCreated(ticket) => ticket_snapshot(ticket),
        EventKind::StatusChanged { from, to } => json!({"from": from.as_str(), "to": to.as_str()}),
        EventKind::FieldsChanged(changes) => {
            let fields: serde_json::Map<String, Value> = changes
                .iter()
                .map(|change| {
                    let (from, to) = change.values();
                    (change.field().name().to_owned(), json!({"from": field_value(from), "to": field_value(to)}))
                })
                .collect();
            Value::Object(fields)
        }
        EventKind::CommentAdded { public, body, first_response } => {
            json!({"public": public, "body": body, "first_response": first_response})
        }
        EventKind::SlaApplied { from, to } => {
            json!({"from": optional_targets(from.as_ref()), "to": optional_targets(to.as_ref())})
        }
        EventKind::SlaAtRisk { target, due_at } | EventKind::SlaBreached { target, due_at } => {
            json!({"target": target.as_str(), "due_at": due_at.to_string()})
        }
        EventKind::DuplicatesSuggested { similar } => {
            let similar: Vec<Value> =
                similar.iter().map(|s| json!({"ticket": s.ticket.as_str(), "score": s.score()})).collect();
            json!({ "similar": similar })
        }
        EventKind::MergedInto { into } => json!({"into": into.as_str()}),
        EventKind::MergedFrom { from } => json!({"from": from.as_str()}),
        EventKind::RuleApplied { rule, failed: None } => json!({"rule": rule}),
        EventKind::RuleApplied { rule, failed: Some(reason) } => json!({"rule": rule, "failed": reason}),
        EventKind::MessageQueued { audience, template, subject, body } => json!({
            "audience": audience.kind(),
            "recipient": audience.id(),
            "template": template,
            "subject": subject,
            "body": body,
        }),
        EventKind::HandedOver { from, to, team, reason } => json!({
            "from": from,
            "to": to,
            "team": team.as_ref().map(TeamId::as_str),
            "reason": reason,
        }),
    }
}

fn field_value(value: vigie_core::FieldValue) -> Value {
    use vigie_core::FieldValue;
    match value {
        FieldValue::Null => Value::Null,
        FieldValue::Text(text) => Value::String(text),
        FieldValue::Bool(flag) => Value::Bool(flag),
        FieldValue::Int(number) => Value::from(number),
        FieldValue::List(items) => Value::from(items),
    }
}

fn ticket_snapshot(ticket: &Ticket) -> Value {
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
    json!({
        "id": ticket.id.as_str(),
        "version": ticket.version,
        "created_at": ticket.created_at.to_string(),
        "updated_at": ticket.updated_at.to_string(),
        "first_response_at": time(ticket.first_response_at),
        "resolved_at": time(ticket.resolved_at),
        "status": ticket.status.as_str(),
        "priority": ticket.priority.as_str(),
        "category": ticket.category,
        "channel": ticket.channel.as_str(),
        "customer_id": ticket.customer_id.as_str(),
        "customer_tier": ticket.customer_tier.as_str(),
        "team": ticket.team.as_ref().map(TeamId::as_str),
        "assignee": ticket.assignee.as_ref().map(AgentId::as_str),
        "subject": ticket.subject,
        "body": ticket.body,
        "csat": ticket.csat,
        "tags": ticket.tags,
        "legal_risk": ticket.legal_risk,
        "blocking": ticket.blocking,
        "language": ticket.language,
        "status_history": status_history_text(&ticket.status_history),
        "sla_targets": optional_targets(ticket.sla_targets.as_ref()),
        "steps": steps_text(&ticket.steps),
    })
}

fn decode_kind(kind: &str, data: &Value) -> Option<EventKind> {
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    match kind {
        "ticket_created" => Some(EventKind::TicketCreated(Box::new(decode_snapshot(data)?))),
        "status_changed" => {
            Some(EventKind::StatusChanged { from: Status::parse(text("from")?)?, to: Status::parse(text("to")?)? })
        }
        "fields_changed" => {
            let changes = data.as_object()?.iter().map(|(field, change)| decode_change(field, change));
            Some(EventKind::FieldsChanged(changes.collect::<Option<Vec<_>>>()?))
        }
        "comment_added" => Some(EventKind::CommentAdded {
            public: data.get("public")?.as_bool()?,
            body: text("body")?.to_owned(),
            first_response: data.get("first_response")?.as_bool()?,
        }),
        "sla_applied" => {
            let targets = |key: &str| match data.get(key)? {
                Value::Null => Some(None),
                value => decode_targets(value).map(Some),
            };
            Some(EventKind::SlaApplied { from: targets("from")?, to: targets("to")? })
        }
        "sla_at_risk" | "sla_breached" => {
            let target = SlaTarget::parse(text("target")?)?;
            let due_at = text("due_at")?.parse().ok()?;
            Some(if kind == "sla_at_risk" {
                EventKind::SlaAtRisk { target, due_at }
            } else {
                EventKind::SlaBreached { target, due_at }
            })
        }
        "duplicates_suggested" => {
            let similar = data.get("similar")?.as_array()?.iter().map(|item| {
                let ticket = TicketId::parse(item.get("ticket")?.as_str()?.to_owned()).ok()?;
                let score = item.get("score")?.as_f64()?;
                (0.0..=1.0).contains(&score).then(|| vigie_core::SimilarTicket::new(ticket, score))
            });
            Some(EventKind::DuplicatesSuggested { similar: similar.collect::<Option<Vec<_>>>()? })
        }
        "merged_into" => Some(EventKind::MergedInto { into: TicketId::parse(text("into")?.to_owned()).ok()? }),
        "merged_from" => Some(EventKind::MergedFrom { from: TicketId::parse(text("from")?.to_owned()).ok()? }),
        "rule_applied" => Some(EventKind::RuleApplied {
            rule: text("rule")?.to_owned(),
            failed: match data.get("failed") {
                None | Some(Value::Null) => None,
                Some(reason) => Some(reason.as_str()?.to_owned()),
            },
        }),
        "message_queued" => Some(EventKind::MessageQueued {
            audience: vigie_core::event::Audience::parse(text("audience")?, text("recipient")?)?,
            template: text("template")?.to_owned(),
            subject: text("subject")?.to_owned(),
            body: text("body")?.to_owned(),
        }),
        "handed_over" => {
            let optional = |key: &str| match data.get(key)? {
                Value::Null => Some(None),
                value => Some(Some(value.as_str()?.to_owned())),
            };
            Some(EventKind::HandedOver {
                from: optional("from")?,
                to: optional("to")?,
                team: optional("team")?.map(TeamId::parse).transpose().ok()?,
                reason: text("reason")?.to_owned(),
            })
        }
        _ => None,
    }
}

fn decode_change(field: &str, change: &Value) -> Option<FieldChange> {
    let from = change.get("from")?;
    let to = change.get("to")?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let optional_text = |v: &Value| if v.is_null() { Some(None) } else { text(v).map(Some) };
    let list = |v: &Value| v.as_array()?.iter().map(text).collect::<Option<Vec<_>>>();
    let csat =
        |v: &Value| if v.is_null() { Some(None) } else { v.as_u64().and_then(|n| u8::try_from(n).ok()).map(Some) };
    let team = |v: &Value| optional_text(v)?.map(TeamId::parse).transpose().ok();
    let agent = |v: &Value| optional_text(v)?.map(AgentId::parse).transpose().ok();
    Some(match field {
        "priority" => {
            FieldChange::Priority { from: Priority::parse(from.as_str()?)?, to: Priority::parse(to.as_str()?)? }
        }
        "category" => FieldChange::Category { from: text(from)?, to: text(to)? },
        "team" => FieldChange::Team { from: team(from)?, to: team(to)? },
        "assignee" => FieldChange::Assignee { from: agent(from)?, to: agent(to)? },
        "customer_tier" => FieldChange::CustomerTier {
            from: CustomerTier::parse(from.as_str()?)?,
            to: CustomerTier::parse(to.as_str()?)?,
        },
        "legal_risk" => FieldChange::LegalRisk { from: from.as_bool()?, to: to.as_bool()? },
        "blocking" => FieldChange::Blocking { from: from.as_bool()?, to: to.as_bool()? },
        "tags" => FieldChange::Tags { from: list(from)?, to: list(to)? },
        "csat" => FieldChange::Csat { from: csat(from)?, to: csat(to)? },
        "language" => FieldChange::Language { from: optional_text(from)?, to: optional_text(to)? },
        _ => return None,
    })
}

fn decode_snapshot(data: &Value) -> Option<Ticket> {
    let text = |key: &str| data.get(key).and_then(Value::as_str);
    let time = |key: &str| -> Option<Option<Timestamp>> {
        match data.get(key)? {
            Value::Null => Some(None),
            value => value.as_str()?.parse().ok().map(Some),
        }
    };
    let optional = |key: &str| -> Option<Option<String>> {
        match data.get(key)? {
            Value::Null => Some(None),
            value => Some(Some(value.as_str()?.to_owned())),
        }
    };
    let created_at = time("created_at")??;
    let status = Status::parse(text("status")?)?;
    // Snapshots recorded before the status history existed: the ticket was created in its status.
    let status_history = match data.get("status_history") {
        Some(Value::String(history)) => parse_status_history(history)?,
        _ => vec![StatusSince { status, since: created_at }],
    };
    Some(Ticket {
        id: TicketId::parse(text("id")?).ok()?,
        version: data.get("version")?.as_i64()?,
        created_at,
        updated_at: time("updated_at")??,
        first_response_at: time("first_response_at")?,
        resolved_at: time("resolved_at")?,
        status,
        priority: Priority::parse(text("priority")?)?,
        category: text("category")?.to_owned(),
        channel: Channel::parse(text("channel")?)?,
        customer_id: CustomerId::parse(text("customer_id")?).ok()?,
        customer_tier: CustomerTier::parse(text("customer_tier")?)?,
        team: optional("team")?.map(TeamId::parse).transpose().ok()?,
        assignee: optional("assignee")?.map(AgentId::parse).transpose().ok()?,
        subject: text("subject")?.to_owned(),
        body: text("body")?.to_owned(),
        csat: match data.get("csat")? {
            Value::Null => None,
            value => Some(u8::try_from(value.as_u64()?).ok()?),
        },
        tags: data.get("tags")?.as_array()?.iter().map(|t| t.as_str().map(str::to_owned)).collect::<Option<_>>()?,
        legal_risk: data.get("legal_risk")?.as_bool()?,
        blocking: data.get("blocking")?.as_bool()?,
        language: optional("language").flatten(),
        status_history,
        sla_targets: match data.get("sla_targets") {
            None | Some(Value::Null) => None,
            Some(value) => Some(decode_targets(value)?),
        },
        sla_marks: SlaMarks::default(),
        rules_applied: Vec::new(),
        // Snapshots recorded before workflows existed: not on a path.
        steps: match data.get("steps") {
            Some(Value::String(steps)) => parse_steps(steps)?,
            _ => Vec::new(),
        },
    })
}
