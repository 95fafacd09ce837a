//! The local cache (DESIGN §11): per user, the last seq, the relay's
//! `log_id`, what the user knows of the restaurant (a [`Model`] folded with
//! the same `apply` as everything else) and the customer's cart, so that a
//! restarted program shows the last known state at once and resumes from
//! there.
//!
//! One JSON file per user id, keyed inside by `log_id`: the relays of one
//! cluster share a `log_id`, so a client that fails over keeps its cache; a
//! cache of another log is dropped and its seq never sent. Files are written whole to a temporary name and renamed, so a
//! crash leaves the old file or the new one, never half of one. Nothing is
//! ever priced or ordered from the cache: prices come from the relay.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ClientError;
use crate::envelope::Envelope;
use crate::event::Event;
use crate::messages::Snapshot;
use crate::model::Model;
use crate::time::{format_ms, now_ms, parse_ms, Millis};

/// Version of the file layout; a file of another version is ignored.
pub const CACHE_FORMAT: u32 = 2;

/// `dirs::cache_dir()/kfood`: `~/.cache/kfood` on Linux.
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("kfood"))
}

/// What one cache file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub format: u32,
    /// The relay last used (for a person reading the file; the key is the
    /// user and the `log_id`).
    pub relay: String,
    pub user_id: String,
    /// The relay log this state comes from; `None` until the relay said.
    pub log_id: Option<String>,
    /// Last durable event reflected here: the `since` of the next connection.
    pub last_seq: Option<u64>,
    /// When the file was written, RFC 3339.
    pub written_at: String,
    /// What the user knows: menu, visible orders, announcements, alerts.
    pub model: Model,
    /// Whatever the customer program keeps as its cart; opaque here.
    #[serde(default)]
    pub cart: Value,
}

impl CacheEntry {
    pub fn new(relay: &str, user_id: &str) -> Self {
        CacheEntry {
            format: CACHE_FORMAT,
            relay: relay.to_owned(),
            user_id: user_id.to_owned(),
            log_id: None,
            last_seq: None,
            written_at: format_ms(now_ms()),
            model: Model::default(),
            cart: Value::Null,
        }
    }

    pub fn written_at_ms(&self) -> Option<Millis> {
        parse_ms(&self.written_at)
    }

    /// Another log (or another user): what the relay told us no longer
    /// holds. The cart is the customer's own and is kept: it is re-priced by
    /// the relay before anything is ordered.
    pub fn reset(&mut self, log_id: Option<String>) {
        self.log_id = log_id;
        self.last_seq = None;
        self.model = Model::default();
    }

    /// A `snapshot`'s `data` replaces what the user knows.
    pub fn apply_snapshot(&mut self, data: &Value) {
        match crate::envelope::parse_value::<Snapshot>(data.clone()) {
            Ok(snap) => {
                self.model.load_snapshot(&snap);
                self.last_seq = Some(snap.head_seq);
            }
            Err(e) => tracing::warn!(cause = %e, "cache: unreadable snapshot"),
        }
    }

