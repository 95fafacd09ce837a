//! What the relay's messages do to the app: snapshots and events are folded
//! into the model with [`Model::load_snapshot`] and [`Model::apply`] (the
//! protocol's one definition of each event), and this file adds only what
//! the customer is told about them: a status change on the message line,
//! the bell when an order is ready, a kitchen note, a new announcement.
//!
//! [`Model::load_snapshot`]: kfood_protocol::Model::load_snapshot
//! [`Model::apply`]: kfood_protocol::Model::apply

use kfood_protocol::client::{CachedState, ConnState};
use kfood_protocol::messages::{kind, Announcement, Authenticated, Snapshot};
use kfood_protocol::order::HistoryEntry;
use kfood_protocol::sanitize::clean_line;
use kfood_protocol::term::fmt::money;
use kfood_protocol::{Envelope, ErrorCode, Event, Order, OrderStatus, ProtocolError};

use super::cart::SavedCart;
use super::view::Notice;
use super::{App, AppEvent, Level, Screen};
use crate::cart::CartLine;

/// Notices kept by the program itself (kitchen notes, restart notices):
/// the oldest go first beyond this, so a long session stays small.
const MAX_LOCAL_NOTICES: usize = 100;

/// What the customer was last told of an order, to tell what is news.
struct Before {
    status: OrderStatus,
    newest: Option<HistoryEntry>,
}

impl App {
    pub fn on_event(&mut self, event: AppEvent) {
        match event {
            AppEvent::Relay(ws) => self.relay = ws,
            AppEvent::Conn(c) => {
                if !c.is_connected() {
                    self.synced = self.synced && matches!(c, ConnState::Connecting);
                }
                if c == ConnState::AuthExpired {
                    self.say(
                        Level::Error,
                        "Your login has expired: quit (q) and log in again.",
                    );
                }
                self.conn = c;
            }
            AppEvent::Message(env) => self.on_message(env),
            AppEvent::Synced => self.synced = true,
            AppEvent::Cached(c) => self.restore(&c),
            AppEvent::Reply { id, result } => self.on_reply(&id, result),
        }
    }

