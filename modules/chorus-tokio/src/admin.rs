//! The admin endpoint: an HTTP listener on the node's admin address
//! ([`ClusterBuilder::admin_addr`](crate::ClusterBuilder::admin_addr)) that answers
//!
//! - `/metrics`: [`NodeMetrics`](crate::NodeMetrics) in the Prometheus text format;
//! - `/members`: the topology's members and the blocked ones (JSON);
//! - `/health`: 200 when the node runs and is in its topology, 503 otherwise;
//! - `/topics`: the registry's subscriptions per topic and group (JSON);
//! - `/info`: who the node is and every figure of its metrics (JSON).
//!
//! The server holds the node weakly: it never keeps a dropped node alive, and the node
//! stops it when it shuts down, aborts or is dropped (`docs/operations.md`).

mod health_view;
mod info_view;
mod members_view;
mod node_collector;
#[cfg(test)]
mod tests;
mod topics_view;
pub(crate) use node_collector::MAX_EXPORTED_TOPICS;

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::health_view::HealthView;
use self::members_view::MembersView;
use self::topics_view::TopicsView;
use crate::cluster::{Cluster, WeakCluster};

/// How long a shutdown waits for the requests in progress before it cuts them.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// The running admin endpoint of one node.
#[derive(Debug)]
pub(crate) struct AdminServer {
    address: SocketAddr,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl AdminServer {
    /// Binds the admin address, before the node starts: a taken port starts nothing.
    pub(crate) fn bind(address: &str) -> std::io::Result<std::net::TcpListener> {
        let listener = std::net::TcpListener::bind(address)?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    /// Serves `node` on `listener` (bound by [`bind`](Self::bind)) until
    /// [`stop`](Self::stop). Must be called inside a Tokio runtime.
    pub(crate) fn serve(
        listener: std::net::TcpListener,
        node: WeakCluster,
        max_topics: usize,
    ) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let cancel = CancellationToken::new();
        let stopped = cancel.clone();
        let app = router(AdminState { node, max_topics });
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
            if let Err(e) = served {
                tracing::warn!(%address, error = %e, "admin endpoint stopped");
            }
        });
        tracing::info!(%address, "admin endpoint listening");
        Ok(Self {
            address,
            cancel,
            task: Mutex::new(Some(task)),
        })
    }

    /// The address it listens on.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops at once: the listener closes and requests in progress are cut.
    pub(crate) fn stop(&self) {
        self.cancel.cancel();
        if let Some(task) = self.take_task() {
            task.abort();
        }
    }

    /// Stops accepting, lets the requests in progress finish (up to a second), and
    /// returns once the listener is closed.
    pub(crate) async fn stop_and_wait(&self) {
        self.cancel.cancel();
        let Some(mut task) = self.take_task() else {
            return;
        };
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
        }
    }

    fn take_task(&self) -> Option<JoinHandle<()>> {
        self.task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the handlers share: the node, and how many topics `/metrics` exports one by one.
#[derive(Debug, Clone)]
struct AdminState {
    node: WeakCluster,
    max_topics: usize,
}

impl axum::extract::FromRef<AdminState> for WeakCluster {
    fn from_ref(state: &AdminState) -> Self {
        state.node.clone()
    }
}

fn router(state: AdminState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/members", get(members))
        .route("/health", get(health))
        .route("/topics", get(topics))
        .route("/info", get(info))
        .with_state(state)
}

/// The answer once the node is gone (the endpoint is stopping with it).
fn gone() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "the node has stopped\n").into_response()
}

fn health_of(node: &Cluster) -> HealthView {
    let member = node.snapshot().read(|data| data.member.clone());
    HealthView::new(node.is_running(), member.as_ref(), &node.topology())
}

async fn metrics(State(state): State<AdminState>) -> Response {
    let Some(node) = state.node.upgrade() else {
        return gone();
    };
    match node_collector::encode(node.metrics(), state.max_topics) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be encoded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn members(State(node): State<WeakCluster>) -> Response {
    let Some(node) = node.upgrade() else {
        return gone();
    };
    let members = node.members();
    let blocked = node.blocked();
    let now = tokio::time::Instant::now();
    let view = node
        .snapshot()
        .read(|data| MembersView::new(&members, &blocked, data, now));
    Json(view).into_response()
}

async fn health(State(node): State<WeakCluster>) -> Response {
    let Some(node) = node.upgrade() else {
        return gone();
    };
    let view = health_of(&node);
    let status = if view.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(view)).into_response()
}

async fn topics(State(node): State<WeakCluster>) -> Response {
    let Some(node) = node.upgrade() else {
        return gone();
    };
    match node.all_subscriptions().await {
        Ok(subscriptions) => Json(TopicsView::new(subscriptions)).into_response(),
        // Pub/sub stopped, or the loop with it: nothing to list.
        Err(_) => Json(TopicsView::new(Vec::new())).into_response(),
    }
}

async fn info(State(node): State<WeakCluster>) -> Response {
    let Some(node) = node.upgrade() else {
        return gone();
    };
    let health = health_of(&node);
    let admin = node.admin_address().map(|a| a.to_string());
    Json(info_view::info(
        &node.address(),
        admin.as_deref(),
        &health,
        &node.metrics(),
    ))
    .into_response()
}
