//! `kfood-sim load` and `kfood-sim idle`: real sockets, real orders, measured.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::stream::{self, StreamExt};
use kfood_protocol::messages::{kind, Announce, Announcement, AnnouncementKind, Audience};
use kfood_protocol::{Envelope, OrderStatus, Request, Role};
use rand::Rng;
use tokio::sync::mpsc;

use crate::conn::SimConn;
use crate::procstat;
use crate::report::{Latencies, Report};
use crate::tokens::Minter;
use crate::wire::{random_order, schedule, status_update};
use crate::Target;

#[derive(Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub target: Target,
    /// Customer connections.
    #[arg(long, default_value_t = 100)]
    pub customers: usize,
    /// Crew connections; they share the bumping of every order.
    #[arg(long, default_value_t = 2)]
    pub crew: usize,
    /// Admin connections; the first sends an announcement every --announce-every seconds.
    #[arg(long, default_value_t = 1)]
    pub admins: usize,
    /// Orders per second across all customers; 0 = each customer orders again as soon as acked.
    #[arg(long, default_value_t = 10.0)]
    pub orders_per_sec: f64,
    /// Seconds of load after everyone is connected.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    /// Seconds between announcements (0: none).
    #[arg(long, default_value_t = 5)]
    pub announce_every: u64,
    /// Sockets opened at once while connecting.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The relay's process id, when it runs on this machine: its RSS and CPU are reported.
    #[arg(long)]
    pub relay_pid: Option<u32>,
    /// Share of orders placed for later (0 to 1, e.g. 0.1): scheduled 30–90
    /// minutes ahead, so they wait in `scheduled` while the load runs and the
    /// crew leave them be.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub scheduled_share: f64,
    /// Kill this relay process with SIGKILL during the load (at --kill-at)
    /// and report how long its users took to be live and caught up on
    /// another relay of --relay.
    #[arg(long)]
    pub kill_pid: Option<u32>,
    /// Seconds into the load when --kill-pid is killed.
    #[arg(long, default_value_t = 10.0, requires = "kill_pid")]
    pub kill_at: f64,
}

/// A share from 0 to 1.
fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a share from 0 to 1")),
    }
}

#[derive(Args)]
pub struct IdleArgs {
    #[command(flatten)]
    pub target: Target,
    /// Idle authenticated sockets to open.
    #[arg(long, default_value_t = 1000)]
    pub sockets: usize,
    /// Seconds to hold them before measuring.
    #[arg(long, default_value_t = 5)]
    pub hold: u64,
    /// The relay's process id (required to measure it).
    #[arg(long)]
    pub relay_pid: u32,
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
}

/// When an announcement was sent, and when the last client received it.
type Heard = (Option<Instant>, Option<Instant>);

/// Counters and latencies shared by every simulated user.
#[derive(Default)]
struct Shared {
    placed: AtomicU64,
    acked: AtomicU64,
    /// Of the acked orders, those placed for later.
    scheduled: AtomicU64,
    /// Share of orders placed for later (`--scheduled-share`).
    scheduled_share: f64,
    place_to_ack: Mutex<Latencies>,
    update_to_customer: Mutex<Latencies>,
    /// (order id, status) → when crew sent the update.
    updates_sent: Mutex<HashMap<(u64, OrderStatus), Instant>>,
    /// announcement id → when it was sent, and when the last client got it.
    announcements: Mutex<HashMap<u64, Heard>>,
    errors: Mutex<BTreeMap<String, u64>>,
    connected: AtomicUsize,
}

