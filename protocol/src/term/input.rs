//! The event loop's inputs, shared by the three programs (DESIGN §12): key
//! presses and resizes from the terminal, events from the program's network
//! task, a render tick, and a hang-up or SIGTERM. Each program's loop is
//! `loop { match inputs.next().await? { … } }` around its own state.

use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use super::signals::Stop;

/// One thing for the event loop to handle.
#[derive(Debug)]
pub enum Input<E> {
    /// A key press or repeat (releases are dropped).
    Key(KeyEvent),
    /// The terminal changed size: draw again.
    Resize,
    /// An event from the network task.
    Net(E),
    /// The network task dropped its sender (reported once).
    NetClosed,
    /// The render tick: clocks and ages on screen move.
    Tick,
    /// SIGHUP or SIGTERM (its name): leave like `q`.
    Stop(&'static str),
    /// The terminal's event stream ended.
    Closed,
}

/// Where the inputs come from.
pub struct Inputs<E> {
    keys: EventStream,
    tick: Interval,
    net: mpsc::Receiver<E>,
    net_open: bool,
    stop: Stop,
}

impl<E> Inputs<E> {
    /// Reads the terminal, `net`, a tick every `tick` (a late tick is
    /// skipped, not made up) and the signals of `stop`.
    pub fn new(net: mpsc::Receiver<E>, tick: Duration, stop: Stop) -> Inputs<E> {
        let mut tick = tokio::time::interval(tick);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Inputs {
            keys: EventStream::new(),
            tick,
            net,
            net_open: true,
            stop,
        }
    }

    /// The next input; an error reading the terminal is returned.
    pub async fn next(&mut self) -> std::io::Result<Input<E>> {
        loop {
            let input = tokio::select! {
                ev = self.keys.next() => match ev {
                    Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => Input::Key(k),
                    Some(Ok(Event::Resize(..))) => Input::Resize,
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e),
                    None => Input::Closed,
                },
                ev = self.net.recv(), if self.net_open => match ev {
                    Some(ev) => Input::Net(ev),
                    None => {
                        self.net_open = false;
                        Input::NetClosed
                    }
                },
                sig = self.stop.recv() => Input::Stop(sig),
                _ = self.tick.tick() => Input::Tick,
            };
            return Ok(input);
        }
    }

    /// A network event already waiting, without waiting: lets a loop take a
    /// burst before it draws once.
    pub fn try_net(&mut self) -> Option<E> {
        self.net.try_recv().ok()
    }
}
