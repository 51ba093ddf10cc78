//! The rules document: the shape of `vigie_core::rules` in the configuration file (TOML) and
//! in the API (JSON), where it is stored, and which version is in force.
//!
//! One document, `[calendars.*]`, `[sla]` with `[[sla.policies]]`, `[queue]` and
//! `[handle_time]`, read from the configuration file and editable by admins through the API.
//! Every version is saved in the store with who made it; the newest is in force. At start:
//!
//! - no configuration file: the newest saved version (or no rules at all: the 24x7 calendar,
//!   no SLA policy, the default queue weights);
//! - a configuration file not seen before (its digest differs from the one the newest version
//!   was based on): it is applied, as a new version — the file was edited, the edit wins;
//! - the same file as last time: the newest saved version, which keeps the changes made through
//!   the API since.
//!
//! A document that does not parse, or whose rules do not hold together, is refused whole with
//! every problem named by its path; the rules in force stay as they were.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vigie_core::automation::{
    ActionInput, AutomationRuleInput, BannerInput, ConditionInput, MacroInput, NoticesInput, TemplateInput,
};
use vigie_core::calendar::{CalendarInput, HolidayInput, WEEKDAYS};
use vigie_core::rules::{QueueInput, RulesInput, SlaInput, SlaPolicyInput};
use vigie_core::workflow::{StepInput, WorkflowInput};
use vigie_core::{FieldError, Rules, ValidationErrors};
use vigie_store::{NewRulesRevision, Store, StoreError};

/// The actor recorded for a version read from the configuration file.
pub const FILE_ACTOR: &str = "config-file";

/// The whole rules document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesDocument {
    /// Business-hours calendars by name; `24x7` is built in.
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarDocument>,
    #[serde(default)]
    pub sla: SlaDocument,
    #[serde(default)]
    pub queue: QueueDocument,
    /// Mean hands-on minutes per category (`*` for the others): the backlog in hours of work,
    /// and the work queued ahead of a ticket.
    #[serde(default)]
    pub handle_time: BTreeMap<String, f64>,
    /// Triggers (`on` events) and time rules (`on = ["time"]`), in order: see
    /// `vigie_core::automation`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub automations: Vec<AutomationDocument>,
    /// The messages the rules send, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, TemplateDocument>,
    /// Replies and changes agents apply in one action, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macros: BTreeMap<String, MacroDocument>,
    /// Telling customers before they ask: wait notices and the status page's banners.
    #[serde(default, skip_serializing_if = "NoticesDocument::is_empty")]
    pub notices: NoticesDocument,
    /// The path each category's requests follow across teams, by category: see
    /// `vigie_core::workflow`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub workflows: BTreeMap<String, WorkflowDocument>,
}

/// `[workflows.<category>]`: the ordered steps of a request of that category, each with its
/// owner team, an optional step SLA and the checks it needs before it hands over.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDocument {
    /// The calendar the step SLAs run on (default `24x7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
    /// In order; at least two.
    pub steps: Vec<StepDocument>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDocument {
    /// Letters, digits, `-`, `_`; unique in its workflow.
    pub name: String,
    /// The team that works the step (the ticket is handed to it on entering).
    pub team: String,
    /// How long the step may take, in business hours of the workflow's calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_hours: Option<f64>,
    /// What must hold before the ticket leaves the step forward: conditions, as in the rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<ConditionDocument>,
}

/// `[notices]`: a customer whose ticket's expected wait (its place in its team's queue and the
/// team's capacity) goes past what its channel tolerates gets `template` once; `[[banners]]`
/// are shown by the public `GET /status` while their team's open tickets are above `above`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticesDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Minutes of wait each channel tolerates (`chat`, `phone`, `web`, `email`, `social`); a
    /// channel left out gets no notice.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tolerance_minutes: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banners: Vec<BannerDocument>,
}

