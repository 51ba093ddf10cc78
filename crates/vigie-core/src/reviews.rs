//! The weekly review's figures: a week of tickets against the week before — tickets in and
//! out, first-response and resolution times, SLA compliance, satisfaction, and the categories
//! whose inflow rose most.
//!
//! **Architecture Invariant:** pure: the tickets, their SLA outcomes and the weeks' bounds are
//! arguments (the server evaluates the SLA clocks under its rules).

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::metrics::{SlaCounts, Stats};

/// How a target stands for the review (a ticket solved without a reply still awaits one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Met,
    Breached,
    Running,
}

/// What the review reads of a ticket.
#[derive(Debug, Clone)]
pub struct ReviewTicket<'a> {
    pub created_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub category: &'a str,
    pub csat: Option<u8>,
    /// First response, resolution; `None` without SLA targets.
    pub sla: Option<[Outcome; 2]>,
}

/// One week's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekFigures {
    /// Created, and resolved, in the week.
    pub inflow: u64,
    pub outflow: u64,
    /// Of the tickets created in the week and answered (minutes).
    pub first_response: Option<Stats>,
    /// Of the tickets resolved in the week (minutes).
    pub resolution: Option<Stats>,
    /// Of the tickets created in the week: first response, resolution.
    pub sla: [SlaCounts; 2],
    /// Of the tickets resolved in the week and rated: mean, and the share of 4 and 5 (%).
    pub csat: Option<(u64, f64, f64)>,
    pub inflow_by_category: BTreeMap<String, u64>,
}

/// The figures of the week `[from, to)`.
pub fn week(tickets: &[ReviewTicket<'_>], from: Timestamp, to: Timestamp) -> WeekFigures {
    let within = |at: Timestamp| at >= from && at < to;
    let mut figures = WeekFigures {
        inflow: 0,
        outflow: 0,
        first_response: None,
        resolution: None,
        sla: [SlaCounts::default(), SlaCounts::default()],
        csat: None,
        inflow_by_category: BTreeMap::new(),
    };
    let (mut frt, mut resolution, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
    for ticket in tickets {
        if within(ticket.created_at) {
            figures.inflow += 1;
            *figures.inflow_by_category.entry(ticket.category.to_owned()).or_default() += 1;
            if let Some(answered) = ticket.first_response_at {
                frt.push(answered.as_second() - ticket.created_at.as_second());
            }
            for (counts, outcome) in figures.sla.iter_mut().zip(ticket.sla.iter().flatten()) {
                match outcome {
                    Outcome::Met => counts.met += 1,
                    Outcome::Breached => counts.breached += 1,
                    Outcome::Running => counts.running += 1,
                }
            }
        }
        if let Some(resolved) = ticket.resolved_at.filter(|at| within(*at)) {
            figures.outflow += 1;
            resolution.push(resolved.as_second() - ticket.created_at.as_second());
            ratings.extend(ticket.csat);
        }
    }
    figures.first_response = (!frt.is_empty()).then(|| Stats::of(frt));
    figures.resolution = (!resolution.is_empty()).then(|| Stats::of(resolution));
    figures.csat = (!ratings.is_empty()).then(|| {
        let n = ratings.len() as f64;
        let mean = ratings.iter().map(|&r| f64::from(r)).sum::<f64>() / n;
        let satisfied = ratings.iter().filter(|&&r| r >= 4).count() as f64;
        (ratings.len() as u64, mean, 100.0 * satisfied / n)
    });
    figures
}

/// A category whose inflow changed from a week to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Rise {
    pub category: String,
    pub this_week: u64,
    pub last_week: u64,
}

/// The `n` categories whose inflow rose most (in tickets), largest rise first, ties by name.
pub fn rises(this_week: &BTreeMap<String, u64>, last_week: &BTreeMap<String, u64>, n: usize) -> Vec<Rise> {
    let mut all: Vec<Rise> = this_week
        .iter()
        .map(|(category, &now)| Rise {
            category: category.clone(),
            this_week: now,
            last_week: last_week.get(category).copied().unwrap_or(0),
        })
        .filter(|rise| rise.this_week > rise.last_week)
        .collect();
    all.sort_by(|a, b| {
        (b.this_week - b.last_week).cmp(&(a.this_week - a.last_week)).then_with(|| a.category.cmp(&b.category))
    });
    all.truncate(n);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_second(1_780_000_000 + hours * 3600).expect("valid")
    }

    #[test]
    fn a_week_counts_its_own_tickets_only() {
        let tickets = [
            // Created last week, resolved this week.
            ReviewTicket {
                created_at: at(-100),
                first_response_at: Some(at(-99)),
                resolved_at: Some(at(10)),
                category: "billing",
                csat: Some(5),
                sla: Some([Outcome::Met, Outcome::Breached]),
            },
            // Created this week, answered in 2 h, open.
            ReviewTicket {
                created_at: at(5),
                first_response_at: Some(at(7)),
                resolved_at: None,
                category: "billing",
                csat: None,
                sla: Some([Outcome::Met, Outcome::Running]),
            },
            ReviewTicket {
                created_at: at(6),
                first_response_at: None,
                resolved_at: Some(at(8)),
                category: "access",
                csat: Some(2),
                sla: Some([Outcome::Breached, Outcome::Met]),
            },
        ];
        let week = week(&tickets, at(0), at(168));
        assert_eq!((week.inflow, week.outflow), (2, 2));
        assert_eq!(week.first_response.map(|s| (s.count, s.mean)), Some((1, 120.0)));
        assert_eq!(week.resolution.map(|s| s.count), Some(2));
        assert_eq!(week.sla[0], SlaCounts { met: 1, breached: 1, running: 0 });
        assert_eq!(week.sla[1], SlaCounts { met: 1, breached: 0, running: 1 });
        assert_eq!(week.csat, Some((2, 3.5, 50.0)));
        let last: BTreeMap<String, u64> = [("billing".to_owned(), 1)].into();
        let rose = rises(&week.inflow_by_category, &last, 5);
        assert_eq!(rose.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(), ["access"]);
    }
}
