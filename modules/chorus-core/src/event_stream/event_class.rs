/// Which replay ring of an [`EventStream`](super::EventStream) keeps an event.
///
/// A stream built with [`EventStream::with_replay_by_class`](super::EventStream::with_replay_by_class)
/// keeps each class in a ring of its own, so a flood of transient events cannot push the
/// lasting ones out of the replay that late subscribers receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventClass {
    /// Rare events a late subscriber must still see (lifecycle, membership): only newer
    /// lasting events evict them from the replay.
    Lasting,
    /// Events that may come in any volume (per message, per gossip key): they evict only
    /// older transient events.
    Transient,
}

impl EventClass {
    /// Whether this is [`EventClass::Lasting`].
    pub fn is_lasting(self) -> bool {
        self == Self::Lasting
    }
}
