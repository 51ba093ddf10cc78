//! The configuration file as a whole: the rules (`rules.rs`: calendars, SLA, queue, handle
//! times; revisioned, editable through the API) and the operations settings read from the file
//! at each start: the roster (who is on shift when: today's capacity) and the dashboard (the
//! time zone of its days, the thresholds that turn a tile amber or red).
//!
//! ```toml
//! [roster]
//! time_zone = "Europe/Paris"
//! productive_share = 0.8
//! [[roster.shifts]]
//! team = "support"
//! agents = 6
//! days = ["monday", "tuesday", "wednesday", "thursday", "friday"]
//! hours = "08:00-18:00"
//!
//! [dashboard]
//! time_zone = "Europe/Paris"
//! [dashboard.thresholds]
//! backlog_count = { amber = 400, red = 600 }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use vigie_core::operations::{Roster, RosterInput, ShiftInput, Threshold};
use vigie_core::{FieldError, ValidationErrors};

use crate::rules::{
    AutomationDocument, CalendarDocument, MacroDocument, NoticesDocument, QueueDocument, RulesDocument, SlaDocument,
    TemplateDocument, WorkflowDocument, resolve_time_zone,
};

/// The whole configuration file. The rules' part is also [`RulesDocument`] (kept apart: it is
/// the document the API edits and the store revisions).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub calendars: BTreeMap<String, CalendarDocument>,
    #[serde(default)]
    pub sla: SlaDocument,
    #[serde(default)]
    pub queue: QueueDocument,
    #[serde(default)]
    pub handle_time: BTreeMap<String, f64>,
    #[serde(default)]
    pub roster: Option<RosterDocument>,
    #[serde(default)]
    pub dashboard: DashboardDocument,
    #[serde(default)]
    pub alerts: AlertsDocument,
    #[serde(default)]
    pub automations: Vec<AutomationDocument>,
    #[serde(default)]
    pub templates: BTreeMap<String, TemplateDocument>,
    #[serde(default)]
    pub macros: BTreeMap<String, MacroDocument>,
    #[serde(default)]
    pub notices: NoticesDocument,
    #[serde(default)]
    pub workflows: BTreeMap<String, WorkflowDocument>,
    #[serde(default)]
    pub automation: AutomationSettingsDocument,
}

impl ConfigFile {
    /// Parses the file; errors name the key, line and column.
    pub fn from_toml(text: &str) -> Result<ConfigFile, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    pub fn rules(&self) -> RulesDocument {
        RulesDocument {
            calendars: self.calendars.clone(),
            sla: self.sla.clone(),
            queue: self.queue.clone(),
            handle_time: self.handle_time.clone(),
            automations: self.automations.clone(),
            templates: self.templates.clone(),
            macros: self.macros.clone(),
            notices: self.notices.clone(),
            workflows: self.workflows.clone(),
        }
    }

    /// Checks the operations settings as a whole, every problem named by its path.
    pub fn operations(&self) -> Result<Operations, ValidationErrors> {
        let mut errors = Vec::new();
        let roster = match &self.roster {
            None => Roster::default(),
            Some(document) => match document.to_input().parse(&resolve_time_zone) {
                Ok(roster) => roster,
                Err(problems) => {
                    errors.extend(problems.0);
                    Roster::default()
                }
            },
        };
        let day_zone = match &self.dashboard.time_zone {
            None => roster.time_zone.clone(),
            Some(name) => resolve_time_zone(name).unwrap_or_else(|| {
                errors.push(FieldError::new("dashboard.time_zone", format!("`{name}` is not a known IANA time zone")));
                jiff::tz::TimeZone::UTC
            }),
        };
        let mut thresholds = BTreeMap::new();
        for (name, document) in &self.dashboard.thresholds {
            let field = format!("dashboard.thresholds.{name}");
            let Some(figure) = Figure::parse(name) else {
                let known: Vec<&str> = Figure::ALL.iter().map(|f| f.as_str()).collect();
                errors.push(FieldError::new(field, format!("is not a dashboard figure (one of {})", known.join(", "))));
                continue;
            };
            let threshold = Threshold { amber: document.amber, red: document.red };
            errors.extend(threshold.check(&field));
            thresholds.insert(figure, threshold);
        }
        let alerts = match self.alerts.to_settings() {
            Ok(alerts) => alerts,
            Err(problems) => {
                errors.extend(problems.0);
                AlertSettings::default()
            }
        };
        let automation = match self.automation.to_settings() {
            Ok(automation) => automation,
            Err(problems) => {
                errors.extend(problems.0);
                AutomationSettings::default()
            }
        };
        ValidationErrors::finish(errors)?;
        Ok(Operations { roster, day_zone, thresholds, alerts, automation })
    }
}

