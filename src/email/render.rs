//! Writing the mails: handlebars templates (`templates/emails/{html,text}/`, compiled into the
//! binary), human text from `locales/{fr,en}.json` (under the `"email"` object), money, dates and
//! times formatted per language here. Templates hold no human text and this file holds none either:
//! every sentence, label, month name and time pattern is a locale string.
//!
//! Locale strings may use `{{placeholders}}`. The strings of a mail are rendered once per mail with
//! the mail's values (city, date, reference…) and handed to the templates as `t`; the strings under
//! `patterns`, `calendar`, `zones` and `ics` are formats used by the Rust side.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use anyhow::{anyhow, Context as _};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use handlebars::{handlebars_helper, Handlebars};
use serde_json::{json, Map, Value};

use crate::domain::taxes::TaxLine;
use crate::domain::{Cents, EmailKind, Language};
use crate::email::transport::Attachment;

const LOCALE_FR: &str = include_str!("../../locales/fr.json");
const LOCALE_EN: &str = include_str!("../../locales/en.json");

/// Subtrees of `email` that are formats for the Rust side, not strings for the templates.
const FORMAT_SUBTREES: [&str; 4] = ["patterns", "calendar", "zones", "ics"];

/// Width of the plain-text part's receipt lines and rules.
const TEXT_WIDTH: usize = 64;

/// Check-in opens this long before the start.
const DOORS_BEFORE_START_MINUTES: i64 = 30;

/// The resources stay online this long after the day.
const RESOURCES_MONTHS: u32 = 3;

/// Everything a mail says about one booking.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailContext {
    pub kind: EmailKind,
    pub language: Language,
    /// Greeting "Bonjour Marie," / "Hello Marie,"; generic greeting when `None` or blank.
    pub recipient_first_name: Option<String>,
    /// e.g. `MTL-7KQ2-M9XD`
    pub booking_reference: String,
    pub buyer_name: String,
    pub quantity: i32,
    /// One per seat; `None` is shown as "name to come" / « nom à venir ».
    pub attendee_names: Vec<Option<String>>,
    /// Already in the mail's language.
    pub city_name: String,
    pub venue_name: String,
    pub venue_address: String,
    pub venue_postal_code: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Dates and times are shown in this zone, with its abbreviation (EDT / HAE…).
    pub time_zone: Tz,
    pub unit_price_cents: i64,
    /// Unit price × quantity, before the discount.
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub taxes: Vec<TaxLine>,
    pub total_cents: i64,
    pub organiser_name: String,
    /// The booking page (view, how to cancel).
    pub manage_url: String,
    /// J-30 documents; J+1 resources, online for 3 months.
    pub resources_url: String,
    /// J+1 feedback form.
    pub feedback_url: String,
    pub support_email: String,
    /// J-1.
    pub emergency_phone: String,
    pub wifi_network: String,
    pub wifi_password: String,
    /// A confirmation for a booking made after the J-30/J-14/J-7 reminders went out: it also
    /// carries their essentials (resources link, the day in brief, logistics).
    pub confirmed_late: bool,
    /// A waiting-list offer's deadline (its `manage_url` is then the claim link).
    pub offer_expires_at: Option<DateTime<Utc>>,
}

/// Wraps links for click tracking and provides the open pixel; the dispatcher implements it.
pub trait LinkTracker {
    fn click_url(&self, target: &str) -> String;
    fn open_pixel_url(&self) -> Option<String>;
}

/// Links as they are, no pixel.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTracking;

impl LinkTracker for NoTracking {
    fn click_url(&self, target: &str) -> String {
        target.to_owned()
    }

    fn open_pixel_url(&self) -> Option<String> {
        None
    }
}

/// A mail ready for a transport: subject, both parts, attachments (the `.ics` of a confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

/// The two template registries (HTML, plain text) and the locale strings. Build it once and share it
/// (`Send + Sync`); rendering does not touch the file system.
pub struct EmailRenderer {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    locales: &'static Locales,
}

/// `(name, html, text)`; names starting with `_` are partials (registered without the `_`).
macro_rules! email_templates {
    ($($name:literal),* $(,)?) => {
        &[$((
            $name,
            include_str!(concat!("../../templates/emails/html/", $name, ".hbs")),
            include_str!(concat!("../../templates/emails/text/", $name, ".hbs")),
        )),*]
    };
}

const TEMPLATES: &[(&str, &str, &str)] = email_templates!(
    "_layout",
    "_event",
    "_receipt",
    "_attendees",
    "_manage",
    "_booking",
    "_agenda",
    "_agenda_brief",
    "_bring",
    "_logistics",
    "_late",
    "confirmation",
    "j_minus_30",
    "j_minus_14",
    "j_minus_7",
    "j_minus_1",
    "j_plus_1",
    "refund_notice",
    "waitlist_offer",
);

