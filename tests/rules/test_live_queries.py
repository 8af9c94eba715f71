#!/usr/bin/python3
"""Every dashboard panel query returns data from the stack's real Prometheus, with traffic:
the probe's modules (logins, a message across nodes, offline delivery, archive) and a wrong
password are run through the load balancer between attempts. Queries are run as Grafana runs
them (variables set to "All", $__rate_interval = 1m) as range queries over the last 10
minutes. A panel stays empty only if, after the deadline, it still has no data; it is then
reported with the metrics it reads that Prometheus does not have, and whether any component
exports them at all. Queries over ALERTS may be empty exactly when no alert fires, and the
"last validation" panels exactly when server/stack validate has not run on this stack yet.
Also checks that every recording rule produces data, and that Prometheus loaded every rule
file from rules/ without errors.
usage: test_live_queries.py [--deadline SECONDS]   (default 240)
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
import rulelib  # noqa: E402


def panel_list():
    out = []
    for path, d in rulelib.dashboards().items():
        dn = os.path.basename(path)
        for title, ref, e in rulelib.panel_queries(d):
            out.append((f"{dn}: {title} [{ref}]", rulelib.expand_grafana(e)))
    return out


def has_data(expr):
    return bool(livelib.query_range(expr, seconds=600, step=15))


def firing_alerts():
    return [a for a in livelib.prom_api("alerts")["alerts"] if a.get("state") == "firing"]


def main():
    deadline_s = 240
    if "--deadline" in sys.argv:
        deadline_s = int(sys.argv[sys.argv.index("--deadline") + 1])

    # Prometheus loaded our rules, and they evaluate without errors.
    groups = livelib.prom_api("rules")["groups"]
    loaded = {r["name"] for g in groups for r in g["rules"]}
    ours = {r.get("alert") or r.get("record") for _, _, r in rulelib.load_rules()}
    problems = []
    if not ours <= loaded:
        livelib.say("rules missing from Prometheus; reloading it")
        livelib.post(f"{livelib.PROM}/-/reload")
        time.sleep(2)
        groups = livelib.prom_api("rules")["groups"]
        loaded = {r["name"] for g in groups for r in g["rules"]}
    for n in sorted(ours - loaded):
        problems.append(f"rule {n} is not loaded by the stack's Prometheus (rules/ linked? see rules/README.md)")
    for g in groups:
        for r in g["rules"]:
            if r.get("health") == "err":
                problems.append(f"rule {r['name']} evaluates with an error: {r.get('lastError')}")

    queries = panel_list() + [(f"recording rule {n}", n) for n in sorted(rulelib.recordings())]
    pending = dict(queries)
    deadline = time.monotonic() + deadline_s
    attempt = 0
    while pending:
        attempt += 1
        for label, expr in list(pending.items()):
            try:
                if has_data(expr):
                    del pending[label]
            except Exception as e:  # noqa: BLE001 - a query error is final
                problems.append(f"{label}: query error {e}: {expr}")
                del pending[label]
        alerts_firing = firing_alerts()
        validated = os.path.exists(os.path.join(livelib.RUN_DIR, "textfile", "validation.prom"))
        for label, expr in list(pending.items()):
            if "ALERTS" in rulelib.metric_names(expr) and not alerts_firing:
                livelib.say(f"{label}: empty, and correctly so: no alert is firing")
                del pending[label]
            elif any(n.startswith("xmppwatch_validation_") for n in rulelib.metric_names(expr)) and not validated:
                livelib.say(f"{label}: empty, and correctly so: server/stack validate has not run on this stack")
                del pending[label]
        livelib.say(f"attempt {attempt}: {len(queries) - len(pending)}/{len(queries)} queries return data")
        if not pending or time.monotonic() > deadline:
            break
        livelib.say("traffic: " + livelib.traffic())
        time.sleep(15)

    if pending:
        in_prom = set(livelib.prom_api("label/__name__/values"))
        exported, _ = livelib.exported_names()
        records = rulelib.recordings()
        for label, expr in sorted(pending.items()):
            names = sorted(rulelib.metric_names(expr))
            why = []
            for n in names:
                base = records.get(n)
                srcs = rulelib.metric_names(base) if base else {n}
                for m in sorted(srcs):
                    if m in rulelib.SYNTHETIC or m in in_prom:
                        continue
                    where = "exported but not scraped by Prometheus" if m in exported else "exported by no component"
                    why.append(f"{m} ({where})")
            problems.append(f"NO DATA {label}: {expr}" + (f"\n      missing: {', '.join(why)}" if why else
                                                           "\n      (all metrics present: the selection matches nothing)"))
    for p in problems:
        print("FAIL:", p)
    n_ok = len(queries) - len(pending)
    print(f"{n_ok} of {len(queries)} panel and recording-rule queries return data; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
