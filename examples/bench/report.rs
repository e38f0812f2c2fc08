//! The Markdown report, built from the results JSON (so the two always agree).

use std::fmt::Write;

use serde_json::Value;

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn f(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "n/a".into(),
    }
}

fn ratio(poll: Option<f64>, sse: Option<f64>) -> String {
    ratio_digits(poll, sse, 1)
}

/// `a / b` as "1.23x" (`digits` decimals), "=" for 0 / 0.
fn ratio_digits(a: Option<f64>, b: Option<f64>, digits: usize) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.digits$}x", a / b),
        (Some(a), Some(b)) if b == 0.0 && a == 0.0 => "=".into(),
        _ => "n/a".into(),
    }
}

/// CPU seconds of `who` (server, postgres or generator) over a run.
fn cpu_secs(cpu: &Value, who: &str) -> Option<f64> {
    num(&cpu[format!("{who}_secs")])
}

fn cores(cpu: &Value, who: &str) -> Option<f64> {
    Some(cpu_secs(cpu, who)? / num(&cpu["wall_secs"])?.max(1e-9))
}

/// "server 0.52 / Postgres 0.20 / generator 0.61 cores".
fn cpu_line(cpu: &Value) -> String {
    format!(
        "server {} / Postgres {} / generator {} cores",
        f(cores(cpu, "server"), 2),
        f(cores(cpu, "postgres"), 2),
        f(cores(cpu, "generator"), 2)
    )
}

fn mib(b: Option<f64>) -> String {
    f(b.map(|b| b / 1048576.0), 1)
}

pub fn markdown(r: &Value) -> String {
    let mut out = String::new();
    let env = &r["environment"];
    let _ = writeln!(
        out,
        "### Benchmark results ({} mode)\n",
        env["settings"]["mode"].as_str().unwrap_or("?")
    );
    let _ = writeln!(
        out,
        "{} cores ({}), {}; commit {}, {}. Service, Postgres and load generator share the machine; \
         CPU is given in cores (CPU seconds per wall second) for each.\n",
        env["cores"],
        env["cpu"].as_str().unwrap_or(""),
        env["postgres"]
            .as_str()
            .unwrap_or("")
            .split(" on ")
            .next()
            .unwrap_or(""),
        env["commit"].as_str().unwrap_or(""),
        env["date"].as_str().unwrap_or("")
    );
    let _ = writeln!(
        out,
        "Load average (1 min) at start / end: {} / {} (other work on the machine competes too).\n",
        f(num(&env["loadavg_at_start"]), 2),
        f(num(&env["loadavg_at_end"]), 2)
    );
    if let Some(e) = r["error"].as_str() {
        let _ = writeln!(out, "**The run stopped early:** {e}\n");
    }
    fanout_table(&mut out, r);
    mux_table(&mut out, r);
    scale_table(&mut out, r);
    cost_table(&mut out, r);
    other_table(&mut out, r);
    queries_table(&mut out, r);
    writepath_table(&mut out, r);
    affinity_table(&mut out, r);
    hotshow_table(&mut out, r);
    targets_table(&mut out, r);
    out
}

