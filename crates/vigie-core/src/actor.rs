//! Who does something: a role, and for agents the teams whose tickets they may touch.

use crate::ids::TeamId;
use crate::ticket::Ticket;

crate::ticket::spelled_enum!(
    /// What a token may do. Admins manage the directory; leads and admins see and change every
    /// ticket; agents see and change the tickets of their teams; viewers only read.
    Role { Admin => "admin", Lead => "lead", Agent => "agent", Viewer => "viewer" }
);

/// The author of a command, as recorded in every event it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The name recorded in events (a token's name, or `system` for the scheduler).
    pub name: String,
    pub role: Role,
    /// The teams an agent works for. Ignored for other roles.
    pub teams: Vec<TeamId>,
}

impl Actor {
    /// The scheduler, imports and demo loads: the system itself.
    pub fn system() -> Self {
        Actor { name: "system".to_owned(), role: Role::Admin, teams: Vec::new() }
    }

    pub fn can_write_tickets(&self) -> bool {
        self.role != Role::Viewer
    }

    pub fn can_manage_directory(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this actor may see (and, if it writes at all, change) a ticket. Agents see only
    /// the tickets of their teams; a ticket with no team is visible to leads and admins only,
    /// who are the ones expected to route it.
    pub fn can_see(&self, ticket: &Ticket) -> bool {
        self.can_see_team(ticket.team.as_ref())
    }

    pub fn can_see_team(&self, team: Option<&TeamId>) -> bool {
        match self.role {
            Role::Admin | Role::Lead | Role::Viewer => true,
            Role::Agent => team.is_some_and(|team| self.teams.contains(team)),
        }
    }

    /// The teams this actor's reads are limited to, or `None` when it sees everything.
    pub fn team_scope(&self) -> Option<&[TeamId]> {
        match self.role {
            Role::Agent => Some(&self.teams),
            Role::Admin | Role::Lead | Role::Viewer => None,
        }
    }

    /// Whether a public comment by this actor is an answer to the customer (an agent's reply),
    /// which starts the first-response clock.
    pub fn answers_customers(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Lead | Role::Agent)
    }
}