handlebars_helper!(rule_helper: |heading: str, c: str| c.repeat(heading.chars().count()));
handlebars_helper!(hr_helper: |c: str| c.repeat(TEXT_WIDTH));
handlebars_helper!(row_helper: |label: str, amount: str| text_row(label, amount));

/// `label` then `amount` flush right on a `TEXT_WIDTH` line (the amount goes on its own line when
/// both do not fit).
fn text_row(label: &str, amount: &str) -> String {
    let (l, a) = (label.chars().count(), amount.chars().count());
    if l + a + 2 <= TEXT_WIDTH {
        format!("{label}{}{amount}", " ".repeat(TEXT_WIDTH - l - a))
    } else {
        format!("{label}\n{}{amount}", " ".repeat(TEXT_WIDTH.saturating_sub(a)))
    }
}

/// HTML escaping for text and attribute values. Unlike handlebars' default it leaves `=` and `` ` ``
/// alone, so tracked URLs stay readable for link rewriters.
fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl EmailRenderer {
    pub fn new() -> anyhow::Result<Self> {
        let locales = locales()?;
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.set_prevent_indent(true);
        html.register_escape_fn(escape_html);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.set_prevent_indent(true);
        text.register_escape_fn(handlebars::no_escape);
        text.register_helper("rule", Box::new(rule_helper));
        text.register_helper("hr", Box::new(hr_helper));
        text.register_helper("row", Box::new(row_helper));
        for (name, html_src, text_src) in TEMPLATES {
            if let Some(partial) = name.strip_prefix('_') {
                html.register_partial(partial, *html_src).with_context(|| format!("templates/emails/html/{name}.hbs"))?;
                text.register_partial(partial, *text_src).with_context(|| format!("templates/emails/text/{name}.hbs"))?;
            } else {
                html.register_template_string(name, *html_src).with_context(|| format!("templates/emails/html/{name}.hbs"))?;
                text.register_template_string(name, *text_src).with_context(|| format!("templates/emails/text/{name}.hbs"))?;
            }
        }
        for kind in EmailKind::ALL {
            anyhow::ensure!(html.has_template(kind.as_str()), "no template for the {} mail", kind.as_str());
        }
        Ok(Self { html, text, locales })
    }

    pub fn render(&self, ctx: &EmailContext, links: &dyn LinkTracker) -> anyhow::Result<RenderedEmail> {
        let name = ctx.kind.as_str();
        let data = self.data(ctx, links).with_context(|| format!("preparing the {name} mail ({})", ctx.language.as_str()))?;
        let subject = data["subject"].as_str().unwrap_or_default().to_owned();
        let html = self.html.render(name, &data).with_context(|| format!("rendering templates/emails/html/{name}.hbs"))?;
        let text = self.text.render(name, &data).with_context(|| format!("rendering templates/emails/text/{name}.hbs"))?;
        let attachments = match ctx.kind {
            EmailKind::Confirmation => vec![Attachment {
                filename: format!("act-masterclass-{}.ics", ctx.booking_reference),
                content_type: "text/calendar; charset=utf-8; method=PUBLISH".to_owned(),
                bytes: super::ics::calendar(ctx).into_bytes(),
            }],
            _ => Vec::new(),
        };
        Ok(RenderedEmail { subject, html: tidy(&html), text: tidy(&text), attachments })
    }

    /// The values the templates see.
    fn data(&self, ctx: &EmailContext, links: &dyn LinkTracker) -> anyhow::Result<Value> {
        let (l, lang) = (self.locales, ctx.language);
        let start = ctx.starts_at.with_timezone(&ctx.time_zone);
        let end = ctx.ends_at.with_timezone(&ctx.time_zone);
        let doors = start - Duration::minutes(DOORS_BEFORE_START_MINUTES);
        let zone = l.zone(&start, lang);
        let date = l.date(start.date_naive(), lang)?;
        let start_time = l.time(start.time(), lang)?;
        let end_time = l.time(end.time(), lang)?;
        let doors_time = l.time(doors.time(), lang)?;
        let time_range = l.text(lang, "email.patterns.time_range", &json!({"start": start_time, "end": end_time, "zone": zone}))?;
        let resources_until = start.date_naive().checked_add_months(Months::new(RESOURCES_MONTHS)).context("date out of range")?;
        let money = |cents: i64| Cents(cents).format(lang);
        let deadline = match ctx.offer_expires_at {
            Some(at) => {
                let at = at.with_timezone(&ctx.time_zone);
                let time =
                    l.text(lang, "email.patterns.time_with_zone", &json!({"time": l.time(at.time(), lang)?, "zone": l.zone(&at, lang)}))?;
                l.text(lang, "email.patterns.date_at_time", &json!({"date": l.date(at.date_naive(), lang)?, "time": time}))?
            }
            None => String::new(),
        };
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
            "organiser": ctx.organiser_name,
            "support_email": ctx.support_email,
            "emergency_phone": ctx.emergency_phone,
            "total": money(ctx.total_cents),
            "resources_until": l.date(resources_until, lang)?,
            "venue_address": ctx.venue_address,
            "deadline": deadline,
        });
        let t = l.rendered(lang, &vars)?;
        let pick = |path: &str| -> anyhow::Result<String> {
            lookup(&t, path).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| anyhow!("missing locale string email.{path}"))
        };
        let kind = ctx.kind.as_str();
        let subject = pick(&format!("{kind}.subject"))?;
        let heading = pick(&format!("{kind}.heading"))?;
        let greeting = pick(if first_name.is_some() { "common.greeting" } else { "common.greeting_generic" })?;

        // Receipt.
        let mut rows = vec![json!({
            "label": pick("receipt.seats")?,
            "detail": l.text(lang, "email.patterns.seat_line", &json!({"quantity": ctx.quantity, "unit_price": money(ctx.unit_price_cents)}))?,
            "amount": money(ctx.unit_price_cents * i64::from(ctx.quantity)),
        })];
        rows.push(json!({"label": pick("receipt.subtotal")?, "detail": null, "amount": money(ctx.subtotal_cents)}));
        if ctx.discount_cents != 0 {
            rows.push(json!({"label": pick("receipt.discount")?, "detail": null, "amount": format!("\u{2212}{}", money(ctx.discount_cents.abs()))}));
            rows.push(
                json!({"label": pick("receipt.taxable")?, "detail": null, "amount": money(ctx.subtotal_cents - ctx.discount_cents.abs())}),
            );
        }
        for tax in &ctx.taxes {
            rows.push(l.tax_row(tax, lang)?);
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
        let agenda = self.agenda(ctx, &t, false)?;
        let agenda_brief = self.agenda(ctx, &t, true)?;

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
            "organiser": ctx.organiser_name,
            "support_email": ctx.support_email,
            "emergency_phone": ctx.emergency_phone,
            "wifi": {"network": ctx.wifi_network, "password": ctx.wifi_password},
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
            "deadline": vars["deadline"],
            "open_pixel": links.open_pixel_url(),
        }))
    }

    /// The day's schedule (or its brief version) in local time: `time` for HTML, `time_col` padded
    /// for the plain-text column.
    fn agenda(&self, ctx: &EmailContext, t: &Value, brief: bool) -> anyhow::Result<Vec<Value>> {
        let (l, lang) = (self.locales, ctx.language);
        let local = |at: Point| -> DateTime<Tz> {
            let base = match at.0 {
                Anchor::Start => ctx.starts_at,
                Anchor::End => ctx.ends_at,
            };
            (base + Duration::minutes(at.1)).with_timezone(&ctx.time_zone)
        };
        let mut items = Vec::new();
        for slot in AGENDA.iter().filter(|s| !brief || s.brief) {
            let from = l.time(local(slot.at).time(), lang)?;
            let time = match slot.until {
                Some(until) => {
                    l.text(lang, "email.patterns.time_span", &json!({"start": from, "end": l.time(local(until).time(), lang)?}))?
                }
                None => from,
            };
            let label = lookup(t, &format!("agenda.items.{}", slot.key))
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("missing locale string email.agenda.items.{}", slot.key))?;
            items.push((time, label.to_owned()));
        }
        let width = items.iter().map(|(time, _)| time.chars().count()).max().unwrap_or(0) + 3;
        Ok(items
            .into_iter()
            .map(|(time, label)| {
                let pad = " ".repeat(width - time.chars().count());
                json!({"time_col": format!("{time}{pad}"), "time": time, "label": label})
            })
            .collect())
    }

    /// A realistic sample context for `billetterie emails preview <kind> --lang fr|en` and the
    /// snapshot tests: Montréal, Friday 16 April 2027 from 9:00 to 16:30 EDT, 2 seats (one name to
    /// come), GST and QST.
    pub fn sample_context(kind: EmailKind, language: Language) -> EmailContext {
        let starts_at = chrono_tz::America::Toronto.with_ymd_and_hms(2027, 4, 16, 9, 0, 0).unwrap().with_timezone(&Utc);
        let ends_at = chrono_tz::America::Toronto.with_ymd_and_hms(2027, 4, 16, 16, 30, 0).unwrap().with_timezone(&Utc);
        let (unit, quantity) = (49_500_i64, 2_i32);
        let subtotal = unit * i64::from(quantity);
        let tax = |code: &str, label_en: &str, label_fr: &str, rate: i32, number: &str| TaxLine {
            code: code.into(),
            label_en: label_en.into(),
            label_fr: label_fr.into(),
            rate_per_100k: rate,
            registration_number: number.into(),
            amount_cents: (subtotal * i64::from(rate) + 50_000).div_euclid(100_000),
        };
        let taxes = vec![tax("GST", "GST", "TPS", 5_000, "123456789 RT0001"), tax("QST", "QST", "TVQ", 9_975, "1234567890 TQ0001")];
        let total = subtotal + taxes.iter().map(|t| t.amount_cents).sum::<i64>();
        let reference = "MTL-7KQ2-M9XD";
        let site = "https://billetterie.example";
        let lang = language.as_str();
        EmailContext {
            kind,
            language,
            recipient_first_name: Some("Marie".into()),
            booking_reference: reference.into(),
            buyer_name: "Marie Tremblay".into(),
            quantity,
            attendee_names: vec![Some("Marie Tremblay".into()), None],
            city_name: "Montréal".into(),
            venue_name: "Palais des congrès de Montréal".into(),
            venue_address: "1001, place Jean-Paul-Riopelle, Montréal (Québec)".into(),
            venue_postal_code: "H2Z 1H5".into(),
            starts_at,
            ends_at,
            time_zone: chrono_tz::America::Toronto,
            unit_price_cents: unit,
            subtotal_cents: subtotal,
            discount_cents: 0,
            taxes,
            total_cents: total,
            organiser_name: "Billetterie ACT Canada".into(),
            manage_url: if kind == EmailKind::WaitlistOffer {
                format!("{site}/{lang}/waiting-list/claim?token=4b1d0c2e.1805300000.9f3a")
            } else {
                format!("{site}/{lang}/bookings/{reference}")
            },
            resources_url: format!("{site}/{lang}/resources/{reference}"),
            feedback_url: format!("{site}/{lang}/feedback/{reference}"),
            support_email: "aide@billetterie.example".into(),
            emergency_phone: "514 555-0199".into(),
            wifi_network: "ACT-Masterclass".into(),
            wifi_password: "hexaflex2027".into(),
            confirmed_late: false,
            offer_expires_at: (kind == EmailKind::WaitlistOffer).then(|| starts_at - Duration::days(30)),
        }
    }
}

