//! One replication: a discrete-event simulation of the backlog, exactly as
//! `shared/bench/SIMULATION.md` defines it.
//!
//! - Arrivals of each class are a Poisson process with hourly rates, drawn up front as
//!   exponential gaps restarted at every hour boundary; each ticket's service time (lognormal)
//!   is drawn with it, from a second stream. Both streams come from the replication's seed
//!   only, so every policy of a comparison sees the same tickets with the same service times
//!   (common random numbers: the differences are the policies', not the dice's).
//! - Within a class every policy serves in arrival order (a class has one SLA target, so the
//!   earliest deadline is the earliest arrival), so the waiting room is one FIFO per class and
//!   a policy only decides which class's head goes next.
//! - Handover at every shift boundary: the crew on duty goes home after the ticket in hand
//!   (its completion carries the crew's epoch, now stale), and c(t) fresh agents start on the
//!   waiting tickets. The boundary is processed before anything else at the same instant.
//! - Outsourced teams are pools of their own, with their own epoch.
//!
//! The metrics are computed as the tickets pass (waits when service starts, SLA outcomes),
//! so nothing per ticket is kept after its completion but its wait.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::scenario::Scenario;
use super::{Policy, WEEK};

/// What one replication measured for one class, or for all (`SIMULATION.md`, "Outputs").
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub arrived: u64,
    pub started: u64,
    /// NaN when no ticket started.
    pub mean_wait: f64,
    pub p90_wait: f64,
    /// NaN when no ticket's SLA outcome is known at the horizon.
    pub sla_share: f64,
    pub backlog_end: u64,
}

/// What one replication measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Replication {
    pub seed: u64,
    /// Per class, in the scenario's order.
    pub classes: Vec<Outcome>,
    pub all: Outcome,
    /// Open tickets at the start and at the end of every day (index d: after d days), the last
    /// entry at the horizon.
    pub open_by_day: Vec<u64>,
    /// The most tickets open at once during each day (index d: the day after `open_by_day[d]`).
    pub peak_by_day: Vec<u64>,
    /// Minutes after the start from which the open tickets stayed at or below the scenario's
    /// threshold until the horizon (0: the whole time); `None`: above it at the horizon (or no
    /// threshold).
    pub under_threshold_at: Option<f64>,
    /// Minutes after the start when the open tickets first came back to the threshold or below
    /// after being above it (at the start or later); `None`: never above, or never back.
    pub first_back_under_at: Option<f64>,
    /// Per outsourcing contract, the agent-minutes on duty.
    pub outsourced_agent_minutes: Vec<f64>,
    /// The crew's minutes on tickets (to the horizon), its minutes on duty by the shifts, and
    /// the minutes agents worked past their shift's end finishing the ticket in hand.
    pub busy_minutes: f64,
    pub on_duty_minutes: f64,
    pub overtime_minutes: f64,
}

/// A ticket as the engine knows it.
#[derive(Debug, Clone, Copy)]
struct Ticket {
    arrival: f64,
    service: f64,
    class: u16,
    /// Open at the start (from `[[backlog]]`): not counted among arrivals and waits.
    initial: bool,
}

/// Who works a ticket: the internal crew (pool 0) or outsourcing contract `pool - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Completion {
    /// The bits of a non-negative f64 order like the f64.
    at_bits: u64,
    pool: u16,
    epoch: u32,
    class: u16,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Contract {
    Idle,
    Ordered { arrives: f64 },
    OnDuty { since: f64 },
}

/// The engine's buffers, kept by a worker thread from one replication to the next.
#[derive(Default)]
pub struct Engine {
    tickets: Vec<Ticket>,
    waits: Vec<Vec<f64>>,
    all_waits: Vec<f64>,
    queues: Vec<VecDeque<u32>>,
    completions: BinaryHeap<Reverse<Completion>>,
}

