//! N node processes (this bench binary, re-run with `--child`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::child::now_us;
use super::{Figures, STEP_LIMIT};

struct Process {
    child: Child,
    stdin: Option<ChildStdin>,
    id: String,
    address: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line every child printed, tagged with the child's index.
struct Lines {
    receiver: mpsc::Receiver<(usize, Value)>,
    sender: mpsc::Sender<(usize, Value)>,
    seen: Vec<(usize, Value)>,
}

impl Lines {
    fn new() -> Self {
        let (sender, receiver) = mpsc::channel();
        Self {
            receiver,
            sender,
            seen: Vec::new(),
        }
    }

    fn spawn(
        &self,
        index: usize,
        name: &str,
        cluster: &str,
        seed: Option<&str>,
    ) -> Result<Process, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        command.args(["--child", "--name", name, "--cluster", cluster]);
        if let Some(seed) = seed {
            command.args(["--seed", seed]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn {name}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        let sender = self.sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && sender.send((index, v)).is_err()
                {
                    return;
                }
            }
        });
        Ok(Process {
            child,
            stdin,
            id: String::new(),
            address: String::new(),
        })
    }

    /// Reads lines until `done` holds over everything read; bounded by the step limit.
    fn until(
        &mut self,
        what: &str,
        done: impl Fn(&[(usize, Value)]) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + STEP_LIMIT;
        while !done(&self.seen) {
            let left = deadline
                .checked_duration_since(Instant::now())
                .ok_or_else(|| format!("{what} took more than {STEP_LIMIT:?}"))?;
            match self
                .receiver
                .recv_timeout(left.min(Duration::from_millis(100)))
            {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err("children gone".into()),
            }
        }
        Ok(())
    }
}

