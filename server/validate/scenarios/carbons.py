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
        # A received carbon (bob writes to alice's phone) and a sent one (alice's phone writes
        # to bob): alice's laptop sees both.
        for kind, sender, receiver, to in (("received", bob, a1, f"alice@{s.DOMAIN}/vphone-{tag}"),
                                           ("sent", a1, bob, f"bob@{s.DOMAIN}/vdesk-{tag}")):
            token = f"vcarbon-{kind}-" + uuid.uuid4().hex
            sender.send_message(mto=to, mbody=token, mtype="chat")
            await s.next_message(receiver.inbox, _body_is(token), 10)
            got, _ = await s.next_message(a2.carbons, lambda i, k=kind, t=token: str(i[1][f"carbon_{k}"]["body"]) == t, 10)
            row.check(f"{kind} carbon on the second device", got == kind)
            row.delivered += 1
    except AssertionError as e:
        row.check("carbons delivered", False, e)
    finally:
        await s.close(a1, a2, bob)
    row.lost = row.sent - row.delivered
    row.duplicated = 0


def run(row, ctx):
    asyncio.run(_run(row))
