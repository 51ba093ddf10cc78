//! The engine's rules: calendars, SLA policies, the queue's weights and the handle times, as
//! one value checked as a whole.
//!
//! They come from the configuration file or from an admin through the API, in the raw shape
//! [`RulesInput`]; [`RulesInput::parse`] checks everything and reports every problem at once,
//! each naming its field by its path in the configuration (`calendars.paris.monday[1]`,
//! `sla.policies[2].resolution_minutes`), so that a bad change is refused whole and the
//! running rules stay as they were.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::tz::TimeZone;

use crate::calendar::{self, CalendarInput};
use crate::command::{FieldError, ValidationErrors};
use crate::queue::QueueSettings;
use crate::sla::{self, SlaPolicy, SlaSettings};
use crate::ticket::{Channel, Priority, Status};

/// The longest SLA target: five years of business minutes. Anything longer is a typo.
pub const MAX_TARGET_MINUTES: i64 = 5 * 365 * 24 * 60;
/// The longest warning lead and the largest boost: thirty days of business minutes.
pub const MAX_LEAD_MINUTES: i64 = 30 * 24 * 60;
/// The longest mean handle time: a working week.
pub const MAX_HANDLE_MINUTES: f64 = 7.0 * 24.0 * 60.0;

/// The rules the engine runs with.
#[derive(Debug, Clone)]
pub struct Rules {
    pub sla: SlaSettings,
    pub queue: QueueSettings,
    pub handle_times: HandleTimes,
    /// Triggers, time rules and the templates they send.
    pub automations: crate::automation::Automations,
    /// The paths requests follow, by category.
    pub workflows: crate::workflow::Workflows,
}

impl Rules {
    /// No calendars but 24x7, no SLA policies, the default weights, no handle times.
    pub fn empty() -> Self {
        Rules {
            sla: SlaSettings::none(),
            queue: QueueSettings::DEFAULT,
            handle_times: HandleTimes::default(),
            automations: Default::default(),
            workflows: Default::default(),
        }
    }

    /// Every team the rules name (rules' actions, banners, workflow steps), each with its path
    /// in the rules document: what must exist in the directory (the store's, not the rules').
    pub fn named_teams(&self) -> Vec<(String, crate::ids::TeamId)> {
        let mut named = self.automations.named_teams();
        named.extend(self.automations.banner_teams());
        named.extend(self.workflows.named_teams());
        named
    }
}

/// The mean hands-on minutes a ticket needs, per category (FORMATS.md's handle-time table).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandleTimes {
    by_category: BTreeMap<String, f64>,
}

impl HandleTimes {
    /// The minutes of a category: its own row, else the `*` row, else `None`.
    pub fn minutes(&self, category: &str) -> Option<f64> {
        self.by_category.get(category).or_else(|| self.by_category.get("*")).copied()
    }

    pub fn rows(&self) -> &BTreeMap<String, f64> {
        &self.by_category
    }
}

/// The rules as submitted.
#[derive(Debug, Clone, Default)]
pub struct RulesInput {
    pub calendars: Vec<(String, CalendarInput)>,
    pub sla: SlaInput,
    pub queue: QueueInput,
    /// Category (or `*`) and minutes.
    pub handle_time: Vec<(String, f64)>,
    pub automations: Vec<crate::automation::AutomationRuleInput>,
    pub templates: Vec<crate::automation::TemplateInput>,
    pub macros: Vec<crate::automation::MacroInput>,
    pub notices: crate::automation::NoticesInput,
    pub workflows: Vec<crate::workflow::WorkflowInput>,
}

#[derive(Debug, Clone, Default)]
pub struct SlaInput {
    /// Default: `pending_customer`, `pending_third_party`.
    pub pause_statuses: Option<Vec<String>>,
    /// Default: 60.
    pub at_risk_minutes: Option<i64>,
    pub policies: Vec<SlaPolicyInput>,
}

#[derive(Debug, Clone, Default)]
pub struct SlaPolicyInput {
    pub name: String,
    /// A category or `*`.
    pub category: String,
    /// `P1`…`P4` or `*`.
    pub priority: String,
    /// A channel or `*`; default `*`.
    pub channel: Option<String>,
    pub first_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// Default: the built-in 24x7 calendar.
    pub calendar: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub strategic_minutes: Option<i64>,
    pub premium_minutes: Option<i64>,
    pub legal_risk_minutes: Option<i64>,
    pub blocking_minutes: Option<i64>,
    pub no_sla_deadline_minutes: Option<i64>,
}

