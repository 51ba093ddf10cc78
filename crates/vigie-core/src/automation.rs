//! Automation: rules that change tickets by themselves, and the templates of what they send.
//!
//! A rule has a **trigger** (events of a command, or time), **conditions** on the ticket and
//! **actions**. Triggers run inside the command that recorded their events, in the same
//! decision (so in the same transaction): [`fire_triggers`]. Time rules are evaluated by the
//! server every minute over every open ticket ([`AutomationRule::holds`] on any [`Facts`]) and
//! each ticket found due gets an `Automate` command, decided again here ([`automate`]) against
//! the ticket as stored, under its row lock: the database decides, so a pass that runs twice or
//! late records once.
//!
//! **Why rules cannot loop forever.** A time rule fires at most once per ticket and status
//! episode (a rule measured from `step_entered`, once per stay in a step as well: its record
//! carries the stay's start, see [`AutomationRule::record_key`]): its firing is recorded
//! (`rule_applied`), and the record is cleared only when the ticket changes status
//! ([`Ticket::rules_applied`]). A trigger fires at most once per command:
//! [`fire_triggers`] passes over the triggers until none fires, and a trigger that fired is not
//! tried again, so one command records at most one firing of each trigger. And a trigger that
//! changes what fires it (a `status_changed` trigger that sets the status, a `fields_changed`
//! one that sets fields or tags) must have a condition its own actions make false (`no_tag` of
//! the tag it adds, `priority is_not P1` when it sets P1): refused when the rules are checked
//! otherwise, since it would fire again on its own change.
//!
//! Templates ([`Templates`]) are minijinja, sandboxed: strict about undefined values, fuelled
//! (a template cannot run away), no file access; every template is compiled and its variables
//! checked when the rules are loaded.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::actor::Actor;
use crate::calendar::Calendar;
use crate::command::{FieldError, Patch, TicketPatch, ValidationErrors};
use crate::decide::{self, CommandError, Decision, DirectoryLookup};
use crate::event::EventKind;
use crate::ids::{AgentId, TeamId};
use crate::rules::Rules;
use crate::sla::SlaState;
use crate::ticket::{Channel, CustomerTier, Priority, Status, Ticket};

pub use templates::{TemplateInput, Templates};

mod templates;

/// The prefix of the actor recorded for what a rule does: `rule:<name>`.
pub const RULE_ACTOR_PREFIX: &str = "rule:";
/// The longest wait a `since` condition may name: ten years.
const MAX_SINCE_HOURS: f64 = 10.0 * 366.0 * 24.0;

crate::ticket::spelled_enum!(
    /// The events a trigger can fire on.
    TriggerEvent {
        TicketCreated => "ticket_created",
        StatusChanged => "status_changed",
        FieldsChanged => "fields_changed",
        CommentAdded => "comment_added",
        SlaAtRisk => "sla_at_risk",
        SlaBreached => "sla_breached",
        MergedFrom => "merged_from",
        HandedOver => "handed_over",
    }
);

impl TriggerEvent {
    fn of(kind: &EventKind) -> Option<TriggerEvent> {
        TriggerEvent::parse(kind.name())
    }
}

crate::ticket::spelled_enum!(
    /// The instants a `since` condition measures from.
    Anchor {
        Created => "created",
        Updated => "updated",
        StatusChanged => "status_changed",
        FirstResponse => "first_response",
        Resolved => "resolved",
        StepEntered => "step_entered",
    }
);

/// When a rule runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Evaluated every minute over the open tickets (and the solved ones, when a condition
    /// names `solved`).
    Time,
    /// Evaluated in any command that records one of these events.
    Events(Vec<TriggerEvent>),
}

/// A condition on a ticket; a rule's conditions must all hold.
#[derive(Debug, Clone)]
pub enum Condition {
    Status(Vec<Status>, bool),
    Priority(Vec<Priority>, bool),
    Category(Vec<String>, bool),
    Channel(Vec<Channel>, bool),
    Team(Vec<String>, bool),
    Assignee(Vec<String>, bool),
    CustomerTier(Vec<CustomerTier>, bool),
    Language(Vec<String>, bool),
    /// The step of its category's path the ticket is in (see [`crate::workflow`]).
    Step(Vec<String>, bool),
    LegalRisk(bool),
    Blocking(bool),
    /// Whether the field has a value (`team`, `assignee`, `language`, `first_response`).
    IsSet(SettableField, bool),
    /// Whether the ticket carries the tag.
    Tag(String, bool),
    /// The ticket's overall SLA state now is one of these (`None` in the list: no SLA).
    Sla(Vec<Option<SlaState>>),
    /// At least this much time has passed since the anchor (business time on the calendar, if
    /// one is named). A ticket without the anchor (never answered, not resolved) does not match.
    Since {
        anchor: Anchor,
        at_least: SignedDuration,
        calendar: Option<Arc<Calendar>>,
    },
}

/// The fields a condition can ask to be set or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettableField {
    Team,
    Assignee,
    Language,
    FirstResponse,
    Step,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetStatus(Status),
    SetPriority(Priority),
    SetCategory(String),
    SetTeam(TeamId),
    SetAssignee(Option<AgentId>),
    SetCustomerTier(CustomerTier),
    SetLegalRisk(bool),
    SetBlocking(bool),
    AddTag(String),
    RemoveTag(String),
    /// Sends the template to the ticket's customer.
    MessageCustomer {
        template: String,
    },
    /// Sends the template to a team (`None`: the ticket's own, after the rule's changes).
    NotifyTeam {
        team: Option<TeamId>,
        template: String,
    },
    /// Hands the ticket over along its path: to the next step ([`crate::workflow::NEXT`]) or
    /// back to the named one.
    HandOver(String),
}

/// One rule, checked.
#[derive(Debug, Clone)]
pub struct AutomationRule {
    pub name: String,
    pub trigger: Trigger,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

/// The automation in force: rules in their configured order, the templates they send, and the
/// macros agents apply.
#[derive(Debug, Clone, Default)]
pub struct Automations {
    pub rules: Vec<AutomationRule>,
    pub templates: Templates,
    pub macros: Vec<Macro>,
    pub notices: Notices,
}

/// The tag that records a wait notice: a ticket gets one notice (an agent who removes the tag
/// allows another).
pub const WAIT_NOTICE_TAG: &str = "wait-notified";

/// Telling customers before they ask: a notice when a ticket's expected wait goes past what its
/// channel tolerates, and the banners of the public status endpoint.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    /// The wait notice's template; `None`: no notices.
    pub template: Option<String>,
    /// What each channel tolerates (by `Channel::ALL`'s order); `None`: no notice on it.
    pub tolerance: [Option<SignedDuration>; 5],
    pub banners: Vec<Banner>,
}

/// A text the public status endpoint shows while a team's open tickets are above a count.
#[derive(Debug, Clone, PartialEq)]
pub struct Banner {
    pub team: TeamId,
    pub above: u64,
    pub text: String,
}

impl Notices {
    pub fn tolerance(&self, channel: Channel) -> Option<SignedDuration> {
        let idx = Channel::ALL.iter().position(|c| *c == channel)?;
        self.tolerance[idx].filter(|_| self.template.is_some())
    }

    pub fn is_on(&self) -> bool {
        self.template.is_some() && self.tolerance.iter().any(Option::is_some)
    }
}

/// Whether a ticket is waiting for its first answer, not yet told: what a wait notice is for.
pub fn awaits_wait_notice(ticket: &impl Facts) -> bool {
    matches!(ticket.status(), Status::New | Status::Open)
        && ticket.instant(Anchor::FirstResponse).is_none()
        && !ticket.has_tag(WAIT_NOTICE_TAG)
}

