//! Who the client of a request is, behind the proxies we trust (setting
//! `server.trusted_proxies`): rate limits and the login history use it.

use std::net::IpAddr;

use http::HeaderMap;

/// An address block such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a block of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (text.trim(), None),
        };
        let network = address.parse::<IpAddr>().ok()?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client's address of the current request, set by the server's first layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client of a request that reached us from `peer`: `peer` itself unless it is a trusted
/// proxy; then, in the proxies' chain (`Forwarded: for=…`, else `X-Forwarded-For`), the
/// right-most address that is not a trusted proxy. Entries further left were written by the
/// client itself and prove nothing; an entry that is not an address stops the walk at the proxy
/// that wrote it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|cidr| cidr.contains(ip));
    let peer = peer.to_canonical();
    if !is_trusted(peer) {
        return peer;
    }
    let mut current = peer;
    for entry in chain(headers).iter().rev() {
        let Some(ip) = entry.as_deref().and_then(parse_node) else { return current };
        current = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    current
}

/// The proxies' chain, left (client) to right (last proxy); `None` for an entry without one
/// address (`unknown`, an obfuscated name, garbage).
fn chain(headers: &HeaderMap) -> Vec<Option<String>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().flat_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(|s| s.trim().to_string()).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"').to_string())
                })
            })
            .collect();
    }
    values("x-forwarded-for").into_iter().map(Some).collect()
}

/// An address as a proxy writes it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]:4711`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    }
    text.parse::<std::net::SocketAddr>().ok().map(|s| s.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> Vec<Cidr> {
        vec![Cidr::parse("10.0.0.0/8").unwrap(), Cidr::parse("2001:db8:ffff::/48").unwrap()]
    }

    #[test]
    fn blocks_contain_their_addresses_and_a_bare_address_is_a_block_of_one() {
        assert!(Cidr::parse("10.0.0.0/8").unwrap().contains(ip("10.200.3.4")));
        assert!(!Cidr::parse("10.0.0.0/8").unwrap().contains(ip("11.0.0.1")));
        assert!(Cidr::parse("192.0.2.7").unwrap().contains(ip("::ffff:192.0.2.7")));
        assert!(!Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.1")));
        assert!(Cidr::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:1::5")));
        for bad in ["", "10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "proxy.example", "10.0.0.0/x"] {
            assert_eq!(Cidr::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let forged = headers(&[("x-forwarded-for", "198.51.100.1"), ("forwarded", "for=198.51.100.2")]);
        assert_eq!(client_address(ip("203.0.113.9"), &forged, &proxies()), ip("203.0.113.9"));
        assert_eq!(client_address(ip("10.0.0.1"), &forged, &[]), ip("10.0.0.1"), "nothing trusted by default");
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        // The client forged the first entry; our proxies appended the two on the right.
        let chain = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(client_address(ip("10.0.0.1"), &chain, &proxies()), ip("203.0.113.9"));
        let forwarded = headers(&[("forwarded", "for=198.51.100.1, for=\"[2001:db8:cafe::17]:4711\";proto=https, for=10.1.1.1")]);
        assert_eq!(client_address(ip("10.0.0.1"), &forwarded, &proxies()), ip("2001:db8:cafe::17"));
        let ported = headers(&[("x-forwarded-for", "203.0.113.9:5555")]);
        assert_eq!(client_address(ip("10.0.0.1"), &ported, &proxies()), ip("203.0.113.9"));
    }

    #[test]
    fn an_entry_that_is_not_an_address_stops_at_the_proxy_that_wrote_it() {
        let chain = headers(&[("x-forwarded-for", "203.0.113.9, unknown")]);
        assert_eq!(client_address(ip("10.0.0.1"), &chain, &proxies()), ip("10.0.0.1"));
        let hidden = headers(&[("forwarded", "for=_hidden, for=10.1.1.1")]);
        assert_eq!(client_address(ip("10.0.0.1"), &hidden, &proxies()), ip("10.1.1.1"));
        assert_eq!(client_address(ip("10.0.0.1"), &HeaderMap::new(), &proxies()), ip("10.0.0.1"), "no header: the proxy itself");
    }
}
