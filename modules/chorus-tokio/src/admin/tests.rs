use std::time::Duration;

use chorus_core::pubsub::{SubscriberId, Subscription, TopicMetrics};
use chorus_core::topology::{ClusterTopology, Member, MemberId};
use tokio::time::Instant;

use super::health_view::HealthView;
use super::members_view::MembersView;
use super::node_collector::{self, MAX_EXPORTED_TOPICS, OTHER_TOPICS};
use super::topics_view::TopicsView;
use crate::NodeMetrics;
use crate::node_snapshot::{Heard, SnapshotData};

fn topic(published: u64) -> TopicMetrics {
    let mut metrics = TopicMetrics::default();
    metrics.published = published;
    metrics
}

/// The value of the sample `series` (name and labels, exactly) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_are_exported_under_their_stable_names_with_types_and_labels() {
    let mut metrics = NodeMetrics {
        members: 2,
        blocked: 1,
        ..NodeMetrics::default()
    };
    metrics.cluster.updates_applied = 3;
    metrics.gossip.rounds = 7;
    metrics.gossip.requests_sent = 5;
    metrics.transport.bytes_out = 1_234;
    metrics.transport.gossip_bytes_out = 1_000;
    metrics.transport.pub_sub_bytes_out = 200;
    metrics.transport.accepts = 1;
    let mut news = topic(4);
    news.delivered = 3;
    news.dropped = 2;
    news.queued = 1;
    news.latency.record(3, 2);
    news.latency.record(40, 1);
    metrics.topics.insert("news".to_string(), news);

    let text = node_collector::encode(metrics, MAX_EXPORTED_TOPICS).unwrap();
    assert!(text.contains("# TYPE chorus_members gauge\n"), "{text}");
    assert!(text.contains("# TYPE chorus_bytes_sent_total counter\n"));
    assert!(text.contains("# TYPE chorus_pubsub_delivery_latency_seconds histogram\n"));
    assert_eq!(sample(&text, "chorus_members"), Some(2.0));
    assert_eq!(sample(&text, "chorus_blocked_members"), Some(1.0));
    assert_eq!(
        sample(&text, "chorus_topology_updates_total{result=\"applied\"}"),
        Some(3.0)
    );
    assert_eq!(sample(&text, "chorus_gossip_rounds_total"), Some(7.0));
    assert_eq!(
        sample(&text, "chorus_gossip_requests_total{direction=\"sent\"}"),
        Some(5.0)
    );
    assert_eq!(
        sample(&text, "chorus_bytes_sent_total{kind=\"gossip\"}"),
        Some(1_000.0)
    );
    assert_eq!(
        sample(&text, "chorus_bytes_sent_total{kind=\"pub_sub\"}"),
        Some(200.0)
    );
    assert_eq!(
        sample(&text, "chorus_bytes_sent_total{kind=\"handshake\"}"),
        Some(34.0),
        "what is neither gossip nor pub/sub"
    );
    assert_eq!(
        sample(&text, "chorus_connects_total{direction=\"inbound\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_published_total{topic=\"news\"}"),
        Some(4.0)
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_dropped_total{topic=\"news\"}"),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_queued{topic=\"news\"}"),
        Some(1.0)
    );
    let bucket = |le: &str| {
        sample(
            &text,
            &format!("chorus_pubsub_delivery_latency_seconds_bucket{{topic=\"news\",le=\"{le}\"}}"),
        )
    };
    assert_eq!(bucket("0.002"), Some(0.0));
    assert_eq!(bucket("0.005"), Some(2.0));
    assert_eq!(bucket("0.05"), Some(3.0));
    assert_eq!(bucket("+Inf"), Some(3.0));
    assert_eq!(
        sample(
            &text,
            "chorus_pubsub_delivery_latency_seconds_count{topic=\"news\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            "chorus_pubsub_delivery_latency_seconds_sum{topic=\"news\"}"
        ),
        Some(0.046)
    );
}

#[test]
fn topics_past_the_cap_are_summed_under_other_so_the_series_stay_bounded() {
    let mut metrics = NodeMetrics::default();
    for i in 0..MAX_EXPORTED_TOPICS + 5 {
        metrics.topics.insert(format!("t{i:04}"), topic(1));
    }
    // A topic really named like the overflow series joins it instead of repeating it.
    metrics.topics.insert(OTHER_TOPICS.to_string(), topic(10));
    let text = node_collector::encode(metrics, MAX_EXPORTED_TOPICS).unwrap();
    let published: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("chorus_pubsub_published_total{"))
        .collect();
    assert_eq!(
        published.len(),
        MAX_EXPORTED_TOPICS + 1,
        "100 topics and _other"
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_published_total{topic=\"_other\"}"),
        Some(15.0)
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_published_total{topic=\"t0104\"}"),
        None
    );
    assert_eq!(
        sample(&text, "chorus_pubsub_topics"),
        Some((MAX_EXPORTED_TOPICS + 6) as f64)
    );
}

