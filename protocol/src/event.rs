//! Durable events (DESIGN §5 "Events", the ones with a `seq`) as one typed
//! value, who may receive each, and what each recipient may see of it.
//!
//! These are the rules of "who sees what": the relay stores every event with
//! its [`Visibility`] and filters live delivery, replay, snapshots and
//! polling with [`Visibility::admits`] and [`Event::view_for`]; clients read
//! the same types.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::capacity::Capacity;
use crate::envelope::Envelope;
use crate::error::ProtocolError;
use crate::menu::{MenuItem, MenuOp, Promo};
use crate::messages::{self as m, kind, Audience};
use crate::Role;

/// One durable event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    OrderCreated(m::OrderEvent),
    OrderUpdate(m::OrderEvent),
    OrderModified(m::OrderEvent),
    OrderCancelled(m::OrderEvent),
    PaymentConfirmed(m::PaymentEvent),
    PaymentFailed(m::PaymentFailed),
    PaymentRefunded(m::PaymentEvent),
    MenuUpdate(MenuChange),
    Announcement(m::Announcement),
    SystemAlert(m::SystemAlert),
    PromoUpdate(Promo),
    /// The kitchen's capacity setting after a `capacity_set` (DESIGN §14).
    CapacityUpdate(Capacity),
}

/// `menu_update`'s `data`: `{op, item}`, the whole item after the change,
/// `{id}` after a remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuChange {
    pub op: MenuOp,
    pub item: MenuChangeItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MenuChangeItem {
    Item(MenuItem),
    Removed { id: String },
}

impl MenuChange {
    pub fn id(&self) -> &str {
        match &self.item {
            MenuChangeItem::Item(i) => &i.id,
            MenuChangeItem::Removed { id } => id,
        }
    }
}

