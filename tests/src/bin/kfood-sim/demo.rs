//! `kfood-sim demo`: a living restaurant at a human pace, for someone
//! watching `kfood-crew` or `kfood-admin`.

use std::time::Duration;

use clap::Args;
use kfood_protocol::messages::kind;
use kfood_protocol::{Envelope, Role};
use rand::Rng;
use serde_json::json;
use tokio::sync::mpsc;

use crate::conn::SimConn;
use crate::load::random_order;
use crate::tokens::Minter;
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
    /// Speed factor: 2 runs the restaurant twice as fast.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub duration: Option<u64>,
}

fn scaled(secs: f64, speed: f64) -> Duration {
    Duration::from_secs_f64((secs / speed.max(0.01)).max(0.05))
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let minter = Minter::from_env(args.target.relay_bin.clone(), args.target.data_dir.clone())?;
    let names = [
        "Jiwoo", "Minseo", "Hyun", "Sora", "Daniel", "Yuna", "Taeho", "Eunji", "Marco", "Aiko",
    ];
    let mut tasks = Vec::new();
    for i in 0..args.crew {
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
                if e.kind == kind::ORDER_UPDATE && e.data["status"] == "ready" {
                    println!(
                        "{name}: {} is ready",
                        e.data["order"]["code"].as_str().unwrap_or("?")
                    );
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
        let mut quote = order.clone();
        if let Some(o) = quote.as_object_mut() {
            o.remove("payment");
        }
        let Ok(q) = conn.request(kind::ORDER_QUOTE, quote).await else {
            continue;
        };
        order["expected_total_cents"] = q["total_cents"].clone();
        if roll < 12 {
            order["payment"] = json!({"method": "card", "card": {"number": "4000000000000002", "exp": "12/30", "cvc": "123"}});
        } else if roll < 16 {
            order["payment"] = json!({"method": "card", "card": {"number": "4000000000009995", "exp": "12/30", "cvc": "123"}});
        }
        match conn.request(kind::ORDER_PLACE, order).await {
            Ok(ack) => {
                let code = ack["order"]["code"].as_str().unwrap_or("?").to_owned();
                println!(
                    "{name}: placed {code} ({} cents)",
                    ack["order"]["total_cents"]
                );
                if cancel {
                    tokio::time::sleep(scaled(4.0, speed)).await;
                    let id = ack["order"]["id"].clone();
                    match conn
                        .request(
                            kind::ORDER_CANCEL,
                            json!({"order_id": id, "reason": "changed my mind"}),
                        )
                        .await
                    {
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
        let orders: Vec<serde_json::Value> = match e.kind.as_str() {
            kind::ORDER_CREATED => vec![e.data["order"].clone()],
            kind::SNAPSHOT => e.data["orders"].as_array().cloned().unwrap_or_default(),
            _ => continue,
        };
        for o in orders {
            let (Some(id), Some(status)) =
                (o["id"].as_u64(), o["status"].as_str().map(str::to_owned))
            else {
                continue;
            };
            if matches!(status.as_str(), "delivered" | "cancelled") {
                continue;
            }
            let prep = o["prep_minutes"].as_f64().unwrap_or(10.0);
            let conn = conn.clone();
            tokio::spawn(async move {
                let steps = [
                    ("preparing", 5.0),
                    ("ready", 20.0 + prep * 2.0),
                    ("delivered", 15.0),
                ];
                let start = steps
                    .iter()
                    .position(|(s, _)| *s == status)
                    .map_or(0, |p| p + 1);
                let start = if status == "pending" { 0 } else { start };
                for (next, secs) in &steps[start..] {
                    tokio::time::sleep(scaled(*secs, speed)).await;
                    if conn
                        .request(kind::ORDER_UPDATE, json!({"order_id": id, "status": next}))
                        .await
                        .is_err()
                    {
                        // Cancelled meanwhile, or already moved by a person at kfood-crew.
                        break;
                    }
                }
            });
        }
    }
}
