//! Request-type workflows: the path a request of one category follows across teams, from the
//! front office to the back office and back.
//!
//! A workflow is an ordered list of **steps**, each owned by a team, with an optional step SLA
//! (business time on the workflow's calendar) and the checks a ticket must pass before it leaves
//! the step forward (`requires`: the rules' conditions, so a check reads any field, tag, SLA
//! state or time since an event exactly as a rule does).
//!
//! A ticket of a category with a workflow enters the first step when it is created or
//! recategorised into it. A **handoff** ([`hand_over`]) moves it to the next step, or sends it
//! back to an earlier one: the ticket goes to that step's team (a `fields_changed` of its team,
//! unassigning an agent who does not work there) and a `handed_over` event records who handed
//! what to whom and why; the step's clock starts at that event. The ticket keeps every step it
//! entered, with when ([`Ticket::steps`]): [`path`] computes from it where the request is on its
//! path and how long each step took, and [`step_figures`] which step holds the most work and the
//! longest waits.
//!
//! Going forward never skips a step (each step's checks run once, when it hands over); going
//! back skips nothing that matters (the earlier step's checks run again when it hands over).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::actor::Actor;
use crate::automation::{Condition, ConditionInput, Known};
use crate::calendar::Calendar;
use crate::command::{ExpectedVersion, FieldError, Patch, TicketPatch, ValidationErrors};
use crate::decide::{self, CommandError, Decision, DirectoryLookup};
use crate::event::EventKind;
use crate::ids::TeamId;
use crate::rules::Rules;
use crate::ticket::Ticket;

/// The longest step SLA: a year of business hours. Anything longer is a typo.
const MAX_STEP_SLA_HOURS: f64 = 366.0 * 24.0;
/// The longest handoff reason, in characters.
pub const MAX_REASON_CHARS: usize = 2_000;
/// The target of a rule's or macro's `hand_over` action that means "the step after this one".
pub const NEXT: &str = "next";

/// A step a ticket entered, and when. An empty `step` records that it left its path (its
/// category changed to one without a workflow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepSince {
    pub step: String,
    pub since: Timestamp,
}

/// The workflows in force, by category.
#[derive(Debug, Clone, Default)]
pub struct Workflows {
    by_category: BTreeMap<String, Workflow>,
}

/// The path of one category.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub category: String,
    /// What the step SLAs are measured on.
    pub calendar: Arc<Calendar>,
    /// Never fewer than two.
    pub steps: Vec<Step>,
}

/// One step of a path.
#[derive(Debug, Clone)]
pub struct Step {
    /// Letters, digits, `-` and `_`; unique within its workflow.
    pub name: String,
    /// Who works the step: the ticket is handed to this team when it enters it.
    pub team: TeamId,
    /// How long the step may take, in business time on the workflow's calendar.
    pub sla: Option<SignedDuration>,
    /// What must hold before the ticket leaves the step forward.
    pub requires: Vec<Condition>,
}

impl Workflows {
    pub fn for_category(&self, category: &str) -> Option<&Workflow> {
        self.by_category.get(category)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Workflow> {
        self.by_category.values()
    }

    pub fn is_empty(&self) -> bool {
        self.by_category.is_empty()
    }

    /// Every step's team, with the step's path in the rules document: what must exist in the
    /// directory before the rules are taken.
    pub fn named_teams(&self) -> Vec<(String, TeamId)> {
        self.iter()
            .flat_map(|workflow| {
                workflow.steps.iter().enumerate().map(|(n, step)| {
                    (format!("workflows.{}.steps[{n}] ({}).team", workflow.category, step.name), step.team.clone())
                })
            })
            .collect()
    }

    /// Every team a handoff may hand a ticket to.
    pub fn teams(&self) -> impl Iterator<Item = &TeamId> {
        self.iter().flat_map(|workflow| workflow.steps.iter().map(|step| &step.team))
    }
}

impl Workflow {
    pub fn position(&self, step: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == step)
    }

    pub fn first(&self) -> &Step {
        &self.steps[0]
    }

