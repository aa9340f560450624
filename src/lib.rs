//! modgate: self-hosted comment moderation.
//!
//! Data path: `api` (request, validation) → `scoring` (normalise, rules, classifier, policy)
//! → `store` (SQLite) → `api` (response).

pub mod config;
pub mod scoring;
pub mod cli;
pub mod eval;
