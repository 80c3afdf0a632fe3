use alloc::collections::VecDeque;

use super::EventClass;

/// The events an [`EventStream`](super::EventStream) hands to a new subscriber: the last
/// events of each [`EventClass`], each class in a ring of its own.
///
/// Every recorded event gets the next sequence number, so the rings can be merged back
/// into publish order. Guarded by the stream's lock, like the rest of its state.
pub(super) struct Replay<E> {
    classify: fn(&E) -> EventClass,
    lasting: Ring<E>,
    transient: Ring<E>,
    next_seq: u64,
}

/// The last `capacity` events of one class, oldest first, with their sequence numbers.
struct Ring<E> {
    events: VecDeque<(u64, E)>,
    capacity: usize,
}

impl<E> Replay<E> {
    pub(super) fn new(lasting: usize, transient: usize, classify: fn(&E) -> EventClass) -> Self {
        Self {
            classify,
            lasting: Ring::new(lasting),
            transient: Ring::new(transient),
            next_seq: 0,
        }
    }

    /// How many events of `class` are kept at most.
    pub(super) fn capacity_of(&self, class: EventClass) -> usize {
        self.ring(class).capacity
    }

    /// How many events of `class` are kept now.
    pub(super) fn len_of(&self, class: EventClass) -> usize {
        self.ring(class).events.len()
    }

    fn ring(&self, class: EventClass) -> &Ring<E> {
        match class {
            EventClass::Lasting => &self.lasting,
            EventClass::Transient => &self.transient,
        }
    }
}

impl<E: Clone> Replay<E> {
    /// Keeps `event` in the ring of its class, evicting that ring's oldest event when full.
    pub(super) fn record(&mut self, event: &E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let ring = match (self.classify)(event) {
            EventClass::Lasting => &mut self.lasting,
            EventClass::Transient => &mut self.transient,
        };
        ring.push(seq, event);
    }

    /// Both rings merged into publish order, oldest first.
    pub(super) fn snapshot(&self) -> VecDeque<E> {
        let mut merged =
            VecDeque::with_capacity(self.lasting.events.len() + self.transient.events.len());
        let mut lasting = self.lasting.events.iter().peekable();
        let mut transient = self.transient.events.iter().peekable();
        loop {
            let take_lasting = match (lasting.peek(), transient.peek()) {
                (Some((a, _)), Some((b, _))) => a < b,
                (Some(_), None) => true,
                (None, _) => false,
            };
            let next = if take_lasting {
                lasting.next()
            } else {
                transient.next()
            };
            match next {
                Some((_, event)) => merged.push_back(event.clone()),
                None => return merged,
            }
        }
    }
}

impl<E> Ring<E> {
    fn new(capacity: usize) -> Self {
        Self {
            events: VecDeque::with_capacity(capacity),
            capacity,
        }
    }
}

impl<E: Clone> Ring<E> {
    fn push(&mut self, seq: u64, event: &E) {
        if self.capacity == 0 {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back((seq, event.clone()));
    }
}