impl Shared {
    fn error(&self, code: &str) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(code.to_owned())
            .or_default() += 1;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn connect_all(
    target: &Target,
    minter: &Minter,
    users: Vec<(String, Role)>,
    concurrency: usize,
    shared: &Arc<Shared>,
) -> Vec<Connected> {
    let mut tokens = Vec::with_capacity(users.len());
    for (k, (id, role)) in users.into_iter().enumerate() {
        let t = minter.token(&id, &id, role);
        // Round robin over the relays of `--relay`.
        tokens.push((id, role, t, target.relay_list_for(k)));
    }
    stream::iter(tokens)
        .map(|(id, role, tok, relays)| {
            let target = target.clone();
            let shared = shared.clone();
            async move {
                let conn = match tok {
                    Ok(t) => match SimConn::connect_via(&target, &relays, t, role).await {
                        Ok(c) => {
                            shared.connected.fetch_add(1, Ordering::Relaxed);
                            Some(c)
                        }
                        Err(e) => {
                            tracing::warn!(user = %id, cause = %e, "connect failed");
                            shared.error("connect");
                            None
                        }
                    },
                    Err(e) => {
                        tracing::warn!(user = %id, cause = %e, "no token");
                        shared.error("token");
                        None
                    }
                };
                (id, role, conn)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// A user's id, role, and its connection with its events (none when it
/// could not connect).
type Connected = (String, Role, Option<(SimConn, mpsc::Receiver<Envelope>)>);

/// The connected users by role, their bots running.
struct Roles {
    customers: Vec<SimConn>,
    admin: Option<SimConn>,
    all: Vec<SimConn>,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    if args.kill_pid.is_some() && args.kill_at >= args.duration as f64 {
        anyhow::bail!("--kill-at must fall within --duration");
    }
    let minter = Minter::from_env(args.target.relay_bin.clone(), args.target.data_dir.clone())?;
    let shared = Arc::new(Shared {
        scheduled_share: args.scheduled_share,
        ..Shared::default()
    });
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let mut users = Vec::new();
    users.extend((0..args.crew).map(|i| (format!("sim-{run_id}-crew-{i}"), Role::Crew)));
    users.extend((0..args.admins).map(|i| (format!("sim-{run_id}-admin-{i}"), Role::Admin)));
    users.extend((0..args.customers).map(|i| (format!("sim-{run_id}-cust-{i}"), Role::Customer)));
    let total = users.len();
    eprintln!(
        "connecting {total} sockets to {} ...",
        args.target.relays().join(" and ")
    );
    let t0 = Instant::now();
    let conns = connect_all(
        &args.target,
        &minter,
        users,
        args.connect_concurrency,
        &shared,
    )
    .await;
    eprintln!(
        "{} of {total} connected in {:.1} s",
        shared.connected.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64()
    );

    let per_relay_start = per_relay(
        conns
            .iter()
            .filter_map(|(_, _, c)| c.as_ref().map(|c| &c.0)),
    );
    let start_sample = args.relay_pid.and_then(procstat::sample);
    let peak_rss = Arc::new(AtomicU64::new(start_sample.map_or(0, |s| s.rss_kib)));
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let stop = tokio_util::sync::CancellationToken::new();
    let roles = start_bots(conns, &shared, &stop);
    if roles.customers.is_empty() {
        anyhow::bail!("no customer could connect");
    }
    let progress = spawn_progress(
        shared.clone(),
        stop.clone(),
        args.relay_pid,
        peak_rss.clone(),
    );
    if let (Some(a), true) = (roles.admin.clone(), args.announce_every > 0) {
        spawn_announcer(a, shared.clone(), stop.clone(), args.announce_every);
    }

    let run_started = Instant::now();
    let killer = args
        .kill_pid
        .map(|pid| spawn_killer(pid, args.kill_at, roles.all.clone()));
    drive_orders(&roles.customers, &shared, args.orders_per_sec, deadline).await;
    let elapsed = run_started.elapsed();
    // Let in-flight acks and the last bumps land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let _ = progress.await;
    let end_sample = args.relay_pid.and_then(procstat::sample);
    let failover = match killer {
        Some(k) => Some(k.await??),
        None => None,
    }
    .map(|at| crate::failover::summarize(at, roles.all.iter().map(|c| &*c.probe)));

    let mut ann = Latencies::default();
    for (sent, last) in lock(&shared.announcements).values() {
        if let (Some(s), Some(l)) = (sent, last) {
            ann.push(l.saturating_duration_since(*s));
        }
    }
    let reconnects = roles.all.iter().map(SimConn::reconnects).sum();
    let per_relay_end = per_relay(roles.all.iter());
    let clients_per_relay = per_relay_start
        .keys()
        .chain(per_relay_end.keys())
        .map(|r| {
            let at = |m: &BTreeMap<String, u64>| m.get(r).copied().unwrap_or(0);
            (r.clone(), (at(&per_relay_start), at(&per_relay_end)))
        })
        .collect();
    let acked = shared.acked.load(Ordering::Relaxed);
    let report = Report {
        customers: args.customers,
        crew: args.crew,
        admins: args.admins,
        duration_s: elapsed.as_secs_f64(),
        target_orders_per_sec: args.orders_per_sec,
        orders_placed: shared.placed.load(Ordering::Relaxed),
        orders_acked: acked,
        orders_scheduled: shared.scheduled.load(Ordering::Relaxed),
        acked_per_sec: acked as f64 / elapsed.as_secs_f64().max(0.001),
        place_to_ack: lock(&shared.place_to_ack).summary(),
        update_to_customer: lock(&shared.update_to_customer).summary(),
        announcement_to_last: ann.summary(),
        errors: lock(&shared.errors).clone(),
        reconnects,
        clients_per_relay,
        relay_rss_kib_start: start_sample.map(|s| s.rss_kib),
        relay_rss_kib_end: end_sample.map(|s| s.rss_kib),
        relay_rss_kib_peak: end_sample.map(|s| peak_rss.load(Ordering::Relaxed).max(s.rss_kib)),
        relay_cpu_percent: match (start_sample, end_sample) {
            (Some(a), Some(b)) => Some(procstat::cpu_percent(&a, &b)),
            _ => None,
        },
        failover,
    };
    println!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("report written to {}", path.display());
    }
    for c in roles.all {
        c.close().await;
    }
    Ok(())
}

/// Kills relay `pid` `at_s` seconds from now, having noted which relay
/// every user is on; the kill's time into the load.
fn spawn_killer(
    pid: u32,
    at_s: f64,
    users: Vec<SimConn>,
) -> tokio::task::JoinHandle<anyhow::Result<f64>> {
    let started = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs_f64(at_s.max(0.0))).await;
        let at = Instant::now();
        for u in &users {
            u.probe.arm(at, u.relay());
        }
        crate::failover::kill9(pid)?;
        eprintln!("\nkilled relay {pid} (kill -9)");
        Ok(at.duration_since(started).as_secs_f64())
    })
}

/// Users by the relay they are on.
fn per_relay<'a>(conns: impl Iterator<Item = &'a SimConn>) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for c in conns {
        *m.entry(c.relay()).or_default() += 1;
    }
    m
}

