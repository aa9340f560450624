//! Text normalisation before rule matching; each step is its own function.
