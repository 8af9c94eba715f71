#!/usr/bin/python3
"""MariaDB 2 goes down: node 1 (ejabberd + MariaDB 1) keeps serving logins and storing data;
when MariaDB 2 comes back, replication catches up in both directions and ejabberd node 2
serves logins again. Leaves the stack healthy."""
import asyncio
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

TABLE = "xmppwatch.stack_test"


async def login_ok(user, addr):
    c = await s.login(user, addr=addr, timeout=5)
    await s.close(c)


def test_mariadb2_outage_and_catch_up():
    s.wait_for("a healthy stack", s.stack_healthy, 40)
    s.sql(1, f"CREATE TABLE IF NOT EXISTS {TABLE} (id INT AUTO_INCREMENT PRIMARY KEY, "
             "origin INT NOT NULL, token VARCHAR(64) NOT NULL) ENGINE=InnoDB")
    s.wait_for("the test table on mariadb2", lambda: s.sql(2, "SHOW TABLES FROM xmppwatch LIKE 'stack_test'"), 10)

    t0 = time.monotonic()
    s.stack("kill", "mariadb2", "TERM")
    s.wait_for("mariadbd 2 to exit", lambda: not os.path.exists(f"/proc/{s.pid_of('mariadb2')}"), 40)
    s.say(f"mariadb2 stopped in {time.monotonic() - t0:.1f} s")
    try:
        # Node 1 keeps working: logins through the LB (node 1 is primary) and data written on
        # MariaDB 1 while its peer is away.
        asyncio.run(login_ok("alice", s.LB))
        tokens = [uuid.uuid4().hex for _ in range(20)]
        for tok in tokens:
            s.sql(1, f"INSERT INTO {TABLE} (origin, token) VALUES (@@server_id, '{tok}')")
        s.say("node 1 served a login through the LB and took 20 writes with MariaDB 2 down")
    finally:
        t1 = time.monotonic()
        s.stack("start", "mariadb2", timeout=120)
        s.say(f"mariadb2 restarted in {time.monotonic() - t1:.1f} s")

    # Replication catches up: everything written during the outage reaches MariaDB 2, and
    # MariaDB 1 reconnects to it (MASTER_CONNECT_RETRY=1) for the other direction.
    t2 = time.monotonic()
    in_list = ",".join(f"'{t}'" for t in tokens)
    s.wait_for("the outage's rows on mariadb2",
               lambda: s.sql(2, f"SELECT COUNT(*) FROM {TABLE} WHERE token IN ({in_list})") == "20", 30, 0.1)
    s.say(f"mariadb2 caught up with 20 rows {time.monotonic() - t2:.2f} s after its restart")
    s.wait_for("replication threads on both sides", lambda: s.replication_ok(1) and s.replication_ok(2), 30)
    tok = uuid.uuid4().hex
    s.sql(2, f"INSERT INTO {TABLE} (origin, token) VALUES (@@server_id, '{tok}')")
    s.wait_for("a row from mariadb2 on mariadb1",
               lambda: s.sql(1, f"SELECT COUNT(*) FROM {TABLE} WHERE token = '{tok}'") == "1", 15, 0.1)
    s.say(f"mariadb2 -> mariadb1 flowing again {time.monotonic() - t2:.2f} s after the restart")

    # ejabberd node 2 serves logins again once its SQL pool has reconnected.
    s.wait_for("a login on node 2", lambda: asyncio.run(login_ok("bob", (s.NODE_IP[2], 5222))) is None, 30, 1.0)
    s.wait_for("a healthy stack", s.stack_healthy, 40)


if __name__ == "__main__":
    s.run([test_mariadb2_outage_and_catch_up])