/// Starts each connected user's bot: customers note what reaches them, crew
/// bump orders, admins note announcements.
fn start_bots(
    conns: Vec<Connected>,
    shared: &Arc<Shared>,
    stop: &tokio_util::sync::CancellationToken,
) -> Roles {
    let crew_total = conns
        .iter()
        .filter(|(_, r, c)| *r == Role::Crew && c.is_some())
        .count()
        .max(1);
    let mut roles = Roles {
        customers: Vec::new(),
        admin: None,
        all: Vec::new(),
    };
    let mut crew_idx = 0;
    for (_, role, c) in conns {
        let Some((conn, events)) = c else { continue };
        roles.all.push(conn.clone());
        match role {
            Role::Customer => {
                tokio::spawn(customer_events(events, shared.clone()));
                roles.customers.push(conn);
            }
            Role::Crew => {
                let bot = crew_loop(
                    conn,
                    events,
                    crew_idx,
                    crew_total,
                    shared.clone(),
                    stop.clone(),
                );
                tokio::spawn(bot);
                crew_idx += 1;
            }
            Role::Admin => {
                tokio::spawn(admin_events(events, shared.clone()));
                roles.admin.get_or_insert(conn);
            }
            // No connection signs in as the relay itself.
            Role::System => {}
        }
    }
    roles
}