impl RulesInput {
    /// Checks the rules as a whole. `resolve_time_zone` looks up IANA names.
    pub fn parse(self, resolve_time_zone: &dyn Fn(&str) -> Option<TimeZone>) -> Result<Rules, ValidationErrors> {
        let mut errors = Vec::new();
        let mut calendars = Vec::new();
        // Every calendar defined, valid or not: a policy naming a calendar refused for its own
        // reasons is not also told that the calendar does not exist.
        let mut names = std::collections::HashSet::new();
        for (name, input) in self.calendars {
            if !names.insert(name.clone()) {
                errors.push(FieldError::new(format!("calendars.{name}"), "is defined twice"));
                continue;
            }
            match input.parse(&name, resolve_time_zone) {
                Ok(calendar) => calendars.push(Arc::new(calendar)),
                Err(problems) => errors.extend(problems.prefixed(&format!("calendars.{name}")).0),
            }
        }
        let known_calendar = |name: &str| name == calendar::ALWAYS_OPEN || names.contains(name);

        let pause_statuses = match self.sla.pause_statuses {
            None => sla::DEFAULT_PAUSE_STATUSES.to_vec(),
            Some(statuses) => {
                let mut parsed = Vec::new();
                for (idx, text) in statuses.iter().enumerate() {
                    let field = format!("sla.pause_statuses[{idx}]");
                    match Status::parse(text) {
                        Some(
                            status @ (Status::PendingCustomer | Status::PendingThirdParty | Status::PendingInternal),
                        ) => {
                            if !parsed.contains(&status) {
                                parsed.push(status);
                            }
                        }
                        Some(_) => errors.push(FieldError::new(
                            field,
                            format!("`{text}` cannot pause the clock: only the pending statuses can"),
                        )),
                        None => errors.push(FieldError::new(
                            field,
                            format!(
                                "`{text}` is not a status: one of `pending_customer`, `pending_third_party`, \
                                 `pending_internal`"
                            ),
                        )),
                    }
                }
                parsed
            }
        };
        let at_risk = bounded(&mut errors, "sla.at_risk_minutes", self.sla.at_risk_minutes, 1, MAX_LEAD_MINUTES);

        let mut policies: Vec<SlaPolicy> = Vec::new();
        for (idx, input) in self.sla.policies.into_iter().enumerate() {
            let field = |name: &str| format!("sla.policies[{idx}].{name}");
            let n_errors = errors.len();
            let name = input.name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                errors.push(FieldError::new(field("name"), "must be one line of 1 to 100 characters"));
            } else if policies.iter().any(|p| p.name == name) {
                errors.push(FieldError::new(field("name"), format!("`{name}` names another policy already")));
            }
            let category = match input.category.as_str() {
                "*" => None,
                text => match crate::command::parse_category(text.to_owned()) {
                    Ok(category) => Some(category),
                    Err(reason) => {
                        errors.push(FieldError::new(field("category"), format!("{reason} (or `*` for any)")));
                        None
                    }
                },
            };
            let priority = match input.priority.as_str() {
                "*" => None,
                text => Priority::parse(text).or_else(|| {
                    errors
                        .push(FieldError::new(field("priority"), format!("{} (or `*` for any)", Priority::expected())));
                    None
                }),
            };
            let channel = match input.channel.as_deref() {
                None | Some("*") => None,
                Some(text) => Channel::parse(text).or_else(|| {
                    errors.push(FieldError::new(field("channel"), format!("{} (or `*` for any)", Channel::expected())));
                    None
                }),
            };
            let first_response = target(&mut errors, field("first_response_minutes"), input.first_response_minutes);
            let resolution = target(&mut errors, field("resolution_minutes"), input.resolution_minutes);
            if input.first_response_minutes.is_none() && input.resolution_minutes.is_none() {
                errors.push(FieldError::new(
                    field("resolution_minutes"),
                    "is required when first_response_minutes is absent: a policy sets at least one target",
                ));
            }
            let calendar = input.calendar.unwrap_or_else(|| calendar::ALWAYS_OPEN.to_owned());
            if !known_calendar(&calendar) {
                errors.push(FieldError::new(
                    field("calendar"),
                    format!("`{calendar}` is not a calendar (define it under `calendars`, or use `24x7`)"),
                ));
            }
            if errors.len() > n_errors {
                continue;
            }
            let policy = SlaPolicy {
                name,
                category,
                priority,
                channel,
                first_response_minutes: first_response,
                resolution_minutes: resolution,
                calendar,
            };
            if let Some(twin) = policies.iter().position(|p| {
                (&p.category, p.priority, p.channel) == (&policy.category, policy.priority, policy.channel)
            }) {
                errors.push(FieldError::new(
                    field("category"),
                    format!("covers the same category, priority and channel as sla.policies[{twin}]"),
                ));
                continue;
            }
            policies.push(policy);
        }

