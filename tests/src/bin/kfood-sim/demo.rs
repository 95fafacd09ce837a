//! `kfood-sim demo`: a living restaurant at a human pace, for someone
//! watching `kfood-crew` or `kfood-admin`. The kitchen is plain crew bots
//! bumping whole orders, or with `--stations` the station and expo bots of
//! [`crate::kitchen`]. Customers choose options on some lines and place a
//! few orders for later; at the peak of a rush the kitchen lead pauses
//! online ordering for a while ([`crate::rush`]).

use std::time::Duration;

use clap::Args;
use kfood_protocol::messages::{kind, OrderCancel, OrderPlace, Snapshot};
use kfood_protocol::time::now_ms;
use kfood_protocol::{Envelope, Event, Order, OrderStatus, Request, Role};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::conn::SimConn;
use crate::kitchen;
use crate::rush::{customer_wait, kitchen_lead, Timeline};
use crate::tokens::Minter;
use crate::wire::{card_payment, durable, random_order, schedule, status_update};
use crate::Target;

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub target: Target,
    /// Customer bots.
    #[arg(long, default_value_t = 4)]
    pub customers: usize,
    /// Crew bots working the queue (0 to leave the kitchen to a person at kfood-crew).
    #[arg(long, default_value_t = 1)]
    pub crew: usize,
    /// A kitchen with stations instead of crew bots: one bot per station
    /// marking its lines done, plus an expo bot bumping whole tickets
    /// (no value: every station of the menu).
    #[arg(
        long,
        num_args = 0..=1,
        value_delimiter = ',',
        value_name = "STATION[,STATION]",
        conflicts_with = "crew"
    )]
    pub stations: Option<Vec<String>>,
    /// Speed factor: 2 runs the restaurant twice as fast.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Share of customer orders placed for later (scheduled 30–90 minutes ahead).
    #[arg(long, default_value_t = 0.1)]
    pub scheduled_share: f64,
    /// Seconds (at --speed 1) until the peak of the rush, when the kitchen
    /// lead pauses online ordering (0: no rush, no pause).
    #[arg(long, default_value_t = 120)]
    pub pause_at: u64,
    /// Seconds (at --speed 1) the pause lasts before ordering resumes.
    #[arg(long, default_value_t = 45)]
    pub pause_for: u64,
}

/// A test card the payment gateway declines (`card_declined`).
const CARD_DECLINED: &str = "4000000000000002";
/// A test card the payment gateway refuses for lack of funds.
const CARD_NO_FUNDS: &str = "4000000000009995";