/// `[automation]`: how often the time rules run, and where the rules' messages go.
///
/// ```toml
/// [automation]
/// smtp = "smtp://mail.example.com:587"
/// from = "Support <support@example.com>"
/// [automation.teams]
/// billing_ops = "mailto:billing@example.com"
/// escalations = "https://hooks.example.com/vigie"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomationSettingsDocument {
    /// Seconds between two passes of the time rules (default 60).
    pub every_seconds: Option<u64>,
    /// The first retry of a failed delivery, in seconds (default 30; doubling, up to an hour;
    /// 10 attempts in all).
    pub retry_seconds: Option<u64>,
    /// The SMTP server of customer messages and of the teams' `mailto:` destinations.
    pub smtp: Option<String>,
    /// The sender of those messages.
    pub from: Option<String>,
    /// Where each team's notifications go: `mailto:address` or an http(s) webhook URL.
    #[serde(default)]
    pub teams: BTreeMap<String, String>,
}

/// Where a team's notifications go.
#[derive(Debug, Clone, PartialEq)]
pub enum TeamDestination {
    Mail(lettre::message::Mailbox),
    Webhook(reqwest::Url),
}

/// The automation's delivery settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct AutomationSettings {
    pub every: std::time::Duration,
    pub retry_base: std::time::Duration,
    /// The SMTP URL and the sender; `None`: mail waits in the outbox until one is configured.
    pub mail: Option<(String, lettre::message::Mailbox)>,
    pub teams: BTreeMap<String, TeamDestination>,
}

impl Default for AutomationSettings {
    fn default() -> Self {
        AutomationSettings {
            every: std::time::Duration::from_secs(60),
            retry_base: std::time::Duration::from_secs(30),
            mail: None,
            teams: BTreeMap::new(),
        }
    }
}

impl AutomationSettingsDocument {
    fn to_settings(&self) -> Result<AutomationSettings, ValidationErrors> {
        let mut errors = Vec::new();
        let every = self.every_seconds.unwrap_or(60);
        if !(1..=3600).contains(&every) {
            errors.push(FieldError::new("automation.every_seconds", format!("{every} must be from 1 to 3600 seconds")));
        }
        let retry = self.retry_seconds.unwrap_or(30);
        if !(1..=3600).contains(&retry) {
            errors.push(FieldError::new("automation.retry_seconds", format!("{retry} must be from 1 to 3600 seconds")));
        }
        let smtp = self.smtp.as_ref().filter(|url| {
            let valid = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).is_ok();
            if !valid {
                errors.push(FieldError::new("automation.smtp", format!("`{url}` is not an SMTP URL")));
            }
            valid
        });
        let from = self.from.as_ref().and_then(|from| {
            let parsed = from.parse::<lettre::message::Mailbox>().ok();
            if parsed.is_none() {
                errors.push(FieldError::new("automation.from", format!("`{from}` is not an e-mail address")));
            }
            parsed
        });
        let mail = match (smtp, from) {
            (Some(smtp), Some(from)) => Some((smtp.clone(), from)),
            (None, None) => None,
            (Some(_), None) if self.from.is_none() => {
                errors.push(FieldError::new("automation.from", "is missing: the sender of the messages"));
                None
            }
            (None, Some(_)) if self.smtp.is_none() => {
                errors.push(FieldError::new("automation.smtp", "is missing: the server that sends the messages"));
                None
            }
            _ => None,
        };
        let mut teams = BTreeMap::new();
        for (team, destination) in &self.teams {
            let field = format!("automation.teams.{team}");
            let parsed = match destination.strip_prefix("mailto:") {
                Some(address) => match address.parse::<lettre::message::Mailbox>() {
                    Ok(mailbox) if self.smtp.is_some() => Some(TeamDestination::Mail(mailbox)),
                    Ok(_) => {
                        errors.push(FieldError::new(&field, "is an address, but `automation.smtp` is not set"));
                        None
                    }
                    Err(_) => {
                        errors.push(FieldError::new(&field, format!("`{address}` is not an e-mail address")));
                        None
                    }
                },
                None => match reqwest::Url::parse(destination) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") => Some(TeamDestination::Webhook(url)),
                    _ => {
                        errors.push(FieldError::new(
                            &field,
                            format!("`{destination}` is neither `mailto:address` nor an http(s) URL"),
                        ));
                        None
                    }
                },
            };
            if let Some(parsed) = parsed {
                teams.insert(team.clone(), parsed);
            }
        }
        ValidationErrors::finish(errors)?;
        Ok(AutomationSettings {
            every: std::time::Duration::from_secs(every),
            retry_base: std::time::Duration::from_secs(retry),
            mail,
            teams,
        })
    }
}