/// The notices as written.
#[derive(Debug, Clone, Default)]
pub struct NoticesInput {
    pub template: Option<String>,
    /// Channel and minutes.
    pub tolerance_minutes: Vec<(String, f64)>,
    pub banners: Vec<BannerInput>,
}

#[derive(Debug, Clone, Default)]
pub struct BannerInput {
    pub team: String,
    pub above: u64,
    pub text: String,
}

/// A macro: a reply (a template) and changes an agent applies to a ticket in one action.
#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    pub name: String,
    /// What agents see in the list.
    pub title: String,
    /// Whether it has a reply (its template is compiled with the others).
    pub reply: bool,
    /// A reply to the customer (the default), or an internal note.
    pub public: bool,
    pub actions: Vec<Action>,
}

/// A macro as written.
#[derive(Debug, Clone, Default)]
pub struct MacroInput {
    pub name: String,
    pub title: Option<String>,
    pub reply: Option<String>,
    pub public: Option<bool>,
    pub actions: Vec<ActionInput>,
}

impl Automations {
    pub fn time_rules(&self) -> impl Iterator<Item = &AutomationRule> {
        self.rules.iter().filter(|rule| rule.trigger == Trigger::Time)
    }

    pub fn rule(&self, name: &str) -> Option<&AutomationRule> {
        self.rules.iter().find(|rule| rule.name == name)
    }

    pub fn macro_named(&self, name: &str) -> Option<&Macro> {
        self.macros.iter().find(|m| m.name == name)
    }

    /// The teams the notices' banners name, each with the path of its field.
    pub fn banner_teams(&self) -> Vec<(String, TeamId)> {
        let banners = self.notices.banners.iter().enumerate();
        banners.map(|(idx, banner)| (format!("notices.banners[{idx}].team"), banner.team.clone())).collect()
    }

    /// Every action of the rules and the macros (what a batch's directory must know of).
    pub fn all_actions(&self) -> impl Iterator<Item = &Action> {
        self.rules.iter().flat_map(|rule| &rule.actions).chain(self.macros.iter().flat_map(|m| &m.actions))
    }

    /// The teams the rules' actions name, each with the path of its field.
    pub fn named_teams(&self) -> Vec<(String, TeamId)> {
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(idx, rule)| (format!("automations[{idx}] ({})", rule.name), &rule.actions));
        let macros = self.macros.iter().map(|m| (format!("macros.{}", m.name), &m.actions));
        let mut named = Vec::new();
        for (path, actions) in rules.chain(macros) {
            for (n, action) in actions.iter().enumerate() {
                match action {
                    Action::SetTeam(team) => named.push((format!("{path}.actions[{n}].to"), team.clone())),
                    Action::NotifyTeam { team: Some(team), .. } => {
                        named.push((format!("{path}.actions[{n}].notify_team"), team.clone()))
                    }
                    _ => {}
                }
            }
        }
        named
    }

    fn has_triggers(&self) -> bool {
        self.rules.iter().any(|rule| matches!(rule.trigger, Trigger::Events(_)))
    }
}

/// What the conditions read of a ticket: implemented by the ticket itself and by the server's
/// compact copy of the open tickets, so that a time rule is evaluated the same way on both.
pub trait Facts {
    fn status(&self) -> Status;
    fn priority(&self) -> Priority;
    fn category(&self) -> &str;
    fn channel(&self) -> Channel;
    fn team(&self) -> Option<&str>;
    fn assignee(&self) -> Option<&str>;
    fn customer_tier(&self) -> CustomerTier;
    fn language(&self) -> Option<&str>;
    /// The step of its category's path it is in.
    fn step(&self) -> Option<&str>;
    fn legal_risk(&self) -> bool;
    fn blocking(&self) -> bool;
    fn has_tag(&self, tag: &str) -> bool;
    /// The time rule has fired since the ticket last changed status.
    fn applied(&self, rule: &str) -> bool;
    fn instant(&self, anchor: Anchor) -> Option<Timestamp>;
    /// The overall SLA state at `now` (`None`: no targets).
    fn sla_state(&self, now: Timestamp, rules: &Rules) -> Option<SlaState>;
}

impl Facts for Ticket {
    fn status(&self) -> Status {
        self.status
    }
    fn priority(&self) -> Priority {
        self.priority
    }
    fn category(&self) -> &str {
        &self.category
    }
    fn channel(&self) -> Channel {
        self.channel
    }
    fn team(&self) -> Option<&str> {
        self.team.as_ref().map(TeamId::as_str)
    }
    fn assignee(&self) -> Option<&str> {
        self.assignee.as_ref().map(AgentId::as_str)
    }
    fn customer_tier(&self) -> CustomerTier {
        self.customer_tier
    }
    fn language(&self) -> Option<&str> {
        self.language.as_deref()
    }
    fn step(&self) -> Option<&str> {
        self.current_step()
    }
    fn legal_risk(&self) -> bool {
        self.legal_risk
    }
    fn blocking(&self) -> bool {
        self.blocking
    }
    fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
    fn applied(&self, rule: &str) -> bool {
        self.rules_applied.iter().any(|r| r == rule)
    }
    fn instant(&self, anchor: Anchor) -> Option<Timestamp> {
        match anchor {
            Anchor::Created => Some(self.created_at),
            Anchor::Updated => Some(self.updated_at),
            Anchor::StatusChanged => Some(self.status_history.last().map_or(self.created_at, |s| s.since)),
            Anchor::FirstResponse => self.first_response_at,
            Anchor::Resolved => self.resolved_at,
            Anchor::StepEntered => self.step_since(),
        }
    }
    fn sla_state(&self, now: Timestamp, rules: &Rules) -> Option<SlaState> {
        self.sla_clock().and_then(|clock| rules.sla.evaluate(&clock, now).state())
    }
}

/// The step the ticket is in, if it is a step of its category's workflow in force (a step of a
/// path since removed or renamed is no step a rule can act on).
fn step_on_path<'a>(ticket: &'a impl Facts, rules: &Rules) -> Option<&'a str> {
    ticket.step().filter(|step| {
        rules.workflows.for_category(ticket.category()).is_some_and(|workflow| workflow.position(step).is_some())
    })
}

impl Condition {
    pub fn holds(&self, ticket: &impl Facts, now: Timestamp, rules: &Rules) -> bool {
        fn among<T: PartialEq>(values: &[T], value: &T, negate: bool) -> bool {
            values.contains(value) != negate
        }
        fn among_str(values: &[String], value: Option<&str>, negate: bool) -> bool {
            value.is_some_and(|value| values.iter().any(|v| v == value)) != negate
        }
        match self {
            Condition::Status(values, negate) => among(values, &ticket.status(), *negate),
            Condition::Priority(values, negate) => among(values, &ticket.priority(), *negate),
            Condition::Category(values, negate) => among_str(values, Some(ticket.category()), *negate),
            Condition::Channel(values, negate) => among(values, &ticket.channel(), *negate),
            Condition::Team(values, negate) => among_str(values, ticket.team(), *negate),
            Condition::Assignee(values, negate) => among_str(values, ticket.assignee(), *negate),
            Condition::CustomerTier(values, negate) => among(values, &ticket.customer_tier(), *negate),
            Condition::Language(values, negate) => among_str(values, ticket.language(), *negate),
            Condition::Step(values, negate) => among_str(values, step_on_path(ticket, rules), *negate),
            Condition::LegalRisk(value) => ticket.legal_risk() == *value,
            Condition::Blocking(value) => ticket.blocking() == *value,
            Condition::IsSet(field, set) => {
                let has = match field {
                    SettableField::Team => ticket.team().is_some(),
                    SettableField::Assignee => ticket.assignee().is_some(),
                    SettableField::Language => ticket.language().is_some(),
                    SettableField::FirstResponse => ticket.instant(Anchor::FirstResponse).is_some(),
                    SettableField::Step => step_on_path(ticket, rules).is_some(),
                };
                has == *set
            }
            Condition::Tag(tag, present) => ticket.has_tag(tag) == *present,
            Condition::Sla(states) => states.contains(&ticket.sla_state(now, rules)),
            Condition::Since { anchor: Anchor::StepEntered, .. } if step_on_path(ticket, rules).is_none() => false,
            Condition::Since { anchor, at_least, calendar } => {
                let Some(from) = ticket.instant(*anchor) else { return false };
                match calendar {
                    None => now.duration_since(from) >= *at_least,
                    Some(calendar) => calendar.business_time_between(from, now) >= *at_least,
                }
            }
        }
    }

