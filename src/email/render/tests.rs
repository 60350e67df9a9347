//! The mails as a reader gets them: every kind in both languages, the formats, escaping, links,
//! the calendar attachment, and the snapshots of `tests/snapshots/emails/`.

use std::path::PathBuf;

use super::*;
use crate::domain::Language;

fn renderer() -> EmailRenderer {
    EmailRenderer::new().expect("renderer builds")
}

const LANGS: [Language; 2] = [Language::Fr, Language::En];

struct Tracking;
impl LinkTracker for Tracking {
    fn click_url(&self, target: &str) -> String {
        format!("https://t.example/c?u={}&k=1", target.len())
    }
    fn open_pixel_url(&self) -> Option<String> {
        Some("https://t.example/o.gif?id=42".into())
    }
}

fn unfold(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

#[test]
fn renderer_is_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<EmailRenderer>();
}

#[test]
fn every_kind_renders_in_both_languages() {
    let r = renderer();
    for kind in EmailKind::ALL {
        for lang in LANGS {
            for late in [false, true] {
                let mut ctx = EmailContext::sample(kind, lang);
                ctx.confirmed_late = late;
                let mail = r.render(&ctx, &NoTracking).unwrap_or_else(|e| panic!("{kind:?} {lang:?}: {e:#}"));
                for (part, s) in [("subject", &mail.subject), ("html", &mail.html), ("text", &mail.text)] {
                    assert!(!s.trim().is_empty(), "{kind:?} {lang:?}: empty {part}");
                    assert!(!s.contains("{{") && !s.contains("}}"), "{kind:?} {lang:?}: unreplaced braces in {part}");
                }
                assert!(!mail.subject.contains('\n'), "{kind:?} {lang:?}: multi-line subject");
                assert!(mail.html.contains(&format!("<html lang=\"{}-CA\">", lang.as_str())), "{kind:?} {lang:?}: lang attribute");
                assert!(mail.html.contains("<h1") && mail.html.contains("<h2"), "{kind:?} {lang:?}: real headings");
                assert!(!mail.html.contains("<img"), "{kind:?} {lang:?}: no pixel without tracking");
                assert!(mail.text.contains("Marie"), "{kind:?} {lang:?}: greeting");
                assert_eq!(mail.attachments.len(), usize::from(kind == EmailKind::Confirmation), "{kind:?}: attachments");
            }
        }
    }
}

#[test]
fn french_formats_in_the_confirmation() {
    let mail = renderer().render(&EmailContext::sample(EmailKind::Confirmation, Language::Fr), &NoTracking).unwrap();
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("9\u{a0}h\u{a0}00"), "24-hour time");
        assert!(part.contains("16\u{a0}h\u{a0}30"));
        assert!(part.contains("8\u{a0}h\u{a0}30"), "check-in time");
        assert!(part.contains("(HAE)"));
        assert!(part.contains("990,00\u{a0}$"), "subtotal");
        assert!(part.contains("1\u{202f}138,25\u{a0}$"), "total");
        assert!(part.contains("TPS (5\u{a0}%)") && part.contains("TVQ (9,975\u{a0}%)"));
        assert!(part.contains("123456789 RT0001") && part.contains("1234567890 TQ0001"));
        assert!(part.contains("vendredi 16 avril 2027"));
        assert!(part.contains("nom à venir"));
        assert!(part.contains("Palais des congrès de Montréal") && part.contains("H2Z 1H5"));
    }
    assert!(mail.subject.contains("vendredi 16 avril 2027"));
    assert!(mail.text.starts_with("Votre inscription est confirmée\n"));
    assert!(mail.text.contains("Bonjour Marie,"));
}