impl NoticesDocument {
    fn is_empty(&self) -> bool {
        *self == NoticesDocument::default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerDocument {
    pub team: String,
    /// Shown while the team has more open tickets than this.
    pub above: u64,
    pub text: String,
}

/// A macro: a reply (a template, with `agent` among its variables) and changes (the rules'
/// actions), applied by an agent to a ticket or to many (`POST /api/v1/tickets/bulk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MacroDocument {
    /// What agents see (default: the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// A reply to the customer (default), or an internal note (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionDocument>,
}

/// A rule: when it runs, what must hold, what it does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationDocument {
    /// Letters, digits, `-`, `_`, `.` (in `PUT /api/v1/automations/{name}`, the path's).
    #[serde(default)]
    pub name: String,
    /// `["time"]` (every minute), or the events that fire it: `ticket_created`,
    /// `status_changed`, `fields_changed`, `comment_added`, `sla_at_risk`, `sla_breached`,
    /// `merged_from`, `handed_over`.
    pub on: Vec<String>,
    #[serde(default)]
    pub conditions: Vec<ConditionDocument>,
    pub actions: Vec<ActionDocument>,
}

/// One of: `{field, is | is_not | set}`, `{tag}`, `{no_tag}`, `{sla}`, `{since, hours, calendar?}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionDocument {
    /// A ticket field: `status`, `priority`, `category`, `channel`, `team`, `assignee`,
    /// `customer_tier`, `language`, `step`, `legal_risk`, `blocking`, `first_response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_not: Option<Vec<String>>,
    /// Whether the field has a value (or, for `legal_risk` and `blocking`, is true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_tag: Option<String>,
    /// SLA states now: `breached`, `paused`, `running`, `met`, `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<Vec<String>>,
    /// `created`, `updated`, `status_changed`, `first_response`, `resolved`, `step_entered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// At least this many hours since (business hours on `calendar`, if named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
}

/// One of: `{set, to}`, `{add_tag}`, `{remove_tag}`, `{message_customer}`,
/// `{notify_team, template}` (`notify_team = "ticket"`: the ticket's team), `{hand_over}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_customer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Hands the ticket over along its path: `next`, or an earlier step's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_over: Option<String>,
}

/// A message: minijinja text with `ticket.*`, `customer.*`, `rule`, `now`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateDocument {
    pub subject: String,
    pub body: String,
}

/// A calendar: weekly hours in local time, a time zone, holidays.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDocument {
    /// IANA name, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// Open every hour of every day (instead of listing the days).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub always_open: bool,
    /// Intervals `HH:MM-HH:MM`; a day left out is closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuesday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wednesday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thursday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sunday: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<HolidayDocument>,
}

/// A closed day, or part of one (`from`/`to`, local `HH:MM`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayDocument {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaDocument {
    /// Statuses that pause the clock (default `pending_customer`, `pending_third_party`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_statuses: Option<Vec<String>>,
    /// The warning lead: an `SlaAtRisk` is recorded this many business minutes before a
    /// deadline (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_risk_minutes: Option<i64>,
    /// The most specific policy matching a ticket applies: exact category beats `*`, then
    /// exact priority, then exact channel.
    #[serde(default)]
    pub policies: Vec<PolicyDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub name: String,
    /// A category, or `*` (the default).
    #[serde(default = "any")]
    pub category: String,
    /// `P1`…`P4`, or `*` (the default).
    #[serde(default = "any")]
    pub priority: String,
    /// A channel, or `*` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Business minutes to the first public reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_minutes: Option<i64>,
    /// Business minutes to the resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_minutes: Option<i64>,
    /// The calendar the minutes count on (default `24x7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<String>,
}

fn any() -> String {
    "*".to_owned()
}

/// The queue's weights: business minutes by which each boost moves a deadline earlier, and
/// the notional deadline of tickets without SLA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategic_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_risk_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_sla_deadline_minutes: Option<i64>,
}

impl RulesDocument {
    /// The rules of a configuration file (its other parts are in `settings.rs`); errors name
    /// the key, line and column.
    pub fn from_toml(text: &str) -> Result<RulesDocument, String> {
        crate::settings::ConfigFile::from_toml(text).map(|file| file.rules())
    }

    /// Checks the document and builds the rules.
    pub fn to_rules(&self) -> Result<Rules, ValidationErrors> {
        self.to_input().parse(&resolve_time_zone)
    }