    /// Where a request created for `team` starts: at the first step that team works (a desk
    /// that routes a request straight to the back office has qualified it), else at the first.
    pub fn entry(&self, team: Option<&TeamId>) -> &Step {
        team.and_then(|team| self.steps.iter().find(|step| step.team == *team)).unwrap_or_else(|| self.first())
    }

    /// The step a recorded move to `team` took a ticket at step `at` to: the next step if that
    /// team works it, else the nearest earlier one it works (sent back), else the first later
    /// one (the record says that team took it). `None`: the team works no step of this path,
    /// or the one the ticket is in.
    fn step_of_team(&self, at: Option<usize>, team: &TeamId) -> Option<usize> {
        if at.is_some_and(|at| self.steps[at].team == *team) {
            return None;
        }
        let next = at.map_or(0, |at| at + 1);
        let works = |n: &usize| self.steps[*n].team == *team;
        Some(next)
            .filter(|n| *n < self.steps.len() && works(n))
            .or_else(|| (0..next).rev().find(works))
            .or_else(|| (next..self.steps.len()).find(works))
    }

    /// Where `ticket` is on this path: the index of its current step, if it is one of these.
    pub fn current(&self, ticket: &Ticket) -> Option<usize> {
        ticket.current_step().and_then(|step| self.position(step))
    }
}

impl Ticket {
    /// The step the ticket is in, on its category's path (`None`: not on a path).
    pub fn current_step(&self) -> Option<&str> {
        self.steps.last().map(|s| s.step.as_str()).filter(|step| !step.is_empty())
    }

    /// When the ticket entered its current step.
    pub fn step_since(&self) -> Option<Timestamp> {
        self.steps.last().filter(|s| !s.step.is_empty()).map(|s| s.since)
    }
}

/// A workflow as written.
#[derive(Debug, Clone, Default)]
pub struct WorkflowInput {
    pub category: String,
    /// Default: `24x7`.
    pub calendar: Option<String>,
    pub steps: Vec<StepInput>,
}

#[derive(Debug, Clone, Default)]
pub struct StepInput {
    pub name: String,
    pub team: String,
    pub sla_hours: Option<f64>,
    pub requires: Vec<ConditionInput>,
}

/// Checks the workflows, every problem named by its path
/// (`workflows.billing_dispute.steps[1] (investigate).team`).
pub(crate) fn parse_workflows(inputs: Vec<WorkflowInput>, known: &Known<'_>) -> (Workflows, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut by_category = BTreeMap::new();
    for input in inputs {
        let path = format!("workflows.{}", input.category);
        let before = errors.len();
        if let Err(reason) = crate::command::parse_category(input.category.clone()) {
            errors.push(FieldError::new(path.clone(), format!("`{}` is not a category: {reason}", input.category)));
        } else if by_category.contains_key(&input.category) {
            errors.push(FieldError::new(path.clone(), "is defined twice"));
        }
        let calendar_name = input.calendar.as_deref().unwrap_or(crate::calendar::ALWAYS_OPEN);
        let calendar = (known.calendar)(calendar_name);
        if calendar.is_none() {
            errors.push(FieldError::new(
                format!("{path}.calendar"),
                format!("`{calendar_name}` is not a calendar (define it under `calendars`, or use `24x7`)"),
            ));
        }
        if input.steps.len() < 2 {
            errors.push(FieldError::new(
                format!("{path}.steps"),
                "must list at least two steps: a path of one step has no one to hand over to",
            ));
        }
        let mut names = HashSet::new();
        let mut steps = Vec::new();
        let n_steps = input.steps.len();
        for (n, step) in input.steps.into_iter().enumerate() {
            let label = if step.name.is_empty() {
                format!("{path}.steps[{n}]")
            } else {
                format!("{path}.steps[{n}] ({})", step.name)
            };
            let name_ok = !step.name.is_empty()
                && step.name.len() <= crate::command::MAX_SLUG_CHARS
                && step.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !name_ok {
                errors.push(FieldError::new(
                    format!("{label}.name"),
                    "must be a name of letters, digits, `-` or `_` (at most 64)",
                ));
            } else if step.name == NEXT {
                errors.push(FieldError::new(
                    format!("{label}.name"),
                    format!("`{NEXT}` is reserved: it is how a rule says \"the step after this one\""),
                ));
            } else if !names.insert(step.name.clone()) {
                errors.push(FieldError::new(format!("{label}.name"), format!("`{}` names another step", step.name)));
            }
            let team = match TeamId::parse(step.team.clone()) {
                Ok(team) => Some(team),
                Err(error) => {
                    errors.push(FieldError::new(format!("{label}.team"), error.to_string()));
                    None
                }
            };
            let sla = match step.sla_hours {
                None => None,
                Some(hours) if hours.is_finite() && hours * 60.0 >= 1.0 && hours <= MAX_STEP_SLA_HOURS => {
                    Some(SignedDuration::from_secs_f64(hours * 3600.0))
                }
                Some(hours) => {
                    errors.push(FieldError::new(
                        format!("{label}.sla_hours"),
                        format!("{hours} must be at least a minute (1/60) and at most {MAX_STEP_SLA_HOURS} hours"),
                    ));
                    None
                }
            };
            if n + 1 == n_steps && !step.requires.is_empty() {
                errors.push(FieldError::new(
                    format!("{label}.requires"),
                    "is on the last step, which hands over to no one: its checks would never run",
                ));
            }
            let requires: Vec<Condition> = step
                .requires
                .iter()
                .enumerate()
                .filter_map(|(k, c)| {
                    crate::automation::parse_condition(c, &format!("{label}.requires[{k}]"), known, &mut errors)
                })
                .collect();
            if let Some(team) = team {
                steps.push(Step { name: step.name, team, sla, requires });
            }
        }
        if errors.len() == before
            && let Some(calendar) = calendar
        {
            by_category.insert(input.category.clone(), Workflow { category: input.category, calendar, steps });
        }
    }
    (Workflows { by_category }, errors)
}

