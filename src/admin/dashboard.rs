//! The dashboard: per city event seats, revenue, days to go and the funnel; sales over time;
//! e-mail results per kind.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::chart::{sales_svg, ChartLabels};
use crate::db::admin::EmailFigures;
use crate::db::{self};
use crate::domain::parse_time_zone;
use crate::domain::taxes::net_revenue_cents;
use crate::http::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revenue {
    /// What paid bookings cost, taxes included (CAD cents).
    pub gross_cents: i64,
    pub taxes_cents: i64,
    pub refunds_cents: i64,
    /// Gross less taxes and refunds (a refund's taxes included): what the organiser keeps, as the
    /// accounting export's `net` column sums.
    pub net_cents: i64,
}

impl Revenue {
    const ZERO: Self = Self { gross_cents: 0, taxes_cents: 0, refunds_cents: 0, net_cents: 0 };

    fn add(&mut self, other: &Self) {
        self.gross_cents += other.gross_cents;
        self.taxes_cents += other.taxes_cents;
        self.refunds_cents += other.refunds_cents;
        self.net_cents += other.net_cents;
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Funnel {
    pub availability_views: i64,
    /// Bookings made (held at first), moves into this city event left out.
    pub bookings_held: i64,
    pub bookings_paid: i64,
    /// Percentages with one decimal; `null` when the step before is zero.
    pub held_per_view_pct: Option<f64>,
    pub paid_per_held_pct: Option<f64>,
    pub paid_per_view_pct: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventLine {
    pub city_event_id: i64,
    /// The city's French name; `city_en` its English one.
    pub city: String,
    pub city_en: String,
    pub status: String,
    pub starts_at: DateTime<Utc>,
    pub local_date: String,
    /// Days from today (in the venue's zone) to the day; negative once past.
    pub days_to_go: i64,
    pub capacity: i32,
    pub sold: i32,
    pub held: i32,
    pub available: i32,
    pub waiting: i64,
    pub revenue: Revenue,
    pub funnel: Funnel,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesDay {
    pub day: chrono::NaiveDate,
    pub seats: i64,
    pub total_cents: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub city_events: Vec<EventLine>,
    pub totals: Revenue,
    pub sales_by_day: Vec<SalesDay>,
    pub emails: Vec<EmailFigures>,
}

fn pct(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| (num as f64 * 1000.0 / den as f64).round() / 10.0)
}

pub fn funnel(views: i64, held: i64, paid: i64) -> Funnel {
    Funnel {
        availability_views: views,
        bookings_held: held,
        bookings_paid: paid,
        held_per_view_pct: pct(held, views),
        paid_per_held_pct: pct(paid, held),
        paid_per_view_pct: pct(paid, views),
    }
}

pub async fn build(state: &AppState) -> ApiResult<Dashboard> {
    // The counter's latest views first, so the funnel is current.
    if let Err(e) = state.views.flush(&state.pool).await {
        tracing::warn!(error = %e, "availability views not flushed before the dashboard");
    }
    let mut conn = db::connection(&state.pool).await?;
    let figures = db::admin::event_figures(&mut conn).await?;
    let sales = db::admin::sales_by_day(&mut conn).await?;
    let emails = db::admin::email_figures(&mut conn).await?;
    // The export's rows, summed: the dashboard cannot disagree with the accountant's file.
    let mut revenue_of = std::collections::HashMap::<i64, Revenue>::new();
    for r in db::admin::accounting_page(&mut conn, None, None, i64::MAX).await? {
        let e = revenue_of.entry(r.city_event_id).or_insert(Revenue::ZERO);
        e.add(&Revenue {
            gross_cents: r.total_cents,
            taxes_cents: r.tax_cents,
            refunds_cents: r.refunded_cents,
            net_cents: net_revenue_cents(r.total_cents, r.tax_cents, r.refunded_cents),
        });
    }
    let now = Utc::now();
    let mut totals = Revenue::ZERO;
    let city_events = figures
        .into_iter()
        .map(|f| {
            // `db::admin::EventFigures` still carries the zone's name; an unknown one is an error.
            let tz = parse_time_zone(&f.time_zone).map_err(|e| {
                tracing::error!(city_event_id = f.id, error = %e, "city event with an unknown time zone");
                ApiError::internal()
            })?;
            let day = f.starts_at.with_timezone(&tz).date_naive();
            let today = now.with_timezone(&tz).date_naive();
            let revenue = revenue_of.remove(&f.id).unwrap_or(Revenue::ZERO);
            totals.add(&revenue);
            Ok(EventLine {
                city_event_id: f.id,
                city: f.city_fr,
                city_en: f.city_en,
                status: f.status,
                starts_at: f.starts_at,
                local_date: day.to_string(),
                days_to_go: (day - today).num_days(),
                capacity: f.capacity,
                sold: f.sold,
                held: f.held,
                available: (f.capacity - f.sold - f.held).max(0),
                waiting: f.waiting,
                revenue,
                funnel: funnel(f.views, f.bookings_held, f.bookings_paid),
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Dashboard {
        city_events,
        totals,
        sales_by_day: sales.into_iter().map(|(day, seats, total_cents)| SalesDay { day, seats, total_cents }).collect(),
        emails,
    })
}

pub fn chart(d: &Dashboard, labels: &ChartLabels) -> String {
    let points: Vec<_> = d.sales_by_day.iter().map(|s| (s.day, s.seats)).collect();
    sales_svg(&points, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rates() {
        let f = funnel(200, 20, 5);
        assert_eq!((f.held_per_view_pct, f.paid_per_held_pct, f.paid_per_view_pct), (Some(10.0), Some(25.0), Some(2.5)));
        assert_eq!(funnel(0, 0, 0).paid_per_view_pct, None);
        assert_eq!(funnel(3, 1, 1).held_per_view_pct, Some(33.3));
    }
}
