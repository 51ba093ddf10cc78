//! Commands: what a caller asks for, parsed from strings into typed values.
//!
//! Each `*Input` is the raw shape (what the HTTP layer or a CSV row hands over); its `parse`
//! checks every field and returns either the typed command or *all* the problems at once, each
//! naming its field, so that a client can fix a request in one go.

use std::fmt;

use crate::ids::{AgentId, CustomerId, IdError, TeamId};
use crate::ticket::{Channel, CustomerTier, Priority, Status};

/// Longest subject, in characters: one line, as FORMATS.md says, with room for long ones.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// Longest body or comment, in bytes: 64 KiB of text is a long e-mail; attachments are not text.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Longest display name (team, agent, customer), in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest category, tag or skill, in characters.
pub const MAX_SLUG_CHARS: usize = 64;
/// Most tags on one ticket.
pub const MAX_TAGS: usize = 50;

/// One problem with one field of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as the client spelled it (`priority`, `tags[2]`).
    pub field: String,
    /// Why the value is refused, as a phrase that follows the field name.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError { field: field.into(), reason: reason.into() }
    }
}

/// Every problem found in a command; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn one(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ValidationErrors(vec![FieldError::new(field, reason)])
    }

    /// The same problems, each field named under `prefix` (`changes` + `priority` is
    /// `changes.priority`): for a part of a larger request or document.
    pub fn prefixed(self, prefix: &str) -> ValidationErrors {
        ValidationErrors(
            self.0
                .into_iter()
                .map(|error| FieldError::new(format!("{prefix}.{}", error.field), error.reason))
                .collect(),
        )
    }

    /// `Ok` when no problem was collected.
    pub fn finish(errors: Vec<FieldError>) -> Result<(), ValidationErrors> {
        if errors.is_empty() { Ok(()) } else { Err(ValidationErrors(errors)) }
    }

    /// For a parse that found no problem yet lacks a value: a bug in the parser, reported
    /// as an error rather than a panic.
    pub(crate) fn internal() -> Self {
        ValidationErrors::one("", "could not be parsed (internal error)")
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// A change to one field of a patch: leave it, clear it (nullable fields only), or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// Which version of a ticket a change is meant for (`If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// `If-Match: *`: whatever the current version is.
    Any,
    Exactly(i64),
    /// Any of these versions (`If-Match: "3", "4"`); empty matches nothing (only weak tags
    /// were given, and `If-Match` compares strongly).
    OneOf(Vec<i64>),
}

impl ExpectedVersion {
    pub fn matches(&self, version: i64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::Exactly(expected) => *expected == version,
            ExpectedVersion::OneOf(expected) => expected.contains(&version),
        }
    }
}

/// A new ticket as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewTicketInput {
    pub subject: String,
    pub body: String,
    pub channel: String,
    pub category: String,
    pub priority: String,
    pub customer_id: String,
    pub customer_tier: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub legal_risk: bool,
    pub blocking: bool,
    pub language: Option<String>,
}

/// A new ticket, every field checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// The open tickets found nearly the same at intake (by the server, never from the
    /// request), recorded as a `duplicates_suggested` event beside the creation.
    pub similar: Vec<crate::SimilarTicket>,
    pub subject: String,
    pub body: String,
    pub channel: Channel,
    pub category: String,
    pub priority: Priority,
    pub customer_id: CustomerId,
    /// `None`: take the customer record's tier (standard for a new customer).
    pub customer_tier: Option<CustomerTier>,
    pub team: Option<TeamId>,
    pub assignee: Option<AgentId>,
    pub tags: Vec<String>,
    pub legal_risk: bool,
    pub blocking: bool,
    pub language: Option<String>,
}

