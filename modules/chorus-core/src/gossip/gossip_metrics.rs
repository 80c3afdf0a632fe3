/// Counters of one gossip node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GossipMetrics {
    /// Rounds run.
    pub rounds: u64,
    /// Requests sent (rounds, seed contacts, leave).
    pub requests_sent: u64,
    /// Requests received.
    pub requests_received: u64,
    /// Responses received for a pending request.
    pub responses_received: u64,
    /// Responses received after their request timed out.
    pub late_responses: u64,
    /// Requests that got no response in time.
    pub request_timeouts: u64,
    /// Pushes sent (fresh changes, relays, last legs of rounds).
    pub pushes_sent: u64,
    /// Pushes received.
    pub pushes_received: u64,
    /// Rejections sent to blocked members.
    pub rejections_sent: u64,
    /// Rejections received.
    pub rejections_received: u64,
    /// Remote entries accepted.
    pub entries_accepted: u64,
    /// Members blocked.
    pub members_blocked: u64,
    /// Times this node rejoined under a new incarnation.
    pub rejoins: u64,
    /// Suspicions this node raised: members it gave up on and told peers about.
    pub suspicions_sent: u64,
    /// Suspicions received from peers.
    pub suspicions_received: u64,
    /// Members a received suspicion made this node block (it had stopped hearing them
    /// too).
    pub suspicions_confirmed: u64,
}
