#!/usr/bin/python3
"""The alert relay is a daemon of the stack (issue 16): started by `up` with its documented
command line, healthy, scraped by Prometheus (job alert_relay), and it delivers: a notification
POSTed the way Alertmanager does (rules/alertmanager.yml sends to 127.0.0.1:9099/alert) reaches
the on-call account over XMPP, from the relay's own account. Its long-lived session survives a
kill of the ejabberd node it sits on (it reconnects through the LB) and delivers again.
(tests/rules/test_relay.py covers the relay's behaviour in depth against a relay of its own;
tests/stack/test_chatops.py the chat commands.)"""
import asyncio
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

URL = "http://127.0.0.1:9099"
FIXTURE = os.path.join(s.REPO, "tests", "rules", "fixtures", "notify_firing.json")


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def test_started_by_the_stack():
    pid = s.pid_of("relay")
    exe = os.readlink(f"/proc/{pid}/exe")
    assert exe.endswith("/xmppwatch_alert_relay"), f"pids/relay.pid is {exe}"
    argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
    args = [a.decode() for a in argv[1:]]
    want = ["--web.listen-address", "127.0.0.1:9099", "--xmpp.target", "127.0.0.1:5222",
            "--xmpp.domain", s.DOMAIN, "--xmpp.user", "alerts",
            "--xmpp.password-file", f"{s.RUN_DIR}/secrets/xmpp-alerts.password",
            "--xmpp.ca-file", f"{s.RUN_DIR}/tls/{s.DOMAIN}.crt", "--xmpp.to", f"oncall@{s.DOMAIN}",
            "--xmpp.room", f"oncall@conference.{s.DOMAIN}",
            "--chatops.allow", f"oncall@{s.DOMAIN}", "--alertmanager.url", "http://127.0.0.1:9093",
            "--fallback.file", f"{s.RUN_DIR}/relay/fallback.log"]
    assert args == want, f"relay command line:\n  {args}\nexpected\n  {want}"
    assert get(URL + "/-/healthy") == "OK\n"
    status = s.stack("status").stdout
    assert any(ln.split()[:2] == ["relay", "up"] for ln in status.splitlines()), status


def test_scraped_by_prometheus():
    def up():
        doc = json.loads(get("http://127.0.0.1:9090/api/v1/targets?state=active"))
        t = [t for t in doc["data"]["activeTargets"] if t["labels"].get("job") == "alert_relay"]
        return t and t[0]["health"] == "up" and t[0]["scrapeUrl"] == URL + "/metrics"
    s.wait_for("Prometheus to scrape the relay (job alert_relay)", up, 40, 1)
    assert "xmppwatch_alert_relay_" in get(URL + "/metrics")


async def oncall_gets(marker, timeout=20.0):
    c = await s.login("oncall")
    try:
        m = await s.next_message(c.inbox, lambda m: bool(m["body"]) and marker in m["body"], timeout=timeout)
        return str(m["from"]), m["body"]
    finally:
        await s.close(c)


def test_delivers_to_oncall():
    payload = json.load(open(FIXTURE))
    marker = f"stack-relay-{int(time.time() * 1000)}"
    payload["alerts"][0]["annotations"]["summary"] += f" [{marker}]"
    req = urllib.request.Request(URL + "/alert", data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode()
        assert r.status == 200 and "xmpp" in body, f"{r.status} {body}"
    # Delivered while on-call was offline: offline storage hands it over at login.
    sender, text = asyncio.run(oncall_gets(marker))
    assert sender.startswith(f"alerts@{s.DOMAIN}"), sender
    assert "HaproxyBackendServerDown" in text, text
    s.say(f"on-call received from {sender}: {text.splitlines()[0]}")


if __name__ == "__main__":
    s.run([test_started_by_the_stack, test_scraped_by_prometheus, test_delivers_to_oncall])
