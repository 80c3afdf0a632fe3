//! The configuration file: the documented sample, errors that name the key, validation,
//! printing, and what the builder makes of it.

use std::error::Error as _;
use std::time::Duration;

use chorus_core::gossip::GossipConfig;
use chorus_core::pubsub::PubSubConfig;

use super::{ConfigError, NodeConfig};
use crate::ClusterBuilder;
use crate::transport::TransportConfig;

const SAMPLE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/node.toml"));
const OPERATIONS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/operations.md"
));

fn parse_error(text: &str) -> (Option<String>, String) {
    match NodeConfig::from_toml(text) {
        Err(e @ ConfigError::Parse { .. }) => {
            let message = e.to_string();
            let ConfigError::Parse { key, .. } = e else {
                unreachable!()
            };
            (key, message)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn the_sample_node_toml_parses_validates_and_reads_back_from_its_printout() {
    let config = NodeConfig::from_toml(SAMPLE).expect("docs/node.toml parses");
    config.validate().expect("docs/node.toml is valid");
    assert_eq!(config.name.as_deref(), Some("a"));
    assert_eq!(config.bind, "127.0.0.1:7000");
    assert_eq!(config.seeds, ["127.0.0.1:7001", "127.0.0.1:7002"]);
    assert_eq!(config.metrics_addr.as_deref(), Some("127.0.0.1:9100"));
    let printed = config.to_toml().unwrap();
    assert_eq!(
        NodeConfig::from_toml(&printed).unwrap(),
        config,
        "{printed}"
    );
}

#[test]
fn the_sample_shows_every_setting_with_its_default() {
    let config = NodeConfig::from_toml(SAMPLE).unwrap();
    let defaults = NodeConfig::default();
    assert_eq!(config.gossip, defaults.gossip);
    assert_eq!(config.transport, defaults.transport);
    assert_eq!(config.pub_sub, defaults.pub_sub);
    assert_eq!(config.cluster_name, defaults.cluster_name);
    assert_eq!(config.kinds, defaults.kinds);
    assert_eq!(config.leave_timeout, defaults.leave_timeout);
    assert_eq!(config.event_buffer, defaults.event_buffer);
    assert_eq!(config.subscription_buffer, defaults.subscription_buffer);

    // Every key the defaults print is in the sample (the unset options are in it too).
    let sample: toml::Table = toml::from_str(SAMPLE).unwrap();
    let printed: toml::Table = toml::from_str(&defaults.to_toml().unwrap()).unwrap();
    for (key, value) in &printed {
        let Some(in_sample) = sample.get(key) else {
            panic!("docs/node.toml lacks `{key}`");
        };
        if let (Some(table), Some(sample_table)) = (value.as_table(), in_sample.as_table()) {
            for inner in table.keys() {
                assert!(
                    sample_table.contains_key(inner),
                    "docs/node.toml lacks `{key}.{inner}`"
                );
            }
        }
    }
    for option in ["name", "advertise", "metrics_addr"] {
        assert!(SAMPLE.contains(&format!("{option} = ")), "{option}");
    }
}

#[test]
fn the_operations_guide_quotes_the_sample_file_whole() {
    let quoted = format!("```toml\n{SAMPLE}```");
    assert!(
        OPERATIONS.contains(&quoted),
        "docs/operations.md must quote docs/node.toml verbatim in a ```toml block"
    );
}

#[test]
fn an_empty_file_is_the_default_configuration() {
    assert_eq!(NodeConfig::from_toml("").unwrap(), NodeConfig::default());
    assert_eq!(
        NodeConfig::from_toml("[gossip]\n[transport]\n[pub_sub]\n").unwrap(),
        NodeConfig::default()
    );
    NodeConfig::default().validate().unwrap();
}

#[test]
fn a_misspelled_key_fails_with_a_message_naming_it_and_its_line() {
    let (key, message) = parse_error("name = \"a\"\n\n[gossip]\ngossip_intervall = \"250ms\"\n");
    assert_eq!(key.as_deref(), Some("gossip.gossip_intervall"));
    assert!(message.contains("`gossip.gossip_intervall`"), "{message}");
    assert!(message.contains("unknown field"), "{message}");
    assert!(message.contains("line 4"), "{message}");

    let (key, message) = parse_error("bnid = \"127.0.0.1:7000\"\n");
    assert_eq!(key.as_deref(), Some("bnid"));
    assert!(message.contains("unknown field `bnid`"), "{message}");

    let (key, _) = parse_error("[trasnport]\nmax_frame_bytes = 2048\n");
    assert_eq!(key.as_deref(), Some("trasnport"));
}

#[test]
fn a_bad_duration_fails_naming_the_key_and_the_reason() {
    let (key, message) = parse_error("[gossip]\nheartbeat_expiration = \"2 parsecs\"\n");
    assert_eq!(key.as_deref(), Some("gossip.heartbeat_expiration"));
    assert!(
        message.contains("`gossip.heartbeat_expiration`"),
        "{message}"
    );
    assert!(message.contains("parsecs"), "{message}");
    assert!(message.contains("line 2"), "{message}");

    // The std settings (humantime's parser) say the same.
    let (key, message) = parse_error("[transport]\nconnect_timeout = \"2 parsecs\"\n");
    assert_eq!(key.as_deref(), Some("transport.connect_timeout"));
    assert!(message.contains("parsecs"), "{message}");
    let (key, message) = parse_error("leave_timeout = \"soon\"\n");
    assert_eq!(key.as_deref(), Some("leave_timeout"));
    assert!(
        message.contains("soon") || message.contains("duration"),
        "{message}"
    );

    let (key, message) = parse_error("[pub_sub]\ndelivery_timeout = -5\n");
    assert_eq!(key.as_deref(), Some("pub_sub.delivery_timeout"));
    assert!(message.contains("negative"), "{message}");
}

#[test]
fn a_value_of_the_wrong_kind_or_text_that_is_no_toml_is_refused() {
    let (key, message) = parse_error("[gossip]\nfan_out = \"three\"\n");
    assert_eq!(key.as_deref(), Some("gossip.fan_out"));
    assert!(message.contains("line 2"), "{message}");

    let (key, message) = parse_error("seeds = \"127.0.0.1:7001\"\n");
    assert_eq!(key.as_deref(), Some("seeds"));
    assert!(
        message.contains("sequence") || message.contains("array"),
        "{message}"
    );

    let (key, message) = parse_error("name = \"a\"\nbind = \n");
    assert_eq!(key, None);
    assert!(message.contains("line 2"), "{message}");

    let error = NodeConfig::from_toml("[gossip]\nfan_out = true\n").unwrap_err();
    assert!(error.source().is_some(), "the TOML error is the source");
}

#[test]
fn core_durations_read_human_forms_and_bare_milliseconds() {
    let config = NodeConfig::from_toml(
        "[gossip]\ngossip_interval = 500\nheartbeat_interval = \"1s\"\nheartbeat_expiration = \"1m 30s\"\nblocked_retention = \"1h\"\n\n[pub_sub]\ndelivery_timeout = \"2s500ms\"\n",
    )
    .unwrap();
    assert_eq!(config.gossip.gossip_interval_ms, 500);
    assert_eq!(config.gossip.heartbeat_interval_ms, 1_000);
    assert_eq!(config.gossip.heartbeat_expiration_ms, 90_000);
    assert_eq!(config.gossip.blocked_retention_ms, 3_600_000);
    assert_eq!(config.pub_sub.delivery_timeout_ms, 2_500);
    // The Rust names with `_ms` are not the file's.
    let (key, _) = parse_error("[gossip]\ngossip_interval_ms = 250\n");
    assert_eq!(key.as_deref(), Some("gossip.gossip_interval_ms"));
}

#[test]
fn the_printout_writes_durations_for_people_and_leaves_unset_options_out() {
    let printed = NodeConfig::default().to_toml().unwrap();
    for line in [
        "bind = \"127.0.0.1:0\"",
        "leave_timeout = \"2s\"",
        "[gossip]",
        "gossip_interval = \"250ms\"",
        "heartbeat_expiration = \"2s\"",
        "blocked_retention = \"10m\"",
        "[transport]",
        "connect_timeout = \"1s\"",
        "reconnect_backoff_min = \"50ms\"",
        "[pub_sub]",
        "delivery_timeout = \"5s\"",
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "no {line:?} in\n{printed}"
        );
    }
    for unset in ["name ", "advertise ", "metrics_addr "] {
        assert!(!printed.lines().any(|l| l.starts_with(unset)), "{printed}");
    }
    assert_eq!(
        NodeConfig::from_toml(&printed).unwrap(),
        NodeConfig::default()
    );
}

#[test]
fn validation_refuses_broken_rules_and_says_where() {
    let invalid = |text: &str| {
        NodeConfig::from_toml(text)
            .unwrap()
            .validate()
            .expect_err(text)
    };
    let e = invalid("[gossip]\nheartbeat_expiration = \"100ms\"\n");
    assert!(matches!(e, ConfigError::Gossip(_)), "{e:?}");
    assert!(e.to_string().contains("[gossip]"), "{e}");
    assert!(e.to_string().contains("heartbeat_expiration"), "{e}");

    let e = invalid("[transport]\nconnect_timeout = \"0s\"\n");
    assert!(matches!(e, ConfigError::Transport(_)), "{e:?}");
    assert!(e.to_string().contains("connect_timeout"), "{e}");

    // Batches are checked against this file's frame limit.
    let e = invalid("[transport]\nmax_frame_bytes = 65536\n");
    assert!(matches!(e, ConfigError::PubSub(_)), "{e:?}");
    assert!(e.to_string().contains("[pub_sub]"), "{e}");

    let e = invalid("name = \" \"\n");
    assert!(e.to_string().contains("`name` is empty"), "{e}");
    let e = invalid("cluster_name = \"\"\n");
    assert!(e.to_string().contains("`cluster_name` is empty"), "{e}");
    let e = invalid("event_buffer = 0\n");
    assert!(e.to_string().contains("`event_buffer` is 0"), "{e}");
    let e = invalid("subscription_buffer = 2000000\n");
    assert!(e.to_string().contains("`subscription_buffer`"), "{e}");
}

#[test]
fn a_file_that_cannot_be_read_names_its_path() {
    let e = NodeConfig::from_file("/nonexistent/chorus/node.toml").unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }), "{e:?}");
    assert!(
        e.to_string().contains("/nonexistent/chorus/node.toml"),
        "{e}"
    );
    assert!(e.source().is_some());
}