/// The history of a ticket as it would have been recorded under the workflows of `rules`: its
/// creation on its category's path (at the step of its team), and a `handed_over` after each
/// recorded change of team to another step's team or of category. For bulk loads (demo data,
/// imports) whose histories were made without workflows; the steps' checks are not applied (the
/// history is what happened). A history that does not replay is returned unchanged.
pub fn assign_steps(history: Vec<crate::event::Event>, rules: &Rules) -> Vec<crate::event::Event> {
    use crate::event::{self, FieldChange};
    if rules.workflows.is_empty() {
        return history;
    }
    let mut assigned = Vec::with_capacity(history.len() + 2);
    let mut ticket: Option<Ticket> = None;
    for mut event in history.iter().cloned() {
        if let EventKind::TicketCreated(created) = &mut event.kind {
            created.steps = rules
                .workflows
                .for_category(&created.category)
                .map(|w| {
                    vec![StepSince { step: w.entry(created.team.as_ref()).name.clone(), since: created.created_at }]
                })
                .unwrap_or_default();
        }
        let before = ticket.take();
        let Ok(after) = event::apply(before.clone(), &event) else { return history };
        // As decided live: only a ticket still open once its command is done moves on a path.
        let resolves = |e: &crate::event::Event| {
            e.version == event.version && matches!(e.kind, EventKind::StatusChanged { to, .. } if !to.is_open())
        };
        let open_after_command = after.status.is_open() && !history.iter().any(resolves);
        let moved = match (&event.kind, &before) {
            (EventKind::FieldsChanged(changes), Some(before)) => {
                let category = changes.iter().find_map(|c| match c {
                    FieldChange::Category { to, .. } => Some(to),
                    _ => None,
                });
                let team = changes.iter().find_map(|c| match c {
                    FieldChange::Team { to: Some(to), .. } => Some(to),
                    _ => None,
                });
                match (category, team) {
                    (Some(category), _) => {
                        recategorised(before, category, after.team.as_ref(), open_after_command, rules)
                    }
                    (None, Some(team)) => rules
                        .workflows
                        .for_category(&after.category)
                        .filter(|_| open_after_command)
                        .and_then(|workflow| {
                            let at = workflow.current(&after);
                            let to = &workflow.steps[workflow.step_of_team(at, team)?];
                            Some(EventKind::HandedOver {
                                from: after.current_step().map(str::to_owned),
                                to: Some(to.name.clone()),
                                team: Some(to.team.clone()),
                                reason: format!("handed to team {team}"),
                            })
                        })
                        .into_iter()
                        .collect(),
                    (None, None) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        assigned.push(event.clone());
        ticket = Some(after);
        for kind in moved {
            let handed = crate::event::Event { kind, ..event.clone() };
            let Ok(after) = event::apply(ticket.take(), &handed) else { return history };
            ticket = Some(after);
            assigned.push(handed);
        }
    }
    assigned
}

/// The rules whose `set team` would move tickets on a path to the team of another step (which
/// only a handoff does, so that the step's checks run): refused when the rules are checked,
/// rather than failing on each ticket (a trigger that fails does nothing, without a trace),
/// unless the rule's category conditions keep it off that path.
pub(crate) fn check_rule_teams(rules: &[crate::automation::AutomationRule], workflows: &Workflows) -> Vec<FieldError> {
    use crate::automation::{Action, Condition};
    let mut errors = Vec::new();
    for (idx, rule) in rules.iter().enumerate() {
        // The paths the rule can act on: those its category conditions do not keep it off.
        let reachable = |workflow: &Workflow| {
            !rule.conditions.iter().any(|condition| match condition {
                Condition::Category(values, false) => !values.contains(&workflow.category),
                Condition::Category(values, true) => values.contains(&workflow.category),
                _ => false,
            })
        };
        for (n, action) in rule.actions.iter().enumerate() {
            if let Action::HandOver(step) = action
                && step != NEXT
                && !workflows.iter().any(|workflow| reachable(workflow) && workflow.position(step).is_some())
            {
                errors.push(FieldError::new(
                    format!("automations[{idx}] ({}).actions[{n}].hand_over", rule.name),
                    format!("`{step}` is not a step of the paths this rule can act on (its category conditions)"),
                ));
            }
            let Action::SetTeam(team) = action else { continue };
            let reached = workflows.iter().filter_map(|workflow| {
                let step = workflow.steps.iter().find(|step| step.team == *team)?;
                reachable(workflow).then_some((workflow, step))
            });
            for (workflow, step) in reached {
                errors.push(FieldError::new(
                    format!("automations[{idx}] ({}).actions[{n}].to", rule.name),
                    format!(
                        "`{team}` works step `{}` of the `{}` path: tickets on it go there by a handoff (`hand_over`), \
                         or keep the rule off that category (`{{ field = \"category\", is_not = [\"{}\"] }}`)",
                        step.name, workflow.category, workflow.category
                    ),
                ));
            }
        }
    }
    errors
}

/// A handoff as submitted.
#[derive(Debug, Clone, Default)]
pub struct HandoffInput {
    /// Why: recorded in the history, shown to the next team.
    pub reason: String,
    /// The step to go to; default: the next one. Only the next step or an earlier one.
    pub to_step: Option<String>,
}

/// A handoff, its fields checked (the target is checked against the ticket's path when decided).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub reason: String,
    pub to_step: Option<String>,
}

impl HandoffInput {
    pub fn parse(self) -> Result<Handoff, ValidationErrors> {
        let mut errors = Vec::new();
        let reason = self.reason.trim().to_owned();
        if reason.is_empty() {
            errors.push(FieldError::new("reason", "must not be empty: say why the next team gets the request"));
        } else if reason.chars().count() > MAX_REASON_CHARS {
            errors.push(FieldError::new("reason", format!("must be at most {MAX_REASON_CHARS} characters")));
        } else if reason.contains('\0') {
            errors.push(FieldError::new("reason", "must not contain NUL characters"));
        }
        let to_step = self.to_step.map(|step| step.trim().to_owned());
        if to_step.as_deref() == Some("") {
            errors.push(FieldError::new("to_step", "must name a step (leave it out for the next one)"));
        }
        ValidationErrors::finish(errors)?;
        Ok(Handoff { reason, to_step })
    }
}

/// Hands `current` over along its category's path (see the module's documentation), if
/// `expected` still holds.
pub fn hand_over(
    current: &Ticket,
    expected: &ExpectedVersion,
    handoff: &Handoff,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Decision, CommandError> {
    decide::check_access(current, expected, actor)?;
    if !actor.can_write_tickets() {
        return Err(CommandError::Forbidden("viewers cannot hand tickets over"));
    }
    let kinds = handoff_kinds(current, handoff.to_step.as_deref(), &handoff.reason, actor, now, directory, rules)?;
    decide::record(current, kinds, actor, now, rules)
}

/// The events of handing `current` to step `to` (`None` or [`NEXT`]: the next one).
pub(crate) fn handoff_kinds(
    current: &Ticket,
    to: Option<&str>,
    reason: &str,
    actor: &Actor,
    now: Timestamp,
    directory: &impl DirectoryLookup,
    rules: &Rules,
) -> Result<Vec<EventKind>, CommandError> {
    let cannot = |why: String| Err(CommandError::CannotHandOver(why));
    if !current.status.is_open() {
        return cannot(format!("the ticket is {}: reopen it to move it along its path", current.status));
    }
    let Some(workflow) = rules.workflows.for_category(&current.category) else {
        return cannot(format!("category `{}` has no workflow", current.category));
    };
    let at = workflow.current(current);
    let next = at.map_or(0, |at| at + 1);
    let target = match to.filter(|to| *to != NEXT) {
        None => {
            if next >= workflow.steps.len() {
                let last = &workflow.steps[workflow.steps.len() - 1].name;
                return cannot(format!("`{last}` is the last step of the path: solve the ticket when it is done"));
            }
            next
        }
        Some(name) => match workflow.position(name) {
            None => {
                let names: Vec<String> = workflow.steps.iter().map(|s| format!("`{}`", s.name)).collect();
                return Err(invalid(
                    "to_step",
                    format!("`{name}` is not a step of the `{}` path: one of {}", workflow.category, names.join(", ")),
                ));
            }
            Some(position) if Some(position) == at => {
                return Err(invalid("to_step", format!("`{name}` is the step the ticket is in")));
            }
            Some(position) if position > next => {
                return Err(invalid(
                    "to_step",
                    format!(
                        "`{name}` would skip `{}`: a request goes through every step of its path",
                        workflow.steps[next].name
                    ),
                ));
            }
            Some(position) => position,
        },
    };
    // Forward, the step being left must have what it hands over.
    if let Some(at) = at
        && target > at
    {
        let step = &workflow.steps[at];
        let unmet: Vec<FieldError> = step
            .requires
            .iter()
            .enumerate()
            .filter(|(_, condition)| !condition.holds(current, now, rules))
            .map(|(n, condition)| {
                FieldError::new(
                    format!("requires[{n}]"),
                    format!("step `{}` hands over only when {}", step.name, condition.describe()),
                )
            })
            .collect();
        ValidationErrors::finish(unmet).map_err(CommandError::Invalid)?;
    }
    let step = &workflow.steps[target];
    let patch = TicketPatch { team: Patch::Set(step.team.clone()), ..TicketPatch::default() };
    let mut kinds = decide::patch_kinds_on_path(current, &patch, actor, directory, rules, true)?;
    kinds.push(EventKind::HandedOver {
        from: current.current_step().map(str::to_owned),
        to: Some(step.name.clone()),
        team: Some(step.team.clone()),
        reason: reason.to_owned(),
    });
    Ok(kinds)
}

/// The `handed_over` events a change of a ticket's category to `category` records, the ticket
/// going to `team`: it leaves the path it was on (a stay on one path never counts on another),
/// and, if it is open (`enter`), enters the new category's path at the step `team` works (else
/// the first).
pub(crate) fn recategorised(
    current: &Ticket,
    category: &str,
    team: Option<&TeamId>,
    enter: bool,
    rules: &Rules,
) -> Vec<EventKind> {
    let mut kinds = Vec::new();
    if let Some(from) = current.current_step() {
        let why = if rules.workflows.for_category(category).is_some() { "" } else { ", which has no workflow" };
        kinds.push(EventKind::HandedOver {
            from: Some(from.to_owned()),
            to: None,
            team: None,
            reason: format!("category changed to `{category}`{why}"),
        });
    }
    if let Some(workflow) = rules.workflows.for_category(category).filter(|_| enter) {
        let entry = workflow.entry(team);
        kinds.push(EventKind::HandedOver {
            from: None,
            to: Some(entry.name.clone()),
            team: Some(entry.team.clone()),
            reason: format!("category changed to `{category}`"),
        });
    }
    kinds
}

fn invalid(field: &str, reason: String) -> CommandError {
    CommandError::Invalid(ValidationErrors::one(field, reason))
}

/// Where a request is on its path, and how long each step took.
#[derive(Debug, Clone)]
pub struct PathView<'a> {
    pub workflow: &'a Workflow,
    /// The index of the step it is in (`None`: not on this path, or resolved).
    pub current: Option<usize>,
    /// One per step of the workflow, in order.
    pub steps: Vec<StepRecord>,
}

/// A step of a ticket's path: each time it was in it, and the time that took.
#[derive(Debug, Clone, Default)]
pub struct StepRecord {
    pub visits: Vec<Visit>,
    /// Wall-clock time in the step, over every visit (the current one up to now).
    pub time: SignedDuration,
    /// The same in business time, on the workflow's calendar (what the step SLA is against).
    pub business_time: SignedDuration,
    /// Visits that took longer than the step SLA (the current one if it is past it now).
    pub over_sla: u32,
    /// The current visit's deadline, when the step has an SLA and the ticket is in it.
    pub due_at: Option<Timestamp>,
}

/// One stay in a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    pub entered: Timestamp,
    /// `None`: the ticket is still in it.
    pub left: Option<Timestamp>,
}

/// The path of `ticket` at `now` under its category's workflow (`None`: its category has none).
pub fn path<'a>(ticket: &Ticket, rules: &'a Rules, now: Timestamp) -> Option<PathView<'a>> {
    let workflow = rules.workflows.for_category(&ticket.category)?;
    let mut steps = vec![StepRecord::default(); workflow.steps.len()];
    for (visit, position) in visits(&ticket.steps, ticket.resolved_at) {
        let Some(position) = workflow.position(position) else { continue };
        let step = &workflow.steps[position];
        let end = visit.left.unwrap_or(now).max(visit.entered);
        let business = workflow.calendar.business_time_between(visit.entered, end);
        let record = &mut steps[position];
        record.time += end.duration_since(visit.entered);
        record.business_time += business;
        if let Some(sla) = step.sla {
            if business > sla {
                record.over_sla += 1;
            }
            if visit.left.is_none() {
                record.due_at = workflow.calendar.add_business_time(visit.entered, sla);
            }
        }
        record.visits.push(visit);
    }
    let current = if ticket.status.is_open() { workflow.current(ticket) } else { None };
    Some(PathView { workflow, current, steps })
}

