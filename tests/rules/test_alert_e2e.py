#!/usr/bin/python3
"""End to end through the running stack: kill ejabberd node 1; the EjabberdNodeDown,
HaproxyBackendServerDown and XmppNodeLoginFailing alerts travel Prometheus -> Alertmanager -> a webhook receiver this
test runs on 127.0.0.1:9097 (the address rules/alertmanager.yml sends to), both as the raw
webhook (annotations rendered by Prometheus) and as the Slack-compatible chat message rendered
by rules/templates/xmppwatch.tmpl; restart the node; the resolved notifications arrive.
The node is restarted whatever happens (server/stack start ej1).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
from receiver import Receiver  # noqa: E402

# The XMPP alert relay (alert_relay/) on 127.0.0.1:9099, where rules/alertmanager.yml sends,
# delivering to oncall@xmpp.test through the load balancer. The stack starts it; on a stack
# without one, the test starts the binary named here.
RELAY = os.environ.get("XMPPWATCH_ALERT_RELAY", "")


def stack_relay_up():
    try:
        return livelib.get("http://127.0.0.1:9099/-/healthy", 2) == "OK\n"
    except OSError:
        return False

say = livelib.say
WANT = {  # alertname -> labels the firing alert must carry
    "EjabberdNodeDown": {"host": "xmpp1", "severity": "critical"},
    "HaproxyBackendServerDown": {"server": "ej1", "severity": "warning"},
    # The per-node login probe (job xmpp_probe_nodes) sees node 1 refuse while the LB works.
    "XmppNodeLoginFailing": {"node": "xmpp1", "instance": "127.0.0.2:5222", "severity": "warning"},
}
# XMPPWATCH_E2E_ALERTS=HaproxyBackendServerDown narrows the check (debugging a half-built stack).
if os.environ.get("XMPPWATCH_E2E_ALERTS"):
    WANT = {k: v for k, v in WANT.items() if k in os.environ["XMPPWATCH_E2E_ALERTS"].split(",")}
FIRE_TIMEOUT = 240
RESOLVE_TIMEOUT = 240


def alertmanager_current():
    """Makes the stack's Alertmanager run rules/alertmanager.yml with its templates."""
    tmpl_dst = os.path.join(livelib.RUN_DIR, "alertmanager", "templates")
    assert os.path.isdir(tmpl_dst), f"server/stack did not copy rules/templates/ to {tmpl_dst}"
    status = json.loads(livelib.get(f"{livelib.AM}/api/v2/status"))
    if "oncall-critical" not in status["config"]["original"]:
        say("Alertmanager runs another configuration: restarting it through the launcher")
        livelib.stack("kill", "am", "TERM")
        livelib.wait_for("alertmanager to stop", lambda: livelib.stack("status").stdout.count("alertmanager  down"), 30)
        livelib.stack("start", "am")
    status = json.loads(livelib.get(f"{livelib.AM}/api/v2/status"))
    assert "oncall-critical" in status["config"]["original"], "Alertmanager did not load rules/alertmanager.yml"


def prometheus_current():
    names = {r["name"] for g in livelib.prom_api("rules")["groups"] for r in g["rules"]}
    if not set(WANT) <= names:
        say("Prometheus lacks the rules: re-rendering (server/stack start prometheus) and reloading")
        livelib.stack("start", "prometheus")
        livelib.post(f"{livelib.PROM}/-/reload")
        names = livelib.wait_for("rules loaded", lambda: set(WANT) <= {
            r["name"] for g in livelib.prom_api("rules")["groups"] for r in g["rules"]}, 30)
    if "EjabberdNodeDown" in WANT:
        # Right after the stack comes up (this test run alone) the first scrape is up to 15 s away.
        try:
            livelib.wait_for("ejabberd_up in Prometheus", lambda: livelib.query("ejabberd_up"), 45)
        except AssertionError:
            raise AssertionError("ejabberd_up is not in Prometheus: the exporter's ejabberd collector is missing, "
                                 "so EjabberdNodeDown cannot fire (see test_live_metrics)") from None


def notified(rcv, alertname, status, since):
    """The webhook and chat notifications for alertname with the given status after `since`."""
    hooks, chats = [], []
    for t, path, body in rcv.messages():
        if t < since:
            continue
        if path == "/alertmanager":
            for a in body.get("alerts", []):
                if a["labels"].get("alertname") == alertname and a["status"] == status:
                    hooks.append((body, a))
        elif path == "/chat":
            for att in body.get("attachments", []):
                if alertname in att.get("title", "") and f"[{status.upper()}" in att.get("title", ""):
                    chats.append(att)
    return hooks, chats


def wait_notified(rcv, status, since, timeout, when):
    """Waits until every alert in WANT has both a webhook and a chat notification with this
    status after `since`; returns alertname -> seconds it took."""
    seconds = {}

    def all_arrived():
        for name in WANT:
            if name in seconds:
                continue
            hooks, chats = notified(rcv, name, status, since)
            if hooks and chats:
                seconds[name] = time.monotonic() - since
                say(f"{name}: {status} notification received {seconds[name]:.0f}s {when}")
        return len(seconds) == len(WANT)
    livelib.wait_for(f"{status} notifications for " + ", ".join(WANT), all_arrived, timeout, 2)
    return seconds


def check_hook(alertname, a):
    want = WANT[alertname]
    for k, v in want.items():
        assert a["labels"].get(k) == v, f"{alertname}: label {k}={a['labels'].get(k)!r}, expected {v!r}"
    ann = a["annotations"]
    for k in ("summary", "description", "runbook_url"):
        assert ann.get(k), f"{alertname}: annotation {k} missing"
        assert "{{" not in ann[k] and "<no value>" not in ann[k], f"{alertname}: {k} not rendered: {ann[k]}"
    assert ann["runbook_url"] == f"docs/runbooks/{alertname}.md"


