//! The dashboard: figures per city event, totals, the sales chart, mail results.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{api_error_page, label, language, money, render, text};
use crate::admin::chart::ChartLabels;
use crate::admin::dashboard;
use crate::admin::session::AdminSession;
use crate::domain::Language;
use crate::state::AppState;

/// "vendredi 16 avril 2027" from the dashboard's `2027-04-16`.
fn local_date(lang: Language, raw: &str) -> String {
    match (chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d"), crate::i18n::locale(lang)) {
        (Ok(d), Ok(l)) => l.date(d),
        _ => raw.to_owned(),
    }
}

#[tracing::instrument(name = "admin.pages.dashboard.dashboard", skip_all)]
pub async fn dashboard(req: HttpRequest, state: web::Data<AppState>, who: AdminSession) -> HttpResponse {
    let lang = language(&req);
    let d = match dashboard::build(&state).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&req, &state, &who, e),
    };
    // "12,5 %" in French (comma, no-break space), "12.5%" in English.
    let pct = |p: Option<f64>| {
        p.map(|v| match lang {
            Language::Fr => format!("{v:.1}\u{a0}%").replace('.', ","),
            Language::En => format!("{v:.1}%"),
        })
        .unwrap_or_else(|| "—".to_owned())
    };
    let events: Vec<Value> = d
        .city_events
        .iter()
        .map(|e| {
            json!({
                "id": e.city_event_id, "city": if lang == Language::En { &e.city_en } else { &e.city }, "date": local_date(lang, &e.local_date), "days_to_go": e.days_to_go,
                "status": text(lang, &format!("city_events.statuses.{}", e.status)),
                "capacity": e.capacity, "sold": e.sold, "held": e.held, "available": e.available, "waiting": e.waiting,
                "gross": money(e.revenue.gross_cents, lang), "taxes": money(e.revenue.taxes_cents, lang),
                "refunds": money(e.revenue.refunds_cents, lang), "net": money(e.revenue.net_cents, lang),
                "views": e.funnel.availability_views, "bookings_held": e.funnel.bookings_held, "bookings_paid": e.funnel.bookings_paid,
                "held_per_view": pct(e.funnel.held_per_view_pct), "paid_per_held": pct(e.funnel.paid_per_held_pct),
                "paid_per_view": pct(e.funnel.paid_per_view_pct),
            })
        })
        .collect();
    let (title, daily, cumulative, empty) = (
        text(lang, "dashboard.chart_title"),
        text(lang, "dashboard.chart_daily"),
        text(lang, "dashboard.chart_total"),
        text(lang, "dashboard.chart_empty"),
    );
    let chart = dashboard::chart(&d, &ChartLabels { title: &title, daily: &daily, cumulative: &cumulative, empty: &empty });
    let t = &d.totals;
    let body = json!({
        "events": events,
        "totals": {"gross": money(t.gross_cents, lang), "taxes": money(t.taxes_cents, lang), "refunds": money(t.refunds_cents, lang), "net": money(t.net_cents, lang)},
        "chart": chart,
        "emails": d.emails.iter().map(|e| {
            // Rates of the mails that went out: opened (a tracking pixel; mail apps that block
            // images undercount) and clicked (a tracked link).
            let rate = |n: i64| if e.sent > 0 { pct(Some((n as f64) * 100.0 / (e.sent as f64))) } else { "—".to_owned() };
            json!({
                "kind": label(lang, "email_kinds", &e.kind), "total": e.total, "sent": e.sent, "opened": e.opened, "clicked": e.clicked,
                "failed": e.failed, "pending": e.pending, "open_rate": rate(e.opened), "click_rate": rate(e.clicked),
            })
        }).collect::<Vec<_>>(),
    });
    render(&req, &state, Some(&who), "dashboard", "dashboard", &text(lang, "dashboard.title"), body)
}
