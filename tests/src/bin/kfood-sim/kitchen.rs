//! The kitchen of `kfood-sim demo --stations` (DESIGN §13): one bot per
//! station cooking its own lines and marking each done with `line_done`, and
//! an expo bot that bumps a ticket to `ready` once every line is done, then
//! hands it over. Someone watching `kfood-crew` sees tickets come together.
//!
//! Each bot keeps its own board from its snapshot and the order events, and
//! acts on its own clock; a refusal (the customer cancelled meanwhile, a
//! person at `kfood-crew` was quicker) is printed and the bot moves on.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use kfood_protocol::menu::MenuItem;
use kfood_protocol::messages::{kind, LineDone, Snapshot};
use kfood_protocol::{Envelope, Event, Order, OrderStatus, Request, Role};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::conn::SimConn;
use crate::demo::scaled;
use crate::tokens::Minter;
use crate::wire::{durable, status_update};
use crate::Target;

/// How long the expo's first snapshot may take after it connects.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(20);
/// Closed orders a board remembers, to say why a cook stopped on a ticket.
const CLOSED_KEPT: usize = 64;

/// The lines of `order` that `station` still has to make: its unmarked lines
/// while the order is `pending` or `preparing` (what `kfood-crew --station`
/// shows).
pub fn open_lines(order: &Order, station: &str) -> Vec<usize> {
    if !matches!(order.status, OrderStatus::Pending | OrderStatus::Preparing) {
        return Vec::new();
    }
    order
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.station == station && l.done.is_none())
        .map(|(i, _)| i)
        .collect()
}

/// What the expo does next with `order`: a `preparing` ticket whose lines
/// are all done goes to `ready`, a `ready` one is handed over (`delivered`).
pub fn expo_next(order: &Order) -> Option<OrderStatus> {
    match order.status {
        OrderStatus::Preparing if order.all_done() => Some(OrderStatus::Ready),
        OrderStatus::Ready => Some(OrderStatus::Delivered),
        _ => None,
    }
}

/// The stations the menu uses, each once, in menu order.
pub fn menu_stations(menu: &[MenuItem]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in menu {
        if !out.contains(&item.station) {
            out.push(item.station.clone());
        }
    }
    out
}

/// How long a cook takes over a line: 3–8 s, more for a bigger quantity.
fn cook_secs(rng: &mut impl Rng, qty: u32) -> f64 {
    rng.gen_range(3.0..8.0) * (0.5 + 0.5 * f64::from(qty.max(1)))
}

/// The open orders one bot knows, kept current from the snapshot, the order
/// events and its own acks.
#[derive(Default)]
struct Board {
    orders: BTreeMap<u64, Order>,
    /// The latest orders that left the board, with how they closed.
    closed: VecDeque<(u64, OrderStatus)>,
}

impl Board {
    /// Takes in what the relay sent: a snapshot replaces the board, an order
    /// event replaces that order; the rest is ignored.
    fn absorb(&mut self, e: &Envelope) {
        if e.kind == kind::SNAPSHOT {
            match e.parse_data::<Snapshot>() {
                Ok(s) => {
                    self.orders.clear();
                    s.orders.into_iter().for_each(|o| self.put(o));
                }
                Err(err) => tracing::warn!(cause = %err, "unreadable snapshot"),
            }
            return;
        }
        if let Some(
            Event::OrderCreated(x)
            | Event::OrderUpdate(x)
            | Event::OrderModified(x)
            | Event::OrderCancelled(x),
        ) = durable(e)
        {
            self.put(x.order);
        }
    }

    /// Keeps `o` while the kitchen still has something to do with it.
    fn put(&mut self, o: Order) {
        if o.status.is_final() {
            self.orders.remove(&o.id);
            if self.closed.len() == CLOSED_KEPT {
                self.closed.pop_front();
            }
            self.closed.push_back((o.id, o.status));
        } else {
            self.orders.insert(o.id, o);
        }
    }