/// Where an agenda item sits: minutes from the start or from the end of the day.
#[derive(Debug, Clone, Copy)]
enum Anchor {
    Start,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Point(Anchor, i64);

/// The programme of the day (labels are `email.agenda.items.<key>`). Morning items hang on the
/// start, afternoon ones on the end: 9:00–16:30 gives 8:30 check-in, lunch 12:00–13:00, end 16:30.
struct Slot {
    key: &'static str,
    at: Point,
    until: Option<Point>,
    /// Also in the short version (J-1, late confirmation).
    brief: bool,
}

const AGENDA: &[Slot] = &[
    Slot { key: "doors", at: Point(Anchor::Start, -DOORS_BEFORE_START_MINUTES), until: None, brief: true },
    Slot { key: "opening", at: Point(Anchor::Start, 0), until: None, brief: true },
    Slot { key: "block_1", at: Point(Anchor::Start, 15), until: None, brief: false },
    Slot { key: "break_am", at: Point(Anchor::Start, 90), until: None, brief: false },
    Slot { key: "block_2", at: Point(Anchor::Start, 105), until: None, brief: false },
    Slot { key: "lunch", at: Point(Anchor::Start, 180), until: Some(Point(Anchor::Start, 240)), brief: true },
    Slot { key: "block_3", at: Point(Anchor::Start, 240), until: None, brief: false },
    Slot { key: "break_pm", at: Point(Anchor::End, -120), until: None, brief: false },
    Slot { key: "block_4", at: Point(Anchor::End, -105), until: None, brief: false },
    Slot { key: "closing", at: Point(Anchor::End, -15), until: None, brief: false },
    Slot { key: "end", at: Point(Anchor::End, 0), until: None, brief: true },
];

/// Trailing spaces off, at most one blank line in a row, one final newline.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = true;
    for line in s.lines() {
        let line = line.trim_end_matches([' ', '\t', '\r']);
        if line.trim().is_empty() {
            if !blank {
                out.push('\n');
            }
            blank = true;
        } else {
            out.push_str(line);
            out.push('\n');
            blank = false;
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `a.b.0.c` in a JSON tree.
fn lookup<'a>(tree: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(tree, |node, key| match node {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// Every leaf of a JSON tree with its dotted path (array items by index).
fn leaves(tree: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(prefix: &str, node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        let join = |key: &str| if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") };
        match node {
            Value::Object(map) => map.iter().for_each(|(k, v)| walk(&join(k), v, out)),
            Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| walk(&join(&i.to_string()), v, out)),
            leaf => out.push((prefix.to_owned(), leaf)),
        }
    }
    let mut out = Vec::new();
    walk("", tree, &mut out);
    out
}

/// The parsed locale files, with every string that has `{{placeholders}}` compiled as a template
/// named `<lang>:<path>`.
struct Locales {
    fr: Value,
    en: Value,
    strings: Handlebars<'static>,
}

static LOCALES: OnceLock<Result<Locales, String>> = OnceLock::new();

fn locales() -> anyhow::Result<&'static Locales> {
    LOCALES.get_or_init(|| Locales::parse().map_err(|e| format!("{e:#}"))).as_ref().map_err(|e| anyhow!("{e}"))
}

/// For the format helpers: the locale files are compiled in and checked by `EmailRenderer::new`
/// and the tests, so a failure here is a build defect.
fn embedded() -> &'static Locales {
    locales().expect("the embedded locale files are valid (checked by EmailRenderer::new and the tests)")
}

