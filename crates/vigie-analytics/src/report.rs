//! The report over a history: the history read in parallel, each thread counting into its own
//! [`MetricsAccumulator`], the accumulators merged, the report computed once.

use std::io::Read;

use vigie_core::metrics::{AsOf, HandleTimes, MetricsAccumulator, Report, SlaTable};

use crate::history::{self, HistoryError, ReadOptions, ReadSummary};

/// A computed report and what the reading went through.
#[derive(Debug)]
pub struct ReportRun {
    pub report: Report,
    pub summary: ReadSummary,
}

/// Computes the report of the history read from `source` (named `file` in messages).
/// `progress` is called with the bytes read so far.
pub fn run(
    source: impl Read,
    file: &str,
    as_of: AsOf,
    sla: &SlaTable,
    handle_times: &HandleTimes,
    options: ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ReportRun, HistoryError> {
    let (states, summary) = history::fold_rows(
        source,
        file,
        options,
        progress,
        || MetricsAccumulator::new(as_of),
        |accumulator, row| {
            let facts = row.facts()?;
            accumulator.add(&facts.view());
            Ok(())
        },
    )?;
    let mut total = MetricsAccumulator::new(as_of);
    for state in states {
        total.merge(state);
    }
    Ok(ReportRun { report: total.finish(sla, handle_times), summary })
}