/// A progress line on stderr and a sample of the relay, once a second.
fn spawn_progress(
    shared: Arc<Shared>,
    stop: tokio_util::sync::CancellationToken,
    pid: Option<u32>,
    peak: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let started = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last = 0;
        loop {
            tokio::select! { _ = stop.cancelled() => break, _ = tick.tick() => {} }
            let acked = shared.acked.load(Ordering::Relaxed);
            let errs: u64 = lock(&shared.errors).values().sum();
            let rss = pid.and_then(procstat::sample).map(|s| {
                peak.fetch_max(s.rss_kib, Ordering::Relaxed);
                format!("  relay RSS {:.1} MiB", s.rss_kib as f64 / 1024.0)
            });
            eprint!(
                "\r{:>5.0} s  placed {:>7}  acked {:>7}  ({:>5}/s)  errors {:>4}{}   ",
                started.elapsed().as_secs_f64(),
                shared.placed.load(Ordering::Relaxed),
                acked,
                acked - last,
                errs,
                rss.unwrap_or_default()
            );
            last = acked;
        }
        eprintln!();
    })
}

/// Announcements from the first admin every `every_s` seconds, timed to
/// the last client that receives each.
fn spawn_announcer(
    a: SimConn,
    shared: Arc<Shared>,
    stop: tokio_util::sync::CancellationToken,
    every_s: u64,
) {
    let every = Duration::from_secs(every_s);
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            tokio::select! { _ = stop.cancelled() => break, _ = tokio::time::sleep(every) => {} }
            n += 1;
            let sent = Instant::now();
            let req = Request::Announce(Announce {
                audience: Audience::All,
                kind: AnnouncementKind::Announcement,
                text: format!("load test announcement {n}"),
                expires_at: None,
            });
            match a.request(&req).await {
                Ok(ack) => {
                    if let Some(a) = ack.get::<Announcement>("announcement") {
                        lock(&shared.announcements)
                            .entry(a.id)
                            .or_insert((None, None))
                            .0 = Some(sent);
                    }
                }
                Err(code) => shared.error(&code),
            }
        }
    });
}

