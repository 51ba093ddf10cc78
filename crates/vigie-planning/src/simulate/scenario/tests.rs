use super::*;

const W3: &str = include_str!("../../../../../bench/oracle/scenario_w3.toml");

fn zeros() -> String {
    vec!["0"; 168].join(", ")
}

/// A valid scenario with `class` and `shift` tables replaced when given.
fn with(class: Option<&str>, shift: Option<&str>, extra: &str) -> String {
    let class = class.map_or_else(
        || {
            format!(
                "[[class]]\nname = \"P1\"\npriority = 1\nsla_wait_minutes = 15\nservice_mean_minutes = 10\nservice_sd_minutes = 5\narrivals_per_hour = [{}]\n",
                vec!["1"; 168].join(", ")
            )
        },
        str::to_owned,
    );
    let shift = shift.unwrap_or(
        "[[shift]]\nname = \"all\"\ndays = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]\nstart = \"00:00\"\nend = \"00:00\"\nagents = 2\n",
    );
    format!(
        "format = \"vigie-sim-scenario/1\"\nname = \"t\"\nstart = \"2026-03-02T00:00:00Z\"\nhorizon_days = 7\n{extra}\n{class}{shift}"
    )
}

fn problems(text: &str) -> Vec<String> {
    match Scenario::parse(text) {
        Err(ScenarioError::Invalid(problems)) => problems.iter().map(ToString::to_string).collect(),
        Err(other) => vec![other.to_string()],
        Ok(_) => Vec::new(),
    }
}

#[test]
fn the_reference_scenario_compiles_as_sim_common_does() {
    let (s, warnings) = Scenario::parse(W3).expect("the W3 scenario");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(s.name, "w3-30d-50agents-100000");
    assert_eq!((s.horizon_days, s.replications, s.base_seed, s.week_offset), (30.0, 100, 1000, 0.0));
    assert_eq!(s.classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["P1", "P2", "P3", "P4"]);
    assert!(s.classes[0].urgent && !s.classes[1].urgent);
    // Monday: night 00–08 ×4, day 08–16 ×24, evening 16–24 ×14.
    let at =
        |minute: f64| s.staffing.iter().find(|seg| seg.start <= minute && minute < seg.end).expect("covered").agents;
    assert_eq!((at(0.0), at(8.0 * 60.0), at(16.0 * 60.0)), (4, 24, 14));
    // Saturday 08–20 ×6, 20–24 ×2.
    assert_eq!((at(5.0 * 1440.0 + 600.0), at(5.0 * 1440.0 + 21.0 * 60.0)), (6, 2));
    assert_eq!(s.staffing.first().map(|seg| seg.start), Some(0.0));
    assert_eq!(s.staffing.last().map(|seg| seg.end), Some(WEEK));
    // 1,904 agent hours a week (SIMULATION.md).
    let hours: f64 = s.staffing.iter().map(|seg| f64::from(seg.agents) * (seg.end - seg.start) / 60.0).sum();
    assert_eq!(hours, 1904.0);
    // sim_common.lognormal_params(11, 7).
    let (mu, sigma) = s.classes[0].lognormal();
    assert!(
        (mu - 2.227_891_327_071_610_3).abs() < 1e-12 && (sigma - 0.583_101_956_310_833_1).abs() < 1e-12,
        "{mu} {sigma}"
    );
}

