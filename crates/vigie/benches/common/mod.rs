//! What the benches at scale share: the synthetic open tickets (the same spread for the queue
//! and the time rules).

#![allow(dead_code, reason = "each bench uses part of it")]

use jiff::{SignedDuration, Timestamp};
use vigie_core::{
    AgentId, Channel, CustomerId, CustomerTier, Priority, SlaMarks, Status, StatusSince, TeamId, Ticket, TicketId,
};

pub const TEAMS: [&str; 8] =
    ["front_office", "back_office", "billing_ops", "outsourced", "claims", "field_service", "retention", "legal"];
pub const CATEGORIES: [&str; 9] = [
    "billing",
    "complaint",
    "incident",
    "admin_update",
    "account",
    "delivery",
    "meter_reading",
    "technician_visit",
    "gdpr_request",
];
pub const AGENTS_PER_TEAM: usize = 6;

/// `n` open tickets created over the 60 days before `now`, ids `{prefix}-{i}`: eight teams,
/// nine categories, 5 % P1, a quarter waiting on the customer, a fourth tagged `vip`, flags on
/// one in fifty and one in forty, each with the targets of `rules`; with `assign`, a third of
/// those being worked are assigned to `{team}-{k}` (agents the caller records). Reproducible.
pub fn synthetic(
    rules: &vigie_core::Rules,
    n: usize,
    now: Timestamp,
    prefix: &str,
    assign: bool,
) -> impl Iterator<Item = Ticket> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: a reproducible spread without a dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let span = 60 * 24 * 3_600;
    (0..n).map(move |i| {
        let roll = next();
        let priority = match roll % 100 {
            0..5 => Priority::P1,
            5..25 => Priority::P2,
            25..80 => Priority::P3,
            _ => Priority::P4,
        };
        let status = match (roll >> 8) % 100 {
            0..30 => Status::New,
            30..60 => Status::Open,
            60..85 => Status::PendingCustomer,
            _ => Status::PendingInternal,
        };
        let category = CATEGORIES[usize::try_from((roll >> 16) % 9).unwrap_or(0)];
        let team = TEAMS[usize::try_from((roll >> 24) % 8).unwrap_or(0)];
        let age = i64::try_from((roll >> 32) % span).unwrap_or(0);
        let created_at = now.checked_sub(SignedDuration::from_secs(age)).expect("in range");
        let assigned = assign && status != Status::New && (roll >> 40) % 3 == 0;
        let mut status_history = vec![StatusSince { status: Status::New, since: created_at }];
        let mut updated_at = created_at;
        if status != Status::New {
            updated_at = created_at.checked_add(SignedDuration::from_secs(age / 2)).expect("in range");
            status_history.push(StatusSince { status, since: updated_at });
        }
        Ticket {
            id: TicketId::parse(format!("{prefix}-{i}")).expect("valid"),
            version: 1,
            created_at,
            updated_at,
            first_response_at: None,
            resolved_at: None,
            status,
            priority,
            category: category.into(),
            channel: Channel::ALL[usize::try_from((roll >> 44) % 5).unwrap_or(0)],
            customer_id: CustomerId::parse(format!("c-{}", (roll >> 48) % 5_000)).expect("valid"),
            customer_tier: CustomerTier::ALL[usize::try_from((roll >> 52) % 3).unwrap_or(0)],
            team: Some(TeamId::parse(team).expect("valid")),
            assignee: assigned.then(|| AgentId::parse(format!("{team}-{}", i % AGENTS_PER_TEAM)).expect("valid")),
            subject: format!("Request {i}"),
            body: format!("The body of request {i}."),
            csat: None,
            tags: if (roll >> 41) % 4 == 0 { vec!["vip".into()] } else { Vec::new() },
            legal_risk: (roll >> 56) % 50 == 0,
            blocking: (roll >> 58) % 40 == 0,
            language: None,
            status_history,
            sla_targets: rules.sla.select(category, priority, Channel::Email),
            sla_marks: SlaMarks::default(),
            rules_applied: Vec::new(),
            steps: Vec::new(),
        }
    })
}

/// The eight teams (working to `calendar`, if any) and [`AGENTS_PER_TEAM`] agents each,
/// `{team}-{k}`.
pub async fn directory(store: &vigie_store::Store, calendar: Option<&str>, now: Timestamp) {
    for team in TEAMS {
        let team = vigie_core::directory::Team {
            id: TeamId::parse(team).expect("valid"),
            name: team.into(),
            calendar: calendar.map(str::to_owned),
        };
        store.create_team(&team, now).await.expect("a team");
        for idx in 0..AGENTS_PER_TEAM {
            let agent = vigie_core::directory::Agent {
                id: AgentId::parse(format!("{}-{idx}", team.id)).expect("valid"),
                name: "Agent".into(),
                teams: vec![team.id.clone()],
                skill_categories: Vec::new(),
                skill_languages: Vec::new(),
            };
            store.create_agent(&agent, now).await.expect("an agent");
        }
    }
}
