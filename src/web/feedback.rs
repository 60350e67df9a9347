//! One feedback form per seat, behind the signed link of the J+1 mail
//! (`/{lang}/commentaires|feedback/{reference}/{position}?k=`): four ratings from 1 to 5, whether
//! they would recommend the day, and comments. Open once the day has started, to the seats of a
//! confirmed booking; answered once (the database's UNIQUE decides, so two tabs cannot both
//! write). A refused answer re-renders the form with what was typed and writes nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::booking_form::FormValues;
use super::catalogue::{city_name, event_date};
use super::checkout::KeyQuery;
use super::i18n;
use super::page::{Meta, PageCtx, PageError};
use crate::db;
use crate::db::catalogue::CityEventDetails;
use crate::db::feedback::{NewFeedback, QUESTIONS};
use crate::db::models::{AttendeeRow, BookingRow};
use crate::domain::tokens::feedback_key_matches;
use crate::domain::{BookingReference, BookingStatus};
use crate::http::csrf;
use crate::http::redirect::see_other;
use crate::state::AppState;

/// Long enough for a paragraph or two; the column's CHECK says the same.
pub const MAX_COMMENTS: usize = 2000;

/// Body limit of the form: the longest comment in any script, percent-encoded, fits.
pub const BODY_LIMIT: usize = 32 * 1024;

/// What a valid form says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub ratings: [i32; 4],
    pub would_recommend: bool,
    pub comments: String,
}

/// The form's answer, or each field's error key (under `feedback_form.errors`), in form order.
pub fn parse(values: &FormValues) -> Result<Answer, Vec<(&'static str, &'static str)>> {
    let mut errors = Vec::new();
    let mut ratings = [0; 4];
    for (i, q) in QUESTIONS.iter().enumerate() {
        match values.get(q).trim() {
            "" => errors.push((*q, "rating_required")),
            v => match v.parse::<i32>() {
                Ok(n @ 1..=5) => ratings[i] = n,
                _ => errors.push((*q, "rating_invalid")),
            },
        }
    }
    let would_recommend = match values.get("recommend") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            errors.push(("recommend", "recommend_required"));
            None
        }
    };
    let comments = values.get("comments").trim().replace("\r\n", "\n");
    if comments.chars().count() > MAX_COMMENTS {
        errors.push(("comments", "comments_too_long"));
    }
    match would_recommend {
        Some(would_recommend) if errors.is_empty() => Ok(Answer { ratings, would_recommend, comments }),
        _ => Err(errors),
    }
}

/// The seat behind a signed link: the same 404 for a wrong key, an unknown booking or seat, and a
/// booking that is not (or no longer) confirmed.
struct Seat {
    attendee: AttendeeRow,
    details: CityEventDetails,
}

async fn seat(state: &AppState, ctx: &PageCtx<'_>, reference: &str, position: i32, key: &str) -> Result<Seat, PageError> {
    let lang = ctx.lang;
    let reference = BookingReference::parse(reference).map_err(|_| PageError::not_found(lang))?;
    if !feedback_key_matches(state.settings.secret_key.expose(), reference.as_str(), position, key) {
        return Err(PageError::not_found(lang));
    }
    let db_error = |e: db::DbError| PageError::from_api(lang, e.into());
    let mut conn = db::connection(&state.pool).await.map_err(db_error)?;
    let found: Option<(BookingRow, Vec<AttendeeRow>)> =
        db::bookings::by_reference(&mut conn, reference.as_str()).await.map_err(|e| db_error(e.into()))?;
    let (booking, people) = found.ok_or_else(|| PageError::not_found(lang))?;
    if booking.status != BookingStatus::Confirmed {
        return Err(PageError::not_found(lang));
    }
    let attendee = people.into_iter().find(|a| a.position == position).ok_or_else(|| PageError::not_found(lang))?;
    let details = db::catalogue::city_event(&mut conn, booking.city_event_id)
        .await
        .map_err(|e| db_error(e.into()))?
        .ok_or_else(|| PageError::not_found(lang))?;
    Ok(Seat { attendee, details })
}