#[test]
fn english_formats_in_the_confirmation() {
    let mail = renderer().render(&EmailContext::sample(EmailKind::Confirmation, Language::En), &NoTracking).unwrap();
    for part in [&mail.text, &mail.html] {
        assert!(part.contains("9:00\u{a0}a.m."));
        assert!(part.contains("4:30\u{a0}p.m."));
        assert!(part.contains("(EDT)"));
        assert!(part.contains("$990.00") && part.contains("$1,138.25"));
        assert!(part.contains("GST (5%)") && part.contains("QST (9.975%)"));
        assert!(part.contains("Friday, April 16, 2027"));
        assert!(part.contains("name to come"));
    }
    assert!(mail.text.contains("Hello Marie,"));
}

#[test]
fn generic_greeting_discount_and_all_names() {
    let r = renderer();
    let mut ctx = EmailContext::sample(EmailKind::Confirmation, Language::Fr);
    ctx.recipient_first_name = Some("  ".into());
    ctx.attendee_names = vec![Some("Marie Tremblay".into()), Some("Luc Roy".into())];
    ctx.discount_cents = 9_900;
    let mail = r.render(&ctx, &NoTracking).unwrap();
    assert!(mail.text.contains("\nBonjour,\n"));
    assert!(mail.text.contains("Rabais") && mail.text.contains("\u{2212}99,00\u{a0}$"));
    assert!(mail.text.contains("Montant avant taxes") && mail.text.contains("891,00\u{a0}$"));
    assert!(!mail.text.contains("nom à venir") && !mail.text.contains("Il manque un nom"));
    ctx.language = Language::En;
    ctx.recipient_first_name = None;
    let mail = r.render(&ctx, &NoTracking).unwrap();
    assert!(mail.text.contains("\nHello,\n"));
    assert!(mail.text.contains("Discount") && mail.text.contains("\u{2212}$99.00"));
}

#[test]
fn user_data_is_escaped_in_html_only() {
    let mut ctx = EmailContext::sample(EmailKind::Confirmation, Language::En);
    ctx.buyer_name = "Marie <b>Tremblay</b> & \"Cie\"".into();
    ctx.venue_name = "Hall {{x}}".into();
    let mail = renderer().render(&ctx, &NoTracking).unwrap();
    assert!(mail.html.contains("Marie &lt;b&gt;Tremblay&lt;/b&gt; &amp; &quot;Cie&quot;"));
    assert!(mail.text.contains("Marie <b>Tremblay</b> & \"Cie\""));
    assert!(mail.text.contains("Hall {{x}}"), "values are not templates");
}

#[test]
fn late_confirmation_carries_the_skipped_reminders() {
    let r = renderer();
    let mut ctx = EmailContext::sample(EmailKind::Confirmation, Language::Fr);
    let on_time = r.render(&ctx, &NoTracking).unwrap();
    assert!(!on_time.text.contains(&ctx.resources_url));
    assert!(on_time.text.contains("À l’approche de la date"));
    ctx.confirmed_late = true;
    let late = r.render(&ctx, &NoTracking).unwrap();
    assert!(late.text.contains("L’essentiel des rappels précédents"));
    assert!(late.text.contains(&ctx.resources_url));
    assert!(late.text.contains("Dîner libre") && late.text.contains("12\u{a0}h\u{a0}00 à 13\u{a0}h\u{a0}00"));
    assert!(late.text.contains("Le dîner n’est pas inclus"));
    assert!(!late.text.contains("À l’approche de la date"));
    assert!(late.html.contains(&format!("href=\"{}\"", ctx.resources_url)));
}

