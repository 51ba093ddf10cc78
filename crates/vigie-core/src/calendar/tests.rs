use jiff::tz::{TimeZone, TimeZoneDatabase};
use proptest::prelude::*;

use super::*;

fn bundled(name: &str) -> Option<TimeZone> {
    TimeZoneDatabase::bundled().get(name).ok()
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid instant")
}

fn input(time_zone: &str, days: &[(&str, &[&str])], holidays: Vec<HolidayInput>) -> CalendarInput {
    CalendarInput {
        time_zone: time_zone.into(),
        always_open: false,
        days: days
            .iter()
            .map(|(day, spans)| (day.to_string(), spans.iter().map(|s| s.to_string()).collect()))
            .collect(),
        holidays,
    }
}

fn holiday(date: &str, from: Option<&str>, to: Option<&str>) -> HolidayInput {
    HolidayInput { date: date.into(), from: from.map(Into::into), to: to.map(Into::into), name: None }
}

const OFFICE: &[(&str, &[&str])] = &[
    ("monday", &["09:00-12:30", "13:30-18:00"]),
    ("tuesday", &["09:00-12:30", "13:30-18:00"]),
    ("wednesday", &["09:00-12:30", "13:30-18:00"]),
    ("thursday", &["09:00-12:30", "13:30-18:00"]),
    ("friday", &["09:00-12:30", "13:30-17:00"]),
];

fn paris_office() -> Calendar {
    input("Europe/Paris", OFFICE, vec![holiday("2026-12-25", None, None), holiday("2026-12-24", Some("12:00"), None)])
        .parse("paris", &bundled)
        .expect("a valid calendar")
}

/// Every day worked in full, with one holiday so that it is not the `Always` shortcut: DST
/// days show their true length.
fn every_day(time_zone: &str) -> Calendar {
    let days: Vec<(&str, &[&str])> = WEEKDAYS.iter().map(|(_, day)| (*day, &["00:00-24:00"][..])).collect();
    input(time_zone, &days, vec![holiday("1999-01-01", None, None)]).parse("all", &bundled).expect("valid")
}

fn minutes_between(calendar: &Calendar, from: &str, to: &str) -> f64 {
    calendar.business_time_between(at(from), at(to)).as_secs_f64() / 60.0
}

#[test]
fn office_hours_are_counted() {
    let paris = paris_office();
    // Monday 2026-03-02 (CET, UTC+1): 09:00–12:30 and 13:30–18:00 local.
    assert_eq!(minutes_between(&paris, "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"), 60.0);
    assert_eq!(minutes_between(&paris, "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"), 480.0);
    // Friday 17:00 local (16:00Z) to Monday 09:00 local (08:00Z): nothing.
    assert_eq!(minutes_between(&paris, "2026-03-06T16:00:00Z", "2026-03-09T08:00:00Z"), 0.0);
    // A whole week: 4 × 8h + 7.5h.
    assert_eq!(minutes_between(&paris, "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"), 4.0 * 480.0 + 420.0);
    // Backwards is negative.
    assert_eq!(minutes_between(&paris, "2026-03-02T09:00:00Z", "2026-03-02T08:00:00Z"), -60.0);
}

#[test]
fn deadlines_land_in_business_hours() {
    let paris = paris_office();
    let add = |from: &str, n: i64| paris.add_business_time(at(from), minutes(n)).expect("in range").to_string();
    // Friday 16:30 local + 60 min: 30 min on Friday, then Monday 09:30 local.
    assert_eq!(add("2026-03-06T15:30:00Z", 60), "2026-03-09T08:30:00Z");
    // Exactly at closing time: the deadline is the closing time, not the next opening.
    assert_eq!(add("2026-03-06T15:30:00Z", 30), "2026-03-06T16:00:00Z");
    // Before opening on a Saturday: Monday.
    assert_eq!(add("2026-03-07T10:00:00Z", 1), "2026-03-09T08:01:00Z");
    // Over lunch.
    assert_eq!(add("2026-03-02T11:00:00Z", 60), "2026-03-02T13:00:00Z");
    // Back in time: the latest instant, the opening rather than the previous closing.
    assert_eq!(add("2026-03-09T08:30:00Z", -30), "2026-03-09T08:00:00Z");
    assert_eq!(add("2026-03-09T08:30:00Z", -60), "2026-03-06T15:30:00Z");
}

#[test]
fn next_opening() {
    let paris = paris_office();
    let next = |at: &str| paris.next_open_at(self::at(at)).expect("in range").to_string();
    assert_eq!(next("2026-03-07T10:00:00Z"), "2026-03-09T08:00:00Z", "Saturday: Monday 09:00 Paris");
    assert_eq!(next("2026-03-09T09:15:00Z"), "2026-03-09T09:15:00Z", "open now: now");
    assert_eq!(next("2026-03-09T11:45:00Z"), "2026-03-09T12:30:00Z", "lunch: 13:30 Paris");
    assert_eq!(next("2026-03-06T16:00:00Z"), "2026-03-09T08:00:00Z", "closing time: the next opening");
}