/// Each stay in a step, with the step's name: a stay ends when the next begins, or when the
/// ticket was resolved (`resolved_at`); the last one of an open ticket has not ended.
fn visits(steps: &[StepSince], resolved_at: Option<Timestamp>) -> impl Iterator<Item = (Visit, &str)> {
    // Only the stays after the ticket last left a path: a stay on another path never counts.
    let start = steps.iter().rposition(|s| s.step.is_empty()).map_or(0, |off| off + 1);
    steps.iter().enumerate().skip(start).map(move |(n, s)| {
        // A stay ends at the next, or at the resolution if that came first.
        let left = match (steps.get(n + 1).map(|next| next.since), resolved_at) {
            (Some(next), Some(resolved)) => Some(next.min(resolved)),
            (next, resolved) => next.or(resolved),
        };
        let left = left.map(|left| left.max(s.since));
        (Visit { entered: s.since, left }, s.step.as_str())
    })
}

/// What the review reads of a ticket's path.
#[derive(Debug, Clone, Copy)]
pub struct StepsOf<'a> {
    pub category: &'a str,
    pub steps: &'a [StepSince],
    pub resolved_at: Option<Timestamp>,
}

/// One step's load over a window: the tickets in it now and how long they have waited, and the
/// stays in it that ended in the window and how long they took.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFigures {
    pub category: String,
    pub step: String,
    pub team: TeamId,
    /// Open tickets in the step now.
    pub waiting: u64,
    /// How long they have been in it (minutes).
    pub waits: Option<crate::metrics::Stats>,
    /// The longest of those waits (minutes).
    pub longest_wait: Option<f64>,
    /// The stays that ended in the window (minutes).
    pub done: Option<crate::metrics::Stats>,
    /// Of the tickets waiting, those past the step SLA now.
    pub waiting_over_sla: u64,
    /// Of the stays that ended in the window, those that took longer than the step SLA.
    pub done_over_sla: u64,
}

