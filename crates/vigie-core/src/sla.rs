//! SLA targets and the clock that runs against them, in business time.
//!
//! A ticket gets its targets when it is created (and again when its category or priority
//! changes, or when an admin asks for the current policies to be applied): a snapshot of the
//! most specific [`SlaPolicy`] that matches it ([`SlaTargets`]). A configuration change does not
//! move the targets of tickets already running; `ApplySla` does, on request.
//!
//! The clock of a target is computed from the ticket's status history, never accumulated: it
//! runs on the target's calendar from the creation, while the ticket is open and not in a
//! pausing status, and stops at the first response (first-response target) or at the
//! resolution (resolution target). Time spent solved before a reopening does not count either:
//! the clock resumes where it stopped. So the paused time excluded is exactly what the event
//! history says, whatever the configuration was when the events happened.
//!
//! A ticket solved without any public reply ends its first-response clock at the solution: the
//! solution was the answer.
//!
//! The state of a target ([`SlaState`]): `met` once stopped on or before the deadline,
//! `breached` once the deadline has passed without a stop (or the stop came late), `paused`
//! while the ticket waits in a pausing status, `running` otherwise. A response exactly at the
//! deadline meets it.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::calendar::{self, Calendar};
use crate::ticket::{Channel, Priority, Status, spelled_enum};

spelled_enum!(
    /// The two promises an SLA makes.
    SlaTarget { FirstResponse => "first_response", Resolution => "resolution" }
);

spelled_enum!(
    /// Where a target stands. Declared in the order that decides a ticket's overall state
    /// ([`SlaState::overall`]): breached, then paused, then running, then met.
    SlaState { Breached => "breached", Paused => "paused", Running => "running", Met => "met" }
);

/// The targets a ticket runs on: a snapshot of the policy that matched it when they were
/// applied, so that a later change of the policies does not move its deadlines silently.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlaTargets {
    /// The policy's name, for people ("billing-urgent").
    pub policy: String,
    /// The calendar the minutes are counted on.
    pub calendar: String,
    /// Business minutes to the first public reply; `None`: no such target.
    pub first_response_minutes: Option<u32>,
    /// Business minutes to the resolution; `None`: no such target.
    pub resolution_minutes: Option<u32>,
}

impl SlaTargets {
    pub fn minutes(&self, target: SlaTarget) -> Option<u32> {
        match target {
            SlaTarget::FirstResponse => self.first_response_minutes,
            SlaTarget::Resolution => self.resolution_minutes,
        }
    }
}

/// What the scheduler has recorded for a ticket's current targets (reset when targets are
/// applied anew): each warning and each breach is recorded once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlaMarks {
    pub first_response: TargetMarks,
    pub resolution: TargetMarks,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetMarks {
    /// An `SlaAtRisk` event was recorded.
    pub at_risk: bool,
    /// An `SlaBreached` event was recorded.
    pub breached: bool,
}

impl SlaMarks {
    pub fn of(&self, target: SlaTarget) -> TargetMarks {
        match target {
            SlaTarget::FirstResponse => self.first_response,
            SlaTarget::Resolution => self.resolution,
        }
    }

    pub fn of_mut(&mut self, target: SlaTarget) -> &mut TargetMarks {
        match target {
            SlaTarget::FirstResponse => &mut self.first_response,
            SlaTarget::Resolution => &mut self.resolution,
        }
    }
}

/// One entry of a ticket's status history: the status it entered, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSince {
    pub status: Status,
    pub since: Timestamp,
}

/// A policy: which tickets it covers (`None` is `*`, any value) and its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaPolicy {
    pub name: String,
    pub category: Option<String>,
    pub priority: Option<Priority>,
    pub channel: Option<Channel>,
    pub first_response_minutes: Option<u32>,
    pub resolution_minutes: Option<u32>,
    pub calendar: String,
}

impl SlaPolicy {
    fn matches(&self, category: &str, priority: Priority, channel: Channel) -> bool {
        self.category.as_deref().is_none_or(|c| c == category)
            && self.priority.is_none_or(|p| p == priority)
            && self.channel.is_none_or(|c| c == channel)
    }

    /// How specific the policy is: an exact category beats `*` whatever the rest, then an
    /// exact priority, then an exact channel (FORMATS.md's rule, with the channel last).
    fn specificity(&self) -> u8 {
        u8::from(self.category.is_some()) * 4 + u8::from(self.priority.is_some()) * 2 + u8::from(self.channel.is_some())
    }

