//! Identifiers of the records vigie keeps. Each is a string newtype whose only constructor
//! checks the value, so that a `TeamId` in hand is always well formed.

use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("may contain only letters, digits, '_', '-', '.', ':' and '@'")]
    BadCharacter,
}

/// The longest identifier accepted. Ids come from other help desks on import (Boston's 311
/// case ids are 15 characters, Zendesk's are numbers), so the limit is generous but bounded.
pub const MAX_ID_LEN: usize = 128;

fn check_id(value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(IdError::TooLong { max: MAX_ID_LEN });
    }
    // Ids travel in URLs, CSV files and log lines: keep them to characters that need no
    // escaping in any of those.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '@');
    if !value.chars().all(allowed) {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier, rejecting empty, over-long or oddly-charactered values.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_id(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A ticket's id. New tickets get `T-<number>` from the store; imported ones keep theirs.
    TicketId
);
string_id!(
    /// A customer: the requester's organisation or person.
    CustomerId
);
string_id!(
    /// A team that owns tickets (front office, back office, an outsourced partner...).
    TeamId
);
string_id!(
    /// An agent who can be assigned tickets.
    AgentId
);

impl TicketId {
    /// The id the store gives the `number`-th ticket it creates.
    pub fn from_number(number: i64) -> Self {
        Self(format!("T-{number}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert!(TeamId::parse("back_office").is_ok());
        assert!(TicketId::parse("BOS101001240734").is_ok());
        assert_eq!(TeamId::parse(""), Err(IdError::Empty));
        assert_eq!(TeamId::parse("a b"), Err(IdError::BadCharacter));
        assert_eq!(TeamId::parse("é"), Err(IdError::BadCharacter));
        assert_eq!(TeamId::parse("x".repeat(MAX_ID_LEN + 1)), Err(IdError::TooLong { max: MAX_ID_LEN }));
        assert_eq!(TicketId::from_number(42).as_str(), "T-42");
    }
}
