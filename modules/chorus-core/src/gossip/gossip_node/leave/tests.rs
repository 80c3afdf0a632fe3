use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::gossip::{GossipConfig, GossipMessage, GossipNode, GossipOutput};
use crate::topology::{Member, MemberId};

fn config() -> GossipConfig {
    GossipConfig::new()
}

fn node(name: &str) -> GossipNode {
    let member = Member::new(MemberId::new(name, 1), alloc::format!("{name}:7000"));
    GossipNode::new(
        member,
        alloc::vec![String::from("a:7000")],
        config(),
        name.len() as u64 + 3,
        0,
    )
    .unwrap()
}

/// A message in flight.
struct Sent {
    from: String,
    to: String,
    message: GossipMessage,
}

/// Three nodes `a`, `b`, `c` with messages delivered by hand.
struct Trio {
    nodes: Vec<GossipNode>,
    now: u64,
}

impl Trio {
    fn joined() -> Self {
        let mut trio = Self {
            nodes: ["a", "b", "c"].into_iter().map(node).collect(),
            now: 0,
        };
        for _ in 0..20 {
            trio.round();
        }
        assert!(
            trio.nodes.iter().all(|n| n.topology().members().len() == 3),
            "the three nodes joined"
        );
        trio
    }

    fn index(&self, address: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.member().address() == address)
    }

    /// Everything the nodes asked to send, events dropped.
    fn outgoing(&mut self) -> Vec<Sent> {
        let mut sent = Vec::new();
        for n in &mut self.nodes {
            let from = n.member().address().to_string();
            for output in n.drain_outputs() {
                if let GossipOutput::Send { to, message } = output {
                    sent.push(Sent {
                        from: from.clone(),
                        to,
                        message,
                    });
                }
            }
        }
        sent
    }

    /// Delivers until nothing is in flight, except what `lose` drops.
    fn deliver(&mut self, lose: impl Fn(&Sent) -> bool) {
        loop {
            let sent = self.outgoing();
            if sent.is_empty() {
                return;
            }
            for message in sent {
                if lose(&message) {
                    continue;
                }
                if let Some(i) = self.index(&message.to) {
                    self.nodes[i].handle(&message.from, message.message, self.now);
                }
            }
        }
    }

    fn round(&mut self) {
        self.now += config().gossip_interval_ms;
        for n in &mut self.nodes {
            n.tick(self.now);
        }
        self.deliver(|_| false);
    }

    /// Time passes beyond the request timeout; only `c` (the leaver) ticks.
    fn leaver_waits_a_timeout(&mut self) {
        self.now += config().request_timeout_ms + 1;
        let now = self.now;
        self.nodes[2].tick(now);
    }

    fn id(&self, i: usize) -> MemberId {
        self.nodes[i].member_id().clone()
    }
}

fn leave_request_to(to: &'static str) -> impl Fn(&Sent) -> bool {
    move |s| s.to == to && matches!(s.message, GossipMessage::Request(_))
}

#[test]
fn a_node_without_peers_has_its_leave_acknowledged_at_once() {
    let mut alone = node("a");
    alone.leave(0).unwrap();
    assert!(alone.leave_acknowledged());
    assert!(alone.leave_unacknowledged().is_empty());
}

#[test]
fn a_timed_out_leave_request_is_no_acknowledgement_and_is_sent_again() {
    let mut trio = Trio::joined();
    let now = trio.now;
    trio.nodes[2].leave(now).unwrap();
    // b is unreachable: every request to it is lost.
    trio.deliver(|s| s.to == "b:7000");
    assert!(!trio.nodes[2].leave_acknowledged(), "b never answered");
    assert_eq!(
        trio.nodes[2].leave_unacknowledged(),
        alloc::vec![trio.id(1)]
    );
    for _ in 0..3 {
        trio.leaver_waits_a_timeout();
        let retries: Vec<Sent> = trio.outgoing();
        assert_eq!(retries.len(), 1, "one retry, to b only");
        assert_eq!(retries[0].to, "b:7000");
        assert!(matches!(retries[0].message, GossipMessage::Request(_)));
        assert!(!trio.nodes[2].leave_acknowledged());
    }
}

#[test]
fn a_lost_leave_request_is_acknowledged_once_a_retry_gets_through() {
    let mut trio = Trio::joined();
    let leaver = trio.id(2);
    let now = trio.now;
    trio.nodes[2].leave(now).unwrap();
    trio.deliver(leave_request_to("b:7000"));
    assert!(!trio.nodes[1].is_blocked(&leaver), "b did not hear of it");
    assert_eq!(
        trio.nodes[2].leave_unacknowledged(),
        alloc::vec![trio.id(1)]
    );
    trio.leaver_waits_a_timeout();
    trio.deliver(|_| false);
    assert!(trio.nodes[2].leave_acknowledged());
    assert!(trio.nodes[1].is_blocked(&leaver));
}

#[test]
fn a_peer_that_blocked_the_leaver_already_acknowledges_by_refusing_the_retry() {
    let mut trio = Trio::joined();
    let leaver = trio.id(2);
    let now = trio.now;
    trio.nodes[2].leave(now).unwrap();
    // b gets the leave, but its answer is lost.
    trio.deliver(|s| s.from == "b:7000" && s.to == "c:7000");
    assert!(trio.nodes[1].is_blocked(&leaver));
    assert!(!trio.nodes[2].leave_acknowledged());
    trio.leaver_waits_a_timeout();
    let mut rejected = false;
    let retries = trio.outgoing();
    for sent in retries {
        let Some(i) = trio.index(&sent.to) else {
            continue;
        };
        let now = trio.now;
        trio.nodes[i].handle(&sent.from, sent.message, now);
    }
    for answer in trio.outgoing() {
        rejected |= matches!(answer.message, GossipMessage::Rejected(_));
        trio.nodes[2].handle(&answer.from, answer.message, trio.now);
    }
    assert!(rejected, "b refused the retry: it blocked c already");
    assert!(trio.nodes[2].leave_acknowledged());
}

#[test]
fn a_late_answer_to_an_earlier_leave_request_still_acknowledges() {
    let mut trio = Trio::joined();
    let now = trio.now;
    trio.nodes[2].leave(now).unwrap();
    for sent in trio.outgoing() {
        if let Some(i) = trio.index(&sent.to) {
            trio.nodes[i].handle(&sent.from, sent.message, now);
        }
    }
    // The answers are held back past the timeout; the retries are lost.
    let late = trio.outgoing();
    trio.leaver_waits_a_timeout();
    let retried = trio.outgoing();
    assert_eq!(retried.len(), 2, "both peers are asked again");
    for answer in late {
        trio.nodes[2].handle(&answer.from, answer.message, trio.now);
    }
    assert!(trio.nodes[2].leave_acknowledged());
    assert!(trio.nodes[2].leave_unacknowledged().is_empty());
}
