"""What every scenario of the fault matrix measures with: a result row, the load balancer and
stack-health watcher, the Alertmanager watcher, and `xmpp_probe drill` as the one
implementation of live sessions, message accounting and outage timing (the same code as the
failover drill: the matrix only adds what the stack itself can see around it).

Loopback only; every wait has a deadline; faults go through server/stack, which undoes them.
"""
import dataclasses
import datetime
import json
import os
import re
import subprocess
import threading
import time
import urllib.request

import xmppstack as s

BUILD_DIR = os.environ.get("XMPPWATCH_BUILD_DIR") or os.path.join(s.REPO, "build")
PROBE = os.environ.get("XMPPWATCH_PROBE_BIN") or os.path.join(BUILD_DIR, "xmpp_probe", "xmpp_probe")
ALERTMANAGER = os.environ.get("XMPPWATCH_ALERTMANAGER_URL", "http://127.0.0.1:9093")


@dataclasses.dataclass
class Row:
    """One line of the matrix. A row passes when every check holds, every expected alert fired
    and nothing raised."""
    scenario: str
    seed: str
    expected_alerts: list = dataclasses.field(default_factory=list)
    verdict: str = "fail"
    outage_s: float | None = None
    detection_s: float | None = None
    recovery_s: float | None = None
    sent: int | None = None
    acked: int | None = None
    delivered: int | None = None
    lost: int | None = None
    duplicated: int | None = None
    alerts: list = dataclasses.field(default_factory=list)
    measured: list = dataclasses.field(default_factory=list)
    checks: list = dataclasses.field(default_factory=list)
    error: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    duration_s: float = 0.0

    def check(self, what, ok, detail=""):
        self.checks.append({"what": what, "ok": bool(ok), "detail": str(detail)})
        return ok

    def note(self, text):
        self.measured.append(text)

    def finish(self):
        fired = {a["name"] for a in self.alerts}
        for name in self.expected_alerts:
            self.check(f"alert {name} fired", name in fired)
        ok = self.error is None and self.checks and all(c["ok"] for c in self.checks)
        self.verdict = "pass" if ok else "fail"
        self.duration_s = round(time.time() - self.started_at, 1)
        return self

    def to_json(self):
        d = dataclasses.asdict(self)
        for k in ("outage_s", "detection_s", "recovery_s"):
            if d[k] is not None:
                d[k] = round(d[k], 3)
        return d


# --- watching the stack -------------------------------------------------------------------

def _lb_down(state):
    return state.startswith("DOWN") or state.startswith("MAINT")


class StackWatcher:
    """Polls HAProxy's server states every 50 ms and the whole stack's health every 0.5 s, on
    two threads (a health check can wait seconds on a hung node; the balancer's view must not),
    recording when each changed (wall-clock time, to line up with the drill's report)."""

    def __init__(self):
        self.lb = []       # (time, {"ej1": "UP", ...}) at each change
        self.health = []   # (time, bool) at each change
        self._halt = threading.Event()
        self._threads = [threading.Thread(target=self._poll_lb, daemon=True),
                         threading.Thread(target=self._poll_health, daemon=True)]

    def start(self):
        for t in self._threads:
            t.start()

    def _poll_lb(self):
        last = None
        while not self._halt.is_set():
            try:
                servers = s.haproxy_servers()
            except Exception:  # noqa: BLE001 - HAProxy itself may be the victim
                servers = {"haproxy": "unreachable"}
            if servers != last:
                self.lb.append((time.time(), servers))
                last = servers
            self._halt.wait(0.05)

    def _poll_health(self):
        last = None
        while not self._halt.is_set():
            try:
                healthy = bool(s.stack_healthy())
            except Exception:  # noqa: BLE001 - a component down is what is being measured
                healthy = False
            if healthy != last:
                self.health.append((time.time(), healthy))
                last = healthy
            self._halt.wait(0.5)

    def stop(self):
        self._halt.set()
        for t in self._threads:
            t.join(5)

    def lb_down_after(self, t0, server="ej1"):
        """Seconds from t0 until HAProxy marked `server` down (None if it never did)."""
        for t, servers in self.lb:
            if t >= t0 - 0.05 and _lb_down(servers.get(server, "")):
                return max(0.0, t - t0)
        return None

    def healthy_after(self, t0):
        """Seconds from t0 until the whole stack was healthy again (None if never)."""
        state_at_t0 = None
        for t, healthy in self.health:
            if t <= t0:
                state_at_t0 = healthy
            elif healthy:
                return t - t0
        return 0.0 if state_at_t0 else None


def _parse_time(text):
    # Alertmanager prints RFC 3339 with up to nanoseconds; Python takes microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.datetime.fromisoformat(text).timestamp()


def active_alerts():
    with urllib.request.urlopen(f"{ALERTMANAGER}/api/v2/alerts?active=true", timeout=3) as r:
        return json.loads(r.read().decode())


class AlertWatcher(threading.Thread):
    """Every alert Alertmanager holds, with the time Prometheus says it started firing."""

    def __init__(self):
        super().__init__(daemon=True)
        # (name, startsAt) of every alert instance seen: an alert that resolves and fires again
        # keeps its fingerprint but starts anew, and that new start is what a fault caused.
        self.seen = set()
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def run(self):
        while not self._halt.is_set():
            try:
                for a in active_alerts():
                    with self._lock:
                        self.seen.add((a["labels"].get("alertname", "?"), _parse_time(a["startsAt"])))
            except Exception:  # noqa: BLE001 - Alertmanager down is reported by the row's alerts being empty
                pass
            self._halt.wait(1.0)

    def stop(self):
        self._halt.set()
        self.join(5)

    def fired_after(self, t0):
        """[{"name", "after_s"}] of alerts that started firing after t0, first instance each."""
        first = {}
        with self._lock:
            for name, started in self.seen:
                if started >= t0 - 1 and (name not in first or started < first[name]):
                    first[name] = started
        return [{"name": n, "after_s": round(t - t0, 1)} for n, t in sorted(first.items(), key=lambda i: i[1])]