    /// What the condition asks, as a phrase ("tag `qualified` is present"): what a refused
    /// handoff tells the agent is missing.
    pub fn describe(&self) -> String {
        fn list(values: &[impl std::fmt::Display]) -> String {
            let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
            quoted.join(" or ")
        }
        fn field(name: &str, values: &[impl std::fmt::Display], negate: bool) -> String {
            if negate { format!("{name} is not {}", list(values)) } else { format!("{name} is {}", list(values)) }
        }
        match self {
            Condition::Status(values, negate) => field("status", values, *negate),
            Condition::Priority(values, negate) => field("priority", values, *negate),
            Condition::Category(values, negate) => field("category", values, *negate),
            Condition::Channel(values, negate) => field("channel", values, *negate),
            Condition::Team(values, negate) => field("team", values, *negate),
            Condition::Assignee(values, negate) => field("assignee", values, *negate),
            Condition::CustomerTier(values, negate) => field("customer tier", values, *negate),
            Condition::Language(values, negate) => field("language", values, *negate),
            Condition::Step(values, negate) => field("step", values, *negate),
            Condition::LegalRisk(value) => format!("legal risk is {}", if *value { "set" } else { "not set" }),
            Condition::Blocking(value) => format!("blocking is {}", if *value { "set" } else { "not set" }),
            Condition::IsSet(settable, set) => {
                let (article, noun) = match settable {
                    SettableField::Team => ("a", "team"),
                    SettableField::Assignee => ("an", "assignee"),
                    SettableField::Language => ("a", "language"),
                    SettableField::FirstResponse => ("a", "first response"),
                    SettableField::Step => ("a", "step"),
                };
                if *set { format!("the ticket has {article} {noun}") } else { format!("the ticket has no {noun}") }
            }
            Condition::Tag(tag, true) => format!("it has tag `{tag}`"),
            Condition::Tag(tag, false) => format!("it does not have tag `{tag}`"),
            Condition::Sla(states) => {
                let names: Vec<&str> = states.iter().map(|s| s.map_or("none", |s| s.as_str())).collect();
                format!("its SLA is {}", list(&names))
            }
            Condition::Since { anchor, at_least, calendar } => {
                let hours = at_least.as_secs_f64() / 3600.0;
                let business =
                    calendar.as_ref().map_or(String::new(), |c| format!(" (business hours, `{}`)", c.name()));
                format!("at least {hours} h have passed since {anchor}{business}")
            }
        }
    }

    /// Whether the condition can only hold for tickets in one of `statuses`.
    fn statuses(&self) -> Option<Vec<Status>> {
        match self {
            Condition::Status(values, false) => Some(values.clone()),
            Condition::Status(values, true) => {
                Some(Status::ALL.iter().copied().filter(|status| !values.contains(status)).collect())
            }
            _ => None,
        }
    }
}

impl AutomationRule {
    /// The actor recorded for what this rule does.
    pub fn actor(&self) -> Actor {
        Actor { name: format!("{RULE_ACTOR_PREFIX}{}", self.name), ..Actor::system() }
    }

    /// Whether the rule applies to the ticket at `now`: every condition holds and, for a time
    /// rule, it has not fired in the ticket's current status. Closed tickets never match.
    pub fn holds(&self, ticket: &impl Facts, now: Timestamp, rules: &Rules) -> bool {
        self.at(now).holds(ticket, now, rules)
    }

    /// The rule ready to be tried on many tickets at one instant: its conditions in the order of
    /// their cost (a field compare first, the SLA last), and each `since` turned into a cutoff
    /// instant (the anchor must be at or before it), computed once instead of per ticket.
    /// Holds exactly when [`AutomationRule::holds`] does.
    pub fn at(&self, now: Timestamp) -> PreparedRule<'_> {
        let mut conditions: Vec<(&Condition, Option<Timestamp>)> = self
            .conditions
            .iter()
            .map(|condition| {
                let cutoff = match condition {
                    Condition::Since { at_least, calendar: None, .. } => now.checked_sub(*at_least).ok(),
                    // Business time from an instant to now is at least `at_least` exactly when the
                    // instant is at or before the latest one from which it is `at_least`.
                    Condition::Since { at_least, calendar: Some(calendar), .. } => {
                        calendar.add_business_time(now, -*at_least)
                    }
                    _ => None,
                };
                (condition, cutoff)
            })
            .collect();
        conditions.sort_by_key(|(condition, cutoff)| match condition {
            Condition::Tag(..)
            | Condition::Category(..)
            | Condition::Team(..)
            | Condition::Assignee(..)
            | Condition::Language(..)
            | Condition::Step(..) => 1,
            Condition::Since { .. } if cutoff.is_some() => 0,
            Condition::Since { .. } => 2,
            Condition::Sla(_) => 3,
            _ => 0,
        });
        PreparedRule { rule: self, conditions }
    }

    /// What records the rule's firing on a ticket (`Ticket::rules_applied`): its name, or for a
    /// rule measured from `step_entered`, its name and the instant the ticket entered its step
    /// (`name@micros`: such a rule fires once per stay in a step, the next step or a send-back
    /// being a new stay; rule names have no `@`).
    pub fn record_key<'a>(&'a self, ticket: &impl Facts) -> std::borrow::Cow<'a, str> {
        let per_stay =
            self.conditions.iter().any(|c| matches!(c, Condition::Since { anchor: Anchor::StepEntered, .. }));
        match ticket.instant(Anchor::StepEntered).filter(|_| per_stay) {
            Some(entered) => std::borrow::Cow::Owned(format!("{}@{}", self.name, entered.as_microsecond())),
            None => std::borrow::Cow::Borrowed(&self.name),
        }
    }

    /// The statuses a ticket may be in for the rule to apply: what a pass over many tickets
    /// sorts the rules by, so that each ticket is tried only with the rules of its status.
    pub fn statuses(&self) -> Vec<Status> {
        allowed_statuses(&self.conditions)
    }

    /// Whether a time rule may match a solved ticket: only when its status conditions allow
    /// `solved` (solved tickets are not held in memory; the server reads them for these rules
    /// only). Without a status condition a time rule is for the open tickets.
    pub fn wants_solved(&self) -> bool {
        wants_solved(&self.conditions)
    }
}

/// A rule prepared for one instant (see [`AutomationRule::at`]).
#[derive(Debug)]
pub struct PreparedRule<'a> {
    pub rule: &'a AutomationRule,
    /// Cheapest first; a `since` with its cutoff when it could be computed.
    conditions: Vec<(&'a Condition, Option<Timestamp>)>,
}