/// The per-class order key a policy gives the head of a class's queue: lower goes first.
fn head_key(policy: Policy, scenario: &Scenario, class: usize, arrival: f64) -> (u8, f64, i64) {
    let c = &scenario.classes[class];
    match policy {
        Policy::Fifo => (0, arrival, 0),
        Policy::Priority => (0, c.priority as f64, 0),
        Policy::Edf => (0, arrival + c.sla_wait_minutes, c.priority),
        // The queue's order (vigie-core `queue::place`): the urgent band first, then the
        // earliest deadline, then the earliest created.
        Policy::Vigie => (u8::from(!c.urgent), arrival + c.sla_wait_minutes, 0),
    }
}

/// The order of two head keys: lower goes first.
fn key_order(a: (u8, f64, i64), b: (u8, f64, i64)) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// The weekly shift boundaries, as (minute of the week, agents on duty from there).
fn weekly_boundaries(scenario: &Scenario) -> Vec<(f64, u32)> {
    scenario.staffing.iter().map(|s| (s.start, s.agents)).collect()
}

/// Calls the outsourced teams whose trigger the open tickets exceed: they come on duty after
/// their lead time.
fn order_contracts(contracts: &mut [Contract], scenario: &Scenario, open: u64, t: f64) {
    for (state, contract) in contracts.iter_mut().zip(&scenario.outsourcing) {
        if *state == Contract::Idle && open > contract.above {
            *state = Contract::Ordered { arrives: t + contract.lead_minutes };
        }
    }
}

/// The state of a replication under way.
struct Run<'a> {
    scenario: &'a Scenario,
    policy: Policy,
    horizon: f64,
    tickets: &'a [Ticket],
    queues: &'a mut [VecDeque<u32>],
    waits: &'a mut [Vec<f64>],
    completions: &'a mut BinaryHeap<Reverse<Completion>>,
    sla_met: Vec<u64>,
    /// The internal crew: its epoch (bumped at every handover) and its agents free now.
    epoch: u32,
    idle: u32,
    contract_epoch: Vec<u32>,
    contract_idle: Vec<u32>,
    busy_minutes: f64,
}

impl Run<'_> {
    /// The class whose head goes next under the policy, among the `allowed` classes.
    fn next_class(&self, allowed: Option<&[bool]>) -> Option<usize> {
        let mut best: Option<(usize, (u8, f64, i64))> = None;
        for (class, queue) in self.queues.iter().enumerate() {
            if allowed.is_some_and(|mask| !mask[class]) {
                continue;
            }
            let Some(&head) = queue.front() else { continue };
            let key = head_key(self.policy, self.scenario, class, self.tickets[head as usize].arrival);
            if best.is_none_or(|(_, best_key)| key_order(key, best_key).is_lt()) {
                best = Some((class, key));
            }
        }
        best.map(|(class, _)| class)
    }

    /// Starts the head of `class` at `t`, worked by `pool` of `epoch`.
    fn start(&mut self, t: f64, class: usize, pool: u16, epoch: u32) {
        let Some(index) = self.queues[class].pop_front() else { return };
        let ticket = self.tickets[index as usize];
        if !ticket.initial {
            let wait = t - ticket.arrival;
            self.waits[class].push(wait);
            let target = self.scenario.classes[class].sla_wait_minutes;
            if ticket.arrival <= self.horizon - target && wait <= target {
                self.sla_met[class] += 1;
            }
        }
        let done = t + ticket.service;
        if pool == 0 {
            self.busy_minutes += done.min(self.horizon) - t;
        }
        self.completions.push(Reverse(Completion { at_bits: done.to_bits(), pool, epoch, class: ticket.class }));
    }

    /// Every free agent takes the ticket the policy puts first: the crew, then the contracts
    /// on duty (each within its classes).
    fn dispatch(&mut self, t: f64) {
        while self.idle > 0 {
            let Some(class) = self.next_class(None) else { break };
            self.start(t, class, 0, self.epoch);
            self.idle -= 1;
        }
        for contract in 0..self.contract_idle.len() {
            while self.contract_idle[contract] > 0 {
                let mask = &self.scenario.outsourcing[contract].classes;
                let Some(class) = self.next_class(Some(mask)) else { break };
                self.start(t, class, contract as u16 + 1, self.contract_epoch[contract]);
                self.contract_idle[contract] -= 1;
            }
        }
    }
}

