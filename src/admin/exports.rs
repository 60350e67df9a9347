//! Exports, streamed (a page of rows from the database at a time, written as it comes; memory
//! stays flat whatever the size): a city event's attendees (name badges, check-in list) and the
//! paid bookings with their tax lines for accounting. UTF-8 with BOM, RFC 4180 quoting.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use futures::stream::{self, Stream};

use super::csv;
use crate::db::{self, AsyncPool};
use crate::domain::taxes::{net_revenue_cents, TaxLine};
use crate::domain::Language;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

const PAGE: i64 = 500;

/// The tax codes, one column each, in this order.
const TAX_CODES: [&str; 4] = ["GST", "HST", "QST", "PST"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AttendeeSheet {
    /// Names as badges show them, with the city and date.
    Badges,
    /// One line per seat with a column to tick.
    Checkin,
}

fn csv_response(filename: &str, body: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

enum Cursor<K> {
    Header,
    After(K),
    Done,
}

/// Rows a page at a time: `fetch(cursor)` gives the next page as CSV text and its last key.
fn paged<K, F, Fut>(header: String, first: K, fetch: F) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    K: Clone + 'static,
    F: Fn(K) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<Option<(String, K)>, ApiError>> + 'static,
{
    stream::unfold(Cursor::Header, move |cursor| {
        let fetch = fetch.clone();
        let header = header.clone();
        let first = first.clone();
        async move {
            match cursor {
                Cursor::Header => Some((Ok(Bytes::from(header)), Cursor::After(first))),
                Cursor::After(key) => match fetch(key).await {
                    Ok(Some((text, next))) => Some((Ok(Bytes::from(text)), Cursor::After(next))),
                    Ok(None) => None,
                    // The status line is gone already: cut the body short so the download fails
                    // visibly instead of ending as a silently partial file.
                    Err(e) => {
                        tracing::error!(error = %e, "export interrupted");
                        Some((Err(actix_web::error::ErrorInternalServerError("export interrupted")), Cursor::Done))
                    }
                },
                Cursor::Done => None,
            }
        }
    })
}

pub async fn attendees(state: &AppState, city_event_id: i64, sheet: AttendeeSheet) -> ApiResult<HttpResponse> {
    let mut conn = db::connection(&state.pool).await?;
    let details = db::catalogue::city_event(&mut conn, city_event_id)
        .await?
        .ok_or_else(|| ApiError::not_found("city_event_not_found", "No city event has this id."))?;
    drop(conn);
    let tz = details.event.time_zone;
    let date = details.event.starts_at.with_timezone(&tz).format("%Y-%m-%d").to_string();
    // A badge is worn by its attendee: the city in the language of their booking.
    let (city_fr, city_en) = (details.city.name_fr.clone(), details.city.name_en.clone());
    let header = match sheet {
        AttendeeSheet::Badges => csv::row(&["prénom / first name", "nom / last name", "ville / city", "date"]),
        AttendeeSheet::Checkin => csv::row(&[
            "présent / present",
            "nom / last name",
            "prénom / first name",
            "courriel / email",
            "réservation / booking",
            "place / seat",
            "acheteur / buyer",
            "courriel de l’acheteur / buyer email",
            "langue / language",
            "expérience ACT / ACT experience",
        ]),
    };
    let pool: AsyncPool = state.pool.clone();
    let body = paged(format!("{}{header}", csv::BOM), 0_i64, move |after| {
        let (pool, city_fr, city_en, date) = (pool.clone(), city_fr.clone(), city_en.clone(), date.clone());
        async move {
            let mut conn = db::connection(&pool).await?;
            let rows = db::admin::attendee_page(&mut conn, city_event_id, after, PAGE).await?;
            let Some(last) = rows.last().map(|r| r.attendee_id) else { return Ok(None) };
            let mut text = String::new();
            for r in rows {
                let first = r.first_name.clone().unwrap_or_default();
                let last_name = r.last_name.clone().unwrap_or_default();
                text.push_str(&match sheet {
                    AttendeeSheet::Badges => {
                        let city = if r.language == Language::En.as_str() { &city_en } else { &city_fr };
                        csv::row(&[first, last_name, city.clone(), date.clone()])
                    }
                    AttendeeSheet::Checkin => csv::row(&[
                        String::new(),
                        last_name,
                        first,
                        r.email.unwrap_or_default(),
                        r.reference,
                        r.position.to_string(),
                        format!("{} {}", r.buyer_first_name, r.buyer_last_name),
                        r.buyer_email,
                        r.language,
                        r.act_experience,
                    ]),
                });
            }
            Ok(Some((text, last)))
        }
    });
    let kind = match sheet {
        AttendeeSheet::Badges => "badges",
        AttendeeSheet::Checkin => "checkin",
    };
    Ok(csv_response(&format!("attendees-{city_event_id}-{kind}.csv"), body))
}

/// The tax amounts of a booking by code (a province charges one or two of them).
pub fn tax_columns(taxes: &serde_json::Value) -> [i64; 4] {
    let lines: Vec<TaxLine> = serde_json::from_value(taxes.clone()).unwrap_or_default();
    let mut out = [0; 4];
    for l in lines {
        if let Some(i) = TAX_CODES.iter().position(|c| *c == l.code) {
            out[i] += l.amount_cents;
        }
    }
    out
}

pub async fn accounting(state: &AppState, city_event_id: Option<i64>) -> ApiResult<HttpResponse> {
    let mut header: Vec<String> = [
        "created_at",
        "confirmed_at",
        "reference",
        "status",
        "city_event_id",
        "city",
        "province",
        "buyer",
        "buyer_email",
        "quantity",
        "unit_price",
        "subtotal",
        "discount",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    header.extend(TAX_CODES.iter().map(|c| format!("tax_{c}")));
    header.extend(["tax_total", "total", "refunded", "net", "currency", "payment_intent"].iter().map(|s| (*s).to_owned()));
    let pool = state.pool.clone();
    let first: Option<(DateTime<Utc>, String)> = None;
    let body = paged(format!("{}{}", csv::BOM, csv::row(&header)), first, move |after| {
        let pool = pool.clone();
        async move {
            let mut conn = db::connection(&pool).await?;
            let rows = db::admin::accounting_page(&mut conn, city_event_id, after, PAGE).await?;
            let Some(last) = rows.last().map(|r| (r.created_at, r.reference.clone())) else { return Ok(None) };
            let mut text = String::new();
            for r in rows {
                let mut fields = vec![
                    r.created_at.to_rfc3339(),
                    r.confirmed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.reference,
                    r.status,
                    r.city_event_id.to_string(),
                    r.city,
                    r.province,
                    r.buyer_name,
                    r.buyer_email,
                    r.quantity.to_string(),
                    csv::amount(r.unit_price_cents),
                    csv::amount(r.subtotal_cents),
                    csv::amount(r.discount_cents),
                ];
                fields.extend(tax_columns(&r.taxes).iter().map(|c| csv::amount(*c)));
                fields.extend([
                    csv::amount(r.tax_cents),
                    csv::amount(r.total_cents),
                    csv::amount(r.refunded_cents),
                    csv::amount(net_revenue_cents(r.total_cents, r.tax_cents, r.refunded_cents)),
                    "CAD".to_owned(),
                    r.payment_intent_id.unwrap_or_default(),
                ]);
                text.push_str(&csv::row(&fields));
            }
            Ok(Some((text, Some(last))))
        }
    });
    let name = city_event_id.map_or_else(|| "bookings-accounting.csv".to_owned(), |id| format!("bookings-accounting-{id}.csv"));
    Ok(csv_response(&name, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_lines_go_to_their_columns() {
        let taxes = serde_json::json!([
            {"code": "GST", "label_en": "GST", "label_fr": "TPS", "rate_per_100k": 5000, "registration_number": "", "amount_cents": 2475},
            {"code": "QST", "label_en": "QST", "label_fr": "TVQ", "rate_per_100k": 9975, "registration_number": "", "amount_cents": 4938}
        ]);
        assert_eq!(tax_columns(&taxes), [2475, 0, 4938, 0]);
        assert_eq!(tax_columns(&serde_json::json!([])), [0; 4]);
    }
}
