//! The demo backlog: a generated but realistic ticket history, so that a newcomer who runs
//! `vigie demo` sees at once what vigie is for: a queue with cases weeks old, fresh P1s about to
//! breach their first-response target, an outage flooding the desk with near-identical tickets,
//! happy and unhappy customers.
//!
//! The pipeline, all of it a pure function of [`DemoConfig`] (same seed and `now`, same data;
//! nothing reads the clock):
//! 1. the directory: four teams, eighteen agents with skills, a few hundred customers with tiers;
//! 2. the arrival instants of all tickets: a seasonal arrival process over the last
//!    [`HISTORY_DAYS`] (week, day and a slow trend), plus incident spikes and a few tickets that
//!    arrived minutes ago; sorted, they give the ids `D-1`..`D-n`;
//! 3. each ticket in arrival order: customer, channel, category, priority, team, text, then its
//!    life so far (first response, resolution) and from it its status at `now`.
//!
//! The shapes come from real data where we have it: the hourly and weekly arrival profile and
//! the long tail of open back-office cases follow Boston's 311 export of 2015
//! (`shared/data/boston311_2015/`); the channel, category and priority mixes follow the synthetic
//! help-desk model of `shared/bench/gen_tickets.py`, which was calibrated on the same kind of desk.

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use vigie_core::directory::{Agent, Customer, Team};
use vigie_core::{AgentId, Channel, CustomerId, CustomerTier, IdError, Priority, Status, TeamId, Ticket, TicketId};

/// What to generate. No `Default`: the caller says how many tickets, which seed and which "now".
#[derive(Debug, Clone)]
pub struct DemoConfig {
    pub n_tickets: usize,
    pub seed: u64,
    /// The instant the history ends at: every generated timestamp is at or before it.
    pub now: Timestamp,
}

/// A generated directory and ticket history, ready to load into an empty store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoData {
    pub teams: Vec<Team>,
    pub agents: Vec<Agent>,
    pub customers: Vec<Customer>,
    /// Sorted by `created_at`, with ids `D-1`..`D-n` in that order. Every team, assignee and
    /// customer they name is in the lists above.
    pub tickets: Vec<Ticket>,
}

/// Generates the demo backlog. Deterministic: the same config gives the same data.
pub fn generate(config: &DemoConfig) -> DemoData {
    let clock = Clock::new(config.now);
    let mut directory_rng = stream_rng(config.seed, Stream::Directory);
    let teams = teams();
    let agents = agents();
    let profiles = draw_customers(&mut directory_rng, customer_count(config.n_tickets));
    let customers = profiles
        .iter()
        .enumerate()
        .map(|(customer_idx, profile)| Customer {
            id: customer_id(customer_idx),
            name: profile.name.clone(),
            tier: profile.tier,
        })
        .collect::<Vec<_>>();

    let mut arrival_rng = stream_rng(config.seed, Stream::Arrivals);
    let plan = plan_arrivals(&mut arrival_rng, &clock, config.n_tickets);

    let writer = TicketWriter::new(clock, &teams, &agents, &customers, &profiles, &plan.spikes);
    let mut ticket_rng = stream_rng(config.seed, Stream::Tickets);
    let mut last_ticket_of_customer = vec![None; profiles.len()];
    let mut tickets = Vec::with_capacity(plan.arrivals.len());
    for (ticket_idx, arrival) in plan.arrivals.iter().enumerate() {
        let ticket = writer.ticket(&mut ticket_rng, ticket_idx + 1, *arrival, &tickets, &mut last_ticket_of_customer);
        tickets.push(ticket);
    }
    DemoData { teams, agents, customers, tickets }
}

// ------------------------------------------------------------------------------------------
// The model's constants. Each says why it has the value it has.

type DemoRng = Xoshiro256PlusPlus;

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// Four months of history: long enough for the weekly pattern and a trend to show in charts,
/// for the 30/60/90-day age buckets to fill, and for closed tickets to outnumber open ones as
/// they do on a real desk; short enough that a demo of 50,000 tickets loads in seconds.
const HISTORY_DAYS: i64 = 120;

/// The demo organisation works Paris hours. A fixed UTC+1 is used for the arrival shape and
/// business hours: the summer-time shift would move the curves by an hour, which a demo does not
/// need to model (and keeps this module free of time-zone lookups that could fail).
const LOCAL_OFFSET: i64 = HOUR;
/// Business hours, local, Monday to Friday: when written requests get answered.
const OPENING_HOUR: i64 = 8;
const CLOSING_HOUR: i64 = 18;

/// Relative arrivals by local weekday, Monday first. Weekdays carry the load, Monday most (the
/// weekend's backlog of e-mails), and a weekend day gets about 30 % of a weekday, the ratio of
/// Boston's 311 arrivals in 2015 (7,000 against 22,000 a day on average).
const WEEKDAY_WEIGHT: [f64; 7] = [1.18, 1.06, 1.0, 0.97, 0.9, 0.32, 0.26];

/// Relative arrivals by local hour of day: Boston 311's 2015 curve, a support desk's classic
/// shape (quiet night, a rise from 7:00, a peak at 9-10, a lunch dip, a second hump at 14:00,
/// a slow evening decline).
const HOUR_WEIGHT: [f64; 24] = [
    4.0, 3.0, 2.0, 2.0, 2.0, 4.0, 12.0, 40.0, 85.0, 100.0, 96.0, 88.0, 70.0, 80.0, 86.0, 80.0, 66.0, 50.0, 34.0, 24.0,
    18.0, 14.0, 10.0, 6.0,
];

/// Arrival intensity at the start of the history, relative to now: the inflow grew by about
/// 15 % over four months, a slow trend that the inflow chart and the forecasts should pick up.
const TREND_START: f64 = 0.87;

/// Channels in the order of the mix tables below.
const CHANNELS: [Channel; 5] = [Channel::Email, Channel::Web, Channel::Phone, Channel::Chat, Channel::Social];
/// Share of each channel: written channels dominate a desk that also serves a back office
/// (e-mail 38 %, web forms 24 %), the phone and chat take a third, social media the rest.
const CHANNEL_WEIGHT: [f64; 5] = [0.38, 0.24, 0.17, 0.15, 0.06];
/// Outside business hours the phone line and the chat are closed: only a trickle (callbacks,
/// the chatbot's hand-offs) arrives by them.
const CLOSED_LIVE_CHANNEL_FACTOR: f64 = 0.08;

/// Share of customers by tier. Strategic accounts are few (3 %) and premium ones a minority
/// (12 %), as in a typical B2B portfolio.
const TIER_SHARE_STRATEGIC: f64 = 0.03;
const TIER_SHARE_PREMIUM: f64 = 0.12;
/// Bigger accounts write more: activity weight of a customer by tier, on top of a log-normal
/// spread (σ = 1) that gives a few very active customers and many quiet ones. Strategic
/// customers then send about 7 % of the tickets, premium ones about 16 %.
const TIER_ACTIVITY: [f64; 3] = [1.0, 1.6, 2.5];
/// Share of customers who write in French; the others write in English.
const FRENCH_SHARE: f64 = 0.4;

/// Median first-response delay by channel, in minutes of wall time after the clock starts
/// (for written channels, at the next business opening): e-mail and forms wait for an agent to
/// get to them, social media is watched more closely, a call or a chat is answered live.
const FIRST_RESPONSE_MEDIAN_MINUTES: [f64; 5] = [240.0, 180.0, 1.0, 3.0, 60.0];
/// Spread (log-normal σ) of first-response delays: wide for written channels, narrow live.
const FIRST_RESPONSE_SIGMA: [f64; 5] = [1.0, 1.0, 0.6, 0.6, 1.0];
/// First response and resolution are faster the higher the priority, P1 first.
const FIRST_RESPONSE_PRIORITY_FACTOR: [f64; 4] = [0.15, 0.4, 1.0, 1.6];
const RESOLUTION_PRIORITY_FACTOR: [f64; 4] = [0.1, 0.35, 1.0, 1.7];
/// Strategic customers have a dedicated first-line promise: half the usual wait.
const STRATEGIC_RESPONSE_FACTOR: f64 = 0.5;
/// Spread (log-normal σ) of resolution times after the first response.
const RESOLUTION_SIGMA: f64 = 1.1;
/// The outsourced partner is slower to resolve (hand-offs, narrower rights).
const OUTSOURCED_RESOLUTION_FACTOR: f64 = 1.3;
/// A "stuck" case (waiting on a contractor, another department, a missing document) takes this
/// many times longer, median, with spread σ below: the long tail of old open cases that every
/// back office has (a quarter of Boston's 2015 backlog was over three months old).
const STUCK_FACTOR_MEDIAN: f64 = 16.0;
const STUCK_FACTOR_SIGMA: f64 = 0.8;
/// The desk has been short-handed lately (two departures, not yet replaced, while the inflow
/// grows): a ticket created now takes `1 + RECENT_SLOWDOWN` times longer to resolve than usual,
/// fading linearly to the usual over [`RECENT_SLOWDOWN_DAYS`]. The backlog grows, and the
/// trend chart, the net flow and the capacity planning have something to show.
const RECENT_SLOWDOWN: f64 = 1.0;
const RECENT_SLOWDOWN_DAYS: f64 = 28.0;
/// Share of phone and chat requests (P3, P4) solved during the first contact.
const FIRST_CONTACT_RESOLUTION_SHARE: f64 = 0.3;
/// Share of tickets where the customer never answers our question: they sit in
/// `pending_customer` until the housekeeping closes them, [`STALE_AUTO_CLOSE_DAYS`] later.
const STALE_PENDING_SHARE: f64 = 0.025;
const STALE_AUTO_CLOSE_DAYS: i64 = 30;
/// A solved ticket is closed this long after, as help desks such as Zendesk do by default:
/// the customer can still reopen it meanwhile.
const SOLVED_TO_CLOSED_DAYS: i64 = 4;
/// No life-cycle step takes longer than this: it keeps the arithmetic far from overflow.
const LONGEST_DELAY: i64 = 400 * DAY;

/// Share of resolved tickets whose customer answered the satisfaction survey: typical response
/// rates of post-resolution surveys are 20-40 %; the upper end gives the demo charts some body.
const CSAT_RESPONSE_SHARE: f64 = 0.4;

/// Share of strategic customers' tickets raised one priority level by the account manager.
const STRATEGIC_PRIORITY_RAISE: f64 = 0.25;
/// Chance that a regular ticket is a re-send of the customer's previous request ("any update on
/// this?"), when that request is recent (see [`RESEND_WINDOW`]) and still unanswered: about 1 %
/// of all tickets end up re-sends, the near-duplicates the duplicate detection should catch.
const RESEND_SHARE: f64 = 0.06;
/// A customer re-sends within this delay, or opens a new request.
const RESEND_WINDOW: i64 = 5 * DAY;
/// Share of front-office tickets from written channels that overflow to the outsourced partner.
const OUTSOURCED_OVERFLOW_SHARE: f64 = 0.35;
/// Share of new written tickets not yet routed to a team (the lead's triage queue).
const UNROUTED_NEW_SHARE: f64 = 0.3;
/// Share of new tickets someone already took, and of open ones nobody holds.
const ASSIGNED_NEW_SHARE: f64 = 0.2;
const UNASSIGNED_OPEN_SHARE: f64 = 0.1;

// ------------------------------------------------------------------------------------------
// The directory.

const FRONT_OFFICE: usize = 0;
const BACK_OFFICE: usize = 1;
const BILLING_OPS: usize = 2;
const OUTSOURCED: usize = 3;

/// The four teams of FORMATS.md's example: the front office answers first, the back office
/// handles what needs work behind the scenes, billing operations own invoices, and an outsourced
/// partner absorbs part of the front office's written load.
const TEAMS: [(&str, &str); 4] = [
    ("front_office", "Front office"),
    ("back_office", "Back office"),
    ("billing_ops", "Billing operations"),
    ("outsourced", "Atlas Contact (outsourced front office)"),
];

struct AgentSpec {
    id: &'static str,
    name: &'static str,
    teams: &'static [usize],
    /// Category slugs; empty means any.
    categories: &'static [&'static str],
    languages: &'static [Lang],
}

