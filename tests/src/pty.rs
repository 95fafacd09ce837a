//! A terminal program under test, in a pseudo-terminal read by a terminal
//! emulator, all in Rust (`portable-pty` + `vt100`): the end-to-end tests of
//! the three terminal programs need nothing beyond the Rust toolchain.
//!
//! [`Program`] says what to run (binary, arguments, environment, size) and
//! [`Program::spawn`] starts it as a [`Term`]. A reader thread feeds
//! everything the program writes into a `vt100` screen; a test reads that
//! screen as plain text ([`Term::screen`]), waits for text to appear
//! ([`Term::wait_for`]), types ([`Term::send_keys`]), resizes
//! ([`Term::resize`]) and waits for the exit ([`Term::wait_exit`]). The
//! program is killed when the [`Term`] is dropped, also when a test panics.
//!
//! The waits are `async` so that a relay serving the program on the test's
//! own runtime keeps running while a test waits.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, ExitStatus, MasterPty, PtySize};

/// How long a screen may take to show what a test waits for: generous, as a
/// loaded CI machine draws slowly and a reconnect waits for its backoff.
pub const SCREEN_WAIT: Duration = Duration::from_secs(20);
/// How often a wait looks at the screen again.
const POLL: Duration = Duration::from_millis(50);
/// The pause after a lone Esc, so that the program reads it alone and not
/// as Alt plus the next key (a terminal program cannot tell them apart
/// otherwise).
const ESC_PAUSE: Duration = Duration::from_millis(100);
/// The size of one read from the pseudo-terminal.
const READ_CHUNK: usize = 8192;

/// Named keys for [`Term::send_keys`] and what a terminal (xterm, normal
/// cursor mode) sends for each.
const KEYS: &[(&str, &[u8])] = &[
    ("Enter", b"\r"),
    ("Tab", b"\t"),
    ("BTab", b"\x1b[Z"),
    ("Esc", b"\x1b"),
    ("Escape", b"\x1b"),
    ("Space", b" "),
    ("Backspace", b"\x7f"),
    ("Up", b"\x1b[A"),
    ("Down", b"\x1b[B"),
    ("Right", b"\x1b[C"),
    ("Left", b"\x1b[D"),
];

/// The bytes a terminal sends for `key`: a name from [`KEYS`], `C-x` for
/// Ctrl plus a letter, or else the text itself.
pub fn key_bytes(key: &str) -> Vec<u8> {
    if let Some((_, bytes)) = KEYS.iter().find(|(name, _)| *name == key) {
        return bytes.to_vec();
    }
    if let Some(ctrl) = ctrl_byte(key) {
        return vec![ctrl];
    }
    key.as_bytes().to_vec()
}

/// `C-a` … `C-z` (either case) as the control byte 0x01 … 0x1a.
fn ctrl_byte(key: &str) -> Option<u8> {
    let letter = key.strip_prefix("C-")?;
    match letter.as_bytes() {
        [c] if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase() & 0x1f),
        _ => None,
    }
}

/// Whether `screen` (as from [`Term::screen`]) is a drawing down to the
/// last of `rows` rows: a full-screen program keeps its status bar there, so
/// after a resize this tells its new drawing from the old, shorter one.
pub fn fills_rows(screen: &str, rows: u16) -> bool {
    let lines: Vec<&str> = screen.lines().collect();
    lines.len() == usize::from(rows) && lines.last().is_some_and(|l| !l.trim().is_empty())
}

/// What to run in the pseudo-terminal.
#[derive(Debug, Clone)]
pub struct Program {
    bin: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    cols: u16,
    rows: u16,
    home: Option<PathBuf>,
    log: Option<PathBuf>,
}

impl Program {
    /// `bin` (e.g. `env!("CARGO_BIN_EXE_kfood-crew")`) at 80×24.
    pub fn new(bin: impl Into<PathBuf>) -> Program {
        Program {
            bin: bin.into(),
            args: Vec::new(),
            env: Vec::new(),
            cols: 80,
            rows: 24,
            home: None,
            log: None,
        }
    }

