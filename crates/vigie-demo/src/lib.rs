//! The demo backlog: a generated but realistic ticket history, so that a newcomer who runs
//! `vigie serve --demo` or `vigie demo` sees at once what vigie is for: a queue with cases weeks old, fresh P1s about to
//! breach their first-response target, an outage flooding the desk with near-identical tickets,
//! happy and unhappy customers.
//!
//! **Architecture Invariant:** pure, like `vigie-core`: no I/O, no clock; the binary loads what
//! this generates (`Store::load_histories`).
//!
//! The pipeline, all of it a pure function of [`DemoConfig`] (same seed and `now`, same data;
//! nothing reads the clock):
//! 1. the directory: four teams, eighteen agents with skills, a few hundred customers with tiers;
//! 2. the arrival instants of all tickets: a seasonal arrival process over the last
//!    [`HISTORY_DAYS`] (week, day and a slow trend), plus incident spikes and a few tickets that
//!    arrived minutes ago; sorted, they give the ids `D-1`..`D-n`;
//! 3. each ticket in arrival order: customer, channel, category, priority, team and text as
//!    created, then the timing of its life (first response, resolution, whether it got stuck);
//! 4. from that timing, the ticket's history up to `now`, event by event as the commands of
//!    `vigie_core::decide` would record them: triage, assignment, the first answer, questions
//!    to the customer and their answers, waits on contractors or other departments, notes,
//!    escalations, the resolution, the survey answer, the automatic close, now and then a
//!    reopening. The ticket at `now` is the replay of that history.
//!
//! The shapes come from real data where we have it: the hourly and weekly arrival profile and
//! the long tail of open back-office cases follow Boston's 311 export of 2015
//! (`shared/data/boston311_2015/`); the channel, category and priority mixes follow the synthetic
//! help-desk model of `shared/bench/gen_tickets.py`, which was calibrated on the same kind of desk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use vigie_core::directory::{Agent, Customer, Team};
use vigie_core::lifecycle;
use vigie_core::{
    AgentId, Channel, CustomerId, CustomerTier, Event, EventKind, FieldChange, IdError, Priority, Status, TeamId,
    Ticket, TicketId,
};

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
    /// One history per ticket, in order of creation (ids `D-1`..`D-n`). Each starts with the
    /// ticket's `ticket_created` event (status `new`, version 1) and goes on in time order, the
    /// events of one command sharing a version; [`vigie_core::event::replay`] turns it into the
    /// ticket as it stands at `now`. Every team, agent and customer they name is in the lists
    /// above. The events' `seq` is 0: the store numbers them when it loads them.
    pub histories: Vec<Vec<Event>>,
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
            // The reserved example domain: the demo's notices are addressed, never delivered
            // anywhere real.
            email: Some(format!("{}@example.com", customer_id(customer_idx))),
        })
        .collect::<Vec<_>>();

    let mut arrival_rng = stream_rng(config.seed, Stream::Arrivals);
    let plan = plan_arrivals(&mut arrival_rng, &clock, config.n_tickets);

    let mut writer = TicketWriter::new(clock, &teams, &agents, &customers, &profiles, &plan.spikes);
    let mut ticket_rng = stream_rng(config.seed, Stream::Tickets);
    let mut last_ticket_of_customer = vec![None; profiles.len()];
    let mut histories = Vec::with_capacity(plan.arrivals.len());
    let mut briefs = Vec::with_capacity(plan.arrivals.len());
    for (ticket_idx, arrival) in plan.arrivals.iter().enumerate() {
        let (history, brief) =
            writer.ticket(&mut ticket_rng, ticket_idx + 1, *arrival, &histories, &briefs, &mut last_ticket_of_customer);
        histories.push(history);
        briefs.push(brief);
    }
    DemoData { teams, agents, customers, histories }
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
/// Share of P3 and P4 tickets where the customer never answers our question: they sit in
/// `pending_customer` until the housekeeping solves them, [`STALE_AUTO_CLOSE_DAYS`] later.
/// Urgent tickets are chased by phone instead, so they never go stale.
const STALE_PENDING_SHARE: f64 = 0.03;
const STALE_AUTO_CLOSE_DAYS: i64 = 30;
/// A solved ticket is closed this long after, as help desks such as Zendesk do by default:
/// the customer can still reopen it meanwhile.
const SOLVED_TO_CLOSED_DAYS: i64 = 4;
/// No life-cycle step takes longer than this: it keeps the arithmetic far from overflow.
const LONGEST_DELAY: i64 = 400 * DAY;
/// Urgent cases rarely get stuck: someone chases the contractor or the other department every
/// day. Factor on the category's stuck share, P1 first.
const STUCK_PRIORITY_FACTOR: [f64; 4] = [0.1, 0.35, 1.0, 1.0];
/// And they do not stay open for weeks: a P1 is solved within about two days plus an
/// exponential tail of mean one day, a P2 within four days plus a tail of mean three (days).
const URGENT_RESOLUTION_CAP_DAYS: [(f64, f64); 2] = [(2.0, 1.0), (4.0, 3.0)];
/// An outage report is urgent: P1 or P2, sometimes P3 when only a side service is down.
const OUTAGE_PRIORITY_MIX: [f64; 4] = [0.3, 0.55, 0.15, 0.0];

/// Share of resolved tickets whose customer answered the satisfaction survey: typical response
/// rates of post-resolution surveys are 20-40 %; the upper end gives the demo charts some body.
const CSAT_RESPONSE_SHARE: f64 = 0.4;
/// Median delay of a survey answer after the resolution (log-normal, σ 1.2): most customers
/// answer the same day, the last ones before the ticket closes.
const CSAT_DELAY_MEDIAN_HOURS: f64 = 5.0;

/// Share of strategic customers' tickets raised one priority level by the account manager.
const STRATEGIC_PRIORITY_RAISE: f64 = 0.25;
/// Share of P1 and P2 tickets that arrived one level lower and were raised once someone looked
/// at them (the lead, after the first exchange): the escalations of the history.
const ESCALATION_SHARE: f64 = 0.12;
/// Chance that a regular ticket is a re-send of the customer's previous request ("any update on
/// this?"), when that request is recent (see [`RESEND_WINDOW`]) and still unanswered: about 1 %
/// of all tickets end up re-sends, the near-duplicates the duplicate detection should catch.
const RESEND_SHARE: f64 = 0.06;
/// A customer re-sends within this delay, or opens a new request.
const RESEND_WINDOW: i64 = 5 * DAY;
/// Share of front-office tickets from written channels that overflow to the outsourced partner.
const OUTSOURCED_OVERFLOW_SHARE: f64 = 0.35;
/// Share of written tickets the mailbox rules could not route: they arrive with no team, and
/// the front office's lead routes them (the triage queue), mean [`TRIAGE_MEAN_MINUTES`] after
/// the desk opens.
const TRIAGE_SHARE: f64 = 0.25;
const TRIAGE_MEAN_MINUTES: f64 = 40.0;
/// Share of written tickets someone takes (or the lead assigns) before answering them.
const PREASSIGN_SHARE: f64 = 0.2;
/// Share of open tickets untouched for a day that their agent handed back to the team queue
/// (leave, a move).
const UNASSIGNED_OPEN_SHARE: f64 = 0.12;
/// Share of solved tickets the customer reopens before they close ("it happens again").
const REOPEN_SHARE: f64 = 0.05;
/// Share of written requests that mention a call nobody followed up: a real complaint, but a
/// rare one.
const CALLED_BEFORE_SHARE: f64 = 0.03;

// ------------------------------------------------------------------------------------------
// The directory.

const FRONT_OFFICE: usize = 0;
const BACK_OFFICE: usize = 1;
const BILLING_OPS: usize = 2;
const OUTSOURCED: usize = 3;

/// The calendar every demo team works to, defined in the demo's rules (Paris office hours).
pub const TEAM_CALENDAR: &str = "paris-office";

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
        languages: &[Lang::Fr, Lang::En],
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
        languages: &[Lang::Fr, Lang::En],
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
        languages: &[Lang::Fr, Lang::En],
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
        languages: &[Lang::Fr, Lang::En],
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
        languages: &[Lang::Fr, Lang::En],
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
        .map(|(id, name)| Team {
            id: known_id(TeamId::parse(*id)),
            name: (*name).to_owned(),
            calendar: Some(TEAM_CALENDAR.to_owned()),
        })
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

/// A company name in the customer's language, from word lists of that language and country
/// ("Meridian Logistics Ltd", "Walker Engineering", "Baker & Hill"; "Transports Bretagne SAS",
/// "Boulangerie Moreau", "Dupont & Fils"), distinct from the ones already taken.
fn draw_company_name(rng: &mut DemoRng, lang: Lang, taken: &mut std::collections::HashSet<String>) -> String {
    let words = lang.company_words();
    let mut name = String::new();
    for _attempt in 0..50 {
        name.clear();
        let pattern = rng.random::<f64>();
        if pattern < 0.6 {
            let prefix = pick(rng, words.prefixes);
            let trade = pick(rng, words.trades);
            // French puts the trade first as often as not: "Transports Bretagne", "Provence Énergie".
            let (first, second) = if lang == Lang::Fr && chance(rng, 0.5) { (trade, prefix) } else { (prefix, trade) };
            name.push_str(first);
            name.push(' ');
            name.push_str(second);
            let suffix = pick(rng, words.suffixes);
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
                    name.push_str(pick(rng, words.trades));
                }
            }
        } else {
            name.push_str(pick(rng, lang.last_names()));
            if lang == Lang::Fr && chance(rng, 0.3) {
                name.push_str(" & Fils");
            } else {
                name.push_str(" & ");
                name.push_str(pick(rng, lang.last_names()));
            }
        }
        if !taken.contains(&name) {
            break;
        }
    }
    // After 50 collisions (thousands of customers), a branch name keeps it distinct.
    let mut branch = 2;
    let stem = name.clone();
    while taken.contains(&name) {
        name = format!("{stem} ({})", pick(rng, words.cities));
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

/// Who records what, besides the agents (who act under their own ids): the integrations of the
/// inbound channels, the team leads, the survey tool and the scheduler.
const SYSTEM: &str = "system";
const SURVEY: &str = "survey";
const MAIL_GATEWAY: &str = "mail_gateway";
const WEB_FORM: &str = "web_form";
const SOCIAL_INBOX: &str = "social_inbox";
const CHAT_WIDGET: &str = "chat_widget";
/// The team leads, in the order of [`TEAMS`]; the front office's lead also triages.
const LEADS: [&str; 4] = ["lead.front_office", "lead.back_office", "lead.billing_ops", "lead.outsourced"];
const TRIAGE_LEAD: &str = LEADS[FRONT_OFFICE];

/// How much of the work an agent takes, relative to a specialist of the ticket's category: a
/// generalist (in practice the team's lead agent) also coordinates, and an agent without the
/// skill takes such tickets only when the specialists are swamped.
const SPECIALIST_CAPACITY: f64 = 1.0;
const GENERALIST_CAPACITY: f64 = 0.7;
const OFF_SKILL_CAPACITY: f64 = 0.5;

/// What a later ticket needs to know of an earlier one (to re-send it).
struct Brief {
    created: i64,
    /// When it got its first answer; [`NOT_YET`] if not by `now`.
    answered: i64,
    category_idx: usize,
    priority_idx: usize,
}

/// Agents (their index in [`AGENTS`]) who can take some ticket, each with its capacity.
type Candidates = Vec<(usize, f64)>;

/// The precomputed lookups that turn an arrival into a ticket, and the agents' workload.
struct TicketWriter<'a> {
    clock: Clock,
    team_ids: Vec<TeamId>,
    agent_ids: Vec<AgentId>,
    customers: &'a [Customer],
    profiles: &'a [CustomerProfile],
    spikes: &'a [SpikeInstance],
    /// Agents who can take a ticket, with their capacity, by team, category and language.
    candidates: Vec<Vec<[Candidates; 2]>>,
    /// Per agent, when each ticket assigned so far leaves them (solved or handed back;
    /// [`NOT_YET`] while open), as a min-heap: their open load at an instant is the count of
    /// later entries. New tickets go to the least loaded, so that no one drowns.
    loads: Vec<BinaryHeap<Reverse<i64>>>,
    /// Cumulative activity weights of the customers.
    customer_cumulative: Vec<f64>,
}

/// A ticket's life as drawn, in Unix seconds; [`NOT_YET`] for "never, as far as we know".
#[derive(Debug, Clone, Copy)]
struct Life {
    first_response: i64,
    resolution: i64,
    stuck: bool,
    stale: bool,
    /// Solved during the call or the chat that opened it.
    first_contact: bool,
}

const NOT_YET: i64 = i64::MAX;

/// Everything drawn about a ticket that its history needs.
struct Draft {
    created: i64,
    channel: Channel,
    category_idx: usize,
    /// The priority it ends with (it may arrive one level lower, see [`ESCALATION_SHARE`]).
    priority_idx: usize,
    escalated: bool,
    team_idx: usize,
    lang: Lang,
    /// Whether the ticket arrived with its team set, or went through the lead's triage.
    routed: bool,
    spike: Option<usize>,
    life: Life,
}

/// The moves between the first answer and the resolution, each at a planned instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    WaitStart(Wait),
    WaitEnd(Wait),
    /// An internal note.
    Note,
    /// The customer asks for news.
    Chaser,
    Escalation,
}

/// Whom a ticket waits for: the three `pending_*` statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Customer,
    ThirdParty,
    Internal,
}

