#!/usr/bin/python3
"""Long-term storage on the running stack: Prometheus remote-writes everything it scrapes and
records to VictoriaMetrics (server/stack component `victoria`, 127.0.0.1:8428), and
VictoriaMetrics answers PromQL for it, so the dashboards work against either datasource.

Checked against both engines with the same queries, over the last 10 minutes (from 5 minutes
after VictoriaMetrics started receiving, so both hold the whole range a 5-minute rate reads):
  - the set of scrape targets (`up` by job and instance) is the same;
  - recording rules' outputs (slo:*, instance:*) arrived too, not only raw scrapes;
  - every dashboard panel query that returns data from Prometheus returns data from
    VictoriaMetrics (MetricsQL is a superset of PromQL; a query it rejects or leaves empty is a
    panel that would go blank on a VictoriaMetrics datasource).
VictoriaMetrics hides the newest 30 s of samples by default (-search.latencyOffset), so the
test waits (bounded) for the data to show up before comparing.
usage: test_live_victoria.py [--deadline SECONDS]   (default 180)
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
import rulelib  # noqa: E402

VM = os.environ.get("XMPPWATCH_VICTORIA_URL", "http://127.0.0.1:8428")
say = livelib.say


def api(base, path, **params):
    url = f"{base}/api/v1/{path}?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            doc = json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return None, f"HTTP {e.code}: {e.read().decode()[:300]}"
    if doc.get("status") != "success":
        return None, str(doc)[:300]
    return doc["data"]["result"], None


# The compared window: the last 10 minutes, but only from when VictoriaMetrics started receiving
# (Prometheus may hold older data from before it ran) and not the newest 30 s it hides.
WINDOW = {"start": None}


def range_query(base, expr, step=15):
    end = time.time() - 35
    start = max(end - 600, WINDOW["start"] or 0)
    return api(base, "query_range", query=expr, start=start, end=end, step=step)


def vm_receiving_since():
    """The first time VictoriaMetrics has an `up` sample for, within the last 10 minutes."""
    end = time.time()
    res, err = api(VM, "query_range", query="up", start=end - 600, end=end, step=15)
    assert err is None, f"VictoriaMetrics: {err}"
    firsts = [float(r["values"][0][0]) for r in res if r["values"]]
    return min(firsts) if firsts else None


def targets(base):
    res, err = api(base, "query", query="max by (job, instance) (max_over_time(up[5m]))")
    assert err is None, f"{base}: {err}"
    return {(r["metric"].get("job", ""), r["metric"].get("instance", "")) for r in res}


def main():
    deadline_s = 180
    if "--deadline" in sys.argv:
        deadline_s = int(sys.argv[sys.argv.index("--deadline") + 1])
    try:
        livelib.get(f"{VM}/health", timeout=5)
    except OSError as e:
        raise SystemExit(f"FAIL: VictoriaMetrics does not answer on {VM} ({e}); server/stack status")
    deadline = time.monotonic() + deadline_s

    prom_targets = targets(livelib.PROM)
    assert prom_targets, "Prometheus has no `up` series"
    while True:
        vm_targets = targets(VM)
        missing = prom_targets - vm_targets
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert not missing, f"scrape targets Prometheus has and VictoriaMetrics lacks: {sorted(missing)}"
    say(f"up: the same {len(prom_targets)} targets in both ({len(vm_targets)} in VictoriaMetrics)")
    since = vm_receiving_since()
    assert since is not None, "VictoriaMetrics has no `up` samples in the last 10 minutes"
    # A rate over 5 m needs 5 m of data in both engines to mean the same.
    WINDOW["start"] = since + 300
    if WINDOW["start"] > time.time() - 60:
        wait = WINDOW["start"] - (time.time() - 60)
        say(f"VictoriaMetrics receives since {time.strftime('%H:%M:%S', time.localtime(since))}: "
            f"waiting {wait:.0f}s for 5 minutes of data")
        time.sleep(wait)

    records = sorted({r["record"] for _, _, r in rulelib.load_rules() if r.get("record")})
    problems = []
    for name in records:
        pres, _ = range_query(livelib.PROM, name)
        if not pres:
            continue  # no data in Prometheus either (dashboards_live judges that)
        vres, err = range_query(VM, name)
        if not vres:
            problems.append(f"recording rule {name}: data in Prometheus, none in VictoriaMetrics ({err or 'empty'})")
    say(f"recording rules: {len(records)} checked")

    checked = 0
    for path, d in rulelib.dashboards().items():
        dn = os.path.basename(path)
        for title, ref, e in rulelib.panel_queries(d):
            expr = rulelib.expand_grafana(e)
            pres, perr = range_query(livelib.PROM, expr)
            if perr or not pres:
                continue
            checked += 1
            vres, verr = range_query(VM, expr)
            while not vres and time.monotonic() < deadline:
                time.sleep(5)
                vres, verr = range_query(VM, expr)
            if verr:
                problems.append(f"{dn}: {title} [{ref}]: VictoriaMetrics rejects the query: {verr}\n    {expr}")
            elif not vres:
                problems.append(f"{dn}: {title} [{ref}]: data in Prometheus, none in VictoriaMetrics\n    {expr}")
    assert checked >= 50, f"only {checked} panel queries had data in Prometheus: is the stack scraping?"
    for p in problems:
        print("FAIL: " + p)
    print(f"{checked} panel queries with data in Prometheus, run against VictoriaMetrics; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