#[test]
fn every_problem_is_named_by_its_place() {
    let bad_rates = format!(
        "[[class]]\nname = \"P1\"\npriority = 1\nsla_wait_minutes = 15\nservice_mean_minutes = 0\nservice_sd_minutes = -1\narrivals_per_hour = [-1, {}]\n",
        vec!["0"; 167].join(", ")
    );
    let found = problems(&with(Some(&bad_rates), None, ""));
    for wanted in [
        "class[0] (P1).arrivals_per_hour[0] (Mon 00:00): a rate must be a number of tickets per hour, 0 or more (found -1)",
        "class[0] (P1).service_mean_minutes: must be above 0",
        "class[0] (P1).service_sd_minutes: must be 0 or more",
    ] {
        assert!(found.iter().any(|p| p.starts_with(wanted)), "{wanted} not in {found:?}");
    }

    let short = "[[class]]\nname = \"P1\"\npriority = 1\nsla_wait_minutes = 15\nservice_mean_minutes = 1\nservice_sd_minutes = 1\narrivals_per_hour = [1, 2]\n";
    assert!(problems(&with(Some(short), None, ""))[0].contains("needs 168 rates"));

    let bad_shift = "[[shift]]\nname = \"x\"\ndays = [\"Monday\", \"Tue\", \"Tue\"]\nstart = \"8:00\"\nend = \"24:30\"\nagents = -3\n";
    let found = problems(&with(None, Some(bad_shift), ""));
    for wanted in [
        "shift[0] (x).days[0]: \"Monday\" is not one of Mon Tue Wed Thu Fri Sat Sun",
        "shift[0] (x).days[2]: Tue is listed twice",
        "shift[0] (x).start: \"8:00\" is not a time of day",
        "shift[0] (x).end: \"24:30\" is not a time of day",
        "shift[0] (x).agents: must be a number of agents from 0 to 1000000 (found -3)",
    ] {
        assert!(found.iter().any(|p| p.starts_with(wanted)), "{wanted} not in {found:?}");
    }

    let found = problems(&with(
        None,
        None,
        "replications = 0\n[[backlog]]\nclass = \"P9\"\ncount = 3\nage_minutes = 10\n[[outsourcing]]\nname = \"o\"\nagents = 2\nabove = 5\nbelow = 9\nclasses = [\"P7\"]\n\
         [[outsourcing]]\nname = \"none\"\nagents = 2\nabove = 5\nbelow = 1\nclasses = []\n",
    ));
    for wanted in [
        "replications: must be from 1 to",
        "backlog[0].class: \"P9\" is not a class of the scenario (P1)",
        "outsourcing[0] (o).below: 9 is above `above` (5)",
        "outsourcing[0] (o).classes[0]: \"P7\" is not a class of the scenario (P1)",
        "outsourcing[1] (none).classes: names no class",
    ] {
        assert!(found.iter().any(|p| p.starts_with(wanted)), "{wanted} not in {found:?}");
    }

    // Two classes with one priority, one name twice.
    let two = format!(
        "[[class]]\nname = \"A\"\npriority = 1\nsla_wait_minutes = 1\nservice_mean_minutes = 1\nservice_sd_minutes = 1\narrivals_per_hour = [{z}]\n\
         [[class]]\nname = \"A\"\npriority = 1\nsla_wait_minutes = 1\nservice_mean_minutes = 1\nservice_sd_minutes = 1\narrivals_per_hour = [{z}]\n",
        z = zeros()
    );
    let found = problems(&with(Some(&two), None, ""));
    assert!(found.iter().any(|p| p.contains("class[1] (A).name: the same name as class[0]")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("priorities must be distinct")), "{found:?}");
}

#[test]
fn the_total_row_s_name_and_lognormals_that_do_not_exist_are_refused() {
    let all = with(None, None, "").replace("name = \"P1\"", "name = \"ALL\"");
    assert!(problems(&all)[0].contains("ALL names the total"), "{:?}", problems(&all));
    let tiny = with(None, None, "").replace("service_mean_minutes = 10", "service_mean_minutes = 1e-160");
    assert!(problems(&tiny)[0].contains("no lognormal has them"), "{:?}", problems(&tiny));
    let crowd = with(None, None, "").replace("agents = 2", "agents = 2147483648");
    assert!(problems(&crowd)[0].contains("from 0 to 1000000"), "{:?}", problems(&crowd));
}

#[test]
fn the_format_the_toml_and_unknown_keys_are_checked() {
    let wrong = with(None, None, "").replace("vigie-sim-scenario/1", "vigie-sim-scenario/2");
    assert!(problems(&wrong)[0].starts_with("format: must be \"vigie-sim-scenario/1\""));
    let typo = with(None, None, "horizon_dayz = 3");
    assert!(problems(&typo)[0].contains("unknown field `horizon_dayz`"), "{:?}", problems(&typo));
    assert!(problems("format = ")[0].contains("line 1"), "{:?}", problems("format = "));
    let nan = with(None, None, "").replace("horizon_days = 7", "horizon_days = nan");
    assert!(problems(&nan)[0].starts_with("horizon_days: must be above 0"));
}

