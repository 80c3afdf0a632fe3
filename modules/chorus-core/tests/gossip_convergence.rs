//! 50 nodes in memory, every message delivered (through the real wire encoding): they
//! reach identical states and consensus on the topology within 2·log2(N)+4 rounds.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, VecDeque};

use chorus_core::gossip::{GossipConfig, GossipNode, GossipOutput};
use chorus_core::topology::{Member, MemberId};
use chorus_core::wire::{DEFAULT_MAX_FRAME_BYTES, Frame};

const NODES: usize = 50;

fn address(i: usize) -> String {
    format!("10.0.0.{i}:7000")
}

/// Every node's view of every member's entries: owner → key → (seq, value).
type Content = BTreeMap<MemberId, BTreeMap<String, (u64, Vec<u8>)>>;

fn content(node: &GossipNode) -> Content {
    node.store()
        .state()
        .members()
        .map(|(id, state)| {
            let entries = state
                .entries()
                .map(|(k, v)| (k.to_string(), (v.seq(), v.value().to_vec())))
                .collect();
            (id.clone(), entries)
        })
        .filter(|(_, entries): &(MemberId, BTreeMap<_, _>)| !entries.is_empty())
        .collect()
}

#[test]
fn fifty_nodes_reach_identical_state_and_topology_consensus_in_logarithmic_rounds() {
    let config = GossipConfig::new();
    let mut nodes: Vec<GossipNode> = (0..NODES)
        .map(|i| {
            let member = Member::new(MemberId::new(&format!("n{i}"), 1), address(i));
            GossipNode::new(member, vec![address(0)], config, i as u64, 0).unwrap()
        })
        .collect();
    let index: BTreeMap<String, usize> = (0..NODES).map(|i| (address(i), i)).collect();
    let mut now = 0;
    let mut bytes = 0usize;
    let mut frames = 0usize;
    let bound = (2.0 * (NODES as f64).log2() + 4.0).floor() as usize;
    let mut converged_after = None;

    for round in 1..=bound + 10 {
        now += config.gossip_interval_ms;
        for node in &mut nodes {
            node.tick(now);
        }
        // Deliver everything, including what deliveries cause, before the next round.
        let mut queue = VecDeque::new();
        loop {
            for (i, node) in nodes.iter_mut().enumerate() {
                for output in node.drain_outputs() {
                    if let GossipOutput::Send { to, message } = output {
                        queue.push_back((i, to, message));
                    }
                }
            }
            let Some((from, to, message)) = queue.pop_front() else {
                break;
            };
            let encoded = Frame::Gossip(message).encode();
            bytes += encoded.len();
            frames += 1;
            let Ok(Frame::Gossip(decoded)) = Frame::decode(&encoded, DEFAULT_MAX_FRAME_BYTES)
            else {
                panic!("a frame did not survive the wire");
            };
            let target = index[&to];
            nodes[target].handle(&address(from), decoded, now);
        }

        let reference = content(&nodes[0]);
        let identical = reference.len() == NODES && nodes.iter().all(|n| content(n) == reference);
        let hash = nodes[0].topology().hash();
        let agreed = nodes
            .iter()
            .all(|n| n.topology().members().len() == NODES && n.topology_consensus() == Some(hash));
        if identical && agreed {
            converged_after = Some(round);
            break;
        }
    }
    let rounds = converged_after.expect("the cluster converged");
    println!(
        "{NODES} nodes: identical state and topology consensus after {rounds} rounds \
         (bound {bound}); {frames} frames, {bytes} bytes"
    );
    assert!(rounds <= bound, "{rounds} rounds > 2·log2(N)+4 = {bound}");
}