impl Wait {
    fn status(self) -> Status {
        match self {
            Wait::Customer => Status::PendingCustomer,
            Wait::ThirdParty => Status::PendingThirdParty,
            Wait::Internal => Status::PendingInternal,
        }
    }
}

/// Share of regular tickets whose agent needs something from the customer (a document, a
/// photo, a confirmation), by category in the order of [`CATEGORIES`]: administrative changes
/// most, incidents least.
const ASK_CUSTOMER_SHARE: [f64; 9] = [0.35, 0.3, 0.25, 0.45, 0.3, 0.35, 0.4, 0.35, 0.5];
/// Share of regular tickets of the field categories that wait on a contractor, a carrier or the
/// network operator for a while.
const THIRD_PARTY_SHARE: f64 = 0.3;
/// Share of regular billing, complaint, administrative and data-protection tickets that wait on
/// another department (an approval, a legal review).
const INTERNAL_WAIT_SHARE: f64 = 0.15;

fn waits_on_others(category_idx: usize) -> bool {
    matches!(CATEGORIES[category_idx].slug, "technician_visit" | "delivery" | "meter_reading" | "incident")
}

fn waits_on_departments(category_idx: usize) -> bool {
    matches!(CATEGORIES[category_idx].slug, "billing" | "complaint" | "admin_update" | "gdpr_request")
}

fn is_live(channel: Channel) -> bool {
    matches!(channel, Channel::Phone | Channel::Chat)
}

/// Who records a customer's message: the integration of their channel. Customers who called or
/// chatted answer our follow-up e-mails.
fn customer_actor(channel: Channel) -> &'static str {
    match channel {
        Channel::Web => WEB_FORM,
        Channel::Social => SOCIAL_INBOX,
        Channel::Chat => CHAT_WIDGET,
        Channel::Email | Channel::Phone => MAIL_GATEWAY,
    }
}

