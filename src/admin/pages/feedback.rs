//! A date's feedback page (averages, answers of attendees, comments) and its CSV; the figures
//! are `admin::feedback`'s, as the JSON API gives them.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::{api_error_page, language, local, render, text, text_with};
use crate::admin::city_events as events;
use crate::admin::feedback;
use crate::admin::session::AdminSession;
use crate::domain::Language;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/city-events/{id}/feedback", web::get().to(page)).route("/city-events/{id}/feedback.csv", web::get().to(csv));
}

/// `4.5` → `4,5` in French; a dash while nobody has answered.
fn average(value: Option<f64>, lang: Language) -> String {
    match value {
        Some(v) if lang == Language::Fr => format!("{v:.1}").replace('.', ","),
        Some(v) => format!("{v:.1}"),
        None => "—".to_owned(),
    }
}

#[tracing::instrument(name = "admin.pages.feedback", skip_all)]
pub async fn page(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    let (lang, id) = (language(&req), *path);
    let (e, results) = match (events::get(&state, id).await, feedback::results(&state, id).await) {
        (Ok(e), Ok(r)) => (e, r),
        (Err(err), _) | (_, Err(err)) => return api_error_page(&req, &state, &who, err),
    };
    let tz = e.time_zone;
    let (answers, attendees) = (results.answers.to_string(), results.attendees.to_string());
    let body = json!({
        "id": id,
        "answers_of": text_with(lang, "feedback.answers_of", &[("answers", answers.as_str()), ("attendees", attendees.as_str())]),
        "averages": results.averages.iter().map(|a| json!({
            "question": text(lang, &format!("feedback.questions.{}", a.question)),
            "average": average(a.average, lang),
        })).collect::<Vec<_>>(),
        "recommend": format!("{} / {}", results.would_recommend, results.answers),
        "comments": results.comments.iter().map(|c| json!({
            "at": local(c.at, tz), "language": c.language, "comments": c.comments,
        })).collect::<Vec<_>>(),
    });
    let date = e.local_start.split('T').next().unwrap_or_default().to_owned();
    let city = e.city_in(lang).to_string();
    let title = text_with(lang, "feedback.title", &[("city", city.as_str()), ("date", date.as_str())]);
    render(&req, &state, Some(&who), "feedback", "city_events", &title, body)
}

#[tracing::instrument(name = "admin.pages.feedback_csv", skip_all)]
pub async fn csv(req: HttpRequest, state: web::Data<AppState>, who: AdminSession, path: web::Path<i64>) -> HttpResponse {
    match feedback::csv_export(&state, *path).await {
        Ok(res) => res,
        Err(err) => api_error_page(&req, &state, &who, err),
    }
}
