//! The ticket and its enumerated attributes, spelled as in `shared/FORMATS.md`.

use jiff::Timestamp;

use crate::ids::{AgentId, CustomerId, TeamId, TicketId};
use crate::sla::{SlaClock, SlaMarks, SlaTargets, StatusSince};

/// Declares a closed set of values with one canonical spelling each, parsed from and printed
/// as that spelling. `ALL` lists them in order, for error messages and documentation.
macro_rules! spelled_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical spelling; anything else is `None`.
            pub fn parse(text: &str) -> Option<Self> {
                Self::parse_bytes(text.as_bytes())
            }

            /// Parses the canonical spelling from raw bytes (a CSV field), without first
            /// checking that they are UTF-8: the spellings are ASCII.
            pub fn parse_bytes(bytes: &[u8]) -> Option<Self> {
                $(if bytes == $text.as_bytes() { return Some($name::$variant); })+
                None
            }

            /// "one of `a`, `b`, `c`": the reason given when a value is not in the set.
            pub fn expected() -> String {
                let names: Vec<String> = Self::ALL.iter().map(|v| format!("`{}`", v.as_str())).collect();
                format!("must be one of {}", names.join(", "))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use spelled_enum;

spelled_enum!(
    /// Where a ticket is in its lifecycle. See [`crate::lifecycle`] for the allowed moves.
    Status {
        New => "new",
        Open => "open",
        PendingCustomer => "pending_customer",
        PendingThirdParty => "pending_third_party",
        PendingInternal => "pending_internal",
        Solved => "solved",
        Closed => "closed",
    }
);

impl Status {
    /// Open in the backlog sense: not yet solved or closed (METRICS.md's `open(T)` for now).
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Solved | Status::Closed)
    }
}

spelled_enum!(
    /// How urgent a ticket is: `P1` is critical, `P4` low. Ordered so that `P1 < P4`.
    Priority { P1 => "P1", P2 => "P2", P3 => "P3", P4 => "P4" }
);

impl Priority {
    /// 1 for `P1` … 4 for `P4`: the number stored and sorted on.
    pub fn rank(self) -> i64 {
        match self {
            Priority::P1 => 1,
            Priority::P2 => 2,
            Priority::P3 => 3,
            Priority::P4 => 4,
        }
    }

    pub fn from_rank(rank: i64) -> Option<Self> {
        match rank {
            1 => Some(Priority::P1),
            2 => Some(Priority::P2),
            3 => Some(Priority::P3),
            4 => Some(Priority::P4),
            _ => None,
        }
    }
}

spelled_enum!(
    /// The channel a request arrived by.
    Channel { Email => "email", Chat => "chat", Phone => "phone", Web => "web", Social => "social" }
);

spelled_enum!(
    /// The customer's service tier; strategic customers are served first among equals.
    CustomerTier { Standard => "standard", Premium => "premium", Strategic => "strategic" }
);

/// A request as it stands after its latest event: the ticket projection.
///
/// Invariants kept by [`crate::decide`]: `version` grows by one with each accepted command
/// that changed the ticket; `resolved_at` is set exactly when `status` is solved or closed;
/// `first_response_at`, once set, never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    pub status: Status,
    pub priority: Priority,
    /// The request type, e.g. `billing`: a free slug, since every organisation has its own.
    pub category: String,
    pub channel: Channel,
    pub customer_id: CustomerId,
    pub customer_tier: CustomerTier,
    pub team: Option<TeamId>,
    pub assignee: Option<AgentId>,
    pub subject: String,
    pub body: String,
    /// Satisfaction score 1–5, once the customer has rated the answer.
    pub csat: Option<u8>,
    pub tags: Vec<String>,
    /// The request carries a legal risk (a formal complaint, a regulator, a deadline in law).
    pub legal_risk: bool,
    /// The request blocks the customer's business (an incident that stops their work).
    pub blocking: bool,
    /// The language the customer writes in (`fr`, `en`...), matched against agents' skills.
    pub language: Option<String>,
    /// Every status the ticket entered, with when, from its creation: the SLA clock's input.
    pub status_history: Vec<StatusSince>,
    /// The SLA targets it runs on; `None` when no policy matched it.
    pub sla_targets: Option<SlaTargets>,
    /// The SLA warnings and breaches recorded for its current targets.
    pub sla_marks: SlaMarks,
    /// The time rules that fired since the ticket last changed status (each fires once per
    /// status, and a rule measured from `step_entered` once per stay in a step, recorded
    /// `name@micros`: see [`crate::automation`]).
    pub rules_applied: Vec<String>,
    /// Every step of its category's workflow it entered, with when, from its creation (empty
    /// for a category without one): see [`crate::workflow`].
    pub steps: Vec<crate::workflow::StepSince>,
}

impl Ticket {
    /// The inputs of its SLA clock, when it has targets.
    pub fn sla_clock(&self) -> Option<SlaClock<'_>> {
        self.sla_targets.as_ref().map(|targets| SlaClock {
            created_at: self.created_at,
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            status_history: &self.status_history,
            targets,
            marks: self.sla_marks,
        })
    }
}