    /// One more argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Program {
        self.args.push(arg.into());
        self
    }

    /// More arguments, in order.
    pub fn args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Program {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// One environment variable, over the harness's own.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Program {
        self.env.push((key.into(), value.into()));
        self
    }

    /// `NO_COLOR=1`: the screen must read without colour (DESIGN §12).
    pub fn no_color(self) -> Program {
        self.env("NO_COLOR", "1")
    }

    /// The terminal's size in columns and rows (80×24 unless said).
    pub fn size(mut self, cols: u16, rows: u16) -> Program {
        self.cols = cols;
        self.rows = rows;
        self
    }

    /// The program's home: `HOME` and `XDG_CACHE_HOME` point into `dir`, so
    /// its cache is the test's own. Two runs given the same `dir` share a
    /// cache; without this each run gets a fresh temporary home.
    pub fn home(mut self, dir: &Path) -> Program {
        self.home = Some(dir.to_owned());
        self
    }

    /// Passes `--log FILE` and shows the file when a wait fails.
    pub fn log(mut self, file: &Path) -> Program {
        self.args.push("--log".into());
        self.args.push(file.display().to_string());
        self.log = Some(file.to_owned());
        self
    }

    /// Starts the program; panics when it cannot (a test cannot go on).
    pub fn spawn(self) -> Term {
        let size = PtySize {
            rows: self.rows,
            cols: self.cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .expect("open a pseudo-terminal");
        let (home, temp_home) = match &self.home {
            Some(dir) => (dir.clone(), None),
            None => {
                let tmp = tempfile::tempdir().expect("temporary home");
                (tmp.path().to_owned(), Some(tmp))
            }
        };
        let child = pair
            .slave
            .spawn_command(self.command(&home))
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        // Only the program holds the terminal's other side now, so the reader
        // sees the end of output when it exits.
        drop(pair.slave);

        let writer = Arc::new(Mutex::new(
            pair.master.take_writer().expect("pseudo-terminal writer"),
        ));
        let rows = std::num::NonZeroU16::new(self.rows.max(1)).expect("rows > 0");
        let cols = std::num::NonZeroU16::new(self.cols.max(1)).expect("cols > 0");
        let parser = vt100::Parser::new_with_callbacks(rows, cols, 0, Replies(writer.clone()));
        let shared = Arc::new(Mutex::new(Shared {
            parser,
            closed: false,
        }));
        let reader = pair
            .master
            .try_clone_reader()
            .expect("pseudo-terminal reader");
        let feed = shared.clone();
        std::thread::spawn(move || read_into(reader, &feed));
        Term {
            child,
            master: pair.master,
            writer,
            shared,
            log: self.log,
            _home: temp_home,
        }
    }

    fn command(&self, home: &Path) -> CommandBuilder {
        let mut cmd = CommandBuilder::new(&self.bin);
        cmd.args(&self.args);
        cmd.cwd(home);
        // Whatever the person running the tests has set for the programs
        // (a token, a relay, a log level) must not leak into a test.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("KFOOD_") || name == "NO_COLOR" || name == "RUST_LOG" {
                cmd.env_remove(&key);
            }
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home);
        cmd.env("XDG_CACHE_HOME", home.join(".cache"));
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }
}

/// The emulated screen, and whether the program's output has ended.
struct Shared {
    parser: vt100::Parser<Replies>,
    closed: bool,
}

/// Answers the one query a terminal program may block on, the cursor
/// position report (`CSI 6 n`), as a real terminal would.
struct Replies(Arc<Mutex<Box<dyn Write + Send>>>);

impl vt100::Callbacks for Replies {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        if c == 'n' && i1.is_none() && params == [&[6][..]] {
            let (row, col) = screen.cursor_position();
            let reply = format!("\x1b[{};{}R", row + 1, col + 1);
            let mut w = lock(&self.0);
            let _ = w.write_all(reply.as_bytes()).and_then(|()| w.flush());
        }
    }
}

/// The reader thread: everything the program writes, into the emulator,
/// until the program's side of the terminal is closed.
fn read_into(mut reader: Box<dyn Read + Send>, shared: &Mutex<Shared>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => lock(shared).parser.process(&buf[..n]),
        }
    }
    lock(shared).closed = true;
}

/// A poisoned lock only means another thread panicked mid-test; the screen
/// is still worth showing.
fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running program in a pseudo-terminal; killed when dropped.
pub struct Term {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    shared: Arc<Mutex<Shared>>,
    log: Option<PathBuf>,
    _home: Option<tempfile::TempDir>,
}

impl Term {
    /// The screen as text: one line per row, trailing spaces trimmed.
    pub fn screen(&self) -> String {
        let shared = lock(&self.shared);
        let screen = shared.parser.screen();
        let (_, cols) = screen.size();
        let rows: Vec<String> = screen
            .rows(0, cols.get())
            .map(|row| row.trim_end().to_owned())
            .collect();
        rows.join("\n")
    }

    /// Whether the program is showing the alternate screen (a full-screen
    /// program does while it runs, and leaves it when it restores the terminal).
    pub fn alternate_screen(&self) -> bool {
        lock(&self.shared).parser.screen().alternate_screen()
    }

    /// Whether the terminal is in raw mode (no line editing, no echo), as a
    /// full-screen program sets it while it runs; `None` where the platform
    /// cannot tell.
    pub fn raw_mode(&self) -> Option<bool> {
        #[cfg(unix)]
        {
            use nix::sys::termios::LocalFlags;
            let termios = self.master.get_termios()?;
            Some(!termios.local_flags.contains(LocalFlags::ICANON))
        }
        #[cfg(not(unix))]
        None
    }

    /// Keys, in order: each a name (`Enter`, `Tab`, `BTab`, `Esc`, `Space`,
    /// `Backspace`, `Up`, `Down`, `Left`, `Right`, `C-c` …) or else text typed
    /// as it is. Text that reads as a key name goes through [`Term::type_text`].
    pub fn send_keys(&self, keys: &[&str]) {
        for key in keys {
            let bytes = key_bytes(key);
            self.write(&bytes);
            if bytes == b"\x1b" {
                std::thread::sleep(ESC_PAUSE);
            }
        }
    }

