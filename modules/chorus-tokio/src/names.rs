//! Rules for what an operator writes: member names and seed addresses, checked at start so
//! that a mistake is an error naming it, not a node that silently never joins.

/// The longest member name, bytes: names travel in every digest and handshake.
pub(crate) const MAX_NAME_BYTES: usize = 128;

/// Checks a member name: 1 to 128 bytes, no control characters or white space, no `#`
/// (which separates the name from the incarnation in `name#incarnation`).
pub(crate) fn check_member_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the member name is empty".to_string());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "the member name is {} bytes long; at most {MAX_NAME_BYTES} are allowed",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || *c == '#')
    {
        return Err(format!(
            "the member name {name:?} contains {c:?}: use letters, digits and punctuation other than '#'"
        ));
    }
    Ok(())
}

/// Checks a seed: `HOST:PORT` (`[v6]:PORT` for an IPv6 address), a host that is not empty
/// and a port from 1 to 65535. The host may be a DNS name.
pub(crate) fn check_seed(seed: &str) -> Result<(), String> {
    let Some((host, port)) = seed.rsplit_once(':') else {
        return Err(format!("seed {seed:?} has no port: write HOST:PORT"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("seed {seed:?} has no usable host: write HOST:PORT"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!(
            "seed {seed:?} has port {port:?}: a port is a number from 1 to 65535"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_member_name, check_seed};

    #[test]
    fn names_that_could_never_join_are_refused_with_the_reason() {
        assert!(check_member_name("node-a").is_ok());
        assert!(check_member_name("billing.eu-1").is_ok());
        for bad in ["", "a#1", "with space", "tab\tname", "bell\u{7}"] {
            let reason = check_member_name(bad).unwrap_err();
            assert!(reason.contains("member name"), "{bad:?}: {reason}");
        }
        let long = "n".repeat(70_000);
        assert!(
            check_member_name(&long)
                .unwrap_err()
                .contains("70000 bytes")
        );
    }

    #[test]
    fn seeds_need_a_host_and_a_port_in_range() {
        for good in ["127.0.0.1:7000", "chorus.default.svc:7000", "[::1]:7000"] {
            assert!(check_seed(good).is_ok(), "{good}");
        }
        assert!(
            check_seed("not-an-address")
                .unwrap_err()
                .contains("no port")
        );
        assert!(
            check_seed("10.0.0.5:99999")
                .unwrap_err()
                .contains("1 to 65535")
        );
        assert!(check_seed("10.0.0.5:0").unwrap_err().contains("1 to 65535"));
        assert!(check_seed(":7000").unwrap_err().contains("no usable host"));
    }
}
