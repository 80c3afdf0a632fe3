use core::fmt;

/// Why bytes could not be turned into a frame, or a frame into bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The frame is larger than the limit; it was not decoded.
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// No bytes at all.
    Empty,
    /// The frame is in a protocol version this build does not speak.
    UnsupportedVersion {
        /// The version of the frame.
        got: u8,
        /// The version this build speaks.
        supported: u8,
    },
    /// The bytes are not a valid frame.
    Malformed(postcard::Error),
    /// A valid frame followed by bytes that belong to nothing.
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes is over the limit of {max} bytes")
            }
            Self::Empty => f.write_str("empty frame"),
            Self::UnsupportedVersion { got, supported } => write!(
                f,
                "frame in protocol version {got}; this node speaks version {supported}"
            ),
            Self::Malformed(e) => write!(f, "malformed frame: {e}"),
            Self::TrailingBytes { count } => {
                write!(f, "{count} bytes left over after a valid frame")
            }
        }
    }
}

impl core::error::Error for WireError {}