fn fanout_table(out: &mut String, r: &Value) {
    let sse = &r["fanout"]["sse"];
    let poll = &r["fanout"]["polling"];
    if sse.is_null() && poll.is_null() {
        return;
    }
    let pick = if sse.is_null() { poll } else { sse };
    let _ = writeln!(
        out,
        "#### Fan-out: {} subscribers over {} show(s), {} changes/s for {:.0} s (half API, half SQL)\n",
        pick["subscribers"], pick["shows"], pick["target_rate"], num(&pick["seconds"]).unwrap_or(0.0)
    );
    let _ = writeln!(
        out,
        "| figure | showfeed SSE | polling `/changes` every 1 s | polling / SSE |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let mut row = |name: &str, get: &dyn Fn(&Value) -> Option<f64>, digits: usize| {
        let (a, b) = (get(sse), get(poll));
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            f(a, digits),
            f(b, digits),
            ratio(b, a)
        );
    };
    row("changes committed", &|v| num(&v["changes"]), 0);
    row(
        "commit→receive p50 (ms)",
        &|v| num(&v["latency"]["p50_ms"]),
        1,
    );
    row(
        "commit→receive p99 (ms)",
        &|v| num(&v["latency"]["p99_ms"]),
        1,
    );
    row(
        "commit→receive p99.9 (ms)",
        &|v| num(&v["latency"]["p999_ms"]),
        1,
    );
    row(
        "commit→receive max (ms)",
        &|v| num(&v["latency"]["max_ms"]),
        1,
    );
    row(
        "deliveries per second",
        &|v| num(&v["deliveries_per_sec"]),
        0,
    );
    row(
        "deliveries / expected",
        &|v| Some(num(&v["deliveries"])? / num(&v["expected_deliveries"])?.max(1.0)),
        4,
    );
    row("lost events (seq gaps)", &|v| num(&v["lost"]), 0);
    row(
        "events not received 30 s after the last write",
        &|v| num(&v["undelivered"]),
        0,
    );
    row("duplicated events", &|v| num(&v["duplicated"]), 0);
    row(
        "server CPU s per million deliveries",
        &|v| num(&v["server_cpu_secs_per_million_deliveries"]),
        2,
    );
    row("server CPU (cores)", &|v| cores(&v["cpu"], "server"), 2);
    row("Postgres CPU (cores)", &|v| cores(&v["cpu"], "postgres"), 2);
    row(
        "**load generator CPU (cores)**",
        &|v| cores(&v["cpu"], "generator"),
        2,
    );
    row(
        "server DB reads per second (/metrics)",
        &|v| num(&v["db_read_queries_per_sec"]),
        1,
    );
    row(
        "server DB reads per change",
        &|v| num(&v["db_read_queries_per_change"]),
        3,
    );
    row(
        "DB transactions per second (pg_stat_database, writers included)",
        &|v| num(&v["db_transactions_per_sec"]),
        0,
    );
    row(
        "server RSS (MiB)",
        &|v| num(&v["server_rss_bytes"]).map(|b| b / 1048576.0),
        1,
    );
    let _ = writeln!(out);
}