impl<'a> TicketWriter<'a> {
    fn new(
        clock: Clock,
        teams: &[Team],
        agents: &[Agent],
        customers: &'a [Customer],
        profiles: &'a [CustomerProfile],
        spikes: &'a [SpikeInstance],
    ) -> Self {
        let candidates = (0..teams.len())
            .map(|team_idx| {
                CATEGORIES
                    .iter()
                    .map(|category| [Lang::En, Lang::Fr].map(|lang| candidate_agents(team_idx, category.slug, lang)))
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
            candidates,
            loads: vec![BinaryHeap::new(); agents.len()],
            customer_cumulative,
        }
    }

    /// Draws the `number`-th ticket and writes its history.
    fn ticket(
        &mut self,
        rng: &mut DemoRng,
        number: usize,
        arrival: Arrival,
        histories: &[Vec<Event>],
        briefs: &[Brief],
        last_ticket_of_customer: &mut [Option<usize>],
    ) -> (Vec<Event>, Brief) {
        let created = arrival.at;
        let profiles = self.profiles;
        let spikes = self.spikes;
        let customer_idx = pick_cumulative(rng, &self.customer_cumulative);
        let profile = &profiles[customer_idx];
        let lang = profile.lang;
        let tier = profile.tier;
        let strategic = tier == CustomerTier::Strategic;

        // A call or a chat is answered as it happens: the fresh, unanswered tickets came in writing.
        let live_open = in_business_hours(created);
        let channel_idx =
            pick_weighted(rng, &CHANNEL_WEIGHT, |channel_idx, weight| match is_live(CHANNELS[channel_idx]) {
                true if arrival.kind == ArrivalKind::Fresh => 0.0,
                true if !live_open => weight * CLOSED_LIVE_CHANNEL_FACTOR,
                _ => weight,
            });
        let channel = CHANNELS[channel_idx];
        let live = is_live(channel);

        // A re-send repeats the customer's last request when it is recent and still unanswered;
        // one writes again, one does not call to read out an e-mail.
        let resend_of = match (arrival.kind, last_ticket_of_customer[customer_idx]) {
            (ArrivalKind::Regular, Some(previous_idx)) if !live && chance(rng, RESEND_SHARE) => briefs
                .get(previous_idx)
                .filter(|previous| created - previous.created <= RESEND_WINDOW && previous.answered > created)
                .map(|previous| (previous_idx, previous)),
            _ => None,
        };
        last_ticket_of_customer[customer_idx] = Some(number - 1);

        let spike_idx = match arrival.kind {
            ArrivalKind::Spike(spike_idx) if spike_idx < SPIKES.len() && spike_idx < spikes.len() => Some(spike_idx),
            _ => None,
        };
        let spike = spike_idx.and_then(|spike_idx| SPIKES.get(spike_idx).zip(spikes.get(spike_idx)));
        let category_idx = match (resend_of, spike) {
            (Some((_, previous)), _) => previous.category_idx,
            (None, Some((spec, _))) => spec.category,
            (None, None) => pick_weighted(rng, &CATEGORY_BY_CHANNEL[channel_idx], |_, weight| weight),
        };
        let category = &CATEGORIES[category_idx];

        let mut tags = Vec::with_capacity(4);
        tags.push(lang.tag().to_owned());
        if strategic {
            tags.push("vip".to_owned());
        }
        match spike {
            Some((spec, _)) => tags.extend(spec.tags.iter().map(|&tag| tag.to_owned())),
            None => {
                for &(tag, share) in category.tags {
                    if chance(rng, share) {
                        tags.push(tag.to_owned());
                    }
                }
            }
        }
        let outage = tags.iter().any(|tag| tag == "outage");

        let drawn_priority_idx = match spike {
            Some((spec, _)) => pick_weighted(rng, &spec.priority_mix, |_, weight| weight),
            None if outage => pick_weighted(rng, &OUTAGE_PRIORITY_MIX, |_, weight| weight),
            None => pick_weighted(rng, &category.priority_mix, |_, weight| weight),
        };
        let mut priority_idx = match resend_of {
            Some((_, previous)) if chance(rng, 0.3) => previous.priority_idx.saturating_sub(1),
            Some((_, previous)) => previous.priority_idx,
            None => drawn_priority_idx,
        };
        if outage {
            priority_idx = priority_idx.min(drawn_priority_idx).min(2);
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
        let escalated = arrival.kind != ArrivalKind::Fresh && priority_idx <= 1 && chance(rng, ESCALATION_SHARE);
        let created_priority_idx = if escalated { priority_idx + 1 } else { priority_idx };

        let team_idx = self.route(rng, category_idx, channel, tier);
        let life = self.life(rng, created, channel_idx, category_idx, priority_idx, team_idx, strategic, arrival.kind);

        let legal_risk = chance(rng, category.legal_risk_share);
        let blocking = match spike {
            Some((spec, _)) => chance(rng, spec.blocking_share),
            None => chance(rng, category.blocking_share),
        };
        if legal_risk && !tags.iter().any(|tag| tag == "escalated") {
            tags.push("escalated".to_owned());
        }

        let mut slots = Slots::draw(rng, lang, created, customer_idx, profile);
        if let Some((_, instance)) = spike {
            slots = slots.for_spike(instance);
        }
        let previous_ticket = resend_of
            .and_then(|(previous_idx, _)| histories.get(previous_idx))
            .map(Vec::as_slice)
            .and_then(created_ticket);
        let (mut subject, mut body) = match (previous_ticket, spike) {
            (Some(previous), _) => resend_text(rng, lang, previous),
            (None, Some((spec, _))) => spike_text(rng, lang, spec, &slots, channel, created, profile),
            (None, None) => regular_text(rng, lang, category, &slots, priority_idx, profile, channel, created),
        };

        subject.shrink_to_fit();
        body.shrink_to_fit();
        tags.shrink_to_fit();
        let routed = live
            || strategic
            || arrival.kind != ArrivalKind::Regular
            || resend_of.is_some()
            || !chance(rng, TRIAGE_SHARE);
        let created_at = self.clock.at(created);
        let ticket = Ticket {
            id: known_id(TicketId::parse(format!("D-{number}"))),
            version: 1,
            created_at,
            updated_at: created_at,
            first_response_at: None,
            resolved_at: None,
            status: Status::New,
            priority: Priority::ALL.get(created_priority_idx).copied().unwrap_or(Priority::P3),
            category: category.slug.to_owned(),
            channel,
            customer_id: self.customers[customer_idx].id.clone(),
            customer_tier: tier,
            team: routed.then(|| self.team_ids[team_idx].clone()),
            assignee: None,
            subject,
            body,
            csat: None,
            tags,
            legal_risk,
            blocking,
            language: Some(lang.code().to_owned()),
            status_history: vec![vigie_core::StatusSince { status: Status::New, since: created_at }],
            sla_targets: None,
            sla_marks: vigie_core::SlaMarks::default(),
            rules_applied: Vec::new(),
            steps: Vec::new(),
        };
        let draft = Draft {
            created,
            channel,
            category_idx,
            priority_idx,
            escalated,
            team_idx,
            lang,
            routed,
            spike: spike_idx,
            life,
        };
        let (events, answered) = self.history(rng, ticket, &draft, &mut slots);
        (events, Brief { created, answered, category_idx, priority_idx })
    }

    /// The owning team: the category's, with the exceptions a real desk makes.
    fn route(&self, rng: &mut DemoRng, category_idx: usize, channel: Channel, tier: CustomerTier) -> usize {
        let category = &CATEGORIES[category_idx];
        let live = is_live(channel);
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
        let live = is_live(channel);
        // The on-call agent answers P1s at any hour.
        let clock_start = if live || priority_idx == 0 { created } else { next_opening(created) };
        let first_response_median = FIRST_RESPONSE_MEDIAN_MINUTES[channel_idx]
            * FIRST_RESPONSE_PRIORITY_FACTOR[priority_idx]
            * if strategic { STRATEGIC_RESPONSE_FACTOR } else { 1.0 }
            * MINUTE as f64;
        let first_response_delay =
            delay_seconds(log_normal(rng, first_response_median, FIRST_RESPONSE_SIGMA[channel_idx])).max(20);
        let first_response = if kind == ArrivalKind::Fresh { NOT_YET } else { clock_start + first_response_delay };

        let spike = match kind {
            ArrivalKind::Spike(spike_idx) => self.spikes.get(spike_idx),
            _ => None,
        };
        let stuck = spike.is_none() && chance(rng, category.stuck_share * STUCK_PRIORITY_FACTOR[priority_idx]);
        let first_contact = live && priority_idx >= 2 && chance(rng, FIRST_CONTACT_RESOLUTION_SHARE);
        let stale = spike.is_none() && !first_contact && priority_idx >= 2 && chance(rng, STALE_PENDING_SHARE);
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
            let mut delay = delay_seconds(log_normal(rng, median, RESOLUTION_SIGMA)).max(5 * MINUTE);
            if let Some(&(base_days, tail_days)) = URGENT_RESOLUTION_CAP_DAYS.get(priority_idx) {
                let cap = delay_seconds((base_days + exponential(rng, tail_days)) * DAY as f64);
                delay = delay.min(cap);
            }
            first_response + delay
        };
        Life { first_response, resolution, stuck: stuck && !first_contact, stale, first_contact }
    }

    /// The resolution-time factor of [`RECENT_SLOWDOWN`] for a ticket created at `created`.
    fn slowdown(&self, created: i64) -> f64 {
        let age_days = (self.clock.now_s - created) as f64 / DAY as f64;
        1.0 + RECENT_SLOWDOWN * (1.0 - age_days / RECENT_SLOWDOWN_DAYS).max(0.0)
    }

    /// The agent who takes a ticket at `at`: among those with the team, the language and
    /// preferably the skill, the one with the least open load for their capacity (give or take
    /// a little chance, as a lead dispatching by eye would).
    fn pick_agent(&mut self, rng: &mut DemoRng, draft: &Draft, at: i64) -> usize {
        let candidates = self
            .candidates
            .get(draft.team_idx)
            .and_then(|by_category| by_category.get(draft.category_idx))
            .and_then(|by_lang| by_lang.get(draft.lang as usize));
        let mut best: Option<(f64, usize)> = None;
        for &(agent_idx, capacity) in candidates.into_iter().flatten() {
            let Some(load) = self.loads.get_mut(agent_idx) else { continue };
            while load.peek().is_some_and(|&Reverse(released)| released <= at) {
                load.pop();
            }
            let score = (load.len() as f64 + 1.0) / capacity * (1.0 + 0.3 * rng.random::<f64>());
            if best.is_none_or(|(best_score, _)| score < best_score) {
                best = Some((score, agent_idx));
            }
        }
        best.map_or(0, |(_, agent_idx)| agent_idx)
    }

    /// Writes the ticket's history up to `now`; also says when it was first answered.
    fn history(&mut self, rng: &mut DemoRng, ticket: Ticket, draft: &Draft, slots: &mut Slots) -> (Vec<Event>, i64) {
        let now = self.clock.now_s;
        // A call is typed in by the agent who took it; the other channels' integrations record
        // the tickets that come through them.
        let caller_agent = (draft.channel == Channel::Phone).then(|| self.pick_agent(rng, draft, draft.created));
        let creator = match caller_agent {
            Some(agent_idx) => agent_name(agent_idx),
            None => customer_actor(draft.channel),
        };
        let mut history = History::new(self.clock, ticket, draft.created, creator);
        let mut lived = Lived { agent: caller_agent, first_response: NOT_YET };
        // `None` when the life goes on after `now`: the rest has not happened yet.
        let _ = self.live(rng, draft, slots, &mut history, &mut lived);

        let mut released = if history.status.is_open() { NOT_YET } else { history.solved_at };
        if let Some(agent_idx) = lived.agent
            && history.assignee.is_some()
            && !matches!(history.status, Status::New | Status::Solved | Status::Closed)
            && now - history.at > DAY
            && chance(rng, UNASSIGNED_OPEN_SHARE)
        {
            // Handed back to the team queue: the agent is away, or moved.
            let at = history.at + ((now - history.at) as f64 * rng.random::<f64>()) as i64;
            if history.begin(working_time(rng, at), agent_name(agent_idx)).is_some() {
                let replies = draft.lang.replies();
                history.comment(false, note(rng, replies.handovers, slots));
                history.assign(None);
                released = history.at;
            }
        }
        if let Some(agent_idx) = lived.agent
            && let Some(load) = self.loads.get_mut(agent_idx)
        {
            load.push(Reverse(released));
        }
        let mut events = history.events;
        events.shrink_to_fit();
        (events, lived.first_response)
    }

    /// The life of the ticket, command by command, until its close or `now` (then `None`).
    fn live(
        &mut self,
        rng: &mut DemoRng,
        draft: &Draft,
        slots: &mut Slots,
        history: &mut History,
        lived: &mut Lived,
    ) -> Option<()> {
        let now = self.clock.now_s;
        let live = is_live(draft.channel);
        let lead = LEADS.get(draft.team_idx).copied().unwrap_or(TRIAGE_LEAD);
        // Calls and chats are answered as they come, P1s by the on-call agent at any hour; the
        // rest waits for business hours, and so does all later work but a P1's.
        let on_call = draft.priority_idx == 0;
        let clock_start = if live || on_call { draft.created } else { next_opening(draft.created) };
        let first_response = match draft.life.first_response {
            NOT_YET => NOT_YET,
            at if on_call || live => at,
            at => working_time(rng, at),
        };

        if !draft.routed {
            let wait = delay_seconds(exponential(rng, TRIAGE_MEAN_MINUTES * MINUTE as f64));
            let latest =
                if first_response == NOT_YET { NOT_YET } else { clock_start + (first_response - clock_start) / 2 };
            history.begin((clock_start + wait).min(latest), TRIAGE_LEAD)?;
            let team = self.team_ids.get(draft.team_idx).cloned();
            history.fields(vec![FieldChange::Team { from: None, to: team }]);
        }
        if !live && chance(rng, PREASSIGN_SHARE) {
            // Taken, or given by the lead, some time before the answer, in business hours.
            let until = first_response.min(now);
            let at = history.at + ((until - history.at).max(0) as f64 * rng.random::<f64>()) as i64;
            let at = if on_call { at } else { working_time(rng, at) };
            if at <= until {
                let agent_idx = self.pick_agent(rng, draft, at);
                let actor = if chance(rng, 0.5) { lead } else { agent_name(agent_idx) };
                history.begin(at, actor)?;
                history.assign(self.agent_ids.get(agent_idx).cloned());
                lived.agent = Some(agent_idx);
            }
        }

        if first_response > now {
            return None;
        }
        let agent_idx = match lived.agent {
            Some(agent_idx) => agent_idx,
            None => {
                let agent_idx = self.pick_agent(rng, draft, first_response);
                lived.agent = Some(agent_idx);
                agent_idx
            }
        };
        let agent = agent_name(agent_idx);
        slots.agent = agent_first_name(agent_idx);
        let replies = draft.lang.replies();
        let category_replies = &CATEGORY_REPLIES[draft.category_idx][draft.lang as usize];

        // The first answer: the agent takes the ticket (if nobody did) and replies; when the
        // reply is a question, the ticket waits on the customer at once.
        let resolution = draft.life.resolution;
        let steps = plan_steps(rng, draft, first_response, resolution);
        let asks_at_once =
            matches!(steps.first(), Some(&(at, Step::WaitStart(Wait::Customer))) if at <= first_response);
        history.begin(first_response, agent)?;
        lived.first_response = history.at;
        if history.assignee.is_none() {
            history.assign(self.agent_ids.get(agent_idx).cloned());
        }
        let opening = match draft.channel {
            Channel::Phone => replies.call_recaps,
            Channel::Chat => replies.chat_acks,
            _ => replies.acks,
        };
        let mut lines = vec![pick(rng, opening)];
        if asks_at_once {
            lines.push(nth_question(category_replies, slots, 0));
            history.questions_asked += 1;
        }
        history.first_answer(agent_reply(rng, draft.lang, slots, &lines));
        history.status(if asks_at_once { Status::PendingCustomer } else { Status::Open });

        for &(at, step) in steps.iter().skip(usize::from(asks_at_once)) {
            self.step(rng, draft, slots, history, agent_idx, at, step)?;
        }

        if resolution == NOT_YET {
            return None;
        }
        if draft.life.stale {
            // Nobody answered our question: the housekeeping solves the ticket.
            history.begin(resolution.max(history.at + HOUR), SYSTEM)?;
            let mut body = String::with_capacity(200);
            expand(&mut body, replies.hello, slots);
            body.push_str("\n\n");
            expand(&mut body, replies.auto_close, slots);
            history.comment(true, body);
            history.add_tag("auto_closed");
        } else if let Some(spike) = draft.spike.and_then(|spike_idx| SPIKES.get(spike_idx)) {
            // The fix of a spike's cause solves all its tickets at once, by the lead's bulk edit.
            history.begin(resolution.max(history.at + MINUTE), lead)?;
            let mut body = String::with_capacity(300);
            expand(&mut body, replies.hello, slots);
            body.push_str("\n\n");
            expand(&mut body, spike.solved[draft.lang as usize], slots);
            body.push_str("\n\n");
            body.push_str(replies.team_signature);
            history.comment(true, body);
        } else if draft.life.first_contact {
            history.begin(resolution, agent)?;
            let line = pick(rng, replies.first_contact);
            history.comment(true, agent_reply(rng, draft.lang, slots, &[line]));
        } else {
            history.begin(agent_time(rng, history, resolution, on_call), agent)?;
            let line = pick(rng, category_replies.solutions);
            history.comment(true, agent_reply(rng, draft.lang, slots, &[line]));
        }
        history.status(Status::Solved);

        if !draft.life.stale && draft.spike.is_none() && chance(rng, REOPEN_SHARE) {
            let delay = delay_seconds(exponential(rng, 20.0 * HOUR as f64)).clamp(10 * MINUTE, 3 * DAY);
            history.begin(customer_time(rng, history.solved_at + delay), customer_actor(draft.channel))?;
            history.comment(true, customer_message(rng, slots, replies.reopens));
            history.status(Status::Open);
            let again = history.at + delay_seconds(log_normal(rng, 6.0 * HOUR as f64, 1.0)).max(20 * MINUTE);
            history.begin(agent_time(rng, history, again, on_call), agent)?;
            let line = pick(rng, replies.solved_again);
            history.comment(true, agent_reply(rng, draft.lang, slots, &[line]));
            history.status(Status::Solved);
        }
        let solved_at = history.solved_at;
        if !draft.life.stale && chance(rng, CSAT_RESPONSE_SHARE) {
            let delay = delay_seconds(log_normal(rng, CSAT_DELAY_MEDIAN_HOURS * HOUR as f64, 1.2))
                .clamp(MINUTE, SOLVED_TO_CLOSED_DAYS * DAY - HOUR);
            let category = &CATEGORIES[draft.category_idx];
            let resolution_days = (solved_at - draft.created) as f64 / DAY as f64;
            let latent = 4.6 + 0.9 * standard_normal(rng)
                - 0.35 * resolution_days.ln_1p()
                - if category.slug == "complaint" { 0.7 } else { 0.0 }
                - if draft.team_idx == OUTSOURCED { 0.3 } else { 0.0 }
                - if draft.life.stuck { 0.3 } else { 0.0 };
            history.begin(customer_time(rng, solved_at + delay), SURVEY)?;
            history.fields(vec![FieldChange::Csat { from: None, to: Some(latent.round().clamp(1.0, 5.0) as u8) }]);
        }
        // The housekeeping runs hourly.
        let close_at = (solved_at + SOLVED_TO_CLOSED_DAYS * DAY).div_euclid(HOUR) * HOUR + HOUR;
        history.begin(close_at, SYSTEM)?;
        history.status(Status::Closed);
        Some(())
    }

    /// One planned step of the middle of a life, by whoever takes it.
    #[expect(clippy::too_many_arguments, reason = "the state of one history being written")]
    fn step(
        &self,
        rng: &mut DemoRng,
        draft: &Draft,
        slots: &Slots,
        history: &mut History,
        agent_idx: usize,
        at: i64,
        step: Step,
    ) -> Option<()> {
        let agent = agent_name(agent_idx);
        let on_call = draft.priority_idx == 0;
        let lang = draft.lang;
        let replies = lang.replies();
        let category_replies = &CATEGORY_REPLIES[draft.category_idx][lang as usize];
        let spike = draft.spike.and_then(|spike_idx| SPIKES.get(spike_idx));
        match step {
            Step::WaitStart(wait) => {
                history.begin(agent_time(rng, history, at, on_call), agent)?;
                match (wait, spike) {
                    (Wait::Customer, _) => {
                        // A second question is another one, after a thank-you for the first answer.
                        let question = nth_question(category_replies, slots, history.questions_asked);
                        let lines = if history.questions_asked > 0 {
                            vec![replies.one_more_thing, question]
                        } else {
                            vec![question]
                        };
                        history.questions_asked += 1;
                        history.comment(true, agent_reply(rng, lang, slots, &lines));
                    }
                    (Wait::ThirdParty, _) => {
                        if draft.life.stuck && CATEGORIES[draft.category_idx].slug == "technician_visit" {
                            history.add_tag("contractor");
                        }
                        // A second round (a visit that failed, a carrier that lost the parcel
                        // again) is a follow-up of the first.
                        let pool = if history.third_party_waits > 0 {
                            replies.third_party_again
                        } else {
                            category_replies.third_party
                        };
                        history.third_party_waits += 1;
                        history.comment(false, note(rng, pool, slots));
                    }
                    (Wait::Internal, Some(spike)) => {
                        history.comment(false, note(rng, &spike.wait_note[lang as usize..=lang as usize], slots))
                    }
                    (Wait::Internal, None) => history.comment(false, note(rng, category_replies.internal, slots)),
                }
                history.status(wait.status());
            }
            Step::WaitEnd(Wait::Customer) => {
                let at =
                    if at > history.at { at } else { history.at + delay_seconds(exponential(rng, 3.0 * HOUR as f64)) };
                history.begin(customer_time(rng, at), customer_actor(draft.channel))?;
                history.comment(true, customer_message(rng, slots, replies.customer_replies));
                history.status(Status::Open);
            }
            Step::WaitEnd(_) => {
                history.begin(agent_time(rng, history, at, on_call), agent)?;
                history.comment(false, note(rng, replies.resumed, slots));
                history.status(Status::Open);
            }
            // A note or a chaser planned before what happened since would come out of place.
            Step::Note | Step::Chaser if at < history.at => {}
            Step::Note => {
                history.begin(agent_time(rng, history, at, on_call), agent)?;
                let pool = match (spike, history.status) {
                    (Some(spike), _) => &spike.wait_note[lang as usize..=lang as usize],
                    (None, Status::PendingThirdParty | Status::PendingInternal) => replies.waiting_notes,
                    (None, _) => replies.notes,
                };
                // On through the pool from a drawn start, so that two notes in a row differ.
                let template = pool.get((slots.order as usize + history.notes_written) % pool.len().max(1));
                let mut body = String::with_capacity(96);
                expand(&mut body, template.copied().unwrap_or(""), slots);
                history.notes_written += 1;
                history.comment(false, body);
            }
            Step::Chaser => {
                // A customer asked a question does not chase us.
                if history.status == Status::PendingCustomer {
                    return Some(());
                }
                history.begin(customer_time(rng, at), customer_actor(draft.channel))?;
                history.comment(true, customer_message(rng, slots, replies.chasers));
            }
            Step::Escalation => {
                let lead = LEADS.get(draft.team_idx).copied().unwrap_or(TRIAGE_LEAD);
                history.begin(at, lead)?;
                let to = Priority::ALL.get(draft.priority_idx).copied().unwrap_or(Priority::P2);
                history.fields(vec![FieldChange::Priority { from: history.priority, to }]);
                history.priority = to;
                history.comment(false, note(rng, replies.escalations, slots));
            }
        }
        Some(())
    }
}

/// What the writing of a history learned that the caller needs.
struct Lived {
    /// The agent the ticket went to, if any.
    agent: Option<usize>,
    /// When it was first answered; [`NOT_YET`] if not by `now`.
    first_response: i64,
}

/// The moves between the first answer (`first_response`) and the resolution, in time order:
/// waits on the customer, on a third party or on another department, notes, the customer's
/// chasers, an escalation. Instants are planned as fractions of the time to resolution; the
/// writing moves agents' actions into business hours and keeps the order.
fn plan_steps(rng: &mut DemoRng, draft: &Draft, first_response: i64, resolution: i64) -> Vec<(i64, Step)> {
    let mut steps = Vec::with_capacity(8);
    let span = if resolution == NOT_YET { 0 } else { resolution.saturating_sub(first_response).max(10 * MINUTE) };
    let at = |fraction: f64| first_response + (span as f64 * fraction) as i64;
    let urgent = draft.priority_idx == 0;
    if draft.spike.is_some() {
        // Linked to the incident at once; most wait for engineering's fix in pending_internal,
        // P1s are kept open and followed.
        let delay = rng.random_range(5 * MINUTE..2 * HOUR);
        let step = if !urgent && chance(rng, 0.65) { Step::WaitStart(Wait::Internal) } else { Step::Note };
        steps.push((first_response + delay, step));
        return steps;
    }
    if draft.life.stale {
        let asked = if chance(rng, 0.4) { first_response } else { resolution - STALE_AUTO_CLOSE_DAYS * DAY };
        steps.push((asked.max(first_response), Step::WaitStart(Wait::Customer)));
        return steps;
    }
    if draft.life.first_contact {
        return steps;
    }
    let push_wait = |steps: &mut Vec<(i64, Step)>, wait: Wait, start: f64, end: f64| {
        steps.push((at(start), Step::WaitStart(wait)));
        steps.push((at(end), Step::WaitEnd(wait)));
    };
    if draft.life.stuck {
        if waits_on_others(draft.category_idx) {
            // The long wait on the contractor, sometimes in two rounds (a visit that failed).
            let start = rng.random_range(0.01..0.08);
            let end = rng.random_range(0.8..0.97);
            if chance(rng, 0.4) {
                let middle = rng.random_range(0.3..0.6);
                push_wait(&mut steps, Wait::ThirdParty, start, middle);
                push_wait(&mut steps, Wait::ThirdParty, middle + rng.random_range(0.005..0.03), end);
            } else {
                push_wait(&mut steps, Wait::ThirdParty, start, end);
            }
        } else {
            let draw = rng.random::<f64>();
            if draw < 0.45 {
                push_wait(&mut steps, Wait::Internal, rng.random_range(0.02..0.1), rng.random_range(0.7..0.95));
            } else if draw < 0.7 {
                let start = if chance(rng, 0.4) { 0.0 } else { rng.random_range(0.02..0.1) };
                push_wait(&mut steps, Wait::Customer, start, rng.random_range(0.5..0.9));
            }
        }
        for _ in 0..rng.random_range(1..=2) {
            steps.push((at(rng.random_range(0.1..0.9)), Step::Note));
        }
        if chance(rng, 0.5) {
            steps.push((at(rng.random_range(0.2..0.9)), Step::Chaser));
        }
    } else {
        let mut cursor = 0.0;
        let ask_share = ASK_CUSTOMER_SHARE[draft.category_idx] * if urgent { 0.25 } else { 1.0 };
        if chance(rng, ask_share) {
            let start = if chance(rng, 0.45) { 0.0 } else { rng.random_range(0.05..0.35) };
            let end = start + rng.random_range(0.15..0.5);
            push_wait(&mut steps, Wait::Customer, start, end);
            cursor = end;
            if chance(rng, 0.2) {
                let start = cursor + rng.random_range(0.02..0.1);
                let end = start + rng.random_range(0.1..0.25);
                if end < 0.95 {
                    push_wait(&mut steps, Wait::Customer, start, end);
                    cursor = end;
                }
            }
        }
        let third_party_share = if waits_on_others(draft.category_idx) { THIRD_PARTY_SHARE } else { 0.0 };
        let internal_share = if waits_on_departments(draft.category_idx) { INTERNAL_WAIT_SHARE } else { 0.0 };
        let urgent_factor = if urgent { 0.2 } else { 1.0 };
        let draw = rng.random::<f64>();
        let wait = if draw < third_party_share * urgent_factor {
            Some(Wait::ThirdParty)
        } else if draw < (third_party_share + internal_share) * urgent_factor {
            Some(Wait::Internal)
        } else {
            None
        };
        if let Some(wait) = wait
            && cursor < 0.7
        {
            let start = cursor + rng.random_range(0.02..0.15);
            let end = start + rng.random_range(0.2..(0.95 - start).max(0.21));
            push_wait(&mut steps, wait, start, end.min(0.96));
        }
        if chance(rng, 0.3) {
            steps.push((at(rng.random_range(0.05..0.95)), Step::Note));
        }
        if span > 2 * DAY && chance(rng, 0.15) {
            steps.push((at(rng.random_range(0.3..0.9)), Step::Chaser));
        }
    }
    if draft.escalated {
        // Raised within the first day, once someone looked at it more closely.
        steps.push((first_response + (span.min(DAY) as f64 * rng.random::<f64>()) as i64, Step::Escalation));
    }
    // Stable: a wait that starts and ends at the same planned instant keeps its order.
    steps.sort_by_key(|&(at, _)| at);
    steps
}

/// A history being written: the events so far and the state they lead to, as far as the next
/// commands need it.
struct History {
    clock: Clock,
    id: TicketId,
    events: Vec<Event>,
    /// The version of the last event, and the one the current command's events get.
    version: i64,
    next_version: i64,
    /// The instant (Unix seconds) and author of the current command.
    at: i64,
    actor: &'static str,
    status: Status,
    assignee: Option<AgentId>,
    priority: Priority,
    tags: Vec<String>,
    /// When the ticket last entered `solved`.
    solved_at: i64,
    /// How many questions the agent asked the customer so far, and how many times the ticket
    /// went to wait on a third party.
    questions_asked: usize,
    third_party_waits: usize,
    /// How many notes of [`Step::Note`] it has.
    notes_written: usize,
}

impl History {
    fn new(clock: Clock, ticket: Ticket, created: i64, actor: &'static str) -> Self {
        let mut history = History {
            clock,
            id: ticket.id.clone(),
            events: Vec::with_capacity(12),
            version: 0,
            next_version: 1,
            at: created,
            actor,
            status: ticket.status,
            assignee: ticket.assignee.clone(),
            priority: ticket.priority,
            tags: ticket.tags.clone(),
            solved_at: NOT_YET,
            questions_asked: 0,
            third_party_waits: 0,
            notes_written: 0,
        };
        history.push(EventKind::TicketCreated(Box::new(ticket)));
        history
    }

