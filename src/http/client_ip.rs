//! The client IP: the socket peer, or a trusted proxy's header when configured.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// `None` when unknown (e.g. a request driven without a socket in tests).
pub struct ClientIp(pub Option<String>);

/// The state that knows which header a trusted proxy puts the client's address in
/// (`[limits] trusted_proxy_header`); `None` means trust only the socket peer.
pub trait TrustedProxy {
    fn trusted_proxy_header(&self) -> Option<String>;
}

impl<S: TrustedProxy + Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(header) = state.trusted_proxy_header().as_deref() {
            // X-Forwarded-For style: the left-most address is the original client.
            if let Some(ip) = parts
                .headers
                .get(header)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
            {
                return Ok(ClientIp(Some(ip.to_string())));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(ClientIp(peer))
    }
}
