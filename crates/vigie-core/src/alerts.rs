//! Alert rules: what is watched, above what, and whether it fires now.
//!
//! A rule watches one figure of the backlog (the same numbers as the dashboard): the open
//! tickets (of a team or a priority), the hours of work over the productive hours left on shift
//! today, the age of the oldest open ticket, the tickets at risk within the hour, past their
//! resolution target, awaiting a late first reply, or the tickets created in the last hour
//! against the usual level of that hour of the week, or a cluster of similar tickets whose last
//! 24 hours jump above its usual daily level ([`crate::recurring`]). It fires when the figure is
//! above its threshold; a rule that fired stays quiet for its cooldown.
//!
//! **Architecture Invariant:** pure: the facts and "now" are arguments.

use std::collections::BTreeMap;

use crate::command::{FieldError, ValidationErrors};
use crate::recurring::{ClusterVolume, Spike, spike};
use crate::ticket::Priority;

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// Open tickets (all, of `team`, or of `priority`).
    BacklogCount,
    /// Hours of work over the productive hours left on shift today (all, or of `team`).
    HoursOverCapacity,
    /// The oldest open ticket, in hours.
    TicketOlderThan,
    /// Open tickets whose resolution deadline comes within the hour.
    SlaAtRisk,
    /// Open tickets past their resolution target.
    SlaBreached,
    /// Open tickets past their first-response target without a reply.
    FirstReplyOverdue,
    /// Tickets created in the last full hour, as a multiple of the mean of the same hour of the
    /// week over the four weeks before.
    InflowSpike,
    /// The cluster of similar tickets whose last 24 hours are furthest above its usual day, in
    /// robust standard deviations.
    ClusterSpike,
}

