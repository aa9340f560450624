//! Combines classifier scores, rule hits and author standing into a verdict.

use serde::{Deserialize, Serialize};

/// A machine-readable reason for a verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    Placeholder,
}
