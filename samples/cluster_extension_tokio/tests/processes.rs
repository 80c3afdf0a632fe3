//! Three node processes on 127.0.0.1: one is killed with SIGKILL and the others report it
//! left and blocked; another gets SIGTERM, leaves gracefully, exits 0, and the last one
//! reports it left. SIGINT works as SIGTERM does; a taken address fails the start; a node
//! started with `--subscribe` prints what an in-process node publishes; a hostile peer's
//! refused handshake and undecodable frame are logged on stderr while stdout stays JSON
//! Lines. Every process is stopped, every wait bounded.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cluster_extension_tokio");
const LIMIT: Duration = Duration::from_secs(20);

/// A node process and the JSON events it printed.
struct Node {
    name: String,
    child: Child,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Node {
    fn spawn(name: &str, seeds: &[String]) -> Self {
        Self::spawn_with(name, seeds, &[])
    }

    fn spawn_with(name: &str, seeds: &[String], extra: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command.args([
            "node",
            "--name",
            name,
            "--bind",
            "127.0.0.1:0",
            "--json",
            "--cluster",
            "proc-test",
        ]);
        for seed in seeds {
            command.args(["--seed", seed]);
        }
        command.args(extra);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the node binary");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && sender.send(value).is_err()
                {
                    return;
                }
            }
        });
        Self {
            name: name.to_string(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for an event matching `want`, keeping every event read.
    fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|v| want(v)) {
            return found.clone();
        }
        let deadline = Instant::now() + LIMIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(value) => {
                    self.seen.push(value.clone());
                    if want(&value) {
                        return value;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "{}: no {what} within {LIMIT:?}; saw {:?}",
            self.name, self.seen
        );
    }

    fn address(&mut self) -> String {
        let startup = self.wait_for("Startup", |v| v["event"] == "Startup");
        startup["address"].as_str().unwrap().to_string()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn names(value: &Value, field: &str) -> Vec<String> {
    value[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn topology_with(members: usize) -> impl Fn(&Value) -> bool {
    move |v| v["event"] == "TopologyUpdated" && names(v, "members").len() == members
}

#[test]
fn killed_and_terminated_node_processes_are_reported_by_the_others() {
    let mut a = Node::spawn("a", &[]);
    let seed = vec![a.address()];
    let mut b = Node::spawn("b", &seed);
    let mut c = Node::spawn("c", &seed);
    for node in [&mut a, &mut b, &mut c] {
        node.wait_for("a topology of three", topology_with(3));
    }

    // kill -9 c: a and b detect it and report it as left and blocked.
    c.signal("-KILL");
    for node in [&mut a, &mut b] {
        let update = node.wait_for("c gone", |v| {
            v["event"] == "TopologyUpdated" && names(v, "left").contains(&"c".to_string())
        });
        assert!(
            names(&update, "blocked").contains(&"c".to_string()),
            "{update}"
        );
        assert!(!names(&update, "members").contains(&"c".to_string()));
    }

    // SIGTERM b: it leaves gracefully and exits 0; a reports it left.
    b.signal("-TERM");
    assert_eq!(b.exit_code(), Some(0), "b exits cleanly after SIGTERM");
    b.wait_for("its own Shutdown", |v| v["event"] == "Shutdown");
    let update = a.wait_for("b gone", |v| {
        v["event"] == "TopologyUpdated" && names(v, "left").contains(&"b".to_string())
    });
    assert_eq!(names(&update, "members"), vec!["a".to_string()]);
}

/// Runs the binary with `args` to its end, within `LIMIT` (killed past it); its exit
/// code, stdout and stderr.
fn run_bounded(args: &[&str]) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the node binary");
    // Read both pipes on threads, so that a full pipe cannot stall the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stderr.read_to_end(&mut bytes);
        bytes
    });
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status.code(), out.join().unwrap(), err.join().unwrap())
}

