//! What decoding an untrusted frame costs in memory, measured with a counting global
//! allocator: a frame that claims long sequences and breaks off allocates in proportion to
//! the bytes it really carries — far under the frame limit — never to the lengths it claims
//! (docs/protocol.md §8).
//!
//! The allocator counts every thread of this test binary, so the binary holds one test: a
//! second one starting on another thread would count into the first one's figures.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::alloc::System;

use chorus_core::gossip::GossipDigest;
use chorus_core::topology::MemberId;
use chorus_core::wire::{DEFAULT_MAX_FRAME_BYTES, Frame, PROTOCOL_VERSION};
use serde::Serialize;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated (and grown by reallocation) while `decode` runs: an upper bound of the
/// memory it held at any one time.
fn allocated_by(bytes: &[u8]) -> usize {
    let region = Region::new(GLOBAL);
    let decoded = Frame::decode(bytes, DEFAULT_MAX_FRAME_BYTES);
    let change = region.change();
    assert!(decoded.is_err(), "the frame breaks off: {decoded:?}");
    // Growth by reallocation is counted in `bytes_allocated` too.
    change.bytes_allocated
}

/// The postcard encoding of `value`: a prefix of a frame, field by field.
fn enc<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap()
}

/// A postcard varint.
fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// Each place in a frame where a sequence length is read, as the bytes that come before
/// that length: the version, the variant indices and the fields decoded so far.
fn sequence_prefixes() -> Vec<(&'static str, Vec<u8>)> {
    let member = MemberId::new("m", 1);
    let empty_digest = GossipDigest::default();
    let v = PROTOCOL_VERSION;
    // Frame::Gossip = 3: Request = 0, Push = 2, Suspect = 4. Frame::PubSub = 4: Batch = 0,
    // Ack = 1, Completed = 2.
    let request = [&[v, 3, 0][..], &enc(&(7u64, &member))].concat();
    let push = [&[v, 3, 2][..], &enc(&member)].concat();
    let owner = [&push[..], &varint(1), &enc(&(&member, 0u64, 9u64))].concat();
    let entry = [&owner[..], &varint(1), &enc(&("key", 3u64))].concat();
    let view = [&request[..], &varint(0), &[0, 1], &enc(&5u64)].concat();
    let batch = [&[v, 4, 0][..], &enc(&(1u64, &member, "topic"))].concat();
    let message = [&batch[..], &varint(1), &enc(&2u64)].concat();
    let message_subscribers = [&message[..], &varint(0)].concat();
    vec![
        ("digest entries", request.clone()),
        ("view digest, all", view.clone()),
        ("view digest, some", [&view[..], &varint(0)].concat()),
        (
            "request delta owners",
            [&request[..], &enc(&empty_digest)].concat(),
        ),
        ("push delta owners", push.clone()),
        ("owner entries", owner),
        ("entry value bytes", entry),
        (
            "suspected members",
            [&[v, 3, 4][..], &enc(&member)].concat(),
        ),
        ("batch messages", batch.clone()),
        ("message payload bytes", message),
        ("message subscribers", message_subscribers),
        (
            "ack statuses",
            [&[v, 4, 1][..], &enc(&(1u64, &member))].concat(),
        ),
        (
            "completed message ids",
            [&[v, 4, 2][..], &enc(&(&member, "topic", "group", "sub"))].concat(),
        ),
    ]
}

#[test]
fn decoding_allocates_for_the_bytes_received_never_for_the_lengths_claimed() {
    claims_at_every_sequence_cost_in_proportion_to_the_bytes();
    nested_claims_stay_in_proportion_to_the_bytes();
}

/// The in-memory size of the largest element of any list in a frame (`BatchMessage`),
/// over the bytes left per element a reservation needs (16): what a claim can reserve per
/// byte of the frame, at most.
const RESERVED_PER_BYTE: usize = 80 / 16;

/// Every place a length is read: a tiny frame claiming 2^32 elements; frames claiming one
/// element per byte they carry; frames claiming one element per 16 bytes — the most the
/// decoder reserves for — each breaking off at the first element.
fn claims_at_every_sequence_cost_in_proportion_to_the_bytes() {
    let limit = DEFAULT_MAX_FRAME_BYTES;
    for (place, prefix) in sequence_prefixes() {
        let tiny = [&prefix[..], &varint(u64::from(u32::MAX))].concat();
        let cost = allocated_by(&tiny);
        assert!(
            cost <= 1024,
            "{place}: a {}-byte frame claiming 2^32 elements allocated {cost} bytes",
            tiny.len()
        );

        // 0xff starts no valid element of a list of structs; in a byte list the bytes are
        // the elements, and the frame breaks off after them.
        for body in [4 << 10, 64 << 10, limit / 8] {
            for (per, bound) in [(1, 2), (16, RESERVED_PER_BYTE + 1)] {
                let claimed = (body / per) as u64;
                let mut frame = [&prefix[..], &varint(claimed)].concat();
                frame.resize(frame.len() + body, 0xff);
                let cost = allocated_by(&frame);
                println!(
                    "{place}: {} bytes claiming {claimed} elements allocated {cost} bytes",
                    frame.len()
                );
                assert!(
                    cost <= bound * frame.len() + 1024,
                    "{place}: a {}-byte frame claiming {claimed} elements allocated {cost} \
                     bytes, over {bound} times its size",
                    frame.len()
                );
                assert!(
                    cost < limit,
                    "{place}: a {}-byte frame allocated {cost} bytes, over the frame limit",
                    frame.len()
                );
            }
        }
    }
}

/// Delta owners, the first owner's entries and the first entry's value each claim much.
/// Reserved on their claims by postcard's own reader, the lists would cost 1 MiB apiece.
fn nested_claims_stay_in_proportion_to_the_bytes() {
    let member = MemberId::new("m", 1);
    let body = 64 << 10;
    for (per, bound) in [(2, 2), (16, 2 * RESERVED_PER_BYTE)] {
        let claim = (body / per) as u64;
        let mut frame = [
            &[PROTOCOL_VERSION, 3, 2][..],
            &enc(&member),
            &varint(claim),
            &enc(&(&member, 0u64, 9u64)),
            &varint(claim),
            &enc(&("key", 3u64)),
            &varint(claim),
        ]
        .concat();
        frame.resize(frame.len() + body, 0xff);
        let cost = allocated_by(&frame);
        println!(
            "nested claims of {claim}: {} bytes allocated {cost} bytes",
            frame.len()
        );
        assert!(
            cost <= bound * frame.len() + 1024,
            "nested claims of {claim} allocated {cost} bytes, over {bound} times the frame"
        );
    }
}
