//! The `vigie` binary: glue between the command line and the library crates.
//!
//! `serve` runs the HTTP server and the SLA scheduler; `token create` issues an API token;
//! `demo` loads a generated backlog; `bench-data` loads the W6 benchmark dataset; `rules`
//! prints an example rules file or checks one. Each command that needs the store opens the one
//! named by `--db` (a file path, `sqlite://PATH` or `postgres://...`).

/// Says something on standard error, like `eprintln!`, but never panics: when standard error
/// is a closed pipe (`vigie ... 2>&1 >/dev/null | head -1`), the message is dropped and the
/// command carries on to its real exit status.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod dedup;
mod forecast;
mod import;
mod report;
mod reviews;
mod simulate;
mod simulate_history;
mod staffing;
mod users;
mod workload;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use vigie_core::{Role, TeamId};
use vigie_server::AppState;
use vigie_server::settings::{ConfigFile, Operations};
use vigie_store::{Store, StoreError, TokenRecord};

/// vigie: keep a support or back-office backlog under control.
#[derive(Parser)]
#[command(name = "vigie", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API server.
    Serve(ServeArgs),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage the people who sign in to the pages.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Load a realistic generated backlog (teams, agents, customers, tickets) into an empty store.
    Demo(DemoArgs),
    /// Load a benchmark dataset into an empty store (see bench/README.md).
    BenchData(BenchDataArgs),
    /// The rules file: calendars, SLA policies, queue weights, handle times.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The backlog and KPI report of an exported ticket history (tickets.csv), offline.
    Report(report::ReportArgs),
    /// Load an exported ticket history into the store as events with their original instants
    /// (idempotent: tickets already stored are left alone, so a rerun finishes an interrupted
    /// import).
    Import(import::ImportArgs),
    /// The morning report of the backlog in the store: how many, the oldest, the urgent, and
    /// today's capacity (the roster of --config) against the hours of work.
    Morning(reviews::MorningArgs),
    /// The weekly review of the store: the last 7 days against the 7 before (flow, response
    /// and resolution times, SLA compliance, satisfaction, the categories that rose most).
    Weekly(reviews::MorningArgs),
    /// The agents each interval of an arrivals series needs (Erlang C for live channels):
    /// on contacts, with shrinkage, and the service level and occupancy they achieve.
    Staffing(staffing::StaffingArgs),
    /// What-if simulation of the backlog (shared/bench/SIMULATION.md): replications in
    /// parallel, each class's waits, SLA share and open tickets with 95 % intervals; policies
    /// compared on the same tickets; a scenario built from a history with --from-history.
    Simulate(Box<simulate::SimulateArgs>),
    /// Inflow forecasts with prediction intervals, of an arrivals series or of a history's
    /// inflow (in total, per category, per channel); --backtest scores them on the past.
    Forecast(Box<forecast::ForecastArgs>),
    /// The near-duplicate tickets of a history (tickets.csv): pairs with their similarity
    /// (CSV) or pairs and named groups (JSON), after normalising the texts (case, accents,
    /// reply markers, quoted replies, signatures, HTML; numbers are kept).
    Dedup(dedup::DedupArgs),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print an example rules file (the demo's), every setting explained.
    Example,
    /// Check a rules file: every problem named, exit status 1 if there is one.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

#[derive(Args)]
pub(crate) struct ConfigArg {
    /// The rules file (TOML; see `vigie rules example`). Applied at start when it changed since
    /// the last start; without it, the rules saved in the database stay in force.
    #[arg(long, env = "VIGIE_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct DbArg {
    /// The database: a file path or sqlite://PATH (created if missing), or postgres://...
    #[arg(long, env = "VIGIE_DB", default_value = "vigie.db")]
    pub(crate) db: String,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    config: ConfigArg,
    /// The address to listen on.
    #[arg(long, env = "VIGIE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Load demo data first if the store holds no ticket, and print a new admin token.
    #[arg(long)]
    demo: bool,
    /// How many demo tickets to generate with --demo.
    #[arg(long, default_value_t = 50_000)]
    demo_tickets: usize,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; prints it (only it, on one line). Only its hash is stored.
    Create(TokenCreateArgs),
    /// List the tokens: name, role and teams, one a line (never the secrets, which are not kept).
    List(DbArg),
    /// Revoke a token by name.
    Revoke(TokenRevokeArgs),
}

#[derive(Args)]
struct TokenRevokeArgs {
    #[command(flatten)]
    db: DbArg,
    /// The token's name.
    #[arg(long)]
    name: String,
}

#[derive(Args)]
struct TokenCreateArgs {
    #[command(flatten)]
    db: DbArg,
    /// admin, lead, agent or viewer.
    #[arg(long)]
    role: String,
    /// A team whose tickets an agent may see and change (repeatable).
    #[arg(long = "team")]
    teams: Vec<String>,
    /// Who uses the token: recorded as the actor of every change made with it.
    #[arg(long)]
    name: String,
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    db: DbArg,
    /// The rules the demo tickets are measured against (default: the example rules).
    #[command(flatten)]
    config: ConfigArg,
    /// How many tickets to generate.
    #[arg(long, default_value_t = 50_000)]
    tickets: usize,
    /// Seed of the generator: the same seed gives the same backlog (relative to now).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Args)]
struct BenchDataArgs {
    #[command(flatten)]
    db: DbArg,
    /// The W6 dataset: N open tickets of team `bench`, by the formula of bench/loadtest/README.md.
    #[arg(long)]
    n: usize,
    /// Write the ticket ids here, one a line, for the load test driver.
    #[arg(long)]
    ids_out: PathBuf,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // The offline commands need no async runtime.
    let command = match cli.command {
        Command::Report(args) => return exit(report::run(args)),
        Command::Staffing(args) => return exit(staffing::run(args)),
        Command::Simulate(args) => return exit(simulate::run(*args)),
        Command::Forecast(args) => return exit(forecast::run(*args)),
        Command::Dedup(args) => return exit(dedup::run(args)),
        command => command,
    };
    let cli = Cli { command };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            say!("error: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    exit(runtime.block_on(run(cli)))
}

/// The exit status of a command, its error said on standard error.
fn exit(outcome: anyhow::Result<()>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            say!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Token { command: TokenCommand::Create(args) } => token_create(args).await,
        Command::User { command } => users::run(command).await,
        Command::Token { command: TokenCommand::List(args) } => {
            let store = open(&args.db).await?;
            let tokens = store.tokens().await?;
            store.close().await;
            let mut stdout = std::io::stdout().lock();
            for token in tokens {
                let teams: Vec<&str> = token.teams.iter().map(TeamId::as_str).collect();
                writeln!(stdout, "{}\t{}\t{}", token.name, token.role, teams.join(",")).context("cannot print")?;
            }
            Ok(())
        }
        Command::Token { command: TokenCommand::Revoke(args) } => {
            let store = open(&args.db.db).await?;
            let revoked = store.revoke_token(&args.name).await?;
            store.close().await;
            if !revoked {
                bail!("no token is named `{}` (see `vigie token list`)", args.name);
            }
            Ok(())
        }
        Command::Demo(args) => {
            let store = open(&args.db.db).await?;
            let rules = load_rules(&store, &args.config, RulesDefault::Example).await?;
            load_demo(&store, &rules, args.tickets, args.seed).await?;
            store.close().await;
            Ok(())
        }
        Command::BenchData(args) => bench_data(args).await,
        Command::Report(args) => report::run(args),
        Command::Import(args) => import::run(args).await,
        Command::Morning(args) => reviews::morning(args).await,
        Command::Weekly(args) => reviews::weekly(args).await,
        Command::Staffing(args) => staffing::run(args),
        Command::Simulate(args) => simulate::run(*args),
        Command::Forecast(args) => forecast::run(*args),
        Command::Dedup(args) => dedup::run(args),
        Command::Rules { command: RulesCommand::Example } => {
            std::io::stdout().lock().write_all(EXAMPLE_RULES.as_bytes()).context("cannot print")?;
            Ok(())
        }
        Command::Rules { command: RulesCommand::Check { file } } => {
            let (rules, operations) = check_rules_file(&file)?;
            writeln!(
                std::io::stdout(),
                "{}: valid (calendars besides 24x7: {}, SLA policies: {}, handle times: {}, roster shifts: {}, \
                 dashboard thresholds: {}, alert rules: {}, automation rules: {}, templates: {}, macros: {})",
                file.display(),
                rules.sla.calendars().len() - 1,
                rules.sla.policies().len(),
                rules.handle_times.rows().len(),
                operations.roster.shifts.len(),
                operations.thresholds.len(),
                operations.alerts.rules.len(),
                rules.automations.rules.len(),
                rules.automations.templates.names().count(),
                rules.automations.macros.len()
            )
            .context("cannot print")?;
            Ok(())
        }
    }
}

/// Reads and checks a configuration file (the rules and the operations settings); every
/// problem named.
fn check_rules_file(path: &std::path::Path) -> anyhow::Result<(vigie_core::Rules, Operations)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the rules file {}", path.display()))?;
    check_config_text(&path.display().to_string(), &text)
}

fn check_config_text(name: &str, text: &str) -> anyhow::Result<(vigie_core::Rules, Operations)> {
    let file = ConfigFile::from_toml(text).map_err(|error| anyhow::anyhow!("{name}: {error}"))?;
    let rules = file
        .rules()
        .to_rules()
        .map_err(|errors| anyhow::anyhow!("{name}: {}", vigie_server::rules::describe(&errors)))?;
    let operations =
        file.operations().map_err(|errors| anyhow::anyhow!("{name}: {}", vigie_server::rules::describe(&errors)))?;
    Ok((rules, operations))
}

/// The operations settings (roster, dashboard) of the configuration file; the example's for
/// the demo without one; none otherwise.
pub(crate) fn load_operations(config: &ConfigArg, demo: bool) -> anyhow::Result<Operations> {
    match &config.config {
        Some(path) => Ok(check_rules_file(path)?.1),
        None if demo => Ok(check_config_text("the example rules", EXAMPLE_RULES)?.1),
        None => Ok(Operations::default()),
    }
}

/// The example rules file, also the demo's rules.
const EXAMPLE_RULES: &str = include_str!("rules.example.toml");

/// What rules apply when no file is given.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RulesDefault {
    /// The rules saved in the database (none: no SLA policy).
    Saved,
    /// The example rules, when the database has none yet (the demo).
    Example,
}

