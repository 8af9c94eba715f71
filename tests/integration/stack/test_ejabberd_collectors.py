#!/usr/bin/python3
"""The exporter's ejabberd collectors against the real cluster: mod_metrics counters advance
on the node that handled the stanzas, the sessions gauge matches ejabberd's own count, failed
logins are counted, and a killed node shows as ejabberd_up 0 (scrape still served) and as a
down cluster member on its peer. Leaves the stack healthy."""
import asyncio
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exporterlib as e  # noqa: E402
from exporterlib import s  # noqa: E402

N = 25
VHOST = s.DOMAIN


async def exchange(n):
    alice = await s.login("alice", addr=(s.NODE_IP[1], 5222))
    bob = await s.login("bob", addr=(s.NODE_IP[2], 5222))
    inbox = asyncio.Queue()
    bob.add_event_handler("message", lambda m: inbox.put_nowait(m))
    try:
        tag = uuid.uuid4().hex[:8]
        for i in range(n):
            alice.send_message(mto=f"bob@{VHOST}", mbody=f"{tag}-{i}", mtype="chat")
        for _ in range(n):
            await s.next_message(inbox, lambda m: str(m["body"]).startswith(tag), timeout=15)
        # Both sessions are up now: the gauge must agree with ejabberd's own count.
        for node, host in ((1, 1), (2, 2)):
            for _ in range(20):
                before = s.api(node, "connected_users_number")["num_sessions"]
                got = e.value(e.scrape(host), "ejabberd_connected_sessions")
                after = s.api(node, "connected_users_number")["num_sessions"]
                if before == after == got:
                    break
                await asyncio.sleep(0.2)
            assert before == after == got, f"node {node}: exporter says {got}, ejabberd {before}/{after}"
            s.say(f"node {node}: ejabberd_connected_sessions {got} = connected_users_number")
    finally:
        await s.close(alice, bob)


def counter(host, name):
    return e.value(e.scrape(host), name, vhost=VHOST) or 0.0


def test_stanza_counters_advance_on_the_right_node():
    s.wait_for("a healthy stack", s.stack_healthy, 60)
    sent1 = counter(1, "ejabberd_user_stanzas_sent_total")
    recv2 = counter(2, "ejabberd_user_stanzas_received_total")
    logins1 = counter(1, "ejabberd_c2s_logins_total")
    asyncio.run(exchange(N))
    # Datagrams are asynchronous: wait (bounded) for them to be counted.
    got_sent = e.wait_value(1, "ejabberd_user_stanzas_sent_total", lambda v: v - sent1 >= N, vhost=VHOST)
    got_recv = e.wait_value(2, "ejabberd_user_stanzas_received_total", lambda v: v - recv2 >= N, vhost=VHOST)
    e.wait_value(1, "ejabberd_c2s_logins_total", lambda v: v > logins1, vhost=VHOST)
    s.say(f"{N} messages alice(node 1) -> bob(node 2): node 1 sent +{got_sent - sent1:.0f}, "
          f"node 2 received +{got_recv - recv2:.0f}")
    assert e.value(e.scrape(1), "ejabberd_metrics_datagrams_invalid_total") == 0


async def wrong_password_login():
    Client = s._client_class()
    c = Client("alice", "wrongpw")
    c.password = "not-the-password-" + uuid.uuid4().hex
    done = asyncio.get_running_loop().create_future()
    c.add_event_handler("failed_auth", lambda _: done.done() or done.set_result("failed"))
    c.add_event_handler("session_start", lambda _: done.done() or done.set_result("logged in"))
    c.connect(address=(s.NODE_IP[1], 5222))
    try:
        result = await asyncio.wait_for(done, 10)
    finally:
        c.abort()
    assert result == "failed", result


def test_failed_logins_are_counted():
    before = counter(1, "ejabberd_auth_failures_total")
    asyncio.run(wrong_password_login())
    got = e.wait_value(1, "ejabberd_auth_failures_total", lambda v: v > before, vhost=VHOST)
    s.say(f"ejabberd_auth_failures_total on node 1: {before:.0f} -> {got:.0f}")


def test_killed_node_reports_down_and_peer_sees_it():
    s.wait_for("a healthy stack", s.stack_healthy, 60)
    assert e.value(e.scrape(1), "ejabberd_up") == 1
    s.stack("kill", "ejabberd1", "KILL")
    try:
        t0 = time.monotonic()
        samples = e.scrape(1)  # the very next scrape
        took = time.monotonic() - t0
        assert e.value(samples, "ejabberd_up") == 0, "ejabberd_up still 1 after kill -9"
        assert e.value(samples, "node_scrape_collector_success", collector="ejabberd") == 1
        assert e.value(samples, "node_cpu_seconds_total", cpu="0", mode="user") is not None
        s.say(f"node 1 killed: next scrape of its exporter took {took:.3f}s, ejabberd_up 0")
        e.wait_value(2, "ejabberd_cluster_member_up", lambda v: v == 0, timeout=30, member=s.NODE_NAME[1])
        s.say("node 2's exporter: ejabberd_cluster_member_up{member=ej1@127.0.0.2} 0")
    finally:
        s.stack("start", "ejabberd1", timeout=240)
    e.wait_value(1, "ejabberd_up", lambda v: v == 1, timeout=60)
    e.wait_value(2, "ejabberd_cluster_member_up", lambda v: v == 1, timeout=60, member=s.NODE_NAME[1])
    s.say("node 1 back: ejabberd_up 1, member up on node 2")


def test_promtool_accepts_a_full_scrape():
    import subprocess
    p = subprocess.run(["promtool", "check", "metrics"], input=e.scrape_text(1), capture_output=True, text=True,
                       timeout=60)
    lines = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    # The lints accepted are node_exporter's own names, kept for drop-in dashboards; the same list
    # as tests/integration/promtool_test.cpp and docs/exporter.md. Anything of ours must be clean.
    import re
    inherited = [re.compile(r"^node_(memory|netstat|sockstat)_\w+ metric names should be written in 'snake_case' not 'camelCase'$"),
                 re.compile(r'^node_entropy_\w+_bits use base unit "bytes" instead of "bits"$')]
    other = [l for l in lines if not any(r.match(l) for r in inherited)]
    assert not other, "promtool: " + "; ".join(other)
    s.say(f"promtool: {len(lines)} lint lines, all node_exporter's inherited names")


if __name__ == "__main__":
    s.run([test_stanza_counters_advance_on_the_right_node, test_failed_logins_are_counted,
           test_killed_node_reports_down_and_peer_sees_it, test_promtool_accepts_a_full_scrape])