    /// Starts a command by `actor` at `at` (or at the previous command's instant, if later).
    /// `None` when that is after `now`: this and the rest of the life have not happened yet.
    fn begin(&mut self, at: i64, actor: &'static str) -> Option<()> {
        let at = at.max(self.at);
        if at > self.clock.now_s {
            return None;
        }
        self.at = at;
        self.actor = actor;
        self.next_version = self.version + 1;
        Some(())
    }

    fn push(&mut self, kind: EventKind) {
        self.version = self.next_version;
        self.events.push(Event {
            seq: 0,
            ticket_id: self.id.clone(),
            version: self.version,
            at: self.clock.at(self.at),
            actor: self.actor.to_owned(),
            kind,
        });
    }

    fn status(&mut self, to: Status) {
        if to == self.status || !lifecycle::is_allowed(self.status, to) {
            return;
        }
        self.push(EventKind::StatusChanged { from: self.status, to });
        self.status = to;
        if to == Status::Solved {
            self.solved_at = self.at;
        }
    }

    fn comment(&mut self, public: bool, mut body: String) {
        // A million tickets hold ten million events: no slack in what they keep.
        body.shrink_to_fit();
        self.push(EventKind::CommentAdded { public, body, first_response: false });
    }

    /// An agent's first public answer, which stops the first-response clock.
    fn first_answer(&mut self, mut body: String) {
        body.shrink_to_fit();
        self.push(EventKind::CommentAdded { public: true, body, first_response: true });
    }

    fn fields(&mut self, changes: Vec<FieldChange>) {
        self.push(EventKind::FieldsChanged(changes));
    }

    fn assign(&mut self, to: Option<AgentId>) {
        if to == self.assignee {
            return;
        }
        let from = std::mem::replace(&mut self.assignee, to.clone());
        self.fields(vec![FieldChange::Assignee { from, to }]);
    }

    fn add_tag(&mut self, tag: &str) {
        if self.tags.iter().any(|existing| existing == tag) {
            return;
        }
        let from = self.tags.clone();
        self.tags.push(tag.to_owned());
        self.fields(vec![FieldChange::Tags { from, to: self.tags.clone() }]);
    }
}

/// The ticket as created, from the first event of its history.
fn created_ticket(history: &[Event]) -> Option<&Ticket> {
    match &history.first()?.kind {
        EventKind::TicketCreated(ticket) => Some(ticket),
        _ => None,
    }
}

fn agent_name(agent_idx: usize) -> &'static str {
    AGENTS.get(agent_idx).map_or(TRIAGE_LEAD, |spec| spec.id)
}

fn agent_first_name(agent_idx: usize) -> &'static str {
    AGENTS.get(agent_idx).and_then(|spec| spec.name.split(' ').next()).unwrap_or("")
}

/// When an agent does something planned at `at`: not before the previous command (a few
/// minutes after it), and, unless on call, in business hours.
fn agent_time(rng: &mut DemoRng, history: &History, at: i64, on_call: bool) -> i64 {
    let at = if at > history.at { at } else { history.at + rng.random_range(MINUTE..20 * MINUTE) };
    if on_call { at } else { working_time(rng, at) }
}

/// The agent's `asked`-th question to the customer: each ticket starts somewhere in the pool
/// and goes on with the next one, so that a second question is not the first one again.
fn nth_question(replies: &CategoryReplies, slots: &Slots, asked: usize) -> &'static str {
    let questions = replies.questions;
    questions.get((slots.order as usize + asked) % questions.len().max(1)).copied().unwrap_or("")
}

/// When a customer writes something due at `at`: not in the small hours, when people sleep.
fn customer_time(rng: &mut DemoRng, at: i64) -> i64 {
    if local_hour(at) >= 7 { at } else { local_day(at) * DAY - LOCAL_OFFSET + 7 * HOUR + rng.random_range(0..3 * HOUR) }
}

/// `at` if the desk is open then, else some minutes after it next opens.
fn working_time(rng: &mut DemoRng, at: i64) -> i64 {
    if in_business_hours(at) { at } else { next_opening(at) + rng.random_range(0..45 * MINUTE) }
}