fn mux_table(out: &mut String, r: &Value) {
    let x = &r["mux"];
    if x.is_null() {
        return;
    }
    let _ = writeln!(
        out,
        "#### Multiplexed: {} clients × {} shows on one connection each against {} single-show streams ({} on each show), {} changes/s over the shows for {} s (half API, half SQL)\n",
        x["clients"],
        x["shows_per_client"],
        x["single"]["connections"],
        x["subscribers_per_show"],
        x["rate"],
        x["seconds"]
    );
    if x["clients"] != x["clients_asked"] {
        let _ = writeln!(
            out,
            "{} clients, not {}: the single-show half needs clients × shows connections in each of the generator and the server, within the descriptor limit ({}).\n",
            x["clients"],
            x["clients_asked"],
            r["environment"]["settings"]["fd_limit"]
        );
    }
    let _ = writeln!(
        out,
        "| figure | multiplexed `/api/stream?shows=` | single-show `/api/shows/{{id}}/stream` | multiplexed / single |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    let (mux, single) = (&x["multiplexed"], &x["single"]);
    let mut row = |name: &str, get: &dyn Fn(&Value) -> Option<f64>, digits: usize| {
        let (a, b) = (get(mux), get(single));
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} |",
            f(a, digits),
            f(b, digits),
            ratio_digits(a, b, 2)
        );
    };
    row("connections", &|v| num(&v["connections"]), 0);
    row(
        "show subscriptions ready / asked",
        &|v| Some(num(&v["subscriptions_ready"])? / num(&v["subscriptions"])?.max(1.0)),
        4,
    );
    row(
        "connect s (500 subscriptions opening at a time)",
        &|v| num(&v["connect_secs"]),
        1,
    );
    row("changes committed", &|v| num(&v["load"]["changes"]), 0);
    row(
        "deliveries per second",
        &|v| num(&v["load"]["deliveries_per_sec"]),
        0,
    );
    row(
        "deliveries / expected",
        &|v| {
            Some(num(&v["load"]["deliveries"])? / num(&v["load"]["expected_deliveries"])?.max(1.0))
        },
        4,
    );
    row(
        "commit→receive p50 (ms)",
        &|v| num(&v["load"]["latency"]["p50_ms"]),
        1,
    );
    row(
        "commit→receive p99 (ms)",
        &|v| num(&v["load"]["latency"]["p99_ms"]),
        1,
    );
    row(
        "commit→receive max (ms)",
        &|v| num(&v["load"]["latency"]["max_ms"]),
        1,
    );
    row(
        "server CPU µs per delivery",
        &|v| num(&v["cpu_us_per_delivery"]["server"]),
        2,
    );
    row(
        "Postgres CPU µs per delivery",
        &|v| num(&v["cpu_us_per_delivery"]["postgres"]),
        2,
    );
    row(
        "**load generator CPU µs per delivery**",
        &|v| num(&v["cpu_us_per_delivery"]["generator"]),
        2,
    );
    row(
        "server CPU (cores)",
        &|v| cores(&v["load"]["cpu"], "server"),
        2,
    );
    row(
        "Postgres CPU (cores)",
        &|v| cores(&v["load"]["cpu"], "postgres"),
        2,
    );
    row(
        "load generator CPU (cores)",
        &|v| cores(&v["load"]["cpu"], "generator"),
        2,
    );
    row(
        "other processes on the machine, CPU (cores)",
        &|v| {
            let c = &v["load"]["cpu"];
            let others = cpu_secs(c, "machine_busy")?
                - cpu_secs(c, "server")?
                - cpu_secs(c, "postgres")?
                - cpu_secs(c, "generator")?;
            Some(others.max(0.0) / num(&c["wall_secs"])?.max(1e-9))
        },
        2,
    );
    row(
        "exactness violations per show (lost + duplicated + not received + unreadable; must be 0)",
        &|v| num(&v["violations"]),
        0,
    );
    row(
        "reconnects / failed connects",
        &|v| Some(num(&v["load"]["reconnects"])? + num(&v["load"]["failures"])?),
        0,
    );
    row(
        "server RSS, all connected and idle (MiB)",
        &|v| num(&v["idle_server_rss_bytes"]).map(|b| b / 1048576.0),
        1,
    );
    row(
        "server DB reads per change",
        &|v| num(&v["load"]["db_read_queries_per_change"]),
        3,
    );
    let _ = writeln!(out);
}

fn scale_table(out: &mut String, r: &Value) {
    let Some(steps) = r["scale"]["steps"].as_array() else {
        return;
    };
    let _ = writeln!(
        out,
        "#### Scale: subscribers over {} shows, idle memory, then {} changes/s for 5 s at each step\n",
        r["scale"]["shows"], r["scale"]["rate"]
    );
    let _ = writeln!(
        out,
        "| subscribers | connected | connect s (per s) | server RSS MiB | RSS per idle subscriber KiB | p99 / max ms | deliveries/s | lost / dup / late | server CPU s per M deliveries | CPU under load | broke |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
    );
    for s in steps {
        let l = &s["load"];
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}) | {} | {} | {} / {} | {} | {} / {} / {} | {} | {} | {} |",
            s["subscribers"],
            s["connected"],
            f(num(&s["connect_secs"]), 1),
            f(num(&s["connects_per_sec"]), 0),
            mib(num(&s["rss_bytes"])),
            f(
                num(&s["rss_per_idle_subscriber_bytes"]).map(|b| b / 1024.0),
                2
            ),
            f(num(&l["latency"]["p99_ms"]), 1),
            f(num(&l["latency"]["max_ms"]), 1),
            f(num(&l["deliveries_per_sec"]), 0),
            f(num(&l["lost"]), 0),
            f(num(&l["duplicated"]), 0),
            f(num(&l["undelivered"]), 0),
            f(num(&l["server_cpu_secs_per_million_deliveries"]), 2),
            if l.is_null() {
                "n/a".into()
            } else {
                cpu_line(&l["cpu"])
            },
            s["broke"].as_str().unwrap_or("no")
        );
    }
    let _ = writeln!(out);
}