    fn to_input(&self) -> RulesInput {
        RulesInput {
            calendars: self.calendars.iter().map(|(name, calendar)| (name.clone(), calendar.to_input())).collect(),
            sla: SlaInput {
                pause_statuses: self.sla.pause_statuses.clone(),
                at_risk_minutes: self.sla.at_risk_minutes,
                policies: self
                    .sla
                    .policies
                    .iter()
                    .map(|policy| SlaPolicyInput {
                        name: policy.name.clone(),
                        category: policy.category.clone(),
                        priority: policy.priority.clone(),
                        channel: policy.channel.clone(),
                        first_response_minutes: policy.first_response_minutes,
                        resolution_minutes: policy.resolution_minutes,
                        calendar: policy.calendar.clone(),
                    })
                    .collect(),
            },
            queue: QueueInput {
                strategic_minutes: self.queue.strategic_minutes,
                premium_minutes: self.queue.premium_minutes,
                legal_risk_minutes: self.queue.legal_risk_minutes,
                blocking_minutes: self.queue.blocking_minutes,
                no_sla_deadline_minutes: self.queue.no_sla_deadline_minutes,
            },
            handle_time: self.handle_time.iter().map(|(category, minutes)| (category.clone(), *minutes)).collect(),
            automations: self.automations.iter().map(AutomationDocument::to_input).collect(),
            notices: NoticesInput {
                template: self.notices.template.clone(),
                tolerance_minutes: self.notices.tolerance_minutes.iter().map(|(c, m)| (c.clone(), *m)).collect(),
                banners: self
                    .notices
                    .banners
                    .iter()
                    .map(|b| BannerInput { team: b.team.clone(), above: b.above, text: b.text.clone() })
                    .collect(),
            },
            macros: self
                .macros
                .iter()
                .map(|(name, m)| MacroInput {
                    name: name.clone(),
                    title: m.title.clone(),
                    reply: m.reply.clone(),
                    public: m.public,
                    actions: m.actions.iter().map(ActionDocument::to_input).collect(),
                })
                .collect(),
            workflows: self
                .workflows
                .iter()
                .map(|(category, workflow)| WorkflowInput {
                    category: category.clone(),
                    calendar: workflow.calendar.clone(),
                    steps: workflow
                        .steps
                        .iter()
                        .map(|step| StepInput {
                            name: step.name.clone(),
                            team: step.team.clone(),
                            sla_hours: step.sla_hours,
                            requires: step.requires.iter().map(ConditionDocument::to_input).collect(),
                        })
                        .collect(),
                })
                .collect(),
            templates: self
                .templates
                .iter()
                .map(|(name, template)| TemplateInput {
                    name: name.clone(),
                    subject: template.subject.clone(),
                    body: template.body.clone(),
                })
                .collect(),
        }
    }
}

impl AutomationDocument {
    fn to_input(&self) -> AutomationRuleInput {
        AutomationRuleInput {
            name: self.name.clone(),
            on: self.on.clone(),
            conditions: self.conditions.iter().map(ConditionDocument::to_input).collect(),
            actions: self.actions.iter().map(ActionDocument::to_input).collect(),
        }
    }
}

impl ConditionDocument {
    fn to_input(&self) -> ConditionInput {
        ConditionInput {
            field: self.field.clone(),
            is: self.is.clone(),
            is_not: self.is_not.clone(),
            set: self.set,
            tag: self.tag.clone(),
            no_tag: self.no_tag.clone(),
            sla: self.sla.clone(),
            since: self.since.clone(),
            hours: self.hours,
            calendar: self.calendar.clone(),
        }
    }
}

impl ActionDocument {
    fn to_input(&self) -> ActionInput {
        ActionInput {
            set: self.set.clone(),
            to: self.to.clone(),
            add_tag: self.add_tag.clone(),
            remove_tag: self.remove_tag.clone(),
            message_customer: self.message_customer.clone(),
            notify_team: self.notify_team.clone(),
            template: self.template.clone(),
            hand_over: self.hand_over.clone(),
        }
    }
}

impl CalendarDocument {
    fn days(&self) -> [&Option<Vec<String>>; 7] {
        [&self.monday, &self.tuesday, &self.wednesday, &self.thursday, &self.friday, &self.saturday, &self.sunday]
    }

