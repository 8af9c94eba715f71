#!/usr/bin/python3
"""The seed's admin scripts as launcher subcommands: accounts (add, password change, list,
delete), backup (gzip, 7-day retention) and restore, status, logs."""
import asyncio
import glob
import gzip
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402


async def can_login(user, password):
    c = s._client_class()(user, "admin-test")
    c.password = password
    done = asyncio.get_running_loop().create_future()
    c.add_event_handler("session_start", lambda _: done.done() or done.set_result(True))
    c.add_event_handler("failed_auth", lambda _: done.done() or done.set_result(False))
    c.add_event_handler("disconnected", lambda _: done.done() or done.set_result(False))
    c.connect(address=s.LB)
    try:
        return await asyncio.wait_for(done, 10)
    finally:
        c.abort()


def test_user_lifecycle():
    name = "adm" + uuid.uuid4().hex[:8]
    secret = os.path.join(s.RUN_DIR, "secrets", f"xmpp-{name}.password")
    p = s.stack("user", "add", name)
    assert os.path.exists(secret) and oct(os.stat(secret).st_mode & 0o777) == "0o600"
    pw = open(secret).read().strip()
    assert pw not in p.stdout + p.stderr, "the generated password was printed"
    assert name in s.stack("user", "list").stdout.split()
    assert asyncio.run(can_login(name, pw))
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write("new-" + uuid.uuid4().hex + "\n")
    try:
        p = s.stack("user", "passwd", name, f.name)
        new = open(f.name).read().strip()
        assert new not in p.stdout + p.stderr
        assert asyncio.run(can_login(name, new))
        assert not asyncio.run(can_login(name, pw)), "the old password still works"
    finally:
        os.unlink(f.name)
    s.stack("user", "del", name)
    assert name not in s.stack("user", "list").stdout.split()
    assert not os.path.exists(secret)
    p = s.stack("user", "del", name, check=False)
    assert p.returncode != 0 and "does not exist" in p.stderr
    p = s.stack("user", "add", "Bad Name!", check=False)
    assert p.returncode != 0 and "invalid user name" in p.stderr


def test_backup_and_restore():
    # The marker is an account: it lives in the ejabberd database, which is what is backed up.
    name = "bk" + uuid.uuid4().hex[:8]
    s.stack("user", "add", name)
    backups = os.path.join(s.RUN_DIR, "backups")
    os.makedirs(backups, exist_ok=True)
    # A backup older than 7 days is pruned by the next one.
    old = os.path.join(backups, "xmppwatch-mariadb1-20000101-000000.sql.gz")
    with gzip.open(old, "wt") as f:
        f.write("-- old\n")
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))

    t0 = time.monotonic()
    out = s.stack("backup").stdout.strip().splitlines()[-1]
    s.say(f"backup {os.path.basename(out)} in {time.monotonic() - t0:.1f} s")
    assert out.endswith(".sql.gz") and os.path.exists(out), out
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    assert not os.path.exists(old), "a backup older than 7 days was kept"
    with gzip.open(out, "rt") as f:
        dump = f.read()
    assert "CREATE TABLE `users`" in dump and f"'{name}'" in dump
    # The success reaches Prometheus through host 1's exporter (textfile collector), where
    # MysqlBackupTooOld watches it.
    with urllib.request.urlopen("http://127.0.0.2:9100/metrics", timeout=10) as r:
        scraped = {l.split()[0]: float(l.split()[1]) for l in r.read().decode().splitlines()
                   if l.startswith(("xmppwatch_backup_", "node_textfile_scrape_error"))}
    assert scraped.get("node_textfile_scrape_error") == 0, scraped
    assert abs(scraped["xmppwatch_backup_last_success_timestamp_seconds"] - time.time()) < 120, scraped
    assert scraped["xmppwatch_backup_last_size_bytes"] == os.path.getsize(out), scraped
    s.say(f"exporter on host 1: backup {scraped['xmppwatch_backup_last_size_bytes']:.0f} bytes, "
          f"{time.time() - scraped['xmppwatch_backup_last_success_timestamp_seconds']:.0f} s ago")

    # Lose the account (deleted through node 1, replicated), restore, get it back everywhere.
    s.stack("user", "del", name)
    for node in (1, 2):
        s.wait_for(f"the delete on mariadb{node}",
                   lambda n=node: s.sql(n, f"SELECT COUNT(*) FROM ejabberd.users WHERE username = '{name}'") == "0", 10)
    t0 = time.monotonic()
    p = s.stack("restore", out, timeout=300)
    s.say(f"restore (ejabberd stopped, loaded, replicated, restarted) in {time.monotonic() - t0:.1f} s")
    assert "OK both ways" in p.stdout, p.stdout + p.stderr
    for node in (1, 2):
        assert s.sql(node, f"SELECT COUNT(*) FROM ejabberd.users WHERE username = '{name}'") == "1"
    assert name in s.stack("user", "list").stdout.split()
    s.wait_for("a healthy stack", s.stack_healthy, 40)
    s.stack("user", "del", name)
    p = s.stack("restore", "/nonexistent.sql.gz", check=False)
    assert p.returncode != 0 and "cannot read" in p.stderr
    for f in glob.glob(os.path.join(backups, "xmppwatch-*.sql.gz")):
        os.unlink(f)


def test_status_and_logs():
    out = s.stack("status").stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    for comp in ("mariadb1", "mariadb2", "ejabberd1", "ejabberd2", "haproxy", "prometheus", "alertmanager", "victoria"):
        assert rows[comp].split()[1] == "up", rows[comp]
    assert "io=Yes sql=Yes" in rows["mariadb1"] and "io=Yes sql=Yes" in rows["mariadb2"]
    assert "ej1@127.0.0.2" in rows["ejabberd2"] and "ej2@127.0.0.3" in rows["ejabberd1"]
    assert "ej1=UP ej2=UP" in rows["haproxy"]
    for comp in ("haproxy", "mariadb1", "prometheus", "ej1"):
        p = s.stack("logs", comp)
        assert p.stdout.strip(), f"no log lines for {comp}"


def test_secrets_not_world_readable():
    sec = os.path.join(s.RUN_DIR, "secrets")
    # root:xmppwatch 710: the daemons' user may pass through to the files it owns, not list.
    st = os.stat(sec)
    assert oct(st.st_mode & 0o777) == "0o710" and st.st_uid == 0, oct(st.st_mode & 0o777)
    import grp  # noqa: PLC0415
    assert grp.getgrgid(st.st_gid).gr_name == "xmppwatch"
    for f in os.listdir(sec):
        mode = os.stat(os.path.join(sec, f)).st_mode & 0o077
        assert mode == 0, f"{f} is readable by group/others"
    key = os.path.join(s.RUN_DIR, "tls", f"{s.DOMAIN}.key")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    bits = subprocess.run(["openssl", "x509", "-in", os.path.join(s.RUN_DIR, "tls", f"{s.DOMAIN}.crt"),
                           "-noout", "-text"], capture_output=True, text=True).stdout
    assert "Public-Key: (4096 bit)" in bits and f"CN = {s.DOMAIN}" in bits
    # No password in any log of the run directory.
    pw = [open(os.path.join(sec, f)).read().strip() for f in os.listdir(sec) if f.endswith(".password")]
    for logf in glob.glob(os.path.join(s.RUN_DIR, "**", "*.log"), recursive=True):
        text = open(logf, errors="replace").read()
        for p in pw:
            assert p not in text, f"a secret appears in {logf}"


if __name__ == "__main__":
    s.run([test_user_lifecycle, test_backup_and_restore, test_status_and_logs, test_secrets_not_world_readable])
