//! A date's feedback for the organiser: the averages of each rated question, how many answered of
//! how many came, the comments; the same figures as JSON (`GET /api/v1/admin/city-events/{id}/
//! feedback`) and every answer as CSV. Answers carry no name: attendees rate more freely when the
//! organiser reads the comments without knowing whose they are.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::csv;
use super::session::AdminSession;
use crate::db;
use crate::db::feedback::{FeedbackRow, QUESTIONS};
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuestionAverage {
    /// `overall`, `content`, `presenter` or `venue`.
    pub question: String,
    /// From 1 to 5, to two decimals; absent while nobody has answered.
    pub average: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackComment {
    pub at: DateTime<Utc>,
    /// The language the form was answered in (`fr` or `en`).
    pub language: String,
    pub comments: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedbackResults {
    pub city_event_id: i64,
    /// The seats of the date's confirmed bookings: who could answer.
    pub attendees: i64,
    pub answers: i64,
    pub averages: Vec<QuestionAverage>,
    /// How many answered yes to "would you recommend it".
    pub would_recommend: i64,
    /// The answers that left a comment, oldest first.
    pub comments: Vec<FeedbackComment>,
}

fn ratings(r: &FeedbackRow) -> [i32; 4] {
    [r.overall, r.content, r.presenter, r.venue]
}

/// The figures of a set of answers (pure, so the page, the JSON and the tests agree).
pub fn summarise(city_event_id: i64, attendees: i64, rows: &[FeedbackRow]) -> FeedbackResults {
    let n = rows.len() as i64;
    let averages = QUESTIONS
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let sum: i64 = rows.iter().map(|r| i64::from(ratings(r)[i])).sum();
            let average = (n > 0).then(|| (sum as f64 / n as f64 * 100.0).round() / 100.0);
            QuestionAverage { question: (*q).to_owned(), average }
        })
        .collect();
    FeedbackResults {
        city_event_id,
        attendees,
        answers: n,
        averages,
        would_recommend: rows.iter().filter(|r| r.would_recommend).count() as i64,
        comments: rows
            .iter()
            .filter(|r| !r.comments.is_empty())
            .map(|r| FeedbackComment { at: r.created_at, language: r.language.clone(), comments: r.comments.clone() })
            .collect(),
    }
}

async fn rows(state: &AppState, city_event_id: i64) -> ApiResult<(i64, Vec<FeedbackRow>)> {
    let mut conn = db::connection(&state.pool).await?;
    if db::catalogue::city_event(&mut conn, city_event_id).await?.is_none() {
        return Err(ApiError::not_found("city_event_not_found", "No city event has this id."));
    }
    let attendees = db::feedback::attendees_of(&mut conn, city_event_id).await.map_err(db::DbError::from)?;
    let rows = db::feedback::of_city_event(&mut conn, city_event_id).await.map_err(db::DbError::from)?;
    Ok((attendees, rows))
}

pub async fn results(state: &AppState, city_event_id: i64) -> ApiResult<FeedbackResults> {
    let (attendees, rows) = rows(state, city_event_id).await?;
    Ok(summarise(city_event_id, attendees, &rows))
}

/// Every answer, one line each (a date has a few hundred at most: no need to stream).
pub async fn csv_export(state: &AppState, city_event_id: i64) -> ApiResult<HttpResponse> {
    let (_, rows) = rows(state, city_event_id).await?;
    let mut body = String::from(csv::BOM);
    body.push_str(&csv::row(&["answered_at", "language", "overall", "content", "presenter", "venue", "would_recommend", "comments"]));
    for r in &rows {
        let mut fields = vec![r.created_at.to_rfc3339(), r.language.clone()];
        fields.extend(ratings(r).iter().map(i32::to_string));
        fields.push(if r.would_recommend { "yes" } else { "no" }.to_owned());
        fields.push(r.comments.clone());
        body.push_str(&csv::row(&fields));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"feedback-{city_event_id}.csv\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/city-events/{id}/feedback", web::get().to(get_feedback));
}

#[utoipa::path(get, path = "/api/v1/admin/city-events/{id}/feedback", tag = "back office", security(("admin_session" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = FeedbackResults), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[tracing::instrument(name = "admin.api.get_feedback", skip_all)]
pub async fn get_feedback(state: web::Data<AppState>, _who: AdminSession, path: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(results(&state, *path).await?))
}

#[derive(OpenApi)]
#[openapi(paths(get_feedback), components(schemas(FeedbackResults, QuestionAverage, FeedbackComment)))]
pub struct FeedbackApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(r: [i32; 4], yes: bool, comments: &str) -> FeedbackRow {
        let [overall, content, presenter, venue] = r;
        FeedbackRow {
            id: 0,
            language: "fr".into(),
            overall,
            content,
            presenter,
            venue,
            would_recommend: yes,
            comments: comments.into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn averages_count_every_answer_and_comments_only_those_written() {
        let s = summarise(7, 10, &[row([5, 4, 5, 3], true, "Super"), row([4, 4, 2, 2], false, "")]);
        assert_eq!((s.answers, s.attendees, s.would_recommend), (2, 10, 1));
        let avg: Vec<_> = s.averages.iter().map(|a| (a.question.as_str(), a.average)).collect();
        assert_eq!(avg, [("overall", Some(4.5)), ("content", Some(4.0)), ("presenter", Some(3.5)), ("venue", Some(2.5))]);
        assert_eq!(s.comments.len(), 1);
        assert!(summarise(7, 10, &[]).averages.iter().all(|a| a.average.is_none()));
    }
}