/// CPU microseconds per delivery of each process, for every run that delivered: whether a
/// figure is the server's or the generator's (which parses every event it checks) is read
/// here, not guessed from a latency.
fn cost_table(out: &mut String, r: &Value) {
    let mut runs: Vec<(String, &Value)> = Vec::new();
    for (name, key) in [("fan-out, SSE", "sse"), ("fan-out, polling", "polling")] {
        if !r["fanout"][key].is_null() {
            runs.push((name.into(), &r["fanout"][key]));
        }
    }
    let m = &r["mux"];
    for (key, kind) in [("multiplexed", "multiplexed"), ("single", "single-show")] {
        if !m[key].is_null() {
            runs.push((
                format!(
                    "mux, {} {kind} connections ({} × {} subscriptions)",
                    m[key]["connections"], m["clients"], m["shows_per_client"]
                ),
                &m[key]["load"],
            ));
        }
    }
    for step in r["scale"]["steps"].as_array().into_iter().flatten() {
        if !step["load"].is_null() {
            runs.push((
                format!("scale, {} subscribers", step["subscribers"]),
                &step["load"],
            ));
        }
    }
    if runs.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "#### CPU per delivery (µs: CPU seconds of each process / deliveries)
"
    );
    let _ = writeln!(
        out,
        "| run | deliveries | server µs | Postgres µs | load generator µs | generator / server |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (name, run) in runs {
        let deliveries = num(&run["deliveries"]).filter(|d| *d > 0.0);
        let per = |who: &str| Some(cpu_secs(&run["cpu"], who)? * 1e6 / deliveries?);
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            f(deliveries, 0),
            f(per("server"), 2),
            f(per("postgres"), 2),
            f(per("generator"), 2),
            ratio(per("generator"), per("server"))
        );
    }
    let _ = writeln!(out);
}

fn queries_table(out: &mut String, r: &Value) {
    let q = &r["queries"];
    if q.is_null() {
        return;
    }
    let _ = writeln!(
        out,
        "#### Console queries on a show of {} comments (one at a time)\n",
        q["comments"]
    );
    let _ = writeln!(
        out,
        "| request | samples | p50 ms | p99 ms | max ms | goal |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|");
    for (key, what, goal) in [
        (
            "history",
            "a page of 100 older comments (`before=`)",
            "p99 < 10 ms",
        ),
        (
            "search",
            "a text search (`q=`, first 100 matches)",
            "p99 < 50 ms",
        ),
        (
            "search_without_index",
            "the same searches without the trigram index (baseline, same run)",
            "",
        ),
    ] {
        let l = &q[key];
        let _ = writeln!(
            out,
            "| {what} | {} | {} | {} | {} | {goal} |",
            l["samples"],
            f(num(&l["p50_ms"]), 2),
            f(num(&l["p99_ms"]), 2),
            f(num(&l["max_ms"]), 2)
        );
    }
    let ratio = |k: &str| {
        num(&q["search"][k])
            .zip(num(&q["search_without_index"][k]))
            .map(|(a, b)| a / b)
    };
    let _ = writeln!(
        out,
        "\nSearch with the index / without it, same run: p50 {}x, p99 {}x.\n",
        f(ratio("p50_ms"), 2),
        f(ratio("p99_ms"), 2)
    );
}

