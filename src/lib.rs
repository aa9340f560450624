//! modgate: self-hosted comment moderation.
//!
//! Data path: `api` (request, validation) → `scoring` (normalise, rules, classifier, policy)
//! → `store` (SQLite) → `api` (response).

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod eval;
pub mod http;
pub mod learning;
pub mod metrics;
pub mod rescore;
pub mod scoring;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod usecases;
pub mod web;
pub mod webhooks;
