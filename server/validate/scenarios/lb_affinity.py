"""Where sessions live. New sessions go to the primary; a session stays on the node it is on;
when the primary dies its users move to node 2, and when it comes back new sessions go to it
again while the moved ones stay on node 2 (HAProxy does not cut backup sessions on failback:
no second outage for them). Measured, and each of those claims checked."""
import asyncio
import signal
import time
import uuid

import xmppstack as s

NAME = "lb-affinity"
SEED = "load balancing with affinity"
EXPECTED_ALERTS = []
FAST = False


async def _nodes(clients, user):
    return [s.session_node(user, str(c.boundjid.resource)) for c in clients]


async def _run(row):
    tag = uuid.uuid4().hex[:6]
    clients = [await s.login("erin", f"vaff-{tag}-{i}") for i in range(3)]
    try:
        before = await _nodes(clients, "erin")
        row.check("new sessions go to the primary", set(before) == {s.NODE_NAME[1]}, before)
        await asyncio.sleep(5)
        row.check("sessions stay on their node", await _nodes(clients, "erin") == before)
        t0 = time.time()
        s.signal_component("ejabberd1", signal.SIGKILL)
        await s.close(*clients)
        moved = []
        for i in range(3):
            _, c, _ = await s.first_login_after(time.monotonic(), "erin", give_up=20)
            moved.append(c)
        row.outage_s = time.time() - t0
        where = await _nodes(moved, "erin")
        row.check("users of the dead primary land on node 2", set(where) == {s.NODE_NAME[2]}, where)
        s.stack("start", "ejabberd1", timeout=120)
        s.wait_for("node 1 UP in HAProxy", lambda: s.haproxy_servers().get("ej1") == "UP", 30)
        row.recovery_s = time.time() - t0
        fresh = await s.login("erin", f"vaff-{tag}-new")
        try:
            row.check("after failback, new sessions go to the primary",
                      (await _nodes([fresh], "erin")) == [s.NODE_NAME[1]])
        finally:
            await s.close(fresh)
        await asyncio.sleep(10)
        stayed = [c for c in moved if c.is_connected()]
        row.note(f"when the primary returned, {len(stayed)} of {len(moved)} sessions on node 2 stayed there "
                 "(10 s later, still connected)")
        row.check("sessions on the backup are not cut on failback", len(stayed) == len(moved))
        clients = moved
    finally:
        await s.close(*clients)


def run(row, ctx):
    asyncio.run(_run(row))
