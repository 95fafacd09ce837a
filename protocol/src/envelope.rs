//! The envelope of DESIGN §3, batches, and parsing of client frames.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, ProtocolError};
use crate::Role;

/// Who sent a message, as the relay stamps it: `{id, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub id: String,
    #[serde(rename = "type")]
    pub role: Role,
}

/// One message. Unknown top-level fields are kept in `extra` (the
/// `authentication` message carries its fields there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "type")]
    pub kind: String,
    /// A client's request id; a number is taken as its decimal text, so
    /// every id gets its reply.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_id"
    )]
    pub id: Option<String>,
    /// Set by the relay on durable events; a client's value is ignored.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
    /// Set by the relay; a client's value is ignored.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub timestamp: Option<String>,
    /// Set by the relay; whatever a client writes there is ignored (§3), so
    /// a value of the wrong shape is dropped rather than refused.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_sender"
    )]
    pub sender: Option<Sender>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The value when it has the expected shape, else `None`.
fn lenient<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Option<T>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

fn lenient_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// `sender` as a [`Sender`] when it has that shape, else `None`.
fn lenient_sender<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Sender>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(serde_json::from_value(v).ok())
}

impl Envelope {
    pub fn new(kind: impl Into<String>, data: Value) -> Self {
        Envelope {
            kind: kind.into(),
            id: None,
            seq: None,
            data,
            timestamp: None,
            sender: None,
            extra: Map::new(),
        }
    }

    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// `ack` for the request `reference`, with the result's fields merged in.
    pub fn ack(reference: Option<&str>, result: Value) -> Self {
        let mut data = match result {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Some(r) = reference {
            data.insert("ref".into(), Value::String(r.to_owned()));
        }
        Envelope::new("ack", Value::Object(data))
    }

    /// `error` for the request `reference` (none when the request had no id).
    pub fn error(reference: Option<&str>, err: &ProtocolError) -> Self {
        let mut data = Map::new();
        if let Some(r) = reference {
            data.insert("ref".into(), Value::String(r.to_owned()));
        }
        data.insert("code".into(), Value::String(err.code.as_str().into()));
        data.insert("message".into(), Value::String(err.message.clone()));
        if let Some(f) = &err.field {
            data.insert("field".into(), Value::String(f.clone()));
        }
        Envelope::new("error", Value::Object(data))
    }

    /// The request's `data` as a typed value; a wrong field is `invalid` naming it.
    pub fn parse_data<T: DeserializeOwned>(&self) -> Result<T, ProtocolError> {
        let data = match &self.data {
            Value::Null => Value::Object(Map::new()),
            other => other.clone(),
        };
        parse_value(data)
    }

    pub fn to_json(&self) -> String {
        // Serialising a tree of JSON values and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `ref` of an `ack` or `error`.
    pub fn reference(&self) -> Option<&str> {
        self.data.get("ref").and_then(Value::as_str)
    }

    /// `code` of an `error`.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.data
            .get("code")
            .and_then(|c| serde_json::from_value(c.clone()).ok())
    }
}

/// Deserialises `value`, reporting the path of the first wrong field.
pub fn parse_value<T: DeserializeOwned>(value: Value) -> Result<T, ProtocolError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let inner = e.inner().to_string();
        let mut path = e.path().to_string();
        // A missing field is reported at its parent; name the field itself.
        if let Some(rest) = inner.strip_prefix("missing field `") {
            if let Some(name) = rest.split('`').next() {
                path = if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
            }
        }
        let field = if path == "." { "data".to_owned() } else { path };
        ProtocolError::invalid(field, inner)
    })
}

/// A client frame: one message, or a batch of them (each parsed on its own,
/// so one bad message in a batch does not spoil the others).
#[derive(Debug)]
pub enum Frame {
    Single(Envelope),
    Batch(Vec<Result<Envelope, ProtocolError>>),
}