PROMETHEUS = os.environ.get("XMPPWATCH_PROMETHEUS_URL", "http://127.0.0.1:9090")


def prometheus_alerts():
    """Alerts Prometheus holds, pending ones included (Alertmanager only sees firing ones)."""
    with urllib.request.urlopen(f"{PROMETHEUS}/api/v1/alerts", timeout=3) as r:
        return json.loads(r.read().decode())["data"]["alerts"]


def wait_alerts_clear(names, timeout=120):
    """Waits until none of `names` is pending or firing in Prometheus, so the fault to come
    gets a new alert to time (one left pending by the previous scenario would fire during this
    one, with a start before its fault)."""
    if not names:
        return
    def clear():
        return not any(a["labels"].get("alertname") in names for a in prometheus_alerts())
    s.wait_for(f"alerts {', '.join(names)} to resolve", clear, timeout, 2.0)


# --- the drill: live sessions, messages, outage ------------------------------------------

def drill(row, watcher, alerts, *, fault=None, restore=None, module="drill", hold=None, hold_max=150,
          min_hold=0.0, after_restore=3.0, warmup=3.0):
    """Runs `xmpp_probe drill` with two live sessions through the load balancer (10 messages a
    second). The fault is undone `hold` seconds after it was injected, or, without a fixed hold,
    once every expected alert has fired (at most hold_max). Fills the row's message counts,
    outage, detection and alerts; returns the drill's report (dict)."""
    args = [PROBE, "drill", "--stack.run-dir", s.RUN_DIR, "--xmpp.domain", s.DOMAIN, "--stack", s.STACK,
            "--module", module, "--json", "--warmup", str(warmup), "--after-restore", str(after_restore)]
    wait_for_alerts = fault is not None and hold is None and bool(row.expected_alerts)
    limit = hold if hold is not None else hold_max
    if fault is None:
        args += ["--victim", "none", "--restore-after", str(limit)]
    else:
        args += ["--fault", fault, "--restore", restore, "--restore-after", str(limit),
                 "--max-outage", str(limit + 60)]
        if wait_for_alerts:
            args.append("--restore-on-stdin")
    # Alerts already pending or firing now belong to an earlier fault: not this row's.
    try:
        before = {a["labels"].get("alertname") for a in prometheus_alerts()}
    except Exception:  # noqa: BLE001 - Prometheus down: nothing to exclude
        before = set()
    log_path = os.path.join(s.RUN_DIR, "validate", f"{row.scenario}-drill.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    fault_at = [None]
    with open(log_path, "w") as log:
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def read_stderr():
            for line in p.stderr:
                log.write(line)
                log.flush()
                m = re.match(r"drill: fault injected at ([0-9.]+)", line)
                if m:
                    fault_at[0] = float(m.group(1))
        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        deadline = time.monotonic() + limit + warmup + after_restore + 180
        asked = False
        try:
            while p.poll() is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"drill did not finish in time (log: {log_path})")
                if wait_for_alerts and not asked and fault_at[0]:
                    fired = {a["name"] for a in alerts.fired_after(fault_at[0])}
                    if set(row.expected_alerts) <= fired and time.time() - fault_at[0] >= min_hold:
                        p.stdin.write("restore\n")
                        p.stdin.flush()
                        asked = True
                time.sleep(0.25)
        finally:
            # Interrupted or out of time: the drill must not undo its fault later on its own,
            # behind the back of whoever cleans up now.
            if p.poll() is None:
                p.kill()
                p.wait(10)
        out = p.stdout.read()
        reader.join(5)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"drill printed no report (exit {p.returncode}; log: {log_path}): {out.strip()[:300]}")
    rep = json.loads(lines[-1])
    row.sent, row.acked, row.delivered = rep["sent"], rep["acked"], rep["received"]
    row.lost, row.duplicated = rep["lost"], rep["duplicated"]
    row.outage_s = rep["outage_seconds"]
    if fault is not None:
        row.check("fault injected", rep["fault_rc"] == 0, f"exit {rep['fault_rc']}")
        row.check("fault undone", rep["restore_rc"] == 0, f"exit {rep['restore_rc']}")
        row.detection_s = watcher.lb_down_after(rep["fault_at"])
        row.alerts = [a for a in alerts.fired_after(rep["fault_at"]) if a["name"] not in before]
        if before:
            row.note("already active before the fault, not counted: " + ", ".join(sorted(before)))
    if rep["delayed"]:
        row.note(f"{rep['delayed']} message(s) delayed over 1 s (slowest {rep['delivery_max_seconds']:.1f} s)")
    if rep["resent"]:
        row.note(f"{rep['resent']} resent after a fresh login")
    row.check("sessions up after the fault", rep["recovered"])
    row.check("no acknowledged message lost", rep["lost"] == 0, f"{rep['lost']} lost of {rep['acked']} acknowledged")
    return rep


def recovery(row, watcher, since, timeout=90):
    """Seconds from `since` until the whole stack is healthy again (both nodes in the cluster,
    both LB servers UP, replication running both ways); waits for it, bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = watcher.healthy_after(since)
        if r is not None:
            row.recovery_s = r
            return r
        time.sleep(0.5)
    row.check("stack healthy again", False, f"not within {timeout} s of the fault being undone")
    return None
