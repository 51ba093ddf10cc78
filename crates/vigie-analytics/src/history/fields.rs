//! The columns of `tickets.csv` (FORMATS.md) and the typed reading of one row.

use std::borrow::Cow;

use vigie_core::metrics::TicketFacts;
use vigie_core::{Channel, CustomerTier, Priority, Status};

use super::record::Span;

/// The columns of a ticket history, by name, as FORMATS.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Id,
    CreatedAt,
    FirstResponseAt,
    ResolvedAt,
    Status,
    Priority,
    Category,
    Channel,
    CustomerId,
    CustomerTier,
    Team,
    Assignee,
    Subject,
    Body,
    Csat,
    Tags,
}

impl Column {
    pub const ALL: [Column; 16] = [
        Column::Id,
        Column::CreatedAt,
        Column::FirstResponseAt,
        Column::ResolvedAt,
        Column::Status,
        Column::Priority,
        Column::Category,
        Column::Channel,
        Column::CustomerId,
        Column::CustomerTier,
        Column::Team,
        Column::Assignee,
        Column::Subject,
        Column::Body,
        Column::Csat,
        Column::Tags,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::CreatedAt => "created_at",
            Column::FirstResponseAt => "first_response_at",
            Column::ResolvedAt => "resolved_at",
            Column::Status => "status",
            Column::Priority => "priority",
            Column::Category => "category",
            Column::Channel => "channel",
            Column::CustomerId => "customer_id",
            Column::CustomerTier => "customer_tier",
            Column::Team => "team",
            Column::Assignee => "assignee",
            Column::Subject => "subject",
            Column::Body => "body",
            Column::Csat => "csat",
            Column::Tags => "tags",
        }
    }

    /// The columns a history must have: those the metrics read and cannot do without. The
    /// others may be missing (an export without satisfaction scores, say): every value of a
    /// missing column is empty.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            Column::Id
                | Column::CreatedAt
                | Column::Status
                | Column::Priority
                | Column::Category
                | Column::Channel
                | Column::CustomerTier
                | Column::Team
        )
    }
}

/// Where each known column is in the file; unknown columns are ignored.
#[derive(Debug, Clone)]
pub struct Header {
    positions: [Option<usize>; 16],
    /// The number of fields of every record.
    pub width: usize,
    /// Every column name of the file, in order (for messages).
    pub names: Vec<String>,
}

impl Header {
    /// Reads the header record. Names are matched exactly (FORMATS.md spells them), after
    /// trimming spaces.
    pub fn parse(names: Vec<String>) -> Result<Header, String> {
        let mut positions = [None; 16];
        for (index, name) in names.iter().enumerate() {
            if let Some(column) = Column::ALL.iter().position(|c| c.name() == name.trim()) {
                if positions[column].is_some() {
                    return Err(format!("the header names column `{}` twice", name.trim()));
                }
                positions[column] = Some(index);
            }
        }
        let missing: Vec<&str> = Column::ALL
            .iter()
            .filter(|c| c.is_required() && positions[**c as usize].is_none())
            .map(|c| c.name())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "the header lacks the required column(s) {} (found: {})",
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                names.join(",")
            ));
        }
        Ok(Header { positions, width: names.len(), names })
    }

    pub fn position(&self, column: Column) -> Option<usize> {
        self.positions[column as usize]
    }
}

/// A bad value: the column and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub column: Column,
    /// The value as found, shortened for the message.
    pub value: String,
    pub reason: String,
}

/// One record of the history, borrowed from its block.
pub struct Row<'a> {
    pub header: &'a Header,
    pub block: &'a [u8],
    pub fields: &'a [Span],
}