impl Frame {
    /// Parses a text frame. The outer error means nothing in it runs.
    pub fn parse(text: &str, max_batch: usize) -> Result<Frame, ProtocolError> {
        let mut value: Value = serde_json::from_str(text)
            .map_err(|e| ProtocolError::new(ErrorCode::Malformed, format!("not JSON: {e}")))?;
        if value.get("type").and_then(Value::as_str) == Some("batch") {
            // The messages are moved out of the batch, not copied: a busy
            // client reads hundreds of batched events a second.
            let Some(Value::Array(items)) = value.get_mut("data").map(Value::take) else {
                return Err(ProtocolError::new(
                    ErrorCode::Malformed,
                    "a batch's data must be an array of messages",
                ));
            };
            if items.len() > max_batch {
                return Err(ProtocolError::invalid(
                    "data",
                    format!(
                        "a batch holds at most {max_batch} messages, not {}",
                        items.len()
                    ),
                ));
            }
            let inner = items
                .into_iter()
                .map(|v| match v.get("type").and_then(Value::as_str) {
                    Some("batch") => Err(ProtocolError::new(
                        ErrorCode::Malformed,
                        "a batch cannot hold a batch",
                    )),
                    _ => envelope_from(v),
                })
                .collect();
            return Ok(Frame::Batch(inner));
        }
        envelope_from(value).map(Frame::Single)
    }

