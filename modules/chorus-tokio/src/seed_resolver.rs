//! Seeds given by name (`chorus.default.svc:7000`): the driver looks them up — the core
//! does no I/O — and hands the node every address they resolve to, again and again while
//! the node is alone, so that a Kubernetes headless service or a round-robin DNS record
//! can serve as the seed list.

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chorus_core::cluster::ClusterEvent;
use chorus_core::event_stream::EventStream;
use futures_util::future::{BoxFuture, join_all};
use tokio::sync::watch;

use crate::GossipHandle;

/// The shortest time between two resolutions while the node knows no peer: every gossip
/// round, but not more often than this.
pub(crate) const MIN_ALONE_INTERVAL: Duration = Duration::from_secs(1);

/// The time between two resolutions once the node knows a peer: the seeds then only serve
/// the seed probes that find the other side of a healed partition.
pub(crate) const JOINED_INTERVAL: Duration = Duration::from_secs(30);

/// How long one lookup may take before it counts as failed.
pub(crate) const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Looks a seed up: every socket address a `HOST:PORT` resolves to.
pub(crate) trait SeedLookup: Send + Sync + fmt::Debug {
    /// The addresses `seed` resolves to now.
    fn lookup(&self, seed: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>>;
}

/// The system's resolver (`tokio::net::lookup_host`: `getaddrinfo` on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemLookup;

impl SeedLookup for SystemLookup {
    fn lookup(&self, seed: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host(seed).await?.collect()) })
    }
}

/// The seed list of one node: addresses (`IP:PORT`) as given, and names looked up on
/// each [`resolve`](Self::resolve).
#[derive(Debug)]
pub(crate) struct SeedResolver {
    seeds: Vec<Seed>,
    lookup: Arc<dyn SeedLookup>,
    /// That no seed resolves was reported, and none has resolved since.
    none_reported: bool,
}

#[derive(Debug)]
enum Seed {
    /// An `IP:PORT` seed, used as given.
    Address(String),
    /// A `HOST:PORT` seed: the addresses of its last successful lookup, and the error of
    /// the lookups that failed since (reported once per distinct error).
    Name {
        name: String,
        addresses: Vec<String>,
        failure: Option<String>,
    },
}

/// What a resolution found worth telling an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SeedReport {
    /// `seed` resolves to `addresses`: the first time, or to other ones than before.
    Resolved {
        seed: String,
        addresses: Vec<String>,
    },
    /// `seed` did not resolve; the node keeps the `kept` addresses it last resolved to.
    /// Reported once per distinct error.
    Failed {
        seed: String,
        error: String,
        kept: usize,
    },
    /// No seed resolves to any address: the node stays alone and keeps trying.
    NoneResolves { seeds: usize },
}

impl SeedReport {
    /// Logs the report: a failure is a warning, a resolution news.
    pub(crate) fn log(&self) {
        match self {
            Self::Resolved { seed, addresses } => {
                tracing::info!(seed, ?addresses, "seed resolved");
            }
            Self::Failed { seed, error, kept } => {
                tracing::warn!(
                    seed,
                    error,
                    kept_addresses = kept,
                    "seed does not resolve: check the name; it is looked up again while the node is alone"
                );
            }
            Self::NoneResolves { seeds } => {
                tracing::warn!(
                    seeds,
                    "no seed resolves to an address: the node stays alone until one does"
                );
            }
        }
    }
}

impl SeedResolver {
    /// The seed list `seeds` (`IP:PORT` or `HOST:PORT` each), names looked up with
    /// `lookup`.
    pub(crate) fn new(seeds: &[String], lookup: Arc<dyn SeedLookup>) -> Self {
        let seeds = seeds
            .iter()
            .map(|seed| {
                if seed.parse::<SocketAddr>().is_ok() {
                    Seed::Address(seed.clone())
                } else {
                    Seed::Name {
                        name: seed.clone(),
                        addresses: Vec::new(),
                        failure: None,
                    }
                }
            })
            .collect();
        Self {
            seeds,
            lookup,
            none_reported: false,
        }
    }

    /// Whether some seed is a name, which needs looking up.
    pub(crate) fn has_names(&self) -> bool {
        self.seeds.iter().any(|s| matches!(s, Seed::Name { .. }))
    }

    /// The addresses to contact: the `IP:PORT` seeds and what the names last resolved to,
    /// in the order given, each once.
    pub(crate) fn addresses(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for seed in &self.seeds {
            let addresses = match seed {
                Seed::Address(address) => std::slice::from_ref(address),
                Seed::Name { addresses, .. } => addresses.as_slice(),
            };
            for address in addresses {
                if !all.contains(address) {
                    all.push(address.clone());
                }
            }
        }
        all
    }

