use super::*;
use crate::simulate::scenario::Scenario;

/// A scenario with no arrivals: only `backlog` tickets open at the start, each class's service
/// time fixed (sd 0), the given shifts and outsourcing.
fn scenario(classes: &[(&str, u32, f64)], shifts: &str, extra: &str) -> Scenario {
    let mut text = String::from(
        "format = \"vigie-sim-scenario/1\"\nname = \"t\"\nstart = \"2026-03-02T00:00:00Z\"\nhorizon_days = 1\nbacklog_threshold = 0\n",
    );
    let zeros = vec!["0"; 168].join(",");
    for (i, (name, count, minutes)) in classes.iter().enumerate() {
        text.push_str(&format!(
            "[[class]]\nname = \"{name}\"\npriority = {}\nsla_wait_minutes = 60\nservice_mean_minutes = {minutes}\nservice_sd_minutes = 0\narrivals_per_hour = [{zeros}]\n",
            i + 1
        ));
        text.push_str(&format!("[[backlog]]\nclass = \"{name}\"\ncount = {count}\nage_minutes = {}\n", 10 * (i + 1)));
    }
    text.push_str(shifts);
    text.push_str(extra);
    Scenario::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}")).0
}

/// A time computed from lognormal draws with sd 0 (exp(ln m) is m within an ulp or two).
fn assert_at(at: Option<f64>, expected: f64) {
    let at = at.unwrap_or(f64::NAN);
    assert!((at - expected).abs() < 1e-9, "{at} is not {expected}");
}

const ONE_AGENT_ALL_DAY: &str =
    "[[shift]]\nname = \"day\"\ndays = [\"Mon\"]\nstart = \"00:00\"\nend = \"00:00\"\nagents = 1\n";

#[test]
fn one_agent_works_the_backlog_ticket_after_ticket() {
    let s = scenario(&[("P1", 3, 10.0)], ONE_AGENT_ALL_DAY, "");
    let r = Engine::default().run(&s, Policy::Priority, 1);
    // 0–10, 10–20, 20–30: empty at 30 minutes.
    assert_at(r.under_threshold_at, 30.0);
    assert_eq!(r.all.backlog_end, 0);
    assert_eq!(r.open_by_day, [3, 0]);
    // Tickets open at the start are not arrivals.
    assert_eq!((r.all.arrived, r.all.started), (0, 0));
    // 30 minutes on tickets of a day on duty, no overtime.
    assert!((r.busy_minutes - 30.0).abs() < 1e-9 && r.on_duty_minutes == 1440.0 && r.overtime_minutes == 0.0, "{r:?}");
}

#[test]
fn at_a_shift_boundary_the_outgoing_agent_finishes_and_a_fresh_one_starts() {
    // One agent 00:00–00:15, one 00:15–24:00. At 00:15 the first is in the middle of the
    // second ticket (10–20): it finishes it (overtime) while the incoming agent starts the
    // third at once (15–25). Empty at 25, not 30 ("a ticket starts only while fewer than c(t)
    // are in service" would say 30: SIMULATION.md §5).
    let shifts = "[[shift]]\nname = \"a\"\ndays = [\"Mon\"]\nstart = \"00:00\"\nend = \"00:15\"\nagents = 1\n\
                  [[shift]]\nname = \"b\"\ndays = [\"Mon\"]\nstart = \"00:15\"\nend = \"00:00\"\nagents = 1\n";
    let s = scenario(&[("P1", 3, 10.0)], shifts, "");
    let r = Engine::default().run(&s, Policy::Priority, 1);
    assert_at(r.under_threshold_at, 25.0);
    // The outgoing agent worked 5 minutes past the end of the shift.
    assert!((r.overtime_minutes - 5.0).abs() < 1e-9, "{}", r.overtime_minutes);
}

#[test]
fn the_threshold_is_when_the_backlog_is_under_it_for_good() {
    // 3 tickets of 10 minutes, threshold 1: at 20 there is 1 left, and no arrival later.
    let mut s = scenario(&[("P1", 3, 10.0)], ONE_AGENT_ALL_DAY, "");
    s.backlog_threshold = Some(1);
    let r = Engine::default().run(&s, Policy::Priority, 1);
    assert_at(r.under_threshold_at, 20.0);
    assert_at(r.first_back_under_at, 20.0);
    // Already under at the start and never above: the whole time.
    s.backlog_threshold = Some(5);
    let r = Engine::default().run(&s, Policy::Priority, 1);
    assert_at(r.under_threshold_at, 0.0);
    assert_eq!(r.first_back_under_at, None, "never above, so never back");
    // Arrivals push it above again and it never comes back: no answer.
    let text = include_str!("../../../../../bench/oracle/scenario_w3.toml");
    let (mut w3, _) = Scenario::parse(text).expect("W3");
    w3.horizon_days = 1.5; // ends on Tuesday noon, with hundreds open
    w3.backlog_threshold = Some(10);
    let r = Engine::default().run(&w3, Policy::Priority, 1);
    assert_eq!(r.under_threshold_at, None);
    // It was back under 10 in the night before it rose again.
    assert!(r.first_back_under_at.is_some_and(|t| t < 1.5 * 1440.0), "{:?}", r.first_back_under_at);
}

