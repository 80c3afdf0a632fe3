use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

type Extractor = Arc<dyn Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync>;

/// A check that holds when every live member publishes the same value under `key`, as
/// read by the extractor (the whole value by default).
#[derive(Clone)]
pub struct ConsensusCheck {
    name: String,
    key: String,
    extract: Extractor,
}

impl ConsensusCheck {
    /// A check named `name` on the raw value of `key`.
    pub fn new(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            key: key.into(),
            extract: Arc::new(|bytes| Some(bytes.to_vec())),
        }
    }

    /// The same check, comparing what `extract` reads from the value (`None`: the member
    /// has no usable value, so there is no consensus).
    #[must_use]
    pub fn with_extractor<F>(mut self, extract: F) -> Self
    where
        F: Fn(&[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    {
        self.extract = Arc::new(extract);
        self
    }

    /// The check's name, as events report it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key it reads.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What the check compares for a member whose value is `bytes`.
    pub fn extract(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        (self.extract)(bytes)
    }
}

impl fmt::Debug for ConsensusCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsensusCheck")
            .field("name", &self.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}