#[test]
fn a_rate_that_would_not_finish_is_refused_before_running() {
    let huge = format!(
        "[[class]]\nname = \"P1\"\npriority = 1\nsla_wait_minutes = 1\nservice_mean_minutes = 1\nservice_sd_minutes = 1\narrivals_per_hour = [1e9, {}]\n",
        vec!["0"; 167].join(", ")
    );
    let found = problems(&with(Some(&huge), None, ""));
    assert!(found[0].contains("the most vigie simulates is"), "{found:?}");
    // Counted over the hours really simulated: one hour at 1e8 is refused too.
    let one_hour = format!(
        "[[class]]\nname = \"P1\"\npriority = 1\nsla_wait_minutes = 1\nservice_mean_minutes = 1\nservice_sd_minutes = 1\narrivals_per_hour = [1e8, {}]\n",
        vec!["0"; 167].join(", ")
    );
    let short = with(Some(&one_hour), None, "").replace("horizon_days = 7", "horizon_days = 0.0416666");
    assert!(problems(&short)[0].contains("the most vigie simulates is"), "{:?}", problems(&short));
}

#[test]
fn an_unstaffed_day_and_an_overload_are_warned_not_refused() {
    let weekdays = "[[shift]]\nname = \"weekdays\"\ndays = [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\"]\nstart = \"08:00\"\nend = \"16:00\"\nagents = 1\n";
    let (_, warnings) = Scenario::parse(&with(None, Some(weekdays), "")).expect("allowed");
    let said: Vec<String> = warnings.iter().map(ToString::to_string).collect();
    assert!(
        said.iter().any(|w| w.starts_with("shift (Sat): no agent is on duty at any time on Sat; 24 tickets")),
        "{said:?}"
    );
    assert!(said.iter().any(|w| w.starts_with("shift (Sun)")), "{said:?}");
    // 168 tickets × 10 minutes = 28 hours a week against 40 agent hours: no overload.
    assert!(!said.iter().any(|w| w.contains("can only grow")), "{said:?}");
    let one_hour = weekdays.replace("16:00", "09:00");
    let (_, warnings) = Scenario::parse(&with(None, Some(&one_hour), "")).expect("allowed");
    assert!(
        warnings.iter().any(|w| w.reason.contains("28 hours of work arrive a week against 5 agent hours")),
        "{warnings:?}"
    );
}

#[test]
fn a_start_inside_the_week_is_reckoned_from_its_monday() {
    let text = with(None, None, "").replace("2026-03-02T00:00:00Z", "2026-03-04T13:30:00Z");
    let (s, _) = Scenario::parse(&text).expect("a Wednesday start");
    assert_eq!(s.week_offset, 2.0 * 1440.0 + 13.0 * 60.0 + 30.0);
    let odd = with(None, None, "").replace("2026-03-02T00:00:00Z", "2026-03-04T13:30:10Z");
    assert!(problems(&odd)[0].starts_with("start: must fall on a whole minute"));
    assert_eq!(monday_of("2026-03-08T23:59:59Z".parse().expect("ts")).to_string(), "2026-03-02T00:00:00Z");
    assert_eq!(monday_of("2026-03-09T00:00:00Z".parse().expect("ts")).to_string(), "2026-03-09T00:00:00Z");
}

#[test]
fn overnight_shifts_wrap_into_the_next_day_and_the_week() {
    let shifts = vec![Shift { name: "night".into(), days: vec![6], start: 22 * 60, end: 6 * 60, agents: 3 }];
    let segments = weekly_staffing(&shifts);
    let at = |minute: f64| segments.iter().find(|s| s.start <= minute && minute < s.end).map_or(0, |s| s.agents);
    assert_eq!(at(6.0 * 1440.0 + 23.0 * 60.0), 3); // Sunday 23:00
    assert_eq!(at(5.0 * 60.0), 3); // Monday 05:00, wrapped
    assert_eq!(at(7.0 * 60.0), 0);
}