/// The agents of a team who can take tickets of a category in a language, with their capacity:
/// specialists of the category, generalists, then the others who speak the language; failing
/// that (never, with the directory above), the whole team.
fn candidate_agents(team_idx: usize, category: &str, lang: Lang) -> Candidates {
    let in_team = |spec: &AgentSpec| spec.teams.contains(&team_idx);
    let speaks = |spec: &AgentSpec| spec.languages.is_empty() || spec.languages.contains(&lang);
    let capacity = |spec: &AgentSpec| {
        if spec.categories.is_empty() {
            GENERALIST_CAPACITY
        } else if spec.categories.contains(&category) {
            SPECIALIST_CAPACITY
        } else {
            OFF_SKILL_CAPACITY
        }
    };
    let speaking: Candidates = AGENTS
        .iter()
        .enumerate()
        .filter(|(_, spec)| in_team(spec) && speaks(spec))
        .map(|(agent_idx, spec)| (agent_idx, capacity(spec)))
        .collect();
    if !speaking.is_empty() {
        return speaking;
    }
    AGENTS
        .iter()
        .enumerate()
        .filter(|(_, spec)| in_team(spec))
        .map(|(agent_idx, _)| (agent_idx, OFF_SKILL_CAPACITY))
        .collect()
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

    fn company_words(self) -> &'static CompanyWords {
        match self {
            Lang::En => &COMPANY_WORDS_EN,
            Lang::Fr => &COMPANY_WORDS_FR,
        }
    }

    fn replies(self) -> &'static ReplyText {
        match self {
            Lang::En => &REPLIES_EN,
            Lang::Fr => &REPLIES_FR,
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
    /// The first name of the agent writing, for the signature of replies.
    agent: &'static str,
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
            agent: "",
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
            "agent" => out.write_str(self.agent),
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

/// Whether a customer's sentence only makes sense in writing ("attached", "below"): such
/// sentences are left out of call notes and chat transcripts.
fn written_only(sentence: &str) -> bool {
    ["attach", "below", "pièce jointe", "ci-dessous", "joins"].iter().any(|word| sentence.contains(word))
}

/// A sentence of `pool`, one that can be said aloud when `spoken`.
fn pick_sentence(rng: &mut DemoRng, pool: &[&'static str], spoken: bool) -> &'static str {
    for _attempt in 0..8 {
        let sentence = pick(rng, pool);
        if !spoken || !written_only(sentence) {
            return sentence;
        }
    }
    pool.iter().copied().find(|sentence| !written_only(sentence)).unwrap_or("")
}

#[expect(clippy::too_many_arguments, reason = "the drawn attributes of one ticket, used once")]
fn regular_text(
    rng: &mut DemoRng,
    lang: Lang,
    category: &CategorySpec,
    slots: &Slots,
    priority_idx: usize,
    profile: &CustomerProfile,
    channel: Channel,
    created: i64,
) -> (String, String) {
    let text = &category.text[lang as usize];
    let common = lang.common();
    let spoken = is_live(channel);
    let mut subject = String::with_capacity(48);
    expand(&mut subject, pick(rng, text.subjects), slots);

    // What the customer says, whatever the channel.
    let mut statement = String::with_capacity(240);
    expand(&mut statement, pick_sentence(rng, text.openers, spoken), slots);
    let first_detail = pick_sentence(rng, text.details, spoken);
    statement.push(' ');
    expand(&mut statement, first_detail, slots);
    if chance(rng, 0.5) {
        let second_detail = pick_sentence(rng, text.details, spoken);
        if second_detail != first_detail && !second_detail.is_empty() {
            statement.push(' ');
            expand(&mut statement, second_detail, slots);
        }
    }
    if chance(rng, 0.3) {
        statement.push(' ');
        expand(&mut statement, pick(rng, common.contexts), slots);
    }
    let mut request = String::with_capacity(120);
    expand(&mut request, pick(rng, text.requests), slots);
    // Urgent requests say so more often; low ones sometimes do too.
    if chance(rng, if priority_idx <= 1 { 0.6 } else { 0.15 }) {
        request.push(' ');
        expand(&mut request, pick(rng, common.urgencies), slots);
    }

    let body = match channel {
        Channel::Phone => call_note(rng, lang, slots, profile, &statement, &request),
        Channel::Chat => chat_transcript(lang, slots, created, &statement, &request),
        Channel::Email | Channel::Web | Channel::Social => {
            let mut body = String::with_capacity(420);
            expand(&mut body, pick(rng, common.greetings), slots);
            body.push_str("\n\n");
            body.push_str(&statement);
            if chance(rng, 0.3) {
                body.push(' ');
                expand(&mut body, pick(rng, common.written_contexts), slots);
            }
            if chance(rng, CALLED_BEFORE_SHARE) {
                body.push(' ');
                expand(&mut body, common.called_before, slots);
            }
            body.push_str("\n\n");
            body.push_str(&request);
            sign_letter(rng, &mut body, common, slots, profile);
            body
        }
    };
    (subject, body)
}

/// "Best regards,\nMarie Guérin", sometimes with the company's name.
fn sign_letter(rng: &mut DemoRng, body: &mut String, common: &CommonText, slots: &Slots, profile: &CustomerProfile) {
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
}

/// The note an agent types while on the phone: who called, what they said, what they want.
fn call_note(
    rng: &mut DemoRng,
    lang: Lang,
    slots: &Slots,
    profile: &CustomerProfile,
    statement: &str,
    request: &str,
) -> String {
    let common = lang.common();
    let mut body = String::with_capacity(statement.len() + request.len() + 160);
    let _ = writeln!(body, "{} {} {} ({}).", common.call_from, slots.first, slots.last, profile.name);
    let _ = write!(body, "{}{}{}", common.call_says, statement, common.call_quote_end);
    if !request.is_empty() {
        let _ = write!(body, "\n{}{}{}", common.call_asks, request, common.call_quote_end);
    }
    if chance(rng, 0.5) {
        body.push('\n');
        body.push_str(common.call_back);
        slots.write(&mut body, "phone");
    }
    body
}

/// A chat as the widget records it: the customer's lines, the assistant's hand-over.
fn chat_transcript(lang: Lang, slots: &Slots, created: i64, statement: &str, request: &str) -> String {
    let common = lang.common();
    let local = (created + LOCAL_OFFSET).rem_euclid(DAY);
    let mut body = String::with_capacity(statement.len() + request.len() + 200);
    let name = format!("{} {}", slots.first, slots.last);
    let _ = writeln!(body, "{} {:02}:{:02}", common.chat_header, local / HOUR, local % HOUR / MINUTE);
    let _ = writeln!(body, "{name}{}{}", common.chat_colon, common.chat_hello);
    let _ = writeln!(body, "{name}{}{statement}", common.chat_colon);
    body.push_str(common.chat_bot);
    if !request.is_empty() {
        let _ = write!(body, "\n{name}{}{request}", common.chat_colon);
    }
    body
}

fn spike_text(
    rng: &mut DemoRng,
    lang: Lang,
    spike: &SpikeSpec,
    slots: &Slots,
    channel: Channel,
    created: i64,
    profile: &CustomerProfile,
) -> (String, String) {
    let (subject_template, body_template) = spike.text[lang as usize];
    let common = lang.common();
    // Near-identical subjects: the same words, with the variations people add.
    let mut subject = String::with_capacity(64);
    let variant = rng.random::<f64>();
    if variant < 0.15 {
        subject.push_str("URGENT - ");
    } else if variant < 0.2 && !is_live(channel) {
        subject.push_str(common.reply_prefixes.first().copied().unwrap_or(""));
    }
    expand(&mut subject, subject_template, slots);
    if (0.9..0.97).contains(&variant) {
        subject.push_str(" !!");
    } else if variant >= 0.97 {
        subject.push('?');
    }

    let mut statement = String::with_capacity(360);
    expand(&mut statement, body_template, slots);
    let body = match channel {
        Channel::Phone => call_note(rng, lang, slots, profile, &statement, ""),
        Channel::Chat => chat_transcript(lang, slots, created, &statement, ""),
        Channel::Email | Channel::Web | Channel::Social => {
            let mut body = String::with_capacity(480);
            expand(&mut body, pick(rng, common.greetings), slots);
            body.push_str("\n\n");
            body.push_str(&statement);
            body.push('\n');
            expand(&mut body, common.account_line, slots);
            body.push_str("\n\n");
            body.push_str(pick(rng, common.closings));
            body.push('\n');
            body.push_str(slots.first);
            body.push(' ');
            body.push_str(slots.last);
            body
        }
    };
    (subject, body)
}

/// An agent's public reply: greeting, the lines, signature.
fn agent_reply(rng: &mut DemoRng, lang: Lang, slots: &Slots, lines: &[&str]) -> String {
    let replies = lang.replies();
    let mut body = String::with_capacity(240);
    expand(&mut body, replies.hello, slots);
    body.push_str("\n\n");
    for (line_idx, line) in lines.iter().enumerate() {
        if line_idx > 0 {
            body.push(' ');
        }
        expand(&mut body, line, slots);
    }
    body.push_str("\n\n");
    body.push_str(pick(rng, replies.sign_offs));
    body.push('\n');
    body.push_str(slots.agent);
    body
}

/// A customer's message, signed.
fn customer_message(rng: &mut DemoRng, slots: &Slots, pool: &[&'static str]) -> String {
    let mut body = String::with_capacity(120);
    expand(&mut body, pick(rng, pool), slots);
    body.push_str("\n\n");
    body.push_str(slots.first);
    body.push(' ');
    body.push_str(slots.last);
    body
}

/// An internal note: one line.
fn note(rng: &mut DemoRng, pool: &[&'static str], slots: &Slots) -> String {
    let mut body = String::with_capacity(96);
    expand(&mut body, pick(rng, pool), slots);
    body
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
    /// Context a customer gives on any channel.
    contexts: &'static [&'static str],
    /// Context that only makes sense in writing.
    written_contexts: &'static [&'static str],
    /// "I already called on {date} but nobody got back to me": a rare one, see
    /// [`CALLED_BEFORE_SHARE`].
    called_before: &'static str,
    urgencies: &'static [&'static str],
    closings: &'static [&'static str],
    reminders: &'static [&'static str],
    reply_prefixes: &'static [&'static str],
    account_line: &'static str,
    months: [&'static str; 12],
    /// The parts of a call note: "Call from", "Customer says: \"", "Asks: \"", the closing
    /// quote, "Callback number: ".
    call_from: &'static str,
    call_says: &'static str,
    call_asks: &'static str,
    call_quote_end: &'static str,
    call_back: &'static str,
    /// The parts of a chat transcript: its header, the separator after a speaker's name, the
    /// customer's hello, the assistant's line.
    chat_header: &'static str,
    chat_colon: &'static str,
    chat_hello: &'static str,
    chat_bot: &'static str,
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
    /// The internal note that links a ticket to the spike, English then French.
    wait_note: [&'static str; 2],
    /// The bulk answer sent when the cause is fixed, English then French.
    solved: [&'static str; 2],
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
        wait_note: [
            "Linked to the network incident in {city} ({err} after the maintenance); waiting for the network team's fix.",
            "Rattaché à l'incident réseau de {city} ({err} après la maintenance) ; en attente du correctif de l'équipe réseau.",
        ],
        solved: [
            "The network incident in {city} is over and the service has been restored. If your box still shows a red light, please restart it. We apologise for the inconvenience.",
            "L'incident réseau de {city} est terminé et le service est rétabli. Si votre box affiche encore un voyant rouge, merci de la redémarrer. Nous vous prions de nous excuser pour la gêne occasionnée.",
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
        wait_note: [
            "Duplicate {product} debit: known billing bug, refund batch being prepared by billing ops.",
            "Double prélèvement {product} : bug de facturation connu, lot de remboursements en préparation chez billing ops.",
        ],
        solved: [
            "The duplicate debit of your {product} subscription was caused by an error on our side. It has been refunded today and will show on your account within three working days. We apologise for the inconvenience.",
            "Le double prélèvement de votre abonnement {product} venait d'une erreur de notre part. Il a été remboursé aujourd'hui et apparaîtra sur votre compte sous trois jours ouvrés. Veuillez nous excuser pour ce désagrément.",
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
        wait_note: [
            "Portal bug {err} on invoice PDFs, reported to the web team.",
            "Bug {err} du portail sur les factures PDF, signalé à l'équipe web.",
        ],
        solved: [
            "The error {err} on invoice downloads has been fixed: you can download your invoices from the customer portal again.",
            "L'erreur {err} au téléchargement des factures est corrigée : vous pouvez de nouveau télécharger vos factures sur l'espace client.",
        ],
    },
];

const COMMON_EN: CommonText = CommonText {
    greetings: &["Hello,", "Hi,", "Hello team,", "Dear support team,", "Dear Sir or Madam,", "Dear all,"],
    contexts: &[
        "We have been customers for {n} years and this never happened before.",
        "My colleague in {city} has the same issue.",
        "It is the second time this year.",
    ],
    written_contexts: &[
        "This is the third time I write about this.",
        "I attached a screenshot.",
        "You can reach me at {phone}.",
    ],
    called_before: "I already called on {date} but nobody got back to me.",
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
    call_from: "Call from",
    call_says: "Customer says: \"",
    call_asks: "Asks: \"",
    call_quote_end: "\"",
    call_back: "Callback number: ",
    chat_header: "Chat transcript, started at",
    chat_colon: ": ",
    chat_hello: "Hello",
    chat_bot: "Assistant: Thank you, an advisor will join the conversation in a moment.",
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
        "Mon collègue à {city} a le même problème.",
        "C'est la deuxième fois cette année.",
    ],
    written_contexts: &[
        "C'est la troisième fois que je vous écris à ce sujet.",
        "Je joins une capture d'écran.",
        "Vous pouvez me joindre au {phone}.",
    ],
    called_before: "J'ai déjà appelé le {date} mais personne ne m'a rappelé.",
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
    call_from: "Appel de",
    call_says: "Explique : « ",
    call_asks: "Demande : « ",
    call_quote_end: " »",
    call_back: "Numéro de rappel : ",
    chat_header: "Transcription du chat, ouvert à",
    chat_colon: " : ",
    chat_hello: "Bonjour",
    chat_bot: "Assistant : Merci, un conseiller va rejoindre la conversation.",
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

/// The words of company names, by language: each list sounds like one country's companies.
struct CompanyWords {
    prefixes: &'static [&'static str],
    trades: &'static [&'static str],
    suffixes: &'static [&'static str],
    /// For a branch, when a name is taken.
    cities: &'static [&'static str],
}

const COMPANY_WORDS_EN: CompanyWords = CompanyWords {
    prefixes: &[
        "Atlantic",
        "Northwind",
        "Blue Harbor",
        "Silverline",
        "Greenfield",
        "Riverside",
        "Summit",
        "Horizon",
        "Oakridge",
        "Cascade",
        "Granite",
        "Meridian",
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
    ],
    trades: &[
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
    ],
    suffixes: &["Ltd", "Inc.", "Group", "Holdings", "Partners", "& Co", "PLC", "", ""],
    cities: &["London", "Manchester", "Dublin", "Edinburgh", "Bristol", "Leeds", "Glasgow", "Cardiff"],
};

const COMPANY_WORDS_FR: CompanyWords = CompanyWords {
    prefixes: &[
        "Lumière",
        "Provence",
        "Bretagne",
        "Val de Loire",
        "Saint-Clair",
        "Mont-Blanc",
        "Bellevue",
        "Atlantique",
        "Azur",
        "Alpes",
        "Rhône",
        "Cévennes",
        "Vendée",
        "Armor",
        "Occitanie",
        "Méridien",
        "Horizon",
        "Sud-Ouest",
    ],
    trades: &[
        "Logistique",
        "Énergie",
        "Assurances",
        "Alimentation",
        "Pharma",
        "Conseil",
        "Construction",
        "Textile",
        "Télécom",
        "Informatique",
        "Distribution",
        "Hôtels",
        "Transports",
        "Boulangeries",
        "Automobiles",
        "Imprimerie",
        "Laboratoires",
        "Mobilier",
        "Optique",
        "Immobilier",
        "Médias",
        "Ingénierie",
        "Nettoyage",
        "Bâtiment",
    ],
    suffixes: &["SA", "SAS", "SARL", "", ""],
    cities: &["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux", "Toulouse", "Rennes", "Strasbourg", "Dijon"],
};

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

// ------------------------------------------------------------------------------------------
// What the desk and the customers write in a ticket's history.

/// The comments of a history that do not depend on the category. Slots as in the tickets'
/// texts, plus `{agent}`, the first name of the agent writing.
struct ReplyText {
    hello: &'static str,
    sign_offs: &'static [&'static str],
    /// How a bulk reply (the lead's, for a whole incident) is signed.
    team_signature: &'static str,
    /// First answers: to a written request, after a call, in a chat.
    acks: &'static [&'static str],
    call_recaps: &'static [&'static str],
    chat_acks: &'static [&'static str],
    /// The answer that closes a call or a chat which solved the request.
    first_contact: &'static [&'static str],
    customer_replies: &'static [&'static str],
    /// Before a second question.
    one_more_thing: &'static str,
    chasers: &'static [&'static str],
    reopens: &'static [&'static str],
    solved_again: &'static [&'static str],
    auto_close: &'static str,
    handovers: &'static [&'static str],
    /// Internal notes while the ticket is being worked on, while it waits, and when the wait ends.
    notes: &'static [&'static str],
    waiting_notes: &'static [&'static str],
    /// A second wait on the same third party.
    third_party_again: &'static [&'static str],
    resumed: &'static [&'static str],
    escalations: &'static [&'static str],
}

