use std::net::SocketAddr;

use chorus_core::provider::ProviderError;

use super::advertised_address;

fn bound(address: &str) -> SocketAddr {
    address.parse().unwrap()
}

#[test]
fn without_an_advertised_address_the_bound_one_is_announced() {
    assert_eq!(
        advertised_address(bound("127.0.0.1:7000"), None),
        Ok("127.0.0.1:7000".to_string())
    );
}

#[test]
fn a_wildcard_bind_needs_an_advertised_address() {
    for wildcard in ["0.0.0.0:7000", "[::]:7000"] {
        let Err(ProviderError::Config { reason }) = advertised_address(bound(wildcard), None)
        else {
            panic!("{wildcard} must be refused");
        };
        assert!(reason.contains("advertise"), "{reason}");
    }
    assert_eq!(
        advertised_address(bound("0.0.0.0:7000"), Some("10.0.0.5:7000")),
        Ok("10.0.0.5:7000".to_string())
    );
}

#[test]
fn a_host_alone_takes_the_bound_port() {
    let at = bound("0.0.0.0:7001");
    assert_eq!(
        advertised_address(at, Some("10.0.0.5")),
        Ok("10.0.0.5:7001".to_string())
    );
    assert_eq!(
        advertised_address(at, Some("db1.example")),
        Ok("db1.example:7001".to_string())
    );
    assert_eq!(
        advertised_address(at, Some("fd00::5")),
        Ok("[fd00::5]:7001".to_string())
    );
}

#[test]
fn a_malformed_advertised_address_is_refused() {
    for bad in ["", ":7000", "host:", "host:0", "host:70000", "host:port"] {
        assert!(
            matches!(
                advertised_address(bound("0.0.0.0:7000"), Some(bad)),
                Err(ProviderError::Config { .. })
            ),
            "{bad:?} must be refused"
        );
    }
}