    fn on_message(&mut self, env: Envelope) {
        match env.kind.as_str() {
            kind::AUTHENTICATED => {
                if let Ok(a) = env.parse_data::<Authenticated>() {
                    self.user = Some(a.user);
                }
                // A resume replays what was missed and sends no snapshot.
                self.synced = true;
            }
            kind::SNAPSHOT => match env.parse_data::<Snapshot>() {
                Ok(s) => self.load_snapshot(&s),
                Err(e) => tracing::warn!(cause = %e, "unreadable snapshot"),
            },
            kind::ERROR => self.on_error(&env),
            _ => match Event::from_envelope(&env) {
                Ok(Some(ev)) => self.on_relay_event(env.seq, &ev),
                // The relay's notice before it restarts: kept here, as the
                // relay keeps no record of it.
                Ok(None) if env.kind == kind::ANNOUNCEMENT => {
                    match env.parse_data::<Announcement>() {
                        Ok(a) => self.add_local_notice(notice_of(&a)),
                        Err(e) => tracing::warn!(cause = %e, "unreadable notice"),
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(cause = %e, kind = %env.kind, "unreadable event"),
            },
        }
    }

    fn on_error(&mut self, env: &Envelope) {
        let e = env
            .parse_data::<ProtocolError>()
            .unwrap_or_else(|_| ProtocolError::internal("unreadable error"));
        if matches!(e.code, ErrorCode::TokenExpired | ErrorCode::AuthFailed) {
            self.conn = ConnState::AuthExpired;
        }
        let text = format!("Relay: {}: {}", e.code, clean_line(&e.message));
        self.say(Level::Error, text);
    }

    /// Folds a durable event into the model, then tells the customer what
    /// is news in it. An event the model already has (by seq) is skipped.
    fn on_relay_event(&mut self, seq: Option<u64>, ev: &Event) {
        let before = ev.order().and_then(|o| self.order(o.id)).map(|o| Before {
            status: o.status,
            newest: o.history.last().cloned(),
        });
        let known_announcement =
            matches!(ev, Event::Announcement(a) if self.model.announcements.contains_key(&a.id));
        let applied = match seq {
            Some(seq) => self.model.apply_at(seq, ev),
            None => {
                self.model.apply(ev);
                true
            }
        };
        if !applied {
            return;
        }
        match ev {
            Event::OrderUpdate(d)
            | Event::OrderCreated(d)
            | Event::OrderModified(d)
            | Event::OrderCancelled(d) => {
                if let Some(before) = before {
                    let note_event = matches!(ev, Event::OrderUpdate(_));
                    self.order_news(&before, &d.order, note_event);
                }
            }
            Event::MenuUpdate(_) => self.clamp_menu(),
            Event::Announcement(a) if !known_announcement => {
                let text = one_line(&a.text);
                self.say(Level::Info, format!("Notice: {text}"));
                if self.screen == Screen::Notifications {
                    self.mark_read();
                }
            }
            Event::PaymentRefunded(p) => {
                let code = kfood_protocol::order::order_code(p.order_id);
                let text = format!(
                    "{code}: {} refunded to the card ending {}.",
                    money(p.payment.amount_cents),
                    clean_line(&p.payment.last4)
                );
                self.say(Level::Info, text);
            }
            _ => {}
        }
    }

    /// Tells the customer what changed on an order they already knew: a new
    /// status (the bell when ready), or a kitchen note. A line marked done
    /// changes only the progress drawn on the order: no message per mark.
    fn order_news(&mut self, before: &Before, o: &Order, note_event: bool) {
        let code = clean_line(&o.code);
        if before.status != o.status {
            match o.status {
                OrderStatus::Ready => {
                    self.bell = true;
                    self.say(Level::Ready, format!("{code} is READY!"));
                }
                OrderStatus::Preparing => {
                    self.say(Level::Good, format!("{code} is being prepared."))
                }
                OrderStatus::Delivered => {
                    self.say(Level::Good, format!("{code} delivered. Enjoy!"))
                }
                OrderStatus::Cancelled => self.say(Level::Info, format!("{code} was cancelled.")),
                OrderStatus::Pending if before.status == OrderStatus::Scheduled => {
                    self.say(Level::Info, format!("{code} went to the kitchen."))
                }
                OrderStatus::Pending => self.say(Level::Info, format!("{code} is pending again.")),
                OrderStatus::Scheduled => self.say(Level::Info, format!("{code} is scheduled.")),
            }
            return;
        }
        // A kitchen note (DESIGN §13): a new newest history entry with a
        // note and the status the order already had.
        let newest = o.history.last();
        let note = newest
            .filter(|h| note_event && Some(*h) != before.newest.as_ref())
            .filter(|h| h.status == before.status)
            .and_then(|h| h.note.as_deref());
        let Some(note) = note else {
            return;
        };
        let text = clean_line(note);
        self.say(Level::Info, format!("{code} Kitchen: {text}"));
        let at = newest.map(|h| h.at.clone()).unwrap_or_default();
        let from = newest.map(|h| h.by.name.clone()).unwrap_or_default();
        self.add_local_notice(Notice {
            id: 0,
            kind: "kitchen".into(),
            text: format!("{code}: {text}"),
            created_at: at,
            from,
            unread: true,
        });
    }

    /// A notice the relay does not keep goes on the Notifications screen.
    fn add_local_notice(&mut self, mut n: Notice) {
        if n.kind != "kitchen" {
            let text = one_line(&n.text);
            self.say(Level::Info, format!("Notice: {text}"));
        }
        n.unread = self.screen != Screen::Notifications;
        self.local_notices.push(n);
        if self.local_notices.len() > MAX_LOCAL_NOTICES {
            self.local_notices.remove(0);
        }
    }

    /// Puts the cached state on screen: the cart and read marks as saved,
    /// the model as last known (stale until the relay confirms it).
    pub fn restore(&mut self, c: &CachedState) {
        let saved = &c.entry.cart;
        if let Ok(s) = serde_json::from_value::<SavedCart>(saved.clone()) {
            self.cart = s.lines;
            self.read_upto = s.read_upto;
        } else if let Ok(lines) = serde_json::from_value::<Vec<CartLine>>(saved.clone()) {
            self.cart = lines;
        }
        if self.model.head_seq == 0 && self.model.menu.is_empty() {
            self.model = c.entry.model.clone();
            self.clamp_menu();
        }
    }

    /// Replaces what the relay told us with its snapshot; the cart, the
    /// read marks and the program's own notices stay.
    pub fn load_snapshot(&mut self, s: &Snapshot) {
        self.model.load_snapshot(s);
        self.clamp_menu();
        if self.screen == Screen::Notifications {
            self.mark_read();
        }
        self.synced = true;
    }
}

/// A notice from an announcement the relay does not keep.
fn notice_of(a: &Announcement) -> Notice {
    Notice {
        id: 0,
        kind: format!("{:?}", a.kind).to_lowercase(),
        text: a.text.clone(),
        created_at: a.created_at.clone(),
        from: a.by.name.clone(),
        unread: true,
    }
}

/// Text from the relay on one line, for the message line.
fn one_line(s: &str) -> String {
    kfood_protocol::sanitize::clean_text(s).replace(['\n', '\t'], " ")
}
