//! The directory: teams, agents and customers, as records admins create.

use crate::command::{FieldError, ValidationErrors, check_name, parse_id};
use crate::ids::{AgentId, CustomerId, TeamId};
use crate::ticket::CustomerTier;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// The name of the business-hours calendar the team works to, when it has one.
    pub calendar: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: AgentId,
    pub name: String,
    pub teams: Vec<TeamId>,
    /// Categories the agent handles; empty means any.
    pub skill_categories: Vec<String>,
    /// Languages the agent answers in (e.g. `fr`, `en`); empty means any.
    pub skill_languages: Vec<String>,
}

/// What an agent can handle: categories and languages; an empty list means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skills {
    pub categories: Vec<String>,
    pub languages: Vec<String>,
}

impl Skills {
    /// Whether a ticket of this category and language is within these skills. A ticket with no
    /// language is anyone's.
    pub fn covers(&self, category: &str, language: Option<&str>) -> bool {
        let category_ok = self.categories.is_empty() || self.categories.iter().any(|c| c == category);
        let language_ok = match language {
            None => true,
            Some(language) => {
                // A skill `fr` covers `fr-CA`: the primary subtag is the language.
                let primary = language.split('-').next().unwrap_or(language);
                self.languages.is_empty()
                    || self
                        .languages
                        .iter()
                        .any(|l| l.eq_ignore_ascii_case(language) || l.eq_ignore_ascii_case(primary))
            }
        };
        category_ok && language_ok
    }
}

impl Agent {
    pub fn skills(&self) -> Skills {
        Skills { categories: self.skill_categories.clone(), languages: self.skill_languages.clone() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub tier: CustomerTier,
    /// Where the customer's messages go (the rules' notices); none: they cannot be sent.
    pub email: Option<String>,
}

/// A team as submitted: strings, parsed by [`TeamInput::parse`].
#[derive(Debug, Clone, Default)]
pub struct TeamInput {
    pub id: String,
    pub name: String,
    pub calendar: Option<String>,
}

impl TeamInput {
    pub fn parse(self) -> Result<Team, ValidationErrors> {
        let mut errors = Vec::new();
        let id = parse_id(&mut errors, "id", self.id, TeamId::parse);
        let name = check_name(&mut errors, "name", self.name);
        let calendar = self.calendar.map(|calendar| check_name(&mut errors, "calendar", calendar));
        ValidationErrors::finish(errors)?;
        match (id, name) {
            (Some(id), Some(name)) => Ok(Team { id, name, calendar: calendar.flatten() }),
            _ => Err(ValidationErrors::internal()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AgentInput {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    pub skill_categories: Vec<String>,
    pub skill_languages: Vec<String>,
}

impl AgentInput {
    pub fn parse(self) -> Result<Agent, ValidationErrors> {
        let mut errors = Vec::new();
        let id = parse_id(&mut errors, "id", self.id, AgentId::parse);
        let name = check_name(&mut errors, "name", self.name);
        let mut teams = Vec::new();
        for (idx, team) in self.teams.into_iter().enumerate() {
            if let Some(team) = parse_id(&mut errors, &format!("teams[{idx}]"), team, TeamId::parse) {
                teams.push(team);
            }
        }
        let skill_categories = crate::command::check_slugs(&mut errors, "skills.categories", self.skill_categories);
        let skill_languages = crate::command::check_slugs(&mut errors, "skills.languages", self.skill_languages);
        ValidationErrors::finish(errors)?;
        match (id, name) {
            (Some(id), Some(name)) => Ok(Agent { id, name, teams, skill_categories, skill_languages }),
            _ => Err(ValidationErrors::internal()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub id: String,
    pub name: String,
    pub tier: Option<String>,
    pub email: Option<String>,
}

impl CustomerInput {
    pub fn parse(self) -> Result<Customer, ValidationErrors> {
        let mut errors = Vec::new();
        let id = parse_id(&mut errors, "id", self.id, CustomerId::parse);
        let name = check_name(&mut errors, "name", self.name);
        let tier = match self.tier.as_deref() {
            None => Some(CustomerTier::Standard),
            Some(text) => CustomerTier::parse(text).or_else(|| {
                errors.push(FieldError::new("tier", CustomerTier::expected()));
                None
            }),
        };
        let email = self.email.map(|email| email.trim().to_owned());
        if let Some(email) = &email
            && !looks_like_email(email)
        {
            errors.push(FieldError::new("email", format!("`{email}` is not an e-mail address")));
        }
        ValidationErrors::finish(errors)?;
        match (id, name, tier) {
            (Some(id), Some(name), Some(tier)) => Ok(Customer { id, name, tier, email }),
            _ => Err(ValidationErrors::internal()),
        }
    }
}

/// `local@domain.tld`, one line, no spaces: what is worth handing to a mail server (which has
/// the last word).
fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
}