#[test]
fn holidays_whole_and_partial() {
    let paris = paris_office();
    // Thursday 2026-12-24: closed from noon, so 09:00–12:00 only; Friday 25th: closed.
    assert_eq!(minutes_between(&paris, "2026-12-24T00:00:00Z", "2026-12-25T00:00:00Z"), 180.0);
    assert_eq!(minutes_between(&paris, "2026-12-25T00:00:00Z", "2026-12-26T00:00:00Z"), 0.0);
    let due = paris.add_business_time(at("2026-12-24T10:00:00Z"), minutes(120)).expect("in range");
    // 60 min left on the 24th (11:00–12:00 local), then Monday the 28th 09:00 + 60.
    assert_eq!(due.to_string(), "2026-12-28T09:00:00Z");
}

#[test]
fn daylight_saving_days_have_their_true_length() {
    let paris = every_day("Europe/Paris");
    // Spring forward, Sunday 2026-03-29: 23 hours. Fall back, Sunday 2026-10-25: 25 hours.
    assert_eq!(minutes_between(&paris, "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"), 23.0 * 60.0);
    assert_eq!(minutes_between(&paris, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"), 25.0 * 60.0);
    let new_york = every_day("America/New_York");
    assert_eq!(minutes_between(&new_york, "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"), 23.0 * 60.0);
    assert_eq!(minutes_between(&new_york, "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z"), 25.0 * 60.0);
}

#[test]
fn office_hours_across_daylight_saving() {
    // New York, 09:00–17:00 local every weekday. DST starts Sunday 2026-03-08: Friday the 6th
    // opens at 14:00Z (EST), Monday the 9th at 13:00Z (EDT).
    let days: Vec<(&str, &[&str])> = WEEKDAYS[..5].iter().map(|(_, day)| (*day, &["09:00-17:00"][..])).collect();
    let new_york = input("America/New_York", &days, Vec::new()).parse("ny", &bundled).expect("valid");
    let due = new_york.add_business_time(at("2026-03-06T21:00:00Z"), minutes(120)).expect("in range");
    assert_eq!(due.to_string(), "2026-03-09T14:00:00Z", "Friday 16:00 EST + 2h = Monday 10:00 EDT");
    assert_eq!(minutes_between(&new_york, "2026-03-06T14:00:00Z", "2026-03-09T21:00:00Z"), 16.0 * 60.0);
}

#[test]
fn hours_inside_a_skipped_hour_start_at_the_jump() {
    // 02:30–03:30 local on the day Paris skips 02:00–03:00: only 03:00–03:30 exists.
    let days: Vec<(&str, &[&str])> = vec![("sunday", &["02:30-03:30"][..])];
    let paris = input("Europe/Paris", &days, Vec::new()).parse("night", &bundled).expect("valid");
    assert_eq!(minutes_between(&paris, "2026-03-29T00:00:00Z", "2026-03-29T03:00:00Z"), 30.0);
    // On the day the hour repeats, 02:30–03:30 local lasts two hours.
    assert_eq!(minutes_between(&paris, "2026-10-25T00:00:00Z", "2026-10-25T03:00:00Z"), 120.0);
}

#[test]
fn always_open_is_plain_arithmetic() {
    let always = Calendar::always_open();
    assert!(always.is_always_open());
    assert_eq!(minutes_between(&always, "2026-03-06T15:30:00Z", "2026-03-09T08:30:00Z"), 3900.0);
    let full = input("Europe/Paris", &[], Vec::new());
    let full = CalendarInput { always_open: true, ..full }.parse("support", &bundled).expect("valid");
    assert!(full.is_always_open(), "a calendar open at every hour without holidays is 24/7");
}

#[test]
fn bad_calendars_name_the_field() {
    #[track_caller]
    fn check(input: CalendarInput, expected: &[(&str, &str)]) {
        let errors = input.parse("cal", &bundled).expect_err("refused").0;
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.reason.as_str())).collect();
        assert_eq!(got, expected);
    }
    check(
        input("Mars/Olympus", &[("monday", &["09:00-12:00", "11:00-13:00"]), ("tuesday", &["18:00-09:00"])], vec![]),
        &[
            ("time_zone", "`Mars/Olympus` is not a known IANA time zone (such as `Europe/Paris`)"),
            ("monday[1]", "overlaps 09:00-12:00 on the same day"),
            ("tuesday[0]", "`18:00-09:00` must end after it starts, on the same day (24:00 for midnight)"),
        ],
    );
    check(
        input("UTC", &[("funday", &["09:00-10:00"]), ("monday", &["9-10"])], vec![holiday("2026-13-01", None, None)]),
        &[
            ("funday", "is not a weekday (monday … sunday)"),
            ("monday[0]", "`9` is not a time HH:MM (00:00 to 24:00)"),
            ("holidays[0].date", "must be a date YYYY-MM-DD"),
        ],
    );
    check(
        input("UTC", &[("monday", &["09:00-24:00"])], vec![holiday("2026-05-01", Some("15:00"), Some("10:00"))]),
        &[("holidays[0].to", "must be after `from`")],
    );
    check(
        input("", &[("monday", &["09:00-10:00"])], vec![]),
        &[("time_zone", "is required (an IANA name such as `Europe/Paris`)")],
    );
}

