//! vigie's offline engine: the backlog and KPI report of `shared/METRICS.md` over an exported
//! ticket history, in the formats of `shared/FORMATS.md`.
//!
//! - [`history`] reads `tickets.csv` as a stream of blocks, in parallel, with errors that name
//!   the file, line, column and reason;
//! - [`tables`] reads `sla.csv` and `handle_time.csv`;
//! - [`import`] turns a history row into the events vigie would have recorded (`vigie import`);
//! - [`report`] runs the metric definitions of `vigie_core::metrics` over a history;
//! - [`render`] writes a report as canonical JSON (`shared/bench/REPORT_SCHEMA.md`), as text
//!   for a terminal, or as a self-contained HTML page with SVG charts.
//!
//! **Architecture Invariant:** the metric definitions are not here but in `vigie-core`, so that
//! the server's live dashboard computes the same numbers from the same code. This crate knows
//! files and formats; it knows nothing of the store or of HTTP.

pub mod history;
pub mod import;
pub mod render;
pub mod report;
pub mod tables;
