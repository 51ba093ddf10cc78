//! A scenario built from an exported history: "what the last weeks looked like", written as a
//! scenario file the manager can read, edit and run again.
//!
//! - **Start**: the export instant (the latest timestamp of the history), to the minute.
//! - **Classes**: the priorities (P1 … P4) seen in the window or among the open tickets.
//! - **Arrivals**: per class and hour of the week, the tickets created in the last `weeks`
//!   weeks before the last creation (an export made days after the last ticket arrived would
//!   otherwise count days of silence), each hour divided by how many times it occurs in that
//!   window.
//! - **Service**: the mean handle time of the class's tickets (from the handle-time table), sd
//!   equal to the mean (the table has means only; edit the file when you know better).
//! - **SLA on the wait**: the median first-response target of the class's tickets (the wait
//!   is until an agent starts on the ticket).
//! - **Open tickets at the start**: those open at the export, by class and age (to the hour
//!   in the first two days, to the day after).
//! - **Staffing**: the given shifts; without, the capacity the history shows: per hour of the
//!   week, the hours of work resolved (handle times of the tickets resolved then) per week. A
//!   team that ran out of work looks smaller than it is: give its shifts when you know them.
//! - **Added shifts**: appended as written (`--add "Mon 08:00-12:00 2"`).

use std::fmt::Write;

use super::scenario::{DAYS, FORMAT, Shift, hhmm, week_start};

/// What the builder needs of a ticket of the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryTicket {
    /// Epoch seconds.
    pub created: i64,
    pub resolved: Option<i64>,
    /// The latest instant the row mentions.
    pub latest: i64,
    /// Its class: an index into [`FromHistory::classes`].
    pub class: usize,
    pub handle_minutes: f64,
    /// The target on the wait of its category and priority, in minutes.
    pub sla_minutes: Option<f64>,
}

/// How to build.
#[derive(Debug, Clone, PartialEq)]
pub struct FromHistory {
    pub name: String,
    /// The weeks before the export the rates are taken from.
    pub weeks: u32,
    pub horizon_days: f64,
    pub replications: u32,
    /// The shifts to simulate; `None`: the capacity the history shows.
    pub shifts: Option<Vec<Shift>>,
    /// Shifts added on top (the what-if).
    pub added: Vec<Shift>,
    pub backlog_threshold: Option<u64>,
    /// The classes' names. When `by_target`, their priorities follow their targets (the
    /// tightest first); otherwise their order here (P1 … P4).
    pub classes: Vec<String>,
    pub by_target: bool,
}

/// The minutes a target is assumed to be when no SLA row covers a class: five days (vigie-core
/// `QueueSettings::DEFAULT.no_sla_deadline_minutes`).
const NO_SLA_MINUTES: f64 = 7_200.0;

