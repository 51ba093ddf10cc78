//! Capacity planning, as pure computation over files: how many agents each interval needs
//! (`staffing`: Erlang C for live channels). No I/O beyond reading the caller's text, no clock.

pub mod arrivals;
pub mod ratio;
pub mod staffing;
