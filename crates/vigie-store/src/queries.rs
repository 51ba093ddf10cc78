//! Every query of the store, written once for both backends (generic over the sqlx database),
//! and the decision of a batch of ticket commands inside one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::marker::PhantomData;

use jiff::Timestamp;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, QueryBuilder, Type};
use vigie_core::automation;
use vigie_core::decide::{self, DirectoryLookup};
use vigie_core::directory::{Agent, Customer, Skills, Team};
use vigie_core::{AgentId, CustomerId, CustomerTier, Event, EventKind, Role, TeamId, Ticket, TicketId};

use crate::codec::{
    EventRow, TICKET_COLUMNS, TICKET_COLUMNS_NO_TEXT, TicketRow, join_list, micros, split_list, timestamp,
};
use crate::dialect::{Counter, Dialect};
use crate::{
    AlertDelivery, Committed, Cursor, DeliveryOutcome, LoadSummary, NewAlert, NewRulesRevision, OutboxMessage,
    RulesRevision, ScanCursor, SessionRecord, StoreError, StoredTicket, Submission, SubmitError, TicketCommand,
    TicketPage, TicketQuery, TokenRecord, UserRecord,
};

/// Tickets per transaction in a bulk load: large enough to amortise the commit, small enough
/// to stay under SQLite's 32,766 bound parameters (28 per ticket row).
pub(crate) const LOAD_CHUNK: usize = 1_000;

/// What a ticket insert does when the id is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnConflict {
    /// Fail: the caller meant a new ticket.
    Fail,
    /// Replace the row: the caller holds its newer state (decided under the row's lock).
    Update,
}

/// The queries, for one database. All the trait bounds sqlx needs are stated once, here.
pub(crate) struct Queries<DB>(PhantomData<DB>);

/// What one command of a batch comes to.
pub(crate) type CommandResult = Result<Committed, SubmitError>;

/// Why a whole batch must be rolled back.
#[derive(Debug)]
pub(crate) enum BatchError {
    Database(sqlx::Error),
    /// COMMIT itself failed: the batch may or may not be recorded.
    CommitFailed(sqlx::Error),
    /// Another writer recorded the same idempotency key meanwhile: run the batch again and it
    /// will see that key.
    IdempotencyRace,
    Store(StoreError),
}

impl From<sqlx::Error> for BatchError {
    fn from(error: sqlx::Error) -> Self {
        BatchError::Database(error)
    }
}

impl From<StoreError> for BatchError {
    /// A database error reached through a store helper is still a database error: the writer
    /// decides on it (retry if transient, split the batch if refused) like on any other.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => BatchError::Database(error),
            other => BatchError::Store(other),
        }
    }
}

#[derive(FromRow)]
struct IdRow {
    id: String,
}

#[derive(FromRow)]
struct DeliveredRow {
    delivered_at: Option<i64>,
}

#[derive(FromRow)]
struct AgentTeamsRow {
    id: String,
    teams: String,
    skill_categories: String,
    skill_languages: String,
}

#[derive(FromRow)]
struct CustomerTierRow {
    id: String,
    tier: String,
}

#[derive(FromRow)]
struct IdempotencyRow {
    scope: String,
    key: String,
    request_hash: String,
    ticket_id: String,
}

#[derive(FromRow)]
struct TeamRow {
    id: String,
    name: String,
    calendar: Option<String>,
}

#[derive(FromRow)]
struct AgentRow {
    id: String,
    name: String,
    teams: String,
    skill_categories: String,
    skill_languages: String,
}

#[derive(FromRow)]
struct CustomerRow {
    id: String,
    name: String,
    tier: String,
    email: Option<String>,
}

/// An `outbox` row, with the customer's address on record (customer messages).
#[derive(FromRow)]
struct OutboxRow {
    id: i64,
    delivery_key: String,
    event_seq: i64,
    ticket_id: String,
    actor: String,
    audience: String,
    recipient: String,
    template: String,
    subject: String,
    body: String,
    created_at: i64,
    attempts: i64,
    next_attempt_at: Option<i64>,
    delivered_at: Option<i64>,
    destination: Option<String>,
    last_error: Option<String>,
    email: Option<String>,
}

impl OutboxRow {
    fn into_message(self) -> Result<OutboxMessage, StoreError> {
        Ok(OutboxMessage {
            id: self.id,
            delivery_key: self.delivery_key,
            event_seq: self.event_seq,
            ticket_id: self.ticket_id,
            actor: self.actor,
            audience: self.audience,
            recipient: self.recipient,
            template: self.template,
            subject: self.subject,
            body: self.body,
            created_at: timestamp(self.created_at)?,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(timestamp).transpose()?,
            delivered_at: self.delivered_at.map(timestamp).transpose()?,
            destination: self.destination,
            last_error: self.last_error,
            email: self.email,
        })
    }
}

#[derive(FromRow)]
struct TokenRow {
    hash: String,
    name: String,
    role: String,
    teams: String,
}

impl TokenRow {
    /// A user's row has the same shape: the password hash in place of the token's.
    fn into_user(self) -> Result<UserRecord, StoreError> {
        let record = self.into_record()?;
        Ok(UserRecord { name: record.name, password_hash: record.hash, role: record.role, teams: record.teams })
    }

    fn into_record(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            role: Role::parse(&self.role).ok_or_else(|| StoreError::corrupt(format!("token role `{}`", self.role)))?,
            teams: parse_teams(&self.teams)?,
            hash: self.hash,
            name: self.name,
        })
    }
}

#[derive(FromRow)]
struct AlertRow {
    id: i64,
    rule: String,
    fired_at: i64,
    value: String,
    summary: String,
    payload: String,
    channel: String,
    attempts: i64,
    next_attempt_at: Option<i64>,
    delivered_at: Option<i64>,
    last_error: Option<String>,
}

impl AlertRow {
    fn into_delivery(self) -> Result<AlertDelivery, StoreError> {
        let instant = |micros: i64| {
            Timestamp::from_microsecond(micros).map_err(|_| StoreError::corrupt(format!("an alert's instant {micros}")))
        };
        Ok(AlertDelivery {
            id: self.id,
            rule: self.rule,
            fired_at: instant(self.fired_at)?,
            value: self.value.parse().map_err(|_| StoreError::corrupt(format!("an alert's value `{}`", self.value)))?,
            summary: self.summary,
            payload: self.payload,
            channel: self.channel,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(instant).transpose()?,
            delivered_at: self.delivered_at.map(instant).transpose()?,
            last_error: self.last_error,
        })
    }
}

/// A session joined with its user.
#[derive(FromRow)]
struct SessionRow {
    hash: String,
    csrf: String,
    created_at: i64,
    expires_at: i64,
    password_hash: String,
    name: String,
    role: String,
    teams: String,
}

#[derive(FromRow)]
struct RulesRow {
    revision: i64,
    at: i64,
    actor: String,
    source: String,
    file_digest: Option<String>,
    document: String,
}

impl RulesRow {
    fn into_revision(self) -> Result<RulesRevision, StoreError> {
        Ok(RulesRevision {
            revision: self.revision,
            at: crate::codec::timestamp(self.at)?,
            actor: self.actor,
            source: self.source,
            file_digest: self.file_digest,
            document: self.document,
        })
    }
}

#[derive(FromRow)]
struct SeqRow {
    seq: i64,
    ticket_id: String,
}

#[derive(FromRow)]
struct PageRow {
    page: Option<String>,
}

#[derive(FromRow)]
struct CountRow {
    n: i64,
}

/// The directory as a batch sees it: the records its commands name, read in its transaction.
struct BatchDirectory {
    teams: HashSet<String>,
    agents: HashMap<String, (Vec<TeamId>, Skills)>,
    customers: HashMap<String, CustomerTier>,
}

impl DirectoryLookup for BatchDirectory {
    fn team_exists(&self, team: &TeamId) -> bool {
        self.teams.contains(team.as_str())
    }
    fn agent_teams(&self, agent: &AgentId) -> Option<Vec<TeamId>> {
        self.agents.get(agent.as_str()).map(|(teams, _)| teams.clone())
    }
    fn agent_skills(&self, agent: &AgentId) -> Option<Skills> {
        self.agents.get(agent.as_str()).map(|(_, skills)| skills.clone())
    }
    fn customer_tier(&self, customer: &CustomerId) -> Option<CustomerTier> {
        self.customers.get(customer.as_str()).copied()
    }
}

