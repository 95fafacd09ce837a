//! Every request of DESIGN §5 as one typed value.
//!
//! A request is parsed once, at the edge, from its envelope
//! ([`Request::from_envelope`]); who may send it is [`Request::allowed_for`],
//! next to its kind. Clients build the same values and turn them into
//! envelopes with [`Request::to_envelope`], so no request is ever written by
//! hand as JSON. Adding a request is adding a variant: the compiler then
//! lists every `match` that must handle it.

use serde::Serialize;
use serde_json::Value;

use crate::capacity::CapacitySet;
use crate::envelope::Envelope;
use crate::error::{ErrorCode, ProtocolError};
use crate::menu::MenuOp;
use crate::messages::{self as m, kind};
use crate::options::options_field;
use crate::Role;

/// One request of DESIGN §5, with its typed `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Only valid as a socket's first frame; the socket layer answers it.
    Authentication(m::Authentication),
    Heartbeat(m::Heartbeat),
    Sync(m::Sync),
    OrderQuote(m::OrderPlace),
    OrderPlace(m::OrderPlace),
    OrderModify(m::OrderModify),
    OrderCancel(m::OrderCancel),
    OrderUpdate(m::OrderUpdate),
    LineDone(m::LineDone),
    MenuUpdate(m::MenuUpdate),
    Announce(m::Announce),
    PromoUpsert(m::PromoUpsert),
    AlertAck(m::AlertAck),
    SessionRevoke(m::SessionRevoke),
    UserCreate(m::UserCreate),
    UserList,
    ActivityQuery(m::ActivityQuery),
    /// The kitchen's capacity (DESIGN §14).
    CapacitySet(CapacitySet),
}

