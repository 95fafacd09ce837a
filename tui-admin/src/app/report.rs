//! The day's report over the Dashboard (`R`, DESIGN §14): asked of the
//! network task, which fetches it over the HTTP API off the render path,
//! and shown when it arrives. Esc closes it; Up/Down scroll.

use kfood_protocol::report::DayReport;

use super::{App, NetCmd, Overlay, ReportView};

impl App {
    /// Opens the overlay and asks for today's report.
    pub(super) fn open_report(&mut self) {
        self.overlay = Overlay::Report {
            view: ReportView::Loading,
            scroll: 0,
        };
        self.outbox.push(NetCmd::Report { date: None });
    }

    /// The report (or why there is none) arrived; shown if still open.
    pub(super) fn on_report(&mut self, r: Result<Box<DayReport>, String>) {
        if let Overlay::Report { view, .. } = &mut self.overlay {
            *view = match r {
                Ok(report) => ReportView::Ready(report),
                Err(why) => ReportView::Failed(why),
            };
        }
    }
}
