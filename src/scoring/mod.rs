//! The scoring core: normalisation → rules → classifier → policy → verdict.

pub mod batcher;
pub mod classifier;
pub mod language;
pub mod normalize;
pub mod pipeline;
pub mod policy;
pub mod rules;
