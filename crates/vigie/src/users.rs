//! `vigie user`: the people who sign in to the pages (API tokens are for machines).

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use vigie_core::Role;
use vigie_store::{StoreError, UserRecord};

use crate::{DbArg, open, parse_role_and_teams};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin with --password-stdin, else a random one
    /// is made and printed (only it, on one line). Only its argon2 hash is stored.
    Create(UserCreateArgs),
    /// Give a user a new password (read from stdin with --password-stdin, else made and printed).
    Password(UserPasswordArgs),
}

#[derive(Args)]
pub struct UserCreateArgs {
    #[command(flatten)]
    db: DbArg,
    /// Their name, also the actor of what they do: an agent signs in under their agent id.
    #[arg(long)]
    name: String,
    /// admin, lead, agent or viewer.
    #[arg(long)]
    role: String,
    /// A team whose tickets an agent may see and change (repeatable).
    #[arg(long = "team")]
    teams: Vec<String>,
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Args)]
pub struct UserPasswordArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long)]
    name: String,
    #[arg(long)]
    password_stdin: bool,
}

/// The shortest password accepted.
const MIN_PASSWORD: usize = 10;

fn password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((random_password(), true));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < MIN_PASSWORD {
        bail!("the password must have at least {MIN_PASSWORD} characters");
    }
    Ok((password, false))
}

/// 16 random characters of URL-safe base64 (96 bits).
pub fn random_password() -> String {
    vigie_server::auth::new_secret().chars().rev().take(16).collect()
}

fn hash(password: &str) -> anyhow::Result<String> {
    vigie_server::web::session::hash_password(password)
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create(args) => {
            let (role, teams) = parse_role_and_teams(&args.role, args.teams, &args.name)?;
            let (password, made) = password(args.password_stdin)?;
            let store = open(&args.db.db).await?;
            crate::check_teams_exist(&store, &teams).await?;
            let record = UserRecord { name: args.name.clone(), password_hash: hash(&password)?, role, teams };
            match store.create_user(&record, Timestamp::now()).await {
                Err(StoreError::Conflict(_)) => bail!("a user named `{}` already exists", args.name),
                other => other?,
            }
            store.close().await;
            if made {
                writeln!(std::io::stdout().lock(), "{password}").context("cannot print the password")?;
            }
            Ok(())
        }
        UserCommand::Password(args) => {
            let (password, made) = password(args.password_stdin)?;
            let store = open(&args.db.db).await?;
            let known = store.set_password(&args.name, &hash(&password)?).await?;
            store.close().await;
            if !known {
                bail!("no user is named `{}`", args.name);
            }
            if made {
                writeln!(std::io::stdout().lock(), "{password}").context("cannot print the password")?;
            }
            Ok(())
        }
    }
}

/// The demo's people: a lead and an agent of the front office, with one new password a start.
pub async fn demo_users(store: &vigie_store::Store) -> anyhow::Result<String> {
    let password = random_password();
    let hash = hash(&password)?;
    let people = [
        ("demo-lead", Role::Lead, Vec::new()),
        ("claire.moreau", Role::Agent, vec!["front_office".to_owned(), "outsourced".to_owned()]),
    ];
    for (name, role, teams) in people {
        let teams = teams.into_iter().filter_map(|t| vigie_core::TeamId::parse(t).ok()).collect();
        let record = UserRecord { name: name.to_owned(), password_hash: hash.clone(), role, teams };
        match store.create_user(&record, Timestamp::now()).await {
            Err(StoreError::Conflict(_)) => {
                store.set_password(name, &hash).await?;
            }
            other => other?,
        }
    }
    Ok(password)
}
