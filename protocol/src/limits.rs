//! The limits of DESIGN §9. The relay exposes each as a flag; these are the
//! defaults, and the text limits that every program checks before sending.

/// Largest client frame the relay accepts; a larger one closes the socket 4009.
/// 64 KiB fits a full 50-line order with notes many times over.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Smallest read limit of the WebSocket transport, so that an oversize frame is
/// read whole and answered with 4009 rather than a transport error.
pub const TRANSPORT_MIN_READ_BYTES: usize = 1024 * 1024;
/// Messages in one `batch` frame; a larger batch is refused whole.
pub const MAX_BATCH: usize = 100;
/// Messages a connection may send per second, steady state.
pub const RATE_PER_SEC: u32 = 20;
/// Messages a connection may send at once before the steady rate applies.
pub const RATE_BURST: u32 = 50;
/// Login attempts per client address per minute.
pub const LOGIN_PER_MIN: u32 = 10;
/// Default heartbeat interval announced in `authenticated`.
pub const HEARTBEAT_MS: u64 = 15_000;
/// Frames queued for one slow connection before the relay closes it; the
/// client then resumes from its last seq, so nothing is lost.
pub const OUTBOUND_QUEUE: usize = 1024;
/// Durable events kept in the log; a client further behind gets a snapshot.
pub const LOG_RETENTION: u64 = 100_000;
/// sled page cache, in MiB (sled's own default of 1 GiB is too much for a kitchen box).
pub const CACHE_MB: u64 = 64;

/// First frame of a socket must arrive within this many seconds.
pub const AUTH_TIMEOUT_SECS: u64 = 10;
/// Lines in one order.
pub const MAX_ORDER_LINES: usize = 50;
/// Quantity of one line, inclusive.
pub const MIN_QTY: u32 = 1;
pub const MAX_QTY: u32 = 99;
/// Characters of a line note or of an order's instructions.
pub const MAX_NOTES_CHARS: usize = 500;
/// Characters of an announcement.
pub const MAX_ANNOUNCEMENT_CHARS: usize = 1000;
/// Characters of a name (user, menu item, category).
pub const MAX_NAME_CHARS: usize = 64;
/// Characters of a menu item description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// Characters of a delivery address, a cancel reason or a status note.
pub const MAX_SHORT_TEXT_CHARS: usize = 500;
/// Username length, inclusive, of `[a-z0-9._-]`.
pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
/// Password length in characters, inclusive.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
/// A recall (one status back) is allowed within this many seconds of the
/// bump that moved the order into its status (DESIGN §6: 15 minutes), long
/// enough for a ticket bumped by mistake at the pass to be noticed.
pub const RECALL_WINDOW_SECS: i64 = 900;
/// Entries kept in an order's history (DESIGN §6); the first (placed) is
/// always kept, the oldest after it go first.
pub const MAX_HISTORY: usize = 100;
/// Events in one `GET /api/events` answer.
pub const POLL_MAX_EVENTS: usize = 500;
/// Longest hold of a long-poll, in seconds.
pub const POLL_MAX_WAIT_SECS: u64 = 30;
/// Closed orders in a snapshot: the most recent, within the last day.
pub const SNAPSHOT_CLOSED_ORDERS: usize = 200;
pub const SNAPSHOT_CLOSED_WINDOW_SECS: i64 = 24 * 3600;
/// `activity_query` page size.
pub const ACTIVITY_DEFAULT_LIMIT: usize = 100;
pub const ACTIVITY_MAX_LIMIT: usize = 200;
/// Largest price or discount, in cents: keeps totals far from overflow.
pub const MAX_PRICE_CENTS: i64 = 1_000_000;
/// Longest prep or delivery estimate, in minutes.
pub const MAX_MINUTES: u32 = 600;
/// Menu item ids: `[a-z0-9_-]`, this many characters at most.
pub const MAX_ITEM_ID_CHARS: usize = 32;
/// Promo codes: `[A-Z0-9_-]`, this many characters at most.
pub const MAX_PROMO_CODE_CHARS: usize = 32;
/// Station names (DESIGN §13): `[a-z0-9_-]`, this many characters at most.
pub const MAX_STATION_CHARS: usize = 24;
/// Characters of a kitchen note (DESIGN §13): one line, short enough to read
/// on a ticket at a glance.
pub const MAX_KITCHEN_NOTE_CHARS: usize = 200;
/// Option groups on one menu item (DESIGN §14): enough for size, spice,
/// extras and sides without turning a ticket into a form.
pub const MAX_OPTION_GROUPS: usize = 8;
/// Choices in one option group (DESIGN §14).
pub const MAX_OPTION_CHOICES: usize = 12;
/// Option group and choice ids (DESIGN §14): `[a-z0-9_-]`, this many
/// characters at most.
pub const MAX_OPTION_ID_CHARS: usize = 24;
/// Largest `orders_per_slot` of `capacity_set` (DESIGN §14; 0 is no limit).
pub const MAX_ORDERS_PER_SLOT: u32 = 1000;
/// Largest `extra_minutes` of `capacity_set` (DESIGN §14): two hours is the
/// longest wait a restaurant would still quote rather than pause.
pub const MAX_EXTRA_MINUTES: u32 = 120;
/// Length of a capacity slot (DESIGN §14: a quarter hour from the epoch).
pub const SLOT_SECS: i64 = 900;
/// How far ahead an order may be scheduled, and a free slot is searched.
pub const SCHEDULE_AHEAD_DAYS: i64 = 7;
/// Minutes a delivery's ride takes unless the kitchen says otherwise: the
/// relay puts it on a new delivery order, and it is part of the earliest
/// `scheduled_for` a delivery may ask for (DESIGN §14).
pub const DEFAULT_DELIVERY_MINUTES: u32 = 25;