    pub fn targets(&self) -> SlaTargets {
        SlaTargets {
            policy: self.name.clone(),
            calendar: self.calendar.clone(),
            first_response_minutes: self.first_response_minutes,
            resolution_minutes: self.resolution_minutes,
        }
    }
}

/// The SLA part of the engine's rules: calendars, policies, pausing statuses and the warning
/// lead time. Built by [`crate::rules::RulesInput::parse`], which checks that every policy's
/// calendar exists.
#[derive(Debug, Clone)]
pub struct SlaSettings {
    calendars: Vec<Arc<Calendar>>,
    /// The built-in 24x7 calendar, also in `calendars`.
    always_open: Arc<Calendar>,
    policies: Vec<SlaPolicy>,
    pause_statuses: Vec<Status>,
    at_risk_lead_minutes: u32,
}

/// The statuses that pause the clock unless configured otherwise: waiting on the customer or
/// on a third party is not the team's time.
pub const DEFAULT_PAUSE_STATUSES: [Status; 2] = [Status::PendingCustomer, Status::PendingThirdParty];
/// The default warning lead: an hour of business time before the deadline (METRICS.md's
/// at-risk window).
pub const DEFAULT_AT_RISK_MINUTES: u32 = 60;

impl SlaSettings {
    /// Checked by the caller: every policy's calendar is among `calendars` (the built-in 24x7
    /// is always there), names are unique.
    pub(crate) fn new(
        mut calendars: Vec<Arc<Calendar>>,
        policies: Vec<SlaPolicy>,
        pause_statuses: Vec<Status>,
        at_risk_lead_minutes: u32,
    ) -> Self {
        let always_open = Arc::new(Calendar::always_open());
        calendars.retain(|c| c.name() != calendar::ALWAYS_OPEN);
        calendars.push(always_open.clone());
        calendars.sort_by(|a, b| a.name().cmp(b.name()));
        SlaSettings { calendars, always_open, policies, pause_statuses, at_risk_lead_minutes }
    }

    /// No policies: no ticket has SLA targets.
    pub fn none() -> Self {
        SlaSettings::new(Vec::new(), Vec::new(), DEFAULT_PAUSE_STATUSES.to_vec(), DEFAULT_AT_RISK_MINUTES)
    }

    pub fn calendars(&self) -> &[Arc<Calendar>] {
        &self.calendars
    }

    pub fn calendar(&self, name: &str) -> Option<&Arc<Calendar>> {
        self.calendars.iter().find(|c| c.name() == name)
    }

    /// The calendar named, or the 24x7 one when it no longer exists (a ticket whose targets
    /// name a calendar deleted since keeps running, on calendar time).
    pub fn calendar_or_always(&self, name: &str) -> &Arc<Calendar> {
        self.calendar(name).unwrap_or(&self.always_open)
    }

    pub fn policies(&self) -> &[SlaPolicy] {
        &self.policies
    }

    pub fn pause_statuses(&self) -> &[Status] {
        &self.pause_statuses
    }

    /// The targets of the most specific policy matching a ticket; `None` when none matches.
    pub fn select(&self, category: &str, priority: Priority, channel: Channel) -> Option<SlaTargets> {
        self.policies
            .iter()
            .filter(|policy| policy.matches(category, priority, channel))
            .max_by_key(|policy| policy.specificity())
            .map(SlaPolicy::targets)
    }