/// The comments of a history specific to a category: the agent's questions to the customer,
/// the solutions, the internal notes that open a wait on a third party or another department.
struct CategoryReplies {
    questions: &'static [&'static str],
    solutions: &'static [&'static str],
    third_party: &'static [&'static str],
    internal: &'static [&'static str],
}

const REPLIES_EN: ReplyText = ReplyText {
    hello: "Hello {first},",
    sign_offs: &["Best regards,", "Kind regards,", "Regards,"],
    team_signature: "The customer service team",
    acks: &[
        "Thank you for your message. I am looking into it and will come back to you shortly.",
        "Thank you for contacting us. I have taken over your request and I am checking with the team concerned.",
        "We have received your request and I am on it.",
    ],
    call_recaps: &[
        "As discussed on the phone, I am looking into your request and will call you back.",
        "Following our call, here is a written confirmation: your request is being handled.",
    ],
    chat_acks: &[
        "Thank you for waiting. I am checking this for you now.",
        "I am taking over the conversation. Let me check this for you.",
    ],
    first_contact: &[
        "As agreed during our conversation, your request is now handled. Do not hesitate to contact us again if needed.",
        "Here is the summary of our conversation: the issue is solved on our side.",
    ],
    customer_replies: &[
        "Here is the information you asked for.",
        "Please find the document attached.",
        "Thank you, see my answers below.",
        "Done, you should have it now.",
    ],
    one_more_thing: "Thank you for your answer. One more thing:",
    chasers: &[
        "Any news on this?",
        "Is there an update? We are still waiting.",
        "Could you tell me when this will be solved?",
    ],
    reopens: &[
        "Sorry, the problem is back.",
        "This is not solved: nothing has changed on our side.",
        "I still have the same issue, please look at it again.",
    ],
    solved_again: &[
        "I checked again with the team: this time it is fixed for good.",
        "Sorry for the trouble: the remaining issue is now corrected.",
    ],
    auto_close: "We have not heard back from you, so we consider this request solved. Simply reply to this message if you still need help.",
    handovers: &[
        "Back to the team queue: I am away for the next two weeks.",
        "Handing over: I am moving to another team.",
    ],
    notes: &[
        "Customer called for news, told them we are on it.",
        "Checked the history: the same issue was reported last month on this account.",
        "Called the customer, no answer. Left a message.",
        "Checked the account: everything else looks fine.",
    ],
    waiting_notes: &["Reminder sent, no date yet.", "Chased again, answer promised for this week."],
    third_party_again: &[
        "Not solved after the first attempt: sent back to the partner with the customer's feedback.",
        "New request sent to the partner: the first one did not fix it.",
    ],
    resumed: &["Answer received, resuming the case.", "Got the go-ahead, back on it."],
    escalations: &[
        "Priority raised: the customer's business is blocked.",
        "Priority raised at the account manager's request.",
    ],
};

const REPLIES_FR: ReplyText = ReplyText {
    hello: "Bonjour {first},",
    sign_offs: &["Cordialement,", "Bien cordialement,", "Bonne journée,"],
    team_signature: "Le service client",
    acks: &[
        "Merci pour votre message. Je regarde votre demande et reviens vers vous rapidement.",
        "Merci de nous avoir contactés. Je prends en charge votre demande et je vérifie auprès du service concerné.",
        "Nous avons bien reçu votre demande, je m'en occupe.",
    ],
    call_recaps: &[
        "Comme convenu au téléphone, je regarde votre demande et je vous rappelle.",
        "Suite à notre appel, je vous confirme par écrit que votre demande est en cours de traitement.",
    ],
    chat_acks: &[
        "Merci de votre patience. Je vérifie cela tout de suite.",
        "Je prends le relais dans la conversation. Je regarde votre demande.",
    ],
    first_contact: &[
        "Comme convenu lors de notre échange, votre demande est traitée. N'hésitez pas à nous recontacter si besoin.",
        "Voici le résumé de notre échange : le problème est résolu de notre côté.",
    ],
    customer_replies: &[
        "Voici les informations demandées.",
        "Vous trouverez le document en pièce jointe.",
        "Merci, voir mes réponses ci-dessous.",
        "C'est fait, vous devriez l'avoir reçu.",
    ],
    one_more_thing: "Merci pour votre réponse. Encore une chose :",
    chasers: &[
        "Avez-vous du nouveau ?",
        "Où en est notre demande ? Nous attendons toujours.",
        "Pouvez-vous me dire quand ce sera réglé ?",
    ],
    reopens: &[
        "Désolé, le problème est revenu.",
        "Ce n'est pas réglé : rien n'a changé de notre côté.",
        "J'ai toujours le même problème, merci de regarder à nouveau.",
    ],
    solved_again: &[
        "J'ai revu le dossier avec l'équipe : cette fois c'est corrigé pour de bon.",
        "Désolé pour le désagrément : le problème restant est corrigé.",
    ],
    auto_close: "Sans nouvelles de votre part, nous considérons cette demande comme résolue. Il vous suffit de répondre à ce message si vous avez encore besoin d'aide.",
    handovers: &[
        "Je remets le ticket dans la file de l'équipe : absent les deux prochaines semaines.",
        "Je passe la main : je change d'équipe.",
    ],
    notes: &[
        "Le client a appelé pour avoir des nouvelles, je lui ai dit que nous étions dessus.",
        "Vu l'historique : même problème signalé le mois dernier sur ce compte.",
        "Appelé le client, pas de réponse. Message laissé.",
        "Vérifié le compte : le reste est en ordre.",
    ],
    waiting_notes: &["Relance envoyée, pas encore de date.", "Relancé à nouveau, réponse promise pour cette semaine."],
    third_party_again: &[
        "Pas réglé après la première intervention : renvoyé au partenaire avec le retour du client.",
        "Nouvelle demande envoyée au partenaire : la première n'a pas suffi.",
    ],
    resumed: &["Réponse reçue, je reprends le dossier.", "Feu vert reçu, je reprends."],
    escalations: &[
        "Priorité relevée : l'activité du client est bloquée.",
        "Priorité relevée à la demande du commercial du compte.",
    ],
};