fn other_table(out: &mut String, r: &Value) {
    let (snap, burst, ingest) = (&r["snapshot"], &r["burst"], &r["ingest"]);
    if snap.is_null() && burst.is_null() && ingest.is_null() {
        return;
    }
    let _ = writeln!(out, "#### Snapshot, connection burst, batch ingest\n");
    let _ = writeln!(out, "| figure | value | CPU during it |");
    let _ = writeln!(out, "|---|---:|---|");
    if !snap.is_null() {
        let l = &snap["latency"];
        let _ = writeln!(
            out,
            "| `initial` of a show with 10,000 comments and 1,000 claims, connect→complete event p50 / p99 / max ms ({} samples, {} KiB each, {} queries) | {} / {} / {} | {} |",
            snap["samples"],
            f(num(&snap["initial_bytes"]).map(|b| b / 1024.0), 0),
            snap["snapshot_queries"],
            f(num(&l["p50_ms"]), 1),
            f(num(&l["p99_ms"]), 1),
            f(num(&l["max_ms"]), 1),
            cpu_line(&snap["cpu"])
        );
        let _ = writeln!(
            out,
            "| snapshot query, server-side mean ms | {} | |",
            f(num(&snap["server_mean_query_ms"]), 1)
        );
    }
    if !burst.is_null() {
        let l = &burst["time_to_initial"];
        let _ = writeln!(
            out,
            "| {} clients connecting at once: snapshot queries run ({} shared, {} catch-ups) | {} | {} |",
            burst["clients"],
            burst["snapshots_shared"],
            burst["catchup_queries"],
            burst["snapshot_queries"],
            cpu_line(&burst["cpu"])
        );
        let _ = writeln!(
            out,
            "| … their time to `initial` p50 / p99 / max ms ({} connected, all in {} s) | {} / {} / {} | |",
            burst["connected"],
            f(num(&burst["all_connected_secs"]), 2),
            f(num(&l["p50_ms"]), 0),
            f(num(&l["p99_ms"]), 0),
            f(num(&l["max_ms"]), 0)
        );
    }
    if !ingest.is_null() {
        let _ = writeln!(
            out,
            "| batch ingest through the API, comments/s ({} comments in batches of 1,000 by 2 posters; {} claims derived, {} claims/s) | {} | {} |",
            ingest["comments"],
            ingest["claims"],
            f(num(&ingest["claims_per_sec"]), 0),
            f(num(&ingest["comments_per_sec"]), 0),
            cpu_line(&ingest["cpu"])
        );
        let s = &ingest["snapshot_show"];
        let _ = writeln!(
            out,
            "| … one poster, the 10,000-comment show ({} claims), comments/s | {} | {} |",
            s["claims"],
            f(num(&s["comments_per_sec"]), 0),
            cpu_line(&s["cpu"])
        );
    }
    let _ = writeln!(out);
}

