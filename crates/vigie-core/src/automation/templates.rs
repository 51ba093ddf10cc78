//! The templates of what rules send: a subject and a body each, minijinja (Jinja2) text.
//!
//! Sandboxed: no loader (a template cannot read a file or include another), undefined values
//! are errors rather than empty text (a typo is caught, not mailed), and every render runs on a
//! fuel budget, so a loop cannot run away. Compiled and checked when the rules are loaded: a
//! template that does not compile, or names a variable that does not exist, is refused then,
//! named by its path.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::command::FieldError;
use crate::ids::{CustomerId, TicketId};
use crate::sla::{SlaMarks, StatusSince};
use crate::ticket::{Channel, CustomerTier, Priority, Status, Ticket};

/// Instructions a render may spend: far above any message, far below a runaway loop.
const FUEL: u64 = 100_000;
/// The longest rendered subject and body.
const MAX_SUBJECT: usize = 998;
const MAX_BODY: usize = 64 * 1024;

/// The variables a template may use, and their attributes.
const VARIABLES: &[(&str, &[&str])] = &[
    (
        "ticket",
        &[
            "id",
            "subject",
            "status",
            "priority",
            "category",
            "channel",
            "team",
            "assignee",
            "customer_tier",
            "language",
            "tags",
            "created_at",
            "updated_at",
            "step",
        ],
    ),
    ("customer", &["id", "tier"]),
    ("rule", &[]),
    ("agent", &[]),
    ("now", &[]),
    // The wait notices' prediction (empty in other messages).
    ("expected", &["start_at", "wait_minutes", "wait"]),
];

/// What a wait notice tells: when an agent is expected to start, and how long that is from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub start_at: Timestamp,
    pub wait: jiff::SignedDuration,
}

impl Expected {
    /// "about 20 minutes", "about 3 hours", "about 2 days".
    pub fn in_words(&self) -> String {
        let minutes = (self.wait.as_secs_f64() / 60.0).max(0.0);
        let (n, unit) = if minutes < 90.0 {
            (minutes.round().max(1.0), "minute")
        } else if minutes < 48.0 * 60.0 {
            ((minutes / 60.0).round(), "hour")
        } else {
            ((minutes / 1440.0).round(), "day")
        };
        format!("about {n} {unit}{}", if n == 1.0 { "" } else { "s" })
    }
}

/// A template as written.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    pub name: String,
    pub subject: String,
    pub body: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The compiled templates, and the macros' replies.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    env: Option<Arc<Environment<'static>>>,
    names: BTreeSet<String>,
    replies: BTreeSet<String>,
}