pub fn scaled(secs: f64, speed: f64) -> Duration {
    Duration::from_secs_f64((secs / speed.max(0.01)).max(0.05))
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let minter = Minter::from_env(args.target.relay_bin.clone(), args.target.data_dir.clone())?;
    let names = [
        "Jiwoo", "Minseo", "Hyun", "Sora", "Daniel", "Yuna", "Taeho", "Eunji", "Marco", "Aiko",
    ];
    let mut tasks = Vec::new();
    let crew_bots = if args.stations.is_some() {
        0
    } else {
        args.crew
    };
    if let Some(stations) = &args.stations {
        tasks = kitchen::start(&args.target, &minter, stations, args.speed).await?;
    }
    let timeline = Timeline::new(Instant::now(), args.pause_at, args.pause_for, args.speed);
    if let Some(t) = timeline {
        let token = minter.token("demo-lead", "Kitchen lead", Role::Crew)?;
        let (conn, mut events) = SimConn::connect(&args.target, token, Role::Crew).await?;
        println!("kitchen lead connected");
        tokio::spawn(async move { while events.recv().await.is_some() {} });
        tasks.push(tokio::spawn(kitchen_lead(conn, t)));
    }
    for i in 0..crew_bots {
        let id = format!("demo-crew-{}", i + 1);
        let token = minter.token(&id, &format!("Line cook {}", i + 1), Role::Crew)?;
        let (conn, events) = SimConn::connect(&args.target, token, Role::Crew).await?;
        println!("crew bot {id} connected");
        tasks.push(tokio::spawn(crew_bot(conn, events, args.speed)));
    }
    for i in 0..args.customers {
        let name = names[i % names.len()];
        let id = format!("demo-{}-{}", name.to_lowercase(), i + 1);
        let token = minter.token(&id, name, Role::Customer)?;
        let (conn, events) = SimConn::connect(&args.target, token, Role::Customer).await?;
        println!("customer bot {name} connected");
        let habits = Habits {
            speed: args.speed,
            scheduled_share: args.scheduled_share.clamp(0.0, 1.0),
            timeline,
        };
        tasks.push(tokio::spawn(customer_bot(
            conn,
            events,
            name.to_owned(),
            habits,
        )));
    }
    let until = async {
        match args.duration {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    until.await;
    for t in tasks {
        t.abort();
    }
    println!("demo stopped");
    Ok(())
}

/// How a customer bot orders.
#[derive(Debug, Clone, Copy)]
struct Habits {
    speed: f64,
    /// Share of orders placed for later.
    scheduled_share: f64,
    /// The rush: orders come faster before the pause.
    timeline: Option<Timeline>,
}

async fn customer_bot(
    conn: SimConn,
    mut events: mpsc::Receiver<Envelope>,
    name: String,
    habits: Habits,
) {
    let speed = habits.speed;
    // Events are only watched for the log line; the bot acts on its own clock.
    let watcher = tokio::spawn({
        let name = name.clone();
        async move {
            while let Some(e) = events.recv().await {
                if let Some(Event::OrderUpdate(u)) = durable(&e) {
                    if u.status == OrderStatus::Ready {
                        println!("{name}: {} is ready", u.order.code);
                    }
                }
            }
        }
    });
    loop {
        let wait = rand::thread_rng().gen_range(10.0..30.0);
        tokio::time::sleep(customer_wait(wait, speed, habits.timeline.as_ref())).await;
        let (mut order, roll, cancel) = {
            let mut rng = rand::thread_rng();
            let mut order = random_order(&mut rng, &[]);
            if rng.gen_bool(habits.scheduled_share) {
                schedule(&mut order, &mut rng, now_ms());
            }
            (order, rng.gen_range(0..100), rng.gen_bool(0.1))
        };
        // Browse first: the relay prices the cart.
        let quote = Request::OrderQuote(OrderPlace {
            payment: None,
            ..order.clone()
        });
        let q = match conn.request(&quote).await {
            Ok(q) => q,
            Err(code) if code == "ordering_paused" => {
                println!("{name}: the kitchen is paused; trying again later");
                continue;
            }
            Err(_) => continue,
        };
        order.expected_total_cents = q.get::<i64>("total_cents");
        if roll < 12 {
            order.payment = Some(card_payment(CARD_DECLINED));
        } else if roll < 16 {
            order.payment = Some(card_payment(CARD_NO_FUNDS));
        }
        match conn.request(&Request::OrderPlace(order)).await {
            Ok(ack) => {
                let Some(placed) = ack.get::<Order>("order") else {
                    println!("{name}: placed an order the ack does not show");
                    continue;
                };
                let code = &placed.code;
                match &placed.scheduled_for {
                    Some(at) => println!(
                        "{name}: placed {code} for later, {at} ({} cents)",
                        placed.total_cents
                    ),
                    None => println!("{name}: placed {code} ({} cents)", placed.total_cents),
                }
                if cancel {
                    tokio::time::sleep(scaled(4.0, speed)).await;
                    let req = Request::OrderCancel(OrderCancel {
                        order_id: placed.id,
                        reason: "changed my mind".to_owned(),
                    });
                    match conn.request(&req).await {
                        Ok(_) => println!("{name}: cancelled {code}"),
                        Err(c) => println!("{name}: could not cancel {code} ({c})"),
                    }
                }
            }
            Err(code) => println!("{name}: order refused ({code})"),
        }
        if watcher.is_finished() {
            break;
        }
    }
}

async fn crew_bot(conn: SimConn, mut events: mpsc::Receiver<Envelope>, speed: f64) {
    while let Some(e) = events.recv().await {
        let orders: Vec<Order> = if e.kind == kind::SNAPSHOT {
            match e.parse_data::<Snapshot>() {
                Ok(s) => s.orders,
                Err(err) => {
                    tracing::warn!(cause = %err, "unreadable snapshot");
                    continue;
                }
            }
        } else {
            match durable(&e) {
                Some(Event::OrderCreated(c)) => vec![c.order],
                // A scheduled order fired (by the relay, or early by a person).
                Some(Event::OrderUpdate(u)) if fired(&u.order) => vec![u.order],
                _ => continue,
            }
        };
        for o in orders {
            let (id, status) = (o.id, o.status);
            // Scheduled orders wait for their fire time.
            if matches!(
                status,
                OrderStatus::Delivered | OrderStatus::Cancelled | OrderStatus::Scheduled
            ) {
                continue;
            }
            let prep = f64::from(o.prep_minutes);
            let conn = conn.clone();
            tokio::spawn(async move {
                let steps = [
                    (OrderStatus::Preparing, 5.0),
                    (OrderStatus::Ready, 20.0 + prep * 2.0),
                    (OrderStatus::Delivered, 15.0),
                ];
                // Pick up where the order stands: a pending order starts at the first step.
                let start = steps
                    .iter()
                    .position(|(s, _)| *s == status)
                    .map_or(0, |p| p + 1);
                for (next, secs) in &steps[start..] {
                    tokio::time::sleep(scaled(*secs, speed)).await;
                    if conn.request(&status_update(id, *next)).await.is_err() {
                        // Cancelled meanwhile, or already moved by a person at kfood-crew.
                        break;
                    }
                }
            });
        }
    }
}

/// Whether this `order_update` is a scheduled order moving to `pending`.
fn fired(o: &Order) -> bool {
    let mut moves = o.history.iter().rev().map(|h| h.status);
    o.status == OrderStatus::Pending
        && moves.next() == Some(OrderStatus::Pending)
        && moves.next() == Some(OrderStatus::Scheduled)
}
