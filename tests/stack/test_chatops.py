#!/usr/bin/python3
"""Chat ops end to end (issue 17): the stack's relay (alerts@, started by `up` with
--chatops.allow oncall@ and the room oncall@conference) against the stack's Alertmanager,
driven by a client that is not ours (slixmpp, logged in as oncall@ with the password from
run/secrets). Each command's answer is checked, and so is Alertmanager's state through its
API v2: the silence, its matchers and createdBy; unsilence expiring it; `alerts` listing an
alert this test posted to Alertmanager; `ack` creating an exact silence that a resolved
webhook expires, and that the sweep expires once the alert is gone; gibberish getting help;
carol (not on the allow-list) getting nothing done; a room occupant receiving a notification;
commands addressed to the relay in the room.

Test alerts are severity=info (route `ticket`, group_wait 5m), so nothing pages during the test;
every silence and alert it makes is expired or resolved at the end."""
import asyncio
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

AM = "http://127.0.0.1:9093"
RELAY = "http://127.0.0.1:9099"
ALERTS = f"alerts@{s.DOMAIN}"
ONCALL = f"oncall@{s.DOMAIN}"
ROOM = f"oncall@conference.{s.DOMAIN}"
RUN = uuid.uuid4().hex[:8]  # keeps this run's alerts and silences apart from others'
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLEANUP = {"silences": [], "alerts": []}


def http(method, url, body=None, timeout=5):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text.strip() else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000Z"


def post_alert(labels, minutes=10, resolved=False):
    """Posts an alert to Alertmanager the way Prometheus does; returns its fingerprint."""
    now = time.time()
    body = [{"labels": labels, "annotations": {"summary": "chat-ops test alert"},
             "startsAt": rfc3339(now - 60), "endsAt": rfc3339(now - 1 if resolved else now + minutes * 60)}]
    status, _ = http("POST", AM + "/api/v2/alerts", body)
    assert status == 200, status
    if resolved:
        return None
    CLEANUP["alerts"].append(labels)

    def find():
        _, alerts = http("GET", AM + "/api/v2/alerts")
        return next((a["fingerprint"] for a in alerts if a["labels"] == labels), None)
    return s.wait_for(f"Alertmanager to hold {labels['alertname']}", find, 10, 0.2)


def silence(sid):
    status, body = http("GET", f"{AM}/api/v2/silence/{sid}")
    assert status == 200, (status, body)
    return body