impl Request {
    /// The request's `type` on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Authentication(_) => kind::AUTHENTICATION,
            Request::Heartbeat(_) => kind::HEARTBEAT,
            Request::Sync(_) => kind::SYNC,
            Request::OrderQuote(_) => kind::ORDER_QUOTE,
            Request::OrderPlace(_) => kind::ORDER_PLACE,
            Request::OrderModify(_) => kind::ORDER_MODIFY,
            Request::OrderCancel(_) => kind::ORDER_CANCEL,
            Request::OrderUpdate(_) => kind::ORDER_UPDATE,
            Request::LineDone(_) => kind::LINE_DONE,
            Request::MenuUpdate(_) => kind::MENU_UPDATE,
            Request::Announce(_) => kind::ANNOUNCE,
            Request::PromoUpsert(_) => kind::PROMO_UPSERT,
            Request::AlertAck(_) => kind::ALERT_ACK,
            Request::SessionRevoke(_) => kind::SESSION_REVOKE,
            Request::UserCreate(_) => kind::USER_CREATE,
            Request::UserList => kind::USER_LIST,
            Request::ActivityQuery(_) => kind::ACTIVITY_QUERY,
            Request::CapacitySet(_) => kind::CAPACITY_SET,
        }
    }

    /// Whether `role` may send this request: DESIGN §5's "allowed for".
    /// Ownership (a customer acts only on their own orders) depends on the
    /// state and is checked where the request is decided.
    pub fn allowed_for(&self, role: Role) -> bool {
        match self {
            Request::Authentication(_)
            | Request::Heartbeat(_)
            | Request::Sync(_)
            | Request::OrderCancel(_) => true,
            Request::OrderQuote(_) | Request::OrderPlace(_) | Request::OrderModify(_) => {
                role == Role::Customer
            }
            Request::OrderUpdate(_) | Request::LineDone(_) => role.is_staff(),
            // Crew may only mark items available or not (86).
            Request::MenuUpdate(u) => {
                role == Role::Admin || (role == Role::Crew && u.op == MenuOp::SetAvailable)
            }
            // Crew may only pause and resume (DESIGN §14).
            Request::CapacitySet(c) => {
                role == Role::Admin || (role == Role::Crew && c.admin_only_field().is_none())
            }
            Request::Announce(_)
            | Request::PromoUpsert(_)
            | Request::AlertAck(_)
            | Request::SessionRevoke(_)
            | Request::UserCreate(_)
            | Request::UserList
            | Request::ActivityQuery(_) => role == Role::Admin,
        }
    }

    /// The refusal for a role that may not send this request.
    pub fn forbidden_for(&self, role: Role) -> ProtocolError {
        match self {
            Request::MenuUpdate(_) if role == Role::Crew => {
                ProtocolError::forbidden("crew may only change an item's availability")
                    .with_field("op")
            }
            Request::CapacitySet(c) if role == Role::Crew => {
                let field = c.admin_only_field().unwrap_or("paused");
                ProtocolError::forbidden(format!(
                    "crew may only pause or resume ordering, not set {field}"
                ))
                .with_field(field)
            }
            _ => ProtocolError::forbidden(format!("{} is not allowed for {role}", self.kind())),
        }
    }

    /// Parses a client's message: `unknown_type` for a type that is not a
    /// request, `invalid` naming the `field` that is wrong.
    pub fn from_envelope(env: &Envelope) -> Result<Request, ProtocolError> {
        Ok(match env.kind.as_str() {
            kind::AUTHENTICATION => Request::Authentication(env.parse_data()?),
            kind::HEARTBEAT => Request::Heartbeat(env.parse_data()?),
            kind::SYNC => Request::Sync(env.parse_data()?),
            kind::ORDER_QUOTE => Request::OrderQuote(env.parse_data().map_err(options_field)?),
            kind::ORDER_PLACE => Request::OrderPlace(env.parse_data().map_err(options_field)?),
            kind::ORDER_MODIFY => Request::OrderModify(env.parse_data()?),
            kind::ORDER_CANCEL => Request::OrderCancel(env.parse_data()?),
            kind::ORDER_UPDATE => Request::OrderUpdate(env.parse_data()?),
            kind::LINE_DONE => Request::LineDone(env.parse_data()?),
            kind::MENU_UPDATE => Request::MenuUpdate(env.parse_data().map_err(options_field)?),
            kind::ANNOUNCE => Request::Announce(env.parse_data()?),
            kind::PROMO_UPSERT => Request::PromoUpsert(env.parse_data()?),
            kind::ALERT_ACK => Request::AlertAck(env.parse_data()?),
            kind::SESSION_REVOKE => Request::SessionRevoke(env.parse_data()?),
            kind::USER_CREATE => Request::UserCreate(env.parse_data()?),
            kind::USER_LIST => Request::UserList,
            kind::ACTIVITY_QUERY => Request::ActivityQuery(env.parse_data()?),
            kind::CAPACITY_SET => Request::CapacitySet(env.parse_data()?),
            other => {
                return Err(ProtocolError::new(
                    ErrorCode::UnknownType,
                    format!("unknown message type `{other}`"),
                )
                .with_field("type"))
            }
        })
    }

    /// The request's `data` as it goes on the wire.
    pub fn data(&self) -> Value {
        fn v<T: Serialize>(t: &T) -> Value {
            // Plain data structs with string keys always serialise.
            serde_json::to_value(t).unwrap_or(Value::Null)
        }
        match self {
            Request::Authentication(d) => v(d),
            Request::Heartbeat(d) => v(d),
            Request::Sync(d) => v(d),
            Request::OrderQuote(d) | Request::OrderPlace(d) => v(d),
            Request::OrderModify(d) => v(d),
            Request::OrderCancel(d) => v(d),
            Request::OrderUpdate(d) => v(d),
            Request::LineDone(d) => v(d),
            Request::MenuUpdate(d) => v(d),
            Request::Announce(d) => v(d),
            Request::PromoUpsert(d) => v(d),
            Request::AlertAck(d) => v(d),
            Request::SessionRevoke(d) => v(d),
            Request::UserCreate(d) => v(d),
            Request::UserList => Value::Object(Default::default()),
            Request::ActivityQuery(d) => v(d),
            Request::CapacitySet(d) => v(d),
        }
    }

    /// The request as an envelope without an id (the client manager gives
    /// each one its id).
    pub fn to_envelope(&self) -> Envelope {
        Envelope::new(self.kind(), self.data())
    }

    /// Whether the request changes stored state (and so needs an
    /// idempotency-safe resend after an unknown outcome).
    pub fn is_change(&self) -> bool {
        !matches!(
            self,
            Request::Authentication(_)
                | Request::Heartbeat(_)
                | Request::Sync(_)
                | Request::OrderQuote(_)
                | Request::UserList
                | Request::ActivityQuery(_)
        )
    }
}

