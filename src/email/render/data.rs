//! The values a mail's templates see: its strings (the `email` section filled with the mail's
//! values), dates and times in the venue's zone, the receipt, the attendees, the day's agenda and
//! the links (tracked when a tracker is given).

use anyhow::anyhow;
use serde_json::{json, Value};

use super::{EmailContext, LinkTracker};
use crate::domain::facts::{self, VenueFacts};
use crate::domain::taxes::TaxLine;
use crate::domain::{Cents, EmailKind, Language};
use crate::i18n::{self, lookup, Locale};

/// Subtrees of `email` that are formats for the Rust side (and the calendar file), not strings
/// for the templates.
const RUST_SIDE_SUBTREES: [&str; 2] = ["patterns", "ics"];

/// The values the templates see.
pub(super) fn data(ctx: &EmailContext, links: &dyn LinkTracker) -> anyhow::Result<Value> {
    let (l, lang) = (i18n::locale(ctx.language)?, ctx.language);
    let start = ctx.starts_at.with_timezone(&ctx.time_zone);
    let end = ctx.ends_at.with_timezone(&ctx.time_zone);
    let (facts, policies) = (&ctx.facts, &ctx.facts.policies);
    let doors = facts::doors_open(&facts.programme, ctx.starts_at).with_timezone(&ctx.time_zone);
    let zone = l.zone(&start);
    let date = l.date(start.date_naive());
    let start_time = l.time(start.time());
    let end_time = l.time(end.time());
    let doors_time = l.time(doors.time());
    let time_range = l.time_range(&start, &end);
    let resources_until = policies.resources_until(ctx.starts_at).with_timezone(&ctx.time_zone).date_naive();
    let certificate_by = policies.certificate_by(ctx.starts_at).with_timezone(&ctx.time_zone).date_naive();
    let money = |cents: i64| l.money(Cents(cents));
    let deadline = ctx.offer_expires_at.map(|at| l.date_time(&at.with_timezone(&ctx.time_zone))).unwrap_or_default();
    let first_name = ctx.recipient_first_name.as_deref().map(str::trim).filter(|n| !n.is_empty());

    let vars = json!({
        "first_name": first_name.unwrap_or_default(),
        "city": ctx.city_name,
        "date": date,
        "doors_time": doors_time,
        "start_time": start_time,
        "end_time": end_time,
        "zone": zone,
        "reference": ctx.booking_reference,
        "organiser": facts.organiser.legal_name,
        "support_email": facts.organiser.support_email,
        "support_phone": facts.organiser.support_phone,
        "emergency_phone": facts.venue.emergency_phone,
        "total": money(ctx.total_cents),
        "refunded": money(ctx.partial_refund_cents.unwrap_or(ctx.total_cents)),
        "resources_until": l.date(resources_until),
        "resources_days": policies.resources_days,
        "certificate_by": l.date(certificate_by),
        "certificate_days": policies.certificate_days,
        "refund_days": policies.refund_window_days,
        "name_change_days": policies.name_change_days,
        "workbook_days": facts::workbook_days_before(),
        "ce_hours": policies.ce_hours,
        "venue_address": ctx.venue_address,
        "deadline": deadline,
    });
    let t = l.render_section("email", &vars, &RUST_SIDE_SUBTREES)?;
    let pick = |path: &str| -> anyhow::Result<String> {
        lookup(&t, path).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| anyhow!("missing locale string email.{path}"))
    };
    let kind = ctx.kind.as_str();
    // A broadcast's subject is the organiser's; the rest is the locale's.
    let subject = match (&ctx.message, ctx.kind) {
        (Some(m), EmailKind::Broadcast) => format!("{} — {}", m.subject.trim(), pick("broadcast.subject")?),
        _ => pick(&format!("{kind}.subject"))?,
    };
    // The organiser's text, paragraph by paragraph (the templates escape it like any value).
    let paragraphs: Vec<Value> = ctx
        .message
        .as_ref()
        .map(|m| {
            m.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| Value::from(p.lines().collect::<Vec<_>>())).collect()
        })
        .unwrap_or_default();
    let heading = pick(&format!("{kind}.heading"))?;
    let greeting = pick(if first_name.is_some() { "common.greeting" } else { "common.greeting_generic" })?;

    // Receipt.
    let mut rows = vec![json!({
        "label": pick("receipt.seats")?,
        "detail": l.text("email.patterns.seat_line", &json!({"quantity": ctx.quantity, "unit_price": money(ctx.unit_price_cents)}))?,
        "amount": money(ctx.unit_price_cents * i64::from(ctx.quantity)),
    })];
    rows.push(json!({"label": pick("receipt.subtotal")?, "detail": null, "amount": money(ctx.subtotal_cents)}));
    if ctx.discount_cents != 0 {
        rows.push(
            json!({"label": pick("receipt.discount")?, "detail": null, "amount": format!("\u{2212}{}", money(ctx.discount_cents.abs()))}),
        );
        rows.push(
            json!({"label": pick("receipt.taxable")?, "detail": null, "amount": money(ctx.subtotal_cents - ctx.discount_cents.abs())}),
        );
    }
    for tax in &ctx.taxes {
        rows.push(tax_row(l, tax)?);
    }

    // Attendees.
    let to_come = pick("attendees.to_come")?;
    let attendees: Vec<Value> = ctx
        .attendee_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            json!({"n": i + 1, "name": name.map_or_else(|| to_come.clone(), str::to_owned), "to_come": name.is_none()})
        })
        .collect();
    let names_missing = attendees.iter().any(|a| a["to_come"] == true);

    // Agenda.
    let agenda = agenda_items(l, ctx, false);
    let agenda_brief = agenda_items(l, ctx, true);

    // Links: only those the mail shows, so a tracker registers no unused link.
    let shows_resources =
        matches!(ctx.kind, EmailKind::JMinus30 | EmailKind::JPlus1) || (ctx.kind == EmailKind::Confirmation && ctx.confirmed_late);
    let tracked = |show: bool, url: &str| if show { Value::from(links.click_url(url)) } else { Value::Null };

    Ok(json!({
        "lang": lang.as_str(),
        "html_lang": format!("{}-CA", lang.as_str()),
        "subject": subject,
        "heading": heading,
        "greeting": greeting,
        "t": t,
        "reference": ctx.booking_reference,
        "buyer_name": ctx.buyer_name,
        "organiser": facts.organiser.legal_name,
        "organiser_address": facts.organiser.address,
        "support_email": facts.organiser.support_email,
        "emergency_phone": facts.venue.emergency_phone,
        "wifi": {"network": facts.venue.wifi_network, "password": facts.venue.wifi_password},
        "venue_facts": venue_facts(&facts.venue, lang),
        "event": {
            "city": ctx.city_name,
            "venue_name": ctx.venue_name,
            "venue_address": ctx.venue_address,
            "postal_code": ctx.venue_postal_code,
            "date": vars["date"],
            "time_range": time_range,
            "zone": zone,
        },
        "receipt": {"rows": rows, "total": money(ctx.total_cents)},
        "attendees": attendees,
        "names_missing": names_missing,
        "agenda": agenda,
        "agenda_brief": agenda_brief,
        "links": {
            "manage": links.click_url(&ctx.manage_url),
            "resources": tracked(shows_resources, &ctx.resources_url),
            "feedback": tracked(ctx.kind == EmailKind::JPlus1, &ctx.feedback_url),
        },
        "confirmed_late": ctx.confirmed_late && ctx.kind == EmailKind::Confirmation,
        "refund_requested": ctx.refund_requested && ctx.kind == EmailKind::RefundNotice,
        "deadline": vars["deadline"],
        "message_text": ctx.message.as_ref().map(|m| m.body.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n\n")).unwrap_or_default(),
        "message": paragraphs,
        "waitlisted": ctx.waitlisted,
        "partial_refund": ctx.partial_refund_cents.is_some() && ctx.kind == EmailKind::RefundNotice,
        "refunded": vars["refunded"],
        "open_pixel": links.open_pixel_url(),
    }))
}

