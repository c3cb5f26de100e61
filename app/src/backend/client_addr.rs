//! The real client behind a reverse proxy: `X-Forwarded-For` is believed only from the
//! proxies an operator names (`WARDLINE_TRUSTED_PROXIES`), and only as far back as the
//! first hop that is not one of them.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` Wardline believes. Empty: believe nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`); a bare address is a single host.
    pub fn parse(raw: &str) -> Result<TrustedProxies, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .map_err(|_| format!("{s} is not an address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One hop of `X-Forwarded-For`: an address, possibly with a port.
fn hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>()
        .ok()
        .or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

/// The client of a request that arrived from `peer`: the peer itself unless it is a trusted
/// proxy; then the rightmost `X-Forwarded-For` hop that is not a trusted proxy (hops further
/// left were written by whoever sent the request, and may be anything).
pub fn resolve(peer: IpAddr, headers: &http::HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for raw in hops.iter().rev() {
        // An unreadable hop ends what can be believed: the last proxy saw it as its client.
        let Some(ip) = hop(raw) else { break };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            resolve(ip("203.0.113.5"), &headers(&["198.51.100.7"]), &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &headers(&["198.51.100.7"]),
                &TrustedProxies::default()
            ),
            ip("10.0.0.1"),
            "nobody is trusted by default"
        );
    }

    #[test]
    fn the_rightmost_hop_that_is_not_a_trusted_proxy_is_the_client() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8 , 192.168.1.1, fd00::/8").unwrap();
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &headers(&["1.2.3.4, 198.51.100.7, 192.168.1.1"]),
                &trusted
            ),
            ip("198.51.100.7"),
            "the spoofed left-hand hop is not believed"
        );
        assert_eq!(
            resolve(
                ip("fd00::1"),
                &headers(&["1.2.3.4", "2001:db8::9, 10.1.1.1"]),
                &trusted
            ),
            ip("2001:db8::9"),
            "several headers read as one list"
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers(&["10.0.0.2, 10.0.0.3"]), &trusted),
            ip("10.0.0.2"),
            "all proxies: the furthest one"
        );
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &headers(&["198.51.100.7, garbage"]),
                &trusted
            ),
            ip("10.0.0.1"),
            "an unreadable hop stops the walk"
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers(&[]), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            resolve(
                ip("::ffff:10.0.0.1"),
                &headers(&["198.51.100.7:4711"]),
                &trusted
            ),
            ip("198.51.100.7"),
            "mapped peers and hops with ports"
        );
    }

    #[test]
    fn trusted_proxies_must_be_addresses_or_ranges() {
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }
}
