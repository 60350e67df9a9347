//! Limits as HTTP answers: a rate-limited client gets `429` with `Retry-After`, an oversized
//! request head `431` before any handler runs.

use actix_web::http::StatusCode;

use crate::http::error::ApiError;
use crate::rate_limit::RateLimited;

impl From<RateLimited> for ApiError {
    fn from(e: RateLimited) -> Self {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests from your address; please wait a moment.")
            .retry_after(e.retry_after_secs)
    }
}

/// Largest request head accepted (all header names and values): browsers send a few KiB; anything
/// bigger is abuse or a mistake, and actix itself accepts far more.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses a request whose headers exceed [`MAX_HEADER_BYTES`] with `431`, before any handler.
pub async fn header_limit(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let size: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if size > MAX_HEADER_BYTES {
        use actix_web::ResponseError;
        let refusal = ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("The request headers are larger than {MAX_HEADER_BYTES} bytes."),
        );
        // A response, not an error: the outer middleware still counts it and adds the request id.
        return Ok(req.into_response(refusal.error_response()).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
