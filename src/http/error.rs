//! The one place errors become HTTP responses: `{"error": {"code", "message", "field"?}}` with the
//! right status, a `Retry-After` where waiting helps, and never an internal detail.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::actors::ReservationError;
use crate::db::DbError;
use crate::domain::InvalidInput;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `invalid_email`, `sold_out`, `not_found`, …
    pub code: &'static str,
    /// For people; may change wording.
    pub message: String,
    /// The request field at fault, as a JSON path (`buyer.email`, `attendees[1].last_name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seats still available, on `sold_out` / `not_enough_seats`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available: Option<i32>,
    /// A booking's current status, on conflicts about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

type Cause = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
    pub retry_after: Option<u32>,
    /// What caused it (a database or Stripe failure): kept for the log line, never answered.
    /// (A thin pointer: `ApiError` travels in every `Result` of the request path.)
    source: Option<Arc<Cause>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: ErrorDetail { code, message: message.into(), field: None, available: None, status: None },
            retry_after: None,
            source: None,
        }
    }

    /// The failure behind this answer, kept for [`ApiError::log`].
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(Box::new(cause)));
        self
    }

    /// Logs the error once, where it becomes a response (or a page): a server fault with its
    /// chain of causes at `error`, a brief unavailability at `warn`; refusals of bad input are the
    /// client's business and are not logged.
    pub fn log(&self) {
        if !self.status.is_server_error() {
            return;
        }
        // The direct cause's message (`DbError` and `StripeError` spell their own causes), with
        // e-mail addresses masked: a database error may quote a value.
        let causes = std::error::Error::source(self).map(|c| crate::domain::mask_emails_in(&c.to_string())).unwrap_or_default();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(status = self.status.as_u16(), code = %self.detail.code, cause = %causes, "answered unavailable");
        } else {
            tracing::error!(status = self.status.as_u16(), code = %self.detail.code, cause = %causes, "answered with a server error");
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.detail.field = Some(field.into());
        self
    }

    /// The status at fault (`held`, `on_sale`, …): a domain status or its word.
    pub fn with_status(mut self, status: impl std::fmt::Display) -> Self {
        self.detail.status = Some(status.to_string());
        self
    }

    pub fn retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).field(field)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unavailable(retry_after: u32) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The service is briefly unavailable; please try again in a moment.",
        )
        .retry_after(retry_after)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side; nothing was changed.")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.detail.code, self.detail.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| &**e as &(dyn std::error::Error + 'static))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.json(ErrorBody { error: self.detail.clone() })
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> Self {
        ApiError::unprocessable(e.code, &e.field, e.message)
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_transient() {
            ApiError::unavailable(2).caused_by(e)
        } else {
            ApiError::internal().caused_by(e)
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<ReservationError> for ApiError {
    fn from(e: ReservationError) -> Self {
        let msg = e.to_string();
        match e {
            ReservationError::SoldOut => {
                let mut err = ApiError::conflict("sold_out", "This city event is sold out.");
                err.detail.available = Some(0);
                err
            }
            ReservationError::NotEnoughSeats { available } => {
                let mut err = ApiError::conflict("not_enough_seats", format!("Only {available} seats are left.")).field("quantity");
                err.detail.available = Some(available);
                err
            }
            ReservationError::SalesClosed { status } => {
                ApiError::conflict("sales_closed", "Sales are not open for this city event.").with_status(&status)
            }
            ReservationError::UnknownCityEvent => {
                ApiError::not_found("city_event_not_found", "No city event has this id.").field("city_event_id")
            }
            ReservationError::Busy { retry_after_secs } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "Many people are booking this city event right now; please try again in a moment.",
            )
            .retry_after(retry_after_secs),
            ReservationError::Unavailable { retry_after_secs } => ApiError::unavailable(retry_after_secs),
            ReservationError::WrongStatus { .. } => ApiError::conflict("wrong_status", msg),
            ReservationError::AlreadyWaiting => {
                ApiError::conflict("already_on_waiting_list", "This e-mail address is already on the waiting list of this city event.")
                    .field("email")
            }
            ReservationError::SeatsAvailable { available } => {
                let mut err = ApiError::conflict("seats_available", "Seats are available: book one instead of joining the waiting list.");
                err.detail.available = Some(available);
                err
            }
            ReservationError::CapacityBelowTaken { taken } => {
                ApiError::conflict("capacity_below_taken", format!("{taken} seats are held or sold: the capacity cannot be lower."))
                    .field("capacity")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::payments::PaymentError> for ApiError {
    fn from(e: crate::payments::PaymentError) -> Self {
        use crate::payments::stripe_client::StripeError;
        use crate::payments::PaymentError as P;
        match e {
            P::BookingNotFound => ApiError::not_found("booking_not_found", "No booking matches this reference and e-mail address."),
            P::NotPayable(status) => {
                let why = match status {
                    crate::domain::BookingStatus::Confirmed | crate::domain::BookingStatus::Refunded => "it is already paid",
                    crate::domain::BookingStatus::Expired => "its hold expired; please book again",
                    _ => "it was cancelled",
                };
                ApiError::conflict("not_payable", format!("This booking cannot be paid: {why}.")).with_status(status.as_str())
            }
            P::NotRefundable(status) => {
                ApiError::conflict("not_refundable", "Only a paid booking can be refunded.").with_status(status.as_str())
            }
            P::OfferNotClaimed => {
                ApiError::conflict("offer_not_claimed", "Claim this waiting-list offer first (the link in its e-mail), then pay.")
                    .with_status("held")
            }
            P::InvalidAmount(msg) => ApiError::unprocessable("invalid_amount", "amount_cents", msg),
            P::Stripe(e @ StripeError::Unavailable(_)) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_provider_unavailable",
                "Payments are briefly unavailable; please try again in a moment. You have not been charged.",
            )
            .retry_after(5)
            .caused_by(e),
            P::Stripe(e @ StripeError::Api { .. }) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "payment_provider_error",
                "The payment provider refused the request; nothing was charged.",
            )
            .caused_by(e),
            P::Db(e) => e.into(),
            P::Seats(e) => e.into(),
        }
    }
}
