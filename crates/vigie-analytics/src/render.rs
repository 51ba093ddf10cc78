//! A report written out: canonical JSON, text for a terminal, a self-contained HTML page.

pub mod html;
pub mod json;
pub mod svg;
pub mod text;

use jiff::Timestamp;
use jiff::tz::Offset;

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn instant(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A share as a percentage with one decimal, `-` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.1} %", s * 100.0))
}

/// `YYYY-MM-DD` (UTC).
pub fn day(at: Timestamp) -> String {
    Offset::UTC.to_datetime(at).date().to_string()
}