impl AlertKind {
    pub const ALL: [AlertKind; 8] = [
        AlertKind::BacklogCount,
        AlertKind::HoursOverCapacity,
        AlertKind::TicketOlderThan,
        AlertKind::SlaAtRisk,
        AlertKind::SlaBreached,
        AlertKind::FirstReplyOverdue,
        AlertKind::InflowSpike,
        AlertKind::ClusterSpike,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::BacklogCount => "backlog_count",
            AlertKind::HoursOverCapacity => "hours_over_capacity",
            AlertKind::TicketOlderThan => "ticket_older_than",
            AlertKind::SlaAtRisk => "sla_at_risk",
            AlertKind::SlaBreached => "sla_breached",
            AlertKind::FirstReplyOverdue => "first_reply_overdue",
            AlertKind::InflowSpike => "inflow_spike",
            AlertKind::ClusterSpike => "cluster_spike",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// A rule as written in the configuration.
#[derive(Debug, Clone, Default)]
pub struct AlertRuleInput {
    pub name: String,
    pub when: String,
    pub above: f64,
    pub team: Option<String>,
    pub priority: Option<String>,
    /// Default: the alerts' default cooldown.
    pub cooldown_minutes: Option<i64>,
    /// `inflow_spike`: the fewest tickets in the hour that may fire; `cluster_spike`: in the
    /// last 24 hours (default 5).
    pub min_tickets: Option<u64>,
    /// Where to send it: names of webhooks and mail lists.
    pub notify: Vec<String>,
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    pub name: String,
    pub kind: AlertKind,
    pub above: f64,
    pub team: Option<String>,
    pub priority: Option<Priority>,
    pub cooldown_minutes: i64,
    pub min_tickets: u64,
    pub notify: Vec<String>,
}

/// The longest cooldown: a week.
pub const MAX_COOLDOWN_MINUTES: i64 = 7 * 24 * 60;

impl AlertRuleInput {
    /// Checks one rule (the `idx`th); `channels` are the names of the webhooks and mail lists
    /// defined. Problems are named `alerts.rules[idx].field`.
    pub fn parse(self, idx: usize, default_cooldown: i64, channels: &[&str]) -> Result<AlertRule, ValidationErrors> {
        let field = |name: &str| format!("alerts.rules[{idx}].{name}");
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push(FieldError::new(field("name"), "must name the rule"));
        }
        let kind = AlertKind::parse(&self.when);
        if kind.is_none() {
            let known: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
            errors.push(FieldError::new(field("when"), format!("`{}` is not one of {}", self.when, known.join(", "))));
        }
        if !(self.above.is_finite() && self.above >= 0.0) {
            errors.push(FieldError::new(field("above"), format!("{} must be a number, 0 or more", self.above)));
        }
        let priority = match &self.priority {
            None => None,
            Some(text) => match Priority::parse(text) {
                Some(priority) => Some(priority),
                None => {
                    errors.push(FieldError::new(field("priority"), format!("`{text}` is not one of P1, P2, P3, P4")));
                    None
                }
            },
        };
        match kind {
            Some(AlertKind::BacklogCount) if self.team.is_some() && self.priority.is_some() => errors
                .push(FieldError::new(field("priority"), "a backlog count watches a team or a priority, not both")),
            Some(AlertKind::BacklogCount) => {}
            Some(AlertKind::HoursOverCapacity) if self.priority.is_some() => {
                errors.push(FieldError::new(field("priority"), "hours over capacity are per team, not per priority"))
            }
            Some(AlertKind::HoursOverCapacity) => {}
            Some(other) => {
                for (name, given) in [("team", self.team.is_some()), ("priority", self.priority.is_some())] {
                    if given {
                        errors.push(FieldError::new(field(name), format!("does not apply to `{}`", other.as_str())));
                    }
                }
            }
            None => {}
        }
        let cooldown_minutes = self.cooldown_minutes.unwrap_or(default_cooldown);
        if !(1..=MAX_COOLDOWN_MINUTES).contains(&cooldown_minutes) {
            errors.push(FieldError::new(
                field("cooldown_minutes"),
                format!("{cooldown_minutes} must be from 1 to {MAX_COOLDOWN_MINUTES} minutes"),
            ));
        }
        for (n, name) in self.notify.iter().enumerate() {
            if !channels.contains(&name.as_str()) {
                errors.push(FieldError::new(
                    format!("alerts.rules[{idx}].notify[{n}]"),
                    format!("`{name}` is neither a webhook nor a mail list of [alerts]"),
                ));
            }
        }
        ValidationErrors::finish(errors)?;
        Ok(AlertRule {
            name: self.name,
            kind: kind.ok_or_else(ValidationErrors::internal)?,
            above: self.above,
            team: self.team,
            priority,
            cooldown_minutes,
            min_tickets: self.min_tickets.unwrap_or(5),
            notify: self.notify,
        })
    }
}

/// The figures the rules read, at one instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFacts {
    pub backlog_count: u64,
    pub by_team: BTreeMap<String, u64>,
    pub by_priority: BTreeMap<String, u64>,
    pub hours_of_work: f64,
    pub hours_of_work_by_team: BTreeMap<String, f64>,
    pub remaining_capacity_hours: f64,
    pub remaining_capacity_by_team: BTreeMap<String, f64>,
    pub oldest_age_hours: f64,
    pub at_risk: u64,
    pub past_resolution_target: u64,
    pub first_reply_overdue: u64,
    /// Tickets created in the last full hour, and the mean of the same hour of the week over
    /// the weeks before (`None` without history).
    pub inflow_last_hour: u64,
    pub usual_inflow: Option<f64>,
    /// The clusters of similar tickets and their daily volumes (read only for `cluster_spike`).
    pub clusters: Vec<ClusterVolume>,
}

/// A rule that fires: the figure and a sentence for people.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub value: f64,
    pub summary: String,
    /// `cluster_spike`: every cluster above the threshold, the strongest first (positions in
    /// [`AlertFacts::clusters`], with their spikes).
    pub clusters: Vec<(usize, Spike)>,
}

