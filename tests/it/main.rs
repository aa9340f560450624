//! The integration tests, built as one binary (one link, one ~100 MB executable instead of
//! one per file). The browser, crash and long-comment tests stay binaries of their own:
//! the first two drive other processes, the last needs the two cores to itself.

#[path = "../common/mod.rs"]
mod common;

mod api;
mod cascade;
mod classifier;
mod cli;
mod e5;
mod fuzz_text_path;
mod group_commit;
mod hostile;
mod languages;
mod layering;
mod learning;
mod normalize;
mod onnx;
mod perspective;
mod reliability;
mod route_protection;
mod rules;
mod scoring_thread;
mod thread_cache;
mod webhooks;
