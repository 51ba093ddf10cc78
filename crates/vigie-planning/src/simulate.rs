//! What-if simulation of the backlog: a scenario (arrivals per hour of the week and class,
//! service times, shifts; `shared/bench/SIMULATION.md`) run R times with distinct seeds, in
//! parallel, under one or more prioritisation policies on the same tickets, summarised with
//! 95 % confidence intervals.
//!
//! Results depend on the scenario, the seeds and the policies only: never on the number of
//! threads or on the order the replications finish in.

pub mod engine;
pub mod history;
pub mod render;
pub mod scenario;
pub mod summary;

use std::sync::atomic::{AtomicUsize, Ordering};

use engine::{Engine, Replication};
use scenario::Scenario;
use summary::PolicySummary;

/// Minutes in a week.
pub const WEEK: f64 = 7.0 * 1440.0;

/// Which waiting ticket a free agent takes. Within a class, every policy takes the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// The oldest ticket of all, whatever its class.
    Fifo,
    /// The class with the lowest `priority` first (the peers' discipline, `SIMULATION.md` §6).
    Priority,
    /// The earliest SLA deadline (arrival + the class's wait target) first.
    Edf,
    /// vigie's queue order (vigie-core `queue`): the urgent classes first, then the earliest
    /// deadline.
    Vigie,
}

impl Policy {
    pub const ALL: [Policy; 4] = [Policy::Fifo, Policy::Priority, Policy::Edf, Policy::Vigie];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Fifo => "fifo",
            Policy::Priority => "priority",
            Policy::Edf => "edf",
            Policy::Vigie => "vigie",
        }
    }

    pub fn parse(text: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.name() == text)
    }
}

/// A simulation's results under one policy.
#[derive(Debug, Clone)]
pub struct PolicyRun {
    pub policy: Policy,
    /// In seed order.
    pub replications: Vec<Replication>,
    pub summary: PolicySummary,
    /// Against the first policy, replication by replication on the same tickets (paired): the
    /// differences of all classes' mean wait, share within SLA and open tickets at the end.
    /// `None` for the first policy itself.
    pub versus_first: Option<[summary::Stat; 3]>,
}

/// Runs `replications` replications of `scenario` (seeds `base_seed + r`) under each policy,
/// on `threads` threads; each policy sees the same tickets.
pub fn simulate(scenario: &Scenario, policies: &[Policy], replications: u32, threads: usize) -> Vec<PolicyRun> {
    let reps = replications as usize;
    let tasks = policies.len() * reps;
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, tasks.max(1));
    let mut results: Vec<Option<Replication>> = vec![None; tasks];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut engine = Engine::default();
                    let mut done = Vec::new();
                    loop {
                        let task = next.fetch_add(1, Ordering::Relaxed);
                        if task >= tasks {
                            break done;
                        }
                        let (policy, rep) = (policies[task / reps], task % reps);
                        let seed = scenario.base_seed.wrapping_add(rep as u64);
                        done.push((task, engine.run(scenario, policy, seed)));
                    }
                })
            })
            .collect();
        for worker in workers {
            // A worker only panics on a bug; re-raise it rather than report partial results.
            for (task, replication) in worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                results[task] = Some(replication);
            }
        }
    });
    let mut results = results.into_iter().flatten();
    let mut runs: Vec<PolicyRun> = policies
        .iter()
        .map(|&policy| {
            let replications: Vec<Replication> = results.by_ref().take(reps).collect();
            let summary = PolicySummary::of(scenario, &replications);
            PolicyRun { policy, replications, summary, versus_first: None }
        })
        .collect();
    if let Some((first, others)) = runs.split_first_mut() {
        for run in others {
            let paired = |f: fn(&Replication) -> f64| {
                summary::Stat::of(run.replications.iter().zip(&first.replications).map(|(r, base)| f(r) - f(base)))
            };
            run.versus_first =
                Some([paired(|r| r.all.mean_wait), paired(|r| r.all.sla_share), paired(|r| r.all.backlog_end as f64)]);
        }
    }
    runs
}