/// Each step's load in `[from, to)` (`to` is also "now" for the tickets waiting), in path order.
/// `tickets` must hold every ticket open at `to` and every ticket resolved in the window (a stay
/// that ended in it belongs to one or the other).
pub fn step_figures<'a>(
    tickets: impl IntoIterator<Item = StepsOf<'a>>,
    workflows: &Workflows,
    from: Timestamp,
    to: Timestamp,
) -> Vec<StepFigures> {
    #[derive(Default)]
    struct Tally {
        waits: Vec<i64>,
        done: Vec<i64>,
        waiting_over_sla: u64,
        done_over_sla: u64,
    }
    let mut tallies: BTreeMap<(&str, usize), Tally> = BTreeMap::new();
    for ticket in tickets {
        let Some(workflow) = workflows.for_category(ticket.category) else { continue };
        for (visit, name) in visits(ticket.steps, ticket.resolved_at) {
            let Some(position) = workflow.position(name) else { continue };
            let step = &workflow.steps[position];
            let over = |end: Timestamp| {
                step.sla.is_some_and(|sla| workflow.calendar.business_time_between(visit.entered, end) > sla)
            };
            let tally = tallies.entry((workflow.category.as_str(), position)).or_default();
            match visit.left {
                None if visit.entered <= to => {
                    tally.waits.push(to.as_second() - visit.entered.as_second());
                    tally.waiting_over_sla += u64::from(over(to));
                }
                Some(left) if left >= from && left < to => {
                    tally.done.push(left.as_second() - visit.entered.as_second());
                    tally.done_over_sla += u64::from(over(left));
                }
                _ => {}
            }
        }
    }
    let stats = |seconds: Vec<i64>| (!seconds.is_empty()).then(|| crate::metrics::Stats::of(seconds));
    workflows
        .iter()
        .flat_map(|workflow| workflow.steps.iter().enumerate().map(move |(n, step)| (workflow, n, step)))
        .map(|(workflow, n, step)| {
            let tally = tallies.remove(&(workflow.category.as_str(), n)).unwrap_or_default();
            StepFigures {
                category: workflow.category.clone(),
                step: step.name.clone(),
                team: step.team.clone(),
                waiting: tally.waits.len() as u64,
                longest_wait: tally.waits.iter().max().map(|&seconds| seconds as f64 / 60.0),
                waits: stats(tally.waits),
                done: stats(tally.done),
                waiting_over_sla: tally.waiting_over_sla,
                done_over_sla: tally.done_over_sla,
            }
        })
        .collect()
}

/// The bottleneck among `figures`: the step with the most tickets waiting in it, the longest
/// median wait breaking ties; `None` when no ticket waits in any step.
pub fn bottleneck(figures: &[StepFigures]) -> Option<&StepFigures> {
    figures.iter().filter(|f| f.waiting > 0).max_by(|a, b| {
        let wait = |f: &StepFigures| f.waits.map_or(0.0, |s| s.p50);
        a.waiting.cmp(&b.waiting).then(wait(a).total_cmp(&wait(b)))
    })
}

/// The step whose waiting tickets have waited longest (by median), if any waits.
pub fn longest_waits(figures: &[StepFigures]) -> Option<&StepFigures> {
    figures.iter().filter(|f| f.waiting > 0).max_by(|a, b| {
        let wait = |f: &StepFigures| f.waits.map_or(0.0, |s| s.p50);
        wait(a).total_cmp(&wait(b))
    })
}

#[cfg(test)]
mod tests;
