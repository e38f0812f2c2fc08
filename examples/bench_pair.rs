//! Two server binaries measured side by side by the same benchmark, in one command:
//! `bench` runs against the baseline, then against the candidate, `--pairs` times in
//! alternation (so drift on a shared machine hits both), and the figures both runs share
//! are printed as medians with the candidate / baseline ratio.
//!
//! ```sh
//! cargo build --release --locked --bin showfeed --example bench --example bench_pair
//! cp target/release/showfeed target/ab/new
//! target/release/examples/bench_pair --baseline-bin target/ab/base --candidate-bin target/ab/new \
//!     --pairs 2 -- --phases scale,fanout --max-subscribers 5000 --subscribers 5000 --seconds 30
//! ```
//!
//! Writes `pair.md` and `pair.json` under `--out`; each run's own results stay beside them
//! (`base-N/`, `new-N/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(about = "run the showfeed benchmark against two server binaries in alternation")]
struct Args {
    /// The binary the figures are compared against (e.g. the commit an issue starts from).
    #[arg(long)]
    baseline_bin: PathBuf,
    /// The binary under test [target/release/showfeed, copied first: the bench's own build
    /// would overwrite it].
    #[arg(long)]
    candidate_bin: Option<PathBuf>,
    /// Runs of each binary, alternating baseline and candidate.
    #[arg(long, default_value_t = 1)]
    pairs: usize,
    /// The bench program [target/release/examples/bench].
    #[arg(long, default_value = "target/release/examples/bench")]
    bench: PathBuf,
    /// Where the runs and the comparison go.
    #[arg(long, default_value = "target/bench/pair")]
    out: PathBuf,
    /// Arguments for every bench run (after `--`).
    #[arg(last = true)]
    bench_args: Vec<String>,
}

/// A figure both runs report: its name, where it sits in `results.json`, and its unit.
struct Figure {
    name: &'static str,
    unit: &'static str,
    read: fn(&Value) -> Option<f64>,
}

fn largest_step(r: &Value) -> Option<&Value> {
    r["scale"]["steps"].as_array()?.last()
}

fn cpu_us(r: &Value, who: &str) -> Option<f64> {
    let run = &r["fanout"]["sse"];
    let secs = run["cpu"][who].as_f64()?;
    let deliveries = run["deliveries"].as_f64()?;
    (deliveries > 0.0).then(|| secs * 1e6 / deliveries)
}

const FIGURES: &[Figure] = &[
    Figure {
        name: "RSS per idle subscriber, largest scale step",
        unit: "KiB",
        read: |r| Some(largest_step(r)?["rss_per_idle_subscriber_bytes"].as_f64()? / 1024.0),
    },
    Figure {
        name: "server RSS at the largest scale step",
        unit: "MiB",
        read: |r| Some(largest_step(r)?["rss_bytes"].as_f64()? / 1048576.0),
    },
    Figure {
        name: "subscribers at the largest scale step",
        unit: "",
        read: |r| largest_step(r)?["subscribers"].as_f64(),
    },
    Figure {
        name: "fan-out: commit→receive p50",
        unit: "ms",
        read: |r| r["fanout"]["sse"]["latency"]["p50_ms"].as_f64(),
    },
    Figure {
        name: "fan-out: commit→receive p99",
        unit: "ms",
        read: |r| r["fanout"]["sse"]["latency"]["p99_ms"].as_f64(),
    },
    Figure {
        name: "fan-out: deliveries per second",
        unit: "/s",
        read: |r| r["fanout"]["sse"]["deliveries_per_sec"].as_f64(),
    },
    Figure {
        name: "fan-out: server CPU per delivery",
        unit: "µs",
        read: |r| cpu_us(r, "server_secs"),
    },
    Figure {
        name: "fan-out: load generator CPU per delivery",
        unit: "µs",
        read: |r| cpu_us(r, "generator_secs"),
    },
    Figure {
        name: "fan-out: Postgres CPU per delivery",
        unit: "µs",
        read: |r| cpu_us(r, "postgres_secs"),
    },
    Figure {
        name: "fan-out: lost + duplicated events",
        unit: "",
        read: |r| {
            let run = &r["fanout"]["sse"];
            Some(run["lost"].as_f64()? + run["duplicated"].as_f64()?)
        },
    },
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let candidate = match &args.candidate_bin {
        Some(bin) => bin.clone(),
        None => {
            let copy = args.out.join("candidate-showfeed");
            std::fs::copy("target/release/showfeed", &copy)
                .context("copying target/release/showfeed (build it first)")?;
            copy
        }
    };
    for bin in [&args.baseline_bin, &candidate] {
        if !bin.exists() {
            bail!("no server binary at {}", bin.display());
        }
    }
    let (mut base, mut new) = (Vec::new(), Vec::new());
    for pair in 1..=args.pairs.max(1) {
        for (label, bin, into) in [
            ("base", &args.baseline_bin, &mut base),
            ("new", &candidate, &mut new),
        ] {
            let out = args.out.join(format!("{label}-{pair}"));
            eprintln!("bench_pair: {label} run {pair} ({})", bin.display());
            into.push(run_bench(&args.bench, bin, &out, &args.bench_args)?);
        }
    }
    let mut table = String::from(
        "| figure (median) | baseline | candidate | candidate / baseline |\n|---|---:|---:|---:|\n",
    );
    let mut rows = Vec::new();
    for figure in FIGURES {
        let b = median(base.iter().filter_map(figure.read).collect());
        let n = median(new.iter().filter_map(figure.read).collect());
        let (Some(b), Some(n)) = (b, n) else {
            continue;
        };
        let ratio = if b != 0.0 {
            format!("{:.2}x", n / b)
        } else {
            "n/a".into()
        };
        let unit = if figure.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", figure.unit)
        };
        table.push_str(&format!(
            "| {}{unit} | {} | {} | {ratio} |\n",
            figure.name,
            fmt(b),
            fmt(n)
        ));
        rows.push(
            json!({"figure": figure.name, "unit": figure.unit, "baseline": b, "candidate": n}),
        );
    }
    let header = format!(
        "Baseline `{}`, candidate `{}`, {} pair(s) in alternation, bench arguments `{}`.\n\
         CPU per delivery is each process's CPU seconds over the fan-out deliveries: the \
         server's, the load generator's and Postgres's, all on this machine.\n\n",
        args.baseline_bin.display(),
        candidate.display(),
        args.pairs.max(1),
        args.bench_args.join(" ")
    );
    let md = format!("{header}{table}");
    std::fs::write(args.out.join("pair.md"), &md)?;
    std::fs::write(
        args.out.join("pair.json"),
        serde_json::to_string_pretty(&json!({"figures": rows, "bench_args": args.bench_args}))?,
    )?;
    println!("{md}");
    Ok(())
}

fn run_bench(bench: &Path, bin: &Path, out: &Path, extra: &[String]) -> anyhow::Result<Value> {
    let status = Command::new(bench)
        .arg("--server-bin")
        .arg(bin)
        .arg("--out")
        .arg(out)
        .args(extra)
        .status()
        .with_context(|| format!("running {}", bench.display()))?;
    if !status.success() {
        bail!(
            "{} failed ({status}); see {}",
            bench.display(),
            out.display()
        );
    }
    let text = std::fs::read_to_string(out.join("results.json"))
        .with_context(|| format!("reading {}/results.json", out.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

fn fmt(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