/// A class's (or all classes') outcome from its waits.
fn outcome(waits: &mut [f64], arrived: u64, sla_known: u64, sla_met: u64, backlog_end: u64) -> Outcome {
    let n = waits.len();
    let (mean_wait, p90_wait) = if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        let mean = waits.iter().sum::<f64>() / n as f64;
        // Nearest rank: the ⌈0.9·n⌉-th smallest, computed as sim_common.py does.
        let rank = ((0.9 * n as f64).ceil() as usize).clamp(1, n);
        let (_, p90, _) = waits.select_nth_unstable_by(rank - 1, f64::total_cmp);
        (mean, *p90)
    };
    Outcome {
        arrived,
        started: n as u64,
        mean_wait,
        p90_wait,
        sla_share: if sla_known == 0 { f64::NAN } else { sla_met as f64 / sla_known as f64 },
        backlog_end,
    }
}

impl Engine {
    /// Draws the replication's tickets: those open at the start (oldest first), then every
    /// arrival before the horizon, in time order, each with its service time.
    fn draw_tickets(&mut self, scenario: &Scenario, seed: u64) {
        let horizon = scenario.horizon();
        let mut arrival_rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        // The service stream: the same generator 2^128 draws further, never overlapping.
        let mut service_rng = arrival_rng.clone();
        service_rng.jump();
        let services: Vec<LogNormal<f64>> = scenario
            .classes
            .iter()
            .map(|c| {
                let (mu, sigma) = c.lognormal();
                // Checked by the scenario: a positive mean, a finite sd.
                LogNormal::new(mu, sigma).unwrap_or_else(|_| LogNormal::new(0.0, 0.0).expect("valid lognormal"))
            })
            .collect();
        self.tickets.clear();
        for backlog in &scenario.backlog {
            for _ in 0..backlog.count {
                self.tickets.push(Ticket {
                    arrival: -backlog.age_minutes,
                    service: services[backlog.class].sample(&mut service_rng),
                    class: backlog.class as u16,
                    initial: true,
                });
            }
        }
        self.tickets.sort_by(|a, b| a.arrival.total_cmp(&b.arrival));
        let first_arrival = self.tickets.len();
        for (class, c) in scenario.classes.iter().enumerate() {
            // Hour segments of the week, reckoned from Monday 00:00 of the start's week.
            let mut from = 0.0f64;
            while from < horizon {
                let hour_of_weeks = ((from + scenario.week_offset) / 60.0).floor();
                let to = ((hour_of_weeks + 1.0) * 60.0 - scenario.week_offset).min(horizon);
                let rate = c.arrivals_per_hour[(hour_of_weeks as usize) % 168] / 60.0;
                if rate > 0.0 {
                    let mut t = from;
                    loop {
                        let gap: f64 = Exp1.sample(&mut arrival_rng);
                        t += gap / rate;
                        if t >= to {
                            break;
                        }
                        self.tickets.push(Ticket {
                            arrival: t,
                            service: services[class].sample(&mut service_rng),
                            class: class as u16,
                            initial: false,
                        });
                    }
                }
                from = to;
            }
        }
        self.tickets[first_arrival..].sort_unstable_by(|a, b| a.arrival.total_cmp(&b.arrival));
    }