impl Locales {
    fn parse() -> anyhow::Result<Self> {
        let fr: Value = serde_json::from_str(LOCALE_FR).context("locales/fr.json is not valid JSON")?;
        let en: Value = serde_json::from_str(LOCALE_EN).context("locales/en.json is not valid JSON")?;
        let mut strings = Handlebars::new();
        strings.set_strict_mode(true);
        strings.register_escape_fn(handlebars::no_escape);
        for (lang, tree) in [(Language::Fr, &fr), (Language::En, &en)] {
            anyhow::ensure!(tree.get("email").is_some_and(Value::is_object), "locales/{}.json has no \"email\" object", lang.as_str());
            for (path, leaf) in leaves(tree) {
                if let Some(s) = leaf.as_str().filter(|s| s.contains("{{")) {
                    strings
                        .register_template_string(&format!("{}:{path}", lang.as_str()), s)
                        .with_context(|| format!("locales/{}.json: {path}", lang.as_str()))?;
                }
            }
        }
        Ok(Self { fr, en, strings })
    }

    fn tree(&self, lang: Language) -> &Value {
        match lang {
            Language::Fr => &self.fr,
            Language::En => &self.en,
        }
    }

    /// One string, its placeholders filled from `vars`.
    fn text(&self, lang: Language, path: &str, vars: &Value) -> anyhow::Result<String> {
        let raw = lookup(self.tree(lang), path)
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("missing locale string {path} in locales/{}.json", lang.as_str()))?;
        if raw.contains("{{") {
            let name = format!("{}:{path}", lang.as_str());
            self.strings.render(&name, vars).with_context(|| format!("locales/{}.json: {path}", lang.as_str()))
        } else {
            Ok(raw.to_owned())
        }
    }

    /// The `email` strings of a language for the templates (format subtrees left out), filled
    /// from `vars`.
    fn rendered(&self, lang: Language, vars: &Value) -> anyhow::Result<Value> {
        fn walk(l: &Locales, lang: Language, path: &str, node: &Value, vars: &Value) -> anyhow::Result<Value> {
            Ok(match node {
                Value::Object(map) => {
                    let mut out = Map::new();
                    for (k, v) in map {
                        if path == "email" && FORMAT_SUBTREES.contains(&k.as_str()) {
                            continue;
                        }
                        out.insert(k.clone(), walk(l, lang, &format!("{path}.{k}"), v, vars)?);
                    }
                    Value::Object(out)
                }
                Value::Array(items) => Value::Array(
                    items.iter().enumerate().map(|(i, v)| walk(l, lang, &format!("{path}.{i}"), v, vars)).collect::<anyhow::Result<_>>()?,
                ),
                Value::String(_) => Value::String(l.text(lang, path, vars)?),
                other => other.clone(),
            })
        }
        let email = self.tree(lang).get("email").ok_or_else(|| anyhow!("locales/{}.json has no \"email\" object", lang.as_str()))?;
        walk(self, lang, "email", email, vars)
    }

    fn date(&self, date: NaiveDate, lang: Language) -> anyhow::Result<String> {
        let none = Value::Null;
        let month = self.text(lang, &format!("email.calendar.months.{}", date.month0()), &none)?;
        let weekday = self.text(lang, &format!("email.calendar.weekdays.{}", date.weekday().num_days_from_monday()), &none)?;
        let day = if date.day() == 1 { self.text(lang, "email.patterns.day_one", &none)? } else { date.day().to_string() };
        self.text(lang, "email.patterns.date", &json!({"weekday": weekday, "day": day, "month": month, "year": date.year()}))
    }

    fn time(&self, time: NaiveTime, lang: Language) -> anyhow::Result<String> {
        let hour = time.hour();
        let hour12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        let path = if hour < 12 { "email.patterns.time_am" } else { "email.patterns.time_pm" };
        self.text(lang, path, &json!({"hour": hour, "hour12": hour12, "minute": format!("{:02}", time.minute())}))
    }

    /// The zone's abbreviation at that instant, as the language writes it (EDT / HAE); the tz
    /// database's abbreviation when the locale has none.
    fn zone(&self, at: &DateTime<Tz>, lang: Language) -> String {
        let abbreviation = at.format("%Z").to_string();
        self.tree(lang)
            .get("email")
            .and_then(|e| e.get("zones"))
            .and_then(|z| z.get(&abbreviation))
            .and_then(Value::as_str)
            .map_or(abbreviation, str::to_owned)
    }

    fn rate(&self, rate_per_100k: i32, lang: Language) -> anyhow::Result<String> {
        let (whole, thousandths) = (rate_per_100k / 1000, (rate_per_100k % 1000).unsigned_abs());
        let number = if thousandths == 0 {
            whole.to_string()
        } else {
            let sep = self.text(lang, "email.patterns.decimal_separator", &Value::Null)?;
            format!("{whole}{sep}{}", format!("{thousandths:03}").trim_end_matches('0'))
        };
        self.text(lang, "email.patterns.percent", &json!({"number": number}))
    }

    fn tax_row(&self, tax: &TaxLine, lang: Language) -> anyhow::Result<Value> {
        let label = match lang {
            Language::Fr => &tax.label_fr,
            Language::En => &tax.label_en,
        };
        let label = self.text(lang, "email.patterns.tax_label", &json!({"label": label, "rate": self.rate(tax.rate_per_100k, lang)?}))?;
        let detail = match tax.registration_number.trim() {
            "" => Value::Null,
            number => Value::from(self.text(lang, "email.patterns.tax_registration", &json!({"number": number}))?),
        };
        Ok(json!({"label": label, "detail": detail, "amount": Cents(tax.amount_cents).format(lang)}))
    }
}

