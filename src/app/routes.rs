//! The route table of the whole service: the back office, the JSON API, the site, and — only
//! when the settings ask for the benchmark baseline — the row-lock route set in front of the
//! API's hold and availability routes. Also the OpenAPI document, which needs both the API's and
//! the back office's routes, so it is assembled here.

use actix_web::web;
use utoipa::{Modify, OpenApi};

use crate::api::openapi::{ApiDoc, CommonResponses, Document};
use crate::config::HoldStrategy;
use crate::http::security::SecurityPolicy;
use crate::state::AppState;

/// What every worker's `App` is configured with; built once, cloned per worker.
#[derive(Clone)]
pub struct Routes {
    state: web::Data<AppState>,
    security: web::Data<SecurityPolicy>,
    openapi: web::Data<Document>,
    frontend_url: String,
    row_lock_baseline: bool,
}

impl Routes {
    pub fn new(state: &AppState) -> Self {
        Self {
            security: web::Data::new(SecurityPolicy::new(&state.settings, state.test_cards.is_none())),
            openapi: web::Data::new(openapi_document()),
            frontend_url: state.settings.frontend_url.clone(),
            row_lock_baseline: state.settings.hold_strategy == HoldStrategy::RowLock,
            state: web::Data::new(state.clone()),
        }
    }

    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.security.clone())
            .app_data(self.state.clone())
            .app_data(self.openapi.clone())
            .app_data(web::PayloadConfig::new(crate::http::extract::JSON_LIMIT))
            .configure(crate::admin::routes);
        if self.row_lock_baseline {
            // First: actix matches routes in the order they are registered.
            cfg.configure(crate::baseline::routes);
        }
        cfg.configure(crate::api::routes_for(&self.frontend_url)).configure(crate::web::routes);
    }
}

/// The OpenAPI document of `/api/v1` and `/api/v1/admin`, with the responses every route shares.
pub fn openapi_document() -> Document {
    let mut doc = ApiDoc::openapi();
    doc.merge(<crate::admin::api::AdminApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::facts_api::FactsApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::catalogue::api::CatalogueApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::date_operations_api::DateOperationsApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::check_in::CheckInApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::feedback::FeedbackApiDoc as OpenApi>::openapi());
    doc.merge(<crate::admin::resources::ResourcesApiDoc as OpenApi>::openapi());
    // Again over the merged document, so the back office's routes are completed too.
    CommonResponses.modify(&mut doc);
    crate::api::openapi::open_flattened_parts(&mut doc);
    Document(doc)
}
