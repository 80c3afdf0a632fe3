use rand::Rng;
use rand::rngs::SmallRng;

/// How long a message takes on a virtual link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// Always this many milliseconds.
    Fixed(u64),
    /// Uniformly between `min` and `max` milliseconds (inclusive).
    Uniform {
        /// Shortest delay.
        min: u64,
        /// Longest delay.
        max: u64,
    },
}

impl Latency {
    /// One delay drawn from `rng`.
    pub fn sample(self, rng: &mut SmallRng) -> u64 {
        match self {
            Self::Fixed(ms) => ms,
            Self::Uniform { min, max } if max > min => rng.random_range(min..=max),
            Self::Uniform { min, .. } => min,
        }
    }
}
