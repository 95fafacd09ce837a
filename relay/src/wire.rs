//! Small helpers that turn values into what goes on the wire: a timestamped
//! envelope, a ready-to-send frame, JSON values and bytes.

use kfood_protocol::Envelope;
use serde::Serialize;
use serde_json::Value;

use crate::hub::Outgoing;

/// `env` with the relay's time on it (DESIGN §3: on everything it sends).
pub fn stamped(mut env: Envelope) -> Envelope {
    env.timestamp = Some(kfood_protocol::time::now());
    env
}

/// `env` serialised once, ready for a connection's queue.
pub fn frame(env: &Envelope) -> Outgoing {
    Outgoing::Frame(env.to_json().into())
}

/// A plain data value as JSON; our types always serialise (string keys only).
pub fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A plain data value as JSON bytes, for the store.
pub fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}
