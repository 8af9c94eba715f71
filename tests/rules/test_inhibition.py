#!/usr/bin/python3
"""Inhibition rules of rules/alertmanager.yml, checked by a real Alertmanager: a throw-away
prometheus-alertmanager on a free 127.0.0.1 port (own storage dir, gossip off, receivers
pointed at a closed port), alerts posted through its API, and the inhibited state read back.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rulelib  # noqa: E402

for v in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(v, None)
os.environ["no_proxy"] = "*"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(method, url, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def alert(name, **labels):
    labels = {"alertname": name, "severity": labels.pop("severity", "warning"), **labels}
    return {"labels": labels, "annotations": {"summary": name}, "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# (alert, inhibited?) — the expectation for each alert posted together.
CASES = [
    (alert("HostDown", severity="critical", host="xmpp1", instance="127.0.0.2:9100", job="xmppwatch"), False),
    (alert("HostHighCpuLoad", host="xmpp1", instance="127.0.0.2:9100"), True),           # same host
    (alert("MysqlDown", severity="critical", host="xmpp1", instance="127.0.0.2:9100"), True),
    (alert("HostHighCpuLoad", host="xmpp2", instance="127.0.0.3:9100"), False),          # other host
    (alert("HaproxyBackendServerDown", host="proxy", instance="127.0.0.1:8404", proxy="ejabberd_c2s", server="ej1"), False),
    (alert("EjabberdNodeDown", severity="critical", host="xmpp2", instance="127.0.0.3:9100"), False),
    (alert("EjabberdAuthFailuresSpike", host="xmpp2", instance="127.0.0.3:9100"), True),  # node down explains it
    (alert("MysqlReplicationIOThreadStopped", severity="critical", host="xmpp2", instance="127.0.0.3:9100", master_host="127.0.0.2"), False),
    (alert("MysqlSecondsBehindMasterNull", host="xmpp2", instance="127.0.0.3:9100", master_host="127.0.0.2"), True),
    (alert("XmppCertificateExpiryImminent", severity="critical", host="proxy", instance="127.0.0.1:5223", module="c2s_tls"), False),
    (alert("XmppCertificateExpiringSoon", host="proxy", instance="127.0.0.1:5223", module="c2s_tls"), True),  # same target
    (alert("XmppCertificateExpiringSoon", host="proxy", instance="127.0.0.1:5222", module="c2s"), False),     # another one
    # A source without the `equal` label must not inhibit everything else without it.
    (alert("HostDown", severity="critical", instance="10.0.0.9:9100", job="node"), False),
    (alert("EjabberdConnectedUsersDropped", job="xmppwatch"), False),
]


def main():
    tmp = tempfile.mkdtemp(prefix="xmppwatch-am-")
    proc = None
    failures = 0
    try:
        dead = free_port()
        with open(os.path.join(rulelib.RULES_DIR, "alertmanager.yml")) as f:
            cfg = f.read()
        for port in ("9097", "9099"):
            cfg = cfg.replace(f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{dead}/")
        with open(os.path.join(tmp, "alertmanager.yml"), "w") as f:
            f.write(cfg)
        shutil.copytree(os.path.join(rulelib.RULES_DIR, "templates"), os.path.join(tmp, "templates"))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(tmp, "am.log"), "w")
        proc = subprocess.Popen(["prometheus-alertmanager", f"--config.file={tmp}/alertmanager.yml",
                                 f"--storage.path={tmp}/data", f"--web.listen-address=127.0.0.1:{port}",
                                 "--cluster.listen-address="], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1)
                break
            except Exception:
                if proc.poll() is not None or time.monotonic() > deadline:
                    print(open(os.path.join(tmp, "am.log")).read())
                    raise SystemExit("FAIL: alertmanager did not become ready")
                time.sleep(0.2)
        http("POST", base + "/api/v2/alerts", [a for a, _ in CASES])

        def key(labels):
            return tuple(sorted(labels.items()))
        want = {key(a["labels"]): inhibited for a, inhibited in CASES}
        deadline = time.monotonic() + 15
        while True:
            got = {key(a["labels"]): bool(a["status"]["inhibitedBy"]) for a in http("GET", base + "/api/v2/alerts")}
            if got == want or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for a, inhibited in CASES:
            k = key(a["labels"])
            state = got.get(k)
            ok = state == inhibited
            failures += not ok
            desc = ",".join(f"{n}={v}" for n, v in sorted(a["labels"].items()) if n not in ("severity",))
            print(f"{'ok  ' if ok else 'FAIL'} {desc}: inhibited={state} (expected {inhibited})")
    finally:
        if proc:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(CASES) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