    /// Runs the replication of `seed` of `scenario` under `policy`.
    pub fn run(&mut self, scenario: &Scenario, policy: Policy, seed: u64) -> Replication {
        let horizon = scenario.horizon();
        let n_classes = scenario.classes.len();
        self.draw_tickets(scenario, seed);
        self.queues.resize_with(n_classes, VecDeque::new);
        self.waits.resize_with(n_classes, Vec::new);
        self.queues.iter_mut().for_each(VecDeque::clear);
        self.waits.iter_mut().for_each(Vec::clear);
        self.completions.clear();

        let boundaries = weekly_boundaries(scenario);
        let agents_at = |t: f64| -> u32 {
            let in_week = (t + scenario.week_offset).rem_euclid(WEEK);
            let i = boundaries.partition_point(|b| b.0 <= in_week).saturating_sub(1);
            boundaries.get(i).map_or(0, |b| b.1)
        };
        // The next weekly boundary after t = 0: (week, index).
        let boundary_time = |week: u64, index: usize| boundaries[index].0 + week as f64 * WEEK - scenario.week_offset;
        let (mut boundary_week, mut boundary_index) = (0u64, 0usize);
        while boundary_time(boundary_week, boundary_index) <= 0.0 {
            boundary_index += 1;
            if boundary_index == boundaries.len() {
                (boundary_week, boundary_index) = (boundary_week + 1, 0);
            }
        }

        let contracts_n = scenario.outsourcing.len();
        let mut run = Run {
            scenario,
            policy,
            horizon,
            tickets: &self.tickets,
            queues: &mut self.queues,
            waits: &mut self.waits,
            completions: &mut self.completions,
            sla_met: vec![0; n_classes],
            epoch: 0,
            // The start is a boundary: the crew on duty then comes fresh.
            idle: agents_at(0.0),
            contract_epoch: vec![0; contracts_n],
            contract_idle: vec![0; contracts_n],
            busy_minutes: 0.0,
        };
        let mut contracts = vec![Contract::Idle; contracts_n];
        // When each crew came on duty (by epoch), and the shifts' agent-minutes so far.
        let mut epoch_started = vec![0.0f64];
        let (mut on_duty_agents, mut last_boundary, mut on_duty_minutes) = (agents_at(0.0), 0.0f64, 0.0f64);
        let mut overtime_minutes = 0.0f64;
        let mut outsourced_agent_minutes = vec![0f64; contracts_n];
        let mut arrived = vec![0u64; n_classes];
        let mut sla_known = vec![0u64; n_classes];
        let mut open_per_class = vec![0u64; n_classes];
        let mut open: u64 = 0;
        let mut open_by_day = Vec::with_capacity(scenario.horizon_days.ceil() as usize + 2);
        let mut next_day = 0f64;
        let mut peak_by_day = Vec::with_capacity(open_by_day.capacity());
        let mut peak = 0u64;
        // Back under the threshold from this instant on, unless it goes above again.
        let mut under_threshold_at = None;
        let mut first_back_under_at = None;
        let mut was_above = false;
        let mut check_threshold = |open: u64, t: f64| match scenario.backlog_threshold {
            Some(limit) if open > limit => {
                under_threshold_at = None;
                was_above = true;
            }
            Some(_) => {
                if under_threshold_at.is_none() {
                    under_threshold_at = Some(t);
                }
                if was_above && first_back_under_at.is_none() {
                    first_back_under_at = Some(t);
                }
            }
            None => {}
        };

        // The tickets open at the start wait at t = 0, oldest first.
        let mut next_ticket = 0usize;
        while let Some(ticket) = run.tickets.get(next_ticket).filter(|t| t.initial) {
            run.queues[usize::from(ticket.class)].push_back(next_ticket as u32);
            open_per_class[usize::from(ticket.class)] += 1;
            open += 1;
            next_ticket += 1;
        }
        check_threshold(open, 0.0);
        order_contracts(&mut contracts, scenario, open, 0.0);
        run.dispatch(0.0);

        loop {
            let t_arrival = run.tickets.get(next_ticket).map_or(f64::INFINITY, |t| t.arrival);
            let t_boundary =
                if boundaries.is_empty() { f64::INFINITY } else { boundary_time(boundary_week, boundary_index) };
            let t_completion = run.completions.peek().map_or(f64::INFINITY, |Reverse(c)| f64::from_bits(c.at_bits));
            let (t_contract, contract) = contracts
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c {
                    Contract::Ordered { arrives } => Some((*arrives, i)),
                    _ => None,
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .unwrap_or((f64::INFINITY, usize::MAX));
            let t = t_arrival.min(t_boundary).min(t_completion).min(t_contract);
            while next_day <= t.min(horizon) {
                if !open_by_day.is_empty() {
                    peak_by_day.push(peak);
                }
                open_by_day.push(open);
                peak = open;
                next_day += 1440.0;
            }
            if t >= horizon {
                break;
            }
            if t_boundary <= t {
                // Handover: everyone on duty goes home after the ticket in hand (their
                // completions carry the old epoch), the next crew starts fresh.
                on_duty_minutes += f64::from(on_duty_agents) * (t - last_boundary);
                (on_duty_agents, last_boundary) = (boundaries[boundary_index].1, t);
                epoch_started.push(t);
                run.epoch += 1;
                run.idle = boundaries[boundary_index].1;
                boundary_index += 1;
                if boundary_index == boundaries.len() {
                    (boundary_week, boundary_index) = (boundary_week + 1, 0);
                }
            } else if t_contract <= t {
                contracts[contract] = Contract::OnDuty { since: t };
                run.contract_idle[contract] = scenario.outsourcing[contract].agents;
            } else if t_completion <= t {
                let Some(Reverse(done)) = run.completions.pop() else { break };
                open -= 1;
                open_per_class[usize::from(done.class)] -= 1;
                check_threshold(open, t);
                if done.pool == 0 {
                    if done.epoch == run.epoch {
                        run.idle += 1;
                    } else if let Some(ended) = epoch_started.get(done.epoch as usize + 1) {
                        overtime_minutes += t - ended;
                    }
                } else {
                    let c = usize::from(done.pool) - 1;
                    if done.epoch == run.contract_epoch[c] {
                        run.contract_idle[c] += 1;
                    }
                }
                for (c, state) in contracts.iter_mut().enumerate() {
                    if open >= scenario.outsourcing[c].below {
                        continue;
                    }
                    match *state {
                        Contract::OnDuty { since } => {
                            // The team leaves after the tickets in hand.
                            outsourced_agent_minutes[c] += (t - since) * f64::from(scenario.outsourcing[c].agents);
                            run.contract_epoch[c] += 1;
                            run.contract_idle[c] = 0;
                            *state = Contract::Idle;
                        }
                        Contract::Ordered { .. } => *state = Contract::Idle,
                        Contract::Idle => {}
                    }
                }
            } else {
                let ticket = run.tickets[next_ticket];
                let class = usize::from(ticket.class);
                check_threshold(open + 1, t);
                run.queues[class].push_back(next_ticket as u32);
                next_ticket += 1;
                arrived[class] += 1;
                if ticket.arrival <= horizon - scenario.classes[class].sla_wait_minutes {
                    sla_known[class] += 1;
                }
                open += 1;
                peak = peak.max(open);
                open_per_class[class] += 1;
                order_contracts(&mut contracts, scenario, open, t);
            }
            run.dispatch(t);
        }
        if (open_by_day.len().saturating_sub(1) as f64) * 1440.0 < horizon {
            peak_by_day.push(peak);
            open_by_day.push(open); // a horizon that is not a whole number of days
        }
        on_duty_minutes += f64::from(on_duty_agents) * (horizon - last_boundary);
        let busy_minutes = run.busy_minutes;
        for (c, state) in contracts.iter().enumerate() {
            if let Contract::OnDuty { since } = state {
                outsourced_agent_minutes[c] += (horizon - since) * f64::from(scenario.outsourcing[c].agents);
            }
        }

        let sla_met = std::mem::take(&mut run.sla_met);
        let mut all_waits = std::mem::take(&mut self.all_waits);
        all_waits.clear();
        let mut classes = Vec::with_capacity(n_classes);
        for class in 0..n_classes {
            all_waits.extend_from_slice(&self.waits[class]);
            classes.push(outcome(
                &mut self.waits[class],
                arrived[class],
                sla_known[class],
                sla_met[class],
                open_per_class[class],
            ));
        }
        let all = outcome(&mut all_waits, arrived.iter().sum(), sla_known.iter().sum(), sla_met.iter().sum(), open);
        self.all_waits = all_waits;
        Replication {
            seed,
            classes,
            all,
            open_by_day,
            peak_by_day,
            under_threshold_at,
            first_back_under_at,
            outsourced_agent_minutes,
            busy_minutes,
            on_duty_minutes,
            overtime_minutes,
        }
    }
}

#[cfg(test)]
mod tests;