    /// A durable event, handed over for the first time.
    pub fn apply_event(&mut self, env: &Envelope) {
        match Event::from_envelope(env) {
            Ok(Some(ev)) => {
                let closes = ev.order().is_some_and(|o| o.status.is_final());
                self.model.apply(&ev);
                if closes {
                    self.model.prune_closed_orders(now_ms());
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(cause = %e, kind = %env.kind, "cache: unreadable event"),
        }
        if let Some(s) = env.seq {
            self.last_seq = Some(s);
            self.model.head_seq = s;
        }
    }
}

/// The cache as the program sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedState {
    pub entry: CacheEntry,
    /// Older than the TTL and not confirmed by the relay since: draw it
    /// marked `stale`.
    pub stale: bool,
    /// Milliseconds since the relay last confirmed it (or since it was written).
    pub age_ms: i64,
}

/// Whether state last known good at `fresh_at_ms` is stale at `now_ms`.
pub fn is_stale(fresh_at_ms: Millis, now_ms: Millis, ttl: Duration) -> bool {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    now_ms.saturating_sub(fresh_at_ms) > ttl_ms
}

/// 64-bit FNV-1a: stable across builds and platforms (std's hasher is not
/// promised to be), which a file name must be.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `kim-1f2e3d4c5b6a7988.json`: the user id (made file-safe, for a person
/// looking at the directory) and a hash of the user id. The relay is not
/// part of the name: every relay of a cluster serves the same log.
pub fn cache_file_name(user_id: &str) -> String {
    let readable: String = user_id
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{readable}-{:016x}.json", fnv1a(user_id.as_bytes()))
}

pub fn cache_path(dir: &Path, user_id: &str) -> PathBuf {
    dir.join(cache_file_name(user_id))
}

/// Reads the entry at `path` if it exists and belongs to `user_id` (whether
/// its `log_id` still holds is decided when the relay says its own).
pub fn load(path: &Path, user_id: &str) -> Result<Option<CacheEntry>, ClientError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ClientError::Cache(format!("{}: {e}", path.display()))),
    };
    let entry: CacheEntry = serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Cache(format!("{}: {e}", path.display())))?;
    if entry.format != CACHE_FORMAT || entry.user_id != user_id {
        return Ok(None);
    }
    Ok(Some(entry))
}