/// Eighteen agents: a desk of that size handles 50-150 tickets a day, the demo's range. Skills
/// overlap so that every (team, category, language) has someone, with a few generalists.
const AGENTS: [AgentSpec; 18] = [
    AgentSpec {
        id: "claire.moreau",
        name: "Claire Moreau",
        teams: &[FRONT_OFFICE, OUTSOURCED],
        categories: &[],
        languages: &[Lang::Fr, Lang::En],
    },
    AgentSpec {
        id: "thomas.bernard",
        name: "Thomas Bernard",
        teams: &[FRONT_OFFICE],
        categories: &["account", "incident"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "sarah.collins",
        name: "Sarah Collins",
        teams: &[FRONT_OFFICE],
        categories: &["account", "incident", "delivery"],
        languages: &[Lang::En],
    },
    AgentSpec {
        id: "julien.petit",
        name: "Julien Petit",
        teams: &[FRONT_OFFICE],
        categories: &["complaint", "billing", "account"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "ines.haddad",
        name: "Inès Haddad",
        teams: &[FRONT_OFFICE],
        categories: &["incident", "account", "complaint"],
        languages: &[Lang::Fr, Lang::En],
    },
    AgentSpec {
        id: "lucas.fournier",
        name: "Lucas Fournier",
        teams: &[FRONT_OFFICE],
        categories: &["delivery", "complaint", "billing"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "nathalie.roux",
        name: "Nathalie Roux",
        teams: &[BACK_OFFICE, BILLING_OPS],
        categories: &[],
        languages: &[Lang::Fr, Lang::En],
    },
    AgentSpec {
        id: "pierre.lefebvre",
        name: "Pierre Lefebvre",
        teams: &[BACK_OFFICE],
        categories: &["admin_update", "meter_reading", "delivery"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "emily.turner",
        name: "Emily Turner",
        teams: &[BACK_OFFICE],
        categories: &["complaint", "gdpr_request", "admin_update"],
        languages: &[Lang::En, Lang::Fr],
    },
    AgentSpec {
        id: "karim.benali",
        name: "Karim Benali",
        teams: &[BACK_OFFICE],
        categories: &["technician_visit", "meter_reading", "delivery"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "sophie.garnier",
        name: "Sophie Garnier",
        teams: &[BACK_OFFICE],
        categories: &["complaint", "delivery", "gdpr_request", "admin_update"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "david.walker",
        name: "David Walker",
        teams: &[BACK_OFFICE],
        categories: &["technician_visit", "meter_reading", "admin_update", "delivery"],
        languages: &[Lang::En],
    },
    AgentSpec {
        id: "marc.dupont",
        name: "Marc Dupont",
        teams: &[BILLING_OPS],
        categories: &["billing"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "laura.mitchell",
        name: "Laura Mitchell",
        teams: &[BILLING_OPS],
        categories: &["billing"],
        languages: &[Lang::En, Lang::Fr],
    },
    AgentSpec {
        id: "hugo.lambert",
        name: "Hugo Lambert",
        teams: &[BILLING_OPS],
        categories: &["billing", "complaint"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "yasmine.alaoui",
        name: "Yasmine Alaoui",
        teams: &[OUTSOURCED],
        categories: &["account", "incident", "delivery", "complaint"],
        languages: &[Lang::Fr],
    },
    AgentSpec {
        id: "ana.costa",
        name: "Ana Costa",
        teams: &[OUTSOURCED],
        categories: &["account", "delivery", "billing", "incident"],
        languages: &[Lang::En],
    },
    AgentSpec {
        id: "omar.tazi",
        name: "Omar Tazi",
        teams: &[OUTSOURCED],
        categories: &[],
        languages: &[Lang::Fr, Lang::En],
    },
];

fn teams() -> Vec<Team> {
    TEAMS
        .iter()
        .map(|(id, name)| Team { id: known_id(TeamId::parse(*id)), name: (*name).to_owned(), calendar: None })
        .collect()
}

fn agents() -> Vec<Agent> {
    AGENTS
        .iter()
        .map(|spec| Agent {
            id: known_id(AgentId::parse(spec.id)),
            name: spec.name.to_owned(),
            teams: spec.teams.iter().map(|&team_idx| team_id(team_idx)).collect(),
            skill_categories: spec.categories.iter().map(|&slug| slug.to_owned()).collect(),
            skill_languages: spec.languages.iter().map(|lang| lang.code().to_owned()).collect(),
        })
        .collect()
}

/// A few hundred customers, more for big demos so that no customer sends absurd volumes:
/// 300 up to 7,500 tickets, one per 25 tickets beyond, at most 2,000.
fn customer_count(n_tickets: usize) -> usize {
    (n_tickets / 25).clamp(300, 2_000)
}

/// What the generator knows of a customer beyond the directory record.
struct CustomerProfile {
    name: String,
    tier: CustomerTier,
    lang: Lang,
    /// Relative activity: how often this customer writes.
    weight: f64,
    /// The person who writes on the customer's behalf, signing the requests.
    contact_first: &'static str,
    contact_last: &'static str,
}

fn draw_customers(rng: &mut DemoRng, n_customers: usize) -> Vec<CustomerProfile> {
    // Exact tier counts, then shuffled: with a few hundred customers, independent draws would
    // leave a demo with no strategic customer now and then.
    let n_strategic = ((n_customers as f64 * TIER_SHARE_STRATEGIC).round() as usize).max(1);
    let n_premium = (n_customers as f64 * TIER_SHARE_PREMIUM).round() as usize;
    let mut tiers = vec![CustomerTier::Standard; n_customers];
    for (tier_idx, tier) in tiers.iter_mut().enumerate() {
        if tier_idx < n_strategic {
            *tier = CustomerTier::Strategic;
        } else if tier_idx < n_strategic + n_premium {
            *tier = CustomerTier::Premium;
        }
    }
    shuffle(rng, &mut tiers);

    let mut names_taken = std::collections::HashSet::new();
    tiers
        .into_iter()
        .map(|tier| {
            let lang = if chance(rng, FRENCH_SHARE) { Lang::Fr } else { Lang::En };
            let name = draw_company_name(rng, lang, &mut names_taken);
            let tier_activity = match tier {
                CustomerTier::Standard => TIER_ACTIVITY[0],
                CustomerTier::Premium => TIER_ACTIVITY[1],
                CustomerTier::Strategic => TIER_ACTIVITY[2],
            };
            let weight = tier_activity * log_normal(rng, 1.0, 1.0);
            CustomerProfile {
                name,
                tier,
                lang,
                weight,
                contact_first: pick(rng, lang.first_names()),
                contact_last: pick(rng, lang.last_names()),
            }
        })
        .collect()
}

/// A company name from word lists ("Meridian Logistics SAS", "Boulangerie Moreau",
/// "Walker Engineering", "Baker & Hill"), in the customer's language, distinct from the ones
/// already taken.
fn draw_company_name(rng: &mut DemoRng, lang: Lang, taken: &mut std::collections::HashSet<String>) -> String {
    let mut name = String::new();
    for _attempt in 0..50 {
        name.clear();
        let pattern = rng.random::<f64>();
        if pattern < 0.6 {
            name.push_str(pick(rng, COMPANY_PREFIXES));
            name.push(' ');
            name.push_str(pick(rng, COMPANY_TRADES));
            let suffix = pick(rng, COMPANY_SUFFIXES);
            if !suffix.is_empty() {
                name.push(' ');
                name.push_str(suffix);
            }
        } else if pattern < 0.8 {
            // A family business: "Boulangerie Moreau" in French, "Walker Engineering" in English.
            match lang {
                Lang::Fr => {
                    name.push_str(pick(rng, SHOP_KINDS));
                    name.push(' ');
                    name.push_str(pick(rng, FRENCH_LAST_NAMES));
                }
                Lang::En => {
                    name.push_str(pick(rng, ENGLISH_LAST_NAMES));
                    name.push(' ');
                    name.push_str(pick(rng, COMPANY_TRADES));
                }
            }
        } else {
            name.push_str(pick(rng, lang.last_names()));
            name.push_str(" & ");
            name.push_str(pick(rng, lang.last_names()));
        }
        if !taken.contains(&name) {
            break;
        }
    }
    // After 50 collisions (thousands of customers), a branch name keeps it distinct.
    let mut branch = 2;
    let stem = name.clone();
    while taken.contains(&name) {
        name = format!("{stem} ({})", pick(rng, CITIES));
        if taken.contains(&name) {
            name = format!("{stem} {branch}");
            branch += 1;
        }
    }
    taken.insert(name.clone());
    name
}

// ------------------------------------------------------------------------------------------
// Arrivals.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ArrivalKind {
    /// The ordinary flow.
    Regular,
    /// Arrived minutes before `now`, not yet answered: the first-response clock is running.
    Fresh,
    /// One ticket of the spike at this index of [`SPIKES`].
    Spike(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Arrival {
    /// Unix seconds.
    at: i64,
    kind: ArrivalKind,
}

/// A spike as it happened in this demo: the fixed parts of its text and when it was fixed.
struct SpikeInstance {
    error_code: u32,
    area: &'static str,
    product: &'static str,
    /// When the cause was fixed (Unix seconds); `None` while it is still going on.
    fixed_at: Option<i64>,
}

struct ArrivalPlan {
    arrivals: Vec<Arrival>,
    spikes: Vec<SpikeInstance>,
}

/// Below this many tickets the demo has no spikes: 30 near-identical tickets would be most of it.
const MIN_TICKETS_FOR_SPIKES: usize = 200;
/// Size of the biggest spike: 30 tickets, the brief's "a bug producing tickets", or one ticket
/// in 300 for big demos so that a spike stays visible against the daily flow.
fn spike_base_size(n_tickets: usize) -> usize {
    (n_tickets / 300).max(30)
}

/// Tickets arrived in the last minutes: one in a thousand, at least 3 so that the wall
/// dashboard always has something about to breach, at most 40.
fn fresh_count(n_tickets: usize) -> usize {
    if n_tickets < 20 { 0 } else { (n_tickets / 1_000).clamp(3, 40) }
}
/// The fresh tickets arrived between these many minutes ago: inside a P1's or P2's typical
/// first-response target (15 minutes to 2 hours), so some are about to breach.
const FRESH_MINUTES: (i64, i64) = (2, 110);

fn plan_arrivals(rng: &mut DemoRng, clock: &Clock, n_tickets: usize) -> ArrivalPlan {
    let mut arrivals = Vec::with_capacity(n_tickets);
    let mut spikes = Vec::new();
    let now = clock.now_s;

    let n_fresh = fresh_count(n_tickets);
    for _ in 0..n_fresh {
        let minutes_ago = rng.random_range(FRESH_MINUTES.0..FRESH_MINUTES.1);
        let at = now - minutes_ago * MINUTE - rng.random_range(0..MINUTE);
        arrivals.push(Arrival { at, kind: ArrivalKind::Fresh });
    }

    if n_tickets >= MIN_TICKETS_FOR_SPIKES {
        let base_size = spike_base_size(n_tickets);
        for (spike_idx, spec) in SPIKES.iter().enumerate() {
            let size = (base_size as f64 * spec.size_factor).round() as usize;
            let start_day = local_day(now) - spec.days_ago;
            let start = start_day * DAY - LOCAL_OFFSET + OPENING_HOUR * HOUR + rng.random_range(0..2 * HOUR);
            for _ in 0..size {
                // Reports pile up in the first hours, then trail off (exponential, mean 3 h),
                // all within the day.
                let delay = (exponential(rng, 3.0 * HOUR as f64) as i64).min(13 * HOUR);
                let at = (start + delay).min(now - MINUTE);
                arrivals.push(Arrival { at, kind: ArrivalKind::Spike(spike_idx) });
            }
            spikes.push(SpikeInstance {
                error_code: rng.random_range(400..600),
                area: pick(rng, CITIES),
                product: pick(rng, PRODUCTS),
                fixed_at: spec.fixed_after_hours.map(|hours| (start + (hours * HOUR as f64) as i64).min(now)),
            });
        }
    }

    let n_regular = n_tickets.saturating_sub(arrivals.len());
    let history_start = now - HISTORY_DAYS * DAY;
    let n_hours = (HISTORY_DAYS * 24) as usize;
    let mut cumulative = Vec::with_capacity(n_hours);
    let mut total = 0.0;
    for hour_idx in 0..n_hours {
        let hour_start = history_start + hour_idx as i64 * HOUR;
        let progress = hour_idx as f64 / n_hours as f64;
        let trend = TREND_START + (1.0 - TREND_START) * progress;
        total += WEEKDAY_WEIGHT[weekday(local_day(hour_start))] * HOUR_WEIGHT[local_hour(hour_start)] * trend;
        cumulative.push(total);
    }
    for _ in 0..n_regular {
        let hour_idx = pick_cumulative(rng, &cumulative);
        let at = (history_start + hour_idx as i64 * HOUR + rng.random_range(0..HOUR)).min(now);
        arrivals.push(Arrival { at, kind: ArrivalKind::Regular });
    }
    arrivals.truncate(n_tickets);
    arrivals.sort_unstable();
    ArrivalPlan { arrivals, spikes }
}

// ------------------------------------------------------------------------------------------
// Tickets.

/// The precomputed lookups that turn an arrival into a ticket.
struct TicketWriter<'a> {
    clock: Clock,
    team_ids: Vec<TeamId>,
    agent_ids: Vec<AgentId>,
    customers: &'a [Customer],
    profiles: &'a [CustomerProfile],
    spikes: &'a [SpikeInstance],
    /// Agents who can take a ticket, by team, category and language: those with the skills, or
    /// else anyone in the team (a real desk always ends up giving the ticket to someone).
    eligible_agents: Vec<Vec<[Vec<usize>; 2]>>,
    /// Cumulative activity weights of the customers.
    customer_cumulative: Vec<f64>,
}

/// A ticket's life as drawn, in Unix seconds; `i64::MAX` for "not yet".
struct Life {
    first_response: i64,
    resolution: i64,
    stuck: bool,
    stale: bool,
}

const NOT_YET: i64 = i64::MAX;

impl<'a> TicketWriter<'a> {
    fn new(
        clock: Clock,
        teams: &[Team],
        agents: &[Agent],
        customers: &'a [Customer],
        profiles: &'a [CustomerProfile],
        spikes: &'a [SpikeInstance],
    ) -> Self {
        let eligible_agents = (0..teams.len())
            .map(|team_idx| {
                CATEGORIES
                    .iter()
                    .map(|category| [Lang::En, Lang::Fr].map(|lang| eligible_agents(team_idx, category.slug, lang)))
                    .collect()
            })
            .collect();
        let mut total = 0.0;
        let customer_cumulative = profiles
            .iter()
            .map(|profile| {
                total += profile.weight;
                total
            })
            .collect();
        TicketWriter {
            clock,
            team_ids: teams.iter().map(|team| team.id.clone()).collect(),
            agent_ids: agents.iter().map(|agent| agent.id.clone()).collect(),
            customers,
            profiles,
            spikes,
            eligible_agents,
            customer_cumulative,
        }
    }

    fn ticket(
        &self,
        rng: &mut DemoRng,
        number: usize,
        arrival: Arrival,
        earlier: &[Ticket],
        last_ticket_of_customer: &mut [Option<usize>],
    ) -> Ticket {
        let created = arrival.at;
        let now = self.clock.now_s;
        let customer_idx = pick_cumulative(rng, &self.customer_cumulative);
        let profile = &self.profiles[customer_idx];
        let lang = profile.lang;
        let tier = profile.tier;
        let strategic = tier == CustomerTier::Strategic;

        let live_open = in_business_hours(created);
        let channel_idx = pick_weighted(rng, &CHANNEL_WEIGHT, |channel_idx, weight| {
            if !live_open && matches!(CHANNELS[channel_idx], Channel::Phone | Channel::Chat) {
                weight * CLOSED_LIVE_CHANNEL_FACTOR
            } else {
                weight
            }
        });
        let channel = CHANNELS[channel_idx];

        // A re-send repeats the customer's last request when it is recent and still unanswered.
        let resend_of = match (arrival.kind, last_ticket_of_customer[customer_idx]) {
            (ArrivalKind::Regular, Some(previous_idx)) if chance(rng, RESEND_SHARE) => {
                earlier.get(previous_idx).filter(|previous| {
                    let previous_created = previous.created_at.as_second();
                    let answered = previous.first_response_at.is_some_and(|at| at.as_second() <= created);
                    created - previous_created <= RESEND_WINDOW && !answered
                })
            }
            _ => None,
        };
        last_ticket_of_customer[customer_idx] = Some(number - 1);

        let spike = match arrival.kind {
            ArrivalKind::Spike(spike_idx) => SPIKES.get(spike_idx).zip(self.spikes.get(spike_idx)),
            _ => None,
        };
        let category_idx = match (resend_of, spike) {
            (Some(previous), _) => category_index(&previous.category),
            (None, Some((spec, _))) => spec.category,
            (None, None) => pick_weighted(rng, &CATEGORY_BY_CHANNEL[channel_idx], |_, weight| weight),
        };
        let category = &CATEGORIES[category_idx];

        let mut priority_idx = match spike {
            Some((spec, _)) => pick_weighted(rng, &spec.priority_mix, |_, weight| weight),
            None => pick_weighted(rng, &category.priority_mix, |_, weight| weight),
        };
        if let Some(previous) = resend_of {
            priority_idx = priority_index(previous.priority);
            if chance(rng, 0.3) {
                priority_idx = priority_idx.saturating_sub(1);
            }
        }
        if strategic && chance(rng, STRATEGIC_PRIORITY_RAISE) {
            priority_idx = priority_idx.saturating_sub(1);
        }
        if arrival.kind == ArrivalKind::Fresh {
            let draw = rng.random::<f64>();
            if draw < 0.3 {
                priority_idx = 0;
            } else if draw < 0.7 {
                priority_idx = priority_idx.min(1);
            }
        }
        let priority = Priority::ALL.get(priority_idx).copied().unwrap_or(Priority::P3);

        let team_idx = self.route(rng, category_idx, channel, tier);
        let life = self.life(rng, created, channel_idx, category_idx, priority_idx, team_idx, strategic, arrival.kind);

        // Status at `now`, and the fields that follow from it.
        let (status, first_response_at, resolved_at, updated) = if life.first_response > now {
            (Status::New, None, None, created)
        } else if life.resolution > now {
            let status = open_status(rng, &life, category_idx, spike.is_some());
            let updated = if life.stale {
                // Nothing happened since we asked the customer: the ticket goes stale.
                life.first_response
            } else {
                // The last touch: anywhere since the first response, more often recent.
                let since = now - life.first_response;
                now - (since as f64 * rng.random::<f64>().powi(2)) as i64
            };
            (status, Some(life.first_response), None, updated)
        } else if life.stale || life.resolution <= now - SOLVED_TO_CLOSED_DAYS * DAY {
            let closed_at = if life.stale { life.resolution } else { life.resolution + SOLVED_TO_CLOSED_DAYS * DAY };
            (Status::Closed, Some(life.first_response), Some(life.resolution), closed_at)
        } else {
            (Status::Solved, Some(life.first_response), Some(life.resolution), life.resolution)
        };

        let written = matches!(channel, Channel::Email | Channel::Web | Channel::Social);
        let routed = !(status == Status::New
            && written
            && !strategic
            && arrival.kind != ArrivalKind::Fresh
            && resend_of.is_none()
            && chance(rng, UNROUTED_NEW_SHARE));
        let team = routed.then(|| self.team_ids[team_idx].clone());
        let assigned = routed
            && match status {
                Status::New => chance(rng, ASSIGNED_NEW_SHARE),
                Status::Solved | Status::Closed => true,
                _ => !chance(rng, UNASSIGNED_OPEN_SHARE),
            };
        let assignee = if assigned { self.pick_agent(rng, team_idx, category_idx, lang) } else { None };

        let legal_risk = chance(rng, category.legal_risk_share);
        let blocking = match spike {
            Some((spec, _)) => chance(rng, spec.blocking_share),
            None => chance(rng, category.blocking_share),
        };

        let csat = match status {
            Status::Solved | Status::Closed if !life.stale && chance(rng, CSAT_RESPONSE_SHARE) => {
                let resolution_days = (life.resolution - created) as f64 / DAY as f64;
                let latent = 4.6 + 0.9 * standard_normal(rng)
                    - 0.35 * resolution_days.ln_1p()
                    - if category.slug == "complaint" { 0.7 } else { 0.0 }
                    - if team_idx == OUTSOURCED { 0.3 } else { 0.0 }
                    - if life.stuck { 0.3 } else { 0.0 };
                Some(latent.round().clamp(1.0, 5.0) as u8)
            }
            _ => None,
        };

        let mut tags = Vec::with_capacity(3);
        tags.push(lang.tag().to_owned());
        if strategic {
            tags.push("vip".to_owned());
        }
        if let Some((spec, _)) = spike {
            tags.extend(spec.tags.iter().map(|&tag| tag.to_owned()));
        } else {
            for &(tag, share) in category.tags {
                if chance(rng, share) {
                    tags.push(tag.to_owned());
                }
            }
        }
        if legal_risk && !tags.iter().any(|tag| tag == "escalated") {
            tags.push("escalated".to_owned());
        }
        if life.stuck && category.slug == "technician_visit" {
            tags.push("contractor".to_owned());
        }
        if life.stale && status == Status::Closed {
            tags.push("auto_closed".to_owned());
        }

        let (subject, body) = match (resend_of, spike) {
            (Some(previous), _) => resend_text(rng, lang, previous),
            (None, Some((spec, instance))) => {
                let slots = Slots::draw(rng, lang, created, customer_idx, profile).for_spike(instance);
                spike_text(rng, lang, spec, &slots)
            }
            (None, None) => {
                let slots = Slots::draw(rng, lang, created, customer_idx, profile);
                regular_text(rng, lang, category, &slots, priority_idx, profile)
            }
        };

        Ticket {
            id: known_id(TicketId::parse(format!("D-{number}"))),
            version: 1,
            created_at: self.clock.at(created),
            updated_at: self.clock.at(updated.clamp(created, now)),
            first_response_at: first_response_at.map(|at| self.clock.at(at)),
            resolved_at: resolved_at.map(|at| self.clock.at(at)),
            status,
            priority,
            category: category.slug.to_owned(),
            channel,
            customer_id: self.customers[customer_idx].id.clone(),
            customer_tier: tier,
            team,
            assignee,
            subject,
            body,
            csat,
            tags,
            legal_risk,
            blocking,
        }
    }

    /// The owning team: the category's, with the exceptions a real desk makes.
    fn route(&self, rng: &mut DemoRng, category_idx: usize, channel: Channel, tier: CustomerTier) -> usize {
        let category = &CATEGORIES[category_idx];
        let live = matches!(channel, Channel::Phone | Channel::Chat);
        let mut team_idx = category.team;
        match category.slug {
            // Simple invoice questions on the phone are answered by the front office.
            "billing" if live && chance(rng, 0.5) => team_idx = FRONT_OFFICE,
            // Complaints go to the back office's complaint desk, but the front office handles
            // half of those raised live; strategic customers' ones always go to the back office.
            "complaint" if tier != CustomerTier::Strategic && live && chance(rng, 0.5) => team_idx = FRONT_OFFICE,
            // "Where is my parcel?" is front office work; damaged goods and returns are not.
            "delivery" if chance(rng, 0.5) => team_idx = FRONT_OFFICE,
            _ => {}
        }
        if team_idx == FRONT_OFFICE && !live && chance(rng, OUTSOURCED_OVERFLOW_SHARE) {
            team_idx = OUTSOURCED;
        }
        team_idx
    }

    /// When the ticket gets its first response and its resolution (possibly after `now`).
    #[expect(clippy::too_many_arguments, reason = "the drawn attributes of one ticket, used once")]
    fn life(
        &self,
        rng: &mut DemoRng,
        created: i64,
        channel_idx: usize,
        category_idx: usize,
        priority_idx: usize,
        team_idx: usize,
        strategic: bool,
        kind: ArrivalKind,
    ) -> Life {
        let category = &CATEGORIES[category_idx];
        let channel = CHANNELS[channel_idx];
        let live = matches!(channel, Channel::Phone | Channel::Chat);
        let clock_start = if live { created } else { next_opening(created) };
        let first_response_median = FIRST_RESPONSE_MEDIAN_MINUTES[channel_idx]
            * FIRST_RESPONSE_PRIORITY_FACTOR[priority_idx]
            * if strategic { STRATEGIC_RESPONSE_FACTOR } else { 1.0 }
            * MINUTE as f64;
        let first_response_delay =
            delay_seconds(log_normal(rng, first_response_median, FIRST_RESPONSE_SIGMA[channel_idx])).max(20);
        let first_response = if kind == ArrivalKind::Fresh { NOT_YET } else { clock_start + first_response_delay };

        let stuck = chance(rng, category.stuck_share);
        let first_contact = live && priority_idx >= 2 && chance(rng, FIRST_CONTACT_RESOLUTION_SHARE);
        let stale = !first_contact && chance(rng, STALE_PENDING_SHARE);
        let spike = match kind {
            ArrivalKind::Spike(spike_idx) => self.spikes.get(spike_idx),
            _ => None,
        };
        let resolution = if first_response == NOT_YET {
            NOT_YET
        } else if let Some(spike) = spike {
            // A spike is resolved for everyone when its cause is fixed, in a batch.
            match spike.fixed_at {
                Some(fixed_at) => (fixed_at + rng.random_range(0..8 * HOUR)).max(first_response + 5 * MINUTE),
                None => NOT_YET,
            }
        } else if first_contact {
            first_response + rng.random_range(2 * MINUTE..15 * MINUTE)
        } else if stale {
            first_response + rng.random_range(HOUR..3 * DAY) + STALE_AUTO_CLOSE_DAYS * DAY
        } else {
            let median = category.resolution_median_hours
                * RESOLUTION_PRIORITY_FACTOR[priority_idx]
                * if team_idx == OUTSOURCED { OUTSOURCED_RESOLUTION_FACTOR } else { 1.0 }
                * self.slowdown(created)
                * if stuck { log_normal(rng, STUCK_FACTOR_MEDIAN, STUCK_FACTOR_SIGMA) } else { 1.0 }
                * HOUR as f64;
            first_response + delay_seconds(log_normal(rng, median, RESOLUTION_SIGMA)).max(5 * MINUTE)
        };
        Life { first_response, resolution, stuck: stuck && !first_contact, stale }
    }

    /// The resolution-time factor of [`RECENT_SLOWDOWN`] for a ticket created at `created`.
    fn slowdown(&self, created: i64) -> f64 {
        let age_days = (self.clock.now_s - created) as f64 / DAY as f64;
        1.0 + RECENT_SLOWDOWN * (1.0 - age_days / RECENT_SLOWDOWN_DAYS).max(0.0)
    }

    fn pick_agent(&self, rng: &mut DemoRng, team_idx: usize, category_idx: usize, lang: Lang) -> Option<AgentId> {
        let candidates = self.eligible_agents.get(team_idx)?.get(category_idx)?.get(lang as usize)?;
        let agent_idx = *candidates.get(rng.random_range(0..candidates.len().max(1)))?;
        self.agent_ids.get(agent_idx).cloned()
    }
}

/// How many times more often a specialist of a category gets its tickets than a generalist
/// (an agent with no listed skill, in practice the team's lead, who mostly coordinates).
const SPECIALIST_WEIGHT: usize = 4;

/// Agents of the team with the skills for the category and the language, specialists listed
/// [`SPECIALIST_WEIGHT`] times so that a uniform pick favours them; failing that, the team's
/// agents who speak the language; failing that, the whole team.
fn eligible_agents(team_idx: usize, category: &str, lang: Lang) -> Vec<usize> {
    let in_team = |spec: &AgentSpec| spec.teams.contains(&team_idx);
    let speaks = |spec: &AgentSpec| spec.languages.is_empty() || spec.languages.contains(&lang);
    let skilled = |spec: &AgentSpec| spec.categories.is_empty() || spec.categories.contains(&category);
    let select = |keep: &dyn Fn(&AgentSpec) -> bool| -> Vec<usize> {
        AGENTS.iter().enumerate().filter(|(_, spec)| keep(spec)).map(|(agent_idx, _)| agent_idx).collect()
    };
    let best: Vec<usize> = select(&|spec| in_team(spec) && speaks(spec) && skilled(spec))
        .into_iter()
        .flat_map(|agent_idx| {
            let specialist = AGENTS.get(agent_idx).is_some_and(|spec| !spec.categories.is_empty());
            std::iter::repeat_n(agent_idx, if specialist { SPECIALIST_WEIGHT } else { 1 })
        })
        .collect();
    if !best.is_empty() {
        return best;
    }
    let speaking = select(&|spec| in_team(spec) && speaks(spec));
    if !speaking.is_empty() {
        return speaking;
    }
    select(&in_team)
}

/// Which open status a ticket is in, given why it is still open.
fn open_status(rng: &mut DemoRng, life: &Life, category_idx: usize, in_spike: bool) -> Status {
    if life.stale {
        return Status::PendingCustomer;
    }
    let draw = rng.random::<f64>();
    if in_spike {
        // Waiting for engineering to fix the cause, or being answered.
        return if draw < 0.6 { Status::PendingInternal } else { Status::Open };
    }
    if life.stuck {
        let waits_on_others =
            matches!(CATEGORIES[category_idx].slug, "technician_visit" | "delivery" | "meter_reading" | "incident");
        return match (waits_on_others, draw) {
            (true, d) if d < 0.6 => Status::PendingThirdParty,
            (false, d) if d < 0.45 => Status::PendingInternal,
            (_, d) if d < 0.8 => Status::Open,
            _ => Status::PendingCustomer,
        };
    }
    match draw {
        d if d < 0.45 => Status::Open,
        d if d < 0.75 => Status::PendingCustomer,
        d if d < 0.85 => Status::PendingThirdParty,
        _ => Status::PendingInternal,
    }
}

fn category_index(slug: &str) -> usize {
    CATEGORIES.iter().position(|category| category.slug == slug).unwrap_or(0)
}

fn priority_index(priority: Priority) -> usize {
    Priority::ALL.iter().position(|&candidate| candidate == priority).unwrap_or(2)
}

// ------------------------------------------------------------------------------------------
// Text.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En = 0,
    Fr = 1,
}

impl Lang {
    fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The tag that carries the language on a ticket, for routing on agents' language skills.
    fn tag(self) -> &'static str {
        match self {
            Lang::En => "lang:en",
            Lang::Fr => "lang:fr",
        }
    }

    fn first_names(self) -> &'static [&'static str] {
        match self {
            Lang::En => ENGLISH_FIRST_NAMES,
            Lang::Fr => FRENCH_FIRST_NAMES,
        }
    }

    fn last_names(self) -> &'static [&'static str] {
        match self {
            Lang::En => ENGLISH_LAST_NAMES,
            Lang::Fr => FRENCH_LAST_NAMES,
        }
    }

    fn common(self) -> &'static CommonText {
        match self {
            Lang::En => &COMMON_EN,
            Lang::Fr => &COMMON_FR,
        }
    }
}

/// The values of one ticket's template slots (`{order}`, `{date}`...), drawn once so that a
/// slot used in the subject and the body says the same thing in both.
struct Slots {
    lang: Lang,
    order: u32,
    invoice: u32,
    amount_cents: u32,
    /// A day before the request (Unix days): "I called on {date}".
    past_day: i64,
    /// A day after it: "I need an answer before {due}".
    due_day: i64,
    product: &'static str,
    city: &'static str,
    count: u32,
    error_code: u32,
    account: usize,
    hour: u32,
    minute: u32,
    digits: [u32; 4],
    first: &'static str,
    last: &'static str,
}

impl Slots {
    fn draw(rng: &mut DemoRng, lang: Lang, created: i64, customer_idx: usize, profile: &CustomerProfile) -> Self {
        let today = local_day(created);
        Slots {
            lang,
            order: rng.random_range(1_000_000..9_999_999),
            invoice: rng.random_range(100_000..999_999),
            amount_cents: rng.random_range(900..90_000),
            past_day: today - rng.random_range(1..21),
            due_day: today + rng.random_range(3..15),
            product: pick(rng, PRODUCTS),
            city: pick(rng, CITIES),
            count: rng.random_range(2..12),
            error_code: rng.random_range(100..999),
            account: customer_idx,
            hour: rng.random_range(7..22),
            minute: rng.random_range(0..60),
            digits: [
                rng.random_range(0..100),
                rng.random_range(0..100),
                rng.random_range(0..100),
                rng.random_range(0..100),
            ],
            first: profile.contact_first,
            last: profile.contact_last,
        }
    }

    fn for_spike(mut self, spike: &SpikeInstance) -> Self {
        self.error_code = spike.error_code;
        self.city = spike.area;
        self.product = spike.product;
        self
    }

    fn write(&self, out: &mut String, slot: &str) {
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = match slot {
            "order" => write!(out, "ORD-{}", self.order),
            "inv" => write!(out, "INV-{}", self.invoice),
            "amount" => match self.lang {
                Lang::En => write!(out, "{}.{:02}", self.amount_cents / 100, self.amount_cents % 100),
                Lang::Fr => write!(out, "{},{:02}", self.amount_cents / 100, self.amount_cents % 100),
            },
            "date" => write_date(out, self.lang, self.past_day),
            "due" => write_date(out, self.lang, self.due_day),
            "product" => out.write_str(self.product),
            "city" => out.write_str(self.city),
            "n" => write!(out, "{}", self.count),
            "err" => write!(out, "E{}", self.error_code),
            "acct" => write!(out, "ACC-{:06}", self.account),
            "hh" => write!(out, "{:02}", self.hour),
            "mm" => write!(out, "{:02}", self.minute),
            "digits" => write!(out, "{:02}{:02}{:02}", self.digits[0], self.digits[1], self.digits[2]),
            "phone" => write!(
                out,
                "06 {:02} {:02} {:02} {:02}",
                self.digits[0], self.digits[1], self.digits[2], self.digits[3]
            ),
            "first" => out.write_str(self.first),
            "last" => out.write_str(self.last),
            other => write!(out, "{{{other}}}"),
        };
    }
}

fn write_date(out: &mut String, lang: Lang, unix_day: i64) -> std::fmt::Result {
    let (month, day) = month_day(unix_day);
    let month_name = lang.common().months.get(month as usize - 1).copied().unwrap_or("");
    match lang {
        Lang::En => write!(out, "{month_name} {day}"),
        Lang::Fr => write!(out, "{day} {month_name}"),
    }
}

/// Appends `template` with its `{slot}`s filled in.
fn expand(out: &mut String, template: &str, slots: &Slots) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                slots.write(out, &after[..close]);
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
}

fn regular_text(
    rng: &mut DemoRng,
    lang: Lang,
    category: &CategorySpec,
    slots: &Slots,
    priority_idx: usize,
    profile: &CustomerProfile,
) -> (String, String) {
    let text = &category.text[lang as usize];
    let common = lang.common();
    let mut subject = String::with_capacity(48);
    expand(&mut subject, pick(rng, text.subjects), slots);

    let mut body = String::with_capacity(360);
    expand(&mut body, pick(rng, common.greetings), slots);
    body.push_str("\n\n");
    expand(&mut body, pick(rng, text.openers), slots);
    body.push(' ');
    let first_detail = rng.random_range(0..text.details.len().max(1));
    expand(&mut body, text.details.get(first_detail).copied().unwrap_or(""), slots);
    if chance(rng, 0.5) && text.details.len() > 1 {
        let second_detail = (first_detail + rng.random_range(1..text.details.len())) % text.details.len();
        body.push(' ');
        expand(&mut body, text.details.get(second_detail).copied().unwrap_or(""), slots);
    }
    if chance(rng, 0.6) {
        body.push(' ');
        expand(&mut body, pick(rng, common.contexts), slots);
    }
    body.push_str("\n\n");
    expand(&mut body, pick(rng, text.requests), slots);
    // Urgent requests say so more often; low ones sometimes do too.
    if chance(rng, if priority_idx <= 1 { 0.6 } else { 0.15 }) {
        body.push(' ');
        expand(&mut body, pick(rng, common.urgencies), slots);
    }
    body.push_str("\n\n");
    body.push_str(pick(rng, common.closings));
    body.push('\n');
    body.push_str(slots.first);
    body.push(' ');
    body.push_str(slots.last);
    if chance(rng, 0.4) {
        body.push('\n');
        body.push_str(&profile.name);
    }
    (subject, body)
}

fn spike_text(rng: &mut DemoRng, lang: Lang, spike: &SpikeSpec, slots: &Slots) -> (String, String) {
    let (subject_template, body_template) = spike.text[lang as usize];
    let common = lang.common();
    // Near-identical subjects: the same words, with the variations people add.
    let mut subject = String::with_capacity(64);
    let variant = rng.random::<f64>();
    if variant < 0.15 {
        subject.push_str("URGENT - ");
    } else if variant < 0.2 {
        subject.push_str(common.reply_prefixes.first().copied().unwrap_or(""));
    }
    expand(&mut subject, subject_template, slots);
    if (0.9..0.97).contains(&variant) {
        subject.push_str(" !!");
    } else if variant >= 0.97 {
        subject.push('?');
    }

    let mut body = String::with_capacity(480);
    expand(&mut body, pick(rng, common.greetings), slots);
    body.push_str("\n\n");
    expand(&mut body, body_template, slots);
    body.push('\n');
    expand(&mut body, common.account_line, slots);
    body.push_str("\n\n");
    body.push_str(pick(rng, common.closings));
    body.push('\n');
    body.push_str(slots.first);
    body.push(' ');
    body.push_str(slots.last);
    (subject, body)
}

fn resend_text(rng: &mut DemoRng, lang: Lang, previous: &Ticket) -> (String, String) {
    let common = lang.common();
    let mut subject = String::with_capacity(previous.subject.len() + 16);
    subject.push_str(pick(rng, common.reply_prefixes));
    subject.push_str(&previous.subject);
    let mut body = String::with_capacity(previous.body.len() + 80);
    body.push_str(pick(rng, common.reminders));
    body.push_str("\n\n");
    // The previous message, quoted as mail clients do.
    for line in previous.body.lines() {
        body.push('>');
        if !line.is_empty() {
            body.push(' ');
            body.push_str(line);
        }
        body.push('\n');
    }
    body.truncate(body.trim_end().len());
    (subject, body)
}

// ------------------------------------------------------------------------------------------
// Time and randomness helpers.

/// `now`, and conversions between Unix seconds and timestamps that never go past it.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: Timestamp,
    now_s: i64,
}

impl Clock {
    fn new(now: Timestamp) -> Self {
        Clock { now, now_s: now.as_second() }
    }

    /// The instant `seconds` (Unix), at most `now`, with `now`'s sub-second part so that
    /// `at(now_s) == now`.
    fn at(&self, seconds: i64) -> Timestamp {
        let back = self.now_s.saturating_sub(seconds).max(0);
        // Subtracting a SignedDuration saturates instead of failing (only calendar spans can
        // fail); should that ever change, the earliest instant keeps the order of timestamps.
        self.now.saturating_sub(SignedDuration::from_secs(back)).unwrap_or(Timestamp::MIN)
    }
}

fn local_day(unix_seconds: i64) -> i64 {
    (unix_seconds + LOCAL_OFFSET).div_euclid(DAY)
}

/// Monday = 0. The Unix epoch, day 0, was a Thursday.
fn weekday(unix_day: i64) -> usize {
    (unix_day + 3).rem_euclid(7) as usize
}

fn local_hour(unix_seconds: i64) -> usize {
    ((unix_seconds + LOCAL_OFFSET).rem_euclid(DAY) / HOUR) as usize
}

fn in_business_hours(unix_seconds: i64) -> bool {
    let hour = local_hour(unix_seconds) as i64;
    weekday(local_day(unix_seconds)) < 5 && (OPENING_HOUR..CLOSING_HOUR).contains(&hour)
}

/// When a written request's clock starts: now if the desk is open, else at the next opening.
fn next_opening(unix_seconds: i64) -> i64 {
    if in_business_hours(unix_seconds) {
        return unix_seconds;
    }
    let mut day = local_day(unix_seconds);
    if weekday(day) >= 5 || local_hour(unix_seconds) as i64 >= CLOSING_HOUR {
        day += 1;
    }
    while weekday(day) >= 5 {
        day += 1;
    }
    day * DAY - LOCAL_OFFSET + OPENING_HOUR * HOUR
}

/// Month (1-12) and day of month of a Unix day, by Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html>): exact for the proleptic Gregorian
/// calendar, and cheaper than a time-zone conversion per ticket.
fn month_day(unix_day: i64) -> (u32, u32) {
    let shifted = unix_day + 719_468;
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    (month as u32, day as u32)
}

/// A delay in seconds from a drawn float, bounded so that adding it to a timestamp never
/// overflows.
fn delay_seconds(value: f64) -> i64 {
    (value as i64).clamp(0, LONGEST_DELAY)
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Directory,
    Arrivals,
    Tickets,
}

/// Independent random streams for the directory, the arrivals and the tickets: the directory
/// does not change with the number of tickets drawn after it.
fn stream_rng(seed: u64, stream: Stream) -> DemoRng {
    let salt: u64 = match stream {
        Stream::Directory => 0x5eed_0001,
        Stream::Arrivals => 0x5eed_0002,
        Stream::Tickets => 0x5eed_0003,
    };
    DemoRng::seed_from_u64(seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

fn chance(rng: &mut DemoRng, probability: f64) -> bool {
    rng.random::<f64>() < probability
}

fn pick<T: Copy + Default>(rng: &mut DemoRng, items: &[T]) -> T {
    items.get(rng.random_range(0..items.len().max(1))).copied().unwrap_or_default()
}

/// An index drawn with probability proportional to `adjust(idx, weights[idx])`.
fn pick_weighted(rng: &mut DemoRng, weights: &[f64], adjust: impl Fn(usize, f64) -> f64) -> usize {
    let total: f64 = weights.iter().enumerate().map(|(idx, &weight)| adjust(idx, weight)).sum();
    let mut remaining = rng.random::<f64>() * total;
    for (idx, &weight) in weights.iter().enumerate() {
        let weight = adjust(idx, weight);
        if remaining < weight {
            return idx;
        }
        remaining -= weight;
    }
    weights.len().saturating_sub(1)
}

/// An index drawn with probability proportional to the increments of `cumulative`.
fn pick_cumulative(rng: &mut DemoRng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let target = rng.random::<f64>() * total;
    cumulative.partition_point(|&value| value <= target).min(cumulative.len().saturating_sub(1))
}

/// A standard normal variate, by the Box-Muller transform.
fn standard_normal(rng: &mut DemoRng) -> f64 {
    let uniform = 1.0 - rng.random::<f64>(); // in (0, 1]: its logarithm is finite
    let angle = rng.random::<f64>() * std::f64::consts::TAU;
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// A log-normal variate with the given median and σ of its logarithm.
fn log_normal(rng: &mut DemoRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * standard_normal(rng)).exp()
}

fn exponential(rng: &mut DemoRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

fn shuffle<T>(rng: &mut DemoRng, items: &mut [T]) {
    for idx in (1..items.len()).rev() {
        let other = rng.random_range(0..=idx);
        items.swap(idx, other);
    }
}

/// For ids built here from ASCII letters, digits, `.`, `-` and `_`, which `vigie_core::ids`
/// accepts by construction: a failure would be a bug in this module, caught by its tests.
fn known_id<T>(parsed: Result<T, IdError>) -> T {
    parsed.expect("demo ids are built from characters the id rules accept")
}

fn team_id(team_idx: usize) -> TeamId {
    known_id(TeamId::parse(TEAMS.get(team_idx).map_or("front_office", |(id, _)| *id)))
}

fn customer_id(customer_idx: usize) -> CustomerId {
    known_id(CustomerId::parse(format!("cust-{customer_idx:04}")))
}

// ------------------------------------------------------------------------------------------
// Categories, spikes and their texts.

struct CategorySpec {
    slug: &'static str,
    /// The team that owns it by default (see [`TicketWriter::route`] for the exceptions).
    team: usize,
    /// P1..P4 shares.
    priority_mix: [f64; 4],
    /// Median hours from first response to resolution, at P3.
    resolution_median_hours: f64,
    /// Share of cases that get stuck (see [`STUCK_FACTOR_MEDIAN`]).
    stuck_share: f64,
    legal_risk_share: f64,
    blocking_share: f64,
    /// Tags added independently with these probabilities.
    tags: &'static [(&'static str, f64)],
    text: [CategoryText; 2],
}

struct CategoryText {
    subjects: &'static [&'static str],
    openers: &'static [&'static str],
    details: &'static [&'static str],
    requests: &'static [&'static str],
}