/// The day's schedule (or its brief version) in local time, from the masterclass's programme:
/// `time` for HTML, `time_col` padded for the plain-text column.
fn agenda_items(l: &Locale, ctx: &EmailContext, brief: bool) -> Vec<Value> {
    let items: Vec<(String, String)> = ctx
        .facts
        .programme
        .iter()
        .filter(|p| !brief || p.brief)
        .map(|p| {
            let (from, to) = p.at(ctx.starts_at, ctx.time_zone);
            (l.time_or_span(from.time(), to.map(|t| t.time())), p.label.get(ctx.language).to_owned())
        })
        .collect();
    let width = items.iter().map(|(time, _)| time.chars().count()).max().unwrap_or(0) + 3;
    items
        .into_iter()
        .map(|(time, label)| {
            let pad = " ".repeat(width - time.chars().count());
            json!({"time_col": format!("{time}{pad}"), "time": time, "label": label})
        })
        .collect()
}

/// The venue's practical facts in the mail's language; an empty one is left out.
fn venue_facts(v: &VenueFacts, lang: Language) -> Value {
    let word = |b: &crate::domain::facts::Bilingual| {
        let s = b.get(lang).trim();
        if s.is_empty() {
            Value::Null
        } else {
            Value::from(s)
        }
    };
    json!({
        "hotels": word(&v.hotels),
        "transit": word(&v.transit),
        "parking": word(&v.parking),
        "restaurants": word(&v.restaurants),
        "accessibility": word(&v.accessibility),
    })
}

fn tax_row(l: &Locale, tax: &TaxLine) -> anyhow::Result<Value> {
    let lang = l.language();
    let label = match lang {
        Language::Fr => &tax.label_fr,
        Language::En => &tax.label_en,
    };
    let label = l.text("email.patterns.tax_label", &json!({"label": label, "rate": l.tax_rate(tax.rate_per_100k)}))?;
    let detail = match tax.registration_number.trim() {
        "" => Value::Null,
        number => Value::from(l.text("email.patterns.tax_registration", &json!({"number": number}))?),
    };
    Ok(json!({"label": label, "detail": detail, "amount": l.money(Cents(tax.amount_cents))}))
}