#[test]
fn sigint_makes_a_node_leave_gracefully_too() {
    let mut a = Node::spawn("a", &[]);
    let seed = vec![a.address()];
    let mut b = Node::spawn("b", &seed);
    for node in [&mut a, &mut b] {
        node.wait_for("a topology of two", topology_with(2));
    }
    b.signal("-INT");
    assert_eq!(b.exit_code(), Some(0), "b exits cleanly after SIGINT");
    b.wait_for("its own Shutdown", |v| v["event"] == "Shutdown");
    let update = a.wait_for("b gone", |v| {
        v["event"] == "TopologyUpdated" && names(v, "left").contains(&"b".to_string())
    });
    assert!(
        names(&update, "blocked").contains(&"b".to_string()),
        "{update}"
    );
    assert_eq!(names(&update, "members"), vec!["a".to_string()]);
}

#[test]
fn an_address_in_use_is_reported_as_startup_failed() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    let (code, stdout, _) = run_bounded(&["node", "--name", "x", "--bind", &taken, "--json"]);
    assert_eq!(code, Some(1));
    let line: Value = serde_json::from_slice(&stdout).expect("one JSON line");
    assert_eq!(line["event"], "StartupFailed");
    let reason = line["reason"].as_str().unwrap();
    assert!(reason.contains("address in use"), "{reason}");
}