impl From<Request> for Envelope {
    fn from(r: Request) -> Envelope {
        r.to_envelope()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menu::MenuItemPatch;
    use serde_json::json;

    #[track_caller]
    fn parse(kind: &str, data: Value) -> Result<Request, ProtocolError> {
        Request::from_envelope(&Envelope::new(kind, data))
    }

    #[test]
    fn every_request_round_trips_through_its_envelope() {
        let cases = [
            (kind::HEARTBEAT, json!({"t": 5})),
            (kind::SYNC, json!({"since": 7})),
            (
                kind::ORDER_PLACE,
                json!({"client_order_id": "7f3a0c1e-1111-4222-8333-444455556666",
                       "items": [{"item_id": "bibimbap", "qty": 2}],
                       "fulfillment": {"kind": "pickup"},
                       "payment": {"method": "cash"}}),
            ),
            (kind::ORDER_CANCEL, json!({"order_id": 3, "reason": "late"})),
            (
                kind::ORDER_UPDATE,
                json!({"order_id": 3, "status": "ready"}),
            ),
            (
                kind::MENU_UPDATE,
                json!({"op": "set_available", "item": {"id": "mandu", "available": false}}),
            ),
            (kind::USER_LIST, json!({})),
            (kind::ACTIVITY_QUERY, json!({"limit": 5})),
            (
                kind::CAPACITY_SET,
                json!({"paused": true, "paused_until": null}),
            ),
            (
                kind::CAPACITY_SET,
                json!({"orders_per_slot": 4, "extra_minutes": 10}),
            ),
        ];
        for (k, data) in cases {
            let r = parse(k, data).unwrap_or_else(|e| panic!("{k}: {e}"));
            assert_eq!(r.kind(), k);
            let again = Request::from_envelope(&r.to_envelope()).expect("re-parse");
            assert_eq!(again, r, "{k}");
        }
    }

    #[test]
    fn unknown_types_and_bad_fields_are_named() {
        let e = parse("order_teleport", json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnknownType);
        let e = parse(kind::ORDER_UPDATE, json!({"order_id": "x"})).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Invalid, Some("order_id"))
        );
        let e = parse(kind::ORDER_CANCEL, json!({})).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("order_id"));
    }

    #[test]
    fn allowed_for_follows_the_design_table() {
        let menu = |op| {
            Request::MenuUpdate(m::MenuUpdate {
                op,
                item: MenuItemPatch {
                    id: "mandu".into(),
                    ..Default::default()
                },
            })
        };
        let place = parse(
            kind::ORDER_QUOTE,
            json!({"items": [], "fulfillment": {"kind": "pickup"}}),
        )
        .expect("quote");
        let cancel = parse(kind::ORDER_CANCEL, json!({"order_id": 1})).expect("cancel");
        let update = parse(kind::ORDER_UPDATE, json!({"order_id": 1})).expect("update");
        use Role::*;
        let table: [(&Request, [bool; 3]); 7] = [
            (&place, [true, false, false]),
            (&cancel, [true, true, true]),
            (&update, [false, true, true]),
            (&menu(MenuOp::SetAvailable), [false, true, true]),
            (&menu(MenuOp::Upsert), [false, false, true]),
            (&menu(MenuOp::Remove), [false, false, true]),
            (&Request::UserList, [false, false, true]),
        ];
        for (req, want) in table {
            let got = [Customer, Crew, Admin].map(|r| req.allowed_for(r));
            assert_eq!(got, want, "{}", req.kind());
        }
        assert!(menu(MenuOp::Upsert)
            .forbidden_for(Crew)
            .message
            .contains("availability"));
        let pause = parse(kind::CAPACITY_SET, json!({"paused": true})).expect("pause");
        let slots = parse(
            kind::CAPACITY_SET,
            json!({"paused": true, "orders_per_slot": 3}),
        )
        .expect("slots");
        assert_eq!(
            [Customer, Crew, Admin].map(|r| pause.allowed_for(r)),
            [false, true, true]
        );
        assert_eq!(
            [Customer, Crew, Admin].map(|r| slots.allowed_for(r)),
            [false, false, true]
        );
        let e = slots.forbidden_for(Crew);
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Forbidden, Some("orders_per_slot"))
        );
    }
}