/// A page with a headline and a sentence: thanks, or not open yet.
fn message(ctx: &PageCtx<'_>, status: StatusCode, key: &str, s: &Seat) -> Result<HttpResponse, PageError> {
    let l = ctx.lang;
    let meta = Meta::from_locale(l, "feedback_form", &[]).private();
    let date = event_date(&s.details, l)?;
    let text = i18n::text(l, &format!("feedback_form.{key}"), &[("city", &city_name(&s.details, l)), ("date", &date)]);
    ctx.render(status, "feedback_form", None, meta, json!({"form": false, "message": text, "intro": "", "errors": [], "questions": []}))
}

/// The form, with what was typed and each field's error when it comes back refused.
fn form(ctx: &PageCtx<'_>, s: &Seat, values: &FormValues, errors: &[(&str, &str)], action: &str) -> Result<HttpResponse, PageError> {
    let l = ctx.lang;
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, key)| i18n::text(l, &format!("feedback_form.errors.{key}"), &[("max", &MAX_COMMENTS.to_string())]))
            .unwrap_or_default()
    };
    let questions: Vec<Value> = QUESTIONS
        .iter()
        .map(|q| {
            let options: Vec<Value> =
                (1..=5).map(|n| json!({"value": n, "id": format!("{q}-{n}"), "checked": values.get(q) == n.to_string()})).collect();
            json!({
                "name": q,
                "legend": i18n::text(l, &format!("feedback_form.questions.{q}"), &[]),
                "error": error_of(q),
                "options": options,
            })
        })
        .collect();
    // The summary links each error to its field, in the form's order.
    let summary: Vec<Value> = errors
        .iter()
        .map(|(f, _)| {
            let anchor = if QUESTIONS.contains(f) {
                format!("{f}-1")
            } else if *f == "recommend" {
                "recommend-yes".to_owned()
            } else {
                (*f).to_owned()
            };
            json!({"href": format!("#{anchor}"), "message": error_of(f)})
        })
        .collect();
    let name = s.attendee.first_name.clone().unwrap_or_default();
    let date = event_date(&s.details, l)?;
    let vars = [("city", city_name(&s.details, l)), ("date", date)];
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let intro = i18n::text(l, "feedback_form.intro", &vars);
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let meta = Meta::from_locale(l, "feedback_form", &[]).private();
    ctx.render(
        status,
        "feedback_form",
        None,
        meta,
        json!({
            "form": true,
            "message": "",
            "greeting": if name.is_empty() { String::new() } else { i18n::text(l, "feedback_form.greeting", &[("name", &name)]) },
            "intro": intro,
            "action": action,
            "errors": summary,
            "questions": questions,
            "recommend": {
                "error": error_of("recommend"),
                "yes": values.get("recommend") == "yes",
                "no": values.get("recommend") == "no",
            },
            "comments": {
                "value": values.get("comments"),
                "error": error_of("comments"),
                "max": MAX_COMMENTS,
                "hint": i18n::text(l, "feedback_form.comments_hint", &[("max", &MAX_COMMENTS.to_string())]),
            },
        }),
    )
}

fn action(req: &HttpRequest, key: &str) -> String {
    format!("{}?k={key}", req.path())
}

/// `GET`: the form, or the thanks once answered, or when it opens.
#[tracing::instrument(name = "web.feedback.show", skip_all)]
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
    query: web::Query<KeyQuery>,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let s = seat(&state, &ctx, &path.0, path.1, query.key()).await?;
    if s.details.event.starts_at > Utc::now() {
        return message(&ctx, StatusCode::FORBIDDEN, "not_yet", &s);
    }
    if answered(&state, &ctx, &s).await? {
        let key = if query.notice() == Some("sent") { "thanks" } else { "already" };
        return message(&ctx, StatusCode::OK, key, &s);
    }
    form(&ctx, &s, &FormValues::default(), &[], &action(&req, query.key()))
}