#[test]
fn the_readable_startup_line_says_where_the_node_listens() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().to_string();
    // A taken address: the node prints why and exits at once.
    let (code, stdout, _) = run_bounded(&["node", "--name", "x", "--bind", &taken]);
    assert_eq!(code, Some(1));
    let text = String::from_utf8_lossy(&stdout);
    assert!(text.contains("address in use"), "{text}");

    let mut child = Command::new(BIN)
        .args(["node", "--name", "r", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the node binary");
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + LIMIT;
    let mut startup = None;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if line.starts_with("started as ") => {
                startup = Some(line);
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let startup = startup.expect("a startup line");
    assert!(startup.starts_with("started as r#"), "{startup}");
    assert!(startup.contains("listening at 127.0.0.1:"), "{startup}");
}

#[test]
fn invalid_arguments_are_refused_with_a_usage_error() {
    let (code, _, stderr) = run_bounded(&["node", "--bind"]);
    assert_eq!(code, Some(2));
    assert!(!stderr.is_empty());
}

#[test]
fn a_subscribed_node_prints_each_delivery_as_a_json_line() {
    let mut subscriber = Node::spawn_with("s", &[], &["--subscribe", "demo.chat"]);
    let seed = subscriber.address();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let publisher = runtime.block_on(async {
        let publisher = chorus_tokio::Cluster::builder()
            .name("p")
            .seed(seed)
            .cluster_name("proc-test")
            .start()
            .await
            .expect("the publisher starts");
        let deadline = tokio::time::Instant::now() + LIMIT;
        while publisher
            .subscriptions("demo.chat")
            .await
            .unwrap()
            .is_empty()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the subscription reaches the publisher"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let ack = publisher
            .publish_one("demo.chat", b"hello".to_vec())
            .await
            .unwrap();
        assert!(ack.is_accepted(), "{ack:?}");
        publisher
    });
    let delivery = subscriber.wait_for("a Delivery", |v| v["event"] == "Delivery");
    assert_eq!(delivery["topic"], "demo.chat");
    assert_eq!(delivery["payload"], "hello");
    assert_eq!(delivery["payload_hex"], "68656c6c6f");
    assert!(
        delivery["publisher"].as_str().unwrap().starts_with("p#"),
        "{delivery}"
    );
    assert!(delivery["group"].is_null());
    runtime.block_on(async {
        let _ = publisher.shutdown().await;
    });
}

/// Reads `pipe` line by line on a thread, sending each line until the pipe closes.
fn lines_of(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// Waits (bounded) for a line of `lines` matching `want`, keeping every line read in
/// `seen`.
fn wait_for_line(
    lines: &mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> String {
    if let Some(found) = seen.iter().find(|l| want(l)) {
        return found.clone();
    }
    let deadline = Instant::now() + LIMIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if want(&line) {
                    return line;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no {what} within {LIMIT:?}; saw:\n{}", seen.join("\n"));
}

/// A child process killed however the test ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A peer that speaks the wire format by hand, with `chorus_core::wire` frames.
struct HostilePeer(std::net::TcpStream);

impl HostilePeer {
    fn connect(address: &str) -> Self {
        let stream = std::net::TcpStream::connect(address).expect("connect to the node");
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        stream.set_write_timeout(Some(LIMIT)).unwrap();
        Self(stream)
    }

    /// Writes `body` behind its 4-byte big-endian length, as the transport frames it.
    fn send_bytes(&mut self, body: &[u8]) {
        use std::io::Write;
        let len = u32::try_from(body.len()).unwrap().to_be_bytes();
        self.0.write_all(&len).unwrap();
        self.0.write_all(body).unwrap();
    }

    fn handshake(&mut self, cluster: &str) -> chorus_core::wire::Frame {
        use chorus_core::wire::{Frame, Handshake, PROTOCOL_VERSION};
        self.send_bytes(
            &Frame::Handshake(Handshake {
                cluster: cluster.to_string(),
                protocol_version: PROTOCOL_VERSION,
                member: chorus_core::topology::MemberId::new("hostile", 1),
                address: "127.0.0.1:9".to_string(),
            })
            .encode(),
        );
        let mut len = [0u8; 4];
        self.0.read_exact(&mut len).expect("a handshake answer");
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        self.0.read_exact(&mut body).expect("a handshake answer");
        Frame::decode(&body, 1 << 20).expect("an answer the wire types read")
    }

    /// Whether the node closed the connection (bounded by the read timeout).
    fn closed_by_node(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.0.read(&mut byte), Ok(0) | Err(_))
    }
}

#[test]
fn a_refused_handshake_and_a_decode_error_are_logged_on_stderr_and_stdout_stays_json() {
    use chorus_core::wire::{Frame, HandshakeRefusal, PROTOCOL_VERSION};

    let mut child = Command::new(BIN)
        .args([
            "node",
            "--name",
            "logged",
            "--bind",
            "127.0.0.1:0",
            "--json",
            "--cluster",
            "proc-test",
        ])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the node binary");
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let child = Killed(child);
    let (mut out, mut err) = (Vec::new(), Vec::new());

    let startup = wait_for_line(&stdout, &mut out, "Startup", |l| l.contains("\"Startup\""));
    let startup: Value = serde_json::from_str(&startup).unwrap();
    let address = startup["address"].as_str().unwrap().to_string();

    // (1) A handshake for another cluster: refused, with the reason, on both sides.
    let mut foreign = HostilePeer::connect(&address);
    let answer = foreign.handshake("elsewhere");
    assert!(
        matches!(
            &answer,
            Frame::HandshakeRefused(HandshakeRefusal::WrongCluster { got, .. }) if got == "elsewhere"
        ),
        "{answer:?}"
    );
    let refusal = wait_for_line(&stderr, &mut err, "a logged refusal", |l| {
        l.contains("handshake refused") && l.contains("cluster mismatch")
    });
    assert!(refusal.contains("WARN"), "{refusal}");
    assert!(refusal.contains("\"elsewhere\""), "{refusal}");
    // The connection's span names the peer's address.
    assert!(refusal.contains("inbound{peer=127.0.0.1:"), "{refusal}");

    // (2) A valid handshake, then a length-prefixed frame of garbage.
    let mut garbage = HostilePeer::connect(&address);
    let answer = garbage.handshake("proc-test");
    assert!(matches!(answer, Frame::HandshakeAccepted(_)), "{answer:?}");
    garbage.send_bytes(&[PROTOCOL_VERSION, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert!(
        garbage.closed_by_node(),
        "a frame it cannot read closes the connection"
    );
    let decode = wait_for_line(&stderr, &mut err, "a logged decode error", |l| {
        l.contains("decode error") && l.contains("reason=")
    });
    assert!(decode.contains("WARN"), "{decode}");
    // The span carries the member the handshake named.
    assert!(decode.contains("member=hostile#1"), "{decode}");

    // Stop the node, read stdout to its end: every line is JSON, the refusal among them.
    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + LIMIT;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match stdout.recv_timeout(left) {
            Ok(line) => out.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("stdout still open after {LIMIT:?}"),
        }
    }
    let events: Vec<Value> = out
        .iter()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
        })
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "HandshakeFailed"
            && e["reason"]
                .as_str()
                .unwrap_or("")
                .contains("cluster mismatch")),
        "{out:?}"
    );
    assert!(events.iter().any(|e| e["event"] == "Shutdown"), "{out:?}");
}

/// Writes `text` to a file of this test run's temporary directory; its path.
fn config_file(name: &str, text: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).expect("write the configuration file");
    path.to_str().unwrap().to_string()
}

