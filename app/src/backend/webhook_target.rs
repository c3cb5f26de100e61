//! Where a webhook may post: public addresses only. A webhook URL is checked when it is
//! saved, and again on the addresses its name resolves to at send time (a name can be
//! pointed somewhere else after it was saved), through a DNS resolver that hands the
//! connection only addresses it has checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::Duration;

use ipnet::IpNet;

/// Ranges that are not the public internet: this machine, private and carrier networks,
/// link-local (with the cloud metadata addresses), multicast, broadcast, and the ranges
/// set aside for documentation, benchmarks and protocols.
static NOT_PUBLIC: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    [
        // IPv4
        "0.0.0.0/8",       // "this network", unspecified
        "10.0.0.0/8",      // RFC 1918
        "100.64.0.0/10",   // carrier-grade NAT
        "127.0.0.0/8",     // loopback
        "169.254.0.0/16",  // link-local, 169.254.169.254 metadata
        "172.16.0.0/12",   // RFC 1918
        "192.0.0.0/24",    // IETF protocol assignments
        "192.0.2.0/24",    // documentation
        "192.88.99.0/24",  // 6to4 relay anycast
        "192.168.0.0/16",  // RFC 1918
        "198.18.0.0/15",   // benchmarking
        "198.51.100.0/24", // documentation
        "203.0.113.0/24",  // documentation
        "224.0.0.0/4",     // multicast
        "240.0.0.0/4",     // reserved, 255.255.255.255 broadcast
        // IPv6 (the mapped, NAT64 and 6to4 forms are judged by the IPv4 address inside)
        "::/128",         // unspecified
        "::1/128",        // loopback
        "::/96",          // IPv4-compatible (deprecated)
        "64:ff9b:1::/48", // local-use NAT64
        "100::/64",       // discard
        "2001::/23",      // IETF protocol assignments: Teredo, benchmarking (2001:2::/48) …
        "2001:db8::/32",  // documentation
        "3fff::/20",      // documentation
        "fc00::/7",       // unique local, fd00:ec2::254 metadata
        "fe80::/10",      // link-local
        "fec0::/10",      // site-local (deprecated)
        "ff00::/8",       // multicast
    ]
    .iter()
    .filter_map(|n| n.parse().ok())
    .collect()
});

/// Whether an address is on the public internet, so a webhook may reach it.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !NOT_PUBLIC.iter().any(|n| n.contains(&IpAddr::V4(v4))),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                // Global unicast is 2000::/3; everything else is reserved or local.
                (v6.segments()[0] & 0xe000) == 0x2000
                    && !NOT_PUBLIC.iter().any(|n| n.contains(&IpAddr::V6(v6)))
            }
        },
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`), the NAT64
/// well-known prefix (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// Why a webhook may not be sent somewhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("refused: private address")]
    PrivateAddress,
    #[error("refused: the address could not be resolved")]
    Unresolved,
}

/// The literal address a URL's host is, if it is one (`[::1]` included).
pub fn literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Checks a URL's host: a literal address directly, a name by resolving it now. `Ok` when
/// every address is public (or private ones are allowed).
pub async fn check_host(host: &str, allow_private: bool) -> Result<(), Refused> {
    match literal(host) {
        Some(ip) if allow_private || is_public(ip) => Ok(()),
        Some(_) => Err(Refused::PrivateAddress),
        None => resolve_checked(host, allow_private).await.map(|_| ()),
    }
}

/// Resolves a name and returns its addresses, only if every one may be reached.
async fn resolve_checked(name: &str, allow_private: bool) -> Result<Vec<SocketAddr>, Refused> {
    let lookup = tokio::net::lookup_host((name.trim_end_matches('.'), 0));
    let addrs: Vec<SocketAddr> = tokio::time::timeout(Duration::from_secs(5), lookup)
        .await
        .map_err(|_| Refused::Unresolved)?
        .map_err(|_| Refused::Unresolved)?
        .collect();
    if addrs.is_empty() {
        return Err(Refused::Unresolved);
    }
    // All or nothing: a name that also points inside is not trusted with the rest.
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(Refused::PrivateAddress);
    }
    Ok(addrs)
}

/// reqwest's resolver for webhooks: the connection goes only to addresses checked here.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve_checked(name.as_str(), allow_private).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The refusal behind a failed request, if the resolver refused it.
pub fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r.clone());
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "169.254.169.254",
            "169.254.1.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "192.0.2.10",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.1",
            "240.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001:2::1",
            "100::1",
            "fec0::1",
        ] {
            assert!(!public(a), "{a} must not be public");
        }
    }

    #[test]
    fn ipv4_inside_ipv6_is_judged_as_ipv4() {
        for a in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "::127.0.0.1",
        ] {
            assert!(!public(a), "{a} must not be public");
        }
        assert!(public("::ffff:8.8.8.8"));
        assert!(public("64:ff9b::808:808"));
    }

    #[test]
    fn public_addresses_are_public() {
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "52.96.0.1",
            "172.32.0.1",
            "100.128.0.1",
            "2a00:1450:4009:81f::200e",
            "2606:4700::1111",
        ] {
            assert!(public(a), "{a} is public");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused() {
        assert_eq!(
            check_host("localhost", false).await,
            Err(Refused::PrivateAddress)
        );
        assert_eq!(check_host("localhost", true).await, Ok(()));
        for literal in ["127.0.0.1", "[::1]", "[::ffff:7f00:1]", "169.254.169.254"] {
            assert_eq!(
                check_host(literal, false).await,
                Err(Refused::PrivateAddress),
                "{literal}"
            );
        }
    }
}