async fn answered(state: &AppState, ctx: &PageCtx<'_>, s: &Seat) -> Result<bool, PageError> {
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(ctx.lang, e.into()))?;
    db::feedback::answered(&mut conn, s.attendee.id.0).await.map_err(|e| PageError::from_api(ctx.lang, db::DbError::from(e).into()))
}

/// `POST`: stores a valid answer once, then back to the page, which thanks; a refused one comes
/// back as the form (422) with nothing written.
#[tracing::instrument(name = "web.feedback.submit", skip_all)]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
    query: web::Query<KeyQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let ctx = PageCtx::new(&req, &state);
    let values = FormValues::parse(&body).unwrap_or_default();
    if csrf::verify(&req, state.settings.secret_key.expose(), values.get(csrf::FIELD)).is_err() {
        return Err(PageError { lang: ctx.lang, status: StatusCode::FORBIDDEN, retry_after: None });
    }
    let s = seat(&state, &ctx, &path.0, path.1, query.key()).await?;
    if s.details.event.starts_at > Utc::now() {
        return message(&ctx, StatusCode::FORBIDDEN, "not_yet", &s);
    }
    if answered(&state, &ctx, &s).await? {
        return message(&ctx, StatusCode::CONFLICT, "already", &s);
    }
    let answer = match parse(&values) {
        Ok(a) => a,
        Err(errors) => return form(&ctx, &s, &values, &errors, &action(&req, query.key())),
    };
    let [overall, content, presenter, venue] = answer.ratings;
    let row = NewFeedback {
        attendee_id: s.attendee.id.0,
        city_event_id: s.details.event.id,
        language: ctx.lang.as_str().to_owned(),
        overall,
        content,
        presenter,
        venue,
        would_recommend: answer.would_recommend,
        comments: answer.comments,
    };
    let mut conn = db::connection(&state.pool).await.map_err(|e| PageError::from_api(ctx.lang, e.into()))?;
    let written = db::feedback::insert(&mut conn, &row).await.map_err(|e| PageError::from_api(ctx.lang, db::DbError::from(e).into()))?;
    if !written {
        // Another tab answered between the check and the write.
        return message(&ctx, StatusCode::CONFLICT, "already", &s);
    }
    Ok(see_other(format!("{}&notice=sent", action(&req, query.key()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        FormValues::parse(serde_urlencoded::to_string(pairs).unwrap().as_bytes()).unwrap()
    }

    #[test]
    fn a_complete_answer_parses_and_each_fault_is_named() {
        let ok: [(&str, &str); 6] =
            [("overall", "5"), ("content", "4"), ("presenter", "5"), ("venue", "3"), ("recommend", "yes"), ("comments", " Merci ")];
        assert_eq!(parse(&values(&ok)), Ok(Answer { ratings: [5, 4, 5, 3], would_recommend: true, comments: "Merci".into() }));
        let bad = [("overall", "6"), ("content", ""), ("presenter", "x"), ("venue", "0"), ("recommend", "maybe")];
        assert_eq!(
            parse(&values(&bad)),
            Err(vec![
                ("overall", "rating_invalid"),
                ("content", "rating_required"),
                ("presenter", "rating_invalid"),
                ("venue", "rating_invalid"),
                ("recommend", "recommend_required"),
            ])
        );
        let long = "é".repeat(MAX_COMMENTS + 1);
        let mut too_long: Vec<(&str, &str)> = ok.to_vec();
        too_long[5] = ("comments", long.as_str());
        assert_eq!(parse(&values(&too_long)), Err(vec![("comments", "comments_too_long")]));
        let just = "é".repeat(MAX_COMMENTS);
        too_long[5] = ("comments", just.as_str());
        assert!(parse(&values(&too_long)).is_ok(), "the limit counts characters, not bytes");
    }
}