/// Adds `source` as template `key`, checking that it compiles and names known variables only;
/// whether it did.
fn compile(
    env: &mut Environment<'static>,
    key: String,
    source: String,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> bool {
    if let Some(reason) = forbidden(&source) {
        errors.push(FieldError::new(field, reason));
        return false;
    }
    if let Err(error) = env.add_template_owned(key.clone(), source) {
        errors.push(FieldError::new(field, format!("does not compile: {}", describe(&error))));
        return false;
    }
    let mut ok = true;
    if let Ok(template) = env.get_template(&key) {
        for variable in template.undeclared_variables(true) {
            if !known_variable(&variable) {
                errors.push(FieldError::new(
                    field,
                    format!("uses `{variable}`, which is not a variable: {}", variables_expected()),
                ));
                ok = false;
            }
        }
    }
    ok
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env
}

impl Templates {
    /// Compiles and checks the templates (problems named `templates.<name>.<part>`) and the
    /// macros' replies (`macros.<name>.reply`).
    pub fn parse(inputs: Vec<TemplateInput>, replies: Vec<(String, String)>) -> (Templates, Vec<FieldError>) {
        let mut env = environment();
        let mut names = BTreeSet::new();
        let mut errors = Vec::new();
        for input in inputs {
            let path = format!("templates.{}", input.name);
            if input.name.trim().is_empty()
                || !input.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
            {
                errors.push(FieldError::new(path, "must be named with letters, digits, `-` or `_`"));
                continue;
            }
            if !names.insert(input.name.clone()) {
                errors.push(FieldError::new(path, "is defined twice"));
                continue;
            }
            let mut ok = true;
            for (part, source) in [("subject", input.subject), ("body", input.body)] {
                let key = format!("{}.{part}", input.name);
                let field = format!("{path}.{part}");
                if part == "subject" && source.contains('\n') {
                    errors.push(FieldError::new(&field, "must be one line"));
                    ok = false;
                    continue;
                }
                ok &= compile(&mut env, key, source, &field, &mut errors);
            }
            if !ok {
                names.remove(&input.name);
            }
        }
        let mut reply_names = BTreeSet::new();
        for (name, source) in replies {
            // `:` is not allowed in a template's name: a macro's reply cannot clash with one.
            if compile(&mut env, format!("macro:{name}"), source, &format!("macros.{name}.reply"), &mut errors) {
                reply_names.insert(name);
            }
        }
        let templates = Templates { env: Some(Arc::new(env)), names, replies: reply_names };
        // What compiles and names known variables may still fail on a value (a filter given
        // the wrong type): render each with a sample ticket now rather than at 3 a.m.
        let sample = sample_ticket();
        for name in templates.names.clone() {
            let expected = Expected { start_at: Timestamp::UNIX_EPOCH, wait: jiff::SignedDuration::from_hours(3) };
            let rendered =
                templates.render_with(&name, &sample, "sample", "sample", Timestamp::UNIX_EPOCH, Some(&expected));
            if let Err(reason) = rendered {
                errors.push(FieldError::new(format!("templates.{name}"), reason));
            }
        }
        for name in templates.replies.clone() {
            if let Err(reason) = templates.render_reply(&name, &sample, "sample", Timestamp::UNIX_EPOCH) {
                errors.push(FieldError::new(format!("macros.{name}.reply"), reason));
            }
        }
        (templates, errors)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Whether macro `name` has a reply that compiled.
    pub fn has_reply(&self, name: &str) -> bool {
        self.replies.contains(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Renders the reply of macro `name` for `ticket`, applied by `agent`.
    pub fn render_reply(&self, name: &str, ticket: &Ticket, agent: &str, now: Timestamp) -> Result<String, String> {
        let env = self
            .env
            .as_ref()
            .filter(|_| self.replies.contains(name))
            .ok_or_else(|| format!("macro `{name}` has no reply"))?;
        let template = env.get_template(&format!("macro:{name}")).map_err(|error| describe(&error))?;
        render_bounded(&template, &context(ticket, name, agent, now, None), MAX_BODY)
            .map_err(|reason| format!("the reply cannot be rendered: {reason}"))
    }

    /// Renders template `name` for `ticket`, on behalf of `rule` (`agent`: who sends it,
    /// `rule:<name>` or the agent who applied a macro).
    pub fn render(
        &self,
        name: &str,
        ticket: &Ticket,
        rule: &str,
        agent: &str,
        now: Timestamp,
    ) -> Result<Rendered, String> {
        self.render_with(name, ticket, rule, agent, now, None)
    }

    /// [`Templates::render`] with a wait notice's prediction.
    pub fn render_with(
        &self,
        name: &str,
        ticket: &Ticket,
        rule: &str,
        agent: &str,
        now: Timestamp,
        expected: Option<&Expected>,
    ) -> Result<Rendered, String> {
        let env =
            self.env.as_ref().filter(|_| self.contains(name)).ok_or_else(|| format!("`{name}` is not a template"))?;
        let context = context(ticket, rule, agent, now, expected);
        let part = |part: &str, limit: usize| -> Result<String, String> {
            let template = env.get_template(&format!("{name}.{part}")).map_err(|error| describe(&error))?;
            render_bounded(&template, &context, limit)
                .map_err(|reason| format!("the {part} cannot be rendered: {reason}"))
        };
        // A subject is one line; one that renders too long (a long ticket subject quoted in
        // it) is cut at a character boundary rather than failing the message.
        let mut subject = part("subject", MAX_BODY)?.replace(['\r', '\n'], " ").trim().to_owned();
        if subject.len() > MAX_SUBJECT {
            let mut cut = MAX_SUBJECT - 3;
            while !subject.is_char_boundary(cut) {
                cut -= 1;
            }
            subject.truncate(cut);
            subject.push_str("...");
        }
        let body = part("body", MAX_BODY)?;
        Ok(Rendered { subject, body })
    }
}

/// What a message template may not do, with why: grow a value without bound (`*` repeats a
/// string a hundred million times; `set` and `namespace` let a loop double one), or reach other
/// templates. Fuel bounds the steps and [`Bounded`] the output; these bound the values between.
fn forbidden(source: &str) -> Option<String> {
    let mut rest = source;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let close = if after.starts_with("{{") {
            "}}"
        } else if after.starts_with("{%") {
            "%}"
        } else {
            rest = &after[1..];
            continue;
        };
        let end = after.find(close).map_or(after.len(), |end| end + close.len());
        let tag = &after[..end];
        if tag.contains('*') {
            return Some("uses `*`: multiplying is not allowed in a message (it repeats a text without bound)".into());
        }
        for word in tag.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if matches!(
                word,
                "set" | "namespace" | "macro" | "call" | "include" | "import" | "from" | "extends" | "block"
            ) {
                return Some(format!(
                    "uses `{word}`: a message template has variables, conditions, loops and filters only"
                ));
            }
        }
        rest = &after[end..];
    }
    None
}

/// A writer that refuses to grow past `limit` bytes: a render stops there.
struct Bounded {
    text: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + buf.len() > self.limit {
            return Err(std::io::Error::other("the message is too long"));
        }
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders `template` into at most `limit` bytes.
fn render_bounded(template: &minijinja::Template<'_, '_>, context: &Value, limit: usize) -> Result<String, String> {
    let mut out = Bounded { text: Vec::new(), limit };
    let result = template.render_captured_to(context.clone(), &mut out);
    match result {
        Ok(_) => String::from_utf8(out.text).map_err(|_| "it is not UTF-8 text".to_owned()),
        Err(error) if error.kind() == minijinja::ErrorKind::WriteFailure => {
            Err(format!("it renders to more than {limit} bytes"))
        }
        Err(error) => Err(describe(&error)),
    }
}

fn describe(error: &minijinja::Error) -> String {
    let mut text = error.kind().to_string();
    if let Some(detail) = error.detail() {
        text.push_str(": ");
        text.push_str(detail);
    }
    if let Some(line) = error.line() {
        text.push_str(&format!(" (line {line})"));
    }
    text
}

fn known_variable(variable: &str) -> bool {
    let mut parts = variable.splitn(3, '.');
    let root = parts.next().unwrap_or_default();
    let Some((_, attributes)) = VARIABLES.iter().find(|(name, _)| *name == root) else { return false };
    match parts.next() {
        None => true,
        Some(attribute) => attributes.contains(&attribute),
    }
}

fn variables_expected() -> String {
    let names: Vec<String> = VARIABLES
        .iter()
        .flat_map(|(root, attributes)| {
            if attributes.is_empty() {
                vec![format!("`{root}`")]
            } else {
                attributes.iter().map(|a| format!("`{root}.{a}`")).collect()
            }
        })
        .collect();
    names.join(", ")
}

fn context(ticket: &Ticket, rule: &str, agent: &str, now: Timestamp, expected: Option<&Expected>) -> Value {
    let text = |s: &str| Value::from(s.to_owned());
    let optional = |s: Option<&str>| s.map_or(Value::from(()), text);
    let mut fields: BTreeMap<&str, Value> = BTreeMap::new();
    fields.insert("id", text(ticket.id.as_str()));
    fields.insert("subject", text(&ticket.subject));
    fields.insert("status", text(ticket.status.as_str()));
    fields.insert("priority", text(ticket.priority.as_str()));
    fields.insert("category", text(&ticket.category));
    fields.insert("channel", text(ticket.channel.as_str()));
    fields.insert("team", optional(ticket.team.as_ref().map(|t| t.as_str())));
    fields.insert("assignee", optional(ticket.assignee.as_ref().map(|a| a.as_str())));
    fields.insert("customer_tier", text(ticket.customer_tier.as_str()));
    fields.insert("language", optional(ticket.language.as_deref()));
    fields.insert("tags", Value::from(ticket.tags.clone()));
    fields.insert("created_at", text(&ticket.created_at.to_string()));
    fields.insert("updated_at", text(&ticket.updated_at.to_string()));
    fields.insert("step", optional(ticket.current_step()));
    let mut customer: BTreeMap<&str, Value> = BTreeMap::new();
    customer.insert("id", text(ticket.customer_id.as_str()));
    customer.insert("tier", text(ticket.customer_tier.as_str()));
    let mut root: BTreeMap<&str, Value> = BTreeMap::new();
    root.insert("ticket", Value::from(fields));
    root.insert("customer", Value::from(customer));
    root.insert("rule", text(rule));
    root.insert("agent", text(agent));
    let mut fields: BTreeMap<&str, Value> = BTreeMap::new();
    fields.insert("start_at", expected.map_or(Value::from(()), |e| Value::from(e.start_at.to_string())));
    fields.insert(
        "wait_minutes",
        expected.map_or(Value::from(()), |e| Value::from((e.wait.as_secs_f64() / 60.0).round() as i64)),
    );
    fields.insert("wait", expected.map_or(Value::from(()), |e| Value::from(e.in_words())));
    root.insert("expected", Value::from(fields));
    root.insert("now", text(&now.to_string()));
    Value::from(root)
}

/// A ticket with every field set, to try templates on.
fn sample_ticket() -> Ticket {
    let at = Timestamp::UNIX_EPOCH;
    Ticket {
        id: TicketId::from_number(1),
        version: 1,
        created_at: at,
        updated_at: at,
        first_response_at: None,
        resolved_at: None,
        status: Status::PendingCustomer,
        priority: Priority::P3,
        category: "billing".to_owned(),
        channel: Channel::Email,
        customer_id: CustomerId::parse("sample-customer").expect("a constant, valid id"),
        customer_tier: CustomerTier::Standard,
        team: None,
        assignee: None,
        subject: "Sample".to_owned(),
        body: String::new(),
        csat: None,
        tags: vec!["sample".to_owned()],
        legal_risk: false,
        blocking: false,
        language: Some("en".to_owned()),
        status_history: vec![StatusSince { status: Status::PendingCustomer, since: at }],
        sla_targets: None,
        sla_marks: SlaMarks::default(),
        rules_applied: Vec::new(),
        steps: Vec::new(),
    }
}