impl<DB> Queries<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    pub(crate) async fn ping(conn: &mut DB::Connection) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok(())
    }

    pub(crate) async fn ticket(conn: &mut DB::Connection, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
        let row: Option<TicketRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id.to_string()).fetch_optional(&mut *conn).await?;
        row.map(TicketRow::into_ticket).transpose()
    }

    /// Open tickets in the table's storage order after `after`, with their texts or not, and
    /// the cursor of the next page (`None` after the last).
    pub(crate) async fn open_tickets_page(
        conn: &mut DB::Connection,
        after: Option<&ScanCursor>,
        limit: u32,
        texts: bool,
    ) -> Result<(Vec<StoredTicket>, Option<ScanCursor>), StoreError> {
        let element = DB::json_array(&format!("scan_key, {}", DB::json_array(TICKET_COLUMNS)));
        let columns = if texts { TICKET_COLUMNS } else { TICKET_COLUMNS_NO_TEXT };
        let mut qb = QueryBuilder::<DB>::new(format!(
            "SELECT {} AS page FROM (SELECT {} AS scan_order, {} AS scan_key, {columns} FROM tickets \
             WHERE {} = ",
            DB::json_rows(&element, "scan_order"),
            DB::SCAN_KEY,
            DB::SCAN_KEY_TEXT,
            DB::SCAN_OPEN
        ));
        qb.push_bind(true);
        if let Some(after) = after {
            qb.push(" AND ").push(DB::SCAN_AFTER.0).push_bind(after.key().to_owned()).push(DB::SCAN_AFTER.1);
        }
        qb.push(format!(" ORDER BY {} LIMIT ", DB::SCAN_KEY)).push_bind(i64::from(limit));
        qb.push(") page_rows");
        let rows: Vec<(String, TicketRow)> = Self::json_page(conn, qb).await?;
        let next = rows.last().map(|(key, _)| ScanCursor::new(key.clone()));
        let tickets = rows.into_iter().map(|(_, row)| row.into_stored()).collect::<Result<Vec<_>, _>>()?;
        Ok((tickets, next))
    }

    /// A page of tickets whose `by` instant (`created_at`, or `resolved_at` of the tickets no
    /// longer open; both indexed) is after `since`, by (instant, `id`), from after `after`; with
    /// their texts (subject, body, tags) or not.
    pub(crate) async fn tickets_since_page(
        conn: &mut DB::Connection,
        by: crate::Since,
        since: Timestamp,
        after: Option<(Timestamp, &str)>,
        limit: u32,
        texts: bool,
    ) -> Result<Vec<StoredTicket>, StoreError> {
        let column = match by {
            crate::Since::Created => "created_at",
            crate::Since::Resolved => "resolved_at",
        };
        let element = DB::json_array(TICKET_COLUMNS);
        let mut qb = QueryBuilder::<DB>::new(format!(
            "SELECT {} AS page FROM (SELECT {column} AS r, id AS i, {} FROM tickets WHERE ",
            DB::json_rows(&element, "r, i"),
            if texts { TICKET_COLUMNS } else { TICKET_COLUMNS_NO_TEXT },
        ));
        if by == crate::Since::Resolved {
            qb.push("is_open = ").push_bind(false).push(" AND ");
        }
        qb.push(format!("{column} > ")).push_bind(micros(since));
        if let Some((at, id)) = after {
            qb.push(format!(" AND ({column}, id) > ("))
                .push_bind(micros(at))
                .push(", ")
                .push_bind(id.to_owned())
                .push(")");
        }
        qb.push(format!(" ORDER BY {column}, id LIMIT ")).push_bind(i64::from(limit));
        qb.push(") page_rows");
        let rows: Vec<TicketRow> = Self::json_page(conn, qb).await?;
        rows.into_iter().map(TicketRow::into_stored).collect()
    }

    /// The rows of a query that selects one JSON text, `page`, into `T`s.
    ///
    /// Why a JSON page rather than rows: sqlx hands each row from the database's thread to
    /// ours with a wake-up; a page of many rows as one text and one parse costs a fraction of
    /// that (measured: reading the open tickets at start, and fetching a page of 50 tickets).
    async fn json_page<T: serde::de::DeserializeOwned>(
        conn: &mut DB::Connection,
        mut qb: QueryBuilder<DB>,
    ) -> Result<Vec<T>, StoreError> {
        let page: PageRow = qb.build_query_as().fetch_one(&mut *conn).await?;
        let Some(text) = page.page else { return Ok(Vec::new()) };
        serde_json::from_str(&text)
            .map_err(|error| StoreError::corrupt(format!("a page of rows does not parse: {error}")))
    }

    /// Which of `ids` are stored (in no particular order).
    pub(crate) async fn existing_ticket_ids(
        conn: &mut DB::Connection,
        ids: &[TicketId],
    ) -> Result<Vec<String>, StoreError> {
        let mut existing = Vec::new();
        // Chunks far below both backends' parameter limits.
        for chunk in ids.chunks(1_000) {
            let chunk = chunk.iter().map(ToString::to_string).collect();
            existing.extend(Self::existing_ids(conn, "tickets", chunk).await?);
        }
        Ok(existing)
    }

    /// The tickets with these ids and their last sequence numbers, in no particular order
    /// (unknown ids are left out).
    pub(crate) async fn tickets_by_ids(
        conn: &mut DB::Connection,
        ids: &[TicketId],
    ) -> Result<Vec<StoredTicket>, StoreError> {
        let mut tickets = Vec::with_capacity(ids.len());
        // Chunks far below both backends' parameter limits.
        for chunk in ids.chunks(1_000) {
            let mut qb = where_in::<DB>(
                format!(
                    "SELECT {} AS page FROM (SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN (",
                    DB::json_rows(&DB::json_array(TICKET_COLUMNS), "id")
                ),
                chunk.iter().map(ToString::to_string),
            );
            qb.push(") page_rows");
            let rows: Vec<TicketRow> = Self::json_page(conn, qb).await?;
            for row in rows {
                tickets.push(row.into_stored()?);
            }
        }
        Ok(tickets)
    }

    /// The events after sequence number `after`, in sequence order, at most `limit`: each one's
    /// number and ticket.
    pub(crate) async fn events_since(
        conn: &mut DB::Connection,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(i64, TicketId)>, StoreError> {
        let rows: Vec<SeqRow> =
            sqlx::query_as("SELECT seq, ticket_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|row| {
                let id = TicketId::parse(row.ticket_id)
                    .map_err(|e| StoreError::corrupt(format!("event {}: {e}", row.seq)))?;
                Ok((row.seq, id))
            })
            .collect()
    }

    /// The highest event sequence number on record (0 for none).
    pub(crate) async fn last_event_seq(conn: &mut DB::Connection) -> Result<i64, StoreError> {
        let row: CountRow =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) AS n FROM events").fetch_one(&mut *conn).await?;
        Ok(row.n)
    }

    /// The newest revision of the rules, if any was ever saved.
    pub(crate) async fn latest_rules(conn: &mut DB::Connection) -> Result<Option<RulesRevision>, StoreError> {
        let row: Option<RulesRow> = sqlx::query_as(
            "SELECT revision, at, actor, source, file_digest, document FROM rules_revisions \
             ORDER BY revision DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await?;
        row.map(RulesRow::into_revision).transpose()
    }

    /// Records backlog snapshots; an instant already recorded keeps its first snapshot.
    pub(crate) async fn insert_backlog_snapshots(
        conn: &mut DB::Connection,
        snapshots: &[crate::BacklogSnapshot],
    ) -> Result<(), StoreError> {
        for chunk in snapshots.chunks(500) {
            let mut qb = QueryBuilder::<DB>::new("INSERT INTO backlog_snapshots (at, source, point) ");
            qb.push_values(chunk, |mut row, snapshot| {
                row.push_bind(micros(snapshot.at)).push_bind(snapshot.source.clone()).push_bind(snapshot.point.clone());
            });
            qb.push(" ON CONFLICT (at) DO NOTHING");
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// The backlog snapshots of `[from, to]`, in time order.
    pub(crate) async fn backlog_snapshots(
        conn: &mut DB::Connection,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<crate::BacklogSnapshot>, StoreError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT at, source, point FROM backlog_snapshots WHERE at >= $1 AND at <= $2 ORDER BY at")
                .bind(micros(from))
                .bind(micros(to))
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|(at, source, point)| {
                let at = Timestamp::from_microsecond(at)
                    .map_err(|_| StoreError::corrupt(format!("a backlog snapshot's instant {at} is out of range")))?;
                Ok(crate::BacklogSnapshot { at, source, point })
            })
            .collect()
    }

    /// Records a new revision of the rules if the newest is still `revision.base`; its number.
    pub(crate) async fn insert_rules(
        conn: &mut DB::Connection,
        revision: &NewRulesRevision,
    ) -> Result<i64, StoreError> {
        let result = sqlx::query_scalar::<DB, i64>(
            "INSERT INTO rules_revisions (revision, at, actor, source, file_digest, document) \
             SELECT $6 + 1, $1, $2, $3, $4, $5 \
             WHERE (SELECT COALESCE(MAX(revision), 0) FROM rules_revisions) = $6 RETURNING revision",
        )
        .bind(micros(revision.at))
        .bind(revision.actor.clone())
        .bind(revision.source.clone())
        .bind(revision.file_digest.clone())
        .bind(revision.document.clone())
        .bind(revision.base)
        .fetch_optional(&mut *conn)
        .await;
        match result {
            Ok(Some(number)) => Ok(number),
            Ok(None) => Err(StoreError::Conflict(format!(
                "the rules changed since revision {} was read: read them again and retry",
                revision.base
            ))),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(StoreError::Conflict("a concurrent change of the rules: read them again and retry".into()))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Rebuilds, from the event log, up to `limit` ticket rows written before the status
    /// history existed; how many were rebuilt (0 when none is left).
    pub(crate) async fn backfill_status_history(
        conn: &mut DB::Connection,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        // Keyset by id, so that each chunk starts where the previous ended.
        let ids: Vec<IdRow> =
            sqlx::query_as("SELECT id FROM tickets WHERE status_history IS NULL AND id > $1 ORDER BY id LIMIT $2")
                .bind(after.unwrap_or_default().to_owned())
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = where_in::<DB>(
            "SELECT seq, ticket_id, version, at, actor, kind, data FROM events WHERE ticket_id IN (",
            ids.iter().map(|row| row.id.clone()),
        );
        qb.push(" ORDER BY ticket_id, seq");
        let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut histories: BTreeMap<String, Vec<Event>> = BTreeMap::new();
        for row in rows {
            let event = row.into_event()?;
            histories.entry(event.ticket_id.to_string()).or_default().push(event);
        }
        for IdRow { id } in &ids {
            let history = histories.get(id).map(Vec::as_slice).unwrap_or_default();
            let ticket = vigie_core::event::replay(history)
                .map_err(|error| StoreError::corrupt(format!("ticket {id}: {error}")))?
                .ok_or_else(|| StoreError::corrupt(format!("ticket {id} has no history")))?;
            let row = TicketRow::from_ticket(&ticket);
            // Only where it is still missing: another instance may have rebuilt it meanwhile,
            // or a newer command written the whole row.
            sqlx::query("UPDATE tickets SET status_history = $1 WHERE id = $2 AND status_history IS NULL")
                .bind(row.status_history)
                .bind(id.clone())
                .execute(&mut *conn)
                .await?;
        }
        Ok(ids.into_iter().map(|row| row.id).collect())
    }

    pub(crate) async fn count_tickets(conn: &mut DB::Connection) -> Result<i64, StoreError> {
        let row: CountRow = sqlx::query_as("SELECT COUNT(*) AS n FROM tickets").fetch_one(&mut *conn).await?;
        Ok(row.n)
    }

    pub(crate) async fn list_tickets(conn: &mut DB::Connection, query: &TicketQuery) -> Result<TicketPage, StoreError> {
        let mut qb = QueryBuilder::<DB>::new(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE 1 = 1"));
        let distinct: HashSet<vigie_core::Status> = query.statuses.iter().copied().collect();
        let open_only = distinct.iter().all(|s| s.is_open())
            && distinct.len() == vigie_core::Status::ALL.iter().filter(|s| s.is_open()).count();
        if open_only {
            // "every open status" is the common case (the queue): use the indexed flag.
            qb.push(" AND is_open = ").push_bind(true);
        } else {
            push_in(&mut qb, "status", query.statuses.iter().map(|s| s.as_str().to_owned()));
        }
        push_in(&mut qb, "team", query.teams.iter().map(ToString::to_string));
        push_in(&mut qb, "priority", query.priorities.iter().map(|p| p.rank()));
        push_in(&mut qb, "category", query.categories.iter().cloned());
        push_in(&mut qb, "channel", query.channels.iter().map(|c| c.as_str().to_owned()));
        push_in(&mut qb, "assignee", query.assignees.iter().cloned());
        push_in(&mut qb, "customer_id", query.customer_ids.iter().map(ToString::to_string));
        if let Some(scope) = &query.scope {
            if scope.is_empty() {
                qb.push(" AND 1 = 0");
            } else {
                push_in(&mut qb, "team", scope.iter().map(ToString::to_string));
            }
        }
        if let Some(after) = &query.after {
            qb.push(" AND (created_at, id) > (").push_bind(after.created_at);
            qb.push(", ").push_bind(after.id.clone()).push(")");
        }
        qb.push(" ORDER BY created_at, id");
        // One more than asked, to know whether there is a next page.
        qb.push(" LIMIT ").push_bind(i64::from(query.limit) + 1);
        let rows: Vec<TicketRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut items = rows.into_iter().map(TicketRow::into_ticket).collect::<Result<Vec<_>, _>>()?;
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(Cursor::of)
        } else {
            None
        };
        Ok(TicketPage { items, next })
    }

    pub(crate) async fn ticket_events(conn: &mut DB::Connection, id: &TicketId) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT seq, ticket_id, version, at, actor, kind, data FROM events WHERE ticket_id = $1 ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(EventRow::into_event).collect()
    }

    pub(crate) async fn teams(conn: &mut DB::Connection) -> Result<Vec<Team>, StoreError> {
        let rows: Vec<TeamRow> =
            sqlx::query_as("SELECT id, name, calendar FROM teams ORDER BY id").fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|row| {
                Ok(Team {
                    id: TeamId::parse(row.id).map_err(|e| StoreError::corrupt(format!("team id: {e}")))?,
                    name: row.name,
                    calendar: row.calendar,
                })
            })
            .collect()
    }

    pub(crate) async fn agents(conn: &mut DB::Connection) -> Result<Vec<Agent>, StoreError> {
        let rows: Vec<AgentRow> =
            sqlx::query_as("SELECT id, name, teams, skill_categories, skill_languages FROM agents ORDER BY id")
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Agent {
                    id: AgentId::parse(row.id).map_err(|e| StoreError::corrupt(format!("agent id: {e}")))?,
                    name: row.name,
                    teams: parse_teams(&row.teams)?,
                    skill_categories: split_list(&row.skill_categories),
                    skill_languages: split_list(&row.skill_languages),
                })
            })
            .collect()
    }

    pub(crate) async fn customers(conn: &mut DB::Connection) -> Result<Vec<Customer>, StoreError> {
        let rows: Vec<CustomerRow> =
            sqlx::query_as("SELECT id, name, tier, email FROM customers ORDER BY id").fetch_all(&mut *conn).await?;
        rows.into_iter()
            .map(|row| {
                Ok(Customer {
                    id: CustomerId::parse(row.id).map_err(|e| StoreError::corrupt(format!("customer id: {e}")))?,
                    name: row.name,
                    tier: CustomerTier::parse(&row.tier)
                        .ok_or_else(|| StoreError::corrupt(format!("customer tier `{}`", row.tier)))?,
                    email: row.email,
                })
            })
            .collect()
    }

    pub(crate) async fn token_by_hash(
        conn: &mut DB::Connection,
        hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as("SELECT hash, name, role, teams FROM api_tokens WHERE hash = $1")
            .bind(hash.to_owned())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(TokenRow::into_record).transpose()
    }

    pub(crate) async fn tokens(conn: &mut DB::Connection) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as("SELECT hash, name, role, teams FROM api_tokens ORDER BY name")
            .fetch_all(&mut *conn)
            .await?;
        rows.into_iter().map(TokenRow::into_record).collect()
    }

    /// Deletes the token named `name`; whether there was one.
    pub(crate) async fn delete_token(conn: &mut DB::Connection, name: &str) -> Result<bool, StoreError> {
        let result =
            sqlx::query("DELETE FROM api_tokens WHERE name = $1").bind(name.to_owned()).execute(&mut *conn).await?;
        Ok(DB::rows_affected(&result) > 0)
    }

    pub(crate) async fn insert_team(conn: &mut DB::Connection, team: &Team, now: Timestamp) -> Result<(), StoreError> {
        let result = sqlx::query("INSERT INTO teams (id, name, calendar, created_at) VALUES ($1, $2, $3, $4)")
            .bind(team.id.to_string())
            .bind(team.name.clone())
            .bind(team.calendar.clone())
            .bind(micros(now))
            .execute(&mut *conn)
            .await;
        on_unique(result, || format!("team `{}`", team.id))
    }

    pub(crate) async fn insert_agent(
        conn: &mut DB::Connection,
        agent: &Agent,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let teams: Vec<String> = agent.teams.iter().map(ToString::to_string).collect();
        let result = sqlx::query(
            "INSERT INTO agents (id, name, teams, skill_categories, skill_languages, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(agent.id.to_string())
        .bind(agent.name.clone())
        .bind(join_list(&teams))
        .bind(join_list(&agent.skill_categories))
        .bind(join_list(&agent.skill_languages))
        .bind(micros(now))
        .execute(&mut *conn)
        .await;
        on_unique(result, || format!("agent `{}`", agent.id))
    }

    pub(crate) async fn insert_customer(
        conn: &mut DB::Connection,
        customer: &Customer,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        // A record made from a ticket is completed by the admin's; one an admin made is a conflict.
        let result = sqlx::query(
            "INSERT INTO customers (id, name, tier, auto_created, created_at, email) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier, \
             auto_created = excluded.auto_created, email = excluded.email \
             WHERE customers.auto_created",
        )
        .bind(customer.id.to_string())
        .bind(customer.name.clone())
        .bind(customer.tier.as_str().to_owned())
        .bind(false)
        .bind(micros(now))
        .bind(customer.email.clone())
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&result) == 0 {
            return Err(StoreError::Conflict(format!("customer `{}`", customer.id)));
        }
        Ok(())
    }

    pub(crate) async fn insert_token(
        conn: &mut DB::Connection,
        token: &TokenRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let teams: Vec<String> = token.teams.iter().map(ToString::to_string).collect();
        let result =
            sqlx::query("INSERT INTO api_tokens (hash, name, role, teams, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token.hash.clone())
                .bind(token.name.clone())
                .bind(token.role.as_str().to_owned())
                .bind(join_list(&teams))
                .bind(micros(now))
                .execute(&mut *conn)
                .await;
        on_unique(result, || format!("a token named `{}`", token.name))
    }

    pub(crate) async fn insert_alert(conn: &mut DB::Connection, alert: &NewAlert) -> Result<(), StoreError> {
        let channels: Vec<&str> =
            if alert.channels.is_empty() { vec![""] } else { alert.channels.iter().map(String::as_str).collect() };
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO alerts (rule, fired_at, value, summary, payload, channel, attempts, next_attempt_at, delivered_at) ",
        );
        let at = micros(alert.fired_at);
        qb.push_values(channels, |mut row, channel| {
            // Nowhere to send: recorded as delivered at once.
            let (next, delivered) = if channel.is_empty() { (None, Some(at)) } else { (Some(at), None) };
            row.push_bind(alert.rule.clone())
                .push_bind(at)
                // Text: the backends share no float type in this generic code, and it keeps `inf`.
                .push_bind(alert.value.to_string())
                .push_bind(alert.summary.clone())
                .push_bind(alert.payload.clone())
                .push_bind(channel.to_owned())
                .push_bind(0i64)
                .push_bind(next)
                .push_bind(delivered);
        });
        qb.build().execute(&mut *conn).await?;
        Ok(())
    }

    pub(crate) async fn alert_payloads_since(
        conn: &mut DB::Connection,
        rule: &str,
        since: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        // One row per destination: grouped, the latest first.
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT fired_at, payload FROM alerts WHERE rule = $1 AND fired_at > $2 \
             GROUP BY fired_at, payload ORDER BY fired_at DESC LIMIT 1000",
        )
        .bind(rule.to_owned())
        .bind(micros(since))
        .fetch_all(&mut *conn)
        .await?;
        Ok(rows.into_iter().map(|(_, payload)| payload).collect())
    }

    pub(crate) async fn last_alert_at(conn: &mut DB::Connection, rule: &str) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar("SELECT MAX(fired_at) FROM alerts WHERE rule = $1")
            .bind(rule.to_owned())
            .fetch_one(&mut *conn)
            .await?;
        at.map(|micros| {
            Timestamp::from_microsecond(micros).map_err(|_| StoreError::corrupt(format!("an alert's instant {micros}")))
        })
        .transpose()
    }

    /// The deliveries due at `due` (oldest first), or without it the latest alerts (newest first).
    pub(crate) async fn alert_rows(
        conn: &mut DB::Connection,
        due: Option<Timestamp>,
        limit: u32,
    ) -> Result<Vec<AlertDelivery>, StoreError> {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT id, rule, fired_at, value, summary, payload, channel, CAST(attempts AS BIGINT) AS attempts, \
             next_attempt_at, delivered_at, last_error FROM alerts ",
        );
        match due {
            Some(now) => {
                qb.push("WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= ")
                    .push_bind(micros(now))
                    .push(" ORDER BY next_attempt_at, id");
            }
            None => {
                qb.push("ORDER BY fired_at DESC, id");
            }
        }
        qb.push(" LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<AlertRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        rows.into_iter().map(AlertRow::into_delivery).collect()
    }

    /// Outbox rows: the due ones (the longest waiting first), or the latest (newest first),
    /// optionally of one ticket.
    pub(crate) async fn outbox_rows(
        conn: &mut DB::Connection,
        due: Option<Timestamp>,
        ticket: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT o.id, o.delivery_key, o.event_seq, o.ticket_id, o.actor, o.audience, o.recipient, o.template, \
             o.subject, o.body, o.created_at, CAST(o.attempts AS BIGINT) AS attempts, o.next_attempt_at, \
             o.delivered_at, o.destination, o.last_error, c.email FROM outbox o \
             LEFT JOIN customers c ON o.audience = 'customer' AND c.id = o.recipient WHERE 1 = 1",
        );
        if let Some(ticket) = ticket {
            qb.push(" AND o.ticket_id = ").push_bind(ticket.to_owned());
        }
        match due {
            Some(now) => {
                qb.push(" AND o.next_attempt_at IS NOT NULL AND o.next_attempt_at <= ")
                    .push_bind(micros(now))
                    .push(" ORDER BY o.next_attempt_at, o.id");
            }
            None => {
                qb.push(" ORDER BY o.id DESC");
            }
        }
        qb.push(" LIMIT ").push_bind(i64::from(limit));
        let rows: Vec<OutboxRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        rows.into_iter().map(OutboxRow::into_message).collect()
    }

    /// Records an attempt at delivering outbox row `id`. Only a row still waiting is changed:
    /// a delivery recorded twice (two workers, a retry after an unknown outcome) counts once.
    pub(crate) async fn update_outbox(
        conn: &mut DB::Connection,
        id: i64,
        outcome: &DeliveryOutcome,
        destination: Option<&str>,
    ) -> Result<(), StoreError> {
        let (delivered, next, error, tried) = match outcome {
            DeliveryOutcome::Delivered { at } => (Some(micros(*at)), None, None, 1_i64),
            DeliveryOutcome::Failed { error, retry_at } => (None, retry_at.map(micros), Some(error.clone()), 1),
            DeliveryOutcome::Held { reason, until } => (None, Some(micros(*until)), Some(reason.clone()), 0),
        };
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + $6, delivered_at = $1, next_attempt_at = $2, last_error = $3, \
             destination = $4 WHERE id = $5 AND delivered_at IS NULL",
        )
        .bind(delivered)
        .bind(next)
        .bind(error)
        .bind(destination.map(str::to_owned))
        .bind(id)
        .bind(tried)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn retry_outbox(
        conn: &mut DB::Connection,
        id: i64,
        now: Timestamp,
    ) -> Result<crate::RetryOutcome, StoreError> {
        // Only a message given up (no delivery, no next attempt): one still being tried keeps
        // its schedule, a delivered one is never sent again.
        let queued = sqlx::query(
            "UPDATE outbox SET attempts = 0, next_attempt_at = $1, last_error = NULL \
             WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at IS NULL",
        )
        .bind(micros(now))
        .bind(id)
        .execute(&mut *conn)
        .await?;
        if DB::rows_affected(&queued) == 1 {
            return Ok(crate::RetryOutcome::Queued);
        }
        let row: Option<DeliveredRow> =
            sqlx::query_as("SELECT delivered_at FROM outbox WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
        Ok(match row {
            None => crate::RetryOutcome::NotFound,
            Some(DeliveredRow { delivered_at: Some(_) }) => crate::RetryOutcome::Delivered,
            Some(DeliveredRow { delivered_at: None }) => crate::RetryOutcome::Pending,
        })
    }

    pub(crate) async fn update_delivery(
        conn: &mut DB::Connection,
        id: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<(), StoreError> {
        let (delivered, next, error) = match outcome {
            DeliveryOutcome::Delivered { at } => (Some(micros(*at)), None, None),
            DeliveryOutcome::Failed { error, retry_at } => (None, retry_at.map(micros), Some(error.clone())),
            DeliveryOutcome::Held { reason, until } => (None, Some(micros(*until)), Some(reason.clone())),
        };
        sqlx::query(
            "UPDATE alerts SET attempts = attempts + 1, delivered_at = $1, next_attempt_at = $2, last_error = $3 \
             WHERE id = $4",
        )
        .bind(delivered)
        .bind(next)
        .bind(error)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_user(
        conn: &mut DB::Connection,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let teams: Vec<String> = user.teams.iter().map(ToString::to_string).collect();
        let result =
            sqlx::query("INSERT INTO users (name, password_hash, role, teams, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(user.name.clone())
                .bind(user.password_hash.clone())
                .bind(user.role.as_str().to_owned())
                .bind(join_list(&teams))
                .bind(micros(now))
                .execute(&mut *conn)
                .await;
        on_unique(result, || format!("a user named `{}`", user.name))
    }

    /// Replaces a user's password hash and ends their sessions; whether the user exists.
    pub(crate) async fn update_password(conn: &mut DB::Connection, name: &str, hash: &str) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM sessions WHERE user_name = $1").bind(name.to_owned()).execute(&mut *conn).await?;
        let result = sqlx::query("UPDATE users SET password_hash = $1 WHERE name = $2")
            .bind(hash.to_owned())
            .bind(name.to_owned())
            .execute(&mut *conn)
            .await?;
        Ok(DB::rows_affected(&result) > 0)
    }

    pub(crate) async fn user(conn: &mut DB::Connection, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as("SELECT password_hash AS hash, name, role, teams FROM users WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&mut *conn)
                .await?;
        row.map(TokenRow::into_user).transpose()
    }

    pub(crate) async fn insert_session(conn: &mut DB::Connection, session: &SessionRecord) -> Result<(), StoreError> {
        // Sessions past their end are cleared as new ones come.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(micros(session.created_at))
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO sessions (hash, user_name, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(session.hash.clone())
            .bind(session.user.clone())
            .bind(session.csrf.clone())
            .bind(micros(session.created_at))
            .bind(micros(session.expires_at))
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// The session with this digest and its user, if it has not ended at `now`.
    pub(crate) async fn session(
        conn: &mut DB::Connection,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.hash, s.csrf, s.created_at, s.expires_at, u.password_hash, u.name, u.role, u.teams \
             FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.hash = $1 AND s.expires_at > $2",
        )
        .bind(hash.to_owned())
        .bind(micros(now))
        .fetch_optional(&mut *conn)
        .await?;
        let Some(SessionRow { hash, csrf, created_at, expires_at, password_hash, name, role, teams }) = row else {
            return Ok(None);
        };
        let instant = |micros: i64| {
            Timestamp::from_microsecond(micros)
                .map_err(|_| StoreError::corrupt(format!("a session's instant {micros}")))
        };
        let user = TokenRow { hash: password_hash, name, role, teams }.into_user()?;
        let session = SessionRecord {
            hash,
            user: user.name.clone(),
            csrf,
            created_at: instant(created_at)?,
            expires_at: instant(expires_at)?,
        };
        Ok(Some((session, user)))
    }

    pub(crate) async fn delete_session(conn: &mut DB::Connection, hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE hash = $1").bind(hash.to_owned()).execute(&mut *conn).await?;
        Ok(())
    }

    /// Bulk insert of ticket histories (one chunk, in the caller's transaction): each history
    /// is one ticket's events in order; the projection row is their replay. Sequence numbers
    /// are handed out here (the events' own `seq` is ignored). Loaded tickets keep their ids.
    pub(crate) async fn load_histories(
        conn: &mut DB::Connection,
        histories: &[Vec<Event>],
    ) -> Result<LoadSummary, StoreError> {
        let mut rows = Vec::with_capacity(histories.len());
        let mut highest_number = None;
        // As on the live write path, a customer first seen on a ticket is created with it.
        let mut customers: HashMap<String, (CustomerTier, i64)> = HashMap::new();
        for history in histories {
            let ticket = match vigie_core::event::replay(history) {
                Ok(Some(ticket)) => ticket,
                Ok(None) => continue,
                Err(error) => return Err(StoreError::InvalidHistory(error.to_string())),
            };
            if history.iter().any(|event| event.ticket_id != ticket.id) {
                return Err(StoreError::InvalidHistory(format!("the history of {} mixes tickets", ticket.id)));
            }
            // A loaded `T-<n>` (an export of another vigie store) must never be reused by a create.
            if let Some(number) = ticket.id.as_str().strip_prefix("T-").and_then(|n| n.parse::<i64>().ok()) {
                highest_number = highest_number.max(Some(number));
            }
            customers
                .entry(ticket.customer_id.to_string())
                .or_insert((ticket.customer_tier, micros(ticket.created_at)));
            rows.push(TicketRow::from_ticket(&ticket));
        }
        let n_events: usize = histories.iter().map(Vec::len).sum();
        let summary =
            LoadSummary { n_tickets: rows.len(), n_open: rows.iter().filter(|row| row.is_open).count(), n_events };
        if rows.is_empty() {
            return Ok(summary);
        }
        let seqs = DB::next_values(conn, Counter::EventSeq, count(n_events)?).await?;
        // Each ticket's last event gets the last of its history's numbers.
        let mut last_seqs: HashMap<String, i64> = HashMap::new();
        for (event, seq) in histories.iter().flatten().zip(&seqs) {
            last_seqs.insert(event.ticket_id.to_string(), *seq);
        }
        for row in &mut rows {
            row.last_seq = last_seqs.get(&row.id).copied().unwrap_or(0);
        }
        let events: Vec<EventRow> = histories
            .iter()
            .flatten()
            .zip(seqs)
            .map(|(event, seq)| EventRow::from_event(&Event { seq, ..event.clone() }))
            .collect();
        let mut customers: Vec<(String, CustomerTier, i64)> =
            customers.into_iter().map(|(id, (tier, at))| (id, tier, at)).collect();
        customers.sort_by(|a, b| a.0.cmp(&b.0));
        Self::insert_new_customers(conn, &customers).await?;
        // Plain inserts: an id already stored is refused by the primary key, never overwritten.
        Self::write_tickets(conn, &rows, OnConflict::Fail).await.map_err(|error| match error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict("a ticket with one of these ids".to_owned())
            }
            other => StoreError::Database(other),
        })?;
        Self::insert_events(conn, &events).await?;
        if let Some(highest) = highest_number {
            DB::advance_to(conn, Counter::TicketNumber, highest).await?;
        }
        Ok(summary)
    }

    /// Decides and writes a batch of ticket commands in the caller's transaction. Each command
    /// gets its own result; a refused command writes nothing and does not affect the others.
    pub(crate) async fn execute_batch(
        conn: &mut DB::Connection,
        batch: &[Submission],
    ) -> Result<Vec<CommandResult>, BatchError> {
        // 1. Idempotency keys already on record.
        let keys: Vec<(String, String)> = batch
            .iter()
            .filter_map(|s| match &s.command {
                TicketCommand::Create { idempotency: Some(key), .. } => Some((s.actor.name.clone(), key.key.clone())),
                _ => None,
            })
            .collect();
        let known_keys = Self::idempotency_keys(conn, &keys).await?;

        // 2. The tickets the batch reads, locked until commit.
        let mut ticket_ids: Vec<String> = batch
            .iter()
            .flat_map(|s| match &s.command {
                TicketCommand::Patch { ticket_id, .. }
                | TicketCommand::Comment { ticket_id, .. }
                | TicketCommand::CheckSla { ticket_id }
                | TicketCommand::ApplySla { ticket_id }
                | TicketCommand::Automate { ticket_id, .. }
                | TicketCommand::ApplyMacro { ticket_id, .. }
                | TicketCommand::HandOver { ticket_id, .. }
                | TicketCommand::NotifyWait { ticket_id, .. } => vec![ticket_id.to_string()],
                TicketCommand::Claim { candidates, .. } => candidates.iter().map(ToString::to_string).collect(),
                TicketCommand::Merge { ticket_id, into, .. } => vec![ticket_id.to_string(), into.to_string()],
                TicketCommand::Create { .. } => Vec::new(),
            })
            .collect();
        ticket_ids.extend(known_keys.values().map(|row| row.ticket_id.clone()));
        let mut tickets: HashMap<String, Ticket> = HashMap::new();
        // The sequence number of each ticket's last event, as the batch goes.
        let mut last_seqs: HashMap<String, i64> = HashMap::new();
        for row in Self::tickets_for_update(conn, &ticket_ids).await? {
            let stored = row.into_stored()?;
            last_seqs.insert(stored.ticket.id.to_string(), stored.last_seq);
            tickets.insert(stored.ticket.id.to_string(), stored.ticket);
        }

        // The first result of each create the batch may repeat: the ticket as it was created.
        let mut first_results =
            Self::created_snapshots(conn, known_keys.values().map(|row| row.ticket_id.clone())).await?;

        // 3. The directory records the commands name, and the teams of the current assignees of
        // the tickets a command hands to another team (the handover may unassign them).
        // Any command may hand a ticket to another team (a patch, a handoff, a macro, and any
        // command through a trigger's or a time rule's actions): the teams of every current
        // assignee, so that one who works for the new team keeps the ticket.
        let handed_over_assignees =
            tickets.values().filter_map(|ticket| ticket.assignee.as_ref().map(ToString::to_string)).collect();
        let mut directory = Self::batch_directory(conn, batch, handed_over_assignees).await?;

        // 4. Decide each command in order; later commands see earlier ones' results.
        // Numbers for the creates that are not repeats of a recorded key.
        let n_creates = batch
            .iter()
            .filter(|s| match &s.command {
                TicketCommand::Create { idempotency: Some(key), .. } => {
                    !known_keys.contains_key(&(s.actor.name.clone(), key.key.clone()))
                }
                TicketCommand::Create { idempotency: None, .. } => true,
                _ => false,
            })
            .count();
        let mut numbers = Self::next_values(conn, Counter::TicketNumber, n_creates).await?.into_iter();
        // Ordered, so that concurrent PostgreSQL writers insert overlapping keys in one order.
        let mut new_keys: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        let mut new_customers: Vec<(String, CustomerTier, i64)> = Vec::new();
        let mut touched: Vec<String> = Vec::new();
        let mut created: HashSet<String> = HashSet::new();
        let mut decided: Vec<CommandResult> = Vec::with_capacity(batch.len());
        for submission in batch {
            let actor = &submission.actor;
            let now = submission.now;
            let rules = submission.rules.as_ref();
            let outcome = match &submission.command {
                TicketCommand::Create { new_ticket, idempotency } => {
                    let scope_key = idempotency.as_ref().map(|k| (actor.name.clone(), k.key.clone()));
                    let earlier = scope_key.as_ref().and_then(|sk| {
                        known_keys
                            .get(sk)
                            .map(|row| (row.request_hash.clone(), row.ticket_id.clone()))
                            .or_else(|| new_keys.get(sk).cloned())
                    });
                    match (earlier, idempotency) {
                        (Some((digest, ticket_id)), Some(key)) => {
                            if digest != key.request_digest {
                                Err(SubmitError::IdempotencyMismatch)
                            } else {
                                // The first result, unless the ticket has since moved out of
                                // the caller's sight (handed to another team).
                                match (tickets.get(&ticket_id), first_results.get(&ticket_id)) {
                                    (Some(current), Some(first)) if actor.can_see(current) => Ok(Committed {
                                        ticket: first.clone(),
                                        events: Vec::new(),
                                        replayed: true,
                                        last_seq: 0,
                                        also: Vec::new(),
                                    }),
                                    (Some(_), Some(_)) => {
                                        Err(SubmitError::Rejected(vigie_core::CommandError::NotFound))
                                    }
                                    _ => Err(SubmitError::Store(StoreError::corrupt(format!(
                                        "idempotency key names ticket {ticket_id}, which has no creation on record"
                                    )))),
                                }
                            }
                        }
                        _ => {
                            let number = numbers
                                .next()
                                .ok_or_else(|| StoreError::corrupt("the ticket counter handed out too few numbers"))?;
                            let id = TicketId::from_number(number);
                            match decide::create(id, new_ticket.clone(), actor, now, &directory, rules) {
                                Ok(decision) => {
                                    let decision = automation::fire_triggers(decision, now, &directory, rules);
                                    let ticket_id = decision.ticket.id.to_string();
                                    let customer = decision.ticket.customer_id.to_string();
                                    if !directory.customers.contains_key(&customer) {
                                        directory.customers.insert(customer.clone(), decision.ticket.customer_tier);
                                        new_customers.push((customer, decision.ticket.customer_tier, micros(now)));
                                    }
                                    if let (Some(sk), Some(key)) = (scope_key, idempotency) {
                                        new_keys.insert(sk, (key.request_digest.clone(), ticket_id.clone()));
                                    }
                                    tickets.insert(ticket_id.clone(), decision.ticket.clone());
                                    first_results.insert(ticket_id.clone(), decision.ticket.clone());
                                    created.insert(ticket_id.clone());
                                    touched.push(ticket_id);
                                    Ok(Committed {
                                        ticket: decision.ticket,
                                        events: decision.events,
                                        replayed: false,
                                        last_seq: 0,
                                        also: Vec::new(),
                                    })
                                }
                                Err(error) => Err(SubmitError::Rejected(error)),
                            }
                        }
                    }
                }
                TicketCommand::Patch { ticket_id, expected, patch } => {
                    let decide = |current: &Ticket| {
                        decide::patch(current, expected.clone(), patch, actor, now, &directory, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::Comment { ticket_id, comment } => {
                    let decide = |current: &Ticket| {
                        decide::comment(current, comment, actor, now, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::CheckSla { ticket_id } => {
                    let decide = |current: &Ticket| {
                        decide::check_sla(current, now, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::ApplySla { ticket_id } => {
                    let decide = |current: &Ticket| {
                        decide::apply_sla(current, actor, now, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::ApplyMacro { ticket_id, expected, name } => {
                    let decide = |current: &Ticket| {
                        automation::apply_macro(current, expected, name, actor, now, &directory, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::HandOver { ticket_id, expected, handoff } => {
                    let decide = |current: &Ticket| {
                        vigie_core::workflow::hand_over(current, expected, handoff, actor, now, &directory, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::NotifyWait { ticket_id, expected_start } => {
                    let decide = |current: &Ticket| {
                        automation::notify_wait(current, *expected_start, now, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::Automate { ticket_id, rule } => {
                    let decide = |current: &Ticket| {
                        automation::automate(current, rule, now, &directory, rules)
                            .map(|d| automation::fire_triggers(d, now, &directory, rules))
                    };
                    decide_on(&mut tickets, &mut touched, ticket_id, decide)
                }
                TicketCommand::Merge { ticket_id, expected, into } => {
                    // Both sides or neither: decided together, written together. The core checks
                    // the source first, so an unknown target says nothing about a source the
                    // caller may not see.
                    match tickets.get(ticket_id.as_str()) {
                        None => Err(SubmitError::Rejected(vigie_core::CommandError::NotFound)),
                        Some(source) => {
                            match decide::merge(source, expected, tickets.get(into.as_str()), actor, now, rules) {
                                Ok((merged, joined)) => {
                                    let merged = automation::fire_triggers(merged, now, &directory, rules);
                                    let joined = automation::fire_triggers(joined, now, &directory, rules);
                                    for side in [&merged, &joined] {
                                        touched.push(side.ticket.id.to_string());
                                        tickets.insert(side.ticket.id.to_string(), side.ticket.clone());
                                    }
                                    let mut events = merged.events;
                                    events.extend(joined.events);
                                    let also = vec![(joined.ticket, 0)];
                                    Ok(Committed { ticket: merged.ticket, events, replayed: false, last_seq: 0, also })
                                }
                                Err(error) => Err(SubmitError::Rejected(error)),
                            }
                        }
                    }
                }
                TicketCommand::Claim { agent, candidates } => {
                    // The first candidate still claimable wins; the others were taken meanwhile
                    // (by an earlier command of this batch, or by a commit since the caller
                    // looked).
                    // If every candidate is refused as invalid (the agent no longer works for
                    // their team), that is the answer; otherwise "none is free".
                    let mut outcome = None;
                    let mut invalid = None;
                    for ticket_id in candidates {
                        let decide = |current: &Ticket| {
                            decide::claim(current, agent, actor, now, &directory, rules)
                                .map(|d| automation::fire_triggers(d, now, &directory, rules))
                        };
                        match decide_on(&mut tickets, &mut touched, ticket_id, decide) {
                            Ok(committed) => {
                                outcome = Some(Ok(committed));
                                break;
                            }
                            Err(error @ SubmitError::Rejected(vigie_core::CommandError::Invalid(_))) => {
                                invalid.get_or_insert(error);
                            }
                            Err(_) => {
                                outcome.get_or_insert(Err(SubmitError::Rejected(
                                    vigie_core::CommandError::NotClaimable("none of the candidates is free any more"),
                                )));
                            }
                        }
                    }
                    match (outcome, invalid) {
                        (Some(Ok(committed)), _) => Ok(committed),
                        (None, Some(invalid)) => Err(invalid),
                        (Some(refused), _) => refused,
                        (None, None) => Err(SubmitError::Rejected(vigie_core::CommandError::NotClaimable(
                            "no candidate was proposed",
                        ))),
                    }
                }
            };
            decided.push(outcome);
        }

        // 5. Sequence numbers for the events, in command order.
        let n_events: usize = decided.iter().map(|d| d.as_ref().map_or(0, |c| c.events.len())).sum();
        let mut seqs = Self::next_values(conn, Counter::EventSeq, n_events).await?.into_iter();
        let mut event_rows = Vec::with_capacity(n_events);
        for outcome in decided.iter_mut().flatten() {
            for event in &mut outcome.events {
                event.seq =
                    seqs.next().ok_or_else(|| StoreError::corrupt("the event counter handed out too few numbers"))?;
                event_rows.push(EventRow::from_event(event));
                last_seqs.insert(event.ticket_id.to_string(), event.seq);
            }
            if !outcome.replayed {
                outcome.last_seq = last_seqs.get(outcome.ticket.id.as_str()).copied().unwrap_or(0);
            }
            for (ticket, last_seq) in &mut outcome.also {
                *last_seq = last_seqs.get(ticket.id.as_str()).copied().unwrap_or(0);
            }
        }

        // 6. Write: customers first (tickets name them), then the projection, the log, the keys.
        new_customers.sort_by(|a, b| a.0.cmp(&b.0));
        Self::insert_new_customers(conn, &new_customers).await?;
        // Each touched ticket once, in its final state: new ones inserted (a clash with a stored
        // id fails the batch rather than overwrite it), existing ones updated.
        let mut seen = HashSet::new();
        let (new_rows, changed_rows): (Vec<TicketRow>, Vec<TicketRow>) = touched
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| tickets.get(id).map(TicketRow::from_ticket))
            .map(|row| TicketRow { last_seq: last_seqs.get(&row.id).copied().unwrap_or(0), ..row })
            .partition(|row| created.contains(&row.id));
        Self::write_tickets(conn, &new_rows, OnConflict::Fail).await?;
        Self::write_tickets(conn, &changed_rows, OnConflict::Update).await?;
        Self::insert_events(conn, &event_rows).await?;
        Self::insert_outbox(conn, decided.iter().flatten().flat_map(|c| &c.events)).await?;
        Self::insert_idempotency_keys(conn, &new_keys, batch.first().map_or(0, |s| micros(s.now))).await?;

        Ok(decided)
    }

    /// `n` values of `counter`; none (and no query) for `n = 0`.
    async fn next_values(conn: &mut DB::Connection, counter: Counter, n: usize) -> Result<Vec<i64>, StoreError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        Ok(DB::next_values(conn, counter, count(n)?).await?)
    }

    /// Each ticket as its creating command left it: what a repeat of that command (same
    /// idempotency key) is answered.
    async fn created_snapshots(
        conn: &mut DB::Connection,
        ids: impl Iterator<Item = String>,
    ) -> Result<HashMap<String, Ticket>, StoreError> {
        let ids: BTreeSet<String> = ids.collect();
        let mut found = HashMap::new();
        if ids.is_empty() {
            return Ok(found);
        }
        // The creating command's events: all recorded at its instant (its triggers' changes and
        // SLA bookkeeping included; a later command comes with a later instant).
        let mut qb = where_in::<DB>(
            "SELECT seq, ticket_id, version, at, actor, kind, data FROM events \
             WHERE ticket_id IN (",
            ids,
        );
        qb.push(
            " AND at = (SELECT created.at FROM events created \
             WHERE created.ticket_id = events.ticket_id AND created.kind = 'ticket_created') ORDER BY seq",
        );
        let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut histories: HashMap<String, Vec<Event>> = HashMap::new();
        for row in rows {
            let event = row.into_event()?;
            histories.entry(event.ticket_id.to_string()).or_default().push(event);
        }
        for (id, history) in histories {
            let ticket = vigie_core::event::replay(&history)
                .map_err(|error| StoreError::corrupt(format!("ticket {id}: {error}")))?;
            if let Some(ticket) = ticket {
                found.insert(id, ticket);
            }
        }
        Ok(found)
    }

    async fn idempotency_keys(
        conn: &mut DB::Connection,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), IdempotencyRow>, BatchError> {
        let mut found = HashMap::new();
        if keys.is_empty() {
            return Ok(found);
        }
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT scope, key, request_hash, ticket_id FROM idempotency_keys WHERE (scope, key) IN (",
        );
        let mut separated = qb.separated(", ");
        for (scope, key) in keys {
            separated.push("(").push_bind_unseparated(scope.clone()).push_unseparated(", ");
            separated.push_bind_unseparated(key.clone()).push_unseparated(")");
        }
        qb.push(")");
        let rows: Vec<IdempotencyRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        for row in rows {
            found.insert((row.scope.clone(), row.key.clone()), row);
        }
        Ok(found)
    }

    async fn tickets_for_update(conn: &mut DB::Connection, ids: &[String]) -> Result<Vec<TicketRow>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Sorted, so that concurrent PostgreSQL writers lock rows in the same order.
        let sorted: BTreeSet<String> = ids.iter().cloned().collect();
        let mut qb = where_in::<DB>(format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id IN ("), sorted);
        qb.push(" ORDER BY id").push(DB::LOCK_FOR_UPDATE);
        qb.build_query_as().fetch_all(&mut *conn).await
    }

    /// The directory records a batch names, plus the teams of `agents` (already assigned).
    async fn batch_directory(
        conn: &mut DB::Connection,
        batch: &[Submission],
        mut agents: HashSet<String>,
    ) -> Result<BatchDirectory, StoreError> {
        let mut teams = HashSet::new();
        let mut customers = HashSet::new();
        for submission in batch {
            match &submission.command {
                TicketCommand::Create { new_ticket, .. } => {
                    teams.extend(new_ticket.team.iter().map(ToString::to_string));
                    agents.extend(new_ticket.assignee.iter().map(ToString::to_string));
                    customers.insert(new_ticket.customer_id.to_string());
                }
                TicketCommand::Patch { patch, .. } => {
                    if let vigie_core::Patch::Set(team) = &patch.team {
                        teams.insert(team.to_string());
                    }
                    if let vigie_core::Patch::Set(agent) = &patch.assignee {
                        agents.insert(agent.to_string());
                    }
                }
                TicketCommand::Claim { agent, .. } => {
                    agents.insert(agent.to_string());
                }
                TicketCommand::Comment { .. }
                | TicketCommand::CheckSla { .. }
                | TicketCommand::ApplySla { .. }
                | TicketCommand::Automate { .. }
                | TicketCommand::ApplyMacro { .. }
                | TicketCommand::HandOver { .. }
                | TicketCommand::NotifyWait { .. }
                | TicketCommand::Merge { .. } => {}
            }
            // The teams of the paths: a handoff, a recategorisation or a rule may hand a ticket
            // to any of them.
            teams.extend(submission.rules.workflows.teams().map(ToString::to_string));
            // What the rules' actions name: a trigger may fire in any command.
            for action in submission.rules.automations.all_actions() {
                match action {
                    automation::Action::SetTeam(team) => {
                        teams.insert(team.to_string());
                    }
                    automation::Action::SetAssignee(Some(agent)) => {
                        agents.insert(agent.to_string());
                    }
                    _ => {}
                }
            }
        }
        let teams = Self::existing_ids(conn, "teams", teams).await?;
        let mut agent_teams = HashMap::new();
        if !agents.is_empty() {
            let mut qb =
                where_in::<DB>("SELECT id, teams, skill_categories, skill_languages FROM agents WHERE id IN (", agents);
            let rows: Vec<AgentTeamsRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
            for row in rows {
                let skills = Skills {
                    categories: split_list(&row.skill_categories),
                    languages: split_list(&row.skill_languages),
                };
                agent_teams.insert(row.id, (parse_teams(&row.teams)?, skills));
            }
        }
        let mut known_customers = HashMap::new();
        if !customers.is_empty() {
            let mut qb = where_in::<DB>("SELECT id, tier FROM customers WHERE id IN (", customers);
            let rows: Vec<CustomerTierRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
            for row in rows {
                let tier = CustomerTier::parse(&row.tier)
                    .ok_or_else(|| StoreError::corrupt(format!("customer {}: tier `{}`", row.id, row.tier)))?;
                known_customers.insert(row.id, tier);
            }
        }
        Ok(BatchDirectory { teams, agents: agent_teams, customers: known_customers })
    }

    async fn existing_ids(
        conn: &mut DB::Connection,
        table: &'static str,
        ids: HashSet<String>,
    ) -> Result<HashSet<String>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut qb = where_in::<DB>(format!("SELECT id FROM {table} WHERE id IN ("), ids);
        let rows: Vec<IdRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        Ok(rows.into_iter().map(|row| row.id).collect())
    }

    async fn insert_new_customers(
        conn: &mut DB::Connection,
        customers: &[(String, CustomerTier, i64)],
    ) -> Result<(), sqlx::Error> {
        if customers.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO customers (id, name, tier, auto_created, created_at) ");
        qb.push_values(customers, |mut row, (id, tier, at)| {
            // A customer first seen on a ticket is named by its id until someone names it.
            row.push_bind(id.clone())
                .push_bind(id.clone())
                .push_bind(tier.as_str().to_owned())
                .push_bind(true)
                .push_bind(*at);
        });
        qb.push(" ON CONFLICT (id) DO NOTHING");
        qb.build().execute(&mut *conn).await?;
        Ok(())
    }

    async fn write_tickets(
        conn: &mut DB::Connection,
        rows: &[TicketRow],
        on_conflict: OnConflict,
    ) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<DB>::new(format!("INSERT INTO tickets ({TICKET_COLUMNS}) "));
        qb.push_values(rows, |mut b, row| {
            b.push_bind(row.id.clone())
                .push_bind(row.version)
                .push_bind(row.created_at)
                .push_bind(row.updated_at)
                .push_bind(row.first_response_at)
                .push_bind(row.resolved_at)
                .push_bind(row.status.clone())
                .push_bind(row.is_open)
                .push_bind(row.priority)
                .push_bind(row.category.clone())
                .push_bind(row.channel.clone())
                .push_bind(row.customer_id.clone())
                .push_bind(row.customer_tier.clone())
                .push_bind(row.team.clone())
                .push_bind(row.assignee.clone())
                .push_bind(row.subject.clone())
                .push_bind(row.body.clone())
                .push_bind(row.csat)
                .push_bind(row.tags.clone())
                .push_bind(row.legal_risk)
                .push_bind(row.blocking)
                .push_bind(row.language.clone())
                .push_bind(row.status_history.clone())
                .push_bind(row.sla_targets.clone())
                .push_bind(row.sla_marks)
                .push_bind(row.rules_applied.clone())
                .push_bind(row.steps.clone())
                .push_bind(row.last_seq);
        });
        if on_conflict == OnConflict::Update {
            qb.push(
                " ON CONFLICT (id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at, \
             first_response_at = excluded.first_response_at, resolved_at = excluded.resolved_at, \
             status = excluded.status, is_open = excluded.is_open, priority = excluded.priority, \
             category = excluded.category, channel = excluded.channel, customer_id = excluded.customer_id, \
             customer_tier = excluded.customer_tier, team = excluded.team, assignee = excluded.assignee, \
             subject = excluded.subject, body = excluded.body, csat = excluded.csat, tags = excluded.tags, \
             legal_risk = excluded.legal_risk, blocking = excluded.blocking, language = excluded.language, \
             status_history = excluded.status_history, sla_targets = excluded.sla_targets, \
             sla_marks = excluded.sla_marks, rules_applied = excluded.rules_applied, \
             steps = excluded.steps, last_seq = excluded.last_seq",
            );
        }
        qb.build().execute(&mut *conn).await?;
        Ok(())
    }

    async fn insert_events(conn: &mut DB::Connection, rows: &[EventRow]) -> Result<(), sqlx::Error> {
        // 7 parameters an event: chunks of 2,000 stay far below both backends' limits.
        for chunk in rows.chunks(2_000) {
            let mut qb =
                QueryBuilder::<DB>::new("INSERT INTO events (seq, ticket_id, version, at, actor, kind, data) ");
            qb.push_values(chunk, |mut b, row| {
                b.push_bind(row.seq)
                    .push_bind(row.ticket_id.clone())
                    .push_bind(row.version)
                    .push_bind(row.at)
                    .push_bind(row.actor.clone())
                    .push_bind(row.kind.clone())
                    .push_bind(row.data.clone());
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// One outbox row per message event: in the transaction that records the events, so that a
    /// message exists exactly when its event does.
    async fn insert_outbox<'e>(
        conn: &mut DB::Connection,
        events: impl Iterator<Item = &'e Event>,
    ) -> Result<(), sqlx::Error> {
        let rows: Vec<&Event> = events.filter(|e| matches!(e.kind, EventKind::MessageQueued { .. })).collect();
        // 14 parameters a row.
        for chunk in rows.chunks(1_000) {
            let mut qb = QueryBuilder::<DB>::new(
                "INSERT INTO outbox (delivery_key, event_seq, ticket_id, actor, audience, recipient, template, \
                 subject, body, created_at, attempts, next_attempt_at, delivered_at, last_error) ",
            );
            qb.push_values(chunk, |mut b, event| {
                let EventKind::MessageQueued { audience, template, subject, body } = &event.kind else { return };
                b.push_bind(format!("event-{}", event.seq))
                    .push_bind(event.seq)
                    .push_bind(event.ticket_id.to_string())
                    .push_bind(event.actor.clone())
                    .push_bind(audience.kind().to_owned())
                    .push_bind(audience.id().to_owned())
                    .push_bind(template.clone())
                    .push_bind(subject.clone())
                    .push_bind(body.clone())
                    .push_bind(micros(event.at))
                    .push_bind(0_i64)
                    .push_bind(Some(micros(event.at)))
                    .push_bind(None::<i64>)
                    .push_bind(None::<String>);
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn insert_idempotency_keys(
        conn: &mut DB::Connection,
        keys: &BTreeMap<(String, String), (String, String)>,
        at: i64,
    ) -> Result<(), BatchError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut qb =
            QueryBuilder::<DB>::new("INSERT INTO idempotency_keys (scope, key, request_hash, ticket_id, created_at) ");
        qb.push_values(keys, |mut b, ((scope, key), (digest, ticket_id))| {
            b.push_bind(scope.clone())
                .push_bind(key.clone())
                .push_bind(digest.clone())
                .push_bind(ticket_id.clone())
                .push_bind(at);
        });
        qb.push(" ON CONFLICT (scope, key) DO NOTHING");
        let inserted = qb.build().execute(&mut *conn).await?;
        // Fewer rows than keys: a concurrent writer (PostgreSQL) committed one of these keys
        // after we looked. Roll back and run again; the retry will find it.
        if usize::try_from(DB::rows_affected(&inserted)).unwrap_or(0) < keys.len() {
            return Err(BatchError::IdempotencyRace);
        }
        Ok(())
    }
}

/// Decides a command on a ticket the batch has read (locked), and keeps the batch's view of it
/// current for the commands after it.
fn decide_on(
    tickets: &mut HashMap<String, Ticket>,
    touched: &mut Vec<String>,
    ticket_id: &TicketId,
    decide: impl FnOnce(&Ticket) -> Result<decide::Decision, vigie_core::CommandError>,
) -> CommandResult {
    let current = tickets.get(ticket_id.as_str()).ok_or(SubmitError::Rejected(vigie_core::CommandError::NotFound))?;
    let decision = decide(current).map_err(SubmitError::Rejected)?;
    if !decision.events.is_empty() {
        touched.push(ticket_id.to_string());
        tickets.insert(ticket_id.to_string(), decision.ticket.clone());
    }
    Ok(Committed { ticket: decision.ticket, events: decision.events, replayed: false, last_seq: 0, also: Vec::new() })
}

/// `prefix (?, ?, ...)` with one bound parameter per id: the head of an `IN` query (`prefix`
/// ends with `IN (`).
fn where_in<DB>(prefix: impl Into<String>, ids: impl IntoIterator<Item = String>) -> QueryBuilder<DB>
where
    DB: Database,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(prefix.into());
    let mut separated = qb.separated(", ");
    for id in ids {
        separated.push_bind(id);
    }
    qb.push(")");
    qb
}

fn push_in<DB, T>(qb: &mut QueryBuilder<DB>, column: &'static str, values: impl Iterator<Item = T>)
where
    DB: Database,
    for<'q> T: Encode<'q, DB> + Type<DB> + 'q,
{
    let mut values = values.peekable();
    if values.peek().is_none() {
        return;
    }
    qb.push(format!(" AND {column} IN ("));
    let mut separated = qb.separated(", ");
    for value in values {
        separated.push_bind(value);
    }
    qb.push(")");
}

/// A count as the `i64` SQL takes.
fn count(n: usize) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::corrupt(format!("count {n} does not fit in 64 bits")))
}

fn parse_teams(text: &str) -> Result<Vec<TeamId>, StoreError> {
    split_list(text)
        .into_iter()
        .map(|team| TeamId::parse(team).map_err(|e| StoreError::corrupt(format!("team id: {e}"))))
        .collect()
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn on_unique<T>(result: Result<T, sqlx::Error>, what: impl FnOnce() -> String) -> Result<(), StoreError> {
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Err(StoreError::Conflict(what())),
        Err(error) => Err(error.into()),
    }
}