#[test]
fn nobody_on_duty_means_nothing_moves() {
    let shifts = "[[shift]]\nname = \"later\"\ndays = [\"Tue\"]\nstart = \"08:00\"\nend = \"09:00\"\nagents = 5\n";
    let s = scenario(&[("P1", 4, 10.0)], shifts, "");
    let r = Engine::default().run(&s, Policy::Priority, 1);
    assert_eq!(r.under_threshold_at, None);
    assert_eq!(r.all.backlog_end, 4);
}

#[test]
fn policies_decide_which_class_goes_first() {
    // P1 tickets (10 minutes old at the start, target 60: due at +50) and P2 tickets (20
    // minutes old, due at +40). Priority serves P1 first; EDF and FIFO serve the older P2
    // first; vigie serves the urgent P1 first.
    let s = scenario(&[("P1", 2, 10.0), ("P2", 2, 10.0)], ONE_AGENT_ALL_DAY, "");
    let mut engine = Engine::default();
    for policy in Policy::ALL {
        assert_at(engine.run(&s, policy, 1).under_threshold_at, 40.0);
    }
    // Cut after two tickets (0–10, 10–20): the class served first has none left.
    let order = |engine: &mut Engine, policy| {
        let mut cut = s.clone();
        cut.horizon_days = 25.0 / 1440.0;
        let r = engine.run(&cut, policy, 1);
        (r.classes[0].backlog_end, r.classes[1].backlog_end)
    };
    assert_eq!(order(&mut engine, Policy::Priority), (0, 2));
    assert_eq!(order(&mut engine, Policy::Vigie), (0, 2));
    assert_eq!(order(&mut engine, Policy::Edf), (2, 0));
    assert_eq!(order(&mut engine, Policy::Fifo), (2, 0));
}

#[test]
fn an_outsourced_team_comes_above_its_trigger_and_leaves_below() {
    let without = scenario(&[("P3", 30, 10.0)], ONE_AGENT_ALL_DAY, "");
    let contract = "[[outsourcing]]\nname = \"peak\"\nagents = 2\nabove = 20\nbelow = 5\nlead_minutes = 30\n";
    let with = scenario(&[("P3", 30, 10.0)], ONE_AGENT_ALL_DAY, contract);
    let alone = Engine::default().run(&without, Policy::Priority, 1);
    let helped = Engine::default().run(&with, Policy::Priority, 1);
    assert_at(alone.under_threshold_at, 300.0);
    // Alone until 30 (3 done), then three agents until the open tickets fall below 5.
    let drained = helped.under_threshold_at.expect("drained");
    assert!(drained < 150.0, "{drained}");
    let minutes = helped.outsourced_agent_minutes[0];
    // On duty from 30 until fewer than 5 were open, two agents.
    assert!(minutes > 2.0 * 60.0 && minutes < 2.0 * 120.0, "{minutes}");
}

#[test]
fn a_replication_depends_on_its_seed_only() {
    let text = include_str!("../../../../../bench/oracle/scenario_w3.toml");
    let (mut s, _) = Scenario::parse(text).expect("the W3 scenario");
    s.horizon_days = 3.0;
    let mut engine = Engine::default();
    let a = engine.run(&s, Policy::Priority, 7);
    let _ = engine.run(&s, Policy::Fifo, 8);
    let b = Engine::default().run(&s, Policy::Priority, 7);
    assert_eq!(a, b, "a reused engine carries nothing over");
    let c = engine.run(&s, Policy::Priority, 9);
    assert_ne!(a.all.arrived, c.all.arrived);
    // Every policy sees the same tickets.
    for policy in Policy::ALL {
        assert_eq!(engine.run(&s, policy, 7).all.arrived, a.all.arrived);
    }
}

#[test]
fn the_metrics_follow_their_definitions_on_a_small_run() {
    let text = include_str!("../../../../../bench/oracle/scenario_w3.toml");
    let (mut s, _) = Scenario::parse(text).expect("the W3 scenario");
    s.horizon_days = 2.0;
    let r = Engine::default().run(&s, Policy::Priority, 3);
    let sum: u64 = r.classes.iter().map(|c| c.arrived).sum();
    assert_eq!(sum, r.all.arrived);
    assert_eq!(r.classes.iter().map(|c| c.backlog_end).sum::<u64>(), r.all.backlog_end);
    assert_eq!(*r.open_by_day.last().expect("days"), r.all.backlog_end);
    assert_eq!(r.open_by_day.len(), 3);
    for c in &r.classes {
        assert!(c.started <= c.arrived);
        assert!(c.p90_wait >= 0.0 && c.mean_wait >= 0.0);
        assert!((0.0..=1.0).contains(&c.sla_share));
    }
}