impl NewTicketInput {
    pub fn parse(self) -> Result<NewTicket, ValidationErrors> {
        let mut errors = Vec::new();
        let subject = check_subject(&mut errors, self.subject);
        let body = check_body(&mut errors, "body", self.body, AllowEmpty::Yes);
        let channel = parse_enum(&mut errors, "channel", &self.channel, Channel::parse, Channel::expected);
        let category = check_slug(&mut errors, "category", self.category);
        let priority = parse_enum(&mut errors, "priority", &self.priority, Priority::parse, Priority::expected);
        let customer_id = parse_id(&mut errors, "customer_id", self.customer_id, CustomerId::parse);
        let customer_tier = self.customer_tier.and_then(|tier| {
            parse_enum(&mut errors, "customer_tier", &tier, CustomerTier::parse, CustomerTier::expected)
        });
        let team = self.team.and_then(|team| parse_id(&mut errors, "team", team, TeamId::parse));
        let assignee = self.assignee.and_then(|agent| parse_id(&mut errors, "assignee", agent, AgentId::parse));
        let tags = check_tags(&mut errors, self.tags);
        let language = self.language.and_then(|language| check_language(&mut errors, language));
        ValidationErrors::finish(errors)?;
        let (Some(subject), Some(body), Some(channel), Some(category), Some(priority), Some(customer_id)) =
            (subject, body, channel, category, priority, customer_id)
        else {
            return Err(ValidationErrors::internal());
        };
        Ok(NewTicket {
            similar: Vec::new(),
            subject,
            body,
            channel,
            category,
            priority,
            customer_id,
            customer_tier,
            team,
            assignee,
            tags,
            legal_risk: self.legal_risk,
            blocking: self.blocking,
            language,
        })
    }
}

/// A change to a ticket as submitted. `None` leaves a field as it is; for nullable fields
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketPatchInput {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub team: Option<Option<String>>,
    pub assignee: Option<Option<String>>,
    pub customer_tier: Option<String>,
    pub legal_risk: Option<bool>,
    pub blocking: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub csat: Option<Option<i64>>,
    pub language: Option<Option<String>>,
}

/// A change to a ticket, every field checked. Whether it is allowed *now* (lifecycle, version,
/// rights) is decided against the current ticket by [`crate::decide::patch`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketPatch {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub team: Patch<TeamId>,
    pub assignee: Patch<AgentId>,
    pub customer_tier: Option<CustomerTier>,
    pub legal_risk: Option<bool>,
    pub blocking: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub csat: Patch<u8>,
    pub language: Patch<String>,
}

impl TicketPatchInput {
    pub fn parse(self) -> Result<TicketPatch, ValidationErrors> {
        let mut errors = Vec::new();
        let status = self.status.and_then(|s| parse_enum(&mut errors, "status", &s, Status::parse, Status::expected));
        let priority =
            self.priority.and_then(|p| parse_enum(&mut errors, "priority", &p, Priority::parse, Priority::expected));
        let category = self.category.and_then(|c| check_slug(&mut errors, "category", c));
        let team = parse_patch(&mut errors, "team", self.team, TeamId::parse);
        let assignee = parse_patch(&mut errors, "assignee", self.assignee, AgentId::parse);
        let customer_tier = self.customer_tier.and_then(|tier| {
            parse_enum(&mut errors, "customer_tier", &tier, CustomerTier::parse, CustomerTier::expected)
        });
        let tags = self.tags.map(|tags| check_tags(&mut errors, tags));
        let csat = match self.csat {
            None => Patch::Keep,
            Some(None) => Patch::Clear,
            Some(Some(score)) => match u8::try_from(score) {
                Ok(score @ 1..=5) => Patch::Set(score),
                _ => {
                    errors.push(FieldError::new("csat", "must be an integer from 1 to 5"));
                    Patch::Keep
                }
            },
        };
        let language = match self.language {
            None => Patch::Keep,
            Some(None) => Patch::Clear,
            Some(Some(language)) => check_language(&mut errors, language).map_or(Patch::Keep, Patch::Set),
        };
        ValidationErrors::finish(errors)?;
        Ok(TicketPatch {
            status,
            priority,
            category,
            team,
            assignee,
            customer_tier,
            legal_risk: self.legal_risk,
            blocking: self.blocking,
            tags,
            csat,
            language,
        })
    }
}

/// A comment as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewCommentInput {
    pub body: String,
    /// Public comments are sent to the customer; internal ones stay within the teams.
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub body: String,
    pub public: bool,
}

