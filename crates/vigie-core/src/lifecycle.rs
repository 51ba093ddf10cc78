//! The ticket lifecycle as one explicit transition table.
//!
//! ```text
//! from \ to            new open pend_c pend_3p pend_int solved closed
//! new                   =   ✓     ✓      ✓        ✓       ✓      ·
//! open                  ·   =     ✓      ✓        ✓       ✓      ·
//! pending_customer      ·   ✓     =      ✓        ✓       ✓      ·
//! pending_third_party   ·   ✓     ✓      =        ✓       ✓      ·
//! pending_internal      ·   ✓     ✓      ✓        =       ✓      ·
//! solved                ·   ✓     ·      ·        ·       =      ✓
//! closed                ·   ·     ·      ·        ·       ·      =
//! ```
//!
//! Nothing returns to `new` (it means "nobody has looked yet"). Reopening goes from `solved`
//! to `open` only; `closed` is final, so a customer writing again about a closed request gets a
//! new ticket. Closing requires solving first, so that every closed ticket has a resolution
//! time. Staying in the same status is not a transition (no event is recorded).

use crate::ticket::Status;

/// Whether the lifecycle lets a ticket move from `from` to `to` (`from != to`).
pub fn is_allowed(from: Status, to: Status) -> bool {
    use Status::*;
    match (from, to) {
        (_, New) => false,
        (Closed, _) => false,
        (Solved, Open | Closed) => true,
        (Solved, _) => false,
        (_, Closed) => false,
        (New | Open | PendingCustomer | PendingThirdParty | PendingInternal, _) => from != to,
    }
}

/// The statuses reachable from `from`, in declaration order.
pub fn allowed_from(from: Status) -> Vec<Status> {
    Status::ALL.iter().copied().filter(|&to| to != from && is_allowed(from, to)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn transition_table() {
        let table: Vec<(Status, Vec<Status>)> = Status::ALL.iter().map(|&s| (s, allowed_from(s))).collect();
        let expected = vec![
            (New, vec![Open, PendingCustomer, PendingThirdParty, PendingInternal, Solved]),
            (Open, vec![PendingCustomer, PendingThirdParty, PendingInternal, Solved]),
            (PendingCustomer, vec![Open, PendingThirdParty, PendingInternal, Solved]),
            (PendingThirdParty, vec![Open, PendingCustomer, PendingInternal, Solved]),
            (PendingInternal, vec![Open, PendingCustomer, PendingThirdParty, Solved]),
            (Solved, vec![Open, Closed]),
            (Closed, vec![]),
        ];
        assert_eq!(table, expected);
    }
}
