"""Helpers for the live tests against the running stack (server/stack): Prometheus API,
scraping every component, and generating XMPP traffic. Loopback only; every wait bounded."""
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import rulelib

# The stack suites' helpers (tests/stack/stacklib.py): paths, logging, bounded waits, and the
# proxy variables dropped so loopback requests never leave the machine.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stack"))
import stacklib  # noqa: E402

PROM = os.environ.get("XMPPWATCH_PROMETHEUS_URL", "http://127.0.0.1:9090")
AM = os.environ.get("XMPPWATCH_ALERTMANAGER_URL", "http://127.0.0.1:9093")
PROBE = "http://127.0.0.1:9815"
PROBE_MODULES = ("c2s", "login", "message", "offline", "mam")
STACK = stacklib.STACK
RUN_DIR = stacklib.RUN_DIR
say = stacklib.say


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def post(url, data=b"", timeout=10):
    req = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


def prom_api(path, **params):
    url = f"{PROM}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    doc = json.loads(get(url, timeout=30))
    if doc.get("status") != "success":
        raise RuntimeError(f"{path}: {doc}")
    return doc["data"]


def query(expr):
    return prom_api("query", query=expr)["result"]


def query_range(expr, seconds=600, step=15):
    end = time.time()
    return prom_api("query_range", query=expr, start=end - seconds, end=end, step=step)["result"]


def scrape_targets():
    """[(job, scrape URL)] Prometheus scrapes, plus every probe module's /probe URL (which
    the stack's Prometheus may or may not scrape)."""
    # Probe modules first: the probe's own /metrics (xmpp_probe_probes_total) only has
    # series for modules that have run.
    out = [(f"probe module {m}", f"{PROBE}/probe?module={m}") for m in PROBE_MODULES]
    for t in prom_api("targets")["activeTargets"]:
        out.append((t["labels"].get("job", "?"), t["scrapeUrl"]))
    return out


def exported_names():
    """{sample name: [sources]} from a live scrape of every component; and [(source, error)]."""
    names, errors = {}, []
    for src, url in scrape_targets():
        try:
            text = get(url, timeout=30)
        except Exception as e:  # noqa: BLE001 - reported, the other components still count
            errors.append((f"{src} {url}", repr(e)))
            continue
        for n in rulelib.parse_exposition(text):
            names.setdefault(n, []).append(src)
    return names, errors


def used_names():
    """{metric name: [where]} for every metric a rule (expression or annotation query) or a
    dashboard (panel, variable, annotation query) reads; recording rules are not included."""
    import re
    records = rulelib.recordings()
    used = {}

    def add(expr, where):
        for m in rulelib.metric_names(rulelib.expand_grafana(expr)):
            if m in records:
                continue
            used.setdefault(m, []).append(where)

    for f, _, r in rulelib.load_rules():
        name = r.get("alert") or r.get("record")
        add(r["expr"], f"rule {name}")
        for text in (r.get("annotations") or {}).values():
            for q in re.findall(r'printf\s+"((?:[^"\\]|\\.)*)"[^|}]*\|\s*query', text):
                add(q.replace("%s", "x"), f"rule {name} (annotation query)")
    for path, d in rulelib.dashboards().items():
        dn = os.path.basename(path)
        for title, ref, e in rulelib.panel_queries(d):
            add(e, f"{dn}: {title}")
        for v in d.get("templating", {}).get("list", []):
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", q or "")
            if m:
                add(m.group(1), f"{dn}: variable {v['name']}")
        for a in d.get("annotations", {}).get("list", []):
            if a.get("target", {}).get("expr"):
                add(a["target"]["expr"], f"{dn}: annotation")
    return used


def stack(*args, timeout=240, check=True):
    p = subprocess.run([STACK, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"server/stack {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def wait_for(what, fn, timeout=60.0, interval=1.0):
    """stacklib.wait_for with the slower polling these Prometheus-side checks need."""
    return stacklib.wait_for(what, fn, timeout, interval)


def traffic():
    """Exercises the stack the way users do, through the probe's modules: logins, a message
    across nodes with a receipt, an offline message, an archive query; and a login with a
    wrong password (auth failure). Errors are reported, not raised."""
    notes = []
    for m in PROBE_MODULES:
        try:
            body = get(f"{PROBE}/probe?module={m}", timeout=30)
            ok = "probe_success 1" in body
            notes.append(f"{m}={'ok' if ok else 'failed'}")
        except Exception as e:  # noqa: BLE001
            notes.append(f"{m}: {e!r}")
    # An account registered and removed (ejabberd's register_user / remove_user hooks).
    p1 = stack("user", "add", "rules-traffic", check=False)
    p2 = stack("user", "del", "rules-traffic", check=False)
    notes.append(f"user add/del: {p1.returncode}/{p2.returncode}")
    probe_bin = os.path.join(os.environ.get("XMPPWATCH_BUILD_DIR", os.path.join(rulelib.REPO, "build")),
                             "xmpp_probe", "xmpp_probe")
    if os.access(probe_bin, os.X_OK):
        # A wrong password: the probe's login module with a password file that does not match.
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            cfg = os.path.join(tmp, "probe.yml")
            pw = os.path.join(tmp, "wrong.password")
            with open(pw, "w") as f:
                f.write("definitely-not-the-password\n")
            tls = os.path.join(RUN_DIR, "tls", "xmpp.test.crt")
            with open(cfg, "w") as f:
                f.write(f"""modules:
  badlogin:
    prober: login
    target: 127.0.0.1:5222
    timeout: 10s
    xmpp: {{domain: xmpp.test, tls: starttls, ca_file: {tls}}}
    account: {{user: probe1, password_file: {pw}}}
""")
            p = subprocess.run([probe_bin, "check", "--module", "badlogin", f"--config.file={cfg}"],
                               capture_output=True, text=True, timeout=30)
            notes.append(f"wrong password: {(p.stdout or p.stderr).strip()[:80]}")
    return ", ".join(notes)
