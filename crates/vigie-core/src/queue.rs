//! The prioritisation order: which open ticket should be worked next, and why.
//!
//! One explicit ordering, applied the same way to every list in queue order, to "next ticket"
//! and to the simulator:
//!
//! 1. **Class.** `p1` tickets (critical) come before everything else; then every ticket the team
//!    can work (`deadline`); then tickets waiting in a pausing status or whose every clock is
//!    paused (`paused`: waiting on the customer or a third party, nothing to do now).
//! 2. **Effective deadline**, earliest first. The deadline is the one the ticket must be worked
//!    to: its first-response deadline while unanswered, then its resolution deadline (see
//!    [`crate::sla::TicketSla::deadline`]). It is moved earlier by the configured boosts, in
//!    business minutes of the ticket's calendar: strategic (or premium) customer, legal risk,
//!    blocking incident; boosts add up. A ticket with no pending SLA target gets a notional
//!    deadline of `created_at` + `no_sla_deadline_minutes`, so that it ages into the queue
//!    instead of waiting forever behind tickets with targets. Paused tickets sort those already
//!    breached first (by deadline), then by the business time they have left, then those without
//!    SLA.
//! 3. **FIFO** among equals: `created_at`, then `id`.
//!
//! Already-breached tickets are not starved: a breached deadline stays where it was, in the
//! past, so a breached ticket sorts before every ticket whose deadline is still ahead and can
//! never be overtaken by newer work; among breached tickets the one breached first comes first
//! (earliest deadline first, which also minimises the worst lateness).
//!
//! The key depends on the ticket and the rules, never on "now": a ticket's place changes only
//! when the ticket or the rules change, so an ordered index of a million tickets stays valid
//! between events.

use jiff::{SignedDuration, Timestamp};

use crate::calendar::{self, Calendar};
use crate::rules::Rules;
use crate::sla::{SlaState, SlaTarget, TicketSla};
use crate::ticket::{CustomerTier, Priority, Ticket, spelled_enum};

spelled_enum!(
    /// The three bands of the queue, in order.
    QueueClass { Urgent => "p1", Deadline => "deadline", Paused => "paused" }
);

spelled_enum!(
    /// Why a deadline was moved earlier.
    Boost { Strategic => "strategic", Premium => "premium", LegalRisk => "legal_risk", Blocking => "blocking" }
);

spelled_enum!(
    /// Which deadline a ticket is ordered by.
    DeadlineSource {
        FirstResponse => "first_response",
        Resolution => "resolution",
        /// No pending SLA target: `created_at` + the configured horizon.
        NoSla => "no_sla",
    }
);

/// The ordering's weights, from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// Business minutes each boost moves a deadline earlier (0: no boost).
    pub strategic_minutes: u32,
    pub premium_minutes: u32,
    pub legal_risk_minutes: u32,
    pub blocking_minutes: u32,
    /// The notional deadline of a ticket with no pending SLA target, after its creation, in
    /// calendar minutes.
    pub no_sla_deadline_minutes: u32,
}

impl QueueSettings {
    /// The defaults: strategic customers 4 business hours ahead, premium 1, legal risk 8,
    /// blocking incidents 4; tickets without SLA due 5 days after creation.
    pub const DEFAULT: QueueSettings = QueueSettings {
        strategic_minutes: 240,
        premium_minutes: 60,
        legal_risk_minutes: 480,
        blocking_minutes: 240,
        no_sla_deadline_minutes: 7_200,
    };

    fn boosts_of(&self, facts: &QueueFacts<'_>) -> Vec<(Boost, u32)> {
        let tier = match facts.customer_tier {
            CustomerTier::Strategic => Some((Boost::Strategic, self.strategic_minutes)),
            CustomerTier::Premium => Some((Boost::Premium, self.premium_minutes)),
            CustomerTier::Standard => None,
        };
        let flags = [
            facts.legal_risk.then_some((Boost::LegalRisk, self.legal_risk_minutes)),
            facts.blocking.then_some((Boost::Blocking, self.blocking_minutes)),
        ];
        tier.into_iter().chain(flags.into_iter().flatten()).filter(|(_, minutes)| *minutes > 0).collect()
    }
}

