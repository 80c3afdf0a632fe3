//! Durations written for people — `"250ms"`, `"2s"`, `"1m30s"`, `"1h"` — for the core's
//! settings, which count whole milliseconds (`GossipConfig::gossip_interval_ms`, …).
//!
//! With the `serde` feature, `serialize` and `deserialize` let a field of `u64`
//! milliseconds be written in that form (`#[serde(with = "chorus_core::duration_text")]`);
//! a bare integer is read as milliseconds. `humantime` and `humantime-serde`, which the
//! std crates use for their `std::time::Duration` settings, need `std`: this small module
//! is written by hand so that the `no_std` core reads the same forms.
//!
//! A duration is one or more parts, each a whole number and a unit — `ms`, `s`, `m`
//! (minutes) or `h` — optionally separated by spaces (`"1m 30s"`); the parts add up.

mod duration_text_error;
#[cfg(test)]
mod tests;

use alloc::string::{String, ToString};

pub use duration_text_error::DurationTextError;

/// The units, largest first: milliseconds per unit and the unit's name.
const UNITS: [(u64, &str); 4] = [(3_600_000, "h"), (60_000, "m"), (1_000, "s"), (1, "ms")];

/// Reads a duration such as `"250ms"`, `"2s"` or `"1m30s"` as whole milliseconds.
///
/// ```
/// use chorus_core::duration_text::parse_millis;
/// assert_eq!(parse_millis("1m30s"), Ok(90_000));
/// assert_eq!(parse_millis("250ms"), Ok(250));
/// assert!(parse_millis("2 parsecs").is_err());
/// ```
pub fn parse_millis(text: &str) -> Result<u64, DurationTextError> {
    let mut rest = text.trim_start();
    if rest.is_empty() {
        return Err(DurationTextError::Empty);
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        if number.is_empty() {
            return Err(unexpected(after));
        }
        let number = number.bytes().try_fold(0u64, |n, digit| {
            n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        });
        let number = number.ok_or(DurationTextError::TooLarge)?;
        let after = after.trim_start();
        let letters = after.len() - after.trim_start_matches(char::is_alphabetic).len();
        let (unit, after) = after.split_at(letters);
        if unit.is_empty() {
            return Err(match after.chars().next() {
                None => DurationTextError::MissingUnit { number },
                Some(_) => unexpected(after),
            });
        }
        let factor = UNITS
            .iter()
            .find(|(_, name)| *name == unit)
            .map(|(factor, _)| *factor)
            .ok_or_else(|| DurationTextError::UnknownUnit {
                unit: unit.to_string(),
            })?;
        total = number
            .checked_mul(factor)
            .and_then(|part| total.checked_add(part))
            .ok_or(DurationTextError::TooLarge)?;
        rest = after.trim_start();
    }
    Ok(total)
}

fn unexpected(text: &str) -> DurationTextError {
    match text.chars().next() {
        Some(found) => DurationTextError::Unexpected { found },
        None => DurationTextError::Empty,
    }
}

/// Writes `millis` in the shortest form [`parse_millis`] reads back exactly: 2,000 is
/// `"2s"`, 250 is `"250ms"`, 90,000 is `"90s"`, 3,600,001 is `"1h1ms"`, 0 is `"0ms"`.
///
/// ```
/// use chorus_core::duration_text::format_millis;
/// assert_eq!(format_millis(2_000), "2s");
/// assert_eq!(format_millis(600_000), "10m");
/// ```
pub fn format_millis(millis: u64) -> String {
    if millis == 0 {
        return String::from("0ms");
    }
    // Each candidate puts the bulk in one unit and the remainder in smaller ones
    // ("1h1m1ms", "61m1ms", "3660s1ms", "3660001ms"); the shortest wins, ties going to the
    // larger unit.
    let mut best: Option<String> = None;
    let mut units: &[(u64, &str)] = &UNITS;
    while let Some((_, smaller)) = units.split_first() {
        let candidate = in_units(millis, units);
        if best.as_ref().is_none_or(|b| candidate.len() < b.len()) {
            best = Some(candidate);
        }
        units = smaller;
    }
    best.unwrap_or_default()
}

/// `millis` as parts of `units` (largest first, ending with milliseconds), zero parts
/// left out.
fn in_units(millis: u64, units: &[(u64, &str)]) -> String {
    let mut text = String::new();
    let mut rest = millis;
    for (factor, name) in units {
        let count = rest / factor;
        if count > 0 {
            text.push_str(&count.to_string());
            text.push_str(name);
            rest -= count * factor;
        }
    }
    text
}

/// Writes a field of `u64` milliseconds as [`format_millis`] does (`"250ms"`), for
/// `#[serde(with = "chorus_core::duration_text")]`.
#[cfg(feature = "serde")]
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `with` passes the field by reference"
)]
pub fn serialize<S: serde::Serializer>(millis: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_millis(*millis))
}

/// Reads a field of `u64` milliseconds from a duration text (`"2s"`, see
/// [`parse_millis`]) or a bare non-negative integer of milliseconds. For self-describing
/// formats (TOML, JSON): it asks the format which one it holds.
#[cfg(feature = "serde")]
pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(MillisVisitor)
}

#[cfg(feature = "serde")]
struct MillisVisitor;

#[cfg(feature = "serde")]
impl serde::de::Visitor<'_> for MillisVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a duration such as \"250ms\", \"2s\" or \"1m30s\", or whole milliseconds")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<u64, E> {
        parse_millis(text).map_err(|e| E::custom(format_args!("invalid duration {text:?}: {e}")))
    }

    fn visit_u64<E: serde::de::Error>(self, millis: u64) -> Result<u64, E> {
        Ok(millis)
    }

    fn visit_i64<E: serde::de::Error>(self, millis: i64) -> Result<u64, E> {
        u64::try_from(millis).map_err(|_| {
            E::custom(format_args!(
                "invalid duration {millis}: a duration cannot be negative"
            ))
        })
    }
}
