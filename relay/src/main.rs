//! `kfood-relay`: serve (the default), manage accounts, issue and revoke tokens.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use kfood_protocol::messages::{validate_password, validate_username};
use kfood_protocol::Role;
use kfood_relay::auth::{self, UserRecord};
use kfood_relay::config::{EngineKind, ServeArgs, StoreArgs};
use kfood_relay::log::{self, Record};
use kfood_relay::store::SledStore;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "kfood-relay",
    version,
    about = "KfoodDelights relay: WebSocket and HTTP API over an embedded store"
)]
struct Cli {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve (the default).
    Serve,
    /// Accounts in the store (the relay must be stopped).
    #[command(subcommand)]
    User(UserCmd),
    /// Tokens signed with the relay's secret.
    #[command(subcommand)]
    Token(TokenCmd),
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account; the password comes from KFOOD_PASSWORD, is typed at
    /// the terminal (not shown), or is the first line of stdin when it is not a terminal.
    Add {
        username: String,
        #[arg(long)]
        role: Role,
        /// Display name (defaults to the username).
        #[arg(long)]
        name: Option<String>,
    },
    /// List accounts.
    List,
    /// Remove an account.
    Remove { username: String },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Print a token alone on stdout (a device token for a kitchen terminal).
    Issue {
        #[arg(long)]
        role: Role,
        /// Display name, e.g. station-1.
        #[arg(long)]
        name: String,
        /// User id (defaults to the name).
        #[arg(long)]
        sub: Option<String>,
        /// Lifetime, e.g. 30d, 12h, 15m.
        #[arg(long, default_value = "30d")]
        ttl: humantime::Duration,
    },
    /// Refuse every token of a user issued up to now (the relay must be stopped;
    /// a running relay takes `session_revoke`).
    Revoke {
        #[arg(long)]
        user: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Cmd::Serve) => serve(cli.store, cli.serve),
        Some(Cmd::User(cmd)) => user(&cli.store, cmd),
        Some(Cmd::Token(cmd)) => token(&cli.store, cmd),
    }
}

fn secret(args: &StoreArgs) -> anyhow::Result<(kfood_protocol::jwt::Secret, auth::SecretSource)> {
    auth::load_secret(
        std::env::var("KFOOD_JWT_SECRET").ok(),
        args.jwt_secret_file.as_deref(),
        &args.data_dir,
    )
}

fn open_store(args: &StoreArgs) -> anyhow::Result<SledStore> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    Ok(SledStore::open(&args.data_dir, args.cache_mb)?)
}

/// Colours only for a person at a terminal: never into a file or a pipe, and
/// not when `NO_COLOR` is set (no-color.org).
fn log_colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn serve(store_args: StoreArgs, args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "kfood_relay=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(log_colours())
        .init();
    args.limits.validate().map_err(anyhow::Error::msg)?;
    if store_args.engine.engine == EngineKind::Jetstream {
        return serve_jetstream(store_args, args);
    }
    let store = open_store(&store_args)?;
    let (secret, source) = secret(&store_args)?;
    match source {
        auth::SecretSource::Generated => tracing::warn!(
            file = %store_args.data_dir.join(auth::SECRET_FILE).display(),
            "no KFOOD_JWT_SECRET given: created a random secret in the data directory"
        ),
        auth::SecretSource::Env => tracing::info!("JWT secret from KFOOD_JWT_SECRET"),
        auth::SecretSource::File => tracing::info!("JWT secret from file"),
    }
    if args.demo {
        for line in kfood_relay::seed_demo(&store)? {
            println!("{line}");
        }
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(kfood_relay::server::tls_acceptor(c, k)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        println!(
            "kfood-relay listening on {scheme}://{}/ws",
            listener.local_addr()?
        );
        let shutdown = cancel_on_signal();
        let opts = kfood_relay::Options {
            limits: args.limits,
            secret,
            demo: args.demo,
            tls,
        };
        kfood_relay::run(listener, Arc::new(store), opts, shutdown).await
    })
}

/// The JWT secret every relay of a JetStream cluster shares: given, never
/// generated (a generated one would differ on each machine).
fn shared_secret(args: &StoreArgs) -> anyhow::Result<kfood_protocol::jwt::Secret> {
    let (secret, source) = secret(args)?;
    if source == auth::SecretSource::Generated {
        bail!("--engine jetstream needs KFOOD_JWT_SECRET or --jwt-secret-file, the same on every relay");
    }
    Ok(secret)
}

/// Opens the cluster's streams (creating what is missing) and checks the
/// first commit; `seed` is the demo's menu and accounts.
async fn open_cluster(
    args: &StoreArgs,
    secret: &kfood_protocol::jwt::Secret,
    auto_ready: bool,
    demo: bool,
) -> anyhow::Result<Arc<kfood_relay::jetstream::Cluster>> {
    let seed = if demo {
        let mut users = Vec::new();
        for (id, name, role, password) in kfood_relay::demo::ACCOUNTS {
            users.push(UserRecord {
                id: id.to_owned(),
                name: name.to_owned(),
                role,
                password_hash: auth::hash_password(password)
                    .map_err(|e| anyhow::anyhow!(e.message))?,
                created_at: kfood_protocol::time::now(),
            });
        }
        Some((kfood_relay::demo::menu(), users))
    } else {
        None
    };
    let cluster =
        kfood_relay::jetstream::Cluster::open(&args.engine.settings(), secret, auto_ready, seed)
            .await?;
    Ok(Arc::new(cluster))
}

