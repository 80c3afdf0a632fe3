//! Helpers shared by the unit tests of this crate and by its integration tests (which
//! include this file with `#[path]`): it depends on nothing of the crate.

use std::future::Future;
use std::time::Duration;

/// Polls `check` every 20 ms until it holds or `limit` passes; returns whether it held.
pub(crate) async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
