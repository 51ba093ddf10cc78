//! Capacity planning, as pure computation: how many agents each interval needs (`staffing`:
//! Erlang C for live channels) and how the backlog drains under shifts, policies and outsourced
//! help (`simulate`: discrete-event simulation, replications in parallel). No I/O beyond
//! reading the caller's text, no clock.

pub mod arrivals;
pub mod forecast;
pub mod ratio;
pub mod simulate;
pub mod staffing;
pub mod workload;