#[test]
fn links_are_tracked_and_the_pixel_is_added() {
    let r = renderer();
    for kind in EmailKind::ALL {
        let ctx = EmailContext::sample(kind, Language::En);
        let mail = r.render(&ctx, &Tracking).unwrap();
        assert!(!mail.html.contains(&format!("href=\"{}\"", ctx.manage_url)), "{kind:?}: untracked link");
        assert!(!mail.text.contains(&ctx.manage_url), "{kind:?}: untracked link in text");
        assert!(mail.html.contains("href=\"https://t.example/c?u="), "{kind:?}: tracked link");
        assert!(mail.html.contains("&amp;k=1"), "{kind:?}: attribute escaping");
        assert!(mail.html.contains(r#"<img src="https://t.example/o.gif?id=42" alt="" width="1" height="1""#), "{kind:?}: pixel");
    }
}

#[test]
fn each_reminder_says_what_it_is_for() {
    let r = renderer();
    let render = |kind, lang| r.render(&EmailContext::sample(kind, lang), &NoTracking).unwrap();
    let ctx = EmailContext::sample(EmailKind::JPlus1, Language::Fr);
    let j30 = render(EmailKind::JMinus30, Language::Fr);
    assert!(j30.text.contains(&ctx.resources_url) && j30.text.contains("chapitre d’introduction"));
    let j14 = render(EmailKind::JMinus14, Language::Fr);
    assert!(
        j14.text.contains("8\u{a0}h\u{a0}30") && j14.text.contains("12\u{a0}h\u{a0}00 à 13\u{a0}h\u{a0}00") && j14.text.contains("dyades")
    );
    assert!(j14.text.contains("bouteille d’eau"));
    let j7 = render(EmailKind::JMinus7, Language::En);
    assert!(j7.text.contains("Parking") && j7.text.contains("Lunch is not included") && j7.text.contains("Accessibility"));
    let j1 = render(EmailKind::JMinus1, Language::En);
    assert!(j1.text.contains("514 555-0199") && j1.text.contains("ACT-Montreal") && j1.text.contains("hexaflex-mtl"));
    let j1 = render(EmailKind::JPlus1, Language::Fr);
    assert!(j1.text.contains(&ctx.feedback_url) && j1.text.contains(&ctx.resources_url));
    assert!(j1.text.contains("pendant 60 jours, soit jusqu’au mardi 15 juin 2027"), "resources until the day + the policy's 60 days");
    assert!(j1.text.contains("attestation"));
    let refund = render(EmailKind::RefundNotice, Language::Fr);
    assert!(refund.text.contains("1\u{202f}138,25\u{a0}$") && refund.text.contains("5 à 10 jours ouvrables"));
    let refund = render(EmailKind::RefundNotice, Language::En);
    assert!(refund.text.contains("$1,138.25") && refund.text.contains("5 to 10 business days"));
}

#[test]
fn confirmation_attaches_the_calendar() {
    let ctx = EmailContext::sample(EmailKind::Confirmation, Language::Fr);
    let mail = renderer().render(&ctx, &NoTracking).unwrap();
    let ics = &mail.attachments[0];
    assert_eq!(ics.filename, "act-masterclass-MTL-7KQ2-M9XD.ics");
    assert_eq!(ics.content_type, "text/calendar; charset=utf-8; method=PUBLISH");
    let body = String::from_utf8(ics.bytes.clone()).unwrap();
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
}

#[test]
fn calendar_file() {
    let ctx = EmailContext::sample(EmailKind::Confirmation, Language::Fr);
    let ics = crate::calendar::calendar(&ctx.calendar_day());
    assert!(ics.ends_with("\r\n"));
    assert!(!ics.replace("\r\n", "").contains('\n') && !ics.replace("\r\n", "").contains('\r'), "CRLF only");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "line longer than 75 octets: {line:?}");
    }
    let unfolded = unfold(&ics);
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    for expected in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        "UID:MTL-7KQ2-M9XD@billetterie",
        "DTSTART:20270416T130000Z",
        "DTEND:20270416T203000Z",
        "END:VEVENT",
    ] {
        assert!(lines.contains(&expected), "missing {expected:?} in\n{unfolded}");
    }
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    assert!(lines.iter().any(|l| l.starts_with("DTSTAMP:") && l.ends_with('Z') && l.len() == "DTSTAMP:20270101T000000Z".len()));
    assert!(lines.contains(&"SUMMARY;LANGUAGE=fr-CA:L’ACT en toute simplicité avec le Dr Russ Harris — Montréal"));
    assert!(lines.contains(
        &"LOCATION;LANGUAGE=fr-CA:Palais des congrès de Montréal\\, 1001\\, place Jean-Paul-Riopelle\\, Montréal (Québec)\\, H2Z 1H5"
    ));
    let description = lines.iter().find(|l| l.starts_with("DESCRIPTION")).unwrap();
    assert!(description.contains("MTL-7KQ2-M9XD\\nVoir ou annuler") && description.contains(&ctx.manage_url));
    let en = crate::calendar::calendar(&EmailContext::sample(EmailKind::Confirmation, Language::En).calendar_day());
    assert!(unfold(&en).contains("SUMMARY;LANGUAGE=en-CA:ACT Made Simple with Dr Russ Harris — Montréal\r\n"));
}