    /// How order `id` closed, if it did lately.
    fn closed_as(&self, id: u64) -> Option<OrderStatus> {
        self.closed
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|(_, s)| *s)
    }
}

/// Sleeps until `due`, or forever when there is nothing to wait for.
async fn wake_at(due: Option<Instant>) {
    match due {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Connects the expo and one bot per station (`stations` empty: every
/// station of the menu) and starts them.
pub async fn start(
    target: &Target,
    minter: &Minter,
    stations: &[String],
    speed: f64,
) -> anyhow::Result<Vec<JoinHandle<()>>> {
    let token = minter.token("demo-expo", "Expo", Role::Crew)?;
    let (expo_conn, mut expo_events) = SimConn::connect(target, token, Role::Crew).await?;
    let mut board = Board::default();
    let snapshot = tokio::time::timeout(SNAPSHOT_TIMEOUT, async {
        while let Some(e) = expo_events.recv().await {
            board.absorb(&e);
            if e.kind == kind::SNAPSHOT {
                return e.parse_data::<Snapshot>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(snapshot) = snapshot else {
        anyhow::bail!("the relay sent no readable snapshot within {SNAPSHOT_TIMEOUT:?}");
    };
    let in_menu = menu_stations(&snapshot.menu);
    let stations = if stations.is_empty() {
        in_menu.clone()
    } else {
        stations.to_vec()
    };
    for s in &stations {
        kfood_protocol::menu::validate_station("stations", s).map_err(anyhow::Error::msg)?;
        if !in_menu.contains(s) {
            println!("no menu item is made at {s}: its bot will have nothing to do");
        }
    }
    println!("expo bot connected; stations: {}", stations.join(", "));
    let mut tasks = vec![tokio::spawn(expo_bot(expo_conn, expo_events, board, speed))];
    for s in stations {
        let token = minter.token(&format!("demo-{s}"), &format!("{s} cook"), Role::Crew)?;
        let (conn, events) = SimConn::connect(target, token, Role::Crew).await?;
        println!("station bot {s} connected");
        tasks.push(tokio::spawn(station_bot(conn, events, s, speed)));
    }
    Ok(tasks)
}

/// A line a station bot is making.
struct Job {
    order_id: u64,
    line: usize,
    /// `K-0012 1x Bulgogi`, for the log.
    what: String,
    due: Instant,
}

/// Why the job's line no longer needs making, if it does not: the ticket
/// closed (cancelled, or handed over at a kfood-crew board), moved on, or
/// someone marked the line at another screen.
fn stop_reason(board: &Board, station: &str, j: &Job) -> Option<String> {
    let Some(o) = board.orders.get(&j.order_id) else {
        return Some(match board.closed_as(j.order_id) {
            Some(s) => s.to_string(),
            None => "off the board".to_owned(),
        });
    };
    if open_lines(o, station).contains(&j.line) {
        return None;
    }
    let marked = o.lines.get(j.line).is_some_and(|l| l.done.is_some());
    Some(if marked {
        "marked at another screen".to_owned()
    } else {
        o.status.to_string()
    })
}

/// Whether the mark on `line` is what started `order`: marking a line of a
/// pending order moves it to `preparing`, by who marked, at the mark's time.
fn mark_started(order: &Order, line: usize) -> bool {
    let Some(mark) = order.lines.get(line).and_then(|l| l.done.as_ref()) else {
        return false;
    };
    order
        .history
        .iter()
        .rev()
        .find(|h| h.status == OrderStatus::Preparing)
        .is_some_and(|h| h.at == mark.at && h.by == mark.by)
}

/// One cook at `station`: takes the oldest ticket with a line of its
/// station still open, makes that line, marks it done, and so on.
async fn station_bot(
    conn: SimConn,
    mut events: mpsc::Receiver<Envelope>,
    station: String,
    speed: f64,
) {
    let mut board = Board::default();
    let mut job: Option<Job> = None;
    // Lines this cook marked whose event has not come yet: the board only
    // changes with the relay's events (they arrive in order, an ack may
    // overtake them), so these must not be picked again meanwhile.
    let mut marked: HashSet<(u64, usize)> = HashSet::new();
    loop {
        if job.is_none() {
            job = board.orders.values().find_map(|o| {
                let line = open_lines(o, &station)
                    .into_iter()
                    .find(|l| !marked.contains(&(o.id, *l)))?;
                let l = &o.lines[line];
                let secs = cook_secs(&mut rand::thread_rng(), l.qty);
                Some(Job {
                    order_id: o.id,
                    line,
                    what: format!("{} {}x {}", o.code, l.qty, l.name),
                    due: Instant::now() + scaled(secs, speed),
                })
            });
        }
        tokio::select! {
            e = events.recv() => match e {
                Some(e) => {
                    board.absorb(&e);
                    marked.retain(|(id, line)| {
                        board.orders.get(id).is_some_and(|o| open_lines(o, &station).contains(line))
                    });
                    // A cook stops as soon as the ticket no longer needs the line.
                    if let Some(j) = &job {
                        if let Some(why) = stop_reason(&board, &station, j) {
                            println!("{station}: stopped {} ({why})", j.what);
                            job = None;
                        }
                    }
                }
                None => break,
            },
            () = wake_at(job.as_ref().map(|j| j.due)) => {
                if let Some(j) = job.take() {
                    if mark_done(&conn, &board, &station, &j).await {
                        marked.insert((j.order_id, j.line));
                    }
                }
            }
        }
    }
}

/// Marks the job's line done, unless the ticket changed meanwhile; says
/// whether the relay took the mark.
async fn mark_done(conn: &SimConn, board: &Board, station: &str, j: &Job) -> bool {
    if let Some(why) = stop_reason(board, station, j) {
        println!("{station}: stopped {} ({why})", j.what);
        return false;
    }
    let what = &j.what;
    let req = Request::LineDone(LineDone {
        order_id: j.order_id,
        line: j.line,
        done: true,
    });
    match conn.request(&req).await {
        Ok(ack) => {
            let after = ack.get::<Order>("order");
            let tail = match after
                .as_ref()
                .map(|o| (o.status, o.lines_done(), o.lines.len()))
            {
                Some((OrderStatus::Ready, _, _)) => " (all done: ready)".to_owned(),
                Some((_, d, n)) if after.as_ref().is_some_and(|o| mark_started(o, j.line)) => {
                    format!(" (ticket started, {d} of {n})")
                }
                Some((_, d, n)) => format!(" ({d} of {n})"),
                None => String::new(),
            };
            println!("{station}: {what} done{tail}");
            true
        }
        Err(code) => {
            println!("{station}: {what} not marked ({code})");
            false
        }
    }
}

/// A bump the expo has planned.
struct Bump {
    order_id: u64,
    to: OrderStatus,
    due: Instant,
}

/// The expo: checks the tickets whose lines are all done and bumps them to
/// `ready`, then hands ready orders over.
async fn expo_bot(
    conn: SimConn,
    mut events: mpsc::Receiver<Envelope>,
    mut board: Board,
    speed: f64,
) {
    let mut planned: Vec<Bump> = Vec::new();
    loop {
        // The board changes only with the relay's events: a bump that no
        // longer applies (sent already, cancelled, done at a kfood-crew
        // board) is dropped, and each due one is checked again when sent.
        planned.retain(|b| board.orders.get(&b.order_id).and_then(expo_next) == Some(b.to));
        for o in board.orders.values() {
            let Some(to) = expo_next(o) else { continue };
            if planned.iter().any(|b| b.order_id == o.id && b.to == to) {
                continue;
            }
            let secs = match to {
                OrderStatus::Ready => rand::thread_rng().gen_range(2.0..5.0),
                _ => rand::thread_rng().gen_range(10.0..20.0),
            };
            planned.push(Bump {
                order_id: o.id,
                to,
                due: Instant::now() + scaled(secs, speed),
            });
        }
        let next = planned.iter().map(|b| b.due).min();
        tokio::select! {
            e = events.recv() => match e {
                Some(e) => board.absorb(&e),
                None => break,
            },
            () = wake_at(next) => {
                let now = Instant::now();
                let (due, later): (Vec<Bump>, Vec<Bump>) =
                    planned.drain(..).partition(|b| b.due <= now);
                planned = later;
                for b in due {
                    bump(&conn, &board, &b).await;
                }
            }
        }
    }
}

/// Sends the planned bump, unless the order moved on meanwhile.
async fn bump(conn: &SimConn, board: &Board, b: &Bump) {
    let Some(order) = board.orders.get(&b.order_id) else {
        // Cancelled, or handed over at a kfood-crew board.
        return;
    };
    if expo_next(order) != Some(b.to) {
        return;
    }
    let code = order.code.clone();
    let lines = order.lines.len();
    match conn.request(&status_update(b.order_id, b.to)).await {
        Ok(_) => match b.to {
            OrderStatus::Ready => {
                println!("expo: {code} all done ({lines} of {lines}), bumped to ready")
            }
            _ => println!("expo: {code} handed over, delivered"),
        },
        Err(c) => println!("expo: {code} not bumped to {} ({c})", b.to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kfood_protocol::order::LineMark;
    use kfood_protocol::UserRef;

    /// An order as the relay serves it, lines given as `(station, done)`.
    fn order(status: OrderStatus, lines: &[(&str, bool)]) -> Order {
        let lines: Vec<serde_json::Value> = lines
            .iter()
            .map(|(station, done)| {
                let mark = done.then(|| LineMark {
                    at: "2026-01-01T12:00:00Z".into(),
                    by: UserRef {
                        id: "c".into(),
                        name: "Cook".into(),
                        role: Role::Crew,
                    },
                });
                serde_json::json!({"item_id": "bulgogi", "name": "Bulgogi", "qty": 1,
                    "unit_price_cents": 1500, "station": station, "done": mark})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": 12, "code": "K-0012", "client_order_id": "x",
            "customer": {"id": "u", "name": "Jiwoo"}, "lines": lines, "instructions": "",
            "fulfillment": {"kind": "pickup"}, "status": status,
            "subtotal_cents": 1500, "discount_cents": 0, "total_cents": 1500,
            "payment": {"method": "cash", "status": "due"}, "prep_minutes": 10,
            "delivery_minutes": 25, "eta": null, "created_at": "2026-01-01T12:00:00Z",
            "updated_at": "2026-01-01T12:00:00Z", "history": []
        }))
        .expect("a well-formed order")
    }

    /// A station's open lines are its own unmarked ones, and only while the order is being made.
    #[test]
    fn open_lines_are_the_stations_unmarked_lines_of_an_order_in_the_making() {
        let lines = [
            ("grill", false),
            ("wok", false),
            ("grill", true),
            ("grill", false),
        ];
        let o = order(OrderStatus::Preparing, &lines);
        assert_eq!(open_lines(&o, "grill"), vec![0, 3]);
        assert_eq!(open_lines(&o, "wok"), vec![1]);
        assert!(open_lines(&o, "drinks").is_empty());
        assert_eq!(
            open_lines(&order(OrderStatus::Pending, &lines), "grill"),
            vec![0, 3]
        );
        for s in [
            OrderStatus::Ready,
            OrderStatus::Delivered,
            OrderStatus::Cancelled,
        ] {
            assert!(open_lines(&order(s, &lines), "grill").is_empty(), "{s}");
        }
    }

    /// The expo bumps only a preparing ticket whose lines are all done, and hands over ready ones.
    #[test]
    fn expo_bumps_all_done_tickets_and_hands_over_ready_ones() {
        let all = [("grill", true), ("drinks", true)];
        let half = [("grill", true), ("drinks", false)];
        assert_eq!(
            expo_next(&order(OrderStatus::Preparing, &all)),
            Some(OrderStatus::Ready)
        );
        assert_eq!(expo_next(&order(OrderStatus::Preparing, &half)), None);
        assert_eq!(expo_next(&order(OrderStatus::Pending, &half)), None);
        assert_eq!(
            expo_next(&order(OrderStatus::Ready, &all)),
            Some(OrderStatus::Delivered)
        );
        assert_eq!(expo_next(&order(OrderStatus::Delivered, &all)), None);
        assert_eq!(expo_next(&order(OrderStatus::Cancelled, &all)), None);
        assert_eq!(expo_next(&order(OrderStatus::Preparing, &[])), None);
    }

    /// A cook keeps a line while it is open, and says why it stopped: the ticket cancelled, or the line marked elsewhere.
    #[test]
    fn a_cook_stops_when_the_ticket_no_longer_needs_the_line() {
        let job = Job {
            order_id: 12,
            line: 0,
            what: "K-0012 1x Bulgogi".into(),
            due: Instant::now(),
        };
        let mut board = Board::default();
        assert_eq!(
            stop_reason(&board, "grill", &job).as_deref(),
            Some("off the board")
        );
        board.put(order(OrderStatus::Pending, &[("grill", false)]));
        assert_eq!(stop_reason(&board, "grill", &job), None);
        board.put(order(OrderStatus::Preparing, &[("grill", true)]));
        assert_eq!(
            stop_reason(&board, "grill", &job).as_deref(),
            Some("marked at another screen")
        );
        board.put(order(OrderStatus::Cancelled, &[("grill", false)]));
        assert!(board.orders.is_empty());
        assert_eq!(
            stop_reason(&board, "grill", &job).as_deref(),
            Some("cancelled")
        );
    }

    /// A mark started the ticket only when the order's move to preparing is that very mark.
    #[test]
    fn a_mark_started_the_ticket_only_when_it_moved_it_to_preparing() {
        let mut o = order(OrderStatus::Preparing, &[("grill", true), ("drinks", true)]);
        let grill = o.lines[0].done.clone().expect("marked");
        o.history.push(kfood_protocol::order::HistoryEntry {
            status: OrderStatus::Preparing,
            at: grill.at.clone(),
            by: grill.by.clone(),
            note: None,
        });
        let mut later = grill.clone();
        later.at = "2026-01-01T12:00:05Z".into();
        o.lines[1].done = Some(later);
        assert!(mark_started(&o, 0));
        assert!(!mark_started(&o, 1));
        o.lines[0].done = None;
        assert!(!mark_started(&o, 0));
    }

    /// The stations come from the menu once each, in menu order.
    #[test]
    fn menu_stations_are_distinct_in_menu_order() {
        let item = |id: &str, station: &str| -> MenuItem {
            serde_json::from_value(serde_json::json!({"id": id, "name": id, "category": "c",
                "description": "", "price_cents": 100, "available": true, "prep_minutes": 5,
                "station": station}))
            .expect("a well-formed item")
        };
        let menu = [
            item("a", "wok"),
            item("b", "grill"),
            item("c", "wok"),
            item("d", "drinks"),
        ];
        assert_eq!(menu_stations(&menu), ["wok", "grill", "drinks"]);
    }

    /// A line takes a cook 3–8 s per piece-ish: more for two than for one, never nothing.
    #[test]
    fn cook_time_grows_with_quantity() {
        let mut rng = rand::thread_rng();
        for _ in 0..100 {
            let one = cook_secs(&mut rng, 1);
            assert!((3.0..8.0).contains(&one), "{one}");
            let two = cook_secs(&mut rng, 2);
            assert!((4.5..12.0).contains(&two), "{two}");
        }
    }
}
