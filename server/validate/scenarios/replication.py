"""Master-master replication with no fault: an account and a roster item created on one node's
database appear on the other's, timed over 50 samples each way (seed: under 1 s; goal p99
200 ms). The rows go straight into ejabberd's tables, as a registration would write them, and
are removed again (the removal replicates too)."""
import statistics
import time
import uuid

import xmppstack as s

NAME = "replication"
SEED = "row on the other node < 1 s"
EXPECTED_ALERTS = []
FAST = True
SAMPLES = 50


def _arrival(reader, query, timeout=10.0):
    deadline = time.monotonic() + timeout
    with s.SqlSession(reader) as db:
        while time.monotonic() < deadline:
            if db.query(query) == "1":
                return True
            time.sleep(0.002)
    return False


def run(row, ctx):
    run_id = uuid.uuid4().hex[:6]
    for writer in (1, 2):
        reader = 3 - writer
        lat = []
        created = []
        with s.SqlSession(writer) as db:
            for i in range(SAMPLES):
                user = f"vrepl{run_id}w{writer}n{i}"
                t0 = time.monotonic()
                db.query(f"INSERT INTO ejabberd.users (username, password) VALUES ('{user}', '')")
                db.query("INSERT INTO ejabberd.rosterusers (username, jid, nick, subscription, ask, askmessage, server, "
                         f"subscribe, type) VALUES ('{user}', 'peer@{s.DOMAIN}', '', 'B', 'N', '', 'N', '', 'item')")
                created.append(user)
                q = (f"SELECT COUNT(*) FROM ejabberd.rosterusers r JOIN ejabberd.users u ON u.username = r.username "
                     f"WHERE u.username = '{user}'")
                if not _arrival(reader, q):
                    row.check(f"node {writer} -> node {reader}: sample {i} arrived", False, "not within 10 s")
                    break
                lat.append((time.monotonic() - t0) * 1000)
            in_list = ",".join(f"'{u}'" for u in created)
            db.query(f"DELETE FROM ejabberd.rosterusers WHERE username IN ({in_list})")
            db.query(f"DELETE FROM ejabberd.users WHERE username IN ({in_list})")
        if lat:
            lat.sort()
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
            row.note(f"node {writer} -> node {reader}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({len(lat)} samples)")
            row.check(f"node {writer} -> node {reader}: {SAMPLES} samples", len(lat) == SAMPLES, len(lat))
            row.check(f"node {writer} -> node {reader}: p99 under 1 s", p99 < 1000, f"{p99:.1f} ms")
            row.note(f"goal p99 200 ms {'met' if p99 <= 200 else 'missed'} ({writer}->{reader})")
    s.wait_for("the removals to replicate", lambda: s.sql(1, f"SELECT COUNT(*) FROM ejabberd.users WHERE username LIKE 'vrepl{run_id}%'") == "0"
               and s.sql(2, f"SELECT COUNT(*) FROM ejabberd.users WHERE username LIKE 'vrepl{run_id}%'") == "0", 15)
    row.check("replication threads still running both ways", s.replication_ok(1) and s.replication_ok(2))
