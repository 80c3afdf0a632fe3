//! `members`, `info`, `topics`: ask a running node's admin endpoint (`node --metrics-addr
//! ADDR`) over HTTP and print its answer — aligned columns like `serf members`, or the
//! endpoint's JSON as it is with `--json`.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

/// How long a command waits for the endpoint.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Arguments of `members`, `info` and `topics`.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    /// The node's admin endpoint: HOST:PORT (its `--metrics-addr`) or an http:// URL.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9100")]
    admin: String,
    /// Print the endpoint's JSON answer on one line instead of a table.
    #[arg(long)]
    json: bool,
}

/// Why a command got no answer it could print.
#[derive(Debug)]
enum AdminError {
    /// No HTTP answer at all.
    Unreachable { url: String, reason: String },
    /// An answer other than 200.
    Status { url: String, status: u16 },
    /// An answer that is not the JSON the endpoint gives.
    NotJson { url: String, reason: String },
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable { url, reason } => write!(
                f,
                "cannot reach the admin endpoint at {url}: {reason} (is the node running with --metrics-addr?)"
            ),
            Self::Status { url, status } => {
                write!(f, "the admin endpoint answered {url} with HTTP {status}")
            }
            Self::NotJson { url, reason } => {
                write!(
                    f,
                    "the answer of {url} is not the endpoint's JSON: {reason}"
                )
            }
        }
    }
}

/// `members`: the node's topology and the members it blocked.
pub(crate) fn members(args: &AdminArgs) -> ExitCode {
    run(args, "/members", members_table)
}

/// `info`: who the node is, and all its figures.
pub(crate) fn info(args: &AdminArgs) -> ExitCode {
    run(args, "/info", |info| {
        let mut out = String::new();
        outline(&mut out, info, 0);
        out
    })
}

/// `topics`: the subscriptions of the node's registry per topic and group.
pub(crate) fn topics(args: &AdminArgs) -> ExitCode {
    run(args, "/topics", topics_table)
}

fn run(args: &AdminArgs, path: &str, table: fn(&Value) -> String) -> ExitCode {
    match fetch(&args.admin, path) {
        Ok((body, value)) => {
            if args.json {
                println!("{}", body.trim_end());
            } else {
                print!("{}", table(&value));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The URL of `path` on the endpoint `admin`.
fn url(admin: &str, path: &str) -> String {
    let base = admin.trim_end_matches('/');
    if base.starts_with("http://") || base.starts_with("https://") {
        format!("{base}{path}")
    } else {
        format!("http://{base}{path}")
    }
}

/// GETs `path`: the body as it came, and parsed.
fn fetch(admin: &str, path: &str) -> Result<(String, Value), AdminError> {
    let url = url(admin, path);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    let mut response = agent
        .get(&url)
        .call()
        .map_err(|e| AdminError::Unreachable {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(AdminError::Status { url, status });
    }
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| AdminError::Unreachable {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let value = serde_json::from_str(&body).map_err(|e| AdminError::NotJson {
        url,
        reason: e.to_string(),
    })?;
    Ok((body, value))
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// `120ms`, `3.4s`, `-` when not known.
fn ago(value: &Value) -> String {
    match value.as_u64() {
        Some(ms) if ms < 1_000 => format!("{ms}ms"),
        Some(ms) => format!("{:.1}s", ms as f64 / 1_000.0),
        None => "-".to_string(),
    }
}

fn members_table(body: &Value) -> String {
    let rows: Vec<Vec<String>> = body["members"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let mut name = text(&m["name"]);
            if m["self"] == true {
                name.push_str(" (self)");
            }
            vec![
                name,
                text(&m["address"]),
                text(&m["status"]),
                text(&m["incarnation"]),
                ago(&m["last_heard_ms"]),
            ]
        })
        .collect();
    aligned(
        &["NAME", "ADDRESS", "STATUS", "INCARNATION", "LAST HEARD"],
        &rows,
    )
}

fn topics_table(body: &Value) -> String {
    let mut rows = Vec::new();
    let none = Vec::new();
    for topic in body["topics"].as_array().unwrap_or(&none) {
        let name = text(&topic["topic"]);
        let row = |group: &str, s: &Value| {
            vec![
                name.clone(),
                group.to_string(),
                format!("{}#{}", text(&s["member"]), text(&s["incarnation"])),
                text(&s["subscriber"]),
                text(&s["max_in_flight"]),
            ]
        };
        for s in topic["broadcast"].as_array().unwrap_or(&none) {
            rows.push(row("-", s));
        }
        for group in topic["groups"].as_array().unwrap_or(&none) {
            let group_name = text(&group["group"]);
            for s in group["instances"].as_array().unwrap_or(&none) {
                rows.push(row(&group_name, s));
            }
        }
    }
    aligned(
        &["TOPIC", "GROUP", "MEMBER", "SUBSCRIBER", "MAX IN FLIGHT"],
        &rows,
    )
}

/// A JSON object as an indented outline: `key = value`, nested objects under their key.
fn outline(out: &mut String, value: &Value, depth: usize) {
    let Some(object) = value.as_object() else {
        return;
    };
    let indent = "  ".repeat(depth);
    for (key, value) in object {
        match value {
            Value::Object(_) => {
                let _ = writeln!(out, "{indent}{key}:");
                outline(out, value, depth + 1);
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(Value::to_string).collect();
                let _ = writeln!(out, "{indent}{key} = [{}]", items.join(", "));
            }
            other => {
                let _ = writeln!(out, "{indent}{key} = {}", text(other));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{members_table, topics_table, url};

    #[test]
    fn an_address_or_a_url_names_the_endpoint() {
        assert_eq!(
            url("127.0.0.1:9100", "/members"),
            "http://127.0.0.1:9100/members"
        );
        assert_eq!(url("http://h:1/", "/info"), "http://h:1/info");
    }

    #[test]
    fn members_print_as_aligned_columns_with_the_node_itself_marked() {
        let body = json!({"members": [
            {"name": "a", "incarnation": 1, "address": "127.0.0.1:7000", "status": "alive",
             "self": true, "last_heard_ms": 12},
            {"name": "bravo", "incarnation": 22, "address": null, "status": "blocked",
             "self": false, "last_heard_ms": null},
        ]});
        let table = members_table(&body);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].starts_with("NAME"));
        assert!(
            lines[1].starts_with("a (self)  127.0.0.1:7000  alive"),
            "{table}"
        );
        assert!(
            lines[2].starts_with("bravo     -               blocked"),
            "{table}"
        );
        let column = |line: &str| line.find("INCARNATION").or_else(|| line.find("22"));
        assert_eq!(
            column(lines[0]),
            column(lines[2]),
            "columns line up: {table}"
        );
        assert!(lines[1].ends_with("12ms"));
    }

    #[test]
    fn topics_print_one_row_per_subscriber() {
        let s = |m: &str| json!({"member": m, "incarnation": 1, "subscriber": "s1", "max_in_flight": 1});
        let body = json!({"topics": [{"topic": "jobs", "subscriptions": 2,
            "broadcast": [s("a")], "groups": [{"group": "w", "instances": [s("b")]}]}]});
        let table = topics_table(&body);
        assert_eq!(table.lines().count(), 3, "{table}");
        assert!(table.contains("jobs   -      a#1"), "{table}");
        assert!(table.contains("jobs   w      b#1"), "{table}");
    }
}
