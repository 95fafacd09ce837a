//! What the three terminal programs share (DESIGN §12), behind the `term`
//! feature: the [`theme`] (colour, `NO_COLOR`, `--ascii`), money and time
//! [`fmt`], the common flags ([`args::CommonArgs`], flattened into each
//! program's own), [`log`]ging to a file, signing in with the account's own
//! role ([`auth`]), hang-up and SIGTERM ([`signals`]), the event loop's
//! inputs ([`input`]), the connection state in words ([`status`]) and
//! "terminal too small" ([`small`]).

pub mod args;
pub mod auth;
pub mod fmt;
pub mod input;
pub mod log;
pub mod signals;
pub mod small;
pub mod status;
pub mod theme;

pub use args::CommonArgs;
pub use auth::{session_role, sign_in, Program, SignIn, SignInError};
pub use input::{Input, Inputs};
pub use signals::Stop;
pub use theme::Theme;
