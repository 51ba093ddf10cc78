//! vigie's domain core: what a ticket is, how it may change, and what a change records.
//!
//! The pipeline of a write, as far as the core is concerned:
//! raw input (strings) is parsed into typed commands ([`command`]), every error naming its
//! field; a command is decided against the current ticket ([`decide`]), which checks the
//! version, the actor's rights and the lifecycle ([`lifecycle`]), and yields the new ticket
//! and the events ([`event`]) that record the change.
//!
//! **Architecture Invariant:** this crate does no I/O and never reads the clock: "now" is an
//! argument of every function that needs it. It knows nothing of HTTP, JSON or SQL, so it can
//! serve the server, the offline report and the simulator alike.

pub mod actor;
pub mod alerts;
pub mod automation;
pub mod backlog_history;
pub mod calendar;
pub mod command;
pub mod decide;
pub mod directory;
pub mod event;
pub mod ids;
pub mod lifecycle;
pub mod metrics;
pub mod operations;
pub mod queue;
pub mod recurring;
pub mod reviews;
pub mod rules;
pub mod sla;
pub mod ticket;
pub mod workflow;

pub use actor::{Actor, Role};
pub use command::{
    ExpectedVersion, FieldError, NewComment, NewCommentInput, NewTicket, NewTicketInput, Patch, TicketPatch,
    TicketPatchInput, ValidationErrors,
};
pub use decide::{CommandError, Decision, DirectoryLookup};
pub use event::{Event, EventKind, FieldChange, FieldValue, SimilarTicket, TicketField};
pub use ids::{AgentId, CustomerId, IdError, TeamId, TicketId};
pub use rules::Rules;
pub use sla::{SlaMarks, SlaState, SlaTarget, SlaTargets, StatusSince};
pub use ticket::{Channel, CustomerTier, Priority, Status, Ticket};
