//! Pieces the HTTP front ends (`api`, `web`) share that are not routes.

pub mod key_cache;