def check_chat(alertname, att, status):
    text = att.get("text", "")
    need = [f"{status.upper()}: ", "Where: ", "Since: ", "Runbook: docs/runbooks/" + alertname + ".md"]
    if status == "firing":
        need.append("Silence: ")
    else:
        need.append("resolved ")
    for n in need:
        assert n in text, f"{alertname} chat message lacks {n!r}:\n{text}"
    assert "<no value>" not in text and "{{" not in text


def start_relay():
    import subprocess
    for user in ("alerts", "oncall"):
        if not os.path.exists(os.path.join(livelib.RUN_DIR, "secrets", f"xmpp-{user}.password")):
            livelib.stack("user", "add", user)
    log = open(os.path.join(livelib.RUN_DIR, "alert-relay-e2e.log"), "w")
    proc = subprocess.Popen([RELAY, "--web.listen-address=127.0.0.1:9099",
                             f"--xmpp.password-file={livelib.RUN_DIR}/secrets/xmpp-alerts.password",
                             f"--xmpp.ca-file={livelib.RUN_DIR}/tls/xmpp.test.crt", "--xmpp.to=oncall@xmpp.test",
                             f"--fallback.file={livelib.RUN_DIR}/alert-relay-fallback.log"],
                            stdout=log, stderr=subprocess.STDOUT)
    livelib.wait_for("the alert relay", lambda: livelib.get("http://127.0.0.1:9099/-/healthy", 2) == "OK\n", 10, 0.2)
    say("XMPP alert relay listening on 127.0.0.1:9099")
    return proc


def check_relay_messages():
    """The on-call account got firing and resolved messages for every alert, over XMPP."""
    import asyncio
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stack"))
    import stacklib

    async def read():
        c = await stacklib.login("oncall")
        bodies = []
        try:
            while True:
                m = await stacklib.next_message(c.inbox, lambda m: bool(m["body"]), timeout=5)
                bodies.append(m["body"])
        except AssertionError:
            pass
        finally:
            await stacklib.close(c)
        return bodies
    bodies = asyncio.run(read())
    for name in WANT:
        for status in ("FIRING", "RESOLVED"):
            hit = [b for b in bodies if f"[{status}" in b.splitlines()[0] and name in b.splitlines()[0]]
            assert hit, f"on-call XMPP account got no {status} message for {name} ({len(bodies)} messages)"
            say(f"XMPP relay: on-call got {status} {name}")
    print("--- via XMPP ---\n" + [b for b in bodies if "FIRING" in b.splitlines()[0] and "EjabberdNodeDown" in b.splitlines()[0]][0])


def main():
    alertmanager_current()
    prometheus_current()
    # Earlier suites kill and restart node 1 too: their alerts resolve once HAProxy's checks and
    # Prometheus' next evaluations see the node back. Start from a quiet state.
    def quiet():
        return not [a for a in livelib.prom_api("alerts")["alerts"]
                    if a["labels"].get("alertname") in WANT and a["state"] in ("firing", "pending")]
    livelib.wait_for("alerts of earlier suites to resolve", quiet, 180)
    try:
        rcv = Receiver(port=9097)
    except OSError as e:
        raise AssertionError(f"cannot listen on 127.0.0.1:9097 for the webhook receiver: {e}")
    killed = False
    failures = []
    relay = None
    relay_checked = False
    try:
        relay_checked = stack_relay_up()
        if relay_checked:
            say("XMPP alert relay: the stack's, on 127.0.0.1:9099")
        elif RELAY:
            relay = start_relay()
            relay_checked = True
        t_kill = time.monotonic()
        livelib.stack("kill", "ej1")
        killed = True
        say("killed ejabberd node 1 (SIGKILL)")
        timings = wait_notified(rcv, "firing", t_kill, FIRE_TIMEOUT, "after")
        for name in WANT:
            hooks, chats = notified(rcv, name, "firing", t_kill)
            check_hook(name, hooks[0][1])
            check_chat(name, chats[0], "firing")
            print(f"--- {name} (chat message) ---\n{chats[0]['title']}\n{chats[0]['text']}")

        t_start = time.monotonic()
        livelib.stack("start", "ej1")
        killed = False
        say(f"restarted ejabberd node 1 ({time.monotonic() - t_start:.0f}s)")
        resolved = wait_notified(rcv, "resolved", t_start, RESOLVE_TIMEOUT, "after the restart")
        for name in WANT:
            hooks, chats = notified(rcv, name, "resolved", t_start)
            check_chat(name, chats[0], "resolved")
            print(f"--- {name} resolved (chat message) ---\n{chats[0]['title']}\n{chats[0]['text']}")
        if relay_checked:
            check_relay_messages()
        print(f"ALERT_E2E_FIRING_SECONDS={json.dumps({k: round(v) for k, v in timings.items()})}")
        print(f"ALERT_E2E_RESOLVED_SECONDS={json.dumps({k: round(v) for k, v in resolved.items()})}")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        if killed:
            say("restarting ejabberd node 1 after a failure")
            livelib.stack("start", "ej1", check=False)
        rcv.stop()
        if relay:
            relay.terminate()
            try:
                relay.wait(10)
            except Exception:  # noqa: BLE001
                relay.kill()
                relay.wait(5)
    for f in failures:
        print("FAIL:", f)
    print(f"{0 if failures else 1} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