    /// Looks every name up again (at once, each bounded by [`LOOKUP_TIMEOUT`]) and
    /// returns what changed: names that resolve to other addresses, failures not reported
    /// yet. A name that fails keeps its last addresses: a DNS hiccup does not empty the
    /// seed list.
    pub(crate) async fn resolve(&mut self) -> Vec<SeedReport> {
        let lookups = self.seeds.iter().filter_map(|seed| match seed {
            Seed::Name { name, .. } => {
                let lookup = self.lookup.lookup(name.clone());
                Some(async move {
                    match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
                        Ok(Ok(found)) if found.is_empty() => {
                            Err("it resolves to no address".to_string())
                        }
                        Ok(Ok(found)) => Ok(found),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs())),
                    }
                })
            }
            Seed::Address(_) => None,
        });
        let mut results = join_all(lookups).await.into_iter();
        let mut reports = Vec::new();
        for seed in &mut self.seeds {
            let Seed::Name {
                name,
                addresses,
                failure,
            } = seed
            else {
                continue;
            };
            let Some(result) = results.next() else {
                break;
            };
            match result {
                Ok(found) => {
                    // Sorted: a round-robin record answers in another order each time,
                    // which is no change.
                    let mut found: Vec<String> = found.iter().map(ToString::to_string).collect();
                    found.sort();
                    found.dedup();
                    *failure = None;
                    if *addresses != found {
                        *addresses = found;
                        reports.push(SeedReport::Resolved {
                            seed: name.clone(),
                            addresses: addresses.clone(),
                        });
                    }
                }
                Err(error) => {
                    if failure.as_ref() != Some(&error) {
                        reports.push(SeedReport::Failed {
                            seed: name.clone(),
                            error: error.clone(),
                            kept: addresses.len(),
                        });
                        *failure = Some(error);
                    }
                }
            }
        }
        if self.addresses().is_empty() {
            if !self.none_reported {
                self.none_reported = true;
                reports.push(SeedReport::NoneResolves {
                    seeds: self.seeds.len(),
                });
            }
        } else {
            self.none_reported = false;
        }
        reports
    }

    /// Resolves the names at once and then again and again — every `alone_interval` while
    /// the node knows no peer (as `TopologyUpdated` on `events` tells), every
    /// [`JOINED_INTERVAL`] once it does — and hands the node each new address list.
    /// `given` is the list the node was created with. Runs until its task is aborted.
    pub(crate) async fn run(
        mut self,
        given: Vec<String>,
        gossip: GossipHandle,
        events: EventStream<ClusterEvent>,
        alone_interval: Duration,
    ) {
        let (alone_sender, mut alone) = watch::channel(true);
        let _topology = events.subscribe(move |event| {
            if let ClusterEvent::TopologyUpdated(topology) = event {
                let now_alone = topology.members().len() <= 1;
                alone_sender.send_if_modified(|was| std::mem::replace(was, now_alone) != now_alone);
            }
        });
        let mut handed = given;
        loop {
            for report in self.resolve().await {
                report.log();
            }
            let addresses = self.addresses();
            if addresses != handed && gossip.set_seeds(addresses.clone()).await {
                tracing::debug!(seeds = ?addresses, "seed addresses handed to the node");
                handed = addresses;
            }
            let wait = if *alone.borrow_and_update() {
                alone_interval
            } else {
                JOINED_INTERVAL
            };
            // A node that finds itself alone again looks up at once.
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                Ok(()) = alone.changed() => {}
            }
        }
    }
}

/// The time between two resolutions while the node is alone: a gossip round, at least
/// [`MIN_ALONE_INTERVAL`].
pub(crate) fn alone_interval(gossip_interval_ms: u64) -> Duration {
    Duration::from_millis(gossip_interval_ms).max(MIN_ALONE_INTERVAL)
}

/// A lookup answering from a table (tests): a seed missing from it does not resolve.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct TableLookup {
    answers: std::sync::Mutex<std::collections::HashMap<String, Result<Vec<SocketAddr>, String>>>,
    /// Lookups made so far.
    pub(crate) lookups: std::sync::atomic::AtomicUsize,
}

#[cfg(test)]
impl TableLookup {
    /// From now on `seed` resolves to `answer` (`Err`: fails with that message).
    pub(crate) fn answer(&self, seed: &str, answer: Result<Vec<SocketAddr>, &str>) {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(seed.to_string(), answer.map_err(str::to_string));
    }
}

#[cfg(test)]
impl SeedLookup for TableLookup {
    fn lookup(&self, seed: String) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answers = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let answer = match answers.get(&seed) {
            Some(Ok(found)) => Ok(found.clone()),
            Some(Err(e)) => Err(io::Error::other(e.clone())),
            None => Err(io::Error::other(format!("{seed}: unknown host"))),
        };
        Box::pin(std::future::ready(answer))
    }
}
