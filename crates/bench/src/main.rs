//! `cargo make bench`: every figure is printed as a ratio against a baseline
#![allow(
    unreachable_pub,
    reason = "a binary: `pub` marks each module's interface to the others"
)]
//! measured in the same run, next to the raw numbers, and written to
//! `target/bench/summary.json`. Nothing here is a pass/fail test: goals are
//! printed beside the measurements, and a missed goal is reported as measured.

mod scenarios;
mod server;

use std::path::PathBuf;

use serde_json::{Value, json};

#[allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // A child process of the memory or utilisation scenario.
    if let Some(child) = scenarios::child_mode(&args) {
        return child;
    }
    let only: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // The clients run on one thread; each server has a thread of its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut results = serde_json::Map::new();
    for (name, run) in scenarios::ALL {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        println!("== {name}");
        let result = runtime.block_on(run())?;
        print_result(&result);
        results.insert((*name).to_owned(), result);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(results))? + "\n",
    )?;
    println!("\nwrote {}", path.display());
    Ok(())
}

#[allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]
fn print_result(result: &Value) {
    if let Some(rows) = result.get("rows").and_then(Value::as_array) {
        for row in rows {
            let name = row
                .get("metric")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let value = row
                .get("value")
                .map(ToString::to_string)
                .unwrap_or_default();
            let unit = row.get("unit").and_then(Value::as_str).unwrap_or_default();
            let goal = row.get("goal").and_then(Value::as_str).unwrap_or_default();
            let met = match row.get("met").and_then(Value::as_bool) {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "",
            };
            println!("  {name:<58} {value:>14} {unit:<10} {goal:<16} {met}");
        }
    }
}

/// One printed row: a metric, its value and unit, and the goal if it has one.
pub fn row(metric: &str, value: f64, unit: &str, goal: Option<(&str, bool)>) -> Value {
    let rounded = (value * 1000.0).round() / 1000.0;
    match goal {
        Some((goal, met)) => {
            json!({"metric": metric, "value": rounded, "unit": unit, "goal": goal, "met": met})
        }
        None => json!({"metric": metric, "value": rounded, "unit": unit}),
    }
}