def relay_metric(name):
    with urllib.request.urlopen(RELAY + "/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                yield line


def metric_value(series):
    return next((float(ln.split()[-1]) for ln in relay_metric(series.split("{")[0]) if ln.startswith(series + " ")
                 or ln == series), None)


NOTIFICATION = re.compile(r"^\[(FIRING|RESOLVED)(:\d+)?\]")


async def ask(c, text, timeout=15.0):
    """Sends a chat message to the relay and returns its answer's body. Alert notifications the
    relay sends oncall@ meanwhile (a real alert of the stack may fire during the test, for
    example an SLO burn after an earlier test's fault injection) are not answers: skipped."""
    c.send_message(mto=ALERTS, mbody=text, mtype="chat")

    def is_answer(m):
        if m["type"] != "chat" or m["from"].bare != ALERTS or not m["body"]:
            return False
        if NOTIFICATION.match(m["body"]):
            s.say(f"(a notification arrived meanwhile: {m['body'].splitlines()[0]!r})")
            return False
        return True
    m = await s.next_message(c.inbox, is_answer, timeout=timeout)
    return m["body"]


async def session_ready():
    s.wait_for("the relay's XMPP session (xmppwatch_alert_relay_xmpp_session_up 1)",
               lambda: metric_value("xmppwatch_alert_relay_xmpp_session_up") == 1.0, 30, 0.5)


async def test_silence_and_unsilence():
    await session_ready()
    c = await s.login("oncall")
    try:
        name = f"ChatopsSilence{RUN}"
        answer = await ask(c, f"silence 1h alertname={name} instance=node1")
        ids = UUID.findall(answer)
        assert answer.startswith("Silenced for 1h") and ids, answer
        sid = ids[0]
        CLEANUP["silences"].append(sid)
        sil = silence(sid)
        got = sorted((m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in sil["matchers"])
        assert got == [("alertname", name, True, False), ("instance", "node1", True, False)], got
        assert sil["createdBy"] == ONCALL, sil["createdBy"]
        assert "from chat" in sil["comment"], sil["comment"]
        assert sil["status"]["state"] == "active", sil["status"]
        s.say(f"silence {sid}: {got}, createdBy {sil['createdBy']}")

        # Regex and negative matchers, as typed.
        answer = await ask(c, f'silence 30m alertname=~"{name}|Other" instance!=node2')
        sid2 = UUID.findall(answer)[0]
        CLEANUP["silences"].append(sid2)
        got = sorted((m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in silence(sid2)["matchers"])
        assert got == [("alertname", f"{name}|Other", True, True), ("instance", "node2", False, False)], got

        answer = await ask(c, f"unsilence {sid}")
        assert answer == f"Silence {sid} expired.", answer
        assert silence(sid)["status"]["state"] == "expired"
        answer = await ask(c, f"unsilence {uuid.uuid4()}")
        assert answer.startswith("error: no such silence"), answer
        answer = await ask(c, "silence 1h")
        assert answer.startswith("error:") and "usage: silence" in answer, answer
        s.say(f"unsilence: expired; unknown ID: {answer.splitlines()[0]!r}")
    finally:
        await s.close(c)


async def test_alerts_and_help():
    await session_ready()
    labels = {"alertname": f"ChatopsListed{RUN}", "severity": "info", "instance": "chatops-test"}
    fp = post_alert(labels)
    c = await s.login("oncall")
    try:
        answer = await ask(c, "alerts")
        line = next((ln for ln in answer.splitlines() if ln.startswith(fp)), None)
        assert line == f"{fp} {labels['alertname']} (info) on chatops-test", answer
        s.say(f"alerts: {line!r}")
        answer = await ask(c, "what is going on?")
        assert answer.startswith("Commands:") and "ack FINGERPRINT" in answer, answer
    finally:
        await s.close(c)


def ack_silences(fp):
    _, sils = http("GET", AM + "/api/v2/silences")
    return [x for x in sils if x["comment"].startswith(f"xmppwatch-ack fingerprint={fp}:")]


def resolved_webhook(labels, fp):
    return {"version": "4", "groupKey": "{}:{alertname=\"x\"}", "status": "resolved", "receiver": "oncall-warning",
            "groupLabels": {}, "commonLabels": labels, "commonAnnotations": {}, "externalURL": AM,
            "alerts": [{"status": "resolved", "labels": labels, "annotations": {"summary": "chat-ops test"},
                        "startsAt": rfc3339(time.time() - 120), "endsAt": rfc3339(time.time()),
                        "generatorURL": "", "fingerprint": fp}]}


async def test_ack_until_resolved():
    await session_ready()
    labels = {"alertname": f"ChatopsAck{RUN}", "severity": "info", "instance": "chatops-test"}
    fp = post_alert(labels)
    c = await s.login("oncall")
    try:
        answer = await ask(c, f"ack {fp}")
        assert answer.startswith(f"Acknowledged {fp} {labels['alertname']}"), answer
        sils = [x for x in ack_silences(fp) if x["status"]["state"] == "active"]
        assert len(sils) == 1, sils
        sil = sils[0]
        CLEANUP["silences"].append(sil["id"])
        got = {m["name"]: (m["value"], m["isEqual"], m["isRegex"]) for m in sil["matchers"]}
        assert got == {k: (v, True, False) for k, v in labels.items()}, got
        assert sil["createdBy"] == ONCALL and sil["id"] in answer, (sil, answer)
        # Silenced now: `alerts` (active, not silenced) no longer lists it.
        assert not any(ln.startswith(fp) for ln in (await ask(c, "alerts")).splitlines())
        answer = await ask(c, f"ack {fp}")
        assert answer.startswith("Already acknowledged") and sil["id"] in answer, answer
        answer = await ask(c, "ack 00000000000000ff")
        assert answer.startswith("error: no alert with fingerprint"), answer
    finally:
        await s.close(c)
    # The resolved notification for that fingerprint, as Alertmanager would send it.
    status, _ = http("POST", RELAY + "/alert", resolved_webhook(labels, fp), timeout=30)
    assert status == 200, status
    state = silence(sil["id"])["status"]["state"]
    assert state == "expired", state
    s.say(f"ack: silence {sil['id']} with {len(got)} exact matchers, expired by the resolved webhook")


async def test_ack_swept_when_alert_is_gone():
    """Alertmanager mutes the resolved notification of a silenced alert: the relay's sweep
    (every minute in the stack) expires the ack once the alert is gone from Alertmanager."""
    await session_ready()
    labels = {"alertname": f"ChatopsSweep{RUN}", "severity": "info", "instance": "chatops-test"}
    fp = post_alert(labels)
    c = await s.login("oncall")
    try:
        answer = await ask(c, f"ack {fp}")
        assert answer.startswith("Acknowledged"), answer
    finally:
        await s.close(c)
    sid = ack_silences(fp)[0]["id"]
    CLEANUP["silences"].append(sid)
    post_alert(labels, resolved=True)
    t0 = time.monotonic()
    s.wait_for("the sweep to expire the ack silence", lambda: silence(sid)["status"]["state"] == "expired", 80, 1)
    s.say(f"sweep: ack silence {sid} expired {time.monotonic() - t0:.0f}s after the alert resolved")


async def test_not_allowed():
    await session_ready()
    before = metric_value("xmppwatch_alert_relay_chatops_refused_total") or 0
    name = f"ChatopsCarol{RUN}"
    c = await s.login("carol")
    try:
        c.send_message(mto=ALERTS, mbody=f"silence 1h alertname={name}", mtype="chat")
        try:
            m = await s.next_message(c.inbox, lambda m: m["from"].bare == ALERTS and m["body"], timeout=5)
            raise AssertionError(f"carol got an answer: {m['body']!r}")
        except AssertionError as e:
            if "no matching stanza" not in str(e):
                raise
    finally:
        await s.close(c)
    _, sils = http("GET", AM + "/api/v2/silences")
    assert not [x for x in sils if any(m["value"] == name for m in x["matchers"])], "carol's silence exists"
    after = metric_value("xmppwatch_alert_relay_chatops_refused_total")
    assert after == before + 1, (before, after)
    log_path = os.path.join(s.RUN_DIR, "relay", "relay.log")
    log = open(log_path).read() if os.access(log_path, os.R_OK) else ""
    if log:
        assert f"carol@{s.DOMAIN}" in log and "not on the allow-list" in log, "refusal not logged"
    s.say(f"carol: no answer, no silence, refused_total {before:.0f} -> {after:.0f}")


async def test_room():
    await session_ready()
    watcher = await s.login("bob", plugins=("xep_0045",))
    oncall = await s.login("oncall", plugins=("xep_0045",))
    carol = await s.login("carol", plugins=("xep_0045",))
    try:
        for c, nick in ((watcher, "bob"), (oncall, "oncall"), (carol, "carol")):
            await c.plugin["xep_0045"].join_muc_wait(ROOM, f"{nick}-{RUN}", maxstanzas=0, timeout=10)
        payload = json.load(open(os.path.join(s.REPO, "tests", "rules", "fixtures", "notify_firing.json")))
        marker = f"room-{RUN}"
        payload["alerts"][0]["annotations"]["summary"] += f" [{marker}]"
        status, body = http("POST", RELAY + "/alert", payload, timeout=30)
        assert status == 200 and body == {"delivered": "xmpp"}, (status, body)
        m = await s.next_message(watcher.inbox, lambda m: m["type"] == "groupchat" and marker in m["body"], 15)
        assert m["from"] == f"{ROOM}/alerts", m["from"]
        s.say(f"room: bob read {m['body'].splitlines()[0]!r} from {m['from']}")

        def answer_to(nick):
            return lambda m: (m["type"] == "groupchat" and m["from"] == f"{ROOM}/alerts"
                              and m["body"].startswith(f"{nick}: "))
        oncall.send_message(mto=ROOM, mbody="alerts: help", mtype="groupchat")
        m = await s.next_message(oncall.inbox, answer_to(f"oncall-{RUN}"), 15)
        assert "Commands:" in m["body"], m["body"]
        carol.send_message(mto=ROOM, mbody="alerts: alerts", mtype="groupchat")
        try:
            m = await s.next_message(carol.inbox, answer_to(f"carol-{RUN}"), 5)
            raise AssertionError(f"carol got an answer in the room: {m['body']!r}")
        except AssertionError as e:
            if "no matching stanza" not in str(e):
                raise
        s.say("room: oncall's addressed command answered, carol's not")
    finally:
        await s.close(watcher, oncall, carol)


def cleanup():
    for sid in CLEANUP["silences"]:
        http("DELETE", f"{AM}/api/v2/silence/{sid}")
    for labels in CLEANUP["alerts"]:
        post_alert(labels, resolved=True)


if __name__ == "__main__":
    try:
        s.run([test_silence_and_unsilence, test_alerts_and_help, test_ack_until_resolved, test_not_allowed, test_room,
               test_ack_swept_when_alert_is_gone])
    finally:
        cleanup()
