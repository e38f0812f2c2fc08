"""Black-box probes of a showfeed node's connection layer, as an attacker would run them.

    python3 examples/connection_probe.py BIN PORT [--no-big-heads]

Starts BIN (`showfeed serve`, with its own embedded Postgres in a temporary directory) on
127.0.0.1:PORT under `prlimit --nofile=1024:1024`, then:

1. 1,000 sockets each send a 400 KB request head (never finished): the server's peak RSS,
   and how many of them the server closed within 8 s;
2. 2,000 sockets each send `GET /healthz HTTP/1.1` and one more header line every 5 s for
   40 s (a slowloris), connecting for at most 15 s: /healthz on a fresh connection three
   times meanwhile, how many sockets were held the whole run and when the rest were closed;
3. counts the server's log lines that mention `accept`.

Prints one dict of results. Run it against two binaries to compare them (docs/BENCHMARK.md).
"""
import asyncio, os, signal, subprocess, sys, time, shutil, tempfile

BIN, PORT = sys.argv[1], int(sys.argv[2])
HOST = "127.0.0.1"

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

async def healthz(timeout=2.0):
    t = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), timeout)
        w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(r.read(), timeout)
        w.close()
        return data.split(b" ")[1].decode(), round((time.monotonic() - t) * 1000)
    except Exception as e:
        return type(e).__name__, round((time.monotonic() - t) * 1000)

async def closed_within(reader, secs):
    try:
        while True:
            d = await asyncio.wait_for(reader.read(65536), secs)
            if not d:
                return True
    except asyncio.TimeoutError:
        return False
    except Exception:
        return True

async def slowloris(n, every, seconds):
    socks = []
    errors = 0
    connect_until = time.monotonic() + 15
    for _ in range(n):
        if time.monotonic() > connect_until:
            errors += 1
            continue
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 1)
            w.write(b"GET /healthz HTTP/1.1\r\n")
            socks.append((r, w))
        except Exception:
            errors += 1
    async def drip(r, w):
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            try:
                w.write(b"X-a: b\r\n")
                await w.drain()
            except Exception:
                return time.monotonic() - start
            if await closed_within(r, every):
                return time.monotonic() - start
        return None
    tasks = [asyncio.create_task(drip(r, w)) for r, w in socks]
    await asyncio.sleep(3)
    probes = [await healthz() for _ in range(3)]
    held = await asyncio.gather(*tasks)
    still_open = sum(1 for h in held if h is None)
    closed_at = sorted(h for h in held if h is not None)
    for r, w in socks:
        w.close()
    return dict(opened=len(socks), connect_errors=errors, healthz_during=probes,
                held_for_whole_run=still_open,
                closed_median_s=round(closed_at[len(closed_at)//2], 1) if closed_at else None,
                closed_max_s=round(closed_at[-1], 1) if closed_at else None)

async def big_heads(pid, n, size):
    base = rss_kib(pid)
    socks = []
    chunk = b"X-Big: " + b"a" * (size - 20) + b"\r\n"
    peak = base
    async def one():
        try:
            r, w = await asyncio.open_connection(HOST, PORT)
            w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + chunk)
            socks.append((r, w))
            try:
                await asyncio.wait_for(w.drain(), 5)
            except Exception:
                pass
            return await closed_within(r, 8)
        except Exception:
            return True
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    for _ in range(10):
        await asyncio.sleep(0.5)
        peak = max(peak, rss_kib(pid))
    closed = await asyncio.gather(*tasks)
    for r, w in socks:
        w.close()
    return dict(rss_before_mib=round(base/1024, 1), rss_peak_mib=round(peak/1024, 1),
                closed_by_server=sum(closed), of=n)

async def main():
    d = tempfile.mkdtemp()
    env = dict(os.environ, SHOWFEED_DATA_DIR=d, BIND_ADDR=f"{HOST}:{PORT}", RUST_LOG="warn")
    env.pop("DATABASE_URL", None)
    log = open(f"{d}/server.log", "w")
    p = subprocess.Popen(["prlimit", "--nofile=1024:1024", BIN, "serve"], env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(300):
        if (await healthz(0.5))[0] == "200":
            break
        await asyncio.sleep(0.2)
    out = {}
    if "--no-big-heads" not in sys.argv:
        out["big_heads_1000x400KB"] = await big_heads(p.pid, 1000, 400 * 1024)
        print(out, flush=True)
        await asyncio.sleep(2)
    out["slowloris_2000_fd1024"] = await slowloris(2000, 5, 40)
    out["healthz_after"] = await healthz()
    print(out, flush=True)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        out["sigterm"] = "still running 30 s after SIGTERM; killed"
        p.kill()
        p.wait()
    log.close()
    lines = open(f"{d}/server.log").read().splitlines()
    out["log_lines"] = len(lines)
    out["accept_error_lines"] = sum("accept" in l.lower() for l in lines)
    print(out)
    shutil.rmtree(d, ignore_errors=True)

asyncio.run(main())
