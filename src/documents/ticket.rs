//! Tickets: one page per attendee, with the name, the day, the place, the booking and a QR code
//! of the seat's signed ticket token (what the check-in scans).

use serde_json::json;

use super::layout::{Page, Pages, Style, MARGIN, WIDTH};
use super::{text, with, Day, DocumentError};

/// One seat's ticket.
#[derive(Debug, Clone)]
pub struct Seat {
    pub position: i32,
    pub name: Option<String>,
    /// `domain::tokens::ticket_token` of the seat's current code.
    pub token: String,
}

/// The tickets of `seats` (of a booking of `quantity` seats), one page each.
pub fn tickets(day: &Day, quantity: i32, seats: &[Seat]) -> Result<Vec<u8>, DocumentError> {
    let l = day.locale()?;
    let vars = day.vars(l);
    let mut pages = Pages::new();
    for seat in seats {
        let v = with(vars.clone(), json!({ "position": seat.position, "quantity": quantity }));
        let mut p = Page::default();
        let right = WIDTH - MARGIN;
        p.text(MARGIN, 80.0, 11.0, Style::Bold, day.organiser.legal_name.clone());
        p.right(right, 80.0, 11.0, Style::Regular, text(l, "ticket.reference", &v)?);
        p.rule(MARGIN, right, 92.0, 0.8);
        p.text(MARGIN, 130.0, 24.0, Style::Bold, text(l, "ticket.heading", &v)?);
        let mut y = p.paragraph(MARGIN, 160.0, 13.0, Style::Regular, right - MARGIN, &day.title);

        // The stub: who, when, where on the left; the code on the right.
        let top = y + 10.0;
        p.frame(MARGIN, top, right - MARGIN, 250.0);
        let (x, column) = (MARGIN + 18.0, 290.0);
        y = top + 32.0;
        p.text(x, y, 9.0, Style::Regular, text(l, "ticket.attendee", &v)?);
        let name = match seat.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => text(l, "name_to_come", &v)?,
        };
        y = p.paragraph(x, y + 20.0, 18.0, Style::Bold, column, &name);
        p.text(x, y - 4.0, 10.0, Style::Regular, text(l, "ticket.seat", &v)?);
        y += 22.0;
        p.text(x, y, 9.0, Style::Regular, text(l, "ticket.when", &v)?);
        p.text(x, y + 16.0, 12.0, Style::Bold, v["date"].as_str().unwrap_or_default().to_owned());
        y = p.paragraph(x, y + 32.0, 10.0, Style::Regular, column, &text(l, "ticket.time", &v)?) + 8.0;
        p.text(x, y, 9.0, Style::Regular, text(l, "ticket.where", &v)?);
        p.text(x, y + 16.0, 12.0, Style::Bold, format!("{} — {}", day.city, day.venue_name));
        p.paragraph(x, y + 32.0, 10.0, Style::Regular, column, &day.venue_address);
        let side = 170.0;
        p.qr(right - side - 18.0, top + 40.0, side, &seat.token)?;

        y = top + 250.0 + 30.0;
        y = p.paragraph(MARGIN, y, 10.0, Style::Regular, right - MARGIN, &text(l, "ticket.scan", &v)?);
        p.paragraph(MARGIN, y + 6.0, 10.0, Style::Regular, right - MARGIN, &text(l, "ticket.help", &v)?);
        pages.push(p);
    }
    let title = text(l, "ticket.title", &vars)?;
    pages.finish(&title, day.language.as_str())
}