#[test]
fn the_builder_applies_every_setting_of_a_configuration() {
    let config = NodeConfig {
        name: Some("n".to_string()),
        bind: "127.0.0.1:7100".to_string(),
        advertise: Some("10.0.0.5".to_string()),
        seeds: vec!["127.0.0.1:7101".to_string()],
        cluster_name: "orders".to_string(),
        kinds: vec!["cart".to_string()],
        leave_timeout: Duration::from_millis(1_500),
        event_buffer: 7,
        subscription_buffer: 9,
        metrics_addr: Some("127.0.0.1:9100".to_string()),
        metrics_max_topics: 12,
        gossip: GossipConfig::new_lan(200),
        transport: TransportConfig {
            send_queue_capacity: 12,
            ..TransportConfig::new()
        },
        pub_sub: PubSubConfig::new().retain("news"),
    };

    let by_setters = ClusterBuilder::new()
        .name("n")
        .bind("127.0.0.1:7100")
        .advertise("10.0.0.5")
        .seed("127.0.0.1:7101")
        .cluster_name("orders")
        .kinds(["cart"])
        .leave_timeout(Duration::from_millis(1_500))
        .event_buffer(7)
        .subscription_buffer(9)
        .admin_addr("127.0.0.1:9100")
        .metrics_max_topics(12)
        .gossip_config(config.gossip)
        .transport_config(config.transport.clone())
        .pub_sub_config(config.pub_sub.clone());
    // Settings made before `config` are replaced, seeds included.
    let by_config = ClusterBuilder::new()
        .name("before")
        .seed("127.0.0.1:1")
        .config(config);
    assert_eq!(format!("{by_config:?}"), format!("{by_setters:?}"));
}

#[test]
fn a_name_or_seed_that_could_never_join_is_refused_naming_the_key() {
    let bad_name = NodeConfig::from_toml("name = \"a#1\"").unwrap();
    let message = bad_name.validate().unwrap_err().to_string();
    assert!(
        message.contains("`name`") && message.contains("'#'"),
        "{message}"
    );
    let bad_seed = NodeConfig::from_toml("seeds = [\"127.0.0.1:99999\"]").unwrap();
    let message = bad_seed.validate().unwrap_err().to_string();
    assert!(
        message.contains("`seeds`") && message.contains("65535"),
        "{message}"
    );
}
