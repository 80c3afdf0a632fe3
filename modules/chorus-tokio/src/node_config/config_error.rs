use std::fmt;

use chorus_core::gossip::GossipConfigError;
use chorus_core::pubsub::PubSubConfigError;

use crate::transport::TransportError;

/// Why a [`NodeConfig`](super::NodeConfig) could not be read, printed or accepted.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read.
    Read {
        /// The file.
        path: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// The text is no TOML, or a key is unknown or holds a value of the wrong kind.
    Parse {
        /// The key, dotted from the top (`gossip.gossip_interval`); `None` when the text
        /// is not TOML at all.
        key: Option<String>,
        /// Where, 1-based, when known.
        line: Option<usize>,
        /// The column on that line, 1-based, when known.
        column: Option<usize>,
        /// The TOML reader's error (its `Display` quotes the offending line).
        source: Box<toml::de::Error>,
    },
    /// A setting that must not be empty is.
    Empty {
        /// The key.
        key: &'static str,
    },
    /// A value that breaks a rule of its key (a member name, a seed address).
    Invalid {
        /// The key.
        key: &'static str,
        /// The rule it breaks.
        reason: String,
    },
    /// A number outside its range.
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The value given.
        value: usize,
        /// The smallest value accepted.
        min: usize,
        /// The largest value accepted.
        max: usize,
    },
    /// A `[gossip]` setting breaks a rule.
    Gossip(GossipConfigError),
    /// A `[transport]` setting breaks a rule.
    Transport(TransportError),
    /// A `[pub_sub]` setting breaks a rule (batches must fit the transport's frames).
    PubSub(PubSubConfigError),
    /// The configuration could not be written as TOML.
    Print(toml::ser::Error),
}

impl ConfigError {
    pub(super) fn parse(text: &str, key: Option<String>, source: toml::de::Error) -> Self {
        let position = source.span().map(|span| line_and_column(text, span.start));
        Self::Parse {
            key,
            line: position.map(|(line, _)| line),
            column: position.map(|(_, column)| column),
            source: Box::new(source),
        }
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {path}: {source}"),
            Self::Parse {
                key,
                line,
                column,
                source,
            } => {
                f.write_str("invalid configuration")?;
                if let Some(key) = key {
                    write!(f, " at `{key}`")?;
                }
                match (line, column) {
                    (Some(line), Some(column)) => write!(f, " (line {line}, column {column})")?,
                    (Some(line), None) => write!(f, " (line {line})")?,
                    _ => {}
                }
                write!(f, ": {}", source.message().trim_end())
            }
            Self::Empty { key } => write!(f, "invalid configuration: `{key}` is empty"),
            Self::Invalid { key, reason } => write!(f, "invalid configuration: `{key}`: {reason}"),
            Self::OutOfRange {
                key,
                value,
                min,
                max,
            } => write!(
                f,
                "invalid configuration: `{key}` is {value}; it must be between {min} and {max}"
            ),
            Self::Gossip(e) => in_table(f, "gossip", &e.to_string()),
            // The transport's message begins "invalid transport configuration".
            Self::Transport(e) => write!(f, "{e} (in [transport])"),
            Self::PubSub(e) => in_table(f, "pub_sub", &e.to_string()),
            Self::Print(e) => write!(f, "cannot write the configuration as TOML: {e}"),
        }
    }
}

/// A core setting's rule broken in `[table]`. The core's messages use the Rust names; a
/// duration's ends in `_ms`, which the file's key drops: say so.
fn in_table(f: &mut fmt::Formatter<'_>, table: &str, message: &str) -> fmt::Result {
    write!(f, "invalid configuration in [{table}]: {message}")?;
    if message.contains("_ms") {
        f.write_str(
            " (a setting `NAME_ms` is the key `NAME` in the file; its values are milliseconds)",
        )?;
    }
    Ok(())
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            Self::Parse { source, .. } => Some(source.as_ref()),
            Self::Gossip(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::PubSub(e) => Some(e),
            Self::Print(e) => Some(e),
            Self::Empty { .. } | Self::Invalid { .. } | Self::OutOfRange { .. } => None,
        }
    }
}