#[test]
fn the_export_limit_is_a_setting() {
    let mut metrics = NodeMetrics::default();
    for name in ["a", "b", "c"] {
        metrics.topics.insert(name.to_string(), topic(1));
    }
    let text = node_collector::encode(metrics, 2).unwrap();
    let labels: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("chorus_pubsub_published_total{"))
        .collect();
    assert_eq!(
        labels,
        [
            "chorus_pubsub_published_total{topic=\"a\"} 1",
            "chorus_pubsub_published_total{topic=\"b\"} 1",
            "chorus_pubsub_published_total{topic=\"_other\"} 1",
        ]
    );
}

#[test]
fn a_topic_name_cannot_break_the_text_format() {
    let mut metrics = NodeMetrics::default();
    metrics.topics.insert("a\"b\\c\nd".to_string(), topic(1));
    let text = node_collector::encode(metrics, MAX_EXPORTED_TOPICS).unwrap();
    assert_eq!(
        sample(
            &text,
            "chorus_pubsub_published_total{topic=\"a\\\"b\\\\c\\nd\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

fn member(name: &str) -> Member {
    Member::new(
        MemberId::new(name, 1),
        format!("127.0.0.1:{}", 7000 + name.len()),
    )
}

#[test]
fn a_node_is_ready_only_while_it_runs_and_is_in_its_topology() {
    let (a, b) = (member("a"), member("bb"));
    let topology = ClusterTopology::new(vec![a.clone(), b]);
    let ready = HealthView::new(true, Some(a.id()), &topology);
    assert!(ready.ready());
    assert_eq!(ready.status, "ok");
    let leaving = HealthView::new(false, Some(a.id()), &topology);
    assert!(!leaving.ready());
    assert_eq!(leaving.status, "unavailable");
    let outside = HealthView::new(true, Some(&MemberId::new("c", 1)), &topology);
    assert!(!outside.ready() && outside.running && !outside.in_topology);
    let unattached = HealthView::new(true, None, &ClusterTopology::empty());
    assert!(!unattached.ready());
}

#[test]
fn members_lists_the_topology_then_the_blocked_with_when_each_was_last_heard() {
    let (a, b) = (member("a"), member("bb"));
    let now = Instant::now();
    let mut snapshot = SnapshotData {
        member: Some(a.id().clone()),
        ..SnapshotData::default()
    };
    snapshot.heard.insert(
        b.id().clone(),
        Heard {
            heartbeat: 9,
            at: now.checked_sub(Duration::from_millis(300)).unwrap_or(now),
        },
    );
    let gone = MemberId::new("old", 1);
    let view = MembersView::new(&[a.clone(), b.clone()], &[gone], &snapshot, now);
    let json = serde_json::to_value(&view).unwrap();
    let members = json["members"].as_array().unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(members[0]["name"], "a");
    assert_eq!(members[0]["self"], true);
    assert_eq!(members[0]["status"], "alive");
    assert_eq!(members[0]["address"], a.address());
    assert!(members[0]["last_heard_ms"].is_null(), "not heard yet");
    assert_eq!(members[1]["heartbeat"], 9);
    assert!(members[1]["last_heard_ms"].as_u64().unwrap() >= 300);
    assert_eq!(members[2]["name"], "old");
    assert_eq!(members[2]["status"], "blocked");
    assert!(members[2]["address"].is_null());
}

#[test]
fn topics_lists_subscriptions_per_topic_then_broadcast_and_groups() {
    let sub = |topic: &str, member: &str, who: &str, group: Option<&str>| Subscription {
        topic: topic.to_string(),
        member: MemberId::new(member, 1),
        subscriber: SubscriberId::new(who),
        group: group.map(str::to_string),
        max_in_flight: 2,
    };
    let view = TopicsView::new(vec![
        sub("jobs", "a", "s1", Some("workers")),
        sub("jobs", "b", "s1", Some("workers")),
        sub("jobs", "b", "s2", None),
        sub("news", "a", "s2", None),
    ]);
    let json = serde_json::to_value(&view).unwrap();
    let topics = json["topics"].as_array().unwrap();
    assert_eq!(topics.len(), 2);
    assert_eq!(topics[0]["topic"], "jobs");
    assert_eq!(topics[0]["subscriptions"], 3);
    assert_eq!(topics[0]["broadcast"][0]["member"], "b");
    assert_eq!(topics[0]["groups"][0]["group"], "workers");
    assert_eq!(
        topics[0]["groups"][0]["instances"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(topics[0]["groups"][0]["instances"][0]["max_in_flight"], 2);
    assert_eq!(topics[1]["topic"], "news");
}
