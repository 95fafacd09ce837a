//! The admin's forms: how each is laid out (filled from what it edits), and
//! the typed request a filled form makes, checked here first so that most
//! mistakes are said at once, next to the field.

use kfood_protocol::menu::{validate_station, MenuItem, MenuItemPatch, MenuOp, Promo};
use kfood_protocol::messages::{
    Announce, AnnouncementKind, Audience, MenuUpdate, OrderCancel, PromoUpsert, UserCreate,
};
use kfood_protocol::time::Millis;
use kfood_protocol::{Request, Role};

use crate::form::{parse_money, Field, Form};

use super::{clean, FormKind};

/// A form's field at fault and why.
pub type FormError = (String, String);

fn bad<T>(field: &str, why: &str) -> Result<T, FormError> {
    Err((field.to_owned(), why.to_owned()))
}

/// The request a filled form makes, or the field at fault and why.
pub fn form_request(form: &Form<FormKind>, now_ms: Millis) -> Result<Request, FormError> {
    match &form.kind {
        FormKind::NewItem | FormKind::EditItem(_) => item_request(form),
        FormKind::ItemOptions(id) => super::options::options_request(form, id),
        FormKind::Announce => announce_request(form, now_ms),
        FormKind::NewPromo | FormKind::EditPromo(_) => promo_request(form, now_ms),
        FormKind::NewUser => user_request(form),
        FormKind::CancelOrder(id) => Ok(Request::OrderCancel(OrderCancel {
            order_id: *id,
            reason: form.get("reason").trim().to_owned(),
        })),
        FormKind::Capacity => super::capacity::capacity_request(form, now_ms),
    }
}

fn item_request(form: &Form<FormKind>) -> Result<Request, FormError> {
    let id = form.get("id").trim().to_owned();
    if let Err(e) = kfood_protocol::menu::validate_item_id(&id) {
        return bad("id", &e.message);
    }
    let Some(price) = parse_money(form.get("price")) else {
        return bad("price", "a price looks like 13.50");
    };
    let Ok(prep) = form.get("prep").trim().parse::<u32>() else {
        return bad("prep", "prep time is whole minutes, like 12");
    };
    for (key, what) in [("name", "a name"), ("category", "a category")] {
        if form.get(key).trim().is_empty() {
            return bad(key, &format!("the item needs {what}"));
        }
    }
    let station = form.get("station").trim().to_owned();
    if let Err(e) = validate_station("station", &station) {
        return bad("station", &e.message);
    }
    let text = |k: &str| Some(form.get(k).trim().to_owned());
    Ok(Request::MenuUpdate(MenuUpdate {
        op: MenuOp::Upsert,
        item: MenuItemPatch {
            id,
            name: text("name"),
            category: text("category"),
            description: text("description"),
            price_cents: Some(price),
            prep_minutes: Some(prep),
            available: Some(form.get("available") == "yes"),
            station: Some(station),
            // The form leaves an item's option groups as they are.
            options: None,
        },
    }))
}

fn announce_request(form: &Form<FormKind>, now_ms: Millis) -> Result<Request, FormError> {
    let text = form.get("text").trim();
    if text.is_empty() {
        return bad("text", "write what to announce");
    }
    let audience = match form.get("audience") {
        "customer" => Audience::Customer,
        "crew" => Audience::Crew,
        "admin" => Audience::Admin,
        _ => Audience::All,
    };
    let kind = match form.get("kind") {
        "maintenance" => AnnouncementKind::Maintenance,
        "promotion" => AnnouncementKind::Promotion,
        _ => AnnouncementKind::Announcement,
    };
    let expires_at = match crate::cli::parse_expiry(form.get("expires"), now_ms) {
        Ok(e) => e,
        Err(why) => return bad("expires", &why),
    };
    Ok(Request::Announce(Announce {
        audience,
        kind,
        text: text.to_owned(),
        expires_at,
    }))
}

fn promo_request(form: &Form<FormKind>, now_ms: Millis) -> Result<Request, FormError> {
    let code = form.get("code").trim().to_ascii_uppercase();
    if let Err(e) = kfood_protocol::menu::normalize_promo_code(&code) {
        return bad("code", &e.message);
    }
    let mut promo = PromoUpsert {
        code,
        percent_off: None,
        amount_off_cents: None,
        active: form.get("active") == "yes",
        expires_at: None,
    };
    let discount = form.get("discount").trim();
    if let Some(p) = discount.strip_suffix('%') {
        match p.trim().parse::<u32>() {
            Ok(p) if (1..=100).contains(&p) => promo.percent_off = Some(p),
            _ => return bad("discount", "a percentage is 1% to 100%"),
        }
    } else if !discount.is_empty() {
        match parse_money(discount) {
            Some(c) if c > 0 => promo.amount_off_cents = Some(c),
            _ => return bad("discount", "write 10% or an amount like 5.00"),
        }
    } else if form.kind == FormKind::NewPromo {
        return bad("discount", "write 10% or an amount like 5.00");
    }
    promo.expires_at = match crate::cli::parse_expiry(form.get("expires"), now_ms) {
        Ok(e) => e,
        Err(why) => return bad("expires", &why),
    };
    Ok(Request::PromoUpsert(promo))
}

fn user_request(form: &Form<FormKind>) -> Result<Request, FormError> {
    let username = form.get("username").trim();
    if let Err(e) = kfood_protocol::messages::validate_username(username) {
        return bad("username", &e.message);
    }
    if let Err(e) = kfood_protocol::messages::validate_password(form.get("password")) {
        return bad("password", &e.message);
    }
    let name = match form.get("name").trim() {
        "" => username,
        n => n,
    };
    let role: Role = form.get("role").parse().unwrap_or(Role::Crew);
    Ok(Request::UserCreate(UserCreate {
        username: username.to_owned(),
        password: form.get("password").to_owned(),
        name: name.to_owned(),
        role,
    }))
}