/// "vendredi 16 avril 2027" (« 1er » for the first of the month) / "Friday, April 16, 2027".
pub fn format_date(date: NaiveDate, lang: Language) -> String {
    embedded().date(date, lang).expect("date patterns render")
}

/// "9 h 00", "16 h 30" / "9:00 a.m.", "4:30 p.m." (no-break spaces inside).
pub fn format_time(time: NaiveTime, lang: Language) -> String {
    embedded().time(time, lang).expect("time patterns render")
}

/// The zone abbreviation at an instant: "EDT" in English, "HAE" (heure avancée de l'Est) in French.
pub fn zone_abbreviation(at: &DateTime<Tz>, lang: Language) -> String {
    embedded().zone(at, lang)
}

/// "de 9 h 00 à 16 h 30 (HAE)" / "9:00 a.m. to 4:30 p.m. (EDT)", in the zone of `start`.
pub fn format_time_range(start: &DateTime<Tz>, end: &DateTime<Tz>, lang: Language) -> String {
    let l = embedded();
    let end = end.with_timezone(&start.timezone());
    let vars = json!({
        "start": l.time(start.time(), lang).expect("time patterns render"),
        "end": l.time(end.time(), lang).expect("time patterns render"),
        "zone": l.zone(start, lang),
    });
    l.text(lang, "email.patterns.time_range", &vars).expect("time range pattern renders")
}