fn t(v: &Value) -> u64 {
    v["t"].as_u64().unwrap_or(0)
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The time each of `nodes` first printed a line matching `want` after `since`, if all did.
fn first_times(
    seen: &[(usize, Value)],
    nodes: &[usize],
    since: u64,
    want: impl Fn(&Value) -> bool,
) -> Option<Vec<u64>> {
    nodes
        .iter()
        .map(|i| {
            seen.iter()
                .filter(|(j, v)| j == i && t(v) >= since && want(v))
                .map(|(_, v)| t(v))
                .min()
        })
        .collect()
}

fn ms(from: u64, to: u64) -> f64 {
    to.saturating_sub(from) as f64 / 1000.0
}

/// The last metrics line of node `i` at or before `at`.
fn metrics_at(seen: &[(usize, Value)], i: usize, at: u64) -> Option<&Value> {
    seen.iter()
        .rev()
        .find(|(j, v)| *j == i && v["event"] == "metrics" && t(v) <= at)
        .map(|(_, v)| v)
}

pub(crate) fn run(n: usize, run: usize, idle_secs: u64) -> Result<Figures, String> {
    let cluster = format!("bench-proc-{n}-{run}");
    let mut lines = Lines::new();
    let start = now_us();
    let mut procs = vec![lines.spawn(0, "n0", &cluster, None)?];
    lines.until("the first node starting", |seen| {
        seen.iter().any(|(i, v)| *i == 0 && v["event"] == "started")
    })?;
    let started = |seen: &[(usize, Value)], i: usize| {
        seen.iter()
            .find(|(j, v)| *j == i && v["event"] == "started")
            .map(|(_, v)| v.clone())
    };
    if let Some(v) = started(&lines.seen, 0) {
        procs[0].address = v["address"].as_str().unwrap_or_default().to_string();
    }
    let seed = procs[0].address.clone();
    for i in 1..n {
        procs.push(lines.spawn(i, &format!("n{i}"), &cluster, Some(&seed))?);
    }
    lines.until("every node starting", |seen| {
        (0..n).all(|i| started(seen, i).is_some())
    })?;
    for (i, p) in procs.iter_mut().enumerate() {
        if let Some(v) = started(&lines.seen, i) {
            p.id = v["id"].as_str().unwrap_or_default().to_string();
            p.address = v["address"].as_str().unwrap_or_default().to_string();
        }
    }
    let all: Vec<usize> = (0..n).collect();
    let full = |v: &Value| v["event"] == "topology" && strings(v, "members").len() == n;
    lines.until("join", |seen| {
        first_times(seen, &all, start, full).is_some()
    })?;
    let join_ms = ms(
        start,
        first_times(&lines.seen, &all, start, full)
            .unwrap_or_default()
            .into_iter()
            .max()
            .unwrap_or(start),
    );
    // Consensus: each node reports agreement on the hash of the full topology.
    let full_hash = lines
        .seen
        .iter()
        .find(|(_, v)| full(v))
        .map(|(_, v)| v["hash"].clone());
    let agreed = |v: &Value| v["event"] == "consensus" && Some(&v["hash"]) == full_hash.as_ref();
    lines.until("consensus", |seen| {
        first_times(seen, &all, start, agreed).is_some()
    })?;
    let consensus_ms = ms(
        start,
        first_times(&lines.seen, &all, start, agreed)
            .unwrap_or_default()
            .into_iter()
            .max()
            .unwrap_or(start),
    );

    // A key written on node 0.
    let owner = procs[0].id.clone();
    let t_set = now_us();
    if let Some(stdin) = procs[0].stdin.as_mut() {
        writeln!(stdin, "set bench.key v").map_err(|e| e.to_string())?;
    }
    let has_key = |v: &Value| v["event"] == "key" && v["member"].as_str() == Some(owner.as_str());
    lines.until("key dissemination", |seen| {
        first_times(seen, &all, t_set, has_key).is_some()
    })?;
    let key_ms = ms(
        t_set,
        first_times(&lines.seen, &all, t_set, has_key)
            .unwrap_or_default()
            .into_iter()
            .max()
            .unwrap_or(t_set),
    );

    // Idle traffic and memory, from the children's counters.
    std::thread::sleep(Duration::from_secs(1));
    let a = now_us();
    std::thread::sleep(Duration::from_secs(idle_secs));
    let b = now_us();
    lines.until("idle window counters", |seen| {
        (0..n).all(|i| {
            seen.iter()
                .any(|(j, v)| *j == i && v["event"] == "metrics" && t(v) >= b)
        })
    })?;
    let (mut out, mut inb, mut rss, mut secs) = (0.0, 0.0, 0.0, 0.0);
    for i in 0..n {
        let (Some(x), Some(y)) = (metrics_at(&lines.seen, i, a), metrics_at(&lines.seen, i, b))
        else {
            return Err(format!("no counters from n{i}"));
        };
        out += (y["bytes_out"].as_u64().unwrap_or(0) - x["bytes_out"].as_u64().unwrap_or(0)) as f64;
        inb += (y["bytes_in"].as_u64().unwrap_or(0) - x["bytes_in"].as_u64().unwrap_or(0)) as f64;
        rss += y["rss_kib"].as_u64().unwrap_or(0) as f64;
        secs += ms(t(x), t(y)) / 1000.0;
    }
    let secs = secs / n as f64;
    let idle_out_bps = out / secs / n as f64;
    let idle_in_bps = inb / secs / n as f64;
    let rss_kib_per_node = rss / n as f64;

    // A crash: SIGKILL the last node.
    let victim = procs.pop().ok_or("no victim")?;
    let victim_id = victim.id.clone();
    let survivors: Vec<usize> = (0..n - 1).collect();
    let t_kill = now_us();
    drop(victim);
    let without =
        |id: String| move |v: &Value| v["event"] == "topology" && strings(v, "left").contains(&id);
    let crashed = without(victim_id.clone());
    lines.until("crash detection", |seen| {
        first_times(seen, &survivors, t_kill, &crashed).is_some()
    })?;
    let crash_ms = ms(
        t_kill,
        first_times(&lines.seen, &survivors, t_kill, &crashed)
            .unwrap_or_default()
            .into_iter()
            .max()
            .unwrap_or(t_kill),
    );

    // A graceful leave of the new last node.
    let mut leaver = procs.pop().ok_or("no leaver")?;
    let leaver_id = leaver.id.clone();
    let remaining: Vec<usize> = (0..n - 2).collect();
    let t_leave = now_us();
    if let Some(stdin) = leaver.stdin.as_mut() {
        writeln!(stdin, "leave").map_err(|e| e.to_string())?;
    }
    let gone = without(leaver_id.clone());
    lines.until("leave", |seen| {
        first_times(seen, &remaining, t_leave, &gone).is_some()
    })?;
    let leave_ms = ms(
        t_leave,
        first_times(&lines.seen, &remaining, t_leave, &gone)
            .unwrap_or_default()
            .into_iter()
            .max()
            .unwrap_or(t_leave),
    );

    let false_positives = lines
        .seen
        .iter()
        .filter(|(_, v)| v["event"] == "topology")
        .flat_map(|(_, v)| strings(v, "left"))
        .filter(|id| *id != victim_id && *id != leaver_id)
        .count();
    drop(leaver);
    drop(procs);
    Ok(Figures {
        mode: "processes",
        nodes: n,
        run,
        join_ms,
        consensus_ms,
        key_ms,
        crash_ms,
        false_positives,
        leave_ms,
        idle_out_bps,
        idle_in_bps,
        rss_kib_per_node,
    })
}