/// What the order looks at in a ticket.
#[derive(Debug, Clone, Copy)]
pub struct QueueFacts<'a> {
    pub priority: Priority,
    pub customer_tier: CustomerTier,
    pub legal_risk: bool,
    pub blocking: bool,
    pub created_at: Timestamp,
    /// It waits in a pausing status (on the customer, on a third party): nothing to do now.
    pub waiting: bool,
    /// Where its SLA targets stand; `None` when it has none.
    pub sla: Option<&'a TicketSla>,
    /// The calendar of its targets (24x7 without targets): boosts are counted on it.
    pub calendar: &'a Calendar,
}

impl<'a> QueueFacts<'a> {
    /// The facts of a ticket under `rules`, given where its SLA targets stand.
    pub fn of_ticket(ticket: &Ticket, sla: Option<&'a TicketSla>, rules: &'a Rules) -> QueueFacts<'a> {
        let calendar = ticket.sla_targets.as_ref().map_or(calendar::ALWAYS_OPEN, |targets| targets.calendar.as_str());
        QueueFacts {
            priority: ticket.priority,
            customer_tier: ticket.customer_tier,
            legal_risk: ticket.legal_risk,
            blocking: ticket.blocking,
            created_at: ticket.created_at,
            waiting: rules.sla.pause_statuses().contains(&ticket.status),
            sla,
            calendar: rules.sla.calendar_or_always(calendar),
        }
    }
}

/// A ticket's place in the order, with the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePlace {
    pub class: QueueClass,
    /// The deadline before boosts (for paused tickets, none).
    pub deadline: Option<Timestamp>,
    pub deadline_source: Option<DeadlineSource>,
    /// The deadline after boosts: what the order compares.
    pub effective_deadline: Option<Timestamp>,
    pub boosts: Vec<(Boost, u32)>,
    /// Paused tickets: the business time their most pressing target has left.
    pub paused_left: Option<SignedDuration>,
    pub key: QueueKey,
}

/// The comparable part of a place; the ticket id breaks the last ties (the container adds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueKey {
    pub class: u8,
    /// Epoch microseconds of the effective deadline, or business microseconds left (paused).
    pub value: i64,
    /// Epoch microseconds of the creation.
    pub created_at: i64,
}

/// The place of a ticket in the queue.
pub fn place(facts: &QueueFacts<'_>, settings: &QueueSettings) -> QueuePlace {
    let created_at = facts.created_at.as_microsecond();
    let pending = facts.sla.and_then(TicketSla::deadline);
    let paused_left =
        facts.sla.and_then(|sla| sla.targets().filter(|t| t.state == SlaState::Paused).map(|t| t.left).min());
    if facts.waiting || (pending.is_none() && paused_left.is_some()) {
        // The key must not depend on "now", so a breach is ordered by its (fixed) deadline,
        // shifted below every time left: breached first, earliest breach first; then by the
        // business time left (frozen while paused); tickets without SLA last.
        let breached = pending.filter(|t| t.state == SlaState::Breached).and_then(|t| t.due_at);
        let value = match (breached, paused_left) {
            (Some(due), _) => i64::MIN / 2 + due.as_microsecond() / 2,
            (None, Some(left)) => i64::try_from(left.as_micros()).unwrap_or(i64::MAX),
            (None, None) => i64::MAX,
        };
        return QueuePlace {
            class: QueueClass::Paused,
            deadline: pending.and_then(|t| t.due_at),
            deadline_source: None,
            effective_deadline: None,
            boosts: Vec::new(),
            paused_left,
            key: QueueKey { class: 2, value, created_at },
        };
    }
    let (deadline, source) = match pending {
        Some(status) => (
            status.due_at.unwrap_or(facts.created_at),
            match status.target {
                SlaTarget::FirstResponse => DeadlineSource::FirstResponse,
                SlaTarget::Resolution => DeadlineSource::Resolution,
            },
        ),
        None => {
            let horizon = calendar::minutes(i64::from(settings.no_sla_deadline_minutes));
            (facts.created_at.checked_add(horizon).unwrap_or(facts.created_at), DeadlineSource::NoSla)
        }
    };
    let boosts = settings.boosts_of(facts);
    let boost_total: i64 = boosts.iter().map(|(_, minutes)| i64::from(*minutes)).sum();
    let effective = if boost_total == 0 {
        deadline
    } else {
        facts.calendar.add_business_time(deadline, -calendar::minutes(boost_total)).unwrap_or(deadline)
    };
    let class = if facts.priority == Priority::P1 { QueueClass::Urgent } else { QueueClass::Deadline };
    QueuePlace {
        class,
        deadline: Some(deadline),
        deadline_source: Some(source),
        effective_deadline: Some(effective),
        boosts,
        paused_left: None,
        key: QueueKey {
            class: if class == QueueClass::Urgent { 0 } else { 1 },
            value: effective.as_microsecond(),
            created_at,
        },
    }
}