fn targets_table(out: &mut String, r: &Value) {
    let _ = writeln!(out, "#### Targets\n");
    let _ = writeln!(out, "| target | measured | met |");
    let _ = writeln!(out, "|---|---|---|");
    let mut row = |t: &str, m: String, ok: Option<bool>| {
        let met = match ok {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured at the target size",
        };
        let _ = writeln!(out, "| {t} | {m} | {met} |");
    };
    let steps = r["scale"]["steps"].as_array().cloned().unwrap_or_default();
    let ok_steps: Vec<&Value> = steps.iter().filter(|s| s["broke"].is_null()).collect();
    let best = ok_steps.last();
    let broke = steps.iter().find(|s| !s["broke"].is_null());
    row(
        "10,000 concurrent subscribers on one node (find where it breaks)",
        format!(
            "{} held; {}",
            best.map_or("none".into(), |s| s["subscribers"].to_string()),
            broke.map_or("did not break up to the largest step".into(), |s| format!(
                "breaks at {}: {}",
                s["subscribers"],
                s["broke"].as_str().unwrap_or("")
            ))
        ),
        if best.is_some_and(|s| num(&s["subscribers"]).unwrap_or(0.0) >= 10_000.0) {
            Some(true)
        } else if broke.is_some() {
            Some(false)
        } else {
            None
        },
    );
    let sse = &r["fanout"]["sse"];
    if !sse.is_null() {
        let p99 = num(&sse["latency"]["p99_ms"]);
        let full =
            num(&sse["subscribers"]).unwrap_or(0.0) >= 5000.0 && num(&sse["shows"]) == Some(1.0);
        row(
            "5,000 subscribers on one show at 50 changes/s: p99 commit→receive < 50 ms",
            format!(
                "{} subscribers on {} show(s): p99 {} ms{}",
                sse["subscribers"],
                sse["shows"],
                f(p99, 1),
                if full {
                    ""
                } else {
                    " (smaller than the target scenario)"
                }
            ),
            full.then(|| p99.is_some_and(|p| p < 50.0)),
        );
        let (lost, dup) = (
            num(&sse["lost"]).unwrap_or(-1.0),
            num(&sse["duplicated"]).unwrap_or(-1.0),
        );
        let late = num(&sse["undelivered"]).unwrap_or(-1.0);
        row(
            "zero lost or duplicated events",
            format!("{lost} lost, {dup} duplicated, {late} not received within 30 s (SSE fan-out)"),
            Some(lost == 0.0 && dup == 0.0 && late == 0.0),
        );
        let q = num(&sse["db_read_queries_per_change"]);
        row(
            "DB queries per change per node ≤ 1",
            format!("{} reads per change", f(q, 3)),
            Some(q.is_some_and(|q| q <= 1.0)),
        );
    } else {
        row(
            "5,000 subscribers on one show at 50 changes/s: p99 < 50 ms",
            "n/a".into(),
            None,
        );
    }
    let mux = &r["mux"];
    if !mux["multiplexed"].is_null() {
        let (a, b) = (
            num(&mux["multiplexed"]["violations"]),
            num(&mux["single"]["violations"]),
        );
        row(
            "multiplexed stream: every seq once, in order, per show",
            format!(
                "{} violations multiplexed, {} single-show ({} clients × {} shows)",
                f(a, 0),
                f(b, 0),
                mux["clients"],
                mux["shows_per_client"]
            ),
            Some(a == Some(0.0) && b.is_none_or(|b| b == 0.0)),
        );
    }
    let mem = best.and_then(|s| num(&s["rss_per_idle_subscriber_bytes"]));
    row(
        "memory < 8 KiB per idle subscriber",
        format!(
            "{} KiB at {} subscribers",
            f(mem.map(|b| b / 1024.0), 2),
            best.map_or("?".into(), |s| s["subscribers"].to_string())
        ),
        mem.map(|m| m < 8192.0),
    );
    let snap = num(&r["snapshot"]["latency"]["p99_ms"]);
    row(
        "snapshot of the 10,000-comment show p99 < 50 ms",
        format!("p99 {} ms", f(snap, 1)),
        snap.map(|p| p < 50.0),
    );
    let q = num(&r["burst"]["snapshot_queries"]);
    row(
        "1,000 clients connecting at once cost one snapshot query",
        format!("{} snapshot queries", f(q, 0)),
        q.map(|q| q <= 1.0),
    );
    let rate = num(&r["ingest"]["comments_per_sec"]);
    row(
        "batch ingest ≥ 20,000 comments/s with claims derived",
        format!("{} comments/s", f(rate, 0)),
        rate.map(|x| x >= 20_000.0),
    );
    let _ = writeln!(out);
}

fn writepath_table(out: &mut String, r: &Value) {
    let Some(cells) = r["writepath"]["cells"].as_array() else {
        return;
    };
    let _ = writeln!(
        out,
        "#### Write path: {} SQL writers of single-row comment inserts, {} s per cell; trigger doorbell vs relay mode\n",
        r["writepath"]["writers"], r["writepath"]["seconds"]
    );
    let _ = writeln!(
        out,
        "| doorbell | nodes listening | offered | commits/s | relay / trigger | insert p50 / p99 ms | commit → client p50 / p99 ms | after idle p50 / max ms | notifications/s | machine busy (cores of 2) | undelivered |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let trigger_rate = |listeners: &Value, target: &Value| {
        cells
            .iter()
            .find(|c| {
                c["mode"] == "trigger"
                    && &c["listeners"] == listeners
                    && &c["target_rate"] == target
            })
            .and_then(|c| num(&c["commits_per_sec"]))
    };
    for c in cells {
        let relay_ratio = if c["mode"] == "relay" {
            ratio_digits(
                num(&c["commits_per_sec"]),
                trigger_rate(&c["listeners"], &c["target_rate"]),
                2,
            )
        } else {
            String::new()
        };
        let after_idle = match &c["after_idle"] {
            Value::Null => String::new(),
            l => format!("{} / {}", f(num(&l["p50_ms"]), 1), f(num(&l["max_ms"]), 1)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} / {} | {} / {} | {} | {} | {} | {} |",
            c["mode"].as_str().unwrap_or(""),
            c["listeners"],
            num(&c["target_rate"]).map_or("max".to_owned(), |r| format!("{r:.0}/s")),
            f(num(&c["commits_per_sec"]), 0),
            relay_ratio,
            f(num(&c["insert"]["p50_ms"]), 2),
            f(num(&c["insert"]["p99_ms"]), 2),
            f(num(&c["commit_to_client"]["p50_ms"]), 2),
            f(num(&c["commit_to_client"]["p99_ms"]), 2),
            after_idle,
            f(num(&c["notifications_per_sec"]), 0),
            f(cores(&c["cpu"], "machine_busy"), 2),
            c["undelivered"],
        );
    }
    let _ = writeln!(out);
}

