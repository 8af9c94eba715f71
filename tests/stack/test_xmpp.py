#!/usr/bin/python3
"""A third-party client (python3-slixmpp) against the cluster: STARTTLS + SCRAM through the
load balancer, a message across nodes, offline delivery, direct TLS, and what the
server refuses (plain auth, wrong password, an unverified certificate). Carbons are the fault
matrix's `carbons` scenario (server/validate/), which make test runs too."""
import asyncio
import os
import ssl
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

NODE1 = (s.NODE_IP[1], 5222)
NODE2 = (s.NODE_IP[2], 5222)


def body_is(token):
    return lambda m: m["body"] == token


async def test_login_through_lb_starttls_scram():
    c = await s.login("alice", "lb")
    try:
        assert c.mechanism() == "SCRAM-SHA-256", c.mechanism()
        assert c.tls_version() in ("TLSv1.2", "TLSv1.3"), c.tls_version()
        node = s.session_node("alice", "lb")
        assert node == s.NODE_NAME[1], f"LB sent the login to {node}; node 1 is the primary"
        s.say(f"login through LB: {c.mechanism()} over {c.tls_version()}, served by {node}")
    finally:
        await s.close(c)


async def test_message_node1_user_to_node2_user():
    alice = await s.login("alice", "n1", addr=NODE1)
    bob = await s.login("bob", "n2", addr=NODE2)
    try:
        assert s.session_node("alice", "n1") == s.NODE_NAME[1]
        assert s.session_node("bob", "n2") == s.NODE_NAME[2]
        token = "cross-" + uuid.uuid4().hex
        alice.send_message(mto=f"bob@{s.DOMAIN}/n2", mbody=token, mtype="chat")
        msg = await s.next_message(bob.inbox, body_is(token), 10)
        assert str(msg["from"]) == f"alice@{s.DOMAIN}/n1", msg["from"]
    finally:
        await s.close(alice, bob)


async def test_offline_message_delivered_at_next_login():
    # dave (an account only this test uses) must be offline for the message to be stored.
    s.wait_for("dave to have no session", lambda: not s.session_nodes("dave", 1), 10)
    alice = await s.login("alice", "off", addr=NODE1)
    token = "offline-" + uuid.uuid4().hex
    try:
        alice.send_message(mto=f"dave@{s.DOMAIN}", mbody=token, mtype="chat")
        await asyncio.sleep(0.5)
    finally:
        await s.close(alice)
    # The message was stored through node 1's database; dave comes back on node 2, which
    # reads its own database: this also crosses the replication.
    dave = await s.login("dave", "back", addr=NODE2)
    try:
        msg = await s.next_message(dave.inbox, body_is(token), 10)
        assert msg["delay"]["stamp"] is not None, "an offline message carries a delay stamp"
    finally:
        await s.close(dave)


async def test_direct_tls_port_5223():
    c = s._client_class()("alice", "tls5223")
    done = asyncio.get_running_loop().create_future()
    c.add_event_handler("session_start", lambda _: done.done() or done.set_result(True))
    c.add_event_handler("disconnected", lambda _: done.done() or done.set_exception(s.LoginFailed("disconnected")))
    c.connect(address=(s.NODE_IP[1], 5223), use_ssl=True)
    try:
        await asyncio.wait_for(done, 10)
        assert c.tls_version() is not None
    finally:
        await s.close(c)


async def test_wrong_password_refused():
    c = s._client_class()("alice", "bad")
    c.password = "not-the-password"
    done = asyncio.get_running_loop().create_future()
    c.add_event_handler("session_start", lambda _: done.done() or done.set_result("session"))
    c.add_event_handler("failed_auth", lambda _: done.done() or done.set_result("failed_auth"))
    c.add_event_handler("disconnected", lambda _: done.done() or done.set_result("disconnected"))
    c.connect(address=s.LB)
    try:
        res = await asyncio.wait_for(done, 10)
    finally:
        c.abort()
    assert res in ("failed_auth", "disconnected"), res


