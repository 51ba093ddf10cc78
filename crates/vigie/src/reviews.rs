//! `vigie morning` (and later `vigie weekly`): the rituals from the command line, on the store,
//! with the same numbers as the server's API and pages.

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use vigie_server::AppState;
use vigie_server::reviews::{Morning, Weekly};

use crate::{ConfigArg, DbArg, RulesDefault, load_operations, load_rules, open};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct MorningArgs {
    #[command(flatten)]
    db: DbArg,
    /// The configuration file: its roster gives today's capacity, its dashboard the time zone.
    #[command(flatten)]
    config: ConfigArg,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// The weekly review, from the store.
pub async fn weekly(args: MorningArgs) -> anyhow::Result<()> {
    let (state, store) = open_state(&args).await?;
    let review =
        Weekly::at(&state, Timestamp::now(), &vigie_core::Actor::system()).await.context("cannot read the tickets")?;
    let text = match args.format {
        Format::Text => review.to_text(),
        Format::Json => format!("{}\n", review.to_json()),
    };
    store.close().await;
    std::io::stdout().lock().write_all(text.as_bytes()).context("cannot print")?;
    Ok(())
}

async fn open_state(args: &MorningArgs) -> anyhow::Result<(AppState, vigie_store::Store)> {
    let operations = load_operations(&args.config, false)?;
    let store = open(&args.db.db).await?;
    // A report reads: the rules saved in the store, never a new revision from the file (that
    // would move the rules under a running server); the file gives the roster.
    let rules = load_rules(&store, &ConfigArg { config: None }, RulesDefault::Saved).await?;
    let state = AppState::start(store.clone(), AppState::system_clock(), rules)
        .await
        .context("cannot read the backlog")?
        .with_operations(operations);
    Ok((state, store))
}

pub async fn morning(args: MorningArgs) -> anyhow::Result<()> {
    let (state, store) = open_state(&args).await?;
    let report =
        Morning::at(&state, Timestamp::now(), &vigie_core::Actor::system()).await.context("cannot read the backlog")?;
    let text = match args.format {
        Format::Text => report.to_text(),
        Format::Json => format!("{}\n", report.to_json()),
    };
    store.close().await;
    std::io::stdout().lock().write_all(text.as_bytes()).context("cannot print")?;
    Ok(())
}