fn serve_jetstream(store_args: StoreArgs, args: ServeArgs) -> anyhow::Result<()> {
    let secret = shared_secret(&store_args)?;
    if args.demo {
        for (id, _, role, password) in kfood_relay::demo::ACCOUNTS {
            println!("demo account: {id:<9} role {role:<8} password {password}");
        }
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(kfood_relay::server::tls_acceptor(c, k)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let cluster = open_cluster(&store_args, &secret, args.limits.auto_ready, args.demo).await?;
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        println!(
            "kfood-relay listening on {scheme}://{}/ws (cluster {}, relay {})",
            listener.local_addr()?,
            store_args.engine.cluster,
            cluster.relay_id
        );
        let shutdown = cancel_on_signal();
        let opts = kfood_relay::Options {
            limits: args.limits,
            secret,
            demo: args.demo,
            tls,
        };
        kfood_relay::run_jetstream(listener, cluster, opts, shutdown).await
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The new account's password: `KFOOD_PASSWORD`, else typed at the terminal
/// without echo (twice, to catch a typo), else the first line of stdin (scripts).
fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("KFOOD_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("password again: ")?;
        if first != again {
            bail!("the passwords differ; nothing was created");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Where the account subcommands read and append: a stopped relay's sled
/// store, or the cluster's stream (while relays run).
enum Log {
    Sled(SledStore),
    Cluster(Arc<kfood_relay::jetstream::Cluster>),
}

fn open_log(args: &StoreArgs, stopped_hint: &str) -> anyhow::Result<Log> {
    if args.engine.engine == EngineKind::Sled {
        return Ok(Log::Sled(
            open_store(args).context(stopped_hint.to_owned())?,
        ));
    }
    let secret = shared_secret(args)?;
    let rt = tokio::runtime::Runtime::new()?;
    // The cluster's own auto-ready setting is read from its first commit.
    let cluster = rt.block_on(async {
        match open_cluster(args, &secret, false, false).await {
            Ok(c) => Ok(c),
            Err(e) if e.to_string().contains("--auto-ready") => {
                open_cluster(args, &secret, true, false).await
            }
            Err(e) => Err(e),
        }
    })?;
    // The connection's tasks live on that runtime.
    std::mem::forget(rt);
    Ok(Log::Cluster(cluster))
}

fn user(args: &StoreArgs, cmd: UserCmd) -> anyhow::Result<()> {
    let store = open_log(
        args,
        "the relay must be stopped to change accounts (a running relay takes user_create)",
    )?;
    match cmd {
        UserCmd::Add {
            username,
            role,
            name,
        } => {
            validate_username(&username).map_err(|e| anyhow::anyhow!(e.message))?;
            if users(&store)?.contains_key(&username) {
                bail!("{username} exists already");
            }
            let password = read_password()?;
            validate_password(&password).map_err(|e| anyhow::anyhow!(e.message))?;
            let name = name.unwrap_or_else(|| username.clone());
            let name = kfood_protocol::menu::checked_name(
                "name",
                &name,
                kfood_protocol::limits::MAX_NAME_CHARS,
            )
            .map_err(|e| anyhow::anyhow!(e.message))?;
            let rec = UserRecord {
                id: username.clone(),
                name,
                role,
                password_hash: auth::hash_password(&password)
                    .map_err(|e| anyhow::anyhow!(e.message))?,
                created_at: kfood_protocol::time::now(),
            };
            append(&store, Record::User(rec))?;
            println!("created {role} {username}");
        }
        UserCmd::List => {
            for u in users(&store)?.values() {
                println!("{:<32} {:<8} {}", u.id, u.role, u.name);
            }
        }
        UserCmd::Remove { username } => {
            if !users(&store)?.contains_key(&username) {
                bail!("no user {username}");
            }
            append(
                &store,
                Record::UserRemoved {
                    id: username.clone(),
                },
            )?;
            println!("removed {username}");
        }
    }
    Ok(())
}

/// The accounts in the log: the fold of its commits.
fn users(store: &Log) -> anyhow::Result<std::collections::BTreeMap<String, UserRecord>> {
    match store {
        Log::Sled(s) => Ok(log::load(s)?.records.users),
        Log::Cluster(c) => {
            let st = runtime()?.block_on(kfood_relay::jetstream::load(c))?.0;
            Ok(st.records.users)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Appends one record to the log, durably.
fn append(store: &Log, record: Record) -> anyhow::Result<()> {
    match store {
        Log::Sled(s) => runtime()?.block_on(log::append_records(s, vec![record]))?,
        Log::Cluster(c) => {
            runtime()?.block_on(kfood_relay::jetstream::append_records(c, vec![record]))?
        }
    }
    Ok(())
}

fn token(args: &StoreArgs, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Issue {
            role,
            name,
            sub,
            ttl,
        } => {
            let (secret, _) = secret(args)?;
            let name = kfood_protocol::sanitize::clean_line(&name);
            let sub = sub.unwrap_or_else(|| name.clone());
            let now = kfood_protocol::time::now_ms() / 1000;
            let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
            let claims = kfood_protocol::jwt::Claims::new(&sub, &name, role, now, ttl);
            println!("{}", secret.sign(&claims));
        }
        TokenCmd::Revoke { user } => {
            let store = open_log(
                args,
                "the relay must be stopped (a running relay takes session_revoke)",
            )?;
            let at = kfood_protocol::time::now_ms() / 1000;
            append(
                &store,
                Record::Revoked {
                    user_id: user.clone(),
                    at,
                },
            )?;
            println!("revoked every token of {user} issued up to now");
        }
    }
    Ok(())
}

/// A token cancelled at SIGINT or SIGTERM: the relay's shutdown, whichever
/// engine it runs on.
fn cancel_on_signal() -> CancellationToken {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        stop.cancel();
    });
    shutdown
}