    fn to_input(&self) -> CalendarInput {
        let days = WEEKDAYS
            .iter()
            .zip(self.days())
            .filter_map(|((_, name), spans)| spans.as_ref().map(|spans| ((*name).to_owned(), spans.clone())))
            .collect();
        CalendarInput {
            time_zone: self.time_zone.clone(),
            always_open: self.always_open,
            days,
            holidays: self
                .holidays
                .iter()
                .map(|holiday| HolidayInput {
                    date: holiday.date.clone(),
                    from: holiday.from.clone(),
                    to: holiday.to.clone(),
                    name: holiday.name.clone(),
                })
                .collect(),
        }
    }
}

/// IANA names through jiff's database: the system's when there is one, else the copy built
/// into the binary.
pub fn resolve_time_zone(name: &str) -> Option<jiff::tz::TimeZone> {
    if name.is_empty() {
        return None;
    }
    jiff::tz::db().get(name).ok()
}

/// The rules in force, shared by the handlers, the live state and the scheduler.
#[derive(Debug)]
pub struct RulesHandle {
    current: RwLock<Current>,
}

#[derive(Debug, Clone)]
struct Current {
    rules: Arc<Rules>,
    document: Arc<RulesDocument>,
    revision: i64,
    /// The digest of the configuration file the rules descend from, carried to API changes.
    file_digest: Option<String>,
}

/// Why a change of the rules was not made.
#[derive(Debug)]
pub enum RulesChangeError {
    Invalid(ValidationErrors),
    Store(StoreError),
}

impl RulesHandle {
    /// Rules for tests and tools: in force without being saved.
    pub fn fixed(document: RulesDocument) -> Result<RulesHandle, ValidationErrors> {
        let rules = document.to_rules()?;
        Ok(RulesHandle::from_current(Current {
            rules: Arc::new(rules),
            document: Arc::new(document),
            revision: 0,
            file_digest: None,
        }))
    }

    fn from_current(current: Current) -> RulesHandle {
        RulesHandle { current: RwLock::new(current) }
    }

    /// Loads the rules in force at start, applying the configuration file if it changed (see
    /// the module's documentation). `file` is the file's path and text.
    pub async fn load(store: &Store, file: Option<(&str, &str)>, now: Timestamp) -> Result<RulesHandle, String> {
        let latest = store.latest_rules().await.map_err(|e| format!("cannot read the rules in force: {e}"))?;
        // The digest of the rules' part only: editing the roster or the dashboard's settings
        // must not put the file's rules back over the changes made through the API.
        let file = match file {
            Some((path, text)) => {
                let document = RulesDocument::from_toml(text).map_err(|e| format!("{path}: {e}"))?;
                Some((path, text, digest(&json(&document))))
            }
            None => None,
        };
        let unchanged_file = match (&file, &latest) {
            // Versions before the operations settings digested the whole file's text: the same
            // file still counts as the same.
            (Some((_, text, digest)), Some(latest)) => {
                latest.file_digest.as_deref() == Some(digest.as_str())
                    || latest.file_digest.as_deref() == Some(self::digest(text).as_str())
            }
            _ => false,
        };
        if let (Some((path, text, digest)), false) = (&file, unchanged_file) {
            let document = RulesDocument::from_toml(text).map_err(|e| format!("{path}: {e}"))?;
            let rules = document.to_rules().map_err(|errors| format!("{path}: {}", describe(&errors)))?;
            let base = latest.as_ref().map_or(0, |latest| latest.revision);
            if let Some(latest) = latest.as_ref().filter(|latest| latest.source == "api") {
                tracing::warn!(
                    path,
                    replaced_revision = latest.revision,
                    changed_by = %latest.actor,
                    "the configuration file changed since the last start: its rules replace the ones changed \
                     through the API since"
                );
            }
            let revision = store
                .save_rules(&NewRulesRevision {
                    base,
                    at: now,
                    actor: FILE_ACTOR.to_owned(),
                    source: "file".to_owned(),
                    file_digest: Some(digest.clone()),
                    document: json(&document),
                })
                .await
                .map_err(|e| format!("cannot save the rules: {e}"))?;
            tracing::info!(path, revision, "applied the rules of the configuration file");
            return Ok(RulesHandle::from_current(Current {
                rules: Arc::new(rules),
                document: Arc::new(document),
                revision,
                file_digest: Some(digest.clone()),
            }));
        }
        match latest {
            Some(latest) => Ok(RulesHandle::from_current(Current::from_revision(latest)?)),
            None => Ok(RulesHandle::fixed(RulesDocument::default()).map_err(|errors| describe(&errors))?),
        }
    }

