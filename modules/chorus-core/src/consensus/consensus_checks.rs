use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::{ConsensusCheck, ConsensusHandle};
use crate::cluster::ClusterEvent;
use crate::topology::MemberId;

/// The registered checks and the value each last agreed on.
#[derive(Debug, Default)]
pub struct ConsensusChecks {
    next: u64,
    checks: BTreeMap<ConsensusHandle, (ConsensusCheck, Option<Vec<u8>>)>,
}

impl ConsensusChecks {
    /// No checks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `check`; it is evaluated at the next evaluation.
    pub fn register(&mut self, check: ConsensusCheck) -> ConsensusHandle {
        let handle = ConsensusHandle(self.next);
        self.next += 1;
        self.checks.insert(handle, (check, None));
        handle
    }

    /// Removes a check; returns whether it was registered.
    pub fn remove(&mut self, handle: ConsensusHandle) -> bool {
        self.checks.remove(&handle).is_some()
    }

    /// The value all live members agree on for this check, if they do.
    pub fn agreed(&self, handle: ConsensusHandle) -> Option<&[u8]> {
        self.checks
            .get(&handle)
            .and_then(|(_, agreed)| agreed.as_deref())
    }

    /// The registered check behind `handle`.
    pub fn check(&self, handle: ConsensusHandle) -> Option<&ConsensusCheck> {
        self.checks.get(&handle).map(|(check, _)| check)
    }

    /// Whether some check reads `key`.
    pub fn watches(&self, key: &str) -> bool {
        self.checks.values().any(|(check, _)| check.key() == key)
    }

    /// Re-evaluates every check over `members`, reading values with `read`; returns
    /// `ConsensusReached` for a check that now agrees on a new value and `ConsensusLost`
    /// for one that agreed and no longer does.
    pub fn evaluate<'a>(
        &mut self,
        members: &[MemberId],
        read: impl Fn(&MemberId, &str) -> Option<&'a [u8]>,
    ) -> Vec<ClusterEvent> {
        let mut events = Vec::new();
        for (check, agreed) in self.checks.values_mut() {
            let now_agreed = Self::agreement(check, members, &read);
            if now_agreed == *agreed {
                continue;
            }
            match &now_agreed {
                Some(value) => events.push(ClusterEvent::ConsensusReached {
                    check: check.name().into(),
                    value: value.clone(),
                }),
                None => events.push(ClusterEvent::ConsensusLost {
                    check: check.name().into(),
                }),
            }
            *agreed = now_agreed;
        }
        events
    }

    fn agreement<'a>(
        check: &ConsensusCheck,
        members: &[MemberId],
        read: &impl Fn(&MemberId, &str) -> Option<&'a [u8]>,
    ) -> Option<Vec<u8>> {
        let mut agreed: Option<Vec<u8>> = None;
        for member in members {
            let value = check.extract(read(member, check.key())?)?;
            match &agreed {
                Some(first) if *first != value => return None,
                Some(_) => {}
                None => agreed = Some(value),
            }
        }
        agreed
    }
}