/// The scenario file, and notes on what was estimated.
pub fn build(tickets: &[HistoryTicket], options: &FromHistory) -> Result<(String, Vec<String>), String> {
    let mut notes = Vec::new();
    let Some(export) = tickets.iter().map(|t| t.latest).max() else {
        return Err("the history holds no ticket".to_owned());
    };
    let first = tickets.iter().map(|t| t.created).min().unwrap_or(export);
    let start = export - export.rem_euclid(60);
    // The arrivals window ends with the last creation, to the hour.
    let last_created = tickets.iter().map(|t| t.created).max().unwrap_or(export);
    let window_end = (last_created - last_created.rem_euclid(3600) + 3600).min(start);
    if start - window_end > 86_400 {
        notes.push(format!(
            "the last ticket was created {:.1} days before the export: the rates are taken up to it",
            (start - last_created) as f64 / 86_400.0
        ));
    }
    let wanted = i64::from(options.weeks) * 7 * 86_400;
    let span = wanted.min(window_end - first);
    if span < 86_400 {
        return Err(format!(
            "the history spans {:.1} hours of arrivals; a day at least is needed",
            span as f64 / 3600.0
        ));
    }
    if wanted - span > 86_400 {
        notes.push(format!(
            "the history spans {:.1} weeks of arrivals, not {}: the rates are over that span",
            span as f64 / (7.0 * 86_400.0),
            options.weeks
        ));
    }
    let window_start = window_end - span;
    let hour_of_week = |at: i64| ((at - week_start(at)) / 3600) as usize % 168;
    // How many times each hour of the week occurs in the window (a window of 1.5 weeks holds
    // some twice and some once).
    let mut occurrences = [0f64; 168];
    let mut hour = window_start - window_start.rem_euclid(3600);
    while hour < window_end {
        let from = hour.max(window_start);
        let to = (hour + 3600).min(window_end);
        occurrences[hour_of_week(hour)] += (to - from) as f64 / 3600.0;
        hour += 3600;
    }

    let n = options.classes.len();
    let mut arrivals = vec![[0f64; 168]; n];
    let mut work_done = [0f64; 168];
    let mut handle = vec![(0f64, 0u64); n];
    let mut targets: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut open: Vec<Vec<i64>> = vec![Vec::new(); n];
    for t in tickets {
        let Some(p) = (t.class < n).then_some(t.class) else { continue };
        let in_window = (window_start..window_end).contains(&t.created);
        if in_window {
            arrivals[p][hour_of_week(t.created)] += 1.0;
        }
        if let Some(resolved) = t.resolved.filter(|r| (window_start..window_end).contains(r)) {
            work_done[hour_of_week(resolved)] += t.handle_minutes / 60.0;
        }
        // Open at the export instant itself (the start is it, to the minute below).
        let is_open = t.created <= export && t.resolved.is_none_or(|r| r > export);
        if is_open {
            open[p].push(export - t.created);
        }
        if in_window || is_open {
            handle[p].0 += t.handle_minutes;
            handle[p].1 += 1;
            if let Some(target) = t.sla_minutes {
                targets[p].push(target);
            }
        }
    }

    let mut text = String::new();
    let at = jiff::Timestamp::from_second(start).map_err(|e| format!("the export instant: {e}"))?;
    let weeks = span as f64 / (7.0 * 86_400.0);
    let _ = writeln!(text, "# Built by `vigie simulate --from-history` from {weeks:.1} weeks of arrivals.");
    let _ = writeln!(text, "# Edit and run with `vigie simulate THIS_FILE`. Format: shared/bench/SIMULATION.md.");
    let _ = writeln!(text, "format = \"{FORMAT}\"");
    let _ = writeln!(text, "name = {}", toml_string(&options.name));
    let _ = writeln!(text, "start = \"{}\"", at.strftime("%Y-%m-%dT%H:%M:%SZ"));
    let _ = writeln!(text, "horizon_days = {}", options.horizon_days);
    let _ = writeln!(text, "replications = {}", options.replications);
    let _ = writeln!(text, "base_seed = 1");
    if let Some(threshold) = options.backlog_threshold {
        let _ = writeln!(text, "backlog_threshold = {threshold}");
    }
    // Each class's target: the median of its tickets'.
    let sla: Vec<f64> = (0..n)
        .map(|p| {
            if targets[p].is_empty() {
                if handle[p].1 > 0 {
                    notes.push(format!(
                        "{}: no SLA row covers its tickets; a wait target of {NO_SLA_MINUTES} minutes assumed",
                        options.classes[p]
                    ));
                }
                NO_SLA_MINUTES
            } else {
                targets[p].sort_by(f64::total_cmp);
                targets[p][(targets[p].len() - 1) / 2]
            }
        })
        .collect();
    // The order the `priority` policy serves them in.
    let mut order: Vec<usize> = (0..n).collect();
    if options.by_target {
        order.sort_by(|a, b| sla[*a].total_cmp(&sla[*b]).then(handle[*b].1.cmp(&handle[*a].1)));
    }
    let mut classes = 0;
    for (rank, &p) in order.iter().enumerate() {
        let seen = handle[p].1;
        if seen == 0 {
            continue;
        }
        classes += 1;
        let mean = handle[p].0 / seen as f64;
        let sla = sla[p];
        let _ = writeln!(text, "\n[[class]]\nname = {}\npriority = {}", toml_string(&options.classes[p]), rank + 1);
        let _ = writeln!(text, "sla_wait_minutes = {sla}");
        let _ = writeln!(text, "service_mean_minutes = {}", round3(mean.max(0.001)));
        let _ = writeln!(text, "service_sd_minutes = {}", round3(mean.max(0.001)));
        let rates: Vec<String> = arrivals[p]
            .iter()
            .zip(&occurrences)
            .map(|(n, times)| round3(if *times > 0.0 { n / times } else { 0.0 }).to_string())
            .collect();
        let _ = writeln!(text, "arrivals_per_hour = [{}]", rates.join(", "));
    }
    if classes == 0 {
        return Err("no ticket was created in the window nor open at the export".to_owned());
    }

    let shifts = match &options.shifts {
        Some(shifts) => shifts.clone(),
        None => {
            let agents: Vec<f64> = work_done
                .iter()
                .zip(&occurrences)
                .map(|(hours, times)| if *times > 0.0 { hours / times } else { 0.0 })
                .collect();
            notes.push(format!(
                "no shifts given: the capacity the history shows, {:.0} agent hours a week (resolved tickets × handle time); \
                 give --shifts when the team ran out of work at times",
                agents.iter().sum::<f64>()
            ));
            observed_shifts(&agents)
        }
    };
    for shift in shifts.iter().chain(&options.added) {
        write_shift(&mut text, shift);
    }

    for (p, ages) in open.iter_mut().enumerate() {
        ages.sort_unstable();
        let mut i = 0;
        while i < ages.len() {
            // To the hour for two days, then to the day; the middle of the bucket.
            let unit = if ages[i] < 2 * 86_400 { 3_600 } else { 86_400 };
            let bucket = ages[i] / unit;
            let j = i + ages[i..].iter().take_while(|a| *a / unit == bucket).count();
            let age_minutes = (bucket * unit + unit / 2) as f64 / 60.0;
            let _ = writeln!(
                text,
                "\n[[backlog]]\nclass = {}\ncount = {}\nage_minutes = {age_minutes}",
                toml_string(&options.classes[p]),
                j - i
            );
            i = j;
        }
    }
    Ok((text, notes))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes a `[[shift]]` table.
pub fn write_shift(text: &mut String, shift: &Shift) {
    let days: Vec<String> = shift.days.iter().map(|d| format!("\"{}\"", DAYS[*d])).collect();
    let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let _ = writeln!(
        text,
        "\n[[shift]]\nname = {}\ndays = [{}]\nstart = \"{}\"\nend = \"{}\"\nagents = {}",
        toml_string(&shift.name),
        days.join(", "),
        hhmm(shift.start),
        hhmm(shift.end),
        shift.agents
    );
}

/// Shifts from the agent-hours worked per hour of the week: three eight-hour shifts a day
/// (00–08, 08–16, 16–24), each with the mean of its hours, rounded (none where nobody works).
/// Not one shift an hour: at every boundary the agents finish the ticket in hand while the
/// next shift starts (SIMULATION.md's handover), so hourly shifts would add a round of
/// overtime every hour and overstate the team.
fn observed_shifts(agent_hours: &[f64]) -> Vec<Shift> {
    let mut shifts = Vec::new();
    for (day, name) in DAYS.iter().enumerate() {
        for block in 0..3 {
            let from = day * 24 + block * 8;
            let agents = (agent_hours[from..from + 8].iter().sum::<f64>() / 8.0).round() as u32;
            if agents > 0 {
                shifts.push(Shift {
                    name: format!("observed {name} {:02}-{:02}", block * 8, block * 8 + 8),
                    days: vec![day],
                    start: block as u32 * 8 * 60,
                    end: if block == 2 { 0 } else { (block as u32 + 1) * 8 * 60 },
                    agents,
                });
            }
        }
    }
    shifts
}

/// Reads a shift written on the command line: `DAYS HH:MM-HH:MM AGENTS`, DAYS being a day
/// (`Mon`), a range (`Mon-Fri`, or `Sat-Mon` across the week's end) or a list (`Sat,Sun`).
pub fn parse_added_shift(text: &str) -> Result<Shift, String> {
    let expected = "DAYS HH:MM-HH:MM AGENTS, such as \"Mon-Fri 08:00-12:00 2\"";
    let bad = |why: &str| format!("\"{text}\": {why} (expected {expected})");
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [days, hours, agents] = parts[..] else { return Err(bad("three parts are needed")) };
    let (days, start, end) = parse_days_hours(&format!("{days} {hours}")).map_err(|why| bad(&why))?;
    let agents: u32 = agents.parse().map_err(|_| bad("the agents are a whole number"))?;
    Ok(Shift { name: format!("added {text}"), days, start, end, agents })
}

/// Reads `DAYS HH:MM-HH:MM`: the days (indices into Mon..Sun) and the minutes after midnight
/// of the start and the end (an end at or before the start is on the next day).
pub fn parse_days_hours(text: &str) -> Result<(Vec<usize>, u32, u32), String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [days, hours] = parts[..] else { return Err("a day part and an hours part are needed".into()) };
    let day = |name: &str| {
        DAYS.iter().position(|d| d.eq_ignore_ascii_case(name)).ok_or_else(|| format!("\"{name}\" is not a day"))
    };
    let mut list = Vec::new();
    for piece in days.split(',') {
        match piece.split_once('-') {
            // A range may cross the week's end: Sat-Mon is Sat, Sun, Mon.
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    list.push(d);
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => list.push(day(piece)?),
        }
    }
    list.sort_unstable();
    list.dedup();
    let (from, to) = hours.split_once('-').ok_or("the hours are HH:MM-HH:MM")?;
    Ok((list, hhmm(from)?, hhmm(to)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::scenario::Scenario;

    fn ticket(created: i64, resolved: Option<i64>, class: usize) -> HistoryTicket {
        HistoryTicket {
            created,
            resolved,
            latest: resolved.unwrap_or(created),
            class,
            handle_minutes: 30.0,
            sla_minutes: Some(1440.0),
        }
    }

    #[test]
    fn a_history_becomes_a_scenario_that_reads_back() {
        // Monday 2026-03-02 00:00 UTC; four weeks of one P3 ticket an hour, each resolved an
        // hour later; two P2 tickets still open at the export.
        let monday = 1_772_409_600;
        let mut tickets: Vec<HistoryTicket> =
            (0..4 * 168).map(|h| ticket(monday + h * 3600, Some(monday + h * 3600 + 3600), 2)).collect();
        let export = monday + 4 * 7 * 86_400;
        tickets.push(ticket(export - 7200, None, 1));
        tickets.push(HistoryTicket { latest: export, ..ticket(export - 3 * 86_400, None, 1) });
        let options = FromHistory {
            name: "test".into(),
            weeks: 2,
            horizon_days: 7.0,
            replications: 5,
            shifts: None,
            added: vec![parse_added_shift("Mon-Fri 08:00-12:00 2").expect("a shift")],
            backlog_threshold: Some(1),
            classes: ["P1", "P2", "P3", "P4"].map(String::from).to_vec(),
            by_target: false,
        };
        let (text, notes) = build(&tickets, &options).expect("a scenario");
        assert!(notes.iter().any(|n| n.contains("capacity the history shows")), "{notes:?}");
        let (scenario, _) = Scenario::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(scenario.start.as_second(), export);
        assert_eq!(scenario.classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["P2", "P3"]);
        let p3 = &scenario.classes[1];
        assert!(p3.arrivals_per_hour.iter().all(|r| (*r - 1.0).abs() < 1e-9), "{:?}", p3.arrivals_per_hour);
        assert_eq!(p3.service_mean_minutes, 30.0);
        assert_eq!(p3.sla_wait_minutes, 1440.0);
        // Half an agent-hour resolved every hour rounds to 1 agent (0.5 rounds away from 0),
        // plus the two added on weekday mornings.
        let monday_nine = scenario.staffing.iter().find(|s| s.start <= 540.0 && 540.0 < s.end).expect("a segment");
        assert_eq!(monday_nine.agents, 3);
        let backlog: u32 = scenario.backlog.iter().map(|b| b.count).sum();
        assert_eq!(backlog, 2);
        assert!(scenario.backlog.iter().any(|b| b.age_minutes == 150.0), "{:?}", scenario.backlog);
        assert!(scenario.backlog.iter().any(|b| b.age_minutes == 3.5 * 1440.0), "{:?}", scenario.backlog);
    }

    #[test]
    fn added_shifts_are_read_or_refused_with_the_reason() {
        let shift = parse_added_shift("Sat,Sun 20:00-24:00 3").expect("a shift");
        assert_eq!((shift.days.clone(), shift.start, shift.end, shift.agents), (vec![5, 6], 1200, 1440, 3));
        assert_eq!(parse_added_shift("Mon-Wed 08:00-09:30 1").expect("a shift").days, vec![0, 1, 2]);
        assert_eq!(parse_added_shift("Sat-Mon 08:00-09:30 1").expect("a shift").days, vec![0, 5, 6]);
        for (bad, why) in [
            ("Mon 08:00-12:00", "three parts"),
            ("Funday 08:00-12:00 2", "not a day"),
            ("Mon 25:00-26:00 2", "00:00 to 24:00"),
            ("Mon 08:00-12:00 two", "whole number"),
        ] {
            let error = parse_added_shift(bad).expect_err(bad);
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn an_empty_or_too_short_history_is_refused() {
        assert!(
            build(
                &[],
                &FromHistory {
                    name: "x".into(),
                    weeks: 4,
                    horizon_days: 7.0,
                    replications: 1,
                    shifts: None,
                    added: vec![],
                    backlog_threshold: None,
                    classes: vec!["P1".into()],
                    by_target: false,
                }
            )
            .expect_err("empty")
            .contains("no ticket")
        );
    }
}
