//! Who is on the other end: the client's address, from the TCP connection,
//! or from `X-Forwarded-For` when the connection comes from a proxy listed
//! in `trusted_proxies` (and only then: anyone can write that header).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed. A request extension.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`) and CIDR ranges (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: {e:?} is not an address or a CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets.into()))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a connection from `peer` that says `forwarded_for`:
    /// the nearest address in the chain that is not a trusted proxy.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for.unwrap_or_default().split(',').map(str::trim);
        let mut client = peer;
        for hop in hops.rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The client's address, when the server was reached over TCP.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    pub fn of(parts: &Parts) -> Self {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else { return Self(None) };
        let trusted = parts.extensions.get::<TrustedProxies>().cloned().unwrap_or_default();
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        let forwarded = forwarded.join(",");
        Self(Some(trusted.client(peer.ip(), Some(forwarded.as_str()).filter(|f| !f.is_empty()))))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.168.1.7".into()]).unwrap();
        // Not a proxy: the header is anyone's to write.
        assert_eq!(trusted.client(ip("203.0.113.9"), Some("1.2.3.4")), ip("203.0.113.9"));
        // A trusted proxy: the nearest untrusted hop.
        assert_eq!(trusted.client(ip("10.1.1.1"), Some("198.51.100.4")), ip("198.51.100.4"));
        assert_eq!(trusted.client(ip("10.1.1.1"), Some("6.6.6.6, 198.51.100.4, 192.168.1.7")), ip("198.51.100.4"));
        // A proxy that forwards nothing, or garbage: itself.
        assert_eq!(trusted.client(ip("10.1.1.1"), None), ip("10.1.1.1"));
        assert_eq!(trusted.client(ip("10.1.1.1"), Some("not an ip")), ip("10.1.1.1"));
        // IPv4 seen through IPv6 is still IPv4.
        assert_eq!(trusted.client(ip("::ffff:10.1.1.1"), Some("198.51.100.4")), ip("198.51.100.4"));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
        assert_eq!(TrustedProxies::default().client(ip("10.1.1.1"), Some("1.1.1.1")), ip("10.1.1.1"));
    }
}
