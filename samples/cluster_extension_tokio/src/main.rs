//! A chorus node over TCP (work in progress).

fn main() {}
