//! The JSON API's routes (the console's are in `web`; `startup::router` joins both and
//! adds the middleware every request passes through).

use axum::Router;

use crate::app::AppState;

pub mod auth;
pub mod health;
pub mod moderation;
pub mod openapi;
pub mod perspective;
pub mod public;
pub mod stats;
pub mod types;
pub mod webhooks;

/// The API's routes; [`crate::startup::router`] adds the console's and the middleware.
pub fn routes(app: &AppState) -> Router<AppState> {
    Router::new()
        .merge(public::router())
        .merge(moderation::router())
        .merge(stats::router())
        .merge(health::router())
        .merge(openapi::router())
        .merge(perspective::router(app))
        .merge(webhooks::router())
}
