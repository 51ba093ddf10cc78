//! The CSV path of `vigie report` and `vigie import` on arbitrary bytes: it must never panic
//! or hang, and the parallel reading must agree with the reading in order.
//!
//! The first byte picks the block size (small ones exercise the cutting between records) and
//! the number of threads; the rest is the file, after a valid header half the time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigie_analytics::history::{self, ReadOptions};
use vigie_analytics::import::HistoryTicket;
use vigie_analytics::report;
use vigie_core::metrics::{AsOf, HandleTimes, SlaTable};

const HEADER: &[u8] = b"id,created_at,first_response_at,resolved_at,status,priority,category,channel,customer_id,customer_tier,team,assignee,subject,body,csat,tags\n";

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else { return };
    let mut file = Vec::with_capacity(rest.len() + HEADER.len());
    if knobs & 1 == 0 {
        file.extend_from_slice(HEADER);
    }
    file.extend_from_slice(rest);
    let block_bytes = [16, 64, 1_000, 100_000][usize::from((knobs >> 1) & 3)];
    let threads = 1 + usize::from((knobs >> 3) & 3);
    let skip_invalid = knobs & 0x20 != 0;
    let as_of = if knobs & 0x40 != 0 { AsOf::At(1_767_225_600) } else { AsOf::Latest };

    let options = ReadOptions { skip_invalid, threads, block_bytes };
    let parallel = report::run(&file[..], "f.csv", as_of, &SlaTable::default(), &HandleTimes::default(), options, &|_| {});

    let mut in_order = 0u64;
    let sequential = history::for_each_row(&file[..], "f.csv", options, |row, _| {
        let facts = row.facts()?;
        in_order += 1;
        // The import's reading of the same row must not panic either, nor its events.
        if let Ok(ticket) = HistoryTicket::from_row(row) {
            let events = ticket.events();
            assert!(vigie_core::event::replay(&events).is_ok(), "imported events replay: {ticket:?}");
        }
        drop(facts);
        Ok(Ok::<(), ()>(()))
    });

    match (parallel, sequential) {
        (Ok(run), Ok(Ok(summary))) => {
            assert_eq!(run.report.tickets_total, in_order, "parallel and in-order readings count the same rows");
            assert_eq!(run.summary.skipped, summary.skipped);
            let _ = vigie_analytics::render::json::to_json(&run.report);
            let _ = vigie_analytics::render::text::to_text(&run.report, "f.csv");
            let _ = vigie_analytics::render::html::to_html(&run.report, "f.csv");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "the same first error"),
        (a, b) => panic!("the readings disagree: {:?} / {:?}", a.map(|r| r.summary), b.map(|_| ())),
    }
});