/// `[alerts]`: rules and where their alerts go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsDocument {
    /// How often the rules are evaluated, in seconds (default 60).
    pub every_seconds: Option<u64>,
    /// The default quiet time of a rule after it fired, in minutes (default 60).
    pub cooldown_minutes: Option<i64>,
    /// The wait before the first retry of a failed delivery, in seconds (default 30; it doubles
    /// at each failure, up to an hour; 8 attempts in all).
    pub retry_seconds: Option<u64>,
    #[serde(default)]
    pub rules: Vec<AlertRuleDocument>,
    #[serde(default)]
    pub webhooks: Vec<WebhookDocument>,
    #[serde(default)]
    pub email: Vec<MailDocument>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleDocument {
    pub name: String,
    /// What is watched: backlog_count, hours_over_capacity, ticket_older_than, sla_at_risk,
    /// sla_breached, first_reply_overdue, inflow_spike, cluster_spike.
    pub when: String,
    /// Fires when the figure is above this.
    pub above: f64,
    pub team: Option<String>,
    pub priority: Option<String>,
    pub cooldown_minutes: Option<i64>,
    pub min_tickets: Option<u64>,
    #[serde(default)]
    pub notify: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDocument {
    pub name: String,
    pub url: String,
    /// Send Slack's `{"text": ...}` rather than vigie's JSON.
    #[serde(default)]
    pub slack: bool,
    /// Signs each body with HMAC-SHA256 (`X-Vigie-Signature`).
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailDocument {
    pub name: String,
    /// `smtp://host:port` (STARTTLS when offered... see lettre), `smtps://` for TLS, with
    /// `user:password@` when the server wants them.
    pub smtp: String,
    pub from: String,
    pub to: Vec<String>,
}

/// A webhook alerts are posted to.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub name: String,
    pub url: reqwest::Url,
    pub slack: bool,
    pub secret: Option<String>,
}

/// A mail list alerts are sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct MailList {
    pub name: String,
    pub smtp: String,
    pub from: lettre::message::Mailbox,
    pub to: Vec<lettre::message::Mailbox>,
}

/// The alerts in force.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub every: std::time::Duration,
    pub retry_base: std::time::Duration,
    pub rules: Vec<vigie_core::alerts::AlertRule>,
    pub webhooks: Vec<Webhook>,
    pub mail: Vec<MailList>,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            every: std::time::Duration::from_secs(60),
            retry_base: std::time::Duration::from_secs(30),
            rules: Vec::new(),
            webhooks: Vec::new(),
            mail: Vec::new(),
        }
    }
}

