//! `/info`: who the node is, and every figure of [`NodeMetrics`] as JSON.

use serde_json::{Map, Value, json};

use super::health_view::HealthView;
use crate::NodeMetrics;

/// The body of `/info`.
pub(crate) fn info(
    address: &str,
    admin_address: Option<&str>,
    health: &HealthView,
    metrics: &NodeMetrics,
) -> Value {
    let (c, g, t) = (&metrics.cluster, &metrics.gossip, &metrics.transport);
    let topics: Map<String, Value> = metrics
        .topics
        .iter()
        .map(|(topic, m)| {
            let value = json!({
                "published": m.published,
                "rejected": m.rejected,
                "delivered": m.delivered,
                "failed": m.failed,
                "received": m.received,
                "completed": m.completed,
                "requeued": m.requeued,
                "dropped": m.dropped,
                "queued": m.queued,
                "latency": {
                    "count": m.latency.count(),
                    "sum_ms": m.latency.sum_ms(),
                    "buckets_ms": m.latency.cumulative()
                        .map(|(bound, count)| json!({"le": bound, "count": count}))
                        .collect::<Vec<_>>(),
                },
            });
            (topic.clone(), value)
        })
        .collect();
    json!({
        "member": health.member,
        "address": address,
        "admin_address": admin_address,
        "status": health.status,
        "running": health.running,
        "in_topology": health.in_topology,
        "cluster": {
            "members": metrics.members,
            "blocked": metrics.blocked,
            "joined_total": c.joined_total,
            "left_total": c.left_total,
            "updates_applied": c.updates_applied,
            "updates_ignored": c.updates_ignored,
            "updates_rejected": c.updates_rejected,
        },
        "gossip": {
            "rounds": g.rounds,
            "requests_sent": g.requests_sent,
            "requests_received": g.requests_received,
            "responses_received": g.responses_received,
            "late_responses": g.late_responses,
            "request_timeouts": g.request_timeouts,
            "pushes_sent": g.pushes_sent,
            "pushes_received": g.pushes_received,
            "rejections_sent": g.rejections_sent,
            "rejections_received": g.rejections_received,
            "entries_accepted": g.entries_accepted,
            "members_blocked": g.members_blocked,
            "rejoins": g.rejoins,
        },
        "transport": {
            "bytes_out": t.bytes_out,
            "bytes_in": t.bytes_in,
            "frames_out": t.frames_out,
            "frames_in": t.frames_in,
            "connects": t.connects,
            "connect_failures": t.connect_failures,
            "accepts": t.accepts,
            "refusals": t.refusals,
            "decode_errors": t.decode_errors,
            "queue_full": t.queue_full,
            "oversized_frames": t.oversized_frames,
            "write_timeouts": t.write_timeouts,
            "disconnects": t.disconnects,
        },
        "queues": {
            "pending_batches": metrics.pending_batches,
            "inbound_frames": metrics.inbound_queue,
            "commands": metrics.command_queue,
        },
        "topics": topics,
    })
}