impl<'a> Row<'a> {
    fn raw(&self, column: Column) -> Option<&'a Span> {
        self.header.position(column).map(|i| &self.fields[i])
    }

    fn bytes(&self, column: Column) -> Cow<'a, [u8]> {
        match self.raw(column) {
            Some(span) => span.value(self.block),
            None => Cow::Borrowed(&[]),
        }
    }

    /// The text of a column (empty when the column is missing).
    pub fn text(&self, column: Column) -> Result<Cow<'a, str>, FieldProblem> {
        match self.bytes(column) {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|_| not_utf8(column, bytes)),
            Cow::Owned(bytes) => String::from_utf8(bytes).map(Cow::Owned).map_err(|e| not_utf8(column, e.as_bytes())),
        }
    }

    /// The text of a column with any invalid UTF-8 replaced by U+FFFD (for free text read as
    /// text only, like the similarity of bodies).
    pub fn text_lossy(&self, column: Column) -> Cow<'a, str> {
        match self.bytes(column) {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// A text that must not be empty.
    pub fn required(&self, column: Column) -> Result<Cow<'a, str>, FieldProblem> {
        let text = self.text(column)?;
        if text.bytes().all(|b| b.is_ascii_whitespace()) {
            return Err(problem(column, &text, "must not be empty"));
        }
        Ok(text)
    }

    /// A text that may be empty: `None` then.
    pub fn optional(&self, column: Column) -> Result<Option<Cow<'a, str>>, FieldProblem> {
        let text = self.text(column)?;
        Ok((!text.is_empty()).then_some(text))
    }

    pub fn timestamp(&self, column: Column) -> Result<Option<i64>, FieldProblem> {
        let bytes = self.bytes(column);
        if bytes.is_empty() {
            return Ok(None);
        }
        let seconds = parse_timestamp(&bytes).ok_or_else(|| {
            problem(column, &String::from_utf8_lossy(&bytes), "is not an RFC 3339 timestamp (2026-03-02T08:15:00Z)")
        })?;
        if !INSTANTS.contains(&seconds) {
            return Err(problem(
                column,
                &String::from_utf8_lossy(&bytes),
                "is outside the years 1970 to 2199 (a typo in the year?)",
            ));
        }
        Ok(Some(seconds))
    }

    fn spelled<T>(
        &self,
        column: Column,
        parse: fn(&[u8]) -> Option<T>,
        expected: fn() -> String,
    ) -> Result<T, FieldProblem> {
        let bytes = self.bytes(column);
        parse(&bytes).ok_or_else(|| problem(column, &String::from_utf8_lossy(&bytes), &expected()))
    }

    pub fn status(&self) -> Result<Status, FieldProblem> {
        self.spelled(Column::Status, Status::parse_bytes, Status::expected)
    }

    pub fn priority(&self) -> Result<Priority, FieldProblem> {
        self.spelled(Column::Priority, Priority::parse_bytes, Priority::expected)
    }

    pub fn channel(&self) -> Result<Channel, FieldProblem> {
        self.spelled(Column::Channel, Channel::parse_bytes, Channel::expected)
    }

    pub fn customer_tier(&self) -> Result<CustomerTier, FieldProblem> {
        self.spelled(Column::CustomerTier, CustomerTier::parse_bytes, CustomerTier::expected)
    }

    pub fn csat(&self) -> Result<Option<u8>, FieldProblem> {
        let bytes = self.bytes(Column::Csat);
        match &bytes[..] {
            [] => Ok(None),
            [digit @ b'1'..=b'5'] => Ok(Some(digit - b'0')),
            other => Err(problem(
                Column::Csat,
                &String::from_utf8_lossy(other),
                "must be a whole number from 1 to 5, or empty",
            )),
        }
    }

    /// What the metrics read, checked: timestamps in order, closed sets spelled as in
    /// FORMATS.md, groups not empty.
    pub fn facts(&self) -> Result<RowFacts<'a>, FieldProblem> {
        let created_at =
            self.timestamp(Column::CreatedAt)?.ok_or_else(|| problem(Column::CreatedAt, "", "must not be empty"))?;
        let not_before_creation = |column: Column| -> Result<Option<i64>, FieldProblem> {
            match self.timestamp(column)? {
                Some(at) if at < created_at => Err(problem(column, &self.text(column)?, "is before created_at")),
                at => Ok(at),
            }
        };
        let first_response_at = not_before_creation(Column::FirstResponseAt)?;
        let resolved_at = not_before_creation(Column::ResolvedAt)?;
        Ok(RowFacts {
            id: self.required(Column::Id)?,
            category: self.required(Column::Category)?,
            team: self.required(Column::Team)?,
            created_at,
            first_response_at,
            resolved_at,
            status: self.status()?,
            priority: self.priority()?,
            channel: self.channel()?,
            customer_tier: self.customer_tier()?,
            csat: self.csat()?,
        })
    }
}