struct CommonText {
    greetings: &'static [&'static str],
    contexts: &'static [&'static str],
    urgencies: &'static [&'static str],
    closings: &'static [&'static str],
    reminders: &'static [&'static str],
    reply_prefixes: &'static [&'static str],
    account_line: &'static str,
    months: [&'static str; 12],
}

/// Category mix by channel (rows in the order of [`CHANNELS`], columns in the order of
/// [`CATEGORIES`]): chat is mostly account and billing questions, the phone gets incidents,
/// social media gets complaints, forms get administrative changes.
const CATEGORY_BY_CHANNEL: [[f64; 9]; 5] = [
    // billing complaint incident admin account delivery meter technician gdpr
    [0.22, 0.12, 0.10, 0.18, 0.10, 0.14, 0.07, 0.05, 0.02], // email
    [0.18, 0.08, 0.12, 0.20, 0.12, 0.12, 0.10, 0.07, 0.01], // web
    [0.18, 0.14, 0.24, 0.05, 0.14, 0.12, 0.04, 0.09, 0.00], // phone
    [0.20, 0.06, 0.18, 0.08, 0.26, 0.14, 0.04, 0.04, 0.00], // chat
    [0.08, 0.40, 0.24, 0.02, 0.06, 0.16, 0.01, 0.03, 0.00], // social
];