fn affinity_table(out: &mut String, r: &Value) {
    let a = &r["affinity"];
    let Some(runs) = a["runs"].as_array() else {
        return;
    };
    let _ = writeln!(
        out,
        "#### Show affinity: {} nodes, {} shows, {} subscribers, {} changes/s for {} s per routing\n",
        a["nodes"], a["shows"], a["subscribers"], a["rate"], a["seconds"]
    );
    let _ = writeln!(
        out,
        "| routing | changes | Postgres reads per change (all nodes) | by node | nodes' CPU µs per delivery | fan-out p50 / p99 ms | lost / duplicated / undelivered |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---:|---:|---:|");
    for run in runs {
        let by_node: Vec<String> = run["reads_per_change_per_node"]
            .as_array()
            .map(|v| v.iter().map(|x| f(num(x), 2)).collect())
            .unwrap_or_default();
        let load = &run["load"];
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} / {} | {} / {} / {} |",
            run["routing"].as_str().unwrap_or(""),
            load["changes"],
            f(num(&run["reads_per_change"]), 2),
            by_node.join(" / "),
            f(num(&run["nodes_cpu_us_per_delivery"]), 2),
            f(num(&load["latency"]["p50_ms"]), 1),
            f(num(&load["latency"]["p99_ms"]), 1),
            load["lost"],
            load["duplicated"],
            load["undelivered"],
        );
    }
    let _ = writeln!(out);
}

fn hotshow_table(out: &mut String, r: &Value) {
    let h = &r["hotshow"];
    if h.is_null() {
        return;
    }
    let _ = writeln!(
        out,
        "#### One hot show: {} clients POSTing single comments (a quarter `sold N`), {} comments/s offered for {:.0} s\n",
        h["clients"], h["offered_rate"], num(&h["seconds"]).unwrap_or(0.0)
    );
    let _ = writeln!(out, "| figure | value |");
    let _ = writeln!(out, "|---|---:|");
    let rows = [
        ("comments/s stored", f(num(&h["comments_per_sec"]), 0)),
        ("POST p50 ms", f(num(&h["post"]["p50_ms"]), 2)),
        ("POST p99 ms", f(num(&h["post"]["p99_ms"]), 2)),
        ("errors", h["errors"].to_string()),
        ("ticks that found the client's previous POST still open", h["late_ticks"].to_string()),
        ("transactions", f(num(&h["group_transactions"]), 0)),
        ("requests per transaction", f(num(&h["requests_per_group"]), 1)),
        ("claims", h["claims"]["claims"].to_string()),
        ("claim rules held (units, waitlist 1..n, one live claim per buyer and item, every `sold` answered)", h["claims"]["exact"].to_string()),
        ("server CPU (cores)", f(cores(&h["cpu"], "server"), 2)),
        ("Postgres CPU (cores)", f(cores(&h["cpu"], "postgres"), 2)),
        ("generator CPU (cores)", f(cores(&h["cpu"], "generator"), 2)),
    ];
    for (name, value) in rows {
        let _ = writeln!(out, "| {name} | {value} |");
    }
    let _ = writeln!(out);
}