/// Writes `entry` to `path` atomically (temporary file, then rename).
pub fn store(path: &Path, entry: &CacheEntry) -> Result<(), ClientError> {
    let fail = |e: std::io::Error| ClientError::Cache(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let bytes = serde_json::to_vec(entry).map_err(|e| ClientError::Cache(e.to_string()))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // Orders name people; the cache is for this user's eyes.
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(fail)
}

/// The cache of one running client: the entry in memory, where it goes on
/// disk, and what the relay last confirmed.
#[derive(Debug)]
pub(crate) struct CacheSlot {
    pub path: PathBuf,
    pub entry: CacheEntry,
    pub ttl: Duration,
    /// Changed since the last write.
    pub dirty: bool,
    /// When the relay last confirmed the state (caught up, or heard from
    /// since), unix ms.
    pub confirmed_ms: Option<Millis>,
}

impl CacheSlot {
    /// Opens the cache of `user_id` at `relay` in `dir`; an unreadable file
    /// is logged and replaced.
    pub fn open(dir: &Path, relay: &str, user_id: &str, ttl: Duration) -> CacheSlot {
        let path = cache_path(dir, user_id);
        let entry = match load(&path, user_id) {
            Ok(Some(mut e)) => {
                e.relay = relay.to_owned();
                e
            }
            Ok(None) => CacheEntry::new(relay, user_id),
            Err(e) => {
                tracing::warn!(cause = %e, "cache: ignoring an unreadable cache file");
                CacheEntry::new(relay, user_id)
            }
        };
        CacheSlot {
            path,
            entry,
            ttl,
            dirty: false,
            confirmed_ms: None,
        }
    }

    /// Whether the file held anything from the relay.
    pub fn has_state(&self) -> bool {
        self.entry.log_id.is_some()
    }

    pub fn view(&self, now: Millis) -> CachedState {
        let written = self.entry.written_at_ms().unwrap_or(0);
        let fresh_at = self.confirmed_ms.map_or(written, |c| c.max(written));
        CachedState {
            entry: self.entry.clone(),
            stale: is_stale(fresh_at, now, self.ttl),
            age_ms: now.saturating_sub(fresh_at).max(0),
        }
    }

    /// Writes the entry if it changed.
    pub fn flush(&mut self) -> Result<(), ClientError> {
        if !self.dirty {
            return Ok(());
        }
        self.entry.written_at = format_ms(now_ms());
        self.dirty = false;
        store(&self.path, &self.entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn menu_item(id: &str, category: &str, price: i64) -> Value {
        json!({"id": id, "name": id, "category": category, "description": "",
               "price_cents": price, "available": true, "prep_minutes": 10})
    }

    fn order(id: u64, status: &str) -> Value {
        let at = format_ms(now_ms());
        json!({
            "id": id, "code": crate::order::order_code(id), "client_order_id": format!("c{id}"),
            "customer": {"id": "ann", "name": "Ann"},
            "lines": [{"item_id": "bibimbap", "name": "Bibimbap", "qty": 1, "unit_price_cents": 1200, "notes": ""}],
            "instructions": "", "fulfillment": {"kind": "pickup"}, "status": status,
            "subtotal_cents": 1200, "discount_cents": 0, "total_cents": 1200,
            "payment": {"method": "card", "status": "paid"},
            "prep_minutes": 10, "delivery_minutes": 0, "eta": null,
            "created_at": at, "updated_at": at,
            "history": []
        })
    }

    fn event(kind: &str, seq: u64, data: Value) -> Envelope {
        let mut e = Envelope::new(kind, data);
        e.seq = Some(seq);
        e
    }

    fn snapshot() -> Value {
        json!({
            "menu": [menu_item("bibimbap", "rice", 1200), menu_item("tteokbokki", "street", 900)],
            "orders": [order(1, "pending"), order(2, "delivered")],
            "announcements": [], "head_seq": 10, "reset": false
        })
    }

    #[test]
    fn snapshot_and_events_maintain_orders_and_menu() {
        let mut c = CacheEntry::new("ws://h/ws", "ann");
        c.apply_snapshot(&snapshot());
        assert_eq!(c.last_seq, Some(10));
        assert_eq!(c.model.orders.len(), 2);
        assert_eq!(c.model.menu.len(), 2);

        c.apply_event(&event(
            "order_update",
            11,
            json!({"order_id": 1, "status": "preparing", "order": order(1, "preparing")}),
        ));
        assert_eq!(c.model.orders[&1].status, crate::OrderStatus::Preparing);
        c.apply_event(&event(
            "order_created",
            12,
            json!({"order_id": 3, "status": "pending", "order": order(3, "pending")}),
        ));
        assert_eq!(c.model.orders.len(), 3);

        c.apply_event(&event(
            "payment_refunded",
            13,
            json!({"order_id": 3, "client_order_id": "c3", "payment": {
                "method": "card", "status": "refunded", "id": "pay_1", "brand": "visa",
                "last4": "4242", "amount_cents": 1200}}),
        ));
        assert_eq!(
            c.model.orders[&3].payment.status,
            crate::order::PaymentStatus::Refunded
        );
        assert_eq!(c.model.orders[&3].payment.last4.as_deref(), Some("4242"));

        // Upsert of a new item lands after the last of its category.
        c.apply_event(&event(
            "menu_update",
            14,
            json!({"op": "upsert", "item": menu_item("kimbap", "rice", 800)}),
        ));
        let ids: Vec<&str> = c.model.menu.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["bibimbap", "kimbap", "tteokbokki"]);
        let mut sold_out = menu_item("bibimbap", "rice", 1200);
        sold_out["available"] = json!(false);
        c.apply_event(&event(
            "menu_update",
            15,
            json!({"op": "set_available", "item": sold_out}),
        ));
        assert!(!c.model.menu[0].available);
        c.apply_event(&event(
            "menu_update",
            16,
            json!({"op": "remove", "item": {"id": "tteokbokki"}}),
        ));
        assert_eq!(c.model.menu.len(), 2);
        // Events without orders or menu only move the seq.
        c.apply_event(&event(
            "promo_update",
            17,
            json!({"code": "X", "active": true, "percent_off": 5, "expires_at": null}),
        ));
        assert_eq!(c.last_seq, Some(17));
        // A broken event changes nothing but the seq.
        c.apply_event(&event("order_update", 18, json!({"order": {"id": "x"}})));
        assert_eq!(c.model.orders.len(), 3);
    }

    #[test]
    fn closed_orders_are_pruned_to_the_most_recent() {
        let mut c = CacheEntry::new("ws://h/ws", "kim");
        let max = crate::limits::SNAPSHOT_CLOSED_ORDERS;
        let total = max as u64 + 5;
        for id in 1..=total {
            c.apply_event(&event(
                "order_cancelled",
                id,
                json!({"order_id": id, "status": "cancelled", "order": order(id, "cancelled")}),
            ));
        }
        c.apply_event(&event(
            "order_created",
            total + 1,
            json!({"order_id": 0, "status": "pending", "order": order(0, "pending")}),
        ));
        assert_eq!(c.model.orders.len(), max + 1);
        assert!(c.model.orders.contains_key(&0), "open orders stay");
        assert!(!c.model.orders.contains_key(&1), "the oldest closed go");
        assert!(c.model.orders.contains_key(&total));
    }

    #[test]
    fn write_read_round_trip_and_atomic_replace() {
        let dir = tempfile::tempdir().unwrap();
        let path = cache_path(dir.path(), "ann");
        let mut c = CacheEntry::new("ws://h/ws", "ann");
        c.log_id = Some("log-a".into());
        c.apply_snapshot(&snapshot());
        c.cart = json!({"lines": [{"item_id": "bibimbap", "qty": 2}]});
        store(&path, &c).unwrap();
        assert_eq!(load(&path, "ann").unwrap(), Some(c.clone()));
        // Another user with the same file name (a collision) is not ours.
        assert_eq!(load(&path, "bob").unwrap(), None);
        // Replacing leaves no temporary files behind.
        c.last_seq = Some(99);
        store(&path, &c).unwrap();
        assert_eq!(load(&path, "ann").unwrap().unwrap().last_seq, Some(99));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A missing file is no cache; garbage is an error the slot logs and replaces.
        assert_eq!(load(&dir.path().join("none.json"), "u").unwrap(), None);
        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(load(&path, "ann"), Err(ClientError::Cache(_))));
        let slot = CacheSlot::open(dir.path(), "ws://h/ws", "ann", DEFAULT_TTL);
        assert!(!slot.has_state());
    }

    const DEFAULT_TTL: Duration = Duration::from_secs(300);

    #[test]
    fn file_names_are_keyed_by_user() {
        let a = cache_file_name("kim");
        assert!(a.starts_with("kim-") && a.ends_with(".json"), "{a}");
        assert_eq!(a, cache_file_name("kim"), "stable");
        assert_ne!(a, cache_file_name("kim2"));
        let odd = cache_file_name("../Évil/..");
        assert!(!odd.contains('/'), "{odd}");
        assert!(odd.starts_with("..__vil_..-"), "{odd}");
    }

    #[test]
    fn staleness_follows_the_ttl_and_confirmation() {
        let ttl = Duration::from_secs(300);
        assert!(!is_stale(1_000, 1_000 + 300_000, ttl));
        assert!(is_stale(1_000, 1_000 + 300_001, ttl));
        assert!(
            !is_stale(5_000, 1_000, ttl),
            "a clock step back is not stale"
        );

        let dir = tempfile::tempdir().unwrap();
        let mut slot = CacheSlot::open(dir.path(), "ws://h/ws", "ann", ttl);
        slot.entry.log_id = Some("log-a".into());
        slot.entry.written_at = format_ms(now_ms() - 301_000);
        let v = slot.view(now_ms());
        assert!(v.stale && v.age_ms >= 301_000, "{v:?}");
        // Confirmed by the relay: fresh again, whatever the file's age.
        slot.confirmed_ms = Some(now_ms());
        assert!(!slot.view(now_ms()).stale);
        // Writing refreshes written_at.
        slot.confirmed_ms = None;
        slot.dirty = true;
        slot.flush().unwrap();
        assert!(!slot.dirty);
        let again = CacheSlot::open(dir.path(), "ws://h/ws", "ann", ttl);
        assert!(again.has_state());
        assert!(!again.view(now_ms()).stale);
        // Not dirty: nothing is written.
        std::fs::remove_file(&slot.path).unwrap();
        slot.flush().unwrap();
        assert!(!slot.path.exists());
    }

    #[test]
    fn reset_drops_relay_state_but_keeps_the_cart() {
        let mut c = CacheEntry::new("ws://h/ws", "ann");
        c.log_id = Some("log-a".into());
        c.apply_snapshot(&snapshot());
        c.cart = json!(["bibimbap"]);
        c.reset(Some("log-b".into()));
        assert_eq!(c.log_id.as_deref(), Some("log-b"));
        assert_eq!(c.last_seq, None);
        assert_eq!(c.model, Model::default());
        assert_eq!(c.cart, json!(["bibimbap"]));
    }
}