#[test]
fn flags_override_the_config_file_and_a_bad_key_stops_the_node_with_status_2() {
    let good = config_file(
        "node-config-good",
        "name = \"from-file\"\ncluster_name = \"filed\"\nseeds = [\"127.0.0.1:1\"]\n\n\
         [gossip]\ngossip_interval = \"500ms\"\nheartbeat_expiration = \"4s\"\n",
    );
    let (code, stdout, stderr) = run_bounded(&[
        "node",
        "--config",
        &good,
        "--name",
        "from-flag",
        "--seed",
        "127.0.0.1:2",
        "--print-config",
    ]);
    let printed = String::from_utf8(stdout).unwrap();
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&stderr));
    let lines: Vec<&str> = printed.lines().collect();
    // The flags won; what they did not name is the file's; the rest, the defaults.
    assert!(lines.contains(&"name = \"from-flag\""), "{printed}");
    assert!(lines.contains(&"cluster_name = \"filed\""), "{printed}");
    assert!(lines.contains(&"gossip_interval = \"500ms\""), "{printed}");
    assert!(lines.contains(&"fan_out = 1"), "{printed}");
    assert!(printed.contains("\"127.0.0.1:2\""), "{printed}");
    assert!(
        !printed.contains("127.0.0.1:1\""),
        "--seed replaces the file's seeds: {printed}"
    );
    assert!(!printed.contains("from-file"), "{printed}");
    chorus_tokio::NodeConfig::from_toml(&printed).expect("the printout reads back");

    let bad = config_file(
        "node-config-bad",
        "name = \"x\"\n\n[gossip]\ngossip_intervall = \"250ms\"\n",
    );
    let (code, stdout, stderr) = run_bounded(&["node", "--config", &bad, "--json"]);
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("gossip.gossip_intervall"), "{stderr}");
    assert!(
        stderr.contains(&bad),
        "the message names the file: {stderr}"
    );
    assert!(stdout.is_empty(), "the node did not start: {stdout:?}");

    let duration = config_file(
        "node-config-duration",
        "[transport]\nconnect_timeout = \"2 parsecs\"\n",
    );
    let (code, _, stderr) = run_bounded(&["node", "--config", &duration, "--print-config"]);
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("transport.connect_timeout"), "{stderr}");

    let (code, stdout, stderr) = run_bounded(&["node", "--config", "/nonexistent/node.toml"]);
    let stderr = String::from_utf8_lossy(&stderr);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/node.toml"), "{stderr}");
    assert!(stdout.is_empty());

    for path in [good, bad, duration] {
        let _ = std::fs::remove_file(path);
    }
}

/// A GET on a node process's admin endpoint: its status and body, `None` while nothing
/// answers.
fn http_get(address: &str, path: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut response = agent.get(format!("http://{address}{path}")).call().ok()?;
    let status = response.status().as_u16();
    Some((status, response.body_mut().read_to_string().ok()?))
}

