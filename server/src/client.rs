//! The client's address for routes outside Leptos (exports, uploads): the TCP peer, or the
//! address a trusted reverse proxy forwarded, by the same rule as server functions use.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use app::backend::state::AppState;
use app::error::AppError;

/// The resolved client address of this request.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| app::backend::errors::internal("client address", &"no peer address"))?;
        Ok(ClientAddr(app::backend::client_addr::resolve(
            peer.ip(),
            &parts.headers,
            &state.auth.trusted_proxies,
        )))
    }
}