/// The menu item form. A new item starts in the category and at the
/// station of `like` (the selected row); `stations` are those in use,
/// offered as the station field's hint and cycled with Ctrl-N.
pub(super) fn item_form(
    kind: FormKind,
    title: &str,
    item: Option<&MenuItem>,
    like: Option<&MenuItem>,
    stations: &[String],
) -> Form<FormKind> {
    use kfood_protocol::limits::*;
    let s = |f: fn(&MenuItem) -> String| item.map(f).unwrap_or_default();
    let mut id = Field::text("id", "Id", &s(|i| clean(&i.id)), MAX_ITEM_ID_CHARS)
        .hint("short id, like kimchi-jjigae");
    if item.is_some() {
        id = id.locked();
    }
    Form::new(
        kind,
        title,
        vec![
            id,
            Field::text("name", "Name", &s(|i| clean(&i.name)), MAX_NAME_CHARS),
            Field::text(
                "category",
                "Category",
                &item
                    .or(like)
                    .map(|i| clean(&i.category))
                    .unwrap_or_default(),
                MAX_NAME_CHARS,
            ),
            Field::text(
                "description",
                "Description",
                &s(|i| clean(&i.description)),
                MAX_DESCRIPTION_CHARS,
            ),
            Field::text(
                "price",
                "Price",
                &s(|i| {
                    let c = i.price_cents;
                    format!("{}.{:02}", c / 100, c % 100)
                }),
                12,
            )
            .hint("13.50"),
            Field::text(
                "prep",
                "Prep minutes",
                &s(|i| i.prep_minutes.to_string()),
                4,
            )
            .hint("12"),
            station_field(item.or(like), stations),
            Field::choice(
                "available",
                "Available",
                &["yes", "no"],
                if item.is_none_or(|i| i.available) {
                    "yes"
                } else {
                    "no"
                },
            ),
        ],
    )
}

/// The station field: the item's station, the stations in use as its
/// hint, and Ctrl-N to step through them.
fn station_field(item: Option<&MenuItem>, stations: &[String]) -> Field {
    let value = item.map_or(kfood_protocol::menu::DEFAULT_STATION.to_owned(), |i| {
        clean(&i.station)
    });
    let hint = if stations.is_empty() {
        "kitchen, grill, wok … (a-z 0-9 - _)".to_owned()
    } else {
        let names: Vec<String> = stations.iter().map(|s| clean(s)).collect();
        format!("Ctrl-N: {}", names.join(", "))
    };
    Field::text(
        "station",
        "Station",
        &value,
        kfood_protocol::limits::MAX_STATION_CHARS,
    )
    .hint(hint)
    .suggest(stations.to_vec())
}

pub(super) fn announce_form() -> Form<FormKind> {
    Form::new(
        FormKind::Announce,
        "New announcement",
        vec![
            Field::choice(
                "audience",
                "Audience",
                &["all", "customer", "crew", "admin"],
                "all",
            ),
            Field::choice(
                "kind",
                "Kind",
                &["announcement", "maintenance", "promotion"],
                "announcement",
            ),
            Field::text(
                "text",
                "Text",
                "",
                kfood_protocol::limits::MAX_ANNOUNCEMENT_CHARS,
            )
            .hint("what they will read (up to 1000 characters)"),
            Field::text("expires", "Expires in", "", 40).hint("empty = never; 30m, 2h, 1d"),
        ],
    )
}

pub(super) fn promo_form(promo: Option<&Promo>) -> Form<FormKind> {
    let (kind, title) = match promo {
        Some(p) => (FormKind::EditPromo(p.code.clone()), "Edit promo code"),
        None => (FormKind::NewPromo, "New promo code"),
    };
    let mut code = Field::text(
        "code",
        "Code",
        &promo.map(|p| clean(&p.code)).unwrap_or_default(),
        kfood_protocol::limits::MAX_PROMO_CODE_CHARS,
    )
    .hint("WELCOME10");
    if promo.is_some() {
        code = code.locked();
    }
    let discount = promo.map(promo_discount).unwrap_or_default();
    let active = if promo.is_none_or(|p| p.active) {
        "yes"
    } else {
        "no"
    };
    Form::new(
        kind,
        title,
        vec![
            code,
            Field::text("discount", "Discount", &discount, 12).hint("10% or 5.00"),
            Field::choice("active", "Active", &["yes", "no"], active),
            Field::text("expires", "Expires in", "", 40).hint("empty = never; 30m, 2h, 1d"),
        ],
    )
}

/// `10%` or `5.00`, as the promo form takes it.
pub fn promo_discount(p: &Promo) -> String {
    match (p.percent_off, p.amount_off_cents) {
        (Some(pc), _) => format!("{pc}%"),
        (None, Some(c)) => format!("{}.{:02}", c / 100, c % 100),
        _ => String::new(),
    }
}

pub(super) fn user_form() -> Form<FormKind> {
    use kfood_protocol::limits::*;
    Form::new(
        FormKind::NewUser,
        "New account",
        vec![
            Field::text("username", "Username", "", USERNAME_MAX).hint("kim.station-2"),
            Field::text("name", "Name", "", MAX_NAME_CHARS).hint("display name"),
            Field::secret("password", "Password", PASSWORD_MAX),
            Field::choice("role", "Role", &["crew", "admin", "customer"], "crew"),
        ],
    )
}