/// The value of the unlabelled sample `name` in a Prometheus text body.
fn prometheus_sample(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The `name#incarnation` of every member a `/members` body lists.
fn listed_members(body: &Value) -> std::collections::BTreeSet<String> {
    body["members"]
        .as_array()
        .expect("a members array")
        .iter()
        .map(|m| format!("{}#{}", m["name"].as_str().unwrap(), m["incarnation"]))
        .collect()
}

#[test]
fn a_node_with_a_config_file_and_metrics_addr_serves_its_admin_endpoint_and_the_members_command_reads_it()
 {
    let admin = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().to_string()
    };
    // Settings from a file (its kinds show in /members), the listener from a flag.
    let config = config_file(
        "node-config-admin",
        "kinds = [\"billing\"]\n\n[gossip]\ngossip_interval = \"200ms\"\n",
    );
    let mut a = Node::spawn_with("a", &[], &["--config", &config, "--metrics-addr", &admin]);
    let seed = vec![a.address()];
    let mut b = Node::spawn("b", &seed);
    a.wait_for("a topology of two", topology_with(2));
    b.wait_for("a topology of two", topology_with(2));

    // /metrics: two members, and byte counters that move between two scrapes.
    let scrape = || http_get(&admin, "/metrics").filter(|(status, _)| *status == 200);
    let deadline = Instant::now() + LIMIT;
    let first = loop {
        match scrape() {
            Some((_, text)) if prometheus_sample(&text, "chorus_members") == Some(2) => break text,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            other => panic!("no scrape with two members within {LIMIT:?}: {other:?}"),
        }
    };
    let sent = prometheus_sample(&first, "chorus_bytes_sent_total{kind=\"gossip\"}").unwrap();
    let received =
        prometheus_sample(&first, "chorus_bytes_received_total{kind=\"gossip\"}").unwrap();
    let moved = loop {
        let (_, text) = scrape().expect("the endpoint still answers");
        let now_sent =
            prometheus_sample(&text, "chorus_bytes_sent_total{kind=\"gossip\"}").unwrap();
        let now_received =
            prometheus_sample(&text, "chorus_bytes_received_total{kind=\"gossip\"}").unwrap();
        if now_sent > sent && now_received > received {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(moved, "gossip moves the byte counters between scrapes");

    // /members and /health.
    let (status, body) = http_get(&admin, "/members").unwrap();
    assert_eq!(status, 200);
    let members: Value = serde_json::from_str(&body).unwrap();
    let listed = listed_members(&members);
    let names: Vec<String> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["a".to_string(), "b".to_string()], "{body}");
    assert_eq!(
        members["members"][0]["kinds"],
        serde_json::json!(["billing"]),
        "a runs with its file's settings: {body}"
    );
    let (status, health) = http_get(&admin, "/health").unwrap();
    assert_eq!(status, 200, "{health}");

    // The CLI reads the same members from the same endpoint.
    let (code, stdout, stderr) = run_bounded(&["members", "--admin", &admin, "--json"]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&stderr));
    let printed: Value = serde_json::from_slice(&stdout).expect("members --json prints JSON");
    assert_eq!(listed_members(&printed), listed);
    let (code, stdout, _) = run_bounded(&["members", "--admin", &admin]);
    assert_eq!(code, Some(0));
    let table = String::from_utf8(stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two members: {table}");
    assert!(
        rows[1].starts_with("a (self)") && rows[2].starts_with('b'),
        "{table}"
    );
    assert!(rows.iter().skip(1).all(|r| r.contains("alive")), "{table}");

    // Nothing listening: the command says so and fails.
    drop(a);
    let (code, _, stderr) = run_bounded(&["members", "--admin", &admin]);
    assert_eq!(code, Some(1));
    assert!(
        String::from_utf8_lossy(&stderr).contains("cannot reach the admin endpoint"),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
}