/// The rules in force: the file's if it changed since last time, else the ones saved.
pub(crate) async fn load_rules(
    store: &Store,
    config: &ConfigArg,
    default: RulesDefault,
) -> anyhow::Result<vigie_server::rules::RulesHandle> {
    let file = match &config.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the rules file {}", path.display()))?;
            Some((path.display().to_string(), text))
        }
        None if default == RulesDefault::Example && store.latest_rules().await?.is_none() => {
            Some(("the example rules".to_owned(), EXAMPLE_RULES.to_owned()))
        }
        None => None,
    };
    vigie_server::rules::RulesHandle::load(
        store,
        file.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
        Timestamp::now(),
    )
    .await
    .map_err(|error| anyhow::anyhow!(error))
}

pub(crate) async fn open(db: &str) -> anyhow::Result<Store> {
    Store::open(db).await.with_context(|| format!("cannot open the database `{}`", redact(db)))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Listen first: a taken port should fail before anything is created on disk.
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    // A bad rules file is refused before anything is created on disk.
    let operations = load_operations(&args.config, args.demo)?;
    let store = open(&args.db.db).await?;
    let default = if args.demo { RulesDefault::Example } else { RulesDefault::Saved };
    let rules = load_rules(&store, &args.config, default).await?;
    if args.demo {
        if store.count_tickets().await? == 0 {
            load_demo(&store, &rules, args.demo_tickets, 42).await?;
        }
        // One demo admin at a time: the previous run's token (whose secret is gone) is revoked.
        store.revoke_token(DEMO_ADMIN).await?;
        let secret = issue_token(&store, Role::Admin, Vec::new(), DEMO_ADMIN).await?;
        let password = users::demo_users(&store).await?;
        say!("demo admin token (keep it): {secret}");
        say!(
            "sign in at http://{}/ as demo-lead (a lead) or claire.moreau (an agent of the front office), \
             password: {password}",
            args.listen
        );
        say!(
            "try: curl -H 'Authorization: Bearer {secret}' 'http://{}/api/v1/tickets?status=open&order=queue&limit=5'",
            args.listen
        );
    }
    let backend = store.backend_name();
    let state = AppState::start(store, AppState::system_clock(), rules)
        .await
        .context("cannot build the live state")?
        .with_operations(operations);
    let address = listener.local_addr().context("cannot read the listening address")?;
    tracing::info!(%address, backend, "vigie is serving");
    vigie_server::serve(listener, state, shutdown_signal()).await.context("the server stopped with an error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The name of the admin token `serve --demo` prints.
const DEMO_ADMIN: &str = "demo-admin";

/// `--role`, `--team` and `--name` of a token or a user, checked together.
pub(crate) fn parse_role_and_teams(
    role: &str,
    team_args: Vec<String>,
    name: &str,
) -> anyhow::Result<(Role, Vec<TeamId>)> {
    let Some(role) = Role::parse(role) else {
        bail!("--role `{role}` {}", Role::expected());
    };
    // The name is recorded as the actor of events and scopes idempotency keys: an id, no spaces.
    if let Err(error) = vigie_core::AgentId::parse(name.to_owned()) {
        bail!("--name `{name}` {error}");
    }
    let mut teams = Vec::new();
    for team in team_args {
        teams.push(TeamId::parse(team.clone()).map_err(|error| anyhow::anyhow!("--team `{team}` {error}"))?);
    }
    if role == Role::Agent && teams.is_empty() {
        bail!("--team is required for an agent: agents see the tickets of their teams only");
    }
    if role != Role::Agent && !teams.is_empty() {
        bail!("--team applies to agents only: a {role} sees every team's tickets");
    }
    Ok((role, teams))
}

/// Every team named exists in the store.
pub(crate) async fn check_teams_exist(store: &Store, teams: &[TeamId]) -> anyhow::Result<()> {
    let known = store.teams().await?;
    if let Some(unknown) = teams.iter().find(|team| !known.iter().any(|k| &k.id == *team)) {
        bail!("--team `{unknown}` does not exist: create it first (POST /api/v1/teams)");
    }
    Ok(())
}

async fn token_create(args: TokenCreateArgs) -> anyhow::Result<()> {
    let (role, teams) = parse_role_and_teams(&args.role, args.teams, &args.name)?;
    let store = open(&args.db.db).await?;
    check_teams_exist(&store, &teams).await?;
    let secret = match issue_token(&store, role, teams, &args.name).await {
        Err(error) if matches!(error.downcast_ref::<StoreError>(), Some(StoreError::Conflict(_))) => {
            bail!(
                "a token named `{}` already exists: names identify who changed what (see `vigie token list`)",
                args.name
            )
        }
        other => other?,
    };
    store.close().await;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{secret}").context("cannot print the token")?;
    Ok(())
}

async fn issue_token(store: &Store, role: Role, teams: Vec<TeamId>, name: &str) -> anyhow::Result<String> {
    let secret = vigie_server::auth::new_secret();
    let record = TokenRecord { hash: vigie_server::auth::hash_secret(&secret), name: name.to_owned(), role, teams };
    store.create_token(&record, Timestamp::now()).await.context("cannot store the token")?;
    Ok(secret)
}

async fn load_demo(
    store: &Store,
    rules: &vigie_server::rules::RulesHandle,
    n_tickets: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let existing = store.count_tickets().await?;
    if existing > 0 {
        bail!("the database already holds {existing} tickets: demo data goes into an empty database");
    }
    let started = std::time::Instant::now();
    let data = vigie_demo::generate(&vigie_demo::DemoConfig { n_tickets, seed, now: Timestamp::now() });
    let now = Timestamp::now();
    for team in &data.teams {
        ignore_conflict(store.create_team(team, now).await)?;
    }
    for agent in &data.agents {
        ignore_conflict(store.create_agent(agent, now).await)?;
    }
    for customer in &data.customers {
        ignore_conflict(store.create_customer(customer, now).await)?;
    }
    let (n_teams, n_agents, n_customers) = (data.teams.len(), data.agents.len(), data.customers.len());
    let rules = rules.rules();
    let histories: Vec<_> = data
        .histories
        .into_iter()
        .map(|history| {
            vigie_core::workflow::assign_steps(vigie_core::decide::assign_sla_targets(history, &rules), &rules)
        })
        .collect();
    let loaded = store.load_histories(histories).await.context("cannot load the demo tickets")?;
    say!(
        "loaded the demo backlog: {} tickets ({} open, {} events), {n_teams} teams, {n_agents} agents, \
         {n_customers} customers in {:.1} s",
        loaded.n_tickets,
        loaded.n_open,
        loaded.n_events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn ignore_conflict(result: Result<(), StoreError>) -> anyhow::Result<()> {
    match result {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// The W6 dataset of bench/loadtest/README.md: ticket i = 1..N, subject `Preloaded ticket i`,
/// body `Body of preloaded ticket i.`, priority `1 + (2*i mod 5)` (1 = most urgent; the peer's
/// fifth level maps to our lowest, P4), created 2026-01-01T00:00:00Z + i seconds, status open,
/// team `bench`.
async fn bench_data(args: BenchDataArgs) -> anyhow::Result<()> {
    use vigie_core::{Channel, CustomerId, CustomerTier, Priority, Status, Ticket, TicketId};
    let store = open(&args.db.db).await?;
    let existing = store.count_tickets().await?;
    if existing > 0 {
        bail!("the database already holds {existing} tickets: benchmark data goes into an empty database");
    }
    let now = Timestamp::now();
    let team =
        vigie_core::directory::Team { id: TeamId::parse("bench")?, name: "Benchmark queue".into(), calendar: None };
    ignore_conflict(store.create_team(&team, now).await)?;
    let origin: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let customer = CustomerId::parse("bench-customer")?;
    let mut ids = String::with_capacity(args.n * 10);
    let mut batch = Vec::with_capacity(10_000);
    for i in 1..=args.n {
        let number = i64::try_from(i)?;
        let created_at = origin.checked_add(jiff::SignedDuration::from_secs(number))?;
        let rank = 1 + (2 * number) % 5;
        let id = TicketId::parse(format!("W-{i}"))?;
        ids.push_str(id.as_str());
        ids.push('\n');
        batch.push(Ticket {
            id,
            version: 1,
            created_at,
            updated_at: created_at,
            first_response_at: None,
            resolved_at: None,
            status: Status::Open,
            priority: Priority::from_rank(rank.min(4)).unwrap_or(Priority::P4),
            category: "billing".into(),
            channel: Channel::Email,
            customer_id: customer.clone(),
            customer_tier: CustomerTier::Standard,
            team: Some(team.id.clone()),
            assignee: None,
            subject: format!("Preloaded ticket {i}"),
            body: format!("Body of preloaded ticket {i}."),
            csat: None,
            tags: Vec::new(),
            legal_risk: false,
            blocking: false,
            language: None,
            status_history: vec![vigie_core::StatusSince { status: Status::Open, since: created_at }],
            sla_targets: None,
            sla_marks: vigie_core::SlaMarks::default(),
            rules_applied: Vec::new(),
            steps: Vec::new(),
        });
        if batch.len() == batch.capacity() {
            store.load_tickets(&batch, "bench").await?;
            batch.clear();
        }
    }
    store.load_tickets(&batch, "bench").await?;
    store.close().await;
    std::fs::write(&args.ids_out, ids).with_context(|| format!("cannot write {}", args.ids_out.display()))?;
    Ok(())
}