impl AlertsDocument {
    fn to_settings(&self) -> Result<AlertSettings, ValidationErrors> {
        let mut errors = Vec::new();
        let every = self.every_seconds.unwrap_or(60);
        if !(1..=3600).contains(&every) {
            errors.push(FieldError::new("alerts.every_seconds", format!("{every} must be from 1 to 3600 seconds")));
        }
        let retry = self.retry_seconds.unwrap_or(30);
        if !(1..=3600).contains(&retry) {
            errors.push(FieldError::new("alerts.retry_seconds", format!("{retry} must be from 1 to 3600 seconds")));
        }
        let mut names: Vec<&str> = Vec::new();
        let mut webhooks = Vec::new();
        for (idx, hook) in self.webhooks.iter().enumerate() {
            let field = |name: &str| format!("alerts.webhooks[{idx}].{name}");
            if names.contains(&hook.name.as_str()) || hook.name.trim().is_empty() {
                errors.push(FieldError::new(field("name"), format!("`{}` must be a name of its own", hook.name)));
            }
            names.push(&hook.name);
            match reqwest::Url::parse(&hook.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => webhooks.push(Webhook {
                    name: hook.name.clone(),
                    url,
                    slack: hook.slack,
                    secret: hook.secret.clone(),
                }),
                _ => errors.push(FieldError::new(field("url"), format!("`{}` is not an http(s) URL", hook.url))),
            }
            if hook.secret.as_deref().is_some_and(str::is_empty) {
                errors.push(FieldError::new(field("secret"), "must not be empty (leave it out to send unsigned)"));
            }
        }
        let mut mail = Vec::new();
        for (idx, list) in self.email.iter().enumerate() {
            let field = |name: &str| format!("alerts.email[{idx}].{name}");
            if names.contains(&list.name.as_str()) || list.name.trim().is_empty() {
                errors.push(FieldError::new(field("name"), format!("`{}` must be a name of its own", list.name)));
            }
            names.push(&list.name);
            let mut ok = true;
            if let Err(error) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&list.smtp) {
                errors.push(FieldError::new(field("smtp"), format!("`{}` is not an SMTP URL: {error}", list.smtp)));
                ok = false;
            }
            let from = list.from.parse::<lettre::message::Mailbox>();
            if from.is_err() {
                errors.push(FieldError::new(field("from"), format!("`{}` is not an e-mail address", list.from)));
            }
            let mut to = Vec::new();
            for (n, address) in list.to.iter().enumerate() {
                match address.parse::<lettre::message::Mailbox>() {
                    Ok(mailbox) => to.push(mailbox),
                    Err(_) => {
                        errors.push(FieldError::new(
                            format!("alerts.email[{idx}].to[{n}]"),
                            format!("`{address}` is not an e-mail address"),
                        ));
                        ok = false;
                    }
                }
            }
            if list.to.is_empty() {
                errors.push(FieldError::new(field("to"), "must list at least one address"));
            }
            if let (true, Ok(from)) = (ok, from) {
                mail.push(MailList { name: list.name.clone(), smtp: list.smtp.clone(), from, to });
            }
        }
        let cooldown = self.cooldown_minutes.unwrap_or(60);
        let mut rules = Vec::new();
        for (idx, rule) in self.rules.iter().enumerate() {
            let input = vigie_core::alerts::AlertRuleInput {
                name: rule.name.clone(),
                when: rule.when.clone(),
                above: rule.above,
                team: rule.team.clone(),
                priority: rule.priority.clone(),
                cooldown_minutes: rule.cooldown_minutes,
                min_tickets: rule.min_tickets,
                notify: rule.notify.clone(),
            };
            if rules.iter().any(|r: &vigie_core::alerts::AlertRule| r.name == rule.name) {
                errors.push(FieldError::new(
                    format!("alerts.rules[{idx}].name"),
                    format!("`{}` is the name of another rule", rule.name),
                ));
            }
            match input.parse(idx, cooldown, &names) {
                Ok(rule) => rules.push(rule),
                Err(problems) => errors.extend(problems.0),
            }
        }
        ValidationErrors::finish(errors)?;
        Ok(AlertSettings {
            every: std::time::Duration::from_secs(every),
            retry_base: std::time::Duration::from_secs(retry),
            rules,
            webhooks,
            mail,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterDocument {
    /// IANA name of the shifts' local time (default UTC).
    pub time_zone: Option<String>,
    /// Share of a shift spent on tickets, in (0, 1] (default 1).
    pub productive_share: Option<f64>,
    #[serde(default)]
    pub shifts: Vec<ShiftDocument>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftDocument {
    pub team: String,
    pub agents: f64,
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`.
    pub hours: String,
}

impl RosterDocument {
    fn to_input(&self) -> RosterInput {
        RosterInput {
            time_zone: self.time_zone.clone(),
            productive_share: self.productive_share,
            shifts: self
                .shifts
                .iter()
                .map(|s| ShiftInput {
                    team: s.team.clone(),
                    agents: s.agents,
                    days: s.days.clone(),
                    hours: s.hours.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardDocument {
    /// The time zone of "today" (default: the roster's, else UTC).
    pub time_zone: Option<String>,
    /// Per figure, the values from which its tile turns amber and red.
    #[serde(default)]
    pub thresholds: BTreeMap<String, ThresholdDocument>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdDocument {
    pub amber: Option<f64>,
    pub red: Option<f64>,
}

/// The figures of the dashboard a threshold can watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Figure {
    /// Open tickets.
    BacklogCount,
    /// The backlog in hours of work over the productive hours left on shift today.
    HoursOfWorkVsCapacity,
    /// The age of the oldest open ticket, in hours.
    OldestAgeHours,
    /// Open tickets whose resolution deadline comes within the hour.
    AtRisk,
    /// Open tickets past their resolution target.
    PastResolutionTarget,
    /// Open tickets past their first-response target without a reply.
    ResponseOverdue,
    /// Tickets created today.
    InflowToday,
}

impl Figure {
    pub const ALL: [Figure; 7] = [
        Figure::BacklogCount,
        Figure::HoursOfWorkVsCapacity,
        Figure::OldestAgeHours,
        Figure::AtRisk,
        Figure::PastResolutionTarget,
        Figure::ResponseOverdue,
        Figure::InflowToday,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Figure::BacklogCount => "backlog_count",
            Figure::HoursOfWorkVsCapacity => "hours_of_work_vs_capacity",
            Figure::OldestAgeHours => "oldest_age_hours",
            Figure::AtRisk => "at_risk",
            Figure::PastResolutionTarget => "past_resolution_target",
            Figure::ResponseOverdue => "response_overdue",
            Figure::InflowToday => "inflow_today",
        }
    }

    pub fn parse(text: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// The operations settings in force.
#[derive(Debug, Clone)]
pub struct Operations {
    pub roster: Roster,
    /// The time zone of the dashboard's days ("today").
    pub day_zone: jiff::tz::TimeZone,
    pub thresholds: BTreeMap<Figure, Threshold>,
    pub alerts: AlertSettings,
    pub automation: AutomationSettings,
}

impl Default for Operations {
    fn default() -> Self {
        Operations {
            roster: Roster::default(),
            day_zone: jiff::tz::TimeZone::UTC,
            thresholds: BTreeMap::new(),
            alerts: AlertSettings::default(),
            automation: AutomationSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_the_rules_and_the_operations() {
        let file = ConfigFile::from_toml(
            r#"
            [handle_time]
            "*" = 30.0
            [roster]
            time_zone = "Europe/Paris"
            [[roster.shifts]]
            team = "support"
            agents = 3
            days = ["monday"]
            hours = "09:00-17:00"
            [dashboard.thresholds]
            backlog_count = { amber = 10, red = 20 }
            "#,
        )
        .expect("parses");
        assert_eq!(file.rules().handle_time.get("*"), Some(&30.0));
        let operations = file.operations().expect("valid");
        assert_eq!(operations.roster.shifts.len(), 1);
        assert_eq!(operations.day_zone.iana_name(), Some("Europe/Paris"));
        assert_eq!(operations.thresholds[&Figure::BacklogCount].red, Some(20.0));
    }

    #[test]
    fn bad_operations_name_their_fields() {
        let file = ConfigFile::from_toml(
            r#"
            [dashboard]
            time_zone = "Nowhere/Land"
            [dashboard.thresholds]
            backlog_size = { red = 3 }
            at_risk = { amber = 5, red = 2 }
            [[roster.shifts]]
            team = "support"
            agents = -1
            days = ["monday"]
            hours = "09:00-17:00"
            "#,
        )
        .expect("parses");
        let errors = file.operations().expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "roster.shifts[0].agents",
                "dashboard.time_zone",
                "dashboard.thresholds.at_risk.amber",
                "dashboard.thresholds.backlog_size"
            ]
        );
        let alerts = ConfigFile::from_toml(
            r#"
            [[alerts.rules]]
            name = "a"
            when = "backlog_count"
            above = 1
            notify = ["ops", "nowhere"]
            [[alerts.webhooks]]
            name = "ops"
            url = "ftp://example.org"
            [[alerts.email]]
            name = "ops"
            smtp = "smtp://127.0.0.1:25"
            from = "not an address"
            to = []
            "#,
        )
        .expect("parses");
        let errors = alerts.operations().expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "alerts.webhooks[0].url",
                "alerts.email[0].name",
                "alerts.email[0].from",
                "alerts.email[0].to",
                "alerts.rules[0].notify[1]"
            ]
        );
        let unknown = ConfigFile::from_toml("[dashbord]\n").expect_err("unknown table");
        assert!(unknown.contains("dashbord"), "{unknown}");
    }
}