async def test_no_plaintext_auth_and_starttls_required():
    """Before STARTTLS the server offers only STARTTLS (required); after it, no PLAIN."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*s.LB), 5)
    try:
        writer.write(f"<?xml version='1.0'?><stream:stream to='{s.DOMAIN}' xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>".encode())
        await writer.drain()
        data = b""
        while b"</stream:features>" not in data:
            chunk = await asyncio.wait_for(reader.read(4096), 5)
            if not chunk:
                break
            data += chunk
        text = data.decode()
        assert "<required/>" in text and "starttls" in text, text
        assert "PLAIN" not in text and "mechanisms" not in text, f"auth offered before TLS: {text}"
    finally:
        writer.close()


async def test_certificate_is_verified():
    """The certificate is the stack's own (CN/SAN the domain): a client with the system CAs only
    refuses it, which proves the tests above really verified it against tls/xmpp.test.crt."""
    ctx = ssl.create_default_context(cafile=os.path.join(s.RUN_DIR, "tls", f"{s.DOMAIN}.crt"))
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(s.NODE_IP[1], 5223, ssl=ctx, server_hostname=s.DOMAIN), 5)
    cert = writer.get_extra_info("peercert")
    writer.close()
    assert dict(x[0] for x in cert["subject"])["commonName"] == s.DOMAIN, cert
    bad = ssl.create_default_context()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(s.NODE_IP[1], 5223, ssl=bad, server_hostname=s.DOMAIN), 5)
        w.close()
        raise AssertionError("a client without the stack's CA accepted the certificate")
    except ssl.SSLCertVerificationError:
        pass


async def test_modules_announced():
    """The modules the stack promises answer: carbons, ping, blocking, vCard on the server,
    MAM and push on the account, MUC and HTTP upload services, stream management enabled."""
    c = await s.login("alice", "disco", plugins=("xep_0030", "xep_0198"))
    enabled = asyncio.get_running_loop().create_future()
    try:
        disco = c["xep_0030"]
        server = set((await disco.get_info(jid=s.DOMAIN, timeout=5))["disco_info"]["features"])
        for ns in ("urn:xmpp:carbons:2", "urn:xmpp:ping", "urn:xmpp:blocking", "vcard-temp",
                   "jabber:iq:version", "msgoffline"):
            assert ns in server, f"{ns} not announced by {s.DOMAIN}"
        account = set((await disco.get_info(jid=f"alice@{s.DOMAIN}", timeout=5))["disco_info"]["features"])
        for ns in ("urn:xmpp:mam:2", "urn:xmpp:push:0"):
            assert ns in account, f"{ns} not announced on the account"
        items = await disco.get_items(jid=s.DOMAIN, timeout=5)
        services = {str(i[0]) for i in items["disco_items"]["items"]}
        assert f"conference.{s.DOMAIN}" in services and f"upload.{s.DOMAIN}" in services, services
        upload = await disco.get_info(jid=f"upload.{s.DOMAIN}", timeout=5)
        assert "urn:xmpp:http:upload:0" in upload["disco_info"]["features"]
        # Stream management (XEP-0198): slixmpp enables it when the server offers it.
        if c["xep_0198"].enabled_out:
            enabled.set_result(True)
        else:
            c.add_event_handler("sm_enabled", lambda _: enabled.done() or enabled.set_result(True))
        await asyncio.wait_for(enabled, 5)
    finally:
        await s.close(c)


def test_connection_rate_limit():
    """HAProxy refuses a client address that opens more than the limit (300 per 10 s locally)
    of new connections. From a random 127.0.0.x of its own, so neither another test's address
    nor an earlier run's stick-table entry gets in the way."""
    import random  # noqa: PLC0415
    import socket  # noqa: PLC0415
    limit = int(os.environ.get("XMPPWATCH_HAPROXY_CONN_RATE", "300"))
    src = f"127.0.0.{random.randint(10, 250)}"
    socks, refused = [], 0
    try:
        for _ in range(limit + 40):
            c = socket.socket()
            c.settimeout(2)
            c.bind((src, 0))
            try:
                c.connect(s.LB)
            except OSError:
                refused += 1
                c.close()
                continue
            socks.append(c)
        # connect() returns once the kernel has queued the connection; HAProxy accepts and
        # refuses it a little later. A refused one is closed; an accepted one waits for our
        # stream header. Look until the count settles (bounded).
        deadline = time.monotonic() + 6
        for c in socks:
            c.setblocking(False)
        closed = 0
        while time.monotonic() < deadline:
            closed = 0
            for c in socks:
                try:
                    if c.recv(1, socket.MSG_PEEK) == b"":
                        closed += 1
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
            if refused + closed >= 40:
                break
            time.sleep(0.25)
        refused += closed
    finally:
        for c in socks:
            c.close()
    s.say(f"{limit + 40} connections from {src} in a burst: {refused} refused by the rate limit")
    assert 30 <= refused <= 45, f"{refused} of {limit + 40} refused, expected about 40 (limit {limit})"


if __name__ == "__main__":
    s.run([test_login_through_lb_starttls_scram, test_message_node1_user_to_node2_user,
           test_offline_message_delivered_at_next_login,
           test_direct_tls_port_5223, test_wrong_password_refused,
           test_no_plaintext_auth_and_starttls_required, test_certificate_is_verified,
           test_modules_announced, test_connection_rate_limit])
