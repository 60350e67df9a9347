//! Extractors that turn bad input into `ApiError`s naming the field at fault.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{web, FromRequest, HttpRequest};
use futures::future::LocalBoxFuture;
use futures::StreamExt;
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

/// Largest JSON body accepted (a booking with 50 attendees is well under 16 KiB).
pub const JSON_LIMIT: usize = 64 * 1024;

/// Like `web::Json`, but errors say which field is wrong (`buyer.email`), with a stable code.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send the request body as JSON with Content-Type: application/json.",
                ));
            }
            let too_large = || {
                ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("The request body is larger than {JSON_LIMIT} bytes."),
                )
            };
            if declared.is_some_and(|n| n > JSON_LIMIT) {
                return Err(too_large());
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| ApiError::bad_request("invalid_body", "The request body could not be read."))?;
                if body.len() + chunk.len() > JSON_LIMIT {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Like `web::Bytes` (with the route's `PayloadConfig` limit), but a body that is too large or
/// cannot be read is answered in the API's error format, not actix's plain text.
pub struct ApiBytes(pub web::Bytes);

impl FromRequest for ApiBytes {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            bytes.await.map(ApiBytes).map_err(|e| {
                if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(actix_web::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large.")
                } else {
                    ApiError::bad_request("invalid_body", "The request body could not be read.")
                }
            })
        })
    }
}

/// Deserialises JSON, turning serde's complaint into a code and a field path.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        json_error(&path, &inner)
    })?;
    de.end().map_err(|e| json_error(".", &e))?;
    Ok(value)
}

fn json_error(path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = e.to_string();
    // Drop serde's " at line 1 column 42" suffix: positions mean nothing to most clients.
    let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {message}."))
        }
        Category::Data => {
            let base = if path == "." { String::new() } else { path.to_owned() };
            let join = |name: &str| if base.is_empty() { name.to_owned() } else { format!("{base}.{name}") };
            let backticked = message.split('`').nth(1).unwrap_or("").to_owned();
            let (code, field) = if message.starts_with("missing field") {
                ("missing_field", join(&backticked))
            } else if message.starts_with("unknown field") {
                // serde_path_to_error's path already ends with the unknown key.
                ("unknown_field", if base.is_empty() { backticked } else { base })
            } else {
                ("invalid_field", if base.is_empty() { "body".to_owned() } else { base })
            };
            let message = if code == "invalid_field" { format!("{field}: {message}.") } else { format!("{message}.") };
            ApiError::unprocessable(code, &field, message)
        }
    }
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|err, _req| ApiError::not_found("not_found", format!("Nothing is found at this address ({err}).")).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = err.to_string();
        let field = message.split('`').nth(1).unwrap_or("query").to_owned();
        ApiError::unprocessable("invalid_query", &field, format!("The query string is not valid: {message}.")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::booking_request::RawBookingRequest;

    fn err(body: &str) -> ApiError {
        match parse_json::<RawBookingRequest>(body.as_bytes()) {
            Err(e) => e,
            Ok(_) => panic!("{body} parsed"),
        }
    }

    #[test]
    fn names_the_field() {
        let e = err(r#"{"city_event_id": "x"}"#);
        assert_eq!((e.detail.code, e.detail.field.as_deref()), ("invalid_field", Some("city_event_id")));
        let e = err(r#"{"city_event_id": 1, "quantity": 1, "buyer": {"first_name": "A", "last_name": "B", "phone": "5145550199"}}"#);
        assert_eq!((e.detail.code, e.detail.field.as_deref()), ("missing_field", Some("buyer.email")));
        let e = err(r#"{"city_event_id": 1, "quantity": 99999999999999999999999}"#);
        assert_eq!(e.detail.field.as_deref(), Some("quantity"));
        let e = err(r#"{"city_event_id": 1, "colour": 1}"#);
        assert_eq!((e.detail.code, e.detail.field.as_deref()), ("unknown_field", Some("colour")));
        assert_eq!(err("{nope").detail.code, "malformed_json");
        assert_eq!(err("[1, 2").detail.code, "malformed_json");
        let trailing = parse_json::<serde_json::Value>(b"{} {}").map(|_| ()).unwrap_err();
        assert_eq!(trailing.detail.code, "malformed_json");
    }
}
