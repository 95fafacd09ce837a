//! Accounts (DESIGN §5, §8): `user_create`, self-registration,
//! `session_revoke` and `user_list`. Accounts and revocations are records
//! of the log, folded like everything else.

use std::collections::HashMap;

use kfood_protocol::menu::checked_name;
use kfood_protocol::messages::{self as m, ActivityKind};
use kfood_protocol::time::{format_ms, Millis};
use kfood_protocol::{limits, ProtocolError, Role, UserRef};
use serde_json::{json, Value};

use super::{Caller, Decision};
use crate::auth::UserRecord;
use crate::log::{Record, State};

fn user_ref(r: &UserRecord) -> UserRef {
    UserRef {
        id: r.id.clone(),
        name: r.name.clone(),
        role: r.role,
    }
}

fn taken() -> ProtocolError {
    ProtocolError::invalid("username", "that username is taken")
}

/// A customer registering themselves (the HTTP layer answers 409 when taken).
pub fn register(st: &State, record: UserRecord, _now: Millis) -> Result<Decision, ProtocolError> {
    if st.records.users.contains_key(&record.id) {
        return Err(taken());
    }
    let mut d = Decision::default();
    d.note(
        &user_ref(&record),
        ActivityKind::Login,
        "registered".into(),
        None,
    );
    d.record(Record::User(record));
    Ok(d)
}

pub fn user_create(
    st: &State,
    caller: &Caller,
    req: m::UserCreate,
    password_hash: Option<String>,
    now: Millis,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    m::validate_username(&req.username)?;
    m::validate_password(&req.password)?;
    // The relay's own role is nobody's account (DESIGN §3).
    if !Role::ALL.contains(&req.role) {
        return Err(ProtocolError::invalid(
            "role",
            "accounts are customer, crew or admin",
        ));
    }
    let name = checked_name("name", &req.name, limits::MAX_NAME_CHARS)?;
    if st.records.users.contains_key(&req.username) {
        return Err(taken());
    }
    // Normally hashed before the core, so one account never stalls everyone.
    let hash = match password_hash {
        Some(h) => h,
        None => crate::auth::hash_password(&req.password)?,
    };
    let rec = UserRecord {
        id: req.username,
        name,
        role: req.role,
        password_hash: hash,
        created_at: format_ms(now),
    };
    let user = user_ref(&rec);
    d.record(Record::User(rec));
    d.note(
        &caller.user,
        ActivityKind::Admin,
        format!("created {} account {}", user.role, user.id),
        None,
    );
    Ok(json!({ "user": user }))
}

/// Every token of the user issued in or before this second is refused and
/// their sockets close 4011.
pub fn revoke(
    caller: &Caller,
    req: m::SessionRevoke,
    now: Millis,
    d: &mut Decision,
) -> Result<Value, ProtocolError> {
    let user_id = kfood_protocol::sanitize::clean_line(req.user_id.trim());
    if user_id.is_empty() {
        return Err(ProtocolError::invalid(
            "user_id",
            "user_id must not be empty",
        ));
    }
    d.record(Record::Revoked {
        user_id: user_id.clone(),
        at: now.div_euclid(1000),
    });
    d.note(
        &caller.user,
        ActivityKind::Admin,
        format!("revoked the sessions of {user_id}"),
        None,
    );
    d.close_user = Some(user_id);
    Ok(json!({}))
}

/// Stored accounts and anyone online (device and minted tokens have no
/// stored account but are users all the same), by id.
pub fn user_list(st: &State, online: HashMap<String, (UserRef, u64)>) -> Vec<m::UserInfo> {
    let users = &st.records.users;
    let mut rows: Vec<m::UserInfo> = users
        .values()
        .map(|u| {
            let sessions = online.get(&u.id).map(|(_, n)| *n).unwrap_or(0);
            m::UserInfo {
                id: u.id.clone(),
                name: u.name.clone(),
                role: u.role,
                online: sessions > 0,
                sessions,
            }
        })
        .collect();
    for (id, (user, n)) in online {
        if !users.contains_key(&id) {
            rows.push(m::UserInfo {
                id,
                name: user.name,
                role: user.role,
                online: true,
                sessions: n,
            });
        }
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows
}