        let queue = QueueSettings {
            strategic_minutes: bounded(
                &mut errors,
                "queue.strategic_minutes",
                self.queue.strategic_minutes,
                0,
                MAX_LEAD_MINUTES,
            )
            .unwrap_or(QueueSettings::DEFAULT.strategic_minutes),
            premium_minutes: bounded(
                &mut errors,
                "queue.premium_minutes",
                self.queue.premium_minutes,
                0,
                MAX_LEAD_MINUTES,
            )
            .unwrap_or(QueueSettings::DEFAULT.premium_minutes),
            legal_risk_minutes: bounded(
                &mut errors,
                "queue.legal_risk_minutes",
                self.queue.legal_risk_minutes,
                0,
                MAX_LEAD_MINUTES,
            )
            .unwrap_or(QueueSettings::DEFAULT.legal_risk_minutes),
            blocking_minutes: bounded(
                &mut errors,
                "queue.blocking_minutes",
                self.queue.blocking_minutes,
                0,
                MAX_LEAD_MINUTES,
            )
            .unwrap_or(QueueSettings::DEFAULT.blocking_minutes),
            no_sla_deadline_minutes: bounded(
                &mut errors,
                "queue.no_sla_deadline_minutes",
                self.queue.no_sla_deadline_minutes,
                1,
                MAX_TARGET_MINUTES,
            )
            .unwrap_or(QueueSettings::DEFAULT.no_sla_deadline_minutes),
        };

        let mut by_category = BTreeMap::new();
        for (category, minutes) in self.handle_time {
            let field = format!("handle_time.{category}");
            if category != "*"
                && let Err(reason) = crate::command::parse_category(category.clone())
            {
                errors.push(FieldError::new(field, format!("{reason} (a category, or `*` for the others)")));
                continue;
            }
            if !(minutes.is_finite() && minutes > 0.0 && minutes <= MAX_HANDLE_MINUTES) {
                errors.push(FieldError::new(
                    field,
                    format!("must be a number of minutes above 0 and at most {MAX_HANDLE_MINUTES}"),
                ));
                continue;
            }
            by_category.insert(category, minutes);
        }

        let replies = self.macros.iter().filter_map(|m| Some((m.name.clone(), m.reply.clone()?))).collect();
        let (templates, problems) = crate::automation::Templates::parse(self.templates, replies);
        errors.extend(problems);
        let always_open = Arc::new(calendar::Calendar::always_open());
        let find_calendar = |name: &str| {
            if name == calendar::ALWAYS_OPEN {
                return Some(always_open.clone());
            }
            calendars.iter().find(|c| c.name() == name).cloned()
        };
        // Step names as written, so that a rule naming a step of a workflow refused for another
        // reason is not also told the step does not exist.
        let steps: std::collections::HashSet<String> =
            self.workflows.iter().flat_map(|w| w.steps.iter().map(|s| s.name.clone())).collect();
        let known = crate::automation::Known { calendar: &find_calendar, templates: &templates, steps: &steps };
        let (workflows, problems) = crate::workflow::parse_workflows(self.workflows, &known);
        errors.extend(problems);
        let (automation_rules, problems) = crate::automation::parse_rules(self.automations, &known);
        errors.extend(problems);
        errors.extend(crate::workflow::check_rule_teams(&automation_rules, &workflows));
        let (macros, problems) = crate::automation::parse_macros(self.macros, &known);
        errors.extend(problems);
        let (notices, problems) = crate::automation::parse_notices(self.notices, &known);
        errors.extend(problems);

        ValidationErrors::finish(errors)?;
        Ok(Rules {
            sla: SlaSettings::new(calendars, policies, pause_statuses, at_risk.unwrap_or(sla::DEFAULT_AT_RISK_MINUTES)),
            queue,
            handle_times: HandleTimes { by_category },
            automations: crate::automation::Automations { rules: automation_rules, templates, macros, notices },
            workflows,
        })
    }
}

fn target(errors: &mut Vec<FieldError>, field: String, minutes: Option<i64>) -> Option<u32> {
    bounded(errors, &field, minutes, 1, MAX_TARGET_MINUTES)
}

/// `value` within `[min, max]` as a `u32`; out of range is an error naming `field`.
fn bounded(errors: &mut Vec<FieldError>, field: &str, value: Option<i64>, min: i64, max: i64) -> Option<u32> {
    let value = value?;
    if value < min || value > max {
        errors.push(FieldError::new(field, format!("must be a whole number of minutes from {min} to {max}")));
        return None;
    }
    u32::try_from(value).ok()
}