/// When a ticket is likely to be picked up and done, given the work queued ahead of it in its
/// team's queue and the team's capacity now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// When an agent is likely to start on it (its first response, if it has none yet).
    pub start_at: Timestamp,
    /// When it is likely to be solved.
    pub done_at: Timestamp,
    /// The earliest deadline it is predicted to miss, if any, and which.
    pub breach: Option<(SlaTarget, Timestamp)>,
}

/// The team's capacity: how many agents work its queue, on which calendar.
#[derive(Debug, Clone, Copy)]
pub struct Capacity<'a> {
    /// Agents on the team (an agent of several teams counts for a share of each).
    pub agents: f64,
    /// When they work.
    pub calendar: &'a Calendar,
}

/// The work-queue model: the team handles its queue in order, `capacity.agents` tickets at a
/// time, each taking its category's mean handle time, during the team's business hours. The
/// ticket starts once the work ahead of it is done (`work_ahead_minutes / agents` business
/// minutes from now) and is done `own_minutes / agents` later. A running first-response target
/// is missed when the start comes after its deadline; a running resolution target when the end
/// does. Targets already breached or paused are not predicted (their state says it all).
/// `None` without capacity (no agent on record).
pub fn predict(
    now: Timestamp,
    capacity: Capacity<'_>,
    work_ahead_minutes: f64,
    own_minutes: f64,
    sla: Option<&TicketSla>,
) -> Option<Prediction> {
    if capacity.agents.is_nan() || capacity.agents <= 0.0 {
        return None;
    }
    let after = |minutes: f64| {
        let micros = (minutes / capacity.agents * 60_000_000.0).round();
        // Beyond a century of work the prediction is meaningless; saturate.
        let micros = if micros.is_finite() { micros.min(3.2e15) as i64 } else { 3_200_000_000_000_000 };
        capacity.calendar.add_business_time(now, SignedDuration::from_micros(micros.max(0)))
    };
    // Nothing ahead: it starts when the team is next at work (now, if it is).
    let start_at =
        if work_ahead_minutes > 0.0 { after(work_ahead_minutes)? } else { capacity.calendar.next_open_at(now)? };
    let done_at = after(work_ahead_minutes + own_minutes)?;
    let breach = sla.and_then(|sla| {
        sla.targets()
            .filter(|t| t.state == SlaState::Running)
            .filter_map(|t| {
                let due = t.due_at?;
                let reached = match t.target {
                    SlaTarget::FirstResponse => start_at,
                    SlaTarget::Resolution => done_at,
                };
                (reached > due).then_some((t.target, due))
            })
            .min_by_key(|(_, due)| *due)
    });
    Some(Prediction { start_at, done_at, breach })
}

#[cfg(test)]
mod tests;
