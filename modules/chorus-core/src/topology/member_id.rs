use alloc::borrow::Cow;
use alloc::sync::Arc;
use core::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// The identity of one member: a name and an incarnation.
///
/// A process that restarts under the same name takes a new incarnation, so it is a new
/// member: a blocked member never comes back, its successor joins beside it. Incarnations
/// are usually the start time of the process in milliseconds, which grows across restarts.
#[derive(Clone, Eq, PartialOrd, Ord, Serialize)]
pub struct MemberId {
    name: Arc<str>,
    incarnation: u64,
}

impl MemberId {
    /// The member `name` in its `incarnation`.
    pub fn new(name: &str, incarnation: u64) -> Self {
        Self {
            name: Arc::from(name),
            incarnation,
        }
    }

    /// The name, shared by every incarnation of one process.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name, shared with this id (no copy): for maps keyed by name.
    pub(crate) fn shared_name(&self) -> Arc<str> {
        Arc::clone(&self.name)
    }

    /// The incarnation that tells restarts of one name apart.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Feeds this id into an FNV-1a hasher in a fixed, platform-independent byte order.
    pub(crate) fn write_stable(&self, hasher: &mut fnv::FnvHasher) {
        use core::hash::Hasher;
        hasher.write(self.name.as_bytes());
        // A separator that cannot occur in UTF-8 text keeps "ab"+1 apart from "a"+"b1".
        hasher.write(&[0xff]);
        hasher.write(&self.incarnation.to_le_bytes());
    }
}

impl PartialEq for MemberId {
    fn eq(&self, other: &Self) -> bool {
        // Ids cloned from one another share their name: skip comparing the bytes.
        self.incarnation == other.incarnation
            && (Arc::ptr_eq(&self.name, &other.name) || self.name == other.name)
    }
}

impl core::hash::Hash for MemberId {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        // Equal ids have equal names and incarnations, whatever the pointer.
        self.name.hash(state);
        self.incarnation.hash(state);
    }
}

/// The wire form of a [`MemberId`], borrowing the name from the input when the format
/// allows it: a decoded id then costs one allocation instead of two.
#[derive(Deserialize)]
struct MemberIdWire<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    incarnation: u64,
}

impl<'de> Deserialize<'de> for MemberId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MemberIdWire::deserialize(deserializer)?;
        Ok(Self {
            name: Arc::from(wire.name.as_ref()),
            incarnation: wire.incarnation,
        })
    }
}

impl AsRef<MemberId> for MemberId {
    fn as_ref(&self) -> &MemberId {
        self
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.name, self.incarnation)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