    /// `text` typed as it is, key names included.
    pub fn type_text(&self, text: &str) {
        self.write(text.as_bytes());
    }

    fn write(&self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes)
            .and_then(|()| w.flush())
            .expect("write to the program's terminal");
    }

    /// Resizes the terminal; the program gets SIGWINCH as from a real one.
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        // The emulator first, so that the redraw lands on the new size.
        if let (Some(r), Some(c)) = (
            std::num::NonZeroU16::new(rows),
            std::num::NonZeroU16::new(cols),
        ) {
            lock(&self.shared).parser.set_size(r, c);
        }
        self.master.resize(size).expect("resize the terminal");
    }

    /// Waits until every one of `needles` is on the screen; returns it.
    pub async fn wait_for(&self, needles: &[&str], timeout: Duration) -> String {
        self.wait_until(&format!("{needles:?}"), timeout, |s| {
            needles.iter().all(|n| s.contains(n))
        })
        .await
    }

    /// Waits until `needle` is no longer on the screen; returns it.
    pub async fn wait_gone(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{needle:?} gone"), timeout, |s| {
            !s.contains(needle)
        })
        .await
    }

    /// Waits until `ok` holds for the screen; returns it. On timeout panics
    /// with `what`, the last screen and the program's log.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("{}", self.report(&format!("{what} not within {timeout:?}")));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for the program to exit and for all it wrote to reach the
    /// screen; returns its exit status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                if lock(&self.shared).closed || Instant::now() > deadline {
                    return status;
                }
            }
            if Instant::now() > deadline {
                panic!("{}", self.report(&format!("no exit within {timeout:?}")));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A failure message: what went wrong, the screen, and the log if any.
    fn report(&self, what: &str) -> String {
        let screen = self.screen();
        let mut msg = format!("{what}; the screen:\n{screen}");
        if let Some(log) = &self.log {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            msg.push_str(&format!("\n--- {} ---\n{text}", log.display()));
        }
        msg
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Named keys send what an xterm sends; anything else is typed as text.
    #[test]
    fn key_names_become_terminal_bytes() {
        assert_eq!(key_bytes("Enter"), b"\r");
        assert_eq!(key_bytes("Tab"), b"\t");
        assert_eq!(key_bytes("BTab"), b"\x1b[Z");
        assert_eq!(key_bytes("Esc"), b"\x1b");
        assert_eq!(key_bytes("Escape"), b"\x1b");
        assert_eq!(key_bytes("Space"), b" ");
        assert_eq!(key_bytes("Backspace"), b"\x7f");
        assert_eq!(key_bytes("Up"), b"\x1b[A");
        assert_eq!(key_bytes("Down"), b"\x1b[B");
        assert_eq!(key_bytes("Right"), b"\x1b[C");
        assert_eq!(key_bytes("Left"), b"\x1b[D");
        assert_eq!(key_bytes("C-c"), [0x03]);
        assert_eq!(key_bytes("C-u"), [0x15]);
        assert_eq!(key_bytes("C-U"), [0x15]);
        assert_eq!(key_bytes("q"), b"q");
        assert_eq!(key_bytes("4242 4242"), b"4242 4242");
        assert_eq!(key_bytes("C-"), b"C-");
        assert_eq!(key_bytes("C-cc"), b"C-cc");
        assert_eq!(key_bytes("€"), "€".as_bytes());
    }

    /// A drawing fills the rows only when its last row is the screen's last.
    #[test]
    fn fills_rows_knows_a_full_drawing() {
        let full = "┌──┐\n│ab│\n└──┘";
        assert!(fills_rows(full, 3));
        assert!(!fills_rows(full, 4), "shorter than the screen");
        assert!(!fills_rows(&format!("{full}\n"), 4), "last row blank");
    }

    /// A real program's output reaches the screen as text, the keys reach
    /// the program, the cursor position query is answered, and the exit
    /// status is seen.
    #[cfg(unix)]
    #[tokio::test]
    async fn runs_a_program_and_reads_its_screen() {
        let script = r#"printf 'one\r\n  two  \r\n'; stty -echo
            printf '\033[6n'; IFS= read -r -d R pos
            IFS= read -r line; echo "pos ${pos#?} line $line"; exit 3"#;
        let mut t = Program::new("bash")
            .args(["-c", script])
            .size(40, 10)
            .spawn();
        t.wait_for(&["one", "  two"], SCREEN_WAIT).await;
        assert!(t.screen().starts_with("one\n  two\n"), "{}", t.screen());
        assert_eq!(t.raw_mode(), Some(false));
        t.send_keys(&["hello", "Space", "x", "Enter"]);
        let status = t.wait_exit(SCREEN_WAIT).await;
        assert_eq!(status.exit_code(), 3);
        assert!(
            t.screen().contains("pos [3;1 line hello x"),
            "{}",
            t.screen()
        );
    }
}
