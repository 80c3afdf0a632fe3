use alloc::string::String;
use core::fmt;

/// Why a text is not a duration ([`parse_millis`](super::parse_millis)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationTextError {
    /// Nothing but spaces.
    Empty,
    /// A character where a whole number or a unit must stand (a sign, a decimal point).
    Unexpected {
        /// The character.
        found: char,
    },
    /// A number at the end without a unit (`"250"`).
    MissingUnit {
        /// The number.
        number: u64,
    },
    /// A unit other than `ms`, `s`, `m` and `h`.
    UnknownUnit {
        /// The unit as written.
        unit: String,
    },
    /// More milliseconds than a `u64` holds.
    TooLarge,
}

impl fmt::Display for DurationTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty: write a number and a unit, e.g. 250ms or 2s"),
            Self::Unexpected { found } => write!(
                f,
                "unexpected {found:?}: write whole numbers, each followed by a unit (ms, s, m, h), e.g. 1m30s or 250ms"
            ),
            Self::MissingUnit { number } => write!(
                f,
                "{number} has no unit: write {number}ms, {number}s, {number}m or {number}h"
            ),
            Self::UnknownUnit { unit } => {
                write!(f, "unknown unit {unit:?}: use ms, s, m (minutes) or h")
            }
            Self::TooLarge => f.write_str("it is too large: at most 18446744073709551615ms"),
        }
    }
}

impl core::error::Error for DurationTextError {}
