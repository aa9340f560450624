//! modgate: self-hosted comment moderation.
//!
//! Data path: `api` (request, validation) → `scoring` (normalise, rules, classifier, policy)
//! → `store` (SQLite) → `api` (response).
//!
//! Modules in layers; each uses only layers below it (`tests/it/layering.rs` checks):
//!
//! | layer | modules | holds |
//! |---|---|---|
//! | 0 | `domain` | shared values: labels, scores, languages, statuses, verdicts, rule actions, event kinds; validated requests |
//! | 1 | `config` | `config.toml` as plain data, parsed and checked (FILE:LINE:COL errors) |
//! | 2 | `scoring`, `store`, `eval`, `telemetry` | scoring pipeline; persistence; offline evaluation; logging |
//! | 3 | `learning`, `rescoring` | what moderators' decisions say; re-scoring stored comments |
//! | 4 | `http` | errors, JSON bodies, extractors, client IP, limits, key cache, thread cache |
//! | 5 | `metrics` | Prometheus metrics |
//! | 6 | `app` | the state every request shares |
//! | 7 | `usecases`, `webhooks` | moderation actions shared by API and console; webhook delivery |
//! | 8 | `api`, `web` | JSON API and moderator console, siblings |
//! | 9 | `startup` | builds the router and runs the service |
//! | 10 | `cli` | the `modgate` command |

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod eval;
pub mod http;
pub mod learning;
pub mod metrics;
pub mod rescoring;
pub mod scoring;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod usecases;
pub mod web;
pub mod webhooks;