/// The request types: the six of FORMATS.md's example, plus three field-service ones in the
/// style of a 311 service (meter readings, technician visits) and data-protection requests,
/// which carry a legal deadline.
///
/// Resolution medians: minutes for a password, hours for an incident, days for billing and
/// back-office changes, a week or more for field work and legal requests. Stuck shares: field
/// work waits on contractors, complaints and legal requests on other departments.
/// Legal risk is mostly complaints (~1 % of all tickets); blocking is mostly incidents (~3 %).
const CATEGORIES: [CategorySpec; 9] = [
    CategorySpec {
        slug: "billing",
        team: BILLING_OPS,
        priority_mix: [0.005, 0.10, 0.55, 0.345],
        resolution_median_hours: 45.0,
        stuck_share: 0.10,
        legal_risk_share: 0.003,
        blocking_share: 0.003,
        tags: &[("refund", 0.2)],
        text: [
            CategoryText {
                subjects: &[
                    "Invoice {inv} incorrect",
                    "Wrong amount on our bill",
                    "Double charge on {date}",
                    "Question about invoice {inv}",
                    "Refund request {amount} EUR",
                    "Charged twice for {product}",
                    "Billing error on account {acct}",
                ],
                openers: &[
                    "We have a problem with our latest invoice.",
                    "We were charged twice this month.",
                    "There is an error on our bill.",
                    "I do not understand the amount we were charged.",
                ],
                details: &[
                    "Invoice {inv} shows {amount} EUR instead of the usual amount.",
                    "The amount of {amount} EUR was debited on {date} for our {product}.",
                    "Our account {acct} was charged {amount} EUR twice.",
                    "We cancelled the {product} option but it is still billed.",
                    "The discount promised by your colleague is not applied on {inv}.",
                    "We paid {amount} EUR on {date} but the invoice still says unpaid.",
                ],
                requests: &[
                    "Could you please refund the difference?",
                    "Please send us a corrected invoice.",
                    "Can you explain this charge?",
                    "Please cancel the second payment.",
                ],
            },
            CategoryText {
                subjects: &[
                    "Facture {inv} erronée",
                    "Montant incorrect sur notre facture",
                    "Double prélèvement le {date}",
                    "Question sur la facture {inv}",
                    "Demande de remboursement {amount} EUR",
                    "Prélevé deux fois pour {product}",
                    "Erreur de facturation sur le compte {acct}",
                ],
                openers: &[
                    "Nous avons un problème avec notre dernière facture.",
                    "Nous avons été prélevés deux fois ce mois-ci.",
                    "Il y a une erreur sur notre facture.",
                    "Je ne comprends pas le montant prélevé.",
                ],
                details: &[
                    "La facture {inv} indique {amount} EUR au lieu du montant habituel.",
                    "Le montant de {amount} EUR a été prélevé le {date} pour notre {product}.",
                    "Notre compte {acct} a été débité deux fois de {amount} EUR.",
                    "Nous avons résilié l'option {product} mais elle est toujours facturée.",
                    "La remise promise par votre collègue n'apparaît pas sur {inv}.",
                    "Nous avons payé {amount} EUR le {date} mais la facture est toujours impayée.",
                ],
                requests: &[
                    "Pouvez-vous nous rembourser la différence ?",
                    "Merci de nous envoyer une facture corrigée.",
                    "Pouvez-vous m'expliquer ce montant ?",
                    "Merci d'annuler le second prélèvement.",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "complaint",
        team: BACK_OFFICE,
        priority_mix: [0.01, 0.20, 0.57, 0.22],
        resolution_median_hours: 90.0,
        stuck_share: 0.18,
        legal_risk_share: 0.06,
        blocking_share: 0.003,
        tags: &[("escalated", 0.08), ("refund", 0.1)],
        text: [
            CategoryText {
                subjects: &[
                    "Very disappointed",
                    "Complaint about your service",
                    "Formal complaint - order {order}",
                    "Still no solution!!",
                    "Poor service in {city}",
                    "I want to speak to a manager",
                    "Complaint regarding {product}",
                ],
                openers: &[
                    "I am writing to complain about your service.",
                    "We are very unhappy with how our case was handled.",
                    "This is a formal complaint.",
                    "Your technician did not show up.",
                    "Nobody answers the phone at your hotline.",
                ],
                details: &[
                    "We waited {n} days for an answer about order {order}.",
                    "The agent I spoke to on {date} hung up on me.",
                    "I was promised a call back on {date} and nothing happened.",
                    "Your shop in {city} refused to help me.",
                    "We have been without service for {n} days now.",
                    "I was told three different things by three different people.",
                ],
                requests: &[
                    "I expect a compensation.",
                    "I want this to be escalated.",
                    "I would like an apology and a solution.",
                    "Please close our account if nothing changes.",
                ],
            },
            CategoryText {
                subjects: &[
                    "Très déçu",
                    "Réclamation sur votre service",
                    "Réclamation formelle - commande {order}",
                    "Toujours pas de solution !!",
                    "Mauvais service à {city}",
                    "Je veux parler à un responsable",
                    "Réclamation concernant {product}",
                ],
                openers: &[
                    "Je vous écris pour me plaindre de votre service.",
                    "Nous sommes très mécontents du traitement de notre dossier.",
                    "Ceci est une réclamation formelle.",
                    "Votre technicien n'est pas venu.",
                    "Personne ne répond à votre hotline.",
                ],
                details: &[
                    "Nous avons attendu {n} jours une réponse concernant la commande {order}.",
                    "Le conseiller du {date} m'a raccroché au nez.",
                    "On m'avait promis un rappel le {date} et rien.",
                    "Votre boutique de {city} a refusé de m'aider.",
                    "Nous sommes sans service depuis {n} jours.",
                    "Trois interlocuteurs m'ont dit trois choses différentes.",
                ],
                requests: &[
                    "J'attends un geste commercial.",
                    "Je souhaite que notre dossier soit escaladé.",
                    "J'attends des excuses et une solution.",
                    "Fermez notre compte si rien ne change.",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "incident",
        team: FRONT_OFFICE,
        priority_mix: [0.06, 0.26, 0.50, 0.18],
        resolution_median_hours: 16.0,
        stuck_share: 0.06,
        legal_risk_share: 0.001,
        blocking_share: 0.14,
        tags: &[("outage", 0.1)],
        text: [
            CategoryText {
                subjects: &[
                    "Service down",
                    "Error {err} on the portal",
                    "Cannot connect since {date}",
                    "{product} not working",
                    "Outage in {city}?",
                    "App crashes at login",
                    "Problem with {product} - error {err}",
                ],
                openers: &[
                    "Our service is not working.",
                    "I cannot log in to our account.",
                    "The app keeps crashing.",
                    "There is no connection since this morning.",
                    "Our {product} stopped working.",
                ],
                details: &[
                    "I get error {err} every time I try.",
                    "It started on {date} around {hh}:{mm}.",
                    "I restarted the {product} {n} times without success.",
                    "The light on the box is blinking red.",
                    "Our neighbours in {city} have the same problem.",
                    "The connection drops every {n} minutes.",
                ],
                requests: &[
                    "Can you check if there is an outage?",
                    "Please fix this quickly, we cannot work.",
                    "Can you send a technician?",
                    "When will it be fixed?",
                ],
            },
            CategoryText {
                subjects: &[
                    "Service en panne",
                    "Erreur {err} sur le portail",
                    "Impossible de se connecter depuis le {date}",
                    "{product} ne fonctionne pas",
                    "Panne à {city} ?",
                    "L'appli plante à la connexion",
                    "Problème avec {product} - erreur {err}",
                ],
                openers: &[
                    "Notre service ne fonctionne pas.",
                    "Je n'arrive pas à me connecter à notre compte.",
                    "L'application plante sans arrêt.",
                    "Pas de connexion depuis ce matin.",
                    "Notre {product} ne marche plus.",
                ],
                details: &[
                    "J'ai l'erreur {err} à chaque essai.",
                    "Cela a commencé le {date} vers {hh}h{mm}.",
                    "J'ai redémarré le {product} {n} fois sans succès.",
                    "Le voyant de la box clignote en rouge.",
                    "Nos voisins à {city} ont le même problème.",
                    "La connexion coupe toutes les {n} minutes.",
                ],
                requests: &[
                    "Pouvez-vous vérifier s'il y a une panne ?",
                    "Merci de réparer vite, nous ne pouvons pas travailler.",
                    "Pouvez-vous envoyer un technicien ?",
                    "Quand sera-ce réparé ?",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "admin_update",
        team: BACK_OFFICE,
        priority_mix: [0.002, 0.05, 0.45, 0.498],
        resolution_median_hours: 100.0,
        stuck_share: 0.15,
        legal_risk_share: 0.001,
        blocking_share: 0.002,
        tags: &[],
        text: [
            CategoryText {
                subjects: &[
                    "Change of address",
                    "Update our bank details",
                    "New contact person for {acct}",
                    "Update billing address",
                    "Moving to {city}",
                    "Change of legal entity",
                    "Update email address",
                ],
                openers: &[
                    "We would like to update our details.",
                    "We are moving.",
                    "Please change the contact on our file.",
                    "Our bank details have changed.",
                    "Our company changed its registered address.",
                ],
                details: &[
                    "The new address is {n} rue de la Gare, {city}.",
                    "The new IBAN ends with {digits}.",
                    "The new contact is {first} {last}.",
                    "The change applies from {due}.",
                    "Please also update the account {acct}.",
                    "The form you sent on {date} is attached.",
                ],
                requests: &[
                    "Can you confirm once it is done?",
                    "Please send me the updated contract.",
                    "Do you need any document?",
                    "Please make sure the next invoice uses the new details.",
                ],
            },
            CategoryText {
                subjects: &[
                    "Changement d'adresse",
                    "Mise à jour de nos coordonnées bancaires",
                    "Nouveau contact pour {acct}",
                    "Modifier l'adresse de facturation",
                    "Déménagement à {city}",
                    "Changement de raison sociale",
                    "Modifier notre adresse e-mail",
                ],
                openers: &[
                    "Nous souhaitons mettre à jour nos coordonnées.",
                    "Nous déménageons.",
                    "Merci de changer le contact sur notre dossier.",
                    "Nos coordonnées bancaires ont changé.",
                    "Notre société a changé de siège social.",
                ],
                details: &[
                    "La nouvelle adresse est {n} rue de la Gare, {city}.",
                    "Le nouvel IBAN se termine par {digits}.",
                    "Le nouveau contact est {first} {last}.",
                    "Le changement s'applique à partir du {due}.",
                    "Merci de mettre à jour aussi le compte {acct}.",
                    "Le formulaire envoyé le {date} est en pièce jointe.",
                ],
                requests: &[
                    "Pouvez-vous me confirmer une fois fait ?",
                    "Merci de m'envoyer le contrat mis à jour.",
                    "Avez-vous besoin d'un justificatif ?",
                    "Merci de vérifier que la prochaine facture utilise les nouvelles coordonnées.",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "account",
        team: FRONT_OFFICE,
        priority_mix: [0.02, 0.15, 0.55, 0.28],
        resolution_median_hours: 8.0,
        stuck_share: 0.04,
        legal_risk_share: 0.001,
        blocking_share: 0.02,
        tags: &[],
        text: [
            CategoryText {
                subjects: &[
                    "Password reset",
                    "Locked out of our account",
                    "Cannot access {acct}",
                    "Two-factor code not received",
                    "Close our account",
                    "Add a user to {acct}",
                    "Login problem",
                ],
                openers: &[
                    "I cannot access our account.",
                    "I forgot my password.",
                    "Our account is locked.",
                    "I do not receive the verification code.",
                    "I need to add a colleague to our account.",
                ],
                details: &[
                    "The reset link in the e-mail has expired.",
                    "My login is {first}.{last}@example.com.",
                    "The SMS code never arrives on my phone.",
                    "The account number is {acct}.",
                    "I tried {n} times and now it says blocked.",
                    "It worked fine until {date}.",
                ],
                requests: &[
                    "Can you unlock it?",
                    "Please send me a new link.",
                    "Can you reset my access?",
                    "How do I do this?",
                ],
            },
            CategoryText {
                subjects: &[
                    "Réinitialisation du mot de passe",
                    "Compte bloqué",
                    "Impossible d'accéder à {acct}",
                    "Code de vérification non reçu",
                    "Fermer notre compte",
                    "Ajouter un utilisateur à {acct}",
                    "Problème de connexion",
                ],
                openers: &[
                    "Je n'arrive pas à accéder à notre compte.",
                    "J'ai oublié mon mot de passe.",
                    "Notre compte est bloqué.",
                    "Je ne reçois pas le code de vérification.",
                    "Je dois ajouter un collègue à notre compte.",
                ],
                details: &[
                    "Le lien de réinitialisation a expiré.",
                    "Mon identifiant est {first}.{last}@example.com.",
                    "Le code SMS n'arrive jamais sur mon téléphone.",
                    "Le numéro de compte est {acct}.",
                    "J'ai essayé {n} fois et maintenant c'est bloqué.",
                    "Cela marchait jusqu'au {date}.",
                ],
                requests: &[
                    "Pouvez-vous le débloquer ?",
                    "Merci de m'envoyer un nouveau lien.",
                    "Pouvez-vous réinitialiser mon accès ?",
                    "Comment faire ?",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "delivery",
        team: BACK_OFFICE,
        priority_mix: [0.008, 0.14, 0.60, 0.252],
        resolution_median_hours: 72.0,
        stuck_share: 0.12,
        legal_risk_share: 0.001,
        blocking_share: 0.003,
        tags: &[("refund", 0.12)],
        text: [
            CategoryText {
                subjects: &[
                    "Where is order {order}?",
                    "Parcel not delivered",
                    "Damaged package",
                    "Delivery delay {order}",
                    "Wrong item received",
                    "Return request {order}",
                    "Missing item in {order}",
                ],
                openers: &[
                    "We have not received our order.",
                    "Our parcel arrived damaged.",
                    "The delivery is late.",
                    "We received the wrong item.",
                    "The tracking has not moved for days.",
                ],
                details: &[
                    "Order {order} was supposed to arrive on {date}.",
                    "The box of our {product} was crushed.",
                    "The carrier says delivered but nothing arrived in {city}.",
                    "We ordered a {product} and got something else.",
                    "It has been {n} days since the shipping e-mail.",
                    "Only {n} of the items of order {order} were in the box.",
                ],
                requests: &[
                    "Can you tell me where it is?",
                    "Please send a replacement.",
                    "Please send me a return label.",
                    "Can you contact the carrier?",
                ],
            },
            CategoryText {
                subjects: &[
                    "Où est la commande {order} ?",
                    "Colis non livré",
                    "Colis endommagé",
                    "Retard de livraison {order}",
                    "Mauvais article reçu",
                    "Demande de retour {order}",
                    "Article manquant dans {order}",
                ],
                openers: &[
                    "Nous n'avons pas reçu notre commande.",
                    "Notre colis est arrivé abîmé.",
                    "La livraison est en retard.",
                    "Nous avons reçu le mauvais article.",
                    "Le suivi ne bouge plus depuis des jours.",
                ],
                details: &[
                    "La commande {order} devait arriver le {date}.",
                    "Le carton de notre {product} était écrasé.",
                    "Le transporteur indique livré mais rien n'est arrivé à {city}.",
                    "Nous avons commandé un {product} et reçu autre chose.",
                    "Cela fait {n} jours depuis l'e-mail d'expédition.",
                    "Seulement {n} articles de la commande {order} étaient dans le carton.",
                ],
                requests: &[
                    "Pouvez-vous me dire où il est ?",
                    "Merci d'envoyer un remplacement.",
                    "Merci de m'envoyer une étiquette de retour.",
                    "Pouvez-vous contacter le transporteur ?",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "meter_reading",
        team: BACK_OFFICE,
        priority_mix: [0.0, 0.04, 0.50, 0.46],
        resolution_median_hours: 140.0,
        stuck_share: 0.18,
        legal_risk_share: 0.001,
        blocking_share: 0.001,
        tags: &[],
        text: [
            CategoryText {
                subjects: &[
                    "Meter reading for {acct}",
                    "Estimated reading is wrong",
                    "Meter reading of {date}",
                    "Consumption too high on last bill",
                    "Smart meter not sending readings",
                    "Index correction request",
                ],
                openers: &[
                    "Please find our meter reading below.",
                    "The estimated reading on our bill is far too high.",
                    "Our smart meter seems to have stopped sending data.",
                    "I think our meter was read wrongly.",
                ],
                details: &[
                    "The index on {date} was {digits} kWh.",
                    "The bill for {acct} uses an estimate of {digits} kWh.",
                    "Our consumption did not change but the bill went up by {amount} EUR.",
                    "The display of the meter shows error {err}.",
                    "Nobody came for the reading announced on {date}.",
                    "The meter is in the basement of our site in {city}.",
                ],
                requests: &[
                    "Please correct the reading and the invoice.",
                    "Can you send someone to check the meter?",
                    "Please confirm the new index.",
                    "Can you explain how the estimate was calculated?",
                ],
            },
            CategoryText {
                subjects: &[
                    "Relevé de compteur pour {acct}",
                    "Relevé estimé erroné",
                    "Relevé du {date}",
                    "Consommation trop élevée sur la dernière facture",
                    "Le compteur communicant n'envoie plus de relevés",
                    "Demande de correction d'index",
                ],
                openers: &[
                    "Veuillez trouver ci-dessous notre relevé de compteur.",
                    "Le relevé estimé sur notre facture est beaucoup trop élevé.",
                    "Notre compteur communicant semble ne plus transmettre.",
                    "Je pense que notre compteur a été mal relevé.",
                ],
                details: &[
                    "L'index au {date} était de {digits} kWh.",
                    "La facture de {acct} utilise une estimation de {digits} kWh.",
                    "Notre consommation n'a pas changé mais la facture a augmenté de {amount} EUR.",
                    "L'écran du compteur affiche l'erreur {err}.",
                    "Personne n'est venu pour le relevé annoncé le {date}.",
                    "Le compteur est au sous-sol de notre site de {city}.",
                ],
                requests: &[
                    "Merci de corriger le relevé et la facture.",
                    "Pouvez-vous envoyer quelqu'un vérifier le compteur ?",
                    "Merci de confirmer le nouvel index.",
                    "Pouvez-vous expliquer le calcul de l'estimation ?",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "technician_visit",
        team: BACK_OFFICE,
        priority_mix: [0.02, 0.18, 0.60, 0.20],
        resolution_median_hours: 240.0,
        stuck_share: 0.30,
        legal_risk_share: 0.002,
        blocking_share: 0.05,
        tags: &[],
        text: [
            CategoryText {
                subjects: &[
                    "Technician appointment for {acct}",
                    "Technician did not come on {date}",
                    "Reschedule our appointment",
                    "Installation of {product}",
                    "Need an engineer on site in {city}",
                    "Repair visit request",
                ],
                openers: &[
                    "We need a technician to come on site.",
                    "The technician did not show up for our appointment.",
                    "I would like to reschedule the visit.",
                    "Our {product} needs to be installed.",
                ],
                details: &[
                    "The appointment was on {date}, morning slot.",
                    "The site is at {n} avenue de la République, {city}.",
                    "Access to the building needs a badge, please call {phone} before coming.",
                    "Your contractor already came {n} times without fixing it.",
                    "The installation has been pending since {date}.",
                    "The work order reference is WO-{digits}.",
                ],
                requests: &[
                    "Please give us a new date quickly.",
                    "Can you confirm the appointment by e-mail?",
                    "Please send a technician this week.",
                    "Who is the contractor in charge?",
                ],
            },
            CategoryText {
                subjects: &[
                    "Rendez-vous technicien pour {acct}",
                    "Le technicien n'est pas venu le {date}",
                    "Décaler notre rendez-vous",
                    "Installation de {product}",
                    "Besoin d'un technicien sur site à {city}",
                    "Demande d'intervention",
                ],
                openers: &[
                    "Nous avons besoin d'un technicien sur site.",
                    "Le technicien n'est pas venu au rendez-vous.",
                    "Je souhaite décaler l'intervention.",
                    "Notre {product} doit être installé.",
                ],
                details: &[
                    "Le rendez-vous était le {date}, créneau du matin.",
                    "Le site est au {n} avenue de la République, {city}.",
                    "L'accès au bâtiment nécessite un badge, merci d'appeler le {phone} avant de venir.",
                    "Votre sous-traitant est déjà venu {n} fois sans réparer.",
                    "L'installation est en attente depuis le {date}.",
                    "La référence de l'ordre de travail est WO-{digits}.",
                ],
                requests: &[
                    "Merci de nous proposer vite une nouvelle date.",
                    "Pouvez-vous confirmer le rendez-vous par e-mail ?",
                    "Merci d'envoyer un technicien cette semaine.",
                    "Quel sous-traitant est en charge ?",
                ],
            },
        ],
    },
    CategorySpec {
        slug: "gdpr_request",
        team: BACK_OFFICE,
        priority_mix: [0.0, 0.30, 0.60, 0.10],
        resolution_median_hours: 300.0,
        stuck_share: 0.15,
        legal_risk_share: 0.15,
        blocking_share: 0.0,
        tags: &[],
        text: [
            CategoryText {
                subjects: &[
                    "GDPR data access request",
                    "Delete my personal data",
                    "Right to erasure",
                    "Copy of my data",
                ],
                openers: &[
                    "Under the GDPR I request access to my personal data.",
                    "I want all my personal data deleted.",
                    "Please stop using my data for marketing.",
                ],
                details: &[
                    "My customer number is {acct}.",
                    "I have not been a customer since {date}.",
                    "Please include the call recordings.",
                    "This also concerns my former address in {city}.",
                ],
                requests: &[
                    "Please confirm within the legal deadline.",
                    "Send the file to my e-mail address.",
                    "Confirm the deletion in writing.",
                ],
            },
            CategoryText {
                subjects: &[
                    "Demande d'accès RGPD",
                    "Supprimer mes données personnelles",
                    "Droit à l'effacement",
                    "Copie de mes données",
                ],
                openers: &[
                    "Conformément au RGPD je demande l'accès à mes données.",
                    "Je veux que toutes mes données soient supprimées.",
                    "Merci de ne plus utiliser mes données pour la prospection.",
                ],
                details: &[
                    "Mon numéro client est {acct}.",
                    "Je ne suis plus client depuis le {date}.",
                    "Merci d'inclure les enregistrements d'appels.",
                    "Cela concerne aussi mon ancienne adresse à {city}.",
                ],
                requests: &[
                    "Merci de confirmer dans le délai légal.",
                    "Envoyez le fichier à mon adresse e-mail.",
                    "Confirmez la suppression par écrit.",
                ],
            },
        ],
    },
];

struct SpikeSpec {
    category: usize,
    /// How many local days before `now` it started (in the morning).
    days_ago: i64,
    /// Size relative to [`spike_base_size`].
    size_factor: f64,
    /// Hours after its start when the cause was fixed; `None`: still going on at `now`.
    fixed_after_hours: Option<f64>,
    priority_mix: [f64; 4],
    blocking_share: f64,
    tags: &'static [&'static str],
    /// (subject, body) in English, then French; `{err}`, `{city}` and `{product}` are fixed for
    /// the whole spike.
    text: [(&'static str, &'static str); 2],
}

/// Three spikes, one per story the dashboard tells: an outage that started yesterday and is
/// still open (the cluster to handle as a batch, the probable root cause), a double-charge bug
/// three weeks ago fixed by a refund batch three days later, and a portal bug two months ago
/// fixed overnight.
const SPIKES: [SpikeSpec; 3] = [
    SpikeSpec {
        category: 2,
        days_ago: 1,
        size_factor: 1.0,
        fixed_after_hours: None,
        priority_mix: [0.25, 0.6, 0.15, 0.0],
        blocking_share: 0.4,
        tags: &["outage"],
        text: [
            (
                "No internet since the maintenance in {city}",
                "Since the maintenance announced last night in {city} we have no internet at all. The box shows a red light and the diagnostic page says \"{err}\". We already unplugged everything for five minutes. Our whole office is stuck. When will the service be restored?",
            ),
            (
                "Plus d'internet depuis la maintenance à {city}",
                "Depuis la maintenance annoncée cette nuit à {city} nous n'avons plus du tout internet. La box affiche un voyant rouge et la page de diagnostic indique \"{err}\". Nous avons déjà tout débranché cinq minutes. Tout le bureau est bloqué. Quand le service sera-t-il rétabli ?",
            ),
        ],
    },
    SpikeSpec {
        category: 0,
        days_ago: 20,
        size_factor: 0.75,
        fixed_after_hours: Some(72.0),
        priority_mix: [0.0, 0.3, 0.7, 0.0],
        blocking_share: 0.0,
        tags: &["refund", "duplicate_charge"],
        text: [
            (
                "Charged twice this month ({product})",
                "I just noticed that our monthly subscription for {product} was debited twice from our bank account this month, on the same day and for the same amount. We did not change anything in our contract. Please refund the duplicate payment as soon as possible and confirm that it will not happen again.",
            ),
            (
                "Prélevé deux fois ce mois-ci ({product})",
                "Je viens de voir que notre abonnement mensuel {product} a été prélevé deux fois sur notre compte bancaire ce mois-ci, le même jour et pour le même montant. Nous n'avons rien changé à notre contrat. Merci de rembourser le prélèvement en double au plus vite et de me confirmer que cela ne se reproduira pas.",
            ),
        ],
    },
    SpikeSpec {
        category: 2,
        days_ago: 62,
        size_factor: 0.5,
        fixed_after_hours: Some(18.0),
        priority_mix: [0.0, 0.25, 0.6, 0.15],
        blocking_share: 0.05,
        tags: &["portal"],
        text: [
            (
                "Cannot download invoice PDF - error {err}",
                "Since this morning I cannot download our invoice from the customer portal. When I click on the PDF link the page shows error {err} and nothing is downloaded. I tried two different browsers and cleared the cache, same result. We need the document for our accounting this week.",
            ),
            (
                "Impossible de télécharger la facture PDF - erreur {err}",
                "Depuis ce matin je ne peux plus télécharger notre facture sur l'espace client. Quand je clique sur le lien PDF la page affiche l'erreur {err} et rien ne se télécharge. J'ai essayé deux navigateurs et vidé le cache, même résultat. Nous en avons besoin pour notre comptabilité cette semaine.",
            ),
        ],
    },
];

const COMMON_EN: CommonText = CommonText {
    greetings: &["Hello,", "Hi,", "Hello team,", "Dear support team,", "Dear Sir or Madam,", "Dear all,"],
    contexts: &[
        "We have been customers for {n} years and this never happened before.",
        "I already called on {date} but nobody got back to me.",
        "This is the third time I write about this.",
        "My colleague in {city} has the same issue.",
        "I attached a screenshot.",
        "You can reach me at {phone}.",
    ],
    urgencies: &[
        "This is urgent.",
        "Please treat this as a priority.",
        "I need an answer before {due}.",
        "Otherwise we will have to cancel our contract.",
    ],
    closings: &["Thanks in advance,", "Best regards,", "Kind regards,", "Thank you,", "Regards,", "Many thanks,"],
    reminders: &[
        "Any update on this?",
        "I am still waiting for an answer, see my message below.",
        "Sending this again as I got no reply.",
        "Following up on my previous message.",
    ],
    reply_prefixes: &["RE: ", "Re: ", "Fwd: ", "Follow-up: "],
    account_line: "Account {acct}.",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const COMMON_FR: CommonText = CommonText {
    greetings: &[
        "Bonjour,",
        "Madame, Monsieur,",
        "Bonjour à tous,",
        "Bonjour l'équipe,",
        "Cher service client,",
        "Bonjour Madame, bonjour Monsieur,",
    ],
    contexts: &[
        "Nous sommes clients depuis {n} ans et c'est la première fois que cela arrive.",
        "J'ai déjà appelé le {date} mais personne ne m'a rappelé.",
        "C'est la troisième fois que je vous écris à ce sujet.",
        "Mon collègue à {city} a le même problème.",
        "Je joins une capture d'écran.",
        "Vous pouvez me joindre au {phone}.",
    ],
    urgencies: &[
        "C'est urgent.",
        "Merci de traiter notre demande en priorité.",
        "J'ai besoin d'une réponse avant le {due}.",
        "Sinon nous devrons résilier notre contrat.",
    ],
    closings: &["Merci d'avance,", "Cordialement,", "Bien cordialement,", "Merci,", "Bonne journée,", "Bien à vous,"],
    reminders: &[
        "Avez-vous du nouveau ?",
        "Je n'ai toujours pas de réponse, voir mon message ci-dessous.",
        "Je renvoie ce message faute de réponse.",
        "Je me permets de vous relancer.",
    ],
    reply_prefixes: &["RE: ", "TR: ", "Relance : ", "Re : "],
    account_line: "Compte {acct}.",
    months: [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
};

const FRENCH_FIRST_NAMES: &[&str] = &[
    "Marie", "Jean", "Sophie", "Pierre", "Camille", "Nicolas", "Julie", "Thomas", "Claire", "Antoine", "Emma", "Lucas",
    "Chloé", "Hugo", "Léa", "Louis", "Manon", "Paul", "Sarah", "Julien", "Nadia", "Karim", "Inès", "Yanis", "Fatima",
    "Omar", "Amélie", "Baptiste", "Margaux", "Quentin", "Pauline", "Victor", "Alice", "Arthur", "Zoé", "Mathilde",
];

const FRENCH_LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Chevalier",
    "Mercier",
    "Boyer",
    "Faure",
    "André",
];

const ENGLISH_FIRST_NAMES: &[&str] = &[
    "John", "Emily", "Michael", "David", "Laura", "James", "Olivia", "Daniel", "Anna", "Robert", "Linda", "Mark",
    "Karen", "Peter", "Helen", "Giulia", "Marco", "Elena", "Pablo", "Lucia", "Jan", "Eva", "Tom", "Rachel", "Simon",
    "Grace", "Oliver", "Hannah", "George", "Priya", "Samuel", "Chloe",
];

const ENGLISH_LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark", "Lewis",
    "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy",
    "Cook", "Morgan", "Bell", "Patel",
];

const COMPANY_PREFIXES: &[&str] = &[
    "Atlantic",
    "Northwind",
    "Blue Harbor",
    "Alpine",
    "Silverline",
    "Greenfield",
    "Riverside",
    "Summit",
    "Horizon",
    "Oakridge",
    "Bellevue",
    "Cascade",
    "Granite",
    "Meridian",
    "Lumière",
    "Provence",
    "Bretagne",
    "Val de Loire",
    "Saint-Clair",
    "Mont-Blanc",
    "Redwood",
    "Pinecrest",
    "Bayside",
    "Clearwater",
    "Eastgate",
    "Westbrook",
    "Highland",
    "Sunrise",
    "Orion",
    "Vega",
];

const COMPANY_TRADES: &[&str] = &[
    "Logistics",
    "Energy",
    "Insurance",
    "Foods",
    "Pharma",
    "Consulting",
    "Construction",
    "Textiles",
    "Telecom",
    "Software",
    "Retail",
    "Hotels",
    "Transport",
    "Dental Care",
    "Bakeries",
    "Motors",
    "Printing",
    "Labs",
    "Furniture",
    "Optics",
    "Real Estate",
    "Media",
    "Farms",
    "Engineering",
    "Cleaning Services",
];

const COMPANY_SUFFIXES: &[&str] =
    &["SA", "SAS", "SARL", "Ltd", "Inc.", "GmbH", "& Co", "Group", "", "", "Holding", "Partners"];

const SHOP_KINDS: &[&str] = &[
    "Boulangerie",
    "Pharmacie",
    "Garage",
    "Cabinet",
    "Atelier",
    "Librairie",
    "Clinique",
    "Hôtel",
    "Restaurant",
    "Cave",
];

const PRODUCTS: &[&str] = &[
    "Fibre Pro 500",
    "Box Connect",
    "Mobile Plus 80GB",
    "Cloud Backup 2TB",
    "Smart Meter S2",
    "Premium Care",
    "Office Suite",
    "Business Line",
    "Pro Router X3",
    "Solar Kit 6kW",
    "Heat Pump HX",
    "Fleet Tracker",
];

const CITIES: &[&str] = &[
    "Paris",
    "Lyon",
    "Marseille",
    "Lille",
    "Nantes",
    "Bordeaux",
    "Toulouse",
    "Nice",
    "Rennes",
    "Strasbourg",
    "Brussels",
    "Geneva",
    "London",
    "Montreal",
    "Grenoble",
    "Dijon",
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn now() -> Timestamp {
        // A Monday, 09:15 in Paris: the morning ritual.
        "2026-03-02T08:15:00Z".parse().expect("a valid timestamp")
    }

    fn demo(n_tickets: usize, seed: u64) -> DemoData {
        generate(&DemoConfig { n_tickets, seed, now: now() })
    }

    #[test]
    fn demo_is_deterministic() {
        let first = demo(3_000, 7);
        let second = demo(3_000, 7);
        assert!(first == second, "the same seed must give the same data");
        let other = demo(3_000, 8);
        assert_ne!(first.tickets, other.tickets, "another seed gives another history");
    }

    #[test]
    fn demo_tickets_keep_the_core_invariants() {
        let data = demo(5_000, 42);
        let now = now();
        assert_eq!(data.tickets.len(), 5_000);
        for (ticket_idx, ticket) in data.tickets.iter().enumerate() {
            let id = ticket.id.as_str();
            assert_eq!(id, format!("D-{}", ticket_idx + 1));
            assert!(TicketId::parse(id).is_ok());
            assert_eq!(ticket.version, 1, "{id}");
            assert!(ticket.created_at <= now, "{id}");
            assert!(ticket.updated_at >= ticket.created_at && ticket.updated_at <= now, "{id}");
            assert_eq!(ticket.resolved_at.is_some(), !ticket.status.is_open(), "{id}: {:?}", ticket.status);
            if let Some(first_response) = ticket.first_response_at {
                assert!(first_response >= ticket.created_at && first_response <= now, "{id}");
                if let Some(resolved) = ticket.resolved_at {
                    assert!(first_response <= resolved, "{id}");
                }
            }
            if let Some(resolved) = ticket.resolved_at {
                assert!(resolved > ticket.created_at && resolved <= now && resolved <= ticket.updated_at, "{id}");
                assert!(ticket.first_response_at.is_some(), "{id}: every solved ticket had an answer");
            }
            if ticket.status == Status::New {
                assert!(ticket.first_response_at.is_none(), "{id}");
            }
            if let Some(csat) = ticket.csat {
                assert!((1..=5).contains(&csat) && !ticket.status.is_open(), "{id}");
            }
            for tag in &ticket.tags {
                assert!(
                    !tag.is_empty() && !tag.contains(|c: char| c == ';' || c == ',' || c.is_whitespace()),
                    "{id}: {tag}"
                );
            }
            let distinct: HashSet<&String> = ticket.tags.iter().collect();
            assert_eq!(distinct.len(), ticket.tags.len(), "{id}: tags are a set");
            assert!(!ticket.category.is_empty() && !ticket.category.contains(char::is_whitespace), "{id}");
            assert!(!ticket.subject.trim().is_empty() && !ticket.subject.contains(['\n', '\r']), "{id}");
            assert_eq!(ticket.subject, ticket.subject.trim(), "{id}");
            assert!(
                !ticket.subject.contains('{') && !ticket.body.contains('{'),
                "{id}: unfilled slot in {:?}",
                ticket.subject
            );
            assert!(!ticket.body.trim().is_empty(), "{id}");
        }
        assert!(data.tickets.windows(2).all(|pair| pair[0].created_at <= pair[1].created_at), "sorted by created_at");
        let earliest = data.tickets.first().map(|ticket| ticket.created_at).expect("tickets");
        let span_days = (now.as_second() - earliest.as_second()) / DAY;
        assert!((110..=HISTORY_DAYS).contains(&span_days), "history spans {span_days} days");
    }

    #[test]
    fn demo_references_exist_in_its_directory() {
        let data = demo(5_000, 42);
        let teams: HashSet<&TeamId> = data.teams.iter().map(|team| &team.id).collect();
        let agents: HashMap<&AgentId, &Agent> = data.agents.iter().map(|agent| (&agent.id, agent)).collect();
        let customers: HashMap<&CustomerId, &Customer> =
            data.customers.iter().map(|customer| (&customer.id, customer)).collect();
        assert_eq!(teams.len(), data.teams.len());
        assert_eq!(agents.len(), data.agents.len());
        assert_eq!(customers.len(), data.customers.len());
        assert!((12..=20).contains(&data.agents.len()));
        let names: HashSet<&str> = data.customers.iter().map(|customer| customer.name.as_str()).collect();
        assert_eq!(names.len(), data.customers.len(), "customer names are distinct");
        for agent in &data.agents {
            assert!(agent.teams.iter().all(|team| teams.contains(team)), "{}", agent.id);
        }
        for ticket in &data.tickets {
            let customer = customers.get(&ticket.customer_id).expect("known customer");
            assert_eq!(customer.tier, ticket.customer_tier, "{}", ticket.id);
            if let Some(team) = &ticket.team {
                assert!(teams.contains(team), "{}", ticket.id);
            }
            if let Some(assignee) = &ticket.assignee {
                let agent = agents.get(assignee).expect("known agent");
                let team = ticket.team.as_ref().expect("an assigned ticket has a team");
                assert!(agent.teams.contains(team), "{}: {assignee} is not in {team}", ticket.id);
            }
        }
    }

    #[test]
    fn demo_looks_like_a_real_backlog() {
        let data = demo(10_000, 42);
        let now_s = now().as_second();
        let n = data.tickets.len() as f64;
        let open: Vec<&Ticket> = data.tickets.iter().filter(|ticket| ticket.status.is_open()).collect();
        let open_share = open.len() as f64 / n;
        assert!((0.08..=0.22).contains(&open_share), "open share {open_share}");
        let age_days = |ticket: &Ticket| (now_s - ticket.created_at.as_second()) as f64 / DAY as f64;
        let over_30 = open.iter().filter(|ticket| age_days(ticket) > 30.0).count();
        let under_3 = open.iter().filter(|ticket| age_days(ticket) < 3.0).count();
        let last_hour = open.iter().filter(|ticket| age_days(ticket) < 1.0 / 24.0).count();
        assert!(over_30 >= open.len() / 10, "a long tail: {over_30} of {} open over 30 days", open.len());
        assert!(under_3 >= open.len() / 10, "recent work: {under_3} of {} open under 3 days", open.len());
        assert!(last_hour >= 3, "some just arrived: {last_hour}");
        for status in Status::ALL {
            assert!(data.tickets.iter().any(|ticket| ticket.status == *status), "no {status} ticket");
        }
        let solved: Vec<&Ticket> = data.tickets.iter().filter(|ticket| !ticket.status.is_open()).collect();
        let rated: Vec<u8> = solved.iter().filter_map(|ticket| ticket.csat).collect();
        let rated_share = rated.len() as f64 / solved.len() as f64;
        assert!((0.3..=0.45).contains(&rated_share), "csat share {rated_share}");
        let happy = rated.iter().filter(|&&csat| csat >= 4).count() as f64 / rated.len() as f64;
        assert!(happy > 0.55, "csat skewed to 4-5: {happy}");
        let legal = data.tickets.iter().filter(|ticket| ticket.legal_risk).count() as f64 / n;
        let blocking = data.tickets.iter().filter(|ticket| ticket.blocking).count() as f64 / n;
        assert!((0.005..=0.02).contains(&legal), "legal risk {legal}");
        assert!((0.015..=0.05).contains(&blocking), "blocking {blocking}");
        let strategic = data.customers.iter().filter(|customer| customer.tier == CustomerTier::Strategic).count();
        assert!(strategic >= 3, "strategic customers: {strategic}");
        // Assigned: most non-new tickets.
        let non_new: Vec<&Ticket> = data.tickets.iter().filter(|ticket| ticket.status != Status::New).collect();
        let assigned = non_new.iter().filter(|ticket| ticket.assignee.is_some()).count() as f64 / non_new.len() as f64;
        assert!(assigned > 0.9, "assigned {assigned}");
        // The outage: at least 30 near-identical subjects on one day.
        let mut by_subject: HashMap<(String, i64), usize> = HashMap::new();
        for ticket in &data.tickets {
            let core = ticket
                .subject
                .trim_start_matches("URGENT - ")
                .trim_start_matches("RE: ")
                .trim_end_matches([' ', '!', '?']);
            *by_subject.entry((core.to_lowercase(), local_day(ticket.created_at.as_second()))).or_default() += 1;
        }
        let biggest = by_subject.values().copied().max().unwrap_or(0);
        assert!(biggest >= 15, "the biggest same-subject cluster of a day has {biggest} tickets");
        let outage_open = open.iter().filter(|ticket| ticket.tags.iter().any(|tag| tag == "outage")).count();
        assert!(outage_open >= 25, "the ongoing outage is open: {outage_open}");
    }

    #[test]
    fn demo_respects_any_now() {
        // A fractional second, a Saturday night: nothing may land after `now`.
        for text in ["2026-03-07T22:41:07.123456789Z", "2026-07-14T03:00:00Z"] {
            let now: Timestamp = text.parse().expect("a valid timestamp");
            let data = generate(&DemoConfig { n_tickets: 2_000, seed: 3, now });
            for ticket in &data.tickets {
                let latest =
                    [Some(ticket.created_at), Some(ticket.updated_at), ticket.first_response_at, ticket.resolved_at];
                assert!(latest.into_iter().flatten().all(|at| at <= now), "{}", ticket.id);
                assert!(ticket.updated_at >= ticket.created_at, "{}", ticket.id);
            }
            assert!(data.tickets.iter().any(|ticket| ticket.status == Status::New), "{text}");
        }
    }

    #[test]
    fn tiny_demos_work() {
        for n_tickets in [0, 1, 7, 50, 199, 200] {
            let data = demo(n_tickets, 1);
            assert_eq!(data.tickets.len(), n_tickets);
            assert!(!data.customers.is_empty() && !data.agents.is_empty() && data.teams.len() == 4);
        }
    }

    #[test]
    fn every_template_slot_is_known() {
        let profile = CustomerProfile {
            name: "Test".into(),
            tier: CustomerTier::Standard,
            lang: Lang::En,
            weight: 1.0,
            contact_first: "Ada",
            contact_last: "Lovelace",
        };
        let mut rng = stream_rng(1, Stream::Tickets);
        for lang in [Lang::En, Lang::Fr] {
            let slots = Slots::draw(&mut rng, lang, now().as_second(), 42, &profile);
            let common = lang.common();
            let mut templates: Vec<&str> = Vec::new();
            for category in &CATEGORIES {
                let text = &category.text[lang as usize];
                for pool in [text.subjects, text.openers, text.details, text.requests] {
                    assert!(!pool.is_empty(), "{}: empty pool", category.slug);
                    templates.extend(pool);
                }
            }
            for pool in [common.greetings, common.contexts, common.urgencies, common.closings, common.reminders] {
                templates.extend(pool);
            }
            templates.push(common.account_line);
            for spike in &SPIKES {
                let (subject, body) = spike.text[lang as usize];
                templates.push(subject);
                templates.push(body);
            }
            for template in templates {
                let mut out = String::new();
                expand(&mut out, template, &slots);
                assert!(!out.contains(['{', '}']), "unknown slot in {template:?}: {out:?}");
            }
        }
    }

    #[test]
    fn calendar_helpers_agree_with_jiff() {
        for text in ["2026-03-02T08:15:00Z", "2024-02-29T23:30:00Z", "1999-12-31T23:00:00Z", "2026-08-15T12:00:00Z"] {
            let timestamp: Timestamp = text.parse().expect("a valid timestamp");
            let local = timestamp.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(1)));
            let seconds = timestamp.as_second();
            assert_eq!(month_day(local_day(seconds)), (local.month() as u32, local.day() as u32), "{text}");
            assert_eq!(weekday(local_day(seconds)), local.weekday().to_monday_zero_offset() as usize, "{text}");
            assert_eq!(local_hour(seconds), local.hour() as usize, "{text}");
        }
        // Friday 19:00 local opens Monday 08:00 local.
        let friday_evening: Timestamp = "2026-02-27T18:00:00Z".parse().expect("a valid timestamp");
        let monday_opening: Timestamp = "2026-03-02T07:00:00Z".parse().expect("a valid timestamp");
        assert_eq!(next_opening(friday_evening.as_second()), monday_opening.as_second());
    }

    #[test]
    fn demo_summary() {
        // Prints the shape of the default demo (`cargo test -p vigie demo_summary -- --nocapture`).
        let data = demo(10_000, 42);
        let now_s = now().as_second();
        let mut by_status: Vec<(Status, usize)> = Status::ALL
            .iter()
            .map(|&status| (status, data.tickets.iter().filter(|t| t.status == status).count()))
            .collect();
        by_status.sort_by_key(|&(status, _)| status);
        println!("by status: {by_status:?}");
        let open: Vec<&Ticket> = data.tickets.iter().filter(|t| t.status.is_open()).collect();
        println!("open: {} ({:.1} %)", open.len(), 100.0 * open.len() as f64 / data.tickets.len() as f64);
        let buckets =
            [(0.0, 1.0 / 24.0), (1.0 / 24.0, 1.0), (1.0, 3.0), (3.0, 7.0), (7.0, 30.0), (30.0, 60.0), (60.0, 121.0)];
        for (low, high) in buckets {
            let count = open
                .iter()
                .filter(|t| {
                    let age = (now_s - t.created_at.as_second()) as f64 / DAY as f64;
                    age >= low && age < high
                })
                .count();
            println!("open aged [{low:.2}, {high}) days: {count}");
        }
        let mut by_category: HashMap<&str, usize> = HashMap::new();
        for ticket in &data.tickets {
            *by_category.entry(ticket.category.as_str()).or_default() += 1;
        }
        println!("by category: {by_category:?}");
        let mut by_priority: HashMap<Priority, usize> = HashMap::new();
        for ticket in &data.tickets {
            *by_priority.entry(ticket.priority).or_default() += 1;
        }
        println!("by priority: {by_priority:?}");
        let resends = data.tickets.iter().filter(|t| t.body.contains("\n> ")).count();
        println!("re-sends: {resends}");
        for ticket in data.tickets.iter().rev().take(3) {
            println!(
                "--- {} {} {} {:?}\n{}\n{}",
                ticket.id, ticket.created_at, ticket.status, ticket.tags, ticket.subject, ticket.body
            );
        }
    }
}
