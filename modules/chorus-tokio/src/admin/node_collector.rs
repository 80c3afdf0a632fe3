//! `/metrics`: a node's [`NodeMetrics`] in the Prometheus text format, through
//! `prometheus-client`. The names and labels are stable; `docs/operations.md` lists them.

use std::collections::BTreeMap;
use std::fmt;

use chorus_core::pubsub::{LatencyHistogram, TopicMetrics};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::NodeMetrics;

/// Topics exported one by one by default (`ClusterBuilder::metrics_max_topics`); the
/// others are summed under [`OTHER_TOPICS`].
pub(crate) const MAX_EXPORTED_TOPICS: usize = 100;

/// The `topic` label of the topics past the export limit (and of a topic that is
/// really named so), summed.
pub(crate) const OTHER_TOPICS: &str = "_other";

/// Encodes `metrics` in the Prometheus text format (version 0.0.4).
pub(crate) fn encode(metrics: NodeMetrics, max_topics: usize) -> Result<String, fmt::Error> {
    let mut registry = Registry::with_prefix("chorus");
    registry.register_collector(Box::new(NodeCollector {
        metrics,
        max_topics,
    }));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// The figures of one scrape, encoded when the registry asks for them.
#[derive(Debug)]
struct NodeCollector {
    metrics: NodeMetrics,
    /// Topics exported one by one.
    max_topics: usize,
}

/// The labels of one sample.
type Labels<'a> = Vec<(&'static str, &'a str)>;

/// Writes the families of one scrape, each under its descriptor.
struct Families<'a, 'e> {
    encoder: &'a mut DescriptorEncoder<'e>,
}

impl Families<'_, '_> {
    fn gauge(&mut self, name: &str, help: &str, value: u64) -> fmt::Result {
        let metric = ConstGauge::new(value);
        let encoder = self
            .encoder
            .encode_descriptor(name, help, None, metric.metric_type())?;
        metric.encode(encoder)
    }

    fn counter(&mut self, name: &str, help: &str, value: u64) -> fmt::Result {
        self.counters(name, help, &[(Vec::new(), value)])
    }

    /// A counter family: one sample per label set.
    fn counters(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, u64)]) -> fmt::Result {
        let mut encoder = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, value) in samples {
            ConstCounter::new(*value).encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    /// A gauge family: one sample per label set.
    fn gauges(&mut self, name: &str, help: &str, samples: &[(Labels<'_>, u64)]) -> fmt::Result {
        let mut encoder = self
            .encoder
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, value) in samples {
            ConstGauge::new(*value).encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    /// One histogram per topic, in seconds as Prometheus expects.
    fn latencies(
        &mut self,
        name: &str,
        help: &str,
        topics: &[(&str, TopicMetrics)],
    ) -> fmt::Result {
        let mut encoder =
            self.encoder
                .encode_descriptor(name, help, None, MetricType::Histogram)?;
        for (topic, metrics) in topics {
            let latency: &LatencyHistogram = &metrics.latency;
            // Per bucket, not cumulative: the encoder sums them up.
            let bounds = LatencyHistogram::BOUNDS_MS
                .iter()
                .map(|ms| *ms as f64 / 1_000.0)
                .chain([f64::INFINITY]);
            let buckets: Vec<(f64, u64)> = bounds.zip(latency.counts().iter().copied()).collect();
            let labels: Labels<'_> = vec![("topic", topic)];
            encoder
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(
                    latency.sum_ms() as f64 / 1_000.0,
                    latency.count(),
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}

/// The topics to export: the first `max_topics` by name, then the others
/// summed under [`OTHER_TOPICS`], so that the number of series stays bounded whatever
/// the topics.
fn exported_topics(
    topics: &BTreeMap<String, TopicMetrics>,
    max_topics: usize,
) -> Vec<(&str, TopicMetrics)> {
    let mut exported = Vec::new();
    let mut other: Option<TopicMetrics> = None;
    for (topic, metrics) in topics {
        if exported.len() < max_topics && topic != OTHER_TOPICS {
            exported.push((topic.as_str(), *metrics));
        } else {
            add(other.get_or_insert_with(TopicMetrics::default), metrics);
        }
    }
    if let Some(other) = other {
        exported.push((OTHER_TOPICS, other));
    }
    exported
}

fn add(sum: &mut TopicMetrics, metrics: &TopicMetrics) {
    sum.published += metrics.published;
    sum.rejected += metrics.rejected;
    sum.delivered += metrics.delivered;
    sum.failed += metrics.failed;
    sum.received += metrics.received;
    sum.completed += metrics.completed;
    sum.requeued += metrics.requeued;
    sum.dropped += metrics.dropped;
    sum.queued += metrics.queued;
    sum.latency.merge(&metrics.latency);
}

impl Collector for NodeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let mut families = Families {
            encoder: &mut encoder,
        };
        families.membership(&self.metrics)?;
        families.gossip(&self.metrics)?;
        families.transport(&self.metrics)?;
        families.pub_sub(&self.metrics, self.max_topics)
    }
}

/// A per-topic counter: its name, its help, and how to read it.
type TopicCounter = (&'static str, &'static str, fn(&TopicMetrics) -> u64);

/// Samples labelled `direction="sent"` and `direction="received"`.
fn sent_received(sent: u64, received: u64) -> [(Labels<'static>, u64); 2] {
    [
        (vec![("direction", "sent")], sent),
        (vec![("direction", "received")], received),
    ]
}

impl Families<'_, '_> {
    fn membership(&mut self, m: &NodeMetrics) -> fmt::Result {
        let f = self;
        f.gauge(
            "members",
            "Members of the applied topology, this node included.",
            m.members as u64,
        )?;
        f.gauge(
            "blocked_members",
            "Members blocked so far (a blocked member stays blocked).",
            m.blocked as u64,
        )?;
        f.counter(
            "members_joined",
            "Members reported as joined, summed over every applied topology update.",
            m.cluster.joined_total,
        )?;
        f.counter(
            "members_left",
            "Members reported as left, summed over every applied topology update.",
            m.cluster.left_total,
        )?;
        f.counters(
            "topology_updates",
            "Topology updates, by what the node did with them.",
            &[
                (vec![("result", "applied")], m.cluster.updates_applied),
                (vec![("result", "ignored")], m.cluster.updates_ignored),
                (vec![("result", "rejected")], m.cluster.updates_rejected),
            ],
        )
    }

    fn gossip(&mut self, m: &NodeMetrics) -> fmt::Result {
        let f = self;
        let g = &m.gossip;
        f.counter("gossip_rounds", "Gossip rounds run.", g.rounds)?;
        f.counters(
            "gossip_requests",
            "Gossip requests (rounds, seed contacts, leave).",
            &sent_received(g.requests_sent, g.requests_received),
        )?;
        f.counters(
            "gossip_responses",
            "Gossip responses received, in time or after their request timed out.",
            &[
                (vec![("timing", "in_time")], g.responses_received),
                (vec![("timing", "late")], g.late_responses),
            ],
        )?;
        f.counter(
            "gossip_request_timeouts",
            "Gossip requests that got no response in time.",
            g.request_timeouts,
        )?;
        f.counters(
            "gossip_pushes",
            "Gossip pushes (fresh changes, relays, last legs of rounds).",
            &sent_received(g.pushes_sent, g.pushes_received),
        )?;
        f.counters(
            "gossip_rejections",
            "Rejections of blocked members.",
            &sent_received(g.rejections_sent, g.rejections_received),
        )?;
        f.counter(
            "gossip_entries_accepted",
            "Remote gossip entries accepted.",
            g.entries_accepted,
        )?;
        f.counter(
            "gossip_members_blocked",
            "Members this node's gossip blocked (heartbeat expired or left).",
            g.members_blocked,
        )?;
        f.counter(
            "gossip_rejoins",
            "Times this node rejoined under a new incarnation after being blocked.",
            g.rejoins,
        )?;
        f.counters(
            "gossip_suspicions",
            "Suspicions: sent (members this node gave up on, told to peers), received from peers, and confirmed (members a received suspicion made this node block).",
            &[
                (vec![("event", "sent")], g.suspicions_sent),
                (vec![("event", "received")], g.suspicions_received),
                (vec![("event", "confirmed")], g.suspicions_confirmed),
            ],
        )
    }

    fn transport(&mut self, m: &NodeMetrics) -> fmt::Result {
        let f = self;
        let t = &m.transport;
        let handshake_out = t
            .bytes_out
            .saturating_sub(t.gossip_bytes_out + t.pub_sub_bytes_out);
        let handshake_in = t
            .bytes_in
            .saturating_sub(t.gossip_bytes_in + t.pub_sub_bytes_in);
        f.counters(
            "bytes_sent",
            "Bytes written to peers, frames and their 4-byte length prefixes, by kind of frame.",
            &[
                (vec![("kind", "gossip")], t.gossip_bytes_out),
                (vec![("kind", "pub_sub")], t.pub_sub_bytes_out),
                (vec![("kind", "handshake")], handshake_out),
            ],
        )?;
        f.counters(
            "bytes_received",
            "Bytes read from peers, by kind of frame (handshake: also frames that named no kind).",
            &[
                (vec![("kind", "gossip")], t.gossip_bytes_in),
                (vec![("kind", "pub_sub")], t.pub_sub_bytes_in),
                (vec![("kind", "handshake")], handshake_in),
            ],
        )?;
        f.counter("frames_sent", "Frames written to peers.", t.frames_out)?;
        f.counter("frames_received", "Frames read from peers.", t.frames_in)?;
        f.counters(
            "connects",
            "Connections established (handshake accepted): outbound ones this node opened, inbound ones it accepted.",
            &[
                (vec![("direction", "outbound")], t.connects),
                (vec![("direction", "inbound")], t.accepts),
            ],
        )?;
        f.counter(
            "connect_failures",
            "Outbound connection attempts that failed (refused, timed out, reset).",
            t.connect_failures,
        )?;
        f.counter(
            "disconnects",
            "Established outbound connections lost.",
            t.disconnects,
        )?;
        f.counter(
            "handshake_refusals",
            "Handshakes refused, by this node or by the peer.",
            t.refusals,
        )?;
        f.counter(
            "decode_errors",
            "Frames that could not be decoded or were over the size limit (each closed its connection).",
            t.decode_errors,
        )?;
        f.counters(
            "frames_not_sent",
            "Frames not sent: the peer's send queue was full, or the frame was over max_frame_bytes.",
            &[
                (vec![("reason", "queue_full")], t.queue_full),
                (vec![("reason", "oversized")], t.oversized_frames),
            ],
        )?;
        f.counter(
            "write_timeouts",
            "Writes that took longer than write_timeout (each dropped its connection).",
            t.write_timeouts,
        )?;
        f.counters(
            "inbound_connections_closed",
            "Inbound connections this node closed to protect itself: over max_inbound_connections or max_inbound_per_address (refused), or without a whole frame for inbound_idle_timeout (timeout).",
            &[
                (vec![("reason", "refused")], t.inbound_refused),
                (vec![("reason", "timeout")], t.inbound_timeouts),
            ],
        )?;
        f.gauge(
            "inbound_connections",
            "Inbound connections open now.",
            t.inbound_open,
        )?;
        f.gauge(
            "inbound_queue_frames",
            "Received frames waiting for the node's loop.",
            m.inbound_queue as u64,
        )?;
        f.gauge(
            "command_queue",
            "Commands of the application waiting for the node's loop.",
            m.command_queue as u64,
        )
    }

    fn pub_sub(&mut self, m: &NodeMetrics, max_topics: usize) -> fmt::Result {
        let f = self;
        f.gauge(
            "pubsub_pending_batches",
            "Delivery batches sent and waiting for their acknowledgement.",
            m.pending_batches as u64,
        )?;
        f.gauge(
            "pubsub_topics",
            "Topics with local activity (exported one by one up to metrics_max_topics, default 100; the others under topic=\"_other\").",
            m.topics.len() as u64,
        )?;
        let topics = exported_topics(&m.topics, max_topics);
        let per_topic = |value: fn(&TopicMetrics) -> u64| -> Vec<(Labels<'_>, u64)> {
            topics
                .iter()
                .map(|(topic, metrics)| (vec![("topic", *topic)], value(metrics)))
                .collect()
        };
        let counters: [TopicCounter; 8] = [
            (
                "pubsub_published",
                "Messages accepted for publishing on this node.",
                |t| t.published,
            ),
            ("pubsub_rejected", "Publishes rejected on this node.", |t| {
                t.rejected
            }),
            (
                "pubsub_delivered",
                "Deliveries of this node's messages acknowledged as delivered.",
                |t| t.delivered,
            ),
            (
                "pubsub_failed",
                "Deliveries of this node's messages reported unreachable or timed out.",
                |t| t.failed,
            ),
            (
                "pubsub_received",
                "Messages handed to subscribers on this node.",
                |t| t.received,
            ),
            (
                "pubsub_completed",
                "Group messages of this node completed.",
                |t| t.completed,
            ),
            (
                "pubsub_requeued",
                "Group messages put back in their queue (instance gone, delivery timeout).",
                |t| t.requeued,
            ),
            (
                "pubsub_dropped",
                "Broadcast deliveries dropped at a local subscriber whose buffer was full.",
                |t| t.dropped,
            ),
        ];
        for (name, help, value) in counters {
            f.counters(name, help, &per_topic(value))?;
        }
        f.gauges(
            "pubsub_queued",
            "Group messages waiting in this node's group queues for an idle instance.",
            &per_topic(|t| t.queued),
        )?;
        f.latencies(
            "pubsub_delivery_latency_seconds",
            "Time from sending a delivery batch to its acknowledgement, per delivery.",
            &topics,
        )
    }
}