    pub fn rules(&self) -> Arc<Rules> {
        self.read().rules
    }

    /// The rules in force and their revision, read together.
    pub fn in_force(&self) -> (Arc<Rules>, i64) {
        let current = self.read();
        (current.rules, current.revision)
    }

    /// Puts `current` in force unless a newer revision already is (two changes whose calls
    /// cross, or a refresh crossing a change). Whether it was put.
    fn put(&self, current: Current) -> bool {
        let mut slot = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.revision <= slot.revision {
            return false;
        }
        *slot = current;
        true
    }

    fn read(&self) -> Current {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The document in force and its revision, read together.
    pub fn snapshot(&self) -> (Arc<RulesDocument>, i64) {
        let current = self.read();
        (current.document, current.revision)
    }

    /// Checks and saves a new version of the document, made from revision `base`, then puts it
    /// in force. Refused whole when anything in it is wrong (the rules in force stay as they
    /// were), or when another change was saved since `base` (a conflict: nothing is lost). The
    /// same document again saves nothing.
    pub async fn change(
        &self,
        store: &Store,
        base: i64,
        document: RulesDocument,
        actor: &str,
        now: Timestamp,
    ) -> Result<(Arc<Rules>, i64), RulesChangeError> {
        let rules = Arc::new(document.to_rules().map_err(RulesChangeError::Invalid)?);
        let current = self.read();
        if current.revision == base && *current.document == document {
            return Ok((current.rules, current.revision));
        }
        let file_digest = current.file_digest;
        let revision = store
            .save_rules(&NewRulesRevision {
                base,
                at: now,
                actor: actor.to_owned(),
                source: "api".to_owned(),
                file_digest: file_digest.clone(),
                document: json(&document),
            })
            .await
            .map_err(RulesChangeError::Store)?;
        self.put(Current { rules: rules.clone(), document: Arc::new(document), revision, file_digest });
        Ok((rules, revision))
    }

    /// Takes the newest saved version if another instance saved one: the rules then in force
    /// and their revision, or `None` when nothing changed.
    pub async fn refresh(&self, store: &Store) -> Result<Option<(Arc<Rules>, i64)>, StoreError> {
        let Some(latest) = store.latest_rules().await? else { return Ok(None) };
        if latest.revision <= self.read().revision {
            return Ok(None);
        }
        let revision = latest.revision;
        let current = match Current::from_revision(latest) {
            Ok(current) => current,
            Err(error) => {
                tracing::error!(%error, revision, "the rules another instance saved cannot be put in force here");
                return Ok(None);
            }
        };
        let rules = current.rules.clone();
        Ok(self.put(current).then_some((rules, revision)))
    }
}

impl Current {
    /// The rules of a saved revision.
    fn from_revision(latest: vigie_store::RulesRevision) -> Result<Current, String> {
        let document: RulesDocument = serde_json::from_str(&latest.document)
            .map_err(|e| format!("the saved rules (revision {}) do not parse: {e}", latest.revision))?;
        let rules = document.to_rules().map_err(|errors| {
            format!("the saved rules (revision {}) no longer hold: {}", latest.revision, describe(&errors))
        })?;
        Ok(Current {
            rules: Arc::new(rules),
            document: Arc::new(document),
            revision: latest.revision,
            file_digest: latest.file_digest,
        })
    }
}

fn json(document: &RulesDocument) -> String {
    serde_json::to_string(document).unwrap_or_default()
}

fn digest(text: &str) -> String {
    use sha2::Digest;
    crate::auth::hex(&sha2::Sha256::digest(text.as_bytes()))
}

/// Every problem, one per line: `field: reason`.
pub fn describe(errors: &ValidationErrors) -> String {
    let lines: Vec<String> =
        errors.0.iter().map(|FieldError { field, reason }| format!("\n  {field}: {reason}")).collect();
    format!("the rules are not valid:{}", lines.concat())
}
