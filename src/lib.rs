//! modgate: self-hosted comment moderation.
//!
//! Data path: `api` (request, validation) → `scoring` (normalise, rules, classifier, policy)
//! → `store` (SQLite) → `api` (response).

pub mod config;
pub mod scoring;
pub mod cli;
pub mod eval;
pub mod domain;
pub mod store;
pub mod api;
pub mod app;
pub mod metrics;
pub mod startup;
pub mod telemetry;
pub mod rescore;
pub mod webhooks;
pub mod web;
