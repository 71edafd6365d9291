//! The AppSync Events HTTP endpoint: the three accepted forms normalised to one URL and the
//! `Host` that SigV4 signs; `http://` only for loopback, no query, brackets only around IPv6.

use std::net::{IpAddr, Ipv6Addr};

/// The AppSync Events HTTP endpoint, normalised to `scheme://host[:port]/event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The full publish URL, e.g. `https://abc.appsync-api.eu-west-1.amazonaws.com/event`.
    pub url: String,
    /// `host[:port]` exactly as sent in the `Host` header; SigV4 signs it.
    pub authority: String,
}

impl Endpoint {
    /// True for a loopback host (`localhost`, `127.0.0.0/8`, `::1`): the local server, where the
    /// CLI can say what to start when nothing answers.
    pub fn is_loopback(&self) -> bool {
        is_loopback(host_of(&self.authority))
    }

    /// `host:port` to connect to: the authority with the scheme's default port made explicit.
    pub fn socket_authority(&self) -> String {
        if port_of(&self.authority).is_some() {
            self.authority.clone()
        } else if self.url.starts_with("http://") {
            format!("{}:80", self.authority)
        } else {
            format!("{}:443", self.authority)
        }
    }
}

/// Normalises `https://host/event`, `https://host` or a bare host to `https://host/event`.
/// `http://` is accepted only for loopback hosts (the local server).
pub(super) fn parse_endpoint(raw: &str) -> Result<Endpoint, String> {
    let raw = raw.trim();
    let (scheme, rest) = match raw.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("https".to_owned(), raw),
    };
    if scheme != "https" && scheme != "http" {
        return Err(format!("scheme {scheme:?} is not https"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if path.contains(['?', '#']) {
        // Never echoed: a realtime URL's query can carry the auth header, key included.
        return Err("must not have a query or fragment".to_owned());
    }
    if !matches!(path, "" | "/" | "/event" | "/event/") {
        return Err(format!(
            "path {path:?} is not /event (give https://<host>/event, https://<host> or a bare host)"
        ));
    }
    if authority.is_empty() {
        return Err("has no host".to_owned());
    }
    if authority.contains(['@', '?', '#', ' ']) {
        return Err("must be a plain host, without user, query or spaces".to_owned());
    }
    let mut authority = authority.to_ascii_lowercase();
    check_brackets(&authority)?;
    // The HTTP client drops a default port from `Host`; SigV4 signs `Host`, so drop it here too.
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    if let Some(stripped) = authority.strip_suffix(default_port)
        && !stripped.ends_with(':')
    {
        authority = stripped.to_owned();
    }
    let host = host_of(&authority);
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if let Some(port) = port_of(&authority)
        && port.parse::<u16>().is_err()
    {
        return Err(format!("port {port:?} is not a number from 0 to 65535"));
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(format!(
            "http:// is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1), not {host:?}"
        ));
    }
    Ok(Endpoint {
        url: format!("{scheme}://{authority}/event"),
        authority,
    })
}

/// Brackets only around an IPv6 address, followed by nothing or `:port`: `[::1]evil.com` would
/// otherwise pass as the loopback host while the client connects elsewhere (or fails).
fn check_brackets(authority: &str) -> Result<(), String> {
    let Some(inner) = authority.strip_prefix('[') else {
        return if authority.contains(['[', ']']) {
            Err("brackets are only allowed around an ipv6 address".to_owned())
        } else {
            Ok(())
        };
    };
    let Some((address, after)) = inner.split_once(']') else {
        return Err("has an ipv6 host without its closing ]".to_owned());
    };
    if address.parse::<Ipv6Addr>().is_err() {
        return Err(format!("[{address}] is not an ipv6 address"));
    }
    if !(after.is_empty() || after.starts_with(':')) {
        return Err(format!(
            "has {after:?} after the ipv6 host; only :port may follow it"
        ));
    }
    Ok(())
}

/// The host part of `host[:port]` (IPv6 keeps its brackets).
pub(crate) fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => &authority[..=i],
            None => authority,
        }
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

fn port_of(authority: &str) -> Option<&str> {
    let host = host_of(authority);
    authority[host.len()..].strip_prefix(':')
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// The region in an AWS-managed host: `<prefix>.appsync-api.<region>.amazonaws.com(.cn)`.
/// Custom domains name no region.
pub(super) fn region_from_host(host: &str) -> Option<String> {
    let host = host.strip_suffix(".cn").unwrap_or(host);
    let rest = host.strip_suffix(".amazonaws.com")?;
    let (_, region) = rest.split_once(".appsync-api.")?;
    let valid = !region.is_empty()
        && !region.contains('.')
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_know_it_and_name_the_port_to_connect_to() {
        let local = parse_endpoint("http://127.0.0.1:8787/event").unwrap();
        assert!(local.is_loopback());
        assert_eq!(local.socket_authority(), "127.0.0.1:8787");
        assert_eq!(
            parse_endpoint("http://[::1]").unwrap().socket_authority(),
            "[::1]:80"
        );
        let aws = parse_endpoint("abc.appsync-api.eu-west-1.amazonaws.com").unwrap();
        assert!(!aws.is_loopback());
        assert_eq!(
            aws.socket_authority(),
            "abc.appsync-api.eu-west-1.amazonaws.com:443"
        );
    }

    #[test]
    fn the_three_endpoint_forms_normalise_to_the_event_url() {
        for raw in [
            "https://abc.appsync-api.eu-west-1.amazonaws.com/event",
            "https://abc.appsync-api.eu-west-1.amazonaws.com",
            "abc.appsync-api.eu-west-1.amazonaws.com",
            "HTTPS://ABC.appsync-api.eu-west-1.amazonaws.com/",
        ] {
            let e = parse_endpoint(raw).unwrap();
            assert_eq!(
                e.url, "https://abc.appsync-api.eu-west-1.amazonaws.com/event",
                "{raw}"
            );
            assert_eq!(e.authority, "abc.appsync-api.eu-west-1.amazonaws.com");
        }
    }

    #[test]
    fn plain_http_is_only_for_loopback_hosts() {
        for ok in [
            "http://127.0.0.1:8080/event",
            "http://127.5.0.1",
            "http://localhost:9000",
            "http://[::1]:4000/event",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_endpoint("http://[::1]:4000").unwrap().authority,
            "[::1]:4000"
        );
        for bad in [
            "http://10.0.0.1/event",
            "http://example.com",
            "http://localhost.evil.com",
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(err.contains("loopback"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_query_is_refused_without_echoing_it() {
        for raw in [
            "https://h/event/realtime?header=ZGEyLXNlY3JldA&payload=e30",
            "https://h/event?x-api-key=da2-secret",
            "https://h/event#da2-secret",
        ] {
            let err = parse_endpoint(raw).unwrap_err();
            assert!(!err.contains("secret") && !err.contains("ZGEy"), "{err}");
            assert!(err.contains("query"), "{err}");
        }
    }

    #[test]
    fn other_paths_schemes_and_ports_are_refused() {
        assert!(parse_endpoint("https://h/graphql").is_err());
        assert!(parse_endpoint("ftp://h/event").is_err());
        assert!(parse_endpoint("https://h:99999/event").is_err());
        assert!(parse_endpoint("https://user@h/event").is_err());
        assert!(parse_endpoint("https:///event").is_err());
    }

    #[test]
    fn only_a_port_may_follow_a_bracketed_ipv6_host() {
        for bad in [
            "http://[::1]evil.com/event",
            "https://[::1]evil.com",
            "http://[::1].evil.com:80",
            "http://[::1",
            "http://[::1]:80]",
            "https://[evil.com]/event",
            "https://evil]com",
            "https://a[b",
        ] {
            assert!(parse_endpoint(bad).is_err(), "{bad}");
        }
        for ok in [
            "http://[::1]",
            "http://[::1]:8787/event",
            "https://[2001:db8::1]:8443",
        ] {
            assert!(parse_endpoint(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_default_port_is_dropped_because_host_is_signed_without_it() {
        assert_eq!(
            parse_endpoint("https://h:443/event").unwrap().authority,
            "h"
        );
        assert_eq!(
            parse_endpoint("http://localhost:80").unwrap().authority,
            "localhost"
        );
        assert_eq!(
            parse_endpoint("https://h:8443").unwrap().authority,
            "h:8443"
        );
    }

    #[test]
    fn the_region_comes_from_aws_hosts_including_china() {
        assert_eq!(
            region_from_host("abc.appsync-api.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            region_from_host("abc.appsync-api.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_from_host("events.example.com"), None);
    }
}
