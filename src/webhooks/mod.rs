//! Signed webhooks: comment events leave through a durable outbox
//! ([`crate::store::outbox`]), written in the same transaction as the change, and a
//! background worker delivers them to the `[[webhooks]]` endpoints with retries.

pub mod signing;
pub mod worker;

pub use worker::DeliveryWorker;
