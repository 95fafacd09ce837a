//! `kfood-sim demo`: a living restaurant at a human pace, for someone
//! watching `kfood-crew` or `kfood-admin`. The kitchen is plain crew bots
//! bumping whole orders, or with `--stations` the station and expo bots of
//! [`crate::kitchen`].

use std::time::Duration;

use clap::Args;
use kfood_protocol::messages::{kind, OrderCancel, OrderPlace, Snapshot};
use kfood_protocol::{Envelope, Event, Order, OrderStatus, Request, Role};
use rand::Rng;
use tokio::sync::mpsc;

use crate::conn::SimConn;
use crate::kitchen;
use crate::tokens::Minter;
use crate::wire::{card_payment, durable, random_order, status_update};
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
        tasks.push(tokio::spawn(customer_bot(
            conn,
            events,
            name.to_owned(),
            args.speed,
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

async fn customer_bot(
    conn: SimConn,
    mut events: mpsc::Receiver<Envelope>,
    name: String,
    speed: f64,
) {
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
        tokio::time::sleep(scaled(wait, speed)).await;
        let (mut order, roll, cancel) = {
            let mut rng = rand::thread_rng();
            (
                random_order(&mut rng, &[]),
                rng.gen_range(0..100),
                rng.gen_bool(0.1),
            )
        };
        // Browse first: the relay prices the cart.
        let quote = Request::OrderQuote(OrderPlace {
            payment: None,
            ..order.clone()
        });
        let Ok(q) = conn.request(&quote).await else {
            continue;
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
                println!("{name}: placed {code} ({} cents)", placed.total_cents);
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
        } else if let Some(Event::OrderCreated(c)) = durable(&e) {
            vec![c.order]
        } else {
            continue;
        };
        for o in orders {
            let (id, status) = (o.id, o.status);
            if matches!(status, OrderStatus::Delivered | OrderStatus::Cancelled) {
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