/// In the order of [`CATEGORIES`], English then French.
const CATEGORY_REPLIES: [[CategoryReplies; 2]; 9] = [
    // billing
    [
        CategoryReplies {
            questions: &[
                "Could you send us the bank statement showing both debits?",
                "Could you confirm the account the payment of {amount} EUR was made from?",
            ],
            solutions: &[
                "We have refunded {amount} EUR to your account; it will show within five working days.",
                "Invoice {inv} has been cancelled and replaced by a corrected one, available in your customer area.",
                "The second debit has been cancelled; you will not be charged twice again.",
            ],
            third_party: &["Refund file sent to the bank, reference RB-{digits}."],
            internal: &[
                "Refund of {amount} EUR above my limit: asked billing ops for approval.",
                "Asked the finance team to check the payment of {inv}.",
            ],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous envoyer le relevé bancaire montrant les deux prélèvements ?",
                "Pouvez-vous nous confirmer le compte d'où a été payé le montant de {amount} EUR ?",
            ],
            solutions: &[
                "Nous vous avons remboursé {amount} EUR ; le virement apparaîtra sous cinq jours ouvrés.",
                "La facture {inv} est annulée et remplacée par une facture corrigée, disponible dans votre espace client.",
                "Le second prélèvement est annulé ; vous ne serez plus prélevé deux fois.",
            ],
            third_party: &["Dossier de remboursement transmis à la banque, référence RB-{digits}."],
            internal: &[
                "Remboursement de {amount} EUR au-dessus de mon plafond : validation demandée à billing ops.",
                "Demandé à la comptabilité de vérifier le paiement de {inv}.",
            ],
        },
    ],
    // complaint
    [
        CategoryReplies {
            questions: &[
                "Could you tell us the date and time of the call, so that we can listen to the recording?",
                "Could you send us the references of your previous requests?",
            ],
            solutions: &[
                "We are sorry for this experience. As a gesture of goodwill we have credited {amount} EUR to your account.",
                "We have reviewed your case with the team concerned and taken measures so that it does not happen again. Please accept our apologies.",
            ],
            third_party: &["Asked the shop in {city} for their account of the facts."],
            internal: &[
                "Complaint sent to the quality manager for review.",
                "Asked customer relations for a compensation decision.",
            ],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous indiquer la date et l'heure de l'appel, afin que nous écoutions l'enregistrement ?",
                "Pourriez-vous nous envoyer les références de vos demandes précédentes ?",
            ],
            solutions: &[
                "Nous sommes désolés de cette expérience. À titre commercial, nous avons crédité {amount} EUR sur votre compte.",
                "Nous avons revu votre dossier avec le service concerné et pris des mesures pour que cela ne se reproduise pas. Veuillez accepter nos excuses.",
            ],
            third_party: &["Demandé à la boutique de {city} leur version des faits."],
            internal: &[
                "Réclamation transmise au responsable qualité.",
                "Demandé à la relation client une décision de geste commercial.",
            ],
        },
    ],
    // incident
    [
        CategoryReplies {
            questions: &[
                "Could you restart the {product} and tell us which lights are on?",
                "Does the error {err} also appear on another device?",
            ],
            solutions: &[
                "The fault has been repaired and the service is back to normal. Thank you for your patience.",
                "We reset your line remotely; the {product} is working again.",
            ],
            third_party: &[
                "Escalated to the network operator, ticket NOC-{digits}.",
                "Field intervention requested from the partner, work order WO-{digits}.",
            ],
            internal: &["Escalated to level 2 support with the logs."],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous redémarrer le {product} et nous dire quels voyants sont allumés ?",
                "L'erreur {err} apparaît-elle aussi sur un autre appareil ?",
            ],
            solutions: &[
                "La panne est réparée et le service fonctionne de nouveau. Merci de votre patience.",
                "Nous avons réinitialisé votre ligne à distance ; le {product} fonctionne de nouveau.",
            ],
            third_party: &[
                "Escaladé à l'opérateur réseau, ticket NOC-{digits}.",
                "Intervention demandée au partenaire terrain, ordre de travail WO-{digits}.",
            ],
            internal: &["Escaladé au support niveau 2 avec les journaux."],
        },
    ],
    // admin_update
    [
        CategoryReplies {
            questions: &[
                "Could you send us a proof of address dated less than three months ago?",
                "Could you send us the signed mandate for the new bank details?",
            ],
            solutions: &[
                "Your details have been updated; the next invoice will use them.",
                "The change is done on account {acct}. You will receive the updated contract by e-mail.",
            ],
            third_party: &["New mandate sent to the bank for validation."],
            internal: &["Change of legal entity: asked the contracts team for an amendment."],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous envoyer un justificatif de domicile de moins de trois mois ?",
                "Pourriez-vous nous renvoyer le mandat signé pour les nouvelles coordonnées bancaires ?",
            ],
            solutions: &[
                "Vos coordonnées sont mises à jour ; la prochaine facture en tiendra compte.",
                "La modification est faite sur le compte {acct}. Vous recevrez le contrat mis à jour par e-mail.",
            ],
            third_party: &["Nouveau mandat transmis à la banque pour validation."],
            internal: &["Changement de raison sociale : avenant demandé au service contrats."],
        },
    ],
    // account
    [
        CategoryReplies {
            questions: &[
                "Could you confirm the e-mail address linked to the account?",
                "Could you give us the name and e-mail address of the colleague to add?",
            ],
            solutions: &[
                "Your account is unlocked: you will receive a new link in a few minutes.",
                "Your access has been reset. You can log in with the link we just sent.",
            ],
            third_party: &["Asked the identity provider to reset the second factor."],
            internal: &["Asked IT to check why the account locks."],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous confirmer l'adresse e-mail liée au compte ?",
                "Pourriez-vous nous donner le nom et l'adresse e-mail du collègue à ajouter ?",
            ],
            solutions: &[
                "Votre compte est débloqué : vous allez recevoir un nouveau lien dans quelques minutes.",
                "Votre accès est réinitialisé. Vous pouvez vous connecter avec le lien que nous venons d'envoyer.",
            ],
            third_party: &["Demandé au fournisseur d'identité de réinitialiser le second facteur."],
            internal: &["Demandé à l'informatique pourquoi le compte se bloque."],
        },
    ],
    // delivery
    [
        CategoryReplies {
            questions: &[
                "Could you send us a photo of the parcel and of the delivery slip?",
                "Could you confirm the delivery address for order {order}?",
            ],
            solutions: &[
                "A replacement has been shipped today; you will receive the tracking number by e-mail.",
                "The carrier has found your parcel; it will be delivered tomorrow.",
                "Here is your prepaid return label; the refund will follow once we receive the item.",
            ],
            third_party: &[
                "Claim opened with the carrier, reference CL-{digits}.",
                "Asked the warehouse to check what was shipped for {order}.",
            ],
            internal: &["Asked logistics to approve a replacement."],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous envoyer une photo du colis et du bon de livraison ?",
                "Pouvez-vous nous confirmer l'adresse de livraison de la commande {order} ?",
            ],
            solutions: &[
                "Un remplacement est parti aujourd'hui ; vous recevrez le numéro de suivi par e-mail.",
                "Le transporteur a retrouvé votre colis ; il sera livré demain.",
                "Voici votre étiquette de retour prépayée ; le remboursement suivra à réception de l'article.",
            ],
            third_party: &[
                "Réclamation ouverte auprès du transporteur, référence CL-{digits}.",
                "Demandé à l'entrepôt de vérifier ce qui a été expédié pour {order}.",
            ],
            internal: &["Demandé à la logistique de valider un remplacement."],
        },
    ],
    // meter_reading
    [
        CategoryReplies {
            questions: &[
                "Could you send us a photo of the meter display?",
                "Could you give us the number written on the front of the meter?",
            ],
            solutions: &[
                "The index has been corrected and a new invoice issued for {acct}.",
                "We replaced the estimate with your reading; the difference will be deducted from your next invoice.",
            ],
            third_party: &["Check requested from the grid operator, reference GRD-{digits}."],
            internal: &["Asked billing ops to re-issue the invoice with the corrected index."],
        },
        CategoryReplies {
            questions: &[
                "Pourriez-vous nous envoyer une photo de l'écran du compteur ?",
                "Pourriez-vous nous donner le numéro inscrit sur la face avant du compteur ?",
            ],
            solutions: &[
                "L'index est corrigé et une nouvelle facture a été émise pour {acct}.",
                "Nous avons remplacé l'estimation par votre relevé ; la différence sera déduite de votre prochaine facture.",
            ],
            third_party: &["Vérification demandée au gestionnaire de réseau, référence GRD-{digits}."],
            internal: &["Demandé à billing ops de réémettre la facture avec l'index corrigé."],
        },
    ],
    // technician_visit
    [
        CategoryReplies {
            questions: &[
                "Which days next week would suit you for the visit?",
                "Could you confirm that someone will be on site to let the technician in?",
            ],
            solutions: &[
                "The technician came and the repair is done. Thank you for your patience.",
                "The installation of your {product} is completed and tested.",
            ],
            third_party: &[
                "Work order WO-{digits} sent to the contractor, visit to be scheduled.",
                "Contractor asked for a new slot: the previous visit could not take place.",
            ],
            internal: &["Asked planning for an earlier slot."],
        },
        CategoryReplies {
            questions: &[
                "Quels jours de la semaine prochaine vous conviendraient pour l'intervention ?",
                "Pouvez-vous nous confirmer que quelqu'un sera sur place pour ouvrir au technicien ?",
            ],
            solutions: &[
                "Le technicien est passé et la réparation est faite. Merci de votre patience.",
                "L'installation de votre {product} est terminée et testée.",
            ],
            third_party: &[
                "Ordre de travail WO-{digits} envoyé au sous-traitant, passage à planifier.",
                "Nouveau créneau demandé au sous-traitant : l'intervention prévue n'a pas pu avoir lieu.",
            ],
            internal: &["Demandé au planning un créneau plus tôt."],
        },
    ],
    // gdpr_request
    [
        CategoryReplies {
            questions: &[
                "To protect your data, could you send us a copy of an identity document?",
                "Does your request also cover the data of your former address?",
            ],
            solutions: &[
                "Your personal data has been deleted, except what the law requires us to keep.",
                "You will find attached a copy of the personal data we hold about you.",
            ],
            third_party: &["Extraction requested from the call-recording provider."],
            internal: &["Request forwarded to the data protection officer."],
        },
        CategoryReplies {
            questions: &[
                "Pour protéger vos données, pourriez-vous nous envoyer la copie d'une pièce d'identité ?",
                "Votre demande concerne-t-elle aussi les données liées à votre ancienne adresse ?",
            ],
            solutions: &[
                "Vos données personnelles ont été supprimées, sauf celles que la loi nous oblige à conserver.",
                "Vous trouverez ci-joint une copie des données personnelles que nous détenons sur vous.",
            ],
            third_party: &["Extraction demandée au prestataire d'enregistrement des appels."],
            internal: &["Demande transmise au délégué à la protection des données."],
        },
    ],
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use vigie_core::event::{apply, replay};

    use super::*;

    fn now() -> Timestamp {
        // A Monday, 09:15 in Paris: the morning ritual.
        "2026-03-02T08:15:00Z".parse().expect("a valid timestamp")
    }

    fn demo(n_tickets: usize, seed: u64) -> DemoData {
        generate(&DemoConfig { n_tickets, seed, now: now() })
    }

    /// The tickets as they stand at `now`: the replay of their histories.
    fn finals(data: &DemoData) -> Vec<Ticket> {
        data.histories
            .iter()
            .map(|history| replay(history).expect("a demo history replays").expect("a history is never empty"))
            .collect()
    }

    fn is_spoken(channel: Channel) -> bool {
        matches!(channel, Channel::Phone | Channel::Chat)
    }

    #[test]
    fn demo_is_deterministic() {
        let first = demo(3_000, 7);
        let second = demo(3_000, 7);
        assert!(first == second, "the same seed must give the same data");
        let other = demo(3_000, 8);
        assert_ne!(first.histories, other.histories, "another seed gives another history");
    }

    #[test]
    fn demo_histories_are_real_lives() {
        let data = demo(5_000, 42);
        let now = now();
        let agents: HashMap<&str, &Agent> = data.agents.iter().map(|agent| (agent.id.as_str(), agent)).collect();
        let mut reopened = 0;
        let mut escalated = 0;
        let mut triaged = 0;
        for history in &data.histories {
            let created = created_ticket(history).expect("a history starts with ticket_created");
            let id = created.id.as_str();
            assert_eq!(created.status, Status::New, "{id}");
            assert_eq!(created.version, 1, "{id}");
            assert_eq!(created.assignee, None, "{id}");
            assert_eq!((created.first_response_at, created.resolved_at, created.csat), (None, None, None), "{id}");
            assert_eq!(created.updated_at, created.created_at, "{id}");
            assert_eq!(history[0].at, created.created_at, "{id}");

            let mut ticket: Option<Ticket> = None;
            let mut previous: Option<&Event> = None;
            let mut last_solved = None;
            let mut last_status_change = None;
            for event in history {
                assert_eq!(event.ticket_id, created.id, "{id}");
                assert!(event.at <= now, "{id}: {} after now", event.at);
                match previous {
                    None => assert_eq!(event.version, 1, "{id}"),
                    Some(previous) => {
                        assert!(event.at >= previous.at, "{id}: time goes back at version {}", event.version);
                        if event.version == previous.version {
                            assert_eq!((event.at, &event.actor), (previous.at, &previous.actor), "{id}: one command");
                        } else {
                            assert_eq!(event.version, previous.version + 1, "{id}: versions go up by one");
                        }
                    }
                }
                let actor = event.actor.as_str();
                match (&event.kind, &ticket) {
                    (EventKind::TicketCreated(_), None) => {}
                    (EventKind::TicketCreated(_), Some(_)) => panic!("{id}: created twice"),
                    (_, None) => panic!("{id}: an event before the creation"),
                    (EventKind::StatusChanged { from, to }, Some(current)) => {
                        assert_eq!(*from, current.status, "{id}");
                        assert!(lifecycle::is_allowed(*from, *to), "{id}: {from} -> {to}");
                        if *to == Status::Solved {
                            last_solved = Some(event.at);
                        }
                        if *to == Status::Closed {
                            assert_eq!(actor, SYSTEM, "{id}: closes are automatic");
                        }
                        if *from == Status::Solved && *to == Status::Open {
                            reopened += 1;
                        }
                        last_status_change = Some(event);
                    }
                    (EventKind::FieldsChanged(changes), Some(current)) => {
                        for change in changes {
                            match change {
                                FieldChange::Team { from, to } => {
                                    assert_eq!((from, actor), (&None, TRIAGE_LEAD), "{id}: triage");
                                    assert!(to.is_some(), "{id}");
                                    triaged += 1;
                                }
                                FieldChange::Assignee { from, to } => {
                                    assert_eq!(from, &current.assignee, "{id}");
                                    if let Some(agent) = to {
                                        let team = current.team.as_ref().expect("assigned within a team");
                                        let agent = agents.get(agent.as_str()).expect("a known agent");
                                        assert!(agent.teams.contains(team), "{id}: {} not in {team}", agent.id);
                                    }
                                }
                                FieldChange::Priority { from, to } => {
                                    assert_eq!(*from, current.priority, "{id}");
                                    assert!(to < from, "{id}: escalations raise the priority");
                                    assert!(actor.starts_with("lead."), "{id}: {actor}");
                                    escalated += 1;
                                }
                                FieldChange::Tags { from, to } => {
                                    assert_eq!(from, &current.tags, "{id}");
                                    assert!(to.len() == from.len() + 1 && to.starts_with(from), "{id}: a tag added");
                                }
                                FieldChange::Csat { from, to } => {
                                    assert_eq!((from, current.status, actor), (&None, Status::Solved, SURVEY), "{id}");
                                    assert!(to.is_some_and(|csat| (1..=5).contains(&csat)), "{id}");
                                }
                                other => panic!("{id}: unexpected change {other:?}"),
                            }
                        }
                    }
                    (EventKind::CommentAdded { public, body, first_response }, Some(current)) => {
                        assert!(!body.trim().is_empty() && !body.contains(['{', '}']), "{id}: {body:?}");
                        if *first_response {
                            assert!(*public && current.first_response_at.is_none(), "{id}");
                            assert!(agents.contains_key(actor), "{id}: first answered by {actor}");
                        }
                    }
                    (kind, Some(_)) => panic!("{id}: the generator records no SLA bookkeeping, found {}", kind.name()),
                }
                ticket = Some(apply(ticket, event).expect("each event applies"));
                previous = Some(event);
            }
            let ticket = ticket.expect("a ticket");
            let last = history.last().expect("a history");
            assert_eq!((ticket.version, ticket.updated_at), (last.version, last.at), "{id}");
            assert_eq!(ticket.resolved_at, if ticket.status.is_open() { None } else { last_solved }, "{id}");
            if matches!(ticket.status, Status::PendingCustomer | Status::PendingThirdParty | Status::PendingInternal) {
                // Somebody put it there, after its first answer.
                let change = last_status_change.expect("a pending ticket changed status");
                assert!(agents.contains_key(change.actor.as_str()), "{id}: put on hold by {}", change.actor);
                assert!(ticket.first_response_at.is_some_and(|at| at <= change.at), "{id}");
            }
            if ticket.status != Status::New {
                assert!(ticket.first_response_at.is_some(), "{id}: answered before anything else");
            }
        }
        assert!(reopened > 20, "a few reopenings: {reopened}");
        assert!(escalated > 20, "a few escalations: {escalated}");
        assert!(triaged > 200, "the lead triages: {triaged}");
    }

    #[test]
    fn demo_tickets_keep_the_core_invariants() {
        let data = demo(5_000, 42);
        let tickets = finals(&data);
        let now = now();
        assert_eq!(tickets.len(), 5_000);
        for (ticket_idx, ticket) in tickets.iter().enumerate() {
            let id = ticket.id.as_str();
            assert_eq!(id, format!("D-{}", ticket_idx + 1));
            assert!(TicketId::parse(id).is_ok());
            assert!(ticket.version >= 1, "{id}");
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
        assert!(tickets.windows(2).all(|pair| pair[0].created_at <= pair[1].created_at), "sorted by created_at");
        let earliest = tickets.first().map(|ticket| ticket.created_at).expect("tickets");
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
        for ticket in &finals(&data) {
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
        let tickets = finals(&data);
        let now_s = now().as_second();
        let n = tickets.len() as f64;
        let open: Vec<&Ticket> = tickets.iter().filter(|ticket| ticket.status.is_open()).collect();
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
            assert!(tickets.iter().any(|ticket| ticket.status == *status), "no {status} ticket");
        }
        let solved: Vec<&Ticket> = tickets.iter().filter(|ticket| !ticket.status.is_open()).collect();
        let rated: Vec<u8> = solved.iter().filter_map(|ticket| ticket.csat).collect();
        let rated_share = rated.len() as f64 / solved.len() as f64;
        assert!((0.3..=0.45).contains(&rated_share), "csat share {rated_share}");
        let happy = rated.iter().filter(|&&csat| csat >= 4).count() as f64 / rated.len() as f64;
        assert!(happy > 0.55, "csat skewed to 4-5: {happy}");
        let legal = tickets.iter().filter(|ticket| ticket.legal_risk).count() as f64 / n;
        let blocking = tickets.iter().filter(|ticket| ticket.blocking).count() as f64 / n;
        assert!((0.005..=0.02).contains(&legal), "legal risk {legal}");
        assert!((0.015..=0.05).contains(&blocking), "blocking {blocking}");
        let strategic = data.customers.iter().filter(|customer| customer.tier == CustomerTier::Strategic).count();
        assert!(strategic >= 3, "strategic customers: {strategic}");
        // Assigned: most non-new tickets.
        let non_new: Vec<&Ticket> = tickets.iter().filter(|ticket| ticket.status != Status::New).collect();
        let assigned = non_new.iter().filter(|ticket| ticket.assignee.is_some()).count() as f64 / non_new.len() as f64;
        assert!(assigned > 0.9, "assigned {assigned}");
        // The outage: at least 30 near-identical subjects on one day.
        let mut by_subject: HashMap<(String, i64), usize> = HashMap::new();
        for ticket in &tickets {
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
    fn demo_urgent_tickets_move() {
        let data = demo(20_000, 42);
        let tickets = finals(&data);
        let now_s = now().as_second();
        let age_days = |ticket: &Ticket| (now_s - ticket.created_at.as_second()) as f64 / DAY as f64;
        let open_urgent: Vec<&Ticket> =
            tickets.iter().filter(|ticket| ticket.status.is_open() && ticket.priority <= Priority::P2).collect();
        let old_urgent = open_urgent.iter().filter(|ticket| age_days(ticket) > 7.0).count();
        assert!(old_urgent * 20 <= open_urgent.len(), "{old_urgent} of {} open P1/P2 over a week", open_urgent.len());
        assert!(open_urgent.iter().all(|ticket| age_days(ticket) < 30.0), "no P1/P2 open for a month");
        // Open P1s are being worked on, not parked.
        let open_p1: Vec<&Ticket> =
            open_urgent.iter().copied().filter(|ticket| ticket.priority == Priority::P1).collect();
        let active = open_p1.iter().filter(|ticket| matches!(ticket.status, Status::New | Status::Open)).count();
        assert!(active * 10 >= open_p1.len() * 8, "{active} of {} open P1s new or open", open_p1.len());
        // Outage reports are urgent.
        let outages: Vec<&Ticket> =
            tickets.iter().filter(|ticket| ticket.tags.iter().any(|tag| tag == "outage")).collect();
        assert!(outages.iter().all(|ticket| ticket.priority <= Priority::P3), "no P4 outage");
        let urgent_outages = outages.iter().filter(|ticket| ticket.priority <= Priority::P2).count();
        assert!(urgent_outages * 10 >= outages.len() * 8, "{urgent_outages} of {} outages P1/P2", outages.len());
        // The long tail is mostly P3/P4 waiting on others.
        let very_old: Vec<&Ticket> =
            tickets.iter().filter(|ticket| ticket.status.is_open() && age_days(ticket) > 60.0).collect();
        assert!(very_old.iter().all(|ticket| ticket.priority >= Priority::P3), "old open tickets are P3/P4");
    }

    #[test]
    fn demo_texts_fit_their_channel() {
        let data = demo(10_000, 42);
        let tickets = finals(&data);
        let mut called_before = 0;
        for ticket in &tickets {
            let body = ticket.body.as_str();
            if is_spoken(ticket.channel) {
                let expected: &[&str] = match ticket.channel {
                    Channel::Phone => &["Call from ", "Appel de "],
                    _ => &["Chat transcript", "Transcription du chat"],
                };
                assert!(expected.iter().any(|start| body.starts_with(start)), "{}: {body:?}", ticket.id);
                for written in ["attach", "pièce jointe", "joins", "Dear", "below", "ci-dessous", "Regards"] {
                    assert!(!body.contains(written), "{}: {written:?} in {body:?}", ticket.id);
                }
            }
            if body.contains("but nobody got back to me") || body.contains("mais personne ne m'a rappelé") {
                called_before += 1;
            }
        }
        let share = called_before as f64 / tickets.len() as f64;
        assert!(share < 0.04, "'I already called' in {share:.3} of the tickets");
    }

    #[test]
    fn demo_company_names_match_their_language() {
        let mut rng = stream_rng(5, Stream::Directory);
        let profiles = draw_customers(&mut rng, 2_000);
        for profile in &profiles {
            let words: Vec<&str> = profile.name.split([' ', '(', ')']).collect();
            let foreign: &[&str] = match profile.lang {
                Lang::En => &["SAS", "SARL", "SA", "GmbH", "Bretagne", "Provence", "Logistique", "Fils"],
                Lang::Fr => &["Ltd", "Inc.", "PLC", "GmbH", "Logistics", "Holdings", "London"],
            };
            assert!(!words.iter().any(|word| foreign.contains(word)), "{:?}: {}", profile.lang, profile.name);
        }
    }

    #[test]
    fn demo_balances_open_work_within_teams() {
        let data = demo(20_000, 42);
        let mut open_by_agent: HashMap<&str, usize> = data.agents.iter().map(|agent| (agent.id.as_str(), 0)).collect();
        let tickets = finals(&data);
        for ticket in &tickets {
            if ticket.status.is_open()
                && let Some(agent) = &ticket.assignee
            {
                *open_by_agent.entry(agent.as_str()).or_default() += 1;
            }
        }
        // Specialists of one team carry comparable loads.
        for team in &data.teams {
            let loads: Vec<usize> = data
                .agents
                .iter()
                .filter(|agent| agent.teams == [team.id.clone()] && !agent.skill_categories.is_empty())
                .map(|agent| open_by_agent.get(agent.id.as_str()).copied().unwrap_or(0))
                .collect();
            let (Some(&min), Some(&max)) = (loads.iter().min(), loads.iter().max()) else { continue };
            assert!(max <= 3 * min.max(1), "{}: open loads {loads:?}", team.id);
        }
    }

    #[test]
    fn demo_respects_any_now() {
        // A fractional second, a Saturday night: nothing may land after `now`.
        for text in ["2026-03-07T22:41:07.123456789Z", "2026-07-14T03:00:00Z"] {
            let now: Timestamp = text.parse().expect("a valid timestamp");
            let data = generate(&DemoConfig { n_tickets: 2_000, seed: 3, now });
            for history in &data.histories {
                assert!(history.iter().all(|event| event.at <= now), "{}", history[0].ticket_id);
                assert!(history.windows(2).all(|pair| pair[0].at <= pair[1].at), "{}", history[0].ticket_id);
            }
            let tickets = finals(&data);
            for ticket in &tickets {
                let latest =
                    [Some(ticket.created_at), Some(ticket.updated_at), ticket.first_response_at, ticket.resolved_at];
                assert!(latest.into_iter().flatten().all(|at| at <= now), "{}", ticket.id);
                assert!(ticket.updated_at >= ticket.created_at, "{}", ticket.id);
            }
            assert!(tickets.iter().any(|ticket| ticket.status == Status::New), "{text}");
        }
    }

    #[test]
    fn tiny_demos_work() {
        for n_tickets in [0, 1, 7, 50, 199, 200] {
            let data = demo(n_tickets, 1);
            assert_eq!(data.histories.len(), n_tickets);
            assert_eq!(finals(&data).len(), n_tickets);
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
            let replies = lang.replies();
            let mut templates: Vec<&str> = Vec::new();
            for (category_idx, category) in CATEGORIES.iter().enumerate() {
                let text = &category.text[lang as usize];
                for pool in [text.subjects, text.openers, text.details, text.requests] {
                    assert!(!pool.is_empty(), "{}: empty pool", category.slug);
                    templates.extend(pool);
                }
                let category_replies = &CATEGORY_REPLIES[category_idx][lang as usize];
                for pool in [
                    category_replies.questions,
                    category_replies.solutions,
                    category_replies.third_party,
                    category_replies.internal,
                ] {
                    assert!(!pool.is_empty(), "{}: empty reply pool", category.slug);
                    templates.extend(pool);
                }
            }
            for pool in [common.greetings, common.contexts, common.written_contexts, common.urgencies, common.closings]
            {
                templates.extend(pool);
            }
            templates.extend(common.reminders);
            templates.push(common.account_line);
            templates.push(common.called_before);
            for pool in [
                replies.sign_offs,
                replies.acks,
                replies.call_recaps,
                replies.chat_acks,
                replies.first_contact,
                replies.customer_replies,
                replies.chasers,
                replies.reopens,
                replies.solved_again,
                replies.handovers,
                replies.notes,
                replies.waiting_notes,
                replies.third_party_again,
                replies.resumed,
                replies.escalations,
            ] {
                assert!(!pool.is_empty());
                templates.extend(pool);
            }
            templates.push(replies.hello);
            templates.push(replies.one_more_thing);
            templates.push(replies.auto_close);
            for spike in &SPIKES {
                let (subject, body) = spike.text[lang as usize];
                templates.extend([subject, body, spike.wait_note[lang as usize], spike.solved[lang as usize]]);
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

    fn print_history(history: &[Event]) {
        for event in history {
            let what = match &event.kind {
                EventKind::TicketCreated(ticket) => {
                    format!(
                        "ticket_created {} {} team={:?}",
                        ticket.priority,
                        ticket.channel,
                        ticket.team.as_ref().map(TeamId::as_str)
                    )
                }
                EventKind::StatusChanged { from, to } => format!("status_changed {from} -> {to}"),
                EventKind::SlaApplied { .. }
                | EventKind::SlaAtRisk { .. }
                | EventKind::SlaBreached { .. }
                | EventKind::DuplicatesSuggested { .. }
                | EventKind::MergedInto { .. }
                | EventKind::MergedFrom { .. }
                | EventKind::RuleApplied { .. }
                | EventKind::MessageQueued { .. }
                | EventKind::HandedOver { .. } => event.kind.name().to_owned(),
                EventKind::FieldsChanged(changes) => {
                    let changes: Vec<String> = changes
                        .iter()
                        .map(|change| {
                            let (from, to) = change.values();
                            format!("{} {from:?} -> {to:?}", change.field().name())
                        })
                        .collect();
                    format!("fields_changed {}", changes.join(", "))
                }
                EventKind::CommentAdded { public, body, first_response } => format!(
                    "comment_added {}{} {:?}",
                    if *public { "public" } else { "internal" },
                    if *first_response { " first_response" } else { "" },
                    body.replace("\n\n", " / ").replace('\n', " / ").chars().take(90).collect::<String>()
                ),
            };
            println!("  v{:<2} {} {:<18} {what}", event.version, event.at.strftime("%Y-%m-%d %H:%M"), event.actor);
        }
    }

    #[test]
    fn demo_summary() {
        // Prints the shape of the default demo (`cargo test -p vigie demo_summary -- --nocapture`;
        // `VIGIE_DEMO_SUMMARY_N=50000` for another size).
        let n_tickets = std::env::var("VIGIE_DEMO_SUMMARY_N").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let data = demo(n_tickets, 42);
        let tickets = finals(&data);
        let now_s = now().as_second();
        let n_events: usize = data.histories.iter().map(Vec::len).sum();
        let n_commands: i64 = tickets.iter().map(|t| t.version).sum();
        println!(
            "{} tickets, {n_events} events ({:.2} a ticket), {:.2} commands a ticket",
            tickets.len(),
            n_events as f64 / tickets.len() as f64,
            n_commands as f64 / tickets.len() as f64
        );
        let by_status: Vec<(Status, usize)> =
            Status::ALL.iter().map(|&status| (status, tickets.iter().filter(|t| t.status == status).count())).collect();
        println!("by status: {by_status:?}");
        let open: Vec<&Ticket> = tickets.iter().filter(|t| t.status.is_open()).collect();
        println!("open: {} ({:.1} %)", open.len(), 100.0 * open.len() as f64 / tickets.len() as f64);
        let buckets = [
            (0.0, 1.0 / 24.0),
            (1.0 / 24.0, 1.0),
            (1.0, 3.0),
            (3.0, 7.0),
            (7.0, 30.0),
            (30.0, 60.0),
            (60.0, 90.0),
            (90.0, 121.0),
        ];
        for (low, high) in buckets {
            let aged: Vec<&&Ticket> = open
                .iter()
                .filter(|t| {
                    let age = (now_s - t.created_at.as_second()) as f64 / DAY as f64;
                    age >= low && age < high
                })
                .collect();
            let by_priority: Vec<usize> =
                Priority::ALL.iter().map(|&p| aged.iter().filter(|t| t.priority == p).count()).collect();
            let by_status: Vec<usize> = [
                Status::New,
                Status::Open,
                Status::PendingCustomer,
                Status::PendingThirdParty,
                Status::PendingInternal,
            ]
            .iter()
            .map(|&status| aged.iter().filter(|t| t.status == status).count())
            .collect();
            println!(
                "open aged [{low:.2}, {high}) days: {} (P1..P4 {by_priority:?}, new/open/pc/p3p/pi {by_status:?})",
                aged.len()
            );
        }
        for priority in Priority::ALL {
            let statuses: Vec<(Status, usize)> = Status::ALL
                .iter()
                .filter(|status| status.is_open())
                .map(|&status| (status, open.iter().filter(|t| t.priority == *priority && t.status == status).count()))
                .collect();
            println!("open {priority}: {statuses:?}");
        }
        let mut load: Vec<(&str, usize)> = data
            .agents
            .iter()
            .map(|agent| (agent.id.as_str(), open.iter().filter(|t| t.assignee.as_ref() == Some(&agent.id)).count()))
            .collect();
        load.sort_by_key(|&(_, count)| count);
        println!("open load by agent: {load:?}");
        let outages: Vec<&Ticket> = tickets.iter().filter(|t| t.tags.iter().any(|tag| tag == "outage")).collect();
        let outage_priorities: Vec<usize> =
            Priority::ALL.iter().map(|&p| outages.iter().filter(|t| t.priority == p).count()).collect();
        println!("outage tickets P1..P4: {outage_priorities:?}");
        let called = tickets
            .iter()
            .filter(|t| t.body.contains("nobody got back") || t.body.contains("personne ne m'a rappelé"))
            .count();
        println!("'already called' bodies: {called}");
        let resends = tickets.iter().filter(|t| t.body.contains("\n> ")).count();
        println!("re-sends: {resends}");
        let closed = data.histories.iter().find(|h| {
            h.len() >= 9
                && replay(h.iter()).ok().flatten().is_some_and(|t| t.status == Status::Closed && t.csat.is_some())
        });
        let pending = data.histories.iter().rev().find(|h| {
            replay(h.iter()).ok().flatten().is_some_and(|t| t.status == Status::PendingThirdParty && h.len() >= 10)
        });
        for history in [closed, pending].into_iter().flatten() {
            println!("--- {}", history[0].ticket_id);
            print_history(history);
        }
        for ticket in tickets.iter().filter(|t| is_spoken(t.channel)).rev().take(2) {
            println!("--- {} {} {}\n{}\n{}", ticket.id, ticket.channel, ticket.status, ticket.subject, ticket.body);
        }
    }
}