impl Event {
    /// The event's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::OrderCreated(_) => kind::ORDER_CREATED,
            Event::OrderUpdate(_) => kind::ORDER_UPDATE,
            Event::OrderModified(_) => kind::ORDER_MODIFIED,
            Event::OrderCancelled(_) => kind::ORDER_CANCELLED,
            Event::PaymentConfirmed(_) => kind::PAYMENT_CONFIRMED,
            Event::PaymentFailed(_) => kind::PAYMENT_FAILED,
            Event::PaymentRefunded(_) => kind::PAYMENT_REFUNDED,
            Event::MenuUpdate(_) => kind::MENU_UPDATE,
            Event::Announcement(_) => kind::ANNOUNCEMENT,
            Event::SystemAlert(_) => kind::SYSTEM_ALERT,
            Event::PromoUpdate(_) => kind::PROMO_UPDATE,
            Event::CapacityUpdate(_) => kind::CAPACITY_UPDATE,
        }
    }

    /// Whether `kind` names a durable event.
    pub fn is_durable_kind(k: &str) -> bool {
        matches!(
            k,
            kind::ORDER_CREATED
                | kind::ORDER_UPDATE
                | kind::ORDER_MODIFIED
                | kind::ORDER_CANCELLED
                | kind::PAYMENT_CONFIRMED
                | kind::PAYMENT_FAILED
                | kind::PAYMENT_REFUNDED
                | kind::MENU_UPDATE
                | kind::ANNOUNCEMENT
                | kind::SYSTEM_ALERT
                | kind::PROMO_UPDATE
                | kind::CAPACITY_UPDATE
        )
    }

    /// Reads a durable event from its envelope; `Ok(None)` for any other
    /// message (metrics, activity, replies, a non-durable announcement).
    pub fn from_envelope(env: &Envelope) -> Result<Option<Event>, ProtocolError> {
        if !Event::is_durable_kind(&env.kind) {
            return Ok(None);
        }
        // A shutdown notice is an `announcement` without a seq: not durable.
        if env.kind == kind::ANNOUNCEMENT && env.seq.is_none() {
            return Ok(None);
        }
        Event::parse(&env.kind, env.data.clone()).map(Some)
    }

    /// Reads a durable event of type `k` from its `data`.
    pub fn parse(k: &str, data: Value) -> Result<Event, ProtocolError> {
        use crate::envelope::parse_value as p;
        Ok(match k {
            kind::ORDER_CREATED => Event::OrderCreated(p(data)?),
            kind::ORDER_UPDATE => Event::OrderUpdate(p(data)?),
            kind::ORDER_MODIFIED => Event::OrderModified(p(data)?),
            kind::ORDER_CANCELLED => Event::OrderCancelled(p(data)?),
            kind::PAYMENT_CONFIRMED => Event::PaymentConfirmed(p(data)?),
            kind::PAYMENT_FAILED => Event::PaymentFailed(p(data)?),
            kind::PAYMENT_REFUNDED => Event::PaymentRefunded(p(data)?),
            kind::MENU_UPDATE => Event::MenuUpdate(p(data)?),
            kind::ANNOUNCEMENT => Event::Announcement(p(data)?),
            kind::SYSTEM_ALERT => Event::SystemAlert(p(data)?),
            kind::PROMO_UPDATE => Event::PromoUpdate(p(data)?),
            kind::CAPACITY_UPDATE => Event::CapacityUpdate(p(data)?),
            other => {
                return Err(ProtocolError::invalid(
                    "type",
                    format!("`{other}` is not a durable event"),
                ))
            }
        })
    }

    /// The event's `data` as it goes on the wire.
    pub fn data(&self) -> Value {
        // Plain data structs with string keys always serialise.
        serde_json::to_value(EventData(self)).unwrap_or(Value::Null)
    }

    /// The event as an envelope (the caller sets `seq`, `timestamp`, `sender`).
    pub fn to_envelope(&self) -> Envelope {
        Envelope::new(self.kind(), self.data())
    }

    /// The order an order event carries.
    pub fn order(&self) -> Option<&crate::Order> {
        match self {
            Event::OrderCreated(d)
            | Event::OrderUpdate(d)
            | Event::OrderModified(d)
            | Event::OrderCancelled(d) => Some(&d.order),
            _ => None,
        }
    }

    /// What `role` may see of this event (DESIGN §5, §6): crew never see
    /// card data, so an order's payment shrinks to `{method, status}`.
    /// Whether they receive it at all is [`Visibility::admits`].
    pub fn view_for(&self, role: Role) -> Cow<'_, Event> {
        let redact = |d: &m::OrderEvent| m::OrderEvent {
            order_id: d.order_id,
            status: d.status,
            order: d.order.view_for(role),
        };
        if role != Role::Crew {
            return Cow::Borrowed(self);
        }
        Cow::Owned(match self {
            Event::OrderCreated(d) => Event::OrderCreated(redact(d)),
            Event::OrderUpdate(d) => Event::OrderUpdate(redact(d)),
            Event::OrderModified(d) => Event::OrderModified(redact(d)),
            Event::OrderCancelled(d) => Event::OrderCancelled(redact(d)),
            other => return Cow::Borrowed(other),
        })
    }
}

/// An event's `data`, serialised straight from its typed value: encoding
/// goes to text without building a `serde_json::Value` first, which is the
/// hot path of every broadcast and every write.
pub struct EventData<'a>(pub &'a Event);

impl Serialize for EventData<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Event::OrderCreated(d)
            | Event::OrderUpdate(d)
            | Event::OrderModified(d)
            | Event::OrderCancelled(d) => d.serialize(s),
            Event::PaymentConfirmed(d) | Event::PaymentRefunded(d) => d.serialize(s),
            Event::PaymentFailed(d) => d.serialize(s),
            Event::MenuUpdate(d) => d.serialize(s),
            Event::Announcement(d) => d.serialize(s),
            Event::SystemAlert(d) => d.serialize(s),
            Event::PromoUpdate(d) => d.serialize(s),
            Event::CapacityUpdate(d) => d.serialize(s),
        }
    }
}

