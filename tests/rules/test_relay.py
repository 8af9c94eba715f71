#!/usr/bin/python3
"""The XMPP alert relay against the running stack:
1. a notification POSTed like Alertmanager does is delivered as an XMPP message from the
   relay's account (`alerts`) to the on-call account (`oncall`), logging in through the load
   balancer; the on-call user reads it (offline storage, then live) with the rendered text;
2. with the chat service unreachable, it goes to the fallback webhook (a receiver this test
   runs) and the relay answers 200 "fallback";
3. with the fallback down too, the relay answers 503 so Alertmanager retries;
4. bad input is refused with 400 and the relay keeps serving;
5. the hostile checks of relay/test_relay_hostile.py (no stack needed: secret fallback URL
   never logged or answered, gzip bodies refused, web config and SIGHUP, SIGTERM exit 0).
The relay binary is $XMPPWATCH_ALERT_RELAY (set by ctest). The fallback URL is passed as a
file (--fallback.url-file, mode 0600), as the relay requires."""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stack"))
import livelib  # noqa: E402
import rulelib  # noqa: E402
import stacklib  # noqa: E402
from receiver import Receiver  # noqa: E402

say = livelib.say
RELAY = os.environ.get("XMPPWATCH_ALERT_RELAY") or os.path.join(
    os.environ.get("XMPPWATCH_BUILD_DIR", os.path.join(rulelib.REPO, "build")), "alert_relay", "xmppwatch_alert_relay")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "notify_firing.json")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def url_file(url):
    """The fallback URL is a secret: the relay only takes it from a file only its user reads."""
    fd, path = tempfile.mkstemp(prefix="relay-url-", dir=livelib.RUN_DIR)
    with os.fdopen(fd, "w") as f:
        f.write(url + "\n")
    os.chmod(path, 0o600)
    URL_FILES.append(path)
    return path


URL_FILES = []  # removed when main() ends


def ensure_account(user):
    if not os.path.exists(os.path.join(livelib.RUN_DIR, "secrets", f"xmpp-{user}.password")):
        livelib.stack("user", "add", user)


class Relay:
    def __init__(self, *extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(livelib.RUN_DIR, f"relay-test-{self.port}.log"), "w")
        self.proc = subprocess.Popen(
            [RELAY, f"--web.listen-address=127.0.0.1:{self.port}",
             "--xmpp.domain=xmpp.test", "--xmpp.user=alerts",
             f"--xmpp.password-file={livelib.RUN_DIR}/secrets/xmpp-alerts.password",
             f"--xmpp.ca-file={livelib.RUN_DIR}/tls/xmpp.test.crt", "--xmpp.to=oncall@xmpp.test", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        livelib.wait_for("relay to listen", lambda: livelib.get(self.url + "/-/healthy", 2) == "OK\n", 10, 0.1)

    def post(self, body):
        req = urllib.request.Request(self.url + "/alert", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()
        os.unlink(self.log.name)


async def read_alerts(match, timeout=10.0):
    c = await stacklib.login("oncall")
    try:
        m = await stacklib.next_message(c.inbox, lambda m: m["body"] and match(m["body"]), timeout=timeout)
        return str(m["from"]), m["body"]
    finally:
        await stacklib.close(c)


def main():
    if not os.access(RELAY, os.X_OK):
        print(f"FAIL: relay binary {RELAY} not built")
        return 1
    ensure_account("alerts")
    ensure_account("oncall")
    payload = json.load(open(FIXTURE))
    marker = f"relay-test-{int(time.time() * 1000)}"
    payload["alerts"][0]["annotations"]["summary"] += f" [{marker}]"
    body = json.dumps(payload).encode()
    failures = []
    checks = []

    def check(name, cond, detail=""):
        checks.append(name)
        say(f"{'ok  ' if cond else 'FAIL'} {name}{': ' + detail if detail and not cond else ''}")
        if not cond:
            failures.append(name)

    relay = Relay()
    try:
        status, text = relay.post(body)
        check("delivered over XMPP", status == 200 and '"xmpp"' in text, f"{status} {text}")
        try:
            sender, msg = asyncio.run(read_alerts(lambda b: marker in b))
        except (stacklib.LoginFailed, AssertionError) as e:
            sender, msg = f"nothing: {e}", ""
        check("on-call account received it from the relay's account", sender.startswith("alerts@xmpp.test"), sender)
        for want in ("[FIRING:1] HaproxyBackendServerDown (warning) on proxy", "Where: host proxy (127.0.0.1:8404), LB server ej1",
                     "Runbook: docs/runbooks/HaproxyBackendServerDown.md", "Silence: "):
            check(f"message contains {want!r}", want in msg, msg)
        for bad in (b"not json", b"[]", b'{"alerts": 5}', b"[" * 100000):
            status, _ = relay.post(bad)
            check(f"bad input {bad[:12]!r} refused with 400", status == 400, str(status))
        status, _ = relay.post(body)
        check("still delivering after bad input", status == 200)
        metrics = livelib.get(relay.url + "/metrics")
        check("metrics count deliveries", 'xmppwatch_alert_relay_notifications_total{result="xmpp"} 2' in metrics, metrics)
    finally:
        relay.stop()

    # Chat service unreachable (nothing listens on the target): the fallback webhook gets it.
    rport = free_port()
    rcv = Receiver(port=rport)
    dead = free_port()
    relay = Relay(f"--xmpp.target=127.0.0.1:{dead}",
                  f"--fallback.url-file={url_file(f'http://127.0.0.1:{rport}/fallback')}", "--timeout-ms=2000")
    try:
        status, text = relay.post(body)
        check("XMPP down: delivered to the fallback", status == 200 and '"fallback"' in text, f"{status} {text}")
        msgs = rcv.messages("/fallback")
        fb = msgs[0][2].get("text", "") if msgs else ""
        check("fallback got the rendered text and the reason",
              marker in fb and "XMPP delivery failed: connect_refused" in fb, fb[:300])
    finally:
        relay.stop()
        rcv.stop()

    # Fallback down too: 503, so Alertmanager retries.
    relay = Relay(f"--xmpp.target=127.0.0.1:{dead}",
                  f"--fallback.url-file={url_file(f'http://127.0.0.1:{free_port()}/fallback')}", "--timeout-ms=1000")
    try:
        status, text = relay.post(body)
        check("XMPP and fallback down: 503", status == 503, f"{status} {text}")
        metrics = livelib.get(relay.url + "/metrics")
        check("metrics count the failure", 'result="failed"} 1' in metrics and "xmppwatch_alert_relay_xmpp_up 0" in metrics,
              metrics)
    finally:
        relay.stop()

    hostile = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "relay",
                                                           "test_relay_hostile.py")], env={**os.environ,
                                                                                           "XMPPWATCH_ALERT_RELAY": RELAY})
    check("hostile checks (relay/test_relay_hostile.py)", hostile.returncode == 0, str(hostile.returncode))

    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        for p in URL_FILES:
            os.unlink(p)
    sys.exit(code)