    pub fn len(&self) -> usize {
        match self {
            Frame::Single(_) => 1,
            Frame::Batch(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn envelope_from(value: Value) -> Result<Envelope, ProtocolError> {
    if !value.is_object() {
        return Err(ProtocolError::new(
            ErrorCode::Malformed,
            "a message must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ProtocolError::new(ErrorCode::Malformed, format!("not an envelope: {e}")))
}

/// The text of a message `{"type", "data", "timestamp"}` with typed `data`,
/// serialised straight from it: what `Envelope::new(kind, to_value(data))`
/// stamped with `timestamp` serialises to, without building a JSON value
/// tree first. `data` must not serialise to `null`.
pub fn message_text<T: Serialize + ?Sized>(kind: &str, data: &T, timestamp: &str) -> String {
    #[derive(Serialize)]
    struct Message<'a, T: ?Sized> {
        #[serde(rename = "type")]
        kind: &'a str,
        data: &'a T,
        timestamp: &'a str,
    }
    // Serialising our own types (string keys only) cannot fail.
    serde_json::to_string(&Message {
        kind,
        data,
        timestamp,
    })
    .unwrap_or_default()
}

/// The text of an `ack` for `reference` whose other fields are those of
/// `fields`, an already-serialised JSON object: what [`Envelope::ack`]
/// stamped with `timestamp` serialises to (up to the order of the fields),
/// without building a JSON value tree.
pub fn ack_text(reference: Option<&str>, fields: &str, timestamp: &str) -> String {
    let inner = fields
        .trim()
        .strip_prefix('{')
        .and_then(|f| f.strip_suffix('}'))
        .unwrap_or("")
        .trim();
    let mut out = String::with_capacity(inner.len() + 96);
    out.push_str(r#"{"type":"ack","data":{"#);
    if let Some(r) = reference {
        out.push_str(r#""ref":"#);
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        if !inner.is_empty() {
            out.push(',');
        }
    }
    out.push_str(inner);
    out.push_str(r#"},"timestamp":"#);
    out.push_str(&serde_json::to_string(timestamp).unwrap_or_default());
    out.push('}');
    out
}

/// Joins already-serialised messages into one `batch` frame without reparsing.
pub fn join_batch<S: AsRef<str>>(messages: &[S]) -> String {
    let len = messages.iter().map(|m| m.as_ref().len() + 1).sum::<usize>() + 32;
    let mut out = String::with_capacity(len);
    out.push_str(r#"{"type":"batch","data":["#);
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(m.as_ref());
    }
    out.push_str("]}");
    out
}

/// Splits a received frame into its messages (one, or a batch's).
pub fn split_frame(text: &str) -> Result<Vec<Envelope>, ProtocolError> {
    match Frame::parse(text, usize::MAX)? {
        Frame::Single(e) => Ok(vec![e]),
        Frame::Batch(v) => v.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[track_caller]
    fn check_err(input: &str, code: ErrorCode) {
        match Frame::parse(input, 3) {
            Err(e) => assert_eq!(e.code, code, "{input}: {e}"),
            Ok(f) => panic!("{input}: parsed as {f:?}"),
        }
    }

    #[test]
    fn malformed_frames() {
        check_err("not json", ErrorCode::Malformed);
        check_err("[1,2]", ErrorCode::Malformed);
        check_err("42", ErrorCode::Malformed);
        check_err(r#"{"id":"x"}"#, ErrorCode::Malformed);
        check_err(r#"{"type":7}"#, ErrorCode::Malformed);
        check_err(r#"{"type":"batch","data":{}}"#, ErrorCode::Malformed);
        check_err(
            r#"{"type":"batch","data":[{},{},{},{}]}"#,
            ErrorCode::Invalid,
        );
    }

    #[test]
    fn batch_inner_errors_stand_alone() {
        let f = Frame::parse(
            r#"{"type":"batch","data":[{"type":"heartbeat"},{"type":"batch","data":[]},5]}"#,
            10,
        )
        .unwrap();
        let Frame::Batch(v) = f else {
            panic!("not a batch")
        };
        assert!(v[0].is_ok());
        assert_eq!(v[1].as_ref().unwrap_err().code, ErrorCode::Malformed);
        assert_eq!(v[2].as_ref().unwrap_err().code, ErrorCode::Malformed);
    }

    #[test]
    fn authentication_fields_at_top_level() {
        let Frame::Single(e) = Frame::parse(
            r#"{"type":"authentication","userType":"crew","token":"t","since":5,"junk":1}"#,
            10,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.extra.get("userType"), Some(&json!("crew")));
        assert_eq!(e.extra.get("since"), Some(&json!(5)));
    }

    #[test]
    fn relay_fields_from_clients_never_spoil_a_message() {
        let Frame::Single(e) = Frame::parse(
            r#"{"type":"sync","id":7,"seq":"x","timestamp":5,"sender":"root"}"#,
            10,
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (e.id.as_deref(), e.seq, e.timestamp, e.sender),
            (Some("7"), None, None, None)
        );
    }

    #[test]
    fn ack_and_error_shapes() {
        let a = Envelope::ack(Some("c-1"), json!({"head_seq": 4}));
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({"type":"ack","data":{"ref":"c-1","head_seq":4}})
        );
        let e = Envelope::error(None, &ProtocolError::invalid("qty", "too many"));
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type":"error","data":{"code":"invalid","message":"too many","field":"qty"}})
        );
    }

    #[test]
    fn parse_data_names_fields() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct D {
            order_id: u64,
            inner: Option<Inner>,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            qty: u32,
        }
        let env = |d| Envelope::new("x", d);
        assert_eq!(
            env(json!({}))
                .parse_data::<D>()
                .unwrap_err()
                .field
                .as_deref(),
            Some("order_id")
        );
        assert_eq!(
            env(json!({"order_id": "x"}))
                .parse_data::<D>()
                .unwrap_err()
                .field
                .as_deref(),
            Some("order_id")
        );
        assert_eq!(
            env(json!({"order_id": 1, "inner": {}}))
                .parse_data::<D>()
                .unwrap_err()
                .field
                .as_deref(),
            Some("inner.qty")
        );
    }

    /// A typed message and an ack spliced from serialised fields read exactly
    /// as the same envelopes built through JSON values.
    #[test]
    fn typed_texts_match_envelopes() {
        let stamp = "2026-01-01T00:00:00.000Z";
        let data = json!({"user": {"id": "kim"}, "head_seq": 4});
        let mut env = Envelope::new("authenticated", data.clone());
        env.timestamp = Some(stamp.into());
        let text: Value =
            serde_json::from_str(&message_text("authenticated", &data, stamp)).unwrap();
        assert_eq!(text, serde_json::to_value(&env).unwrap());
        for (reference, fields) in [
            (
                Some("c-\"1\""),
                json!({"order": {"id": 7, "code": "K-0007"}}),
            ),
            (Some("c-2"), json!({})),
            (None, json!({"head_seq": 4})),
            (None, json!({})),
        ] {
            let mut env = Envelope::ack(reference, fields.clone());
            env.timestamp = Some(stamp.into());
            let text = ack_text(reference, &fields.to_string(), stamp);
            let parsed: Value = serde_json::from_str(&text).expect(&text);
            assert_eq!(parsed, serde_json::to_value(&env).unwrap(), "{text}");
        }
    }

    #[test]
    fn join_batch_is_valid_json() {
        let b = join_batch(&[r#"{"type":"a"}"#, r#"{"type":"b"}"#]);
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["data"][1]["type"], "b");
    }
}