impl NewCommentInput {
    pub fn parse(self) -> Result<NewComment, ValidationErrors> {
        let mut errors = Vec::new();
        let body = check_body(&mut errors, "body", self.body, AllowEmpty::No);
        ValidationErrors::finish(errors)?;
        let Some(body) = body else { return Err(ValidationErrors::internal()) };
        Ok(NewComment { body, public: self.public })
    }
}

// ---- field checks shared by the parsers ----

pub(crate) fn parse_id<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: String,
    parse: impl FnOnce(String) -> Result<T, IdError>,
) -> Option<T> {
    parse(value).map_err(|error| errors.push(FieldError::new(field, error.to_string()))).ok()
}

fn parse_patch<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<Option<String>>,
    parse: impl FnOnce(String) -> Result<T, IdError>,
) -> Patch<T> {
    match value {
        None => Patch::Keep,
        Some(None) => Patch::Clear,
        Some(Some(text)) => parse_id(errors, field, text, parse).map_or(Patch::Keep, Patch::Set),
    }
}

fn parse_enum<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    expected: impl FnOnce() -> String,
) -> Option<T> {
    let parsed = parse(text);
    if parsed.is_none() {
        errors.push(FieldError::new(field, expected()));
    }
    parsed
}

fn check_subject(errors: &mut Vec<FieldError>, subject: String) -> Option<String> {
    let trimmed = subject.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::new("subject", "must not be empty"));
        return None;
    }
    if trimmed.contains(['\n', '\r']) {
        errors.push(FieldError::new("subject", "must be a single line"));
        return None;
    }
    if trimmed.chars().any(char::is_control) {
        errors.push(FieldError::new("subject", "must not contain control characters"));
        return None;
    }
    if trimmed.chars().count() > MAX_SUBJECT_CHARS {
        errors.push(FieldError::new("subject", format!("must be at most {MAX_SUBJECT_CHARS} characters")));
        return None;
    }
    Some(trimmed.to_owned())
}

#[derive(PartialEq, Eq)]
enum AllowEmpty {
    Yes,
    No,
}

fn check_body(errors: &mut Vec<FieldError>, field: &str, body: String, allow_empty: AllowEmpty) -> Option<String> {
    if allow_empty == AllowEmpty::No && body.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
        return None;
    }
    if body.len() > MAX_BODY_BYTES {
        errors.push(FieldError::new(field, format!("must be at most {MAX_BODY_BYTES} bytes")));
        return None;
    }
    if body.contains('\0') {
        errors.push(FieldError::new(field, "must not contain NUL characters"));
        return None;
    }
    Some(body)
}

pub(crate) fn check_name(errors: &mut Vec<FieldError>, field: &str, name: String) -> Option<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
        return None;
    }
    if trimmed.chars().count() > MAX_NAME_CHARS || trimmed.chars().any(char::is_control) {
        errors.push(FieldError::new(field, format!("must be one line of at most {MAX_NAME_CHARS} characters")));
        return None;
    }
    Some(trimmed.to_owned())
}

/// A category as a filter or a value: the reason it is refused, if it is.
pub fn parse_category(category: String) -> Result<String, String> {
    let mut errors = Vec::new();
    check_slug(&mut errors, "category", category).ok_or_else(|| errors.pop().map(|e| e.reason).unwrap_or_default())
}

/// Categories, tags and skills: short tokens that can be split on `;` in a CSV cell and used
/// as a label in a chart, so no whitespace and no `;`.
pub(crate) fn check_slug(errors: &mut Vec<FieldError>, field: &str, slug: String) -> Option<String> {
    if slug.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
        return None;
    }
    if slug.chars().count() > MAX_SLUG_CHARS {
        errors.push(FieldError::new(field, format!("must be at most {MAX_SLUG_CHARS} characters")));
        return None;
    }
    if slug.chars().any(|c| c.is_whitespace() || c.is_control() || c == ';' || c == ',') {
        errors.push(FieldError::new(field, "must not contain spaces, control characters, ',' or ';'"));
        return None;
    }
    Some(slug)
}

