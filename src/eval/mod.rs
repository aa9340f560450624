//! Offline evaluation of verdicts against labelled data (`modgate eval`).

pub mod dataset;
pub mod metrics;
pub mod report;