fn ratio(work: f64, capacity: f64) -> f64 {
    if capacity > 0.0 {
        work / capacity
    } else if work > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Whether `rule` fires on `facts`.
pub fn evaluate(rule: &AlertRule, facts: &AlertFacts) -> Option<Firing> {
    let scope = match (&rule.team, rule.priority) {
        (Some(team), _) => format!(" of {team}"),
        (None, Some(priority)) => format!(" {priority}"),
        (None, None) => String::new(),
    };
    let (value, summary) = match rule.kind {
        AlertKind::BacklogCount => {
            let count = match (&rule.team, rule.priority) {
                (Some(team), _) => facts.by_team.get(team).copied().unwrap_or(0),
                (None, Some(priority)) => facts.by_priority.get(priority.as_str()).copied().unwrap_or(0),
                (None, None) => facts.backlog_count,
            };
            (count as f64, format!("{count} open{scope} tickets, above {}", rule.above))
        }
        AlertKind::HoursOverCapacity => {
            let (work, capacity) = match &rule.team {
                Some(team) => (
                    facts.hours_of_work_by_team.get(team).copied().unwrap_or(0.0),
                    facts.remaining_capacity_by_team.get(team).copied().unwrap_or(0.0),
                ),
                None => (facts.hours_of_work, facts.remaining_capacity_hours),
            };
            let value = ratio(work, capacity);
            (
                value,
                format!("{work:.1} h of work{scope} for {capacity:.1} h left on shift today, above {}×", rule.above),
            )
        }
        AlertKind::TicketOlderThan => {
            let hours = facts.oldest_age_hours;
            (hours, format!("the oldest open ticket is {hours:.0} h old, above {} h", rule.above))
        }
        AlertKind::SlaAtRisk => {
            let n = facts.at_risk;
            (n as f64, format!("{n} tickets will breach their resolution target within the hour"))
        }
        AlertKind::SlaBreached => {
            let n = facts.past_resolution_target;
            (n as f64, format!("{n} open tickets are past their resolution target"))
        }
        AlertKind::FirstReplyOverdue => {
            let n = facts.first_reply_overdue;
            (n as f64, format!("{n} tickets await a first reply past its target"))
        }
        AlertKind::InflowSpike => {
            let inflow = facts.inflow_last_hour;
            if inflow < rule.min_tickets {
                return None;
            }
            let usual = facts.usual_inflow?;
            let value = ratio(inflow as f64, usual);
            (
                value,
                format!(
                    "{inflow} tickets in the last hour, {value:.1}× the usual {usual:.1} for this hour of the week"
                ),
            )
        }
        AlertKind::ClusterSpike => return cluster_spikes(rule, facts, |_| false),
    };
    (value > rule.above).then_some(Firing { value, summary, clusters: Vec::new() })
}

/// Whether `rule` fires on `facts` during its cooldown: only a `cluster_spike` may, on the
/// clusters `reported` does not name (another recurring problem spiking meanwhile).
pub fn evaluate_unreported(
    rule: &AlertRule,
    facts: &AlertFacts,
    reported: impl Fn(&ClusterVolume) -> bool,
) -> Option<Firing> {
    match rule.kind {
        AlertKind::ClusterSpike => cluster_spikes(rule, facts, reported),
        _ => None,
    }
}

/// `cluster_spike`: the clusters whose last 24 hours hold at least `min_tickets` and score
/// above the threshold, the strongest first.
///
/// `reported` leaves out the clusters already alerted on (a cluster spike's cooldown is per
/// cluster: see [`evaluate_unreported`]).
fn cluster_spikes(rule: &AlertRule, facts: &AlertFacts, reported: impl Fn(&ClusterVolume) -> bool) -> Option<Firing> {
    let mut spiking: Vec<(usize, Spike)> = facts
        .clusters
        .iter()
        .enumerate()
        .filter(|(_, volume)| !reported(volume))
        .filter_map(|(at, volume)| spike(volume).map(|s| (at, s)))
        .filter(|(_, s)| u64::from(s.last_day) >= rule.min_tickets && s.score > rule.above)
        .collect();
    spiking.sort_by(|(a, x), (b, y)| {
        y.score
            .total_cmp(&x.score)
            .then(y.last_day.cmp(&x.last_day))
            .then_with(|| facts.clusters[*a].id.cmp(&facts.clusters[*b].id))
    });
    let &(first, strongest) = spiking.first()?;
    let volume = &facts.clusters[first];
    let usual = if strongest.usual == 0.0 {
        "usually none".to_owned()
    } else if strongest.usual == 1.0 {
        "usually 1 a day".to_owned()
    } else {
        // A median of whole days is whole, or halfway between two.
        format!("usually {} a day", (strongest.usual * 10.0).round() / 10.0)
    };
    let mut summary = format!("{} tickets in 24 h look like '{}' ({usual})", strongest.last_day, volume.name);
    match spiking.len() {
        1 => {}
        2 => summary.push_str("; 1 more cluster too"),
        n => summary.push_str(&format!("; {} more clusters too", n - 1)),
    }
    Some(Firing { value: strongest.score, summary, clusters: spiking })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(when: &str, above: f64) -> AlertRuleInput {
        AlertRuleInput { name: "r".into(), when: when.into(), above, ..AlertRuleInput::default() }
    }

    #[test]
    fn rules_fire_above_their_threshold_only() {
        let mut facts = AlertFacts { backlog_count: 10, ..AlertFacts::default() };
        facts.by_team.insert("support".into(), 7);
        facts.by_priority.insert("P1".into(), 2);
        let all = rule("backlog_count", 9.0).parse(0, 60, &[]).expect("valid");
        assert_eq!(evaluate(&all, &facts).map(|f| f.value), Some(10.0));
        let team = AlertRuleInput { team: Some("support".into()), ..rule("backlog_count", 7.0) }
            .parse(0, 60, &[])
            .expect("valid");
        assert_eq!(evaluate(&team, &facts), None, "7 is not above 7");
        let p1 = AlertRuleInput { priority: Some("P1".into()), ..rule("backlog_count", 1.0) }
            .parse(0, 60, &[])
            .expect("valid");
        assert!(evaluate(&p1, &facts).expect("fires").summary.contains("2 open P1 tickets"));

        facts.hours_of_work = 30.0;
        facts.remaining_capacity_hours = 10.0;
        let hours = rule("hours_over_capacity", 2.0).parse(0, 60, &[]).expect("valid");
        assert_eq!(evaluate(&hours, &facts).map(|f| f.value), Some(3.0));
        facts.remaining_capacity_hours = 0.0;
        assert_eq!(evaluate(&hours, &facts).map(|f| f.value), Some(f64::INFINITY), "work and nobody on shift");

        let spike = rule("inflow_spike", 3.0).parse(0, 60, &[]).expect("valid");
        facts.inflow_last_hour = 40;
        assert_eq!(evaluate(&spike, &facts), None, "no history, no usual level");
        facts.usual_inflow = Some(10.0);
        assert_eq!(evaluate(&spike, &facts).map(|f| f.value), Some(4.0));
        facts.inflow_last_hour = 4;
        facts.usual_inflow = Some(0.5);
        assert_eq!(evaluate(&spike, &facts), None, "below the fewest tickets that may fire");
    }

    #[test]
    fn a_cluster_spike_names_the_strongest_cluster() {
        let quiet = |id: &str, last: u32| {
            let mut daily = vec![1; crate::recurring::WINDOW_DAYS];
            daily[0] = last;
            ClusterVolume {
                id: id.into(),
                name: format!("words of {id}"),
                daily,
                known_days: 28,
                samples: vec![],
                recent: vec![],
            }
        };
        let mut facts = AlertFacts {
            clusters: vec![quiet("T-1", 2), quiet("T-2", 27), quiet("T-3", 9), quiet("T-4", 4)],
            ..AlertFacts::default()
        };
        let rule = rule("cluster_spike", 5.0).parse(0, 60, &[]).expect("valid");
        let firing = evaluate(&rule, &facts).expect("fires");
        assert_eq!(firing.value, 26.0);
        assert_eq!(firing.summary, "27 tickets in 24 h look like 'words of T-2' (usually 1 a day); 1 more cluster too");
        assert_eq!(firing.clusters.iter().map(|(at, _)| *at).collect::<Vec<_>>(), [1, 2]);
        // 4 tickets score 3 but are below the fewest that may fire.
        let low = AlertRuleInput { min_tickets: Some(10), ..super::tests::rule("cluster_spike", 1.0) }
            .parse(0, 60, &[])
            .expect("valid");
        assert_eq!(evaluate(&low, &facts).map(|f| f.clusters.len()), Some(1));
        facts.clusters.remove(1);
        facts.clusters.remove(1);
        assert_eq!(evaluate(&rule, &facts), None);
        let team = AlertRuleInput { team: Some("a".into()), ..super::tests::rule("cluster_spike", 1.0) };
        assert_eq!(team.parse(0, 60, &[]).expect_err("refused").0[0].field, "alerts.rules[0].team");
    }

    #[test]
    fn bad_rules_name_their_fields() {
        let input = AlertRuleInput {
            name: " ".into(),
            when: "backlog_size".into(),
            above: -1.0,
            priority: Some("P9".into()),
            cooldown_minutes: Some(0),
            notify: vec!["nowhere".into()],
            ..AlertRuleInput::default()
        };
        let errors = input.parse(3, 60, &["ops"]).expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "alerts.rules[3].name",
                "alerts.rules[3].when",
                "alerts.rules[3].above",
                "alerts.rules[3].priority",
                "alerts.rules[3].cooldown_minutes",
                "alerts.rules[3].notify[0]"
            ]
        );
        let both = AlertRuleInput { team: Some("a".into()), priority: Some("P1".into()), ..rule("backlog_count", 1.0) };
        assert_eq!(both.parse(0, 60, &[]).expect_err("refused").0[0].field, "alerts.rules[0].priority");
        let team_on_age = AlertRuleInput { team: Some("a".into()), ..rule("ticket_older_than", 1.0) };
        assert_eq!(team_on_age.parse(0, 60, &[]).expect_err("refused").0[0].field, "alerts.rules[0].team");
    }
}
