//! Certificates of attendance: the attendee's name (as it stands today: a corrected name gives a
//! corrected certificate), the licence number they gave, the masterclass, its day and place, its
//! continuing-education hours and the organiser's signature line.

use chrono::NaiveDate;
use serde_json::json;

use super::layout::{Page, Pages, Style, HEIGHT, MARGIN, WIDTH};
use super::{text, with, Day, DocumentError};

#[derive(Debug, Clone)]
pub struct Attendance {
    pub name: String,
    pub licence_number: Option<String>,
    pub issued_on: NaiveDate,
}

pub fn render(day: &Day, who: &Attendance) -> Result<Vec<u8>, DocumentError> {
    let l = day.locale()?;
    let v = with(
        day.vars(l),
        json!({
            "name": who.name,
            "licence": who.licence_number.clone().unwrap_or_default(),
            "issued": l.date(who.issued_on),
        }),
    );
    let mut p = Page::default();
    let inner = WIDTH - 2.0 * MARGIN;
    p.frame(MARGIN - 16.0, MARGIN - 16.0, WIDTH - 2.0 * (MARGIN - 16.0), HEIGHT - 2.0 * (MARGIN - 16.0));
    p.centre(130.0, 12.0, Style::Bold, day.organiser.legal_name.clone());
    p.centre(190.0, 26.0, Style::Bold, text(l, "certificate.heading", &v)?);
    p.centre(250.0, 12.0, Style::Regular, text(l, "certificate.certify", &v)?);
    let mut y = p.centred_paragraph(290.0, 22.0, Style::Bold, inner, &who.name);
    if who.licence_number.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        y = p.centred_paragraph(y, 11.0, Style::Regular, inner, &text(l, "certificate.licence", &v)?);
    }
    y = p.centred_paragraph(y + 14.0, 12.0, Style::Regular, inner, &text(l, "certificate.attended", &v)?);
    y = p.centred_paragraph(y + 4.0, 15.0, Style::Bold, inner - 40.0, &day.title);
    y = p.centred_paragraph(y + 4.0, 12.0, Style::Regular, inner, &text(l, "certificate.presenter", &v)?);
    y = p.centred_paragraph(y, 12.0, Style::Regular, inner, &text(l, "certificate.when", &v)?);
    p.centred_paragraph(y + 16.0, 16.0, Style::Bold, inner, &text(l, "certificate.hours", &v)?);

    let sig_y = HEIGHT - 170.0;
    p.rule(WIDTH / 2.0 + 20.0, WIDTH - MARGIN - 20.0, sig_y, 0.8);
    p.text(WIDTH / 2.0 + 20.0, sig_y + 16.0, 10.0, Style::Regular, text(l, "certificate.signature", &v)?);
    p.text(WIDTH / 2.0 + 20.0, sig_y + 30.0, 10.0, Style::Regular, text(l, "certificate.for_organiser", &v)?);
    p.text(MARGIN + 10.0, HEIGHT - 100.0, 8.0, Style::Regular, text(l, "certificate.reference", &v)?);

    let mut pages = Pages::new();
    pages.push(p);
    pages.finish(&text(l, "certificate.title", &v)?, day.language.as_str())
}