/// Who may receive a durable event (DESIGN §5 "who receives"). Decided with
/// the event and stored beside it, so a replay or a poll is filtered exactly
/// as the live broadcast was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to")]
pub enum Visibility {
    Everyone,
    Audience {
        audience: Audience,
    },
    /// The owning customer, all crew, all admins (order events).
    OrderParties {
        customer: String,
    },
    /// One customer and all admins (payment events).
    CustomerAndAdmins {
        customer: String,
    },
    Admins,
    /// Crew and admins (kitchen alerts).
    Staff,
}

impl Visibility {
    pub fn admits(&self, role: Role, user_id: &str) -> bool {
        match self {
            Visibility::Everyone => true,
            Visibility::Audience { audience } => audience.includes(role),
            Visibility::OrderParties { customer } => role.is_staff() || customer == user_id,
            Visibility::CustomerAndAdmins { customer } => {
                role == Role::Admin || customer == user_id
            }
            Visibility::Admins => role == Role::Admin,
            Visibility::Staff => role.is_staff(),
        }
    }

    /// Who receives `event` when `customer` is the customer it concerns
    /// (the order's owner, or for a failed payment the one who tried).
    pub fn of(event: &Event, customer: Option<&str>) -> Visibility {
        let customer = customer.unwrap_or_default().to_owned();
        match event {
            Event::OrderCreated(d)
            | Event::OrderUpdate(d)
            | Event::OrderModified(d)
            | Event::OrderCancelled(d) => Visibility::OrderParties {
                customer: d.order.customer.id.clone(),
            },
            Event::PaymentConfirmed(_) | Event::PaymentRefunded(_) | Event::PaymentFailed(_) => {
                Visibility::CustomerAndAdmins { customer }
            }
            Event::MenuUpdate(_) | Event::CapacityUpdate(_) => Visibility::Everyone,
            Event::Announcement(a) => Visibility::Audience {
                audience: a.audience,
            },
            Event::SystemAlert(a) if a.kind.is_kitchen() => Visibility::Staff,
            Event::SystemAlert(_) | Event::PromoUpdate(_) => Visibility::Admins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests_support::order;

    #[test]
    fn crew_see_an_order_without_card_data_and_others_see_it_whole() {
        let o = order(7, "ann");
        let ev = Event::OrderCreated(m::OrderEvent {
            order_id: 7,
            status: o.status,
            order: o,
        });
        let crew = ev.view_for(Role::Crew);
        let p = &crew.order().expect("order").payment;
        assert_eq!((p.id.as_deref(), p.last4.as_deref()), (None, None));
        for role in [Role::Customer, Role::Admin] {
            assert_eq!(*ev.view_for(role), ev);
        }
    }

    #[test]
    fn visibility_by_event() {
        let o = order(7, "ann");
        let ev = Event::OrderUpdate(m::OrderEvent {
            order_id: 7,
            status: o.status,
            order: o,
        });
        let to = Visibility::of(&ev, None);
        assert!(to.admits(Role::Customer, "ann"));
        assert!(!to.admits(Role::Customer, "bob"));
        assert!(to.admits(Role::Crew, "kim"));
        let back = serde_json::to_value(&to).expect("json");
        assert_eq!(back["to"], "order_parties");
    }

    #[test]
    fn envelopes_round_trip_and_non_durable_messages_are_skipped() {
        let o = order(3, "ann");
        let ev = Event::OrderCancelled(m::OrderEvent {
            order_id: 3,
            status: o.status,
            order: o,
        });
        let mut env = ev.to_envelope();
        env.seq = Some(9);
        assert_eq!(Event::from_envelope(&env).expect("parse"), Some(ev));
        let metrics = Envelope::new(kind::METRICS, serde_json::json!({}));
        assert_eq!(Event::from_envelope(&metrics).expect("skip"), None);
        let change: MenuChange =
            serde_json::from_value(serde_json::json!({"op": "remove", "item": {"id": "mandu"}}))
                .expect("remove");
        assert_eq!(change.id(), "mandu");
    }
}
