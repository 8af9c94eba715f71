"""`server/stack backup`, then damage (users, roster items and offline messages deleted),
then `server/stack restore`: every row back on both databases, compared row by row, and the
backup directory keeps seven days."""
import os
import time
import uuid

import xmppstack as s

NAME = "backup-restore"
SEED = "daily backup, 7 days kept, restore works"
EXPECTED_ALERTS = []
FAST = False
USERS = 5


def _digest(node, tag):
    """One checksum per row of ours, in key order: compared row by row, not by count."""
    q = (f"SELECT GROUP_CONCAT(CONCAT_WS(':', t, h) ORDER BY t, h SEPARATOR ',') FROM ("
         f"SELECT 'u' AS t, MD5(CONCAT_WS('|', username, password)) AS h FROM ejabberd.users WHERE username LIKE 'vbk{tag}%' "
         f"UNION ALL SELECT 'r', MD5(CONCAT_WS('|', username, jid, subscription)) FROM ejabberd.rosterusers WHERE username LIKE 'vbk{tag}%' "
         f"UNION ALL SELECT 's', MD5(CONCAT_WS('|', username, xml)) FROM ejabberd.spool WHERE username LIKE 'vbk{tag}%') x")
    return s.sql(node, q)


def run(row, ctx):
    tag = uuid.uuid4().hex[:6]
    backup_dir = os.environ.get("XMPPWATCH_BACKUP_DIR") or os.path.join(s.RUN_DIR, "backups")
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    # Retention: an 8-day-old backup must go, a 6-day-old one must stay.
    old, recent = (os.path.join(backup_dir, f"xmppwatch-mariadb1-vbk{tag}-{d}.sql.gz") for d in ("old", "recent"))
    for path, days in ((old, 8), (recent, 6)):
        with open(path, "wb"):
            pass
        t = time.time() - days * 86400
        os.utime(path, (t, t))
    stmts = []
    for i in range(USERS):
        u = f"vbk{tag}{i}"
        stmts.append(f"INSERT INTO ejabberd.users (username, password) VALUES ('{u}', 'x{i}')")
        stmts.append(f"INSERT INTO ejabberd.rosterusers (username, jid, nick, subscription, ask, askmessage, server, subscribe, type) "
                     f"VALUES ('{u}', 'peer{i}@{s.DOMAIN}', '', 'B', 'N', '', 'N', '', 'item')")
        stmts.append(f"INSERT INTO ejabberd.spool (username, xml) VALUES ('{u}', "
                     f"'<message xmlns=\"jabber:client\" to=\"{u}@{s.DOMAIN}\"><body>kept {i}</body></message>')")
    s.sql(1, "; ".join(stmts))
    s.wait_for("the rows on mariadb2", lambda: _digest(2, tag) == _digest(1, tag), 15)
    before = _digest(1, tag)
    row.sent = row.acked = 3 * USERS
    row.duplicated = 0
    out = s.stack("backup", timeout=300).stdout.strip().splitlines()
    dump = out[-1] if out else ""
    row.check("backup written", os.path.isfile(dump), dump)
    row.check("backups older than 7 days removed", not os.path.exists(old))
    row.check("backups within 7 days kept", os.path.exists(recent))
    os.unlink(recent)
    s.sql(1, f"DELETE FROM ejabberd.spool WHERE username LIKE 'vbk{tag}%'; "
             f"DELETE FROM ejabberd.rosterusers WHERE username LIKE 'vbk{tag}%'; "
             f"DELETE FROM ejabberd.users WHERE username LIKE 'vbk{tag}%'")
    s.wait_for("the damage on mariadb2", lambda: _digest(2, tag) in ("", "NULL"), 15)
    row.check("damage done (rows gone on both)", _digest(1, tag) in ("", "NULL"))
    t0 = time.time()
    s.stack("restore", dump, timeout=600)
    row.recovery_s = time.time() - t0
    try:
        s.wait_for("restored rows on both databases", lambda: _digest(1, tag) == before == _digest(2, tag), 60)
        row.check("every row back on both databases, row by row", True, f"{3 * USERS} rows")
    except AssertionError:
        row.check("every row back on both databases, row by row", False,
                  f"node 1 {'same' if _digest(1, tag) == before else 'differs'}, node 2 {'same' if _digest(2, tag) == before else 'differs'}")
    row.delivered = row.sent if _digest(1, tag) == before else 0
    row.lost = row.sent - row.delivered
    s.sql(1, f"DELETE FROM ejabberd.spool WHERE username LIKE 'vbk{tag}%'; "
             f"DELETE FROM ejabberd.rosterusers WHERE username LIKE 'vbk{tag}%'; "
             f"DELETE FROM ejabberd.users WHERE username LIKE 'vbk{tag}%'")
    row.check("replication running both ways after the restore", s.replication_ok(1) and s.replication_ok(2))
