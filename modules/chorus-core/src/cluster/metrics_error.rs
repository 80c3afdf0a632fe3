use core::fmt;

/// Why metrics could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsError {
    /// Metrics are turned off in the configuration.
    Disabled,
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Disabled => f.write_str("metrics are disabled in the cluster configuration"),
        }
    }
}

impl core::error::Error for MetricsError {}
