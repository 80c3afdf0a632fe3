#!/usr/bin/env bash
# The one command that checks everything: format, lints, the no_std build, tests, docs and
# the samples. Prints each step and stops at the first failure with a non-zero exit.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One target directory for every step, so nothing is built twice.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

EMBEDDED_TARGET=thumbv7em-none-eabihf
started=$(date +%s)

step() {
    local name=$1
    shift
    local t0
    t0=$(date +%s)
    echo "==> ${name}"
    echo "    \$ $*"
    if ! "$@"; then
        echo "FAILED: ${name}" >&2
        exit 1
    fi
    echo "    ok (${name}, $(($(date +%s) - t0)) s)"
}

ensure_embedded_target() {
    if ! rustup target list --installed | grep -qx "${EMBEDDED_TARGET}"; then
        rustup target add "${EMBEDDED_TARGET}"
    fi
}

ensure_rust_components() {
    local missing=()
    cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
    if [ ${#missing[@]} -gt 0 ]; then
        rustup component add "${missing[@]}"
    fi
}

# Functions run under `if !`, where `set -e` does not apply: every command is chained
# with `&&` so that the first failure is the function's result.
run_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --cargo-profile ci --no-fail-fast &&
            # nextest does not run doctests.
            cargo test --workspace --doc --profile ci
    else
        cargo test --workspace --profile ci
    fi
}

run_samples() {
    cargo run --profile ci -q -p cluster_extension_no_std &&
        # The demo cluster: three nodes on loopback; it fails (non-zero) if a step stalls.
        cargo run --profile ci -q -p cluster_extension_tokio -- demo &&
        # The chorus-tokio examples: each ends within seconds, non-zero if it fails.
        cargo run --profile ci -q -p chorus-tokio --example two_nodes_broadcast &&
        cargo run --profile ci -q -p chorus-tokio --example worker_group &&
        cargo run --profile ci -q -p chorus-tokio --example actor_loop
}

build_benches() {
    cargo bench --workspace --no-run --profile ci
}

step "toolchain components" ensure_rust_components
step "embedded target" ensure_embedded_target
step "format" cargo fmt --all -- --check
step "clippy" cargo clippy --workspace --all-targets --profile ci -- -D warnings
step "no_std build of chorus-core (${EMBEDDED_TARGET})" \
    cargo build -p chorus-core --target "${EMBEDDED_TARGET}" --profile ci
step "no_std build of chorus-core with its tracing and serde features" \
    cargo build -p chorus-core --target "${EMBEDDED_TARGET}" --profile ci --features tracing,serde
step "tests" run_tests
step "benches build" build_benches
step "docs" env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --profile ci
step "samples" run_samples

echo "all checks passed in $(($(date +%s) - started)) s"
