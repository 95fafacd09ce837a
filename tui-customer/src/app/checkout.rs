//! The checkout form on screen: keys go to the form ([`crate::checkout`],
//! which builds every `order_quote` and `order_place`), the requests it
//! asks for go out, and a placed order clears the cart and opens Orders.

use kfood_protocol::messages::OrderEvent;
use kfood_protocol::{Event, Order, OrderStatus, ProtocolError, Request};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Action, App, Level, Overlay, Pending, Screen};
use crate::checkout::{describe, earliest_slot, Checkout, Field, QuoteAck, Submit, SLOTS_PER_DAY};

/// An ack that carries the order it made or changed: `{ref, order}`.
#[derive(Debug, Deserialize)]
pub(super) struct OrderAck {
    pub order: Order,
}

/// Reads an ack's data as `T`; a refusal stays a refusal.
pub(super) fn typed<T: for<'de> Deserialize<'de>>(
    result: Result<Value, ProtocolError>,
) -> Result<T, ProtocolError> {
    result.and_then(|v| {
        serde_json::from_value(v)
            .map_err(|e| ProtocolError::internal(format!("unreadable answer: {e}")))
    })
}

impl App {
    pub(super) fn open_checkout(&mut self) {
        if self.cart.is_empty() {
            self.say(
                Level::Error,
                "The cart is empty: add something from the menu (1) first.",
            );
            return;
        }
        let mut form = Checkout::new(Uuid::new_v4());
        form.earliest = self.earliest_slot(form.delivery);
        self.ask_quote(form.quote(&self.cart));
        self.overlay = Overlay::Checkout(Box::new(form));
        self.flash = None;
    }

    /// The soonest slot the cart can be scheduled for now (DESIGN §14):
    /// its longest prep, the kitchen's extra minutes, the ride.
    pub fn earliest_slot(&self, delivery: bool) -> kfood_protocol::time::Millis {
        let prep = self
            .cart
            .iter()
            .filter_map(|l| self.item(&l.item_id))
            .map(|i| i.prep_minutes)
            .max()
            .unwrap_or(0);
        let extra = self.model.capacity.extra_minutes;
        earliest_slot(self.now_ms, prep, extra, delivery)
    }

    fn ask_quote(&mut self, ask: Option<(String, Request)>) {
        if let Some((key, request)) = ask {
            self.request(request, Pending::Quote { key });
        }
    }

    pub(super) fn checkout_key(&mut self, action: Action) {
        let Overlay::Checkout(mut form) = std::mem::replace(&mut self.overlay, Overlay::None)
        else {
            return;
        };
        // Moving between fields or switching a choice may change what the
        // order costs: it is priced again as it now stands.
        let mut requote = false;
        form.earliest = self.earliest_slot(form.delivery);
        if form.field == Field::When {
            let slots = match action {
                Action::Left => Some(-1),
                Action::Right => Some(1),
                Action::PageUp => Some(-SLOTS_PER_DAY),
                Action::PageDown => Some(SLOTS_PER_DAY),
                Action::Toggle if form.when.is_some() => Some(-SLOTS_PER_DAY * 8),
                Action::Toggle => Some(1),
                _ => None,
            };
            if let Some(slots) = slots {
                form.step_when(slots, self.now_ms);
                if form.problem.as_ref().and_then(|p| p.field) == Some(Field::When) {
                    form.problem = None;
                }
                self.ask_quote(form.quote(&self.cart));
                self.overlay = Overlay::Checkout(form);
                return;
            }
        }
        match action {
            Action::Back => {
                if form.placing {
                    self.say(
                        Level::Info,
                        "Your order is still on its way to the relay; it shows in Orders (3) once placed.",
                    );
                }
                return;
            }
            Action::NextField | Action::Down => {
                form.next_field();
                requote = true;
            }
            Action::PrevField | Action::Up => {
                form.prev_field();
                requote = true;
            }
            Action::Toggle | Action::Left | Action::Right if form.field.is_toggle() => {
                form.toggle();
                form.problem = None;
                requote = true;
            }
            Action::Input(c) => {
                form.input(c);
                if !form.field.is_toggle()
                    && form.problem.as_ref().and_then(|p| p.field) == Some(form.field)
                {
                    form.problem = None;
                }
                requote = form.field.is_toggle();
            }
            Action::Backspace => form.backspace(),
            Action::Submit => {
                match form.submit(&self.cart, self.now_ms, self.conn.is_connected()) {
                    Submit::Nothing => {}
                    Submit::Quote { key, request } => {
                        self.request(request, Pending::Quote { key });
                    }
                    Submit::Place(request) => {
                        self.request(request, Pending::Place);
                    }
                }
            }
            _ => {}
        }
        if requote {
            self.ask_quote(form.quote(&self.cart));
        }
        self.overlay = Overlay::Checkout(form);
    }

    pub(super) fn on_quote(&mut self, key: String, result: Result<Value, ProtocolError>) {
        if let Overlay::Checkout(form) = &mut self.overlay {
            form.on_quote(key, typed::<QuoteAck>(result));
        }
    }

    pub(super) fn on_placed(&mut self, result: Result<Value, ProtocolError>) {
        match typed::<OrderAck>(result) {
            Ok(OrderAck { order }) => {
                self.cart.clear();
                self.cart_sel = 0;
                self.dirty = true;
                if matches!(self.overlay, Overlay::Checkout(_)) {
                    self.overlay = Overlay::None;
                }
                let text = if order.status == OrderStatus::Scheduled {
                    format!("Order {} placed for later. Follow it here.", order.code)
                } else {
                    format!(
                        "Order {} placed: {}. Follow it here.",
                        order.code, order.status
                    )
                };
                self.selected_order = Some(order.id);
                // The relay's order_created follows; the order shows at once.
                self.model.apply(&Event::OrderCreated(OrderEvent {
                    order_id: order.id,
                    status: order.status,
                    order,
                }));
                self.say(Level::Good, text);
                self.go(Screen::Orders);
            }
            Err(e) => {
                let Overlay::Checkout(form) = &mut self.overlay else {
                    // The form was closed while the order was on its way.
                    let text = format!("Order not placed: {} Your cart is kept.", describe(&e));
                    self.say(Level::Error, text);
                    return;
                };
                let ask = form.on_place_refused(&e, &self.cart);
                self.ask_quote(ask);
            }
        }
    }
}
