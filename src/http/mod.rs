//! What the HTTP front ends (`api`, `web`) share that is not a route: errors and JSON
//! bodies, extractors, the client IP, reading refused bodies out, rate limits, the key/token cache and the public
//! thread cache. It sits below `app`, so nothing here reads the application state: an
//! extractor that needs configuration asks for it through a trait the state implements.

pub mod client_ip;
pub mod drain;
pub mod error;
pub mod extract;
pub mod json;
pub mod key_cache;
pub mod limits;
pub mod thread_cache;