impl PreparedRule<'_> {
    /// Whether the rule applies to the ticket at the instant it was prepared for (see
    /// [`AutomationRule::holds`]).
    pub fn holds(&self, ticket: &impl Facts, now: Timestamp, rules: &Rules) -> bool {
        // The conditions first: most tickets fail one of them, and the record of applied rules
        // is a list of names to compare.
        ticket.status() != Status::Closed
            && self.conditions.iter().all(|(condition, cutoff)| match (condition, cutoff) {
                (Condition::Since { anchor, .. }, Some(cutoff)) => {
                    ticket.instant(*anchor).is_some_and(|at| at <= *cutoff)
                        && (*anchor != Anchor::StepEntered || step_on_path(ticket, rules).is_some())
                }
                _ => condition.holds(ticket, now, rules),
            })
            && !(self.rule.trigger == Trigger::Time && ticket.applied(&self.rule.record_key(ticket)))
    }
}

/// Decides a time rule's command: fires `rule` on `current` if it still applies at `now`
/// (nothing to record otherwise: the ticket changed since the pass found it due, or the rule
/// was removed), with its actions and a `rule_applied` record.
pub fn automate(
    current: &Ticket,
    rule: &str,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    let Some(rule) = rules.automations.rule(rule).filter(|rule| rule.trigger == Trigger::Time) else {
        return decide::check_sla(current, now, rules);
    };
    if !rule.holds(current, now, rules) {
        return decide::check_sla(current, now, rules);
    }
    // A rule the ticket refuses (a move the lifecycle forbids from its status, a message that
    // cannot be rendered for it) is recorded as failed, with why: once, not every minute.
    let kinds = match action_kinds(&rule.name, &rule.actions, &rule.actor(), current, now, directory, rules) {
        Ok(mut kinds) => {
            kinds.push(EventKind::RuleApplied { rule: rule.record_key(current).into_owned(), failed: None });
            kinds
        }
        Err(error) => {
            vec![EventKind::RuleApplied {
                rule: rule.record_key(current).into_owned(),
                failed: Some(error.to_string()),
            }]
        }
    };
    decide::record(current, kinds, &rule.actor(), now, rules)
}

/// Decides a wait notice: if `current` still waits for its first answer, has not been told, and
/// `expected_start` (the pass's prediction from the queue and the team's capacity) is further
/// than its channel tolerates, the customer gets the notice (rendered with the expected time)
/// and the ticket the tag that records it. Nothing otherwise.
pub fn notify_wait(
    current: &Ticket,
    expected_start: Timestamp,
    now: Timestamp,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    let notices = &rules.automations.notices;
    let (Some(template), Some(tolerance)) = (&notices.template, notices.tolerance(current.channel)) else {
        return decide::check_sla(current, now, rules);
    };
    let wait = expected_start.duration_since(now);
    if !awaits_wait_notice(current) || wait <= tolerance {
        return decide::check_sla(current, now, rules);
    }
    let mut tags = current.tags.clone();
    tags.push(WAIT_NOTICE_TAG.to_owned());
    let kinds =
        vec![EventKind::FieldsChanged(vec![crate::event::FieldChange::Tags { from: current.tags.clone(), to: tags }])];
    let mut after = current.clone();
    for kind in &kinds {
        apply_kind(&mut after, kind, now);
    }
    let expected = templates::Expected { start_at: expected_start, wait };
    let message = rules
        .automations
        .templates
        .render_with(template, &after, NOTICE_ACTOR, NOTICE_ACTOR, now, Some(&expected))
        .map_err(|reason| CommandError::Invalid(ValidationErrors::one(format!("templates.{template}"), reason)))?;
    let mut kinds = kinds;
    kinds.push(EventKind::MessageQueued {
        audience: Audience::Customer(current.customer_id.to_string()),
        template: template.clone(),
        subject: message.subject,
        body: message.body,
    });
    let actor = Actor { name: NOTICE_ACTOR.to_owned(), ..Actor::system() };
    decide::record(current, kinds, &actor, now, rules)
}

/// Who sends the wait notices.
pub const NOTICE_ACTOR: &str = "notice:wait";

/// Checks the notices: the template, the channels' tolerances and the banners.
pub(crate) fn parse_notices(input: NoticesInput, known: &Known<'_>) -> (Notices, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut notices = Notices::default();
    if let Some(template) = input.template {
        if known.templates.contains(&template) {
            notices.template = Some(template);
        } else {
            errors
                .push(FieldError::new("notices.template", format!("`{template}` is not a template of `[templates]`")));
        }
    } else if !input.tolerance_minutes.is_empty() {
        errors.push(FieldError::new("notices.template", "is missing: what the customers are sent"));
    }
    for (channel, minutes) in input.tolerance_minutes {
        let field = format!("notices.tolerance_minutes.{channel}");
        let Some(idx) = Channel::parse(&channel).and_then(|c| Channel::ALL.iter().position(|k| *k == c)) else {
            errors.push(FieldError::new(field, format!("`{channel}` is not a channel: {}", Channel::expected())));
            continue;
        };
        if !(minutes > 0.0 && minutes <= MAX_SINCE_HOURS * 60.0) {
            errors.push(FieldError::new(
                field,
                format!("{minutes} must be above 0 and at most {} minutes", MAX_SINCE_HOURS * 60.0),
            ));
            continue;
        }
        notices.tolerance[idx] = Some(SignedDuration::from_secs_f64(minutes * 60.0));
    }
    for (idx, banner) in input.banners.into_iter().enumerate() {
        let path = format!("notices.banners[{idx}]");
        let team = match TeamId::parse(banner.team.clone()) {
            Ok(team) => team,
            Err(error) => {
                errors.push(FieldError::new(format!("{path}.team"), format!("`{}`: {error}", banner.team)));
                continue;
            }
        };
        let text = banner.text.trim().to_owned();
        if text.is_empty() || text.chars().count() > 500 {
            errors.push(FieldError::new(format!("{path}.text"), "must be a text of 1 to 500 characters"));
            continue;
        }
        notices.banners.push(Banner { team, above: banner.above, text });
    }
    (notices, errors)
}

/// Applies macro `name` to `current` for `actor` (if `expected` still holds): its changes,
/// checked like anyone's, then its reply rendered from the ticket as they leave it (a public
/// reply by an agent is an answer: the first response if there was none, and a `new` ticket
/// opens), all recorded under the actor's name.
pub fn apply_macro(
    current: &Ticket,
    expected: &crate::command::ExpectedVersion,
    name: &str,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    decide::check_access(current, expected, actor)?;
    let Some(macro_) = rules.automations.macro_named(name) else {
        return Err(CommandError::Invalid(ValidationErrors::one("macro", format!("`{name}` is not a macro"))));
    };
    let mut kinds = action_kinds(name, &macro_.actions, actor, current, now, directory, rules)?;
    if macro_.reply {
        let mut after = current.clone();
        for kind in &kinds {
            apply_kind(&mut after, kind, now);
        }
        let body =
            rules.automations.templates.render_reply(name, &after, &actor.name, now).map_err(|reason| {
                CommandError::Invalid(ValidationErrors::one(format!("macros.{name}.reply"), reason))
            })?;
        let answer = macro_.public && actor.answers_customers();
        let first_response = answer && after.first_response_at.is_none();
        kinds.push(EventKind::CommentAdded { public: macro_.public, body, first_response });
        if answer && after.status == Status::New {
            kinds.push(EventKind::StatusChanged { from: Status::New, to: Status::Open });
        }
    }
    decide::record(current, kinds, actor, now, rules)
}