/// `tests/snapshots/emails/<kind>.<lang>.txt`: subject and plain-text part of the sample mail.
/// A missing file is written and the test fails (a snapshot nobody read proves nothing);
/// `UPDATE_SNAPSHOTS=1` writes or rewrites them all and passes.
#[test]
fn snapshots() {
    let r = renderer();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/emails");
    std::fs::create_dir_all(&dir).unwrap();
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    let mut cases: Vec<(String, EmailContext)> = Vec::new();
    for kind in EmailKind::ALL {
        for lang in LANGS {
            cases.push((format!("{}.{}", kind.as_str(), lang.as_str()), EmailContext::sample(kind, lang)));
        }
    }
    for lang in LANGS {
        let mut ctx = EmailContext::sample(EmailKind::Confirmation, lang);
        ctx.confirmed_late = true;
        cases.push((format!("confirmation_late.{}", lang.as_str()), ctx));
        let mut ctx = EmailContext::sample(EmailKind::DateCancelled, lang);
        (ctx.waitlisted, ctx.booking_reference) = (true, String::new());
        cases.push((format!("date_cancelled_waitlist.{}", lang.as_str()), ctx));
        let mut ctx = EmailContext::sample(EmailKind::RefundNotice, lang);
        ctx.partial_refund_cents = Some(10_000);
        cases.push((format!("refund_notice_partial.{}", lang.as_str()), ctx));
    }
    for (name, ctx) in cases {
        let mail = r.render(&ctx, &NoTracking).unwrap();
        let actual = format!("Subject: {}\n\n{}", mail.subject, mail.text);
        let path = dir.join(format!("{name}.txt"));
        match std::fs::read_to_string(&path) {
            Ok(expected) if !update => {
                if expected != actual {
                    failures.push(format!("{} differs (UPDATE_SNAPSHOTS=1 to accept):\n{actual}", path.display()));
                }
            }
            Ok(_) => std::fs::write(&path, &actual).unwrap(),
            Err(_) => {
                std::fs::write(&path, &actual).unwrap();
                if !update {
                    failures.push(format!("{} was missing: written, read it and run again (or UPDATE_SNAPSHOTS=1)", path.display()));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_requested_refund_says_so_and_not_that_the_day_sold_out() {
    let r = renderer();
    for (lang, requested, sold_out) in [
        (Language::Fr, "Votre réservation pour la classe de maître de", "affiche complet"),
        (Language::En, "Your booking for the masterclass in", "sold out"),
    ] {
        let mut ctx = EmailContext::sample(EmailKind::RefundNotice, lang);
        let automatic = r.render(&ctx, &NoTracking).unwrap();
        assert!(automatic.text.contains(sold_out) && !automatic.text.contains(requested), "{lang:?}: {}", automatic.text);
        ctx.refund_requested = true;
        let mail = r.render(&ctx, &NoTracking).unwrap();
        for body in [&mail.text, &mail.html] {
            assert!(body.contains(requested), "{lang:?}: {body}");
            assert!(!body.contains(sold_out), "{lang:?}: a requested refund is not the sold-out one");
            assert!(body.contains(&ctx.city_name), "{lang:?}: the city");
        }
    }
}
