"""The recipient is offline: 20 numbered messages sent through the load balancer must be
stored and handed over, all of them and in order, when it logs in again."""
import asyncio
import uuid

import xmppstack as s

NAME = "offline"
SEED = "stored, delivered at next login"
EXPECTED_ALERTS = []
FAST = True
COUNT = 20


async def _run(row):
    tag = uuid.uuid4().hex[:8]
    s.wait_for("dave to have no session", lambda: not s.session_nodes("dave", 1), 15, 0.5)
    alice = await s.login("alice", f"voff-{tag}")
    try:
        for i in range(COUNT):
            alice.send_message(mto=f"dave@{s.DOMAIN}", mbody=f"voff {tag} {i}", mtype="chat")
        # A round trip to the server after the last message: everything before it is stored.
        await alice.plugin["xep_0199"].ping(jid=s.DOMAIN, timeout=5)
    finally:
        await s.close(alice)
    row.sent = row.acked = COUNT
    dave = await s.login("dave", f"voff-{tag}")
    got = []
    try:
        while len(got) < COUNT:
            m = await s.next_message(dave.inbox, lambda m: str(m["body"]).startswith(f"voff {tag} "), 10)
            got.append(int(str(m["body"]).split()[2]))
        await asyncio.sleep(1)  # anything more would be a duplicate
        while not dave.inbox.empty():
            m = dave.inbox.get_nowait()
            if str(m["body"]).startswith(f"voff {tag} "):
                got.append(int(str(m["body"]).split()[2]))
    except AssertionError:
        pass
    finally:
        await s.close(dave)
    row.delivered = len(set(got))
    row.lost = COUNT - row.delivered
    row.duplicated = len(got) - len(set(got))
    row.check("every message delivered at login", row.lost == 0, f"{row.delivered} of {COUNT}")
    row.check("in order", got[:COUNT] == sorted(got[:COUNT]), got[:COUNT])
    row.check("no duplicates", row.duplicated == 0, row.duplicated)


def run(row, ctx):
    asyncio.run(_run(row))