/// Checks the macros: their names, replies (compiled with the templates) and actions.
pub(crate) fn parse_macros(inputs: Vec<MacroInput>, known: &Known<'_>) -> (Vec<Macro>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut macros = Vec::new();
    for input in inputs {
        let path = format!("macros.{}", input.name);
        let before = errors.len();
        if input.name.trim().is_empty() || !input.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
            errors.push(FieldError::new(&path, "must be named with letters, digits, `-` or `_`"));
            continue;
        }
        let actions: Vec<Action> = input
            .actions
            .iter()
            .enumerate()
            .filter_map(|(n, a)| parse_action(a, &format!("{path}.actions[{n}]"), known, &mut errors))
            .collect();
        if input.reply.is_none() && input.actions.is_empty() {
            errors.push(FieldError::new(&path, "does nothing: give it a `reply`, `actions`, or both"));
        }
        if input.reply.is_some() && !known.templates.has_reply(&input.name) {
            // Its compilation error is reported by the templates.
            continue;
        }
        if errors.len() == before {
            macros.push(Macro {
                title: input.title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| input.name.clone()),
                name: input.name,
                reply: input.reply.is_some(),
                public: input.public.unwrap_or(true),
                actions,
            });
        }
    }
    (macros, errors)
}

/// Runs the triggers on a decided command: each trigger whose event the command recorded and
/// whose conditions hold on the ticket after it fires once, its changes recorded after the
/// command's. A trigger whose actions the ticket refuses (a lifecycle move not allowed from
/// its status, an assignee of another team) does not fire; the command stands.
pub fn fire_triggers(
    mut decision: Decision,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Decision {
    if decision.events.is_empty() || !rules.automations.has_triggers() {
        return decision;
    }
    let mut fired: HashSet<&str> = HashSet::new();
    loop {
        let recorded: HashSet<TriggerEvent> =
            decision.events.iter().filter_map(|event| TriggerEvent::of(&event.kind)).collect();
        let mut progress = false;
        for rule in &rules.automations.rules {
            let Trigger::Events(on) = &rule.trigger else { continue };
            if fired.contains(rule.name.as_str())
                || !on.iter().any(|event| recorded.contains(event))
                || !rule.holds(&decision.ticket, now, rules)
            {
                continue;
            }
            fired.insert(&rule.name);
            let actor = rule.actor();
            let Ok(kinds) = action_kinds(&rule.name, &rule.actions, &actor, &decision.ticket, now, directory, rules)
            else {
                continue;
            };
            if let Ok(after) = decide::record(&decision.ticket, kinds, &rule.actor(), now, rules)
                && !after.events.is_empty()
            {
                decision.ticket = after.ticket;
                decision.events.extend(after.events);
                progress = true;
                break;
            }
        }
        if !progress {
            return decision;
        }
    }
}

/// The events of a rule's actions on `current`: its field changes as one patch (checked like
/// anyone's), a close through `solved` when the ticket is not solved yet, then its messages,
/// rendered from the ticket as the changes leave it.
fn action_kinds(
    name: &str,
    actions: &[Action],
    actor: &Actor,
    current: &Ticket,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Vec<EventKind>, CommandError> {
    let mut patch = TicketPatch::default();
    let mut tags = current.tags.clone();
    let mut close = false;
    let mut hand_over = None;
    for action in actions {
        match action {
            Action::SetStatus(Status::Closed) if current.status != Status::Solved => {
                patch.status = Some(Status::Solved);
                close = true;
            }
            Action::SetStatus(status) => patch.status = Some(*status),
            Action::SetPriority(priority) => patch.priority = Some(*priority),
            Action::SetCategory(category) => patch.category = Some(category.clone()),
            Action::SetTeam(team) => patch.team = Patch::Set(team.clone()),
            Action::SetAssignee(Some(agent)) => patch.assignee = Patch::Set(agent.clone()),
            Action::SetAssignee(None) => patch.assignee = Patch::Clear,
            Action::SetCustomerTier(tier) => patch.customer_tier = Some(*tier),
            Action::SetLegalRisk(value) => patch.legal_risk = Some(*value),
            Action::SetBlocking(value) => patch.blocking = Some(*value),
            Action::AddTag(tag) => {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
            Action::RemoveTag(tag) => tags.retain(|t| t != tag),
            Action::HandOver(step) => hand_over = Some(step),
            Action::MessageCustomer { .. } | Action::NotifyTeam { .. } => {}
        }
    }
    if tags != current.tags {
        patch.tags = Some(tags);
    }
    if hand_over.is_some() {
        // The step handed to decides who works it.
        patch.team = Patch::Keep;
    }
    let mut kinds = decide::patch_kinds(current, &patch, actor, directory, rules)?;
    // The ticket as the rule's changes leave it, for the messages' variables.
    let mut after = current.clone();
    for kind in &kinds {
        apply_kind(&mut after, kind, now);
    }
    // The handoff after the field changes: it checks the step's requirements on the ticket as
    // they leave it.
    if let Some(step) = hand_over {
        let handoff = crate::workflow::handoff_kinds(&after, Some(step), name, actor, now, directory, rules)?;
        for kind in &handoff {
            apply_kind(&mut after, kind, now);
        }
        kinds.extend(handoff);
    }
    if close {
        kinds.push(EventKind::StatusChanged { from: Status::Solved, to: Status::Closed });
        after.status = Status::Closed;
    }
    for action in actions {
        let (audience, template) = match action {
            Action::MessageCustomer { template } => (Audience::Customer(after.customer_id.to_string()), template),
            Action::NotifyTeam { team, template } => {
                let Some(team) = team.clone().or_else(|| after.team.clone()) else { continue };
                (Audience::Team(team.to_string()), template)
            }
            _ => continue,
        };
        let message =
            rules.automations.templates.render(template, &after, name, &actor.name, now).map_err(|reason| {
                CommandError::Invalid(ValidationErrors::one(format!("templates.{template}"), reason))
            })?;
        kinds.push(EventKind::MessageQueued {
            audience,
            template: template.clone(),
            subject: message.subject,
            body: message.body,
        });
    }
    Ok(kinds)
}

/// Applies an event kind to a scratch copy of a ticket (only to render messages from it).
fn apply_kind(ticket: &mut Ticket, kind: &EventKind, now: Timestamp) {
    let event = crate::event::Event {
        seq: 0,
        ticket_id: ticket.id.clone(),
        version: ticket.version,
        at: now,
        actor: String::new(),
        kind: kind.clone(),
    };
    if let Ok(after) = crate::event::apply(Some(ticket.clone()), &event) {
        *ticket = after;
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The customer with this id (the address is the customer's on record when it is sent).
    Customer(String),
    /// The team with this id (the destination configured for it).
    Team(String),
}

impl Audience {
    pub fn kind(&self) -> &'static str {
        match self {
            Audience::Customer(_) => "customer",
            Audience::Team(_) => "team",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Audience::Customer(id) | Audience::Team(id) => id,
        }
    }

    pub fn parse(kind: &str, id: &str) -> Option<Audience> {
        match kind {
            "customer" => Some(Audience::Customer(id.to_owned())),
            "team" => Some(Audience::Team(id.to_owned())),
            _ => None,
        }
    }
}

/// A rule as written (configuration file or API), before it is checked.
#[derive(Debug, Clone, Default)]
pub struct AutomationRuleInput {
    pub name: String,
    /// `time`, or event names.
    pub on: Vec<String>,
    pub conditions: Vec<ConditionInput>,
    pub actions: Vec<ActionInput>,
}

/// A condition as written: exactly one of `field`, `tag`, `no_tag`, `sla`, `since`.
#[derive(Debug, Clone, Default)]
pub struct ConditionInput {
    pub field: Option<String>,
    pub is: Option<Vec<String>>,
    pub is_not: Option<Vec<String>>,
    pub set: Option<bool>,
    pub tag: Option<String>,
    pub no_tag: Option<String>,
    pub sla: Option<Vec<String>>,
    pub since: Option<String>,
    pub hours: Option<f64>,
    pub calendar: Option<String>,
}

/// An action as written: exactly one of `set` (with `to`), `add_tag`, `remove_tag`,
/// `message_customer`, `notify_team` (with `template`).
#[derive(Debug, Clone, Default)]
pub struct ActionInput {
    pub set: Option<String>,
    pub to: Option<String>,
    pub add_tag: Option<String>,
    pub remove_tag: Option<String>,
    pub message_customer: Option<String>,
    pub notify_team: Option<String>,
    pub template: Option<String>,
    /// `next`, or the name of an earlier step.
    pub hand_over: Option<String>,
}

/// What a rule's check needs from the rest of the rules.
pub(crate) struct Known<'a> {
    pub calendar: &'a dyn Fn(&str) -> Option<Arc<Calendar>>,
    pub templates: &'a Templates,
    /// The names of the workflows' steps.
    pub steps: &'a HashSet<String>,
}

/// Checks the rules, every problem named by its path (`automations[2].conditions[0].is[1]`).
pub(crate) fn parse_rules(
    inputs: Vec<AutomationRuleInput>,
    known: &Known<'_>,
) -> (Vec<AutomationRule>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut names = HashSet::new();
    for (idx, input) in inputs.into_iter().enumerate() {
        let path = format!("automations[{idx}]");
        let label = if input.name.is_empty() { path.clone() } else { format!("{path} ({})", input.name) };
        let before = errors.len();
        if input.name.trim().is_empty() || !input.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            errors.push(FieldError::new(
                format!("{label}.name"),
                "must be a name of letters, digits, `-`, `_` or `.`".to_owned(),
            ));
        } else if !names.insert(input.name.clone()) {
            errors.push(FieldError::new(format!("{label}.name"), format!("`{}` names another rule", input.name)));
        }
        let trigger = parse_trigger(&input.on, &label, &mut errors);
        let conditions: Vec<Condition> = input
            .conditions
            .iter()
            .enumerate()
            .filter_map(|(n, c)| parse_condition(c, &format!("{label}.conditions[{n}]"), known, &mut errors))
            .collect();
        let actions: Vec<Action> = input
            .actions
            .iter()
            .enumerate()
            .filter_map(|(n, a)| parse_action(a, &format!("{label}.actions[{n}]"), known, &mut errors))
            .collect();
        if input.actions.is_empty() {
            errors.push(FieldError::new(format!("{label}.actions"), "must list at least one action"));
        }
        if errors.len() == before
            && let Some(trigger) = trigger
        {
            check_rule(&label, &trigger, &conditions, &actions, &mut errors);
            rules.push(AutomationRule { name: input.name, trigger, conditions, actions });
        }
    }
    (rules, errors)
}

fn parse_trigger(on: &[String], label: &str, errors: &mut Vec<FieldError>) -> Option<Trigger> {
    match on {
        [] => {
            errors.push(FieldError::new(format!("{label}.on"), format!("is missing: `time` or {}", events_expected())));
            None
        }
        [only] if only == "time" => Some(Trigger::Time),
        events => {
            let mut parsed = Vec::new();
            for (n, name) in events.iter().enumerate() {
                match TriggerEvent::parse(name) {
                    Some(event) if !parsed.contains(&event) => parsed.push(event),
                    Some(_) => {
                        errors.push(FieldError::new(format!("{label}.on[{n}]"), format!("`{name}` is listed twice")))
                    }
                    None if name == "time" => errors.push(FieldError::new(
                        format!("{label}.on[{n}]"),
                        "`time` cannot be mixed with events: make it a rule of its own",
                    )),
                    None => errors.push(FieldError::new(
                        format!("{label}.on[{n}]"),
                        format!("`{name}` is not a trigger: `time` or {}", events_expected()),
                    )),
                }
            }
            (parsed.len() == events.len()).then_some(Trigger::Events(parsed))
        }
    }
}

fn events_expected() -> String {
    TriggerEvent::expected().replacen("must be ", "", 1)
}

pub(crate) fn parse_condition(
    input: &ConditionInput,
    path: &str,
    known: &Known<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<Condition> {
    let kinds = [
        input.field.is_some(),
        input.tag.is_some(),
        input.no_tag.is_some(),
        input.sla.is_some(),
        input.since.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        errors.push(FieldError::new(path, "must be exactly one of `field`, `tag`, `no_tag`, `sla`, `since`"));
        return None;
    }
    // A key of another kind of condition is refused, not ignored (an `is` beside a `since`
    // would otherwise be silently dropped, and the rule match far more than meant).
    let allowed: &[&str] = match (&input.field, &input.since) {
        (Some(_), _) => &["is", "is_not", "set"],
        (_, Some(_)) => &["hours", "calendar"],
        _ => &[],
    };
    let given = [
        ("is", input.is.is_some()),
        ("is_not", input.is_not.is_some()),
        ("set", input.set.is_some()),
        ("hours", input.hours.is_some()),
        ("calendar", input.calendar.is_some()),
    ];
    let stray: Vec<(&str, bool)> = given.into_iter().filter(|(key, _)| !allowed.contains(key)).collect();
    stray_keys(path, &stray, errors);
    if let Some(tag) = input.tag.as_ref().or(input.no_tag.as_ref()) {
        if tag.trim().is_empty() {
            let name = if input.tag.is_some() { "tag" } else { "no_tag" };
            errors.push(FieldError::new(format!("{path}.{name}"), "must not be empty"));
            return None;
        }
        return Some(Condition::Tag(tag.clone(), input.tag.is_some()));
    }
    if let Some(states) = &input.sla {
        let mut parsed = Vec::new();
        for (n, text) in states.iter().enumerate() {
            match text.as_str() {
                "none" => parsed.push(None),
                _ => match SlaState::parse(text) {
                    Some(state) => parsed.push(Some(state)),
                    None => errors.push(FieldError::new(
                        format!("{path}.sla[{n}]"),
                        format!(
                            "`{text}` is not an SLA state: `none` or {}",
                            SlaState::expected().replacen("must be ", "", 1)
                        ),
                    )),
                },
            }
        }
        if states.is_empty() {
            errors.push(FieldError::new(format!("{path}.sla"), "must list at least one state: it could never hold"));
        }
        return (parsed.len() == states.len() && !parsed.is_empty()).then_some(Condition::Sla(parsed));
    }
    if let Some(anchor) = &input.since {
        let Some(anchor) = Anchor::parse(anchor) else {
            errors.push(FieldError::new(format!("{path}.since"), format!("`{anchor}` {}", Anchor::expected())));
            return None;
        };
        let at_least = match input.hours {
            None => {
                errors.push(FieldError::new(format!("{path}.hours"), "is missing: how long since"));
                return None;
            }
            Some(hours) if !(hours > 0.0 && hours <= MAX_SINCE_HOURS) => {
                errors.push(FieldError::new(
                    format!("{path}.hours"),
                    format!("{hours} must be above 0 and at most {MAX_SINCE_HOURS} hours"),
                ));
                return None;
            }
            Some(hours) => SignedDuration::from_secs_f64(hours * 3600.0),
        };
        let calendar = match &input.calendar {
            None => None,
            Some(name) => match (known.calendar)(name) {
                Some(calendar) => Some(calendar),
                None => {
                    errors.push(FieldError::new(format!("{path}.calendar"), format!("`{name}` is not a calendar")));
                    return None;
                }
            },
        };
        return Some(Condition::Since { anchor, at_least, calendar });
    }
    let field = input.field.as_deref().unwrap_or_default();
    if let Some(set) = input.set {
        let settable = match field {
            "team" => SettableField::Team,
            "assignee" => SettableField::Assignee,
            "language" => SettableField::Language,
            "first_response" => SettableField::FirstResponse,
            "step" => SettableField::Step,
            "legal_risk" => return Some(Condition::LegalRisk(set)),
            "blocking" => return Some(Condition::Blocking(set)),
            _ => {
                errors.push(FieldError::new(
                    format!("{path}.field"),
                    format!("`{field}` cannot be tested with `set`: one of `team`, `assignee`, `language`, `first_response`, `step`, `legal_risk`, `blocking`"),
                ));
                return None;
            }
        };
        if input.is.is_some() || input.is_not.is_some() {
            errors.push(FieldError::new(format!("{path}.set"), "cannot go with `is` or `is_not`: use one"));
            return None;
        }
        return Some(Condition::IsSet(settable, set));
    }
    let (values, negate, key) = match (&input.is, &input.is_not) {
        (Some(values), None) => (values, false, "is"),
        (None, Some(values)) => (values, true, "is_not"),
        _ => {
            errors.push(FieldError::new(path, "a `field` condition needs exactly one of `is`, `is_not`, `set`"));
            return None;
        }
    };
    if values.is_empty() {
        errors.push(FieldError::new(format!("{path}.{key}"), "must list at least one value"));
        return None;
    }
    let before = errors.len();
    fn each<T>(
        values: &[String],
        path: &str,
        key: &str,
        errors: &mut Vec<FieldError>,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Vec<T> {
        values
            .iter()
            .enumerate()
            .filter_map(|(n, v)| {
                let parsed = parse(v);
                if parsed.is_none() {
                    errors.push(FieldError::new(format!("{path}.{key}[{n}]"), format!("`{v}` {expected}")));
                }
                parsed
            })
            .collect()
    }
    let strings = |errors: &mut Vec<FieldError>| {
        each(values, path, key, errors, |v| (!v.trim().is_empty()).then(|| v.to_owned()), "must not be empty")
    };
    let condition = match field {
        "status" => Condition::Status(each(values, path, key, errors, Status::parse, &Status::expected()), negate),
        "priority" => {
            Condition::Priority(each(values, path, key, errors, Priority::parse, &Priority::expected()), negate)
        }
        "channel" => Condition::Channel(each(values, path, key, errors, Channel::parse, &Channel::expected()), negate),
        "customer_tier" => Condition::CustomerTier(
            each(values, path, key, errors, CustomerTier::parse, &CustomerTier::expected()),
            negate,
        ),
        "category" => Condition::Category(strings(errors), negate),
        "team" => Condition::Team(strings(errors), negate),
        "assignee" => Condition::Assignee(strings(errors), negate),
        "language" => Condition::Language(strings(errors), negate),
        "step" => {
            let steps = each(
                values,
                path,
                key,
                errors,
                |v| known.steps.contains(v).then(|| v.to_owned()),
                "is not a step of any workflow (`[workflows]`)",
            );
            Condition::Step(steps, negate)
        }
        "legal_risk" | "blocking" => {
            errors
                .push(FieldError::new(format!("{path}.field"), format!("`{field}` is tested with `set = true|false`")));
            return None;
        }
        _ => {
            errors.push(FieldError::new(
                format!("{path}.field"),
                format!("`{field}` is not a ticket field a rule can test: one of `status`, `priority`, `category`, `channel`, `team`, `assignee`, `customer_tier`, `language`, `step`, `legal_risk`, `blocking`, `first_response`"),
            ));
            return None;
        }
    };
    (errors.len() == before).then_some(condition)
}

fn parse_action(input: &ActionInput, path: &str, known: &Known<'_>, errors: &mut Vec<FieldError>) -> Option<Action> {
    let kinds = [
        input.set.is_some(),
        input.add_tag.is_some(),
        input.remove_tag.is_some(),
        input.message_customer.is_some(),
        input.notify_team.is_some(),
        input.hand_over.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        errors.push(FieldError::new(
            path,
            "must be exactly one of `set`, `add_tag`, `remove_tag`, `message_customer`, `notify_team`, `hand_over`",
        ));
        return None;
    }
    if let Some(step) = &input.hand_over {
        stray_keys(path, &[("to", input.to.is_some()), ("template", input.template.is_some())], errors);
        if step != crate::workflow::NEXT && !known.steps.contains(step) {
            errors.push(FieldError::new(
                format!("{path}.hand_over"),
                format!("`{step}` is neither `next` nor a step of any workflow (`[workflows]`)"),
            ));
            return None;
        }
        return Some(Action::HandOver(step.clone()));
    }
    let template = |name: &str, key: &str, errors: &mut Vec<FieldError>| {
        if known.templates.contains(name) {
            Some(name.to_owned())
        } else {
            errors
                .push(FieldError::new(format!("{path}.{key}"), format!("`{name}` is not a template of `[templates]`")));
            None
        }
    };
    if let Some(name) = &input.message_customer {
        stray_keys(path, &[("to", input.to.is_some()), ("template", input.template.is_some())], errors);
        return template(name, "message_customer", errors).map(|template| Action::MessageCustomer { template });
    }
    if let Some(team) = &input.notify_team {
        let Some(name) = &input.template else {
            errors.push(FieldError::new(format!("{path}.template"), "is missing: what to send the team"));
            return None;
        };
        let template = template(name, "template", errors)?;
        let team = match team.as_str() {
            "ticket" => None,
            team => match TeamId::parse(team) {
                Ok(team) => Some(team),
                Err(error) => {
                    errors.push(FieldError::new(format!("{path}.notify_team"), error.to_string()));
                    return None;
                }
            },
        };
        return Some(Action::NotifyTeam { team, template });
    }
    if let Some(tag) = input.add_tag.as_ref().or(input.remove_tag.as_ref()) {
        let key = if input.add_tag.is_some() { "add_tag" } else { "remove_tag" };
        stray_keys(path, &[("to", input.to.is_some()), ("template", input.template.is_some())], errors);
        // The same spelling as a ticket's tags anywhere else.
        let tag = crate::command::check_slug(errors, &format!("{path}.{key}"), tag.clone())?;
        return Some(if input.add_tag.is_some() { Action::AddTag(tag) } else { Action::RemoveTag(tag) });
    }
    stray_keys(path, &[("template", input.template.is_some())], errors);
    let field = input.set.as_deref().unwrap_or_default();
    let Some(to) = &input.to else {
        errors.push(FieldError::new(format!("{path}.to"), format!("is missing: the value `{field}` is set to")));
        return None;
    };
    let bad = |errors: &mut Vec<FieldError>, reason: String| {
        errors.push(FieldError::new(format!("{path}.to"), format!("`{to}` {reason}")));
        None
    };
    match field {
        "status" => match Status::parse(to) {
            Some(Status::New) => bad(errors, "cannot be set: a ticket never goes back to `new`".to_owned()),
            Some(status) => Some(Action::SetStatus(status)),
            None => bad(errors, Status::expected()),
        },
        "priority" => Priority::parse(to).map(Action::SetPriority).or_else(|| bad(errors, Priority::expected())),
        "customer_tier" => {
            CustomerTier::parse(to).map(Action::SetCustomerTier).or_else(|| bad(errors, CustomerTier::expected()))
        }
        "category" => match crate::command::parse_category(to.clone()) {
            Ok(category) => Some(Action::SetCategory(category)),
            Err(reason) => bad(errors, reason),
        },
        "team" => match TeamId::parse(to) {
            Ok(team) => Some(Action::SetTeam(team)),
            Err(error) => bad(errors, error.to_string()),
        },
        "assignee" if to.is_empty() => Some(Action::SetAssignee(None)),
        "assignee" => match AgentId::parse(to) {
            Ok(agent) => Some(Action::SetAssignee(Some(agent))),
            Err(error) => bad(errors, error.to_string()),
        },
        "legal_risk" | "blocking" => match to.as_str() {
            "true" | "false" => {
                let value = to == "true";
                Some(if field == "legal_risk" { Action::SetLegalRisk(value) } else { Action::SetBlocking(value) })
            }
            _ => bad(errors, "must be `true` or `false`".to_owned()),
        },
        _ => {
            errors.push(FieldError::new(
                format!("{path}.set"),
                format!("`{field}` is not a field a rule can set: one of `status`, `priority`, `category`, `team`, `assignee`, `customer_tier`, `legal_risk`, `blocking`"),
            ));
            None
        }
    }
}

/// Whether these conditions name statuses, `solved` among those they allow.
fn wants_solved(conditions: &[Condition]) -> bool {
    let named = conditions.iter().any(|c| c.statuses().is_some());
    named && allowed_statuses(conditions).contains(&Status::Solved)
}

/// The statuses these conditions allow together (every one when none is named).
fn allowed_statuses(conditions: &[Condition]) -> Vec<Status> {
    let mut allowed: Vec<Status> = Status::ALL.to_vec();
    for condition in conditions {
        if let Some(statuses) = condition.statuses() {
            allowed.retain(|s| statuses.contains(s));
        }
    }
    allowed
}

/// Names each key given that does not go with the kind of condition or action at `path`.
fn stray_keys(path: &str, keys: &[(&str, bool)], errors: &mut Vec<FieldError>) {
    for (key, given) in keys {
        if *given {
            errors.push(FieldError::new(format!("{path}.{key}"), "does not go with this kind of condition or action"));
        }
    }
}

/// The checks of a rule as a whole: conditions that cannot hold together, and actions its
/// trigger does not allow.
fn check_rule(
    label: &str,
    trigger: &Trigger,
    conditions: &[Condition],
    actions: &[Action],
    errors: &mut Vec<FieldError>,
) {
    // Statuses the conditions allow, all status conditions together.
    let mut statuses: Vec<Status> = Status::ALL.to_vec();
    for (n, condition) in conditions.iter().enumerate() {
        if let Some(allowed) = condition.statuses() {
            statuses.retain(|s| allowed.contains(s));
            if statuses.is_empty() {
                errors.push(FieldError::new(
                    format!("{label}.conditions[{n}]"),
                    "cannot hold with the rule's other status conditions: the rule could never fire",
                ));
                return;
            }
        }
    }
    if statuses == [Status::Closed] {
        errors.push(FieldError::new(
            format!("{label}.conditions"),
            "only match closed tickets, which never change: the rule could never fire",
        ));
    }
    let mut tags: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for (n, condition) in conditions.iter().enumerate() {
        if let Condition::Tag(tag, present) = condition
            && let Some((_, other)) = tags.insert(tag, (n, *present))
            && other != *present
        {
            errors.push(FieldError::new(
                format!("{label}.conditions[{n}]"),
                format!("asks for tag `{tag}` both present and absent: the rule could never fire"),
            ));
        }
    }
    match trigger {
        Trigger::Time => {
            let resolved = conditions.iter().any(|c| matches!(c, Condition::Since { anchor: Anchor::Resolved, .. }));
            if resolved && !wants_solved(conditions) {
                errors.push(FieldError::new(
                    format!("{label}.conditions"),
                    "`since = \"resolved\"` holds only for solved tickets: add `{ field = \"status\", is = [\"solved\"] }`",
                ));
            }
            if !conditions.iter().any(|c| matches!(c, Condition::Since { .. })) {
                errors.push(FieldError::new(
                    format!("{label}.conditions"),
                    "a time rule needs a `since` condition (how long after what): without one it is a trigger",
                ));
            }
        }
        Trigger::Events(on) => {
            // A trigger fired by changes that itself makes such changes fires again at once
            // unless one of its conditions stops holding after its actions (the classic guard:
            // `no_tag` of the tag it adds). Fired at most once per command anyway; refused here
            // so that the rule says what it means.
            let refires = |action: &Action| match action {
                Action::SetStatus(_) => on.contains(&TriggerEvent::StatusChanged),
                Action::MessageCustomer { .. } | Action::NotifyTeam { .. } => false,
                Action::HandOver(_) => {
                    on.contains(&TriggerEvent::HandedOver) || on.contains(&TriggerEvent::FieldsChanged)
                }
                _ => on.contains(&TriggerEvent::FieldsChanged),
            };
            let changing: Vec<usize> = (0..actions.len()).filter(|n| refires(&actions[*n])).collect();
            let guarded = actions.iter().any(|action| conditions.iter().any(|condition| nullifies(action, condition)));
            if let Some(n) = changing.first()
                && !guarded
            {
                errors.push(FieldError::new(
                    format!("{label}.actions[{n}]"),
                    "changes what fires this trigger, and no condition stops holding once it has: it would fire itself \
                     (add a condition its actions make false, such as `no_tag` of a tag it adds)",
                ));
            }
        }
    }
}

/// Whether `condition` no longer holds once `action` is done.
fn nullifies(action: &Action, condition: &Condition) -> bool {
    fn excluded<T: PartialEq>(values: &[T], negate: bool, value: &T) -> bool {
        values.contains(value) == negate
    }
    match (action, condition) {
        (Action::AddTag(tag), Condition::Tag(t, false)) | (Action::RemoveTag(tag), Condition::Tag(t, true)) => tag == t,
        (Action::SetStatus(status), Condition::Status(values, negate)) => excluded(values, *negate, status),
        (Action::SetPriority(priority), Condition::Priority(values, negate)) => excluded(values, *negate, priority),
        (Action::SetCategory(category), Condition::Category(values, negate)) => excluded(values, *negate, category),
        (Action::SetTeam(team), Condition::Team(values, negate)) => excluded(values, *negate, &team.to_string()),
        (Action::SetCustomerTier(tier), Condition::CustomerTier(values, negate)) => excluded(values, *negate, tier),
        (Action::SetLegalRisk(value), Condition::LegalRisk(wanted)) => value != wanted,
        (Action::SetBlocking(value), Condition::Blocking(wanted)) => value != wanted,
        (Action::SetAssignee(None), Condition::IsSet(SettableField::Assignee, true)) => true,
        (Action::SetAssignee(Some(_)), Condition::IsSet(SettableField::Assignee, false)) => true,
        // Moving on always leaves the one step a condition names; going back to a step leaves
        // every other.
        (Action::HandOver(step), Condition::Step(values, false)) if step == crate::workflow::NEXT => values.len() == 1,
        (Action::HandOver(step), Condition::Step(values, negate)) => excluded(values, *negate, step),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