/// An independent measure: walk the local days, turn each working interval into instants with
/// jiff's `Zoned` (compatible disambiguation; the test calendars have no boundary in a DST
/// hour), and intersect with `[from, to)`.
fn reference_between(calendar: &Calendar, from: Timestamp, to: Timestamp) -> i64 {
    let time_zone = bundled(&calendar.spec().time_zone).expect("known zone");
    let mut date = from.to_zoned(time_zone.clone()).date().yesterday().expect("in range");
    let last = to.to_zoned(time_zone.clone()).date().tomorrow().expect("in range");
    let closed: Vec<&Holiday> = calendar.spec().holidays.iter().collect();
    let mut total = 0;
    while date <= last {
        let weekday_idx = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
        let holes: Vec<DaySpan> = closed
            .iter()
            .filter(|h| h.date == date)
            .map(|h| h.closed.unwrap_or(DaySpan { start: 0, end: MINUTES_PER_DAY }))
            .collect();
        for span in subtract(&calendar.spec().week[weekday_idx], &holes) {
            let instant = |minute: u16| {
                let day = if minute == MINUTES_PER_DAY { date.tomorrow().expect("in range") } else { date };
                let minute = minute % MINUTES_PER_DAY;
                let civil =
                    day.at(i8::try_from(minute / 60).expect("hour"), i8::try_from(minute % 60).expect("min"), 0, 0);
                civil.to_zoned(time_zone.clone()).expect("exists").timestamp().as_microsecond()
            };
            let (start, end) =
                (instant(span.start).max(from.as_microsecond()), instant(span.end).min(to.as_microsecond()));
            total += (end - start).max(0);
        }
        date = date.tomorrow().expect("in range");
    }
    total
}

fn new_york_office() -> Calendar {
    let days: Vec<(&str, &[&str])> = vec![
        ("monday", &["08:00-12:00", "13:00-19:00"][..]),
        ("tuesday", &["08:00-12:00", "13:00-19:00"][..]),
        ("wednesday", &["08:00-19:00"][..]),
        ("thursday", &["08:00-12:00", "13:00-19:00"][..]),
        ("friday", &["08:00-16:00"][..]),
        ("saturday", &["10:00-14:00"][..]),
    ];
    input(
        "America/New_York",
        &days,
        vec![
            holiday("2026-07-03", None, None),
            holiday("2026-11-26", None, None),
            holiday("2026-12-24", Some("12:00"), None),
        ],
    )
    .parse("ny", &bundled)
    .expect("valid")
}

/// Instants in 2025–2028 at microsecond precision.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_735_689_600_000_000i64..1_830_297_600_000_000i64)
        .prop_map(|micros| Timestamp::from_microsecond(micros).expect("in range"))
}

fn calendars() -> Vec<Calendar> {
    vec![paris_office(), new_york_office(), every_day("Europe/Paris"), every_day("America/New_York")]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Adding N business minutes and measuring the span gives N back, exactly.
    #[test]
    fn add_then_measure_gives_back(from in instant(), micros in 0i64..40 * 24 * 3_600_000_000, which in 0usize..4) {
        let calendar = &calendars()[which];
        let amount = SignedDuration::from_micros(micros);
        let due = calendar.add_business_time(from, amount).expect("in range");
        prop_assert!(due >= from);
        prop_assert_eq!(calendar.business_time_between(from, due), amount);
        // And the deadline is the earliest such instant: a microsecond before, it is not reached.
        if micros > 0 {
            let just_before = due.checked_sub(SignedDuration::from_micros(1)).expect("in range");
            prop_assert!(calendar.business_time_between(from, just_before) < amount);
        }
    }

    /// Going back N business minutes and measuring forward gives N.
    #[test]
    fn subtract_then_measure_gives_back(from in instant(), micros in 0i64..40 * 24 * 3_600_000_000, which in 0usize..4) {
        let calendar = &calendars()[which];
        let amount = SignedDuration::from_micros(micros);
        let earlier = calendar.add_business_time(from, -amount).expect("in range");
        prop_assert!(earlier <= from);
        prop_assert_eq!(calendar.business_time_between(earlier, from), amount);
    }

    /// The measure agrees with a day-by-day walk done with jiff's own zoned arithmetic.
    #[test]
    fn measure_agrees_with_a_day_walk(a in instant(), span in 0i64..20 * 24 * 3_600_000_000, which in 0usize..4) {
        let calendar = &calendars()[which];
        let b = Timestamp::from_microsecond(a.as_microsecond() + span).expect("in range");
        prop_assert_eq!(calendar.business_time_between(a, b).as_micros(), i128::from(reference_between(calendar, a, b)));
    }

    /// Measures add up: [a, b) + [b, c) = [a, c), whatever the order of a, b, c.
    #[test]
    fn measures_add_up(a in instant(), b in instant(), c in instant(), which in 0usize..4) {
        let calendar = &calendars()[which];
        let ab = calendar.business_time_between(a, b);
        let bc = calendar.business_time_between(b, c);
        prop_assert_eq!(ab + bc, calendar.business_time_between(a, c));
    }
}
