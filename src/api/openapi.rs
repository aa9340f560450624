//! The OpenAPI document served at `/openapi.json`, generated from the handlers'
//! `#[utoipa::path]` annotations and the `ToSchema` derives of [`super::types`], the
//! same structs the handlers parse and answer with.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "modgate", description = "Self-hosted comment moderation"),
    paths(
        super::public::post_comment,
        super::public::get_thread,
        super::public::post_report,
        super::public::put_article,
        super::public::get_article,
        super::moderation::get_queue,
        super::moderation::get_counts,
        super::moderation::get_comment,
        super::moderation::post_decision,
        super::moderation::post_bulk_decisions,
        super::moderation::post_author_standing,
        super::moderation::get_log,
        super::moderation::get_moderators,
        super::moderation::get_me,
        super::stats::get_stats,
        super::health::healthz,
        super::health::readyz,
        super::webhooks::get_deliveries,
        super::perspective::analyze,
        super::perspective::suggest_score,
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        use utoipa::openapi::{RefOr, Schema};
        let components = openapi.components.get_or_insert_with(Default::default);
        // At least one attribute. Set here: utoipa-gen 5.5.0 writes
        // `#[schema(min_properties = ..)]` out as maxProperties.
        if let Some(RefOr::T(Schema::Object(o))) = components.schemas.get_mut("RequestedAttributes")
        {
            o.min_properties = Some(1);
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Perspective routes: a key from `modgate apikey add`, as `?key=` or a header.
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::new("key"))),
        );
        components.add_security_scheme(
            "api_key_header",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Goog-Api-Key"))),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
