use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{SeedReport, SeedResolver, SystemLookup, TableLookup};

fn at(address: &str) -> SocketAddr {
    address.parse().unwrap()
}

fn seeds(list: &[&str]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn addresses_are_used_as_given_and_never_looked_up() {
    let lookup = Arc::new(TableLookup::default());
    let mut resolver = SeedResolver::new(
        &seeds(&["127.0.0.1:7000", "[::1]:7001", "127.0.0.1:7000"]),
        lookup.clone(),
    );
    assert!(!resolver.has_names());
    assert_eq!(
        resolver.addresses(),
        seeds(&["127.0.0.1:7000", "[::1]:7001"])
    );
    assert_eq!(resolver.resolve().await, []);
    assert_eq!(lookup.lookups.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_name_stands_for_every_address_it_resolves_to() {
    let lookup = Arc::new(TableLookup::default());
    lookup.answer(
        "chorus.default.svc:7000",
        Ok(vec![
            at("10.0.0.7:7000"),
            at("10.0.0.5:7000"),
            at("10.0.0.7:7000"),
        ]),
    );
    let mut resolver = SeedResolver::new(
        &seeds(&["10.0.0.5:7000", "chorus.default.svc:7000"]),
        lookup.clone(),
    );
    assert!(resolver.has_names());
    // Before the first lookup, only the addresses.
    assert_eq!(resolver.addresses(), seeds(&["10.0.0.5:7000"]));
    assert_eq!(
        resolver.resolve().await,
        [SeedReport::Resolved {
            seed: "chorus.default.svc:7000".into(),
            addresses: seeds(&["10.0.0.5:7000", "10.0.0.7:7000"]),
        }]
    );
    assert_eq!(
        resolver.addresses(),
        seeds(&["10.0.0.5:7000", "10.0.0.7:7000"])
    );
    // The same answer in another order (round-robin DNS) is no news.
    lookup.answer(
        "chorus.default.svc:7000",
        Ok(vec![at("10.0.0.5:7000"), at("10.0.0.7:7000")]),
    );
    assert_eq!(resolver.resolve().await, []);
    // A pod replaced: the new address, reported.
    lookup.answer(
        "chorus.default.svc:7000",
        Ok(vec![at("10.0.0.9:7000"), at("10.0.0.5:7000")]),
    );
    assert_eq!(resolver.resolve().await.len(), 1);
    assert_eq!(
        resolver.addresses(),
        seeds(&["10.0.0.5:7000", "10.0.0.9:7000"])
    );
    assert_eq!(lookup.lookups.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failing_name_is_reported_once_per_error_and_keeps_its_last_addresses() {
    let lookup = Arc::new(TableLookup::default());
    let name = "seeds.example:7000";
    let mut resolver = SeedResolver::new(&seeds(&[name]), lookup.clone());
    lookup.answer(name, Err("name not known"));
    assert_eq!(
        resolver.resolve().await,
        [
            SeedReport::Failed {
                seed: name.into(),
                error: "name not known".into(),
                kept: 0,
            },
            SeedReport::NoneResolves { seeds: 1 },
        ]
    );
    // The same error again: looked up, not reported again.
    assert_eq!(resolver.resolve().await, []);
    assert_eq!(lookup.lookups.load(Ordering::SeqCst), 2);
    // Another error: reported.
    lookup.answer(name, Err("temporary failure"));
    assert_eq!(resolver.resolve().await.len(), 1);

    lookup.answer(name, Ok(vec![at("10.0.0.5:7000")]));
    assert_eq!(resolver.resolve().await.len(), 1);
    assert_eq!(resolver.addresses(), seeds(&["10.0.0.5:7000"]));
    // A failure after a success keeps the last addresses, and is reported again even
    // with an error seen before.
    lookup.answer(name, Err("name not known"));
    assert_eq!(
        resolver.resolve().await,
        [SeedReport::Failed {
            seed: name.into(),
            error: "name not known".into(),
            kept: 1,
        }]
    );
    assert_eq!(resolver.addresses(), seeds(&["10.0.0.5:7000"]));
}

#[tokio::test]
async fn a_name_that_resolves_to_nothing_fails() {
    let lookup = Arc::new(TableLookup::default());
    lookup.answer("empty.example:7000", Ok(Vec::new()));
    let mut resolver = SeedResolver::new(&seeds(&["empty.example:7000", "127.0.0.1:7000"]), lookup);
    let reports = resolver.resolve().await;
    assert!(
        matches!(&reports[..], [SeedReport::Failed { error, .. }] if error.contains("no address")),
        "{reports:?}"
    );
    // A literal address is left: not "no seed resolves".
    assert_eq!(resolver.addresses(), seeds(&["127.0.0.1:7000"]));
}

#[tokio::test]
async fn the_system_resolver_resolves_localhost_and_reports_an_unknown_host() {
    let mut resolver = SeedResolver::new(
        &seeds(&["localhost:7000", "no-such-host.invalid:7000"]),
        Arc::new(SystemLookup),
    );
    let reports = resolver.resolve().await;
    assert!(
        resolver.addresses().contains(&"127.0.0.1:7000".to_string()),
        "{:?}",
        resolver.addresses()
    );
    assert!(
        reports.iter().any(|r| matches!(
            r,
            SeedReport::Failed { seed, .. } if seed == "no-such-host.invalid:7000"
        )),
        "{reports:?}"
    );
}

/// Every event logged while it is the default subscriber: its level and its fields.
#[derive(Default)]
struct Capture {
    events: std::sync::Mutex<Vec<(tracing::Level, String)>>,
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.events
            .lock()
            .unwrap()
            .push((*event.metadata().level(), fields.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn a_seed_that_does_not_resolve_is_a_warning_naming_it_and_the_error() {
    let capture = Arc::new(Capture::default());
    tracing::subscriber::with_default(Arc::clone(&capture), || {
        SeedReport::Failed {
            seed: "no-such-host.invalid:7000".into(),
            error: "Name or service not known".into(),
            kept: 0,
        }
        .log();
        SeedReport::NoneResolves { seeds: 1 }.log();
        SeedReport::Resolved {
            seed: "localhost:7000".into(),
            addresses: seeds(&["127.0.0.1:7000"]),
        }
        .log();
    });
    let events = capture.events.lock().unwrap();
    let [(failed, failure), (none, nothing), (resolved, addresses)] = &events[..] else {
        panic!("three events: {events:?}");
    };
    assert_eq!(*failed, tracing::Level::WARN);
    assert!(
        failure.contains("no-such-host.invalid:7000") && failure.contains("Name or service"),
        "{failure}"
    );
    assert_eq!(*none, tracing::Level::WARN);
    assert!(nothing.contains("no seed resolves"), "{nothing}");
    assert_eq!(*resolved, tracing::Level::INFO);
    assert!(addresses.contains("127.0.0.1:7000"), "{addresses}");
}