    /// Where each target of a ticket stands at `now`.
    pub fn evaluate(&self, clock: &SlaClock<'_>, now: Timestamp) -> TicketSla {
        let calendar = self.calendar_or_always(&clock.targets.calendar);
        // The first answer ends the wait, whether a public reply or the first solution: the
        // earlier of the two, so that a reply after a reopening never rewrites the outcome.
        let first_solution = clock.status_history.iter().find(|entry| !entry.status.is_open()).map(|entry| entry.since);
        let first_response_stop = match (clock.first_response_at, first_solution) {
            (Some(reply), Some(solution)) => Some(reply.min(solution)),
            (reply, solution) => reply.or(solution),
        };
        let status = |target: SlaTarget, stop: Option<Timestamp>| {
            clock
                .targets
                .minutes(target)
                .map(|minutes| self.target_status(calendar, clock, target, minutes, stop, clock.marks.of(target), now))
        };
        TicketSla {
            first_response: status(SlaTarget::FirstResponse, first_response_stop),
            resolution: status(SlaTarget::Resolution, clock.resolved_at),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one private step of `evaluate`, called twice")]
    fn target_status(
        &self,
        calendar: &Calendar,
        clock: &SlaClock<'_>,
        target: SlaTarget,
        minutes: u32,
        stop: Option<Timestamp>,
        marks: TargetMarks,
        now: Timestamp,
    ) -> TargetStatus {
        let mut remaining = calendar::minutes(i64::from(minutes));
        let mut due_at = None;
        // Whether the clock is running at the end of the history (in its last, open span).
        let mut running_now = false;
        for (idx, entry) in clock.status_history.iter().enumerate() {
            if stop.is_some_and(|stop| entry.since >= stop) {
                break;
            }
            let until = clock.status_history.get(idx + 1).map(|next| next.since);
            let end = match (until, stop) {
                (Some(until), Some(stop)) => Some(until.min(stop)),
                (until, stop) => until.or(stop),
            };
            let counts = entry.status.is_open() && !self.pause_statuses.contains(&entry.status);
            if !counts {
                continue;
            }
            match end {
                Some(end) => {
                    // Never negative: entries out of order (clock skew between writers) count
                    // nothing rather than give time back.
                    let spent = calendar.business_time_between(entry.since, end).max(SignedDuration::ZERO);
                    if spent >= remaining {
                        due_at = calendar.add_business_time(entry.since, remaining);
                        break;
                    }
                    remaining -= spent;
                }
                None => {
                    due_at = calendar.add_business_time(entry.since, remaining);
                    running_now = true;
                    break;
                }
            }
        }
        let at_risk_lead = calendar::minutes(i64::from(self.at_risk_lead_minutes));
        let (state, due_at, left) = match (stop, due_at) {
            (Some(stop), Some(due)) if due < stop => {
                (SlaState::Breached, Some(due), -calendar.business_time_between(due, stop))
            }
            (Some(stop), Some(due)) => (SlaState::Met, Some(due), calendar.business_time_between(stop, due)),
            // Stopped before the deadline came: met, with the deadline it would have had.
            (Some(stop), None) => (SlaState::Met, calendar.add_business_time(stop, remaining), remaining),
            (None, Some(due)) if due < now => {
                (SlaState::Breached, Some(due), -calendar.business_time_between(due, now))
            }
            // A deadline still ahead can only come from the running span.
            (None, Some(due)) => (SlaState::Running, Some(due), calendar.business_time_between(now, due)),
            // Running, with a deadline beyond the years the calendar covers.
            (None, None) if running_now => (SlaState::Running, None, remaining),
            (None, None) => (SlaState::Paused, None, remaining),
        };
        // A target shorter than the warning lead is at risk from the start, not before it.
        let at_risk_at = match state {
            SlaState::Running => {
                due_at.and_then(|due| calendar.add_business_time(due, -at_risk_lead)).map(|at| at.max(clock.created_at))
            }
            _ => None,
        };
        TargetStatus { target, target_minutes: minutes, state, due_at, left, at_risk_at, stopped_at: stop, marks }
    }
}

/// What the clock of a ticket needs: its timestamps, its status history and its targets.
#[derive(Debug, Clone, Copy)]
pub struct SlaClock<'a> {
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// From the creation, in order; never empty for a stored ticket.
    pub status_history: &'a [StatusSince],
    pub targets: &'a SlaTargets,
    pub marks: SlaMarks,
}

/// Where each target of a ticket stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketSla {
    pub first_response: Option<TargetStatus>,
    pub resolution: Option<TargetStatus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TargetStatus {
    pub target: SlaTarget,
    pub target_minutes: u32,
    pub state: SlaState,
    /// The deadline. `None` while paused (it moves with the pause); for a met target, the
    /// deadline it had when it was met.
    pub due_at: Option<Timestamp>,
    /// Business time left to the deadline: negative once breached (how late); frozen while
    /// paused; for a met target, what was left when it was met.
    pub left: SignedDuration,
    /// When it enters the warning window (running targets only).
    pub at_risk_at: Option<Timestamp>,
    /// When its clock stopped for good (the response, the resolution), met or late.
    pub stopped_at: Option<Timestamp>,
    /// What was recorded for it already.
    pub marks: TargetMarks,
}

impl SlaState {
    /// A ticket's state from its targets': breached if one is, else paused if one is, else
    /// running if one is, else met (`None` without targets).
    pub fn overall(states: impl IntoIterator<Item = SlaState>) -> Option<SlaState> {
        // `SlaState` is declared in that order of precedence.
        states.into_iter().min()
    }
}

/// What an index keeps of a target: the part of its status that only changes with the ticket,
/// from which its state at any later instant follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetSummary {
    /// The state when the ticket last changed.
    pub state: SlaState,
    pub due_at: Option<Timestamp>,
    /// Its clock stopped for good (met, or answered late).
    pub stopped: bool,
}