/// A tax rate from parts per 100,000: "9,975 %" / "9.975%", "5 %" / "5%".
pub fn format_tax_rate(rate_per_100k: i32, lang: Language) -> String {
    embedded().rate(rate_per_100k, lang).expect("rate patterns render")
}

/// One locale string with its placeholders filled (for the calendar file).
pub(crate) fn locale_text(lang: Language, path: &str, vars: &Value) -> anyhow::Result<String> {
    locales()?.text(lang, path, vars)
}

/// Every locale key present in one language and missing from the other, as
/// `"<path> (missing in <lang>)"`, sorted. Empty when the files agree (and when they cannot be
/// parsed, which `EmailRenderer::new` reports).
pub fn missing_locale_keys() -> Vec<String> {
    let Ok(l) = locales() else { return vec!["locales: the embedded locale files cannot be parsed".to_owned()] };
    let keys = |lang: Language| leaves(l.tree(lang)).into_iter().map(|(path, _)| path).collect::<BTreeSet<_>>();
    let (fr, en) = (keys(Language::Fr), keys(Language::En));
    let mut missing: Vec<String> = fr
        .difference(&en)
        .map(|k| format!("{k} (missing in en)"))
        .chain(en.difference(&fr).map(|k| format!("{k} (missing in fr)")))
        .collect();
    missing.sort();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
                    let mut ctx = EmailRenderer::sample_context(kind, lang);
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
    fn no_missing_locale_keys() {
        assert_eq!(missing_locale_keys(), Vec::<String>::new());
    }

    #[test]
    fn locale_strings_are_filled_and_have_the_same_placeholders() {
        let l = locales().unwrap();
        let placeholders = |s: &str| -> BTreeSet<String> {
            s.split("{{").skip(1).filter_map(|p| p.split("}}").next()).map(|p| p.trim().to_owned()).collect()
        };
        let en: std::collections::BTreeMap<String, &Value> = leaves(l.tree(Language::En)).into_iter().collect();
        for (path, fr) in leaves(l.tree(Language::Fr)) {
            let (fr, en) = (fr.as_str().unwrap_or_else(|| panic!("{path}: not a string")), en[&path].as_str().unwrap());
            assert!(!fr.trim().is_empty() && !en.trim().is_empty(), "{path}: empty string");
            // Formats may use different values (24-hour vs 12-hour clock).
            if !path.starts_with("email.patterns.") {
                assert_eq!(placeholders(fr), placeholders(en), "{path}: placeholders differ between fr and en");
            }
        }
    }

    /// Québec typography in the French strings: no-break space before : ; ! ? and inside « »,
    /// typographic apostrophes and quotes.
    #[test]
    fn french_typography() {
        let l = locales().unwrap();
        for (path, v) in leaves(l.tree(Language::Fr)) {
            let s = v.as_str().unwrap();
            let chars: Vec<char> = s.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let prev = if i > 0 { Some(chars[i - 1]) } else { None };
                let next = chars.get(i + 1).copied();
                match c {
                    ':' | ';' | '!' | '?' => assert_eq!(prev, Some('\u{a0}'), "{path}: no-break space before {c:?} in {s:?}"),
                    '«' => assert_eq!(next, Some('\u{a0}'), "{path}: no-break space after « in {s:?}"),
                    '»' => assert_eq!(prev, Some('\u{a0}'), "{path}: no-break space before » in {s:?}"),
                    '\'' | '"' => panic!("{path}: straight quote in {s:?}"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn date_formats() {
        let d = NaiveDate::from_ymd_opt(2027, 4, 16).unwrap();
        assert_eq!(format_date(d, Language::Fr), "vendredi 16 avril 2027");
        assert_eq!(format_date(d, Language::En), "Friday, April 16, 2027");
        let first = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        assert_eq!(format_date(first, Language::Fr), "mardi 1er juin 2027");
        assert_eq!(format_date(first, Language::En), "Tuesday, June 1, 2027");
        let aug = NaiveDate::from_ymd_opt(2027, 8, 22).unwrap();
        assert_eq!(format_date(aug, Language::Fr), "dimanche 22 août 2027");
    }

    #[test]
    fn time_formats() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(format_time(t(9, 0), Language::Fr), "9\u{a0}h\u{a0}00");
        assert_eq!(format_time(t(16, 30), Language::Fr), "16\u{a0}h\u{a0}30");
        assert_eq!(format_time(t(0, 5), Language::Fr), "0\u{a0}h\u{a0}05");
        assert_eq!(format_time(t(9, 0), Language::En), "9:00\u{a0}a.m.");
        assert_eq!(format_time(t(16, 30), Language::En), "4:30\u{a0}p.m.");
        assert_eq!(format_time(t(12, 0), Language::En), "12:00\u{a0}p.m.");
        assert_eq!(format_time(t(0, 15), Language::En), "12:15\u{a0}a.m.");
    }

    #[test]
    fn zones_and_ranges() {
        let tz = chrono_tz::America::Toronto;
        let start = tz.with_ymd_and_hms(2027, 4, 16, 9, 0, 0).unwrap();
        let end = tz.with_ymd_and_hms(2027, 4, 16, 16, 30, 0).unwrap();
        assert_eq!(zone_abbreviation(&start, Language::En), "EDT");
        assert_eq!(zone_abbreviation(&start, Language::Fr), "HAE");
        assert_eq!(format_time_range(&start, &end, Language::Fr), "de 9\u{a0}h\u{a0}00 à 16\u{a0}h\u{a0}30 (HAE)");
        assert_eq!(format_time_range(&start, &end, Language::En), "9:00\u{a0}a.m. to 4:30\u{a0}p.m. (EDT)");
        let winter = tz.with_ymd_and_hms(2027, 1, 15, 9, 0, 0).unwrap();
        assert_eq!(zone_abbreviation(&winter, Language::Fr), "HNE");
        let vancouver = chrono_tz::America::Vancouver.with_ymd_and_hms(2027, 5, 20, 9, 0, 0).unwrap();
        assert_eq!(zone_abbreviation(&vancouver, Language::En), "PDT");
        assert_eq!(zone_abbreviation(&vancouver, Language::Fr), "HAP");
        let calgary = chrono_tz::America::Edmonton.with_ymd_and_hms(2027, 5, 25, 9, 0, 0).unwrap();
        assert_eq!(zone_abbreviation(&calgary, Language::Fr), "HAR");
        let halifax = chrono_tz::America::Halifax.with_ymd_and_hms(2027, 6, 7, 9, 0, 0).unwrap();
        assert_eq!(zone_abbreviation(&halifax, Language::En), "ADT");
        // The range is shown in the zone of the start.
        assert_eq!(
            format_time_range(&start, &end.with_timezone(&chrono_tz::UTC), Language::Fr),
            "de 9\u{a0}h\u{a0}00 à 16\u{a0}h\u{a0}30 (HAE)"
        );
    }

    #[test]
    fn tax_rates() {
        assert_eq!(format_tax_rate(5_000, Language::Fr), "5\u{a0}%");
        assert_eq!(format_tax_rate(5_000, Language::En), "5%");
        assert_eq!(format_tax_rate(9_975, Language::Fr), "9,975\u{a0}%");
        assert_eq!(format_tax_rate(9_975, Language::En), "9.975%");
        assert_eq!(format_tax_rate(13_000, Language::En), "13%");
        assert_eq!(format_tax_rate(14_500, Language::Fr), "14,5\u{a0}%");
    }

    #[test]
    fn french_formats_in_the_confirmation() {
        let mail = renderer().render(&EmailRenderer::sample_context(EmailKind::Confirmation, Language::Fr), &NoTracking).unwrap();
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
        let mail = renderer().render(&EmailRenderer::sample_context(EmailKind::Confirmation, Language::En), &NoTracking).unwrap();
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
        let mut ctx = EmailRenderer::sample_context(EmailKind::Confirmation, Language::Fr);
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
        let mut ctx = EmailRenderer::sample_context(EmailKind::Confirmation, Language::En);
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
        let mut ctx = EmailRenderer::sample_context(EmailKind::Confirmation, Language::Fr);
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
            let ctx = EmailRenderer::sample_context(kind, Language::En);
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
        let render = |kind, lang| r.render(&EmailRenderer::sample_context(kind, lang), &NoTracking).unwrap();
        let ctx = EmailRenderer::sample_context(EmailKind::JPlus1, Language::Fr);
        let j30 = render(EmailKind::JMinus30, Language::Fr);
        assert!(j30.text.contains(&ctx.resources_url) && j30.text.contains("chapitre d’introduction"));
        let j14 = render(EmailKind::JMinus14, Language::Fr);
        assert!(
            j14.text.contains("8\u{a0}h\u{a0}30")
                && j14.text.contains("12\u{a0}h\u{a0}00 à 13\u{a0}h\u{a0}00")
                && j14.text.contains("dyades")
        );
        assert!(j14.text.contains("bouteille d’eau"));
        let j7 = render(EmailKind::JMinus7, Language::En);
        assert!(j7.text.contains("Parking") && j7.text.contains("Lunch is not included") && j7.text.contains("Accessibility"));
        let j1 = render(EmailKind::JMinus1, Language::En);
        assert!(j1.text.contains("514 555-0199") && j1.text.contains("ACT-Masterclass") && j1.text.contains("hexaflex2027"));
        let j1 = render(EmailKind::JPlus1, Language::Fr);
        assert!(j1.text.contains(&ctx.feedback_url) && j1.text.contains(&ctx.resources_url));
        assert!(j1.text.contains("vendredi 16 juillet 2027"), "resources until the day + 3 months");
        assert!(j1.text.contains("attestation"));
        let refund = render(EmailKind::RefundNotice, Language::Fr);
        assert!(refund.text.contains("1\u{202f}138,25\u{a0}$") && refund.text.contains("5 à 10 jours ouvrables"));
        let refund = render(EmailKind::RefundNotice, Language::En);
        assert!(refund.text.contains("$1,138.25") && refund.text.contains("5 to 10 business days"));
    }

    #[test]
    fn confirmation_attaches_the_calendar() {
        let ctx = EmailRenderer::sample_context(EmailKind::Confirmation, Language::Fr);
        let mail = renderer().render(&ctx, &NoTracking).unwrap();
        let ics = &mail.attachments[0];
        assert_eq!(ics.filename, "act-masterclass-MTL-7KQ2-M9XD.ics");
        assert_eq!(ics.content_type, "text/calendar; charset=utf-8; method=PUBLISH");
        let body = String::from_utf8(ics.bytes.clone()).unwrap();
        assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn calendar_file() {
        let ctx = EmailRenderer::sample_context(EmailKind::Confirmation, Language::Fr);
        let ics = super::super::ics::calendar(&ctx);
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
        let en = super::super::ics::calendar(&EmailRenderer::sample_context(EmailKind::Confirmation, Language::En));
        assert!(unfold(&en).contains("SUMMARY;LANGUAGE=en-CA:ACT Made Simple with Dr Russ Harris — Montréal\r\n"));
    }

    /// `tests/snapshots/emails/<kind>.<lang>.txt`: subject and plain-text part of the sample mail.
    /// A missing file is written (and the test passes); `UPDATE_SNAPSHOTS=1` rewrites them all.
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
                cases.push((format!("{}.{}", kind.as_str(), lang.as_str()), EmailRenderer::sample_context(kind, lang)));
            }
        }
        for lang in LANGS {
            let mut ctx = EmailRenderer::sample_context(EmailKind::Confirmation, lang);
            ctx.confirmed_late = true;
            cases.push((format!("confirmation_late.{}", lang.as_str()), ctx));
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
                _ => std::fs::write(&path, &actual).unwrap(),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