/// Places orders until `deadline`: at `rate` per second spread over the
/// customers, or (rate 0) each customer in a closed loop.
async fn drive_orders(customers: &[SimConn], shared: &Arc<Shared>, rate: f64, deadline: Instant) {
    if rate > 0.0 {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut i = 0usize;
        while Instant::now() < deadline {
            tick.tick().await;
            let c = customers[i % customers.len()].clone();
            i += 1;
            tokio::spawn(place(c, shared.clone()));
        }
        return;
    }
    let mut tasks = Vec::new();
    for c in customers {
        let (c, shared) = (c.clone(), shared.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                place(c.clone(), shared.clone()).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// What the report measures of an event, read from its `data` without
/// decoding the whole order: in a load run the crew and admins receive every
/// event of the restaurant, and the simulator must cost less than the relay
/// it measures (a full decode per event made it the busier of the two).
enum Seen {
    Created(u64),
    Update(u64, OrderStatus),
    Announcement(u64),
}

fn seen(e: &Envelope) -> Option<Seen> {
    let id = |k: &str| e.data.get(k).and_then(serde_json::Value::as_u64);
    match e.kind.as_str() {
        // An order placed for later waits for its fire time, past the run:
        // the crew bots leave it be.
        kind::ORDER_CREATED
            if e.data.get("status").and_then(|s| s.as_str()) == Some("scheduled") =>
        {
            None
        }
        kind::ORDER_CREATED => Some(Seen::Created(id("order_id")?)),
        kind::ORDER_UPDATE => {
            let s = e.data.get("status")?.as_str()?;
            let status = OrderStatus::ALL.into_iter().find(|x| x.as_str() == s)?;
            Some(Seen::Update(id("order_id")?, status))
        }
        // A shutdown notice is an announcement without a seq: not one of ours.
        kind::ANNOUNCEMENT if e.seq.is_some() => Some(Seen::Announcement(id("id")?)),
        _ => None,
    }
}

/// Notes what every simulated user receives that the report measures.
fn note(e: Option<&Seen>, shared: &Shared) {
    if let Some(Seen::Announcement(id)) = e {
        let now = Instant::now();
        let mut m = lock(&shared.announcements);
        let entry = m.entry(*id).or_insert((None, None));
        entry.1 = Some(entry.1.map_or(now, |t| t.max(now)));
    }
}

async fn place(c: SimConn, shared: Arc<Shared>) {
    let (order, later) = {
        let mut rng = rand::thread_rng();
        let mut order = random_order(&mut rng, &[]);
        let later = shared.scheduled_share > 0.0 && rng.gen_bool(shared.scheduled_share);
        if later {
            schedule(&mut order, &mut rng, kfood_protocol::time::now_ms());
        }
        (order, later)
    };
    let req = Request::OrderPlace(order);
    shared.placed.fetch_add(1, Ordering::Relaxed);
    let sent = Instant::now();
    match c.request(&req).await {
        Ok(_) => {
            lock(&shared.place_to_ack).push(sent.elapsed());
            shared.acked.fetch_add(1, Ordering::Relaxed);
            if later {
                shared.scheduled.fetch_add(1, Ordering::Relaxed);
            }
        }
        Err(code) => shared.error(&code),
    }
}

async fn customer_events(mut events: mpsc::Receiver<Envelope>, shared: Arc<Shared>) {
    while let Some(e) = events.recv().await {
        let ev = seen(&e);
        note(ev.as_ref(), &shared);
        if let Some(Seen::Update(order_id, status)) = ev {
            if let Some(sent) = lock(&shared.updates_sent).remove(&(order_id, status)) {
                lock(&shared.update_to_customer).push(sent.elapsed());
            }
        }
    }
}

async fn admin_events(mut events: mpsc::Receiver<Envelope>, shared: Arc<Shared>) {
    while let Some(e) = events.recv().await {
        note(seen(&e).as_ref(), &shared);
    }
}

/// Bumps this crew member's share of orders through every status.
async fn crew_loop(
    conn: SimConn,
    mut events: mpsc::Receiver<Envelope>,
    idx: usize,
    of: usize,
    shared: Arc<Shared>,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        let e = tokio::select! {
            _ = stop.cancelled() => break,
            e = events.recv() => match e { Some(e) => e, None => break },
        };
        let ev = seen(&e);
        note(ev.as_ref(), &shared);
        let Some(Seen::Created(id)) = ev else {
            continue;
        };
        if (id as usize) % of != idx {
            continue;
        }
        let (conn, shared) = (conn.clone(), shared.clone());
        tokio::spawn(async move {
            for status in [
                OrderStatus::Preparing,
                OrderStatus::Ready,
                OrderStatus::Delivered,
            ] {
                let pause = rand::thread_rng().gen_range(100..600);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                lock(&shared.updates_sent).insert((id, status), Instant::now());
                if let Err(code) = conn.request(&status_update(id, status)).await {
                    lock(&shared.updates_sent).remove(&(id, status));
                    shared.error(&code);
                    break;
                }
            }
        });
    }
}

pub async fn idle(args: IdleArgs) -> anyhow::Result<()> {
    let minter = Minter::from_env(args.target.relay_bin.clone(), args.target.data_dir.clone())?;
    let shared = Arc::new(Shared::default());
    let before = procstat::sample(args.relay_pid)
        .ok_or_else(|| anyhow::anyhow!("cannot read /proc/{}", args.relay_pid))?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let users = (0..args.sockets)
        .map(|i| (format!("idle-{run_id}-{i}"), Role::Customer))
        .collect();
    let conns = connect_all(
        &args.target,
        &minter,
        users,
        args.connect_concurrency,
        &shared,
    )
    .await;
    let n = shared.connected.load(Ordering::Relaxed);
    // Drain events so nothing piles up on our side, then hold.
    let mut held = Vec::new();
    for (_, _, c) in conns {
        if let Some((conn, mut ev)) = c {
            tokio::spawn(async move { while ev.recv().await.is_some() {} });
            held.push(conn);
        }
    }
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let after = procstat::sample(args.relay_pid).ok_or_else(|| anyhow::anyhow!("relay gone"))?;
    let per = (after.rss_kib.saturating_sub(before.rss_kib)) as f64 / n.max(1) as f64;
    println!(
        "{n} idle authenticated sockets: relay RSS {:.1} MiB before, {:.1} MiB after, {:.1} KiB per socket",
        before.rss_kib as f64 / 1024.0,
        after.rss_kib as f64 / 1024.0,
        per
    );
    let errs = lock(&shared.errors).clone();
    if !errs.is_empty() {
        println!("errors: {errs:?}");
    }
    for c in held {
        c.close().await;
    }
    Ok(())
}