pub(crate) fn check_slugs(errors: &mut Vec<FieldError>, field: &str, slugs: Vec<String>) -> Vec<String> {
    slugs
        .into_iter()
        .enumerate()
        .filter_map(|(idx, slug)| check_slug(errors, &format!("{field}[{idx}]"), slug))
        .collect()
}

/// A language tag (BCP 47 style: `fr`, `en-GB`, `pt-BR`): letters, digits and `-`.
pub(crate) fn check_language(errors: &mut Vec<FieldError>, language: String) -> Option<String> {
    let valid = (2..=35).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !language.starts_with('-');
    if !valid {
        errors.push(FieldError::new("language", "must be a language tag such as `fr` or `en-GB`"));
        return None;
    }
    Some(language)
}

fn check_tags(errors: &mut Vec<FieldError>, tags: Vec<String>) -> Vec<String> {
    if tags.len() > MAX_TAGS {
        errors.push(FieldError::new("tags", format!("must have at most {MAX_TAGS} tags")));
        return Vec::new();
    }
    let mut checked = check_slugs(errors, "tags", tags);
    // Tags are a set: keep the first spelling of each, in order.
    let mut seen = std::collections::HashSet::new();
    checked.retain(|tag| seen.insert(tag.clone()));
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_input() -> NewTicketInput {
        NewTicketInput {
            subject: "  Invoice twice  ".into(),
            body: "I was charged twice.".into(),
            channel: "email".into(),
            category: "billing".into(),
            priority: "P2".into(),
            customer_id: "acme".into(),
            ..NewTicketInput::default()
        }
    }

    #[track_caller]
    fn check_errors(input: NewTicketInput, expected: &[(&str, &str)]) {
        let errors = input.parse().expect_err("input should be refused").0;
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.reason.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn valid_ticket_parses_and_trims_subject() {
        let ticket = valid_input().parse().expect("valid input");
        assert_eq!(ticket.subject, "Invoice twice");
        assert_eq!(ticket.priority, Priority::P2);
    }

    #[test]
    fn every_bad_field_is_named() {
        check_errors(
            NewTicketInput {
                subject: "   ".into(),
                channel: "fax".into(),
                priority: "P9".into(),
                category: "two words".into(),
                customer_id: "".into(),
                tags: vec!["ok".into(), "a;b".into()],
                ..valid_input()
            },
            &[
                ("subject", "must not be empty"),
                ("channel", "must be one of `email`, `chat`, `phone`, `web`, `social`"),
                ("category", "must not contain spaces, control characters, ',' or ';'"),
                ("priority", "must be one of `P1`, `P2`, `P3`, `P4`"),
                ("customer_id", "must not be empty"),
                ("tags[1]", "must not contain spaces, control characters, ',' or ';'"),
            ],
        );
        check_errors(
            NewTicketInput { subject: "x".repeat(MAX_SUBJECT_CHARS + 1), ..valid_input() },
            &[("subject", "must be at most 500 characters")],
        );
        check_errors(
            NewTicketInput { body: "x".repeat(MAX_BODY_BYTES + 1), ..valid_input() },
            &[("body", "must be at most 65536 bytes")],
        );
    }

    #[test]
    fn patch_distinguishes_keep_clear_and_set() {
        let patch = TicketPatchInput { team: Some(None), assignee: Some(Some("ana".into())), ..Default::default() }
            .parse()
            .expect("valid patch");
        assert_eq!(patch.team, Patch::Clear);
        assert_eq!(patch.assignee, Patch::Set(AgentId::parse("ana").expect("valid id")));
        assert_eq!(patch.csat, Patch::Keep);
        let errors = TicketPatchInput { csat: Some(Some(6)), status: Some("done".into()), ..Default::default() }
            .parse()
            .expect_err("bad patch");
        assert_eq!(errors.0.len(), 2);
        assert_eq!(errors.0[0].field, "status");
        assert_eq!(errors.0[1].field, "csat");
    }

    #[test]
    fn duplicate_tags_are_dropped() {
        let ticket =
            NewTicketInput { tags: vec!["a".into(), "b".into(), "a".into()], ..valid_input() }.parse().expect("valid");
        assert_eq!(ticket.tags, vec!["a", "b"]);
    }
}