impl TargetSummary {
    /// The state at `now`: as summarised, except that a running target whose deadline has
    /// passed since is breached.
    pub fn state_at(&self, now: Timestamp) -> SlaState {
        match self.state {
            SlaState::Running if self.due_at.is_some_and(|due| due < now) => SlaState::Breached,
            state => state,
        }
    }

    /// Still to be worked to: running or breached, not stopped, with a deadline.
    pub fn is_pending(&self) -> bool {
        matches!(self.state, SlaState::Running | SlaState::Breached) && !self.stopped && self.due_at.is_some()
    }
}

impl TargetStatus {
    pub fn summary(&self) -> TargetSummary {
        TargetSummary { state: self.state, due_at: self.due_at, stopped: self.stopped_at.is_some() }
    }

    /// Whole business minutes left, rounded down: 0 at the deadline, negative after it.
    pub fn minutes_left(&self) -> i64 {
        let micros = i64::try_from(self.left.as_micros()).unwrap_or(i64::MAX);
        micros.div_euclid(60_000_000)
    }

    /// Running and inside the warning window at `now`.
    pub fn is_at_risk(&self, now: Timestamp) -> bool {
        self.state == SlaState::Running && self.at_risk_at.is_some_and(|at| at <= now)
    }
}

impl TicketSla {
    pub fn targets(&self) -> impl Iterator<Item = &TargetStatus> {
        self.first_response.iter().chain(self.resolution.iter())
    }

    /// The ticket's overall state: breached if a target is, else paused if one is, else
    /// running if one is, else met.
    pub fn state(&self) -> Option<SlaState> {
        SlaState::overall(self.targets().map(|t| t.state))
    }

    /// The deadline the ticket must be worked to: the first response's while it is awaited,
    /// then the resolution's, counting only targets still pending, running or already
    /// breached (not stopped, not paused). `None` when no target is pending.
    pub fn deadline(&self) -> Option<&TargetStatus> {
        self.targets().filter(|t| t.summary().is_pending()).min_by_key(|t| t.due_at)
    }

    /// The next instant at which the scheduler has something to record for this ticket (a
    /// warning or a breach not recorded yet), if any. An instant in the past means "now".
    pub fn next_check(&self) -> Option<Timestamp> {
        self.targets()
            .filter_map(|t| match t.state {
                SlaState::Breached if !t.marks.breached => t.due_at,
                SlaState::Running if !t.marks.breached => {
                    let breach = t.due_at.and_then(|due| due.checked_add(SignedDuration::from_micros(1)).ok());
                    let warning = if t.marks.at_risk { None } else { t.at_risk_at };
                    [breach, warning].into_iter().flatten().min()
                }
                _ => None,
            })
            .min()
    }

    /// The warnings and breaches due at `now` and not recorded yet: a breach for every target
    /// breached, else a warning for every target running inside its warning window. A target
    /// found breached is not also warned about.
    pub fn pending_marks(&self, now: Timestamp) -> Vec<(SlaTarget, SlaMark, Timestamp)> {
        let mut marks = Vec::new();
        for status in self.targets() {
            let Some(due) = status.due_at else { continue };
            if status.state == SlaState::Breached && !status.marks.breached {
                marks.push((status.target, SlaMark::Breached, due));
            } else if status.is_at_risk(now) && !status.marks.at_risk && !status.marks.breached {
                marks.push((status.target, SlaMark::AtRisk, due));
            }
        }
        marks
    }
}

/// The two things the scheduler records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaMark {
    AtRisk,
    Breached,
}

#[cfg(test)]
mod tests;
