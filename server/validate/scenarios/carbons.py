"""One user on two devices (resources on different nodes): both see what arrives for either
(received carbons) and what the other sent (sent carbons), XEP-0280."""
import asyncio
import uuid

import xmppstack as s

NAME = "carbons"
SEED = "user with 2 devices receives on both"
EXPECTED_ALERTS = []
FAST = True


def _body_is(token):
    return lambda m: str(m["body"]) == token


async def _run(row):
    tag = uuid.uuid4().hex[:6]
    a1 = await s.login("alice", f"vphone-{tag}", addr=(s.NODE_IP[1], 5222))
    a2 = await s.login("alice", f"vlaptop-{tag}", addr=(s.NODE_IP[2], 5222))
    bob = await s.login("bob", f"vdesk-{tag}")
    row.sent = row.acked = 2
    row.delivered = 0
    try:
        for c in (a1, a2):
            await c.plugin["xep_0280"].enable(timeout=5)
        token = "vcarbon-rx-" + uuid.uuid4().hex
        bob.send_message(mto=f"alice@{s.DOMAIN}/vphone-{tag}", mbody=token, mtype="chat")
        await s.next_message(a1.inbox, _body_is(token), 10)
        kind, _ = await s.next_message(a2.carbons, lambda i: str(i[1]["carbon_received"]["body"]) == token, 10)
        row.check("received carbon on the second device", kind == "received")
        row.delivered += 1
        token = "vcarbon-tx-" + uuid.uuid4().hex
        a1.send_message(mto=f"bob@{s.DOMAIN}/vdesk-{tag}", mbody=token, mtype="chat")
        await s.next_message(bob.inbox, _body_is(token), 10)
        kind, _ = await s.next_message(a2.carbons, lambda i: str(i[1]["carbon_sent"]["body"]) == token, 10)
        row.check("sent carbon on the second device", kind == "sent")
        row.delivered += 1
    except AssertionError as e:
        row.check("carbons delivered", False, e)
    finally:
        await s.close(a1, a2, bob)
    row.lost = row.sent - row.delivered
    row.duplicated = 0


def run(row, ctx):
    asyncio.run(_run(row))