/// The checked facts of a row; the texts are borrowed from the block unless they held doubled
/// quotes.
#[derive(Debug, Clone)]
pub struct RowFacts<'a> {
    pub id: Cow<'a, str>,
    pub category: Cow<'a, str>,
    pub team: Cow<'a, str>,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub status: Status,
    pub priority: Priority,
    pub channel: Channel,
    pub customer_tier: CustomerTier,
    pub csat: Option<u8>,
}

impl RowFacts<'_> {
    /// The latest instant the row mentions (its creation, first response or resolution): the
    /// export instant of a history is the latest over its rows.
    pub fn latest(&self) -> i64 {
        [self.first_response_at, self.resolved_at].into_iter().flatten().fold(self.created_at, i64::max)
    }

    /// As the metrics take it.
    pub fn view(&self) -> TicketFacts<'_> {
        TicketFacts {
            id: &self.id,
            created_at: self.created_at,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            status: self.status,
            priority: self.priority,
            category: &self.category,
            channel: self.channel,
            customer_tier: self.customer_tier,
            team: &self.team,
            csat: self.csat,
        }
    }
}

/// A problem with a value, shown shortened to 60 characters.
pub(crate) fn problem(column: Column, value: &str, reason: &str) -> FieldProblem {
    const SHOWN: usize = 60;
    let value = match value.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    };
    FieldProblem { column, value, reason: reason.to_owned() }
}

fn not_utf8(column: Column, bytes: &[u8]) -> FieldProblem {
    problem(column, &String::from_utf8_lossy(bytes), "is not valid UTF-8")
}

/// The instants a history may hold: 1970-01-01 to the end of 2199, the calendars' range. A
/// year typed wrong (0202, 9999) would otherwise stretch the daily series over millennia.
pub const INSTANTS: std::ops::Range<i64> = 0..7_258_118_400;

/// Parses an RFC 3339 timestamp to Unix seconds (fractions dropped). The common form
/// `YYYY-MM-DDTHH:MM:SSZ` is read by hand; any other (offsets, fractions) goes through jiff.
pub fn parse_timestamp(bytes: &[u8]) -> Option<i64> {
    if let Some(seconds) = parse_plain_utc(bytes) {
        return Some(seconds);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let at: jiff::Timestamp = text.trim().parse().ok()?;
    Some(at.as_second())
}

fn parse_plain_utc(b: &[u8]) -> Option<i64> {
    let b: &[u8; 20] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let digit = |i: usize| -> Option<i64> {
        let d = b[i].wrapping_sub(b'0');
        (d < 10).then_some(i64::from(d))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date of years 0 to 9999 (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    const BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    // Leap days in the years before `year`, counted from year 0 (year 0 is a leap year).
    let leaps_before = |y: i64| if y == 0 { 0 } else { (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 + 1 };
    let leap_day = i64::from(month > 2 && is_leap(year));
    (year - 1970) * 365 + leaps_before(year) - leaps_before(1970) + BEFORE_MONTH[(month - 1) as usize] + leap_day + day
        - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written reading agrees with jiff's on every second of years 0 to 9999.
        #[test]
        fn plain_utc_timestamps_agree_with_jiff(seconds in -62_167_219_200i64..253_402_300_800) {
            let at = jiff::Timestamp::from_second(seconds).expect("in range");
            let text = at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            proptest::prop_assert_eq!(parse_plain_utc(text.as_bytes()), Some(seconds));
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        for text in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-0100:00:00Z ",
        ] {
            assert_eq!(parse_plain_utc(text.as_bytes()), None, "{text}");
        }
        assert_eq!(parse_plain_utc(b"2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_timestamp(b"2026-03-02T09:15:00.5+01:00"), Some(1_772_439_300));
    }
}
