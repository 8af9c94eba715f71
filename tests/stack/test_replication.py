#!/usr/bin/python3
"""MariaDB master-master: a row written on either side appears on the other, the
interleaved auto-increment keeps keys apart, and the schema and accounts are as documented."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

TABLE = "xmppwatch.stack_test"


def test_threads_running_both_ways():
    for node in (1, 2):
        st = s.slave_status(node)
        peer = s.NODE_IP[3 - node]
        assert st.get("Master_Host") == peer, f"mariadb{node} replicates from {st.get('Master_Host')}"
        assert s.replication_ok(node), f"mariadb{node}: IO={st.get('Slave_IO_Running')} SQL={st.get('Slave_SQL_Running')}"


def test_row_written_on_each_side_appears_on_the_other():
    s.sql(1, f"CREATE TABLE IF NOT EXISTS {TABLE} (id INT AUTO_INCREMENT PRIMARY KEY, "
             "origin INT NOT NULL, token VARCHAR(64) NOT NULL) ENGINE=InnoDB")
    s.wait_for("the test table on mariadb2", lambda: s.sql(2, "SHOW TABLES FROM xmppwatch LIKE 'stack_test'"), 10)
    for writer in (1, 2):
        reader = 3 - writer
        token = uuid.uuid4().hex
        t0 = time.monotonic()
        s.sql(writer, f"INSERT INTO {TABLE} (origin, token) VALUES (@@server_id, '{token}')")
        row = s.wait_for(f"row from mariadb{writer} on mariadb{reader}",
                         lambda: s.sql(reader, f"SELECT id, origin FROM {TABLE} WHERE token = '{token}'"), 10, 0.02)
        row_id, origin = map(int, row.split())
        s.say(f"mariadb{writer} -> mariadb{reader}: row arrived in {(time.monotonic() - t0) * 1000:.0f} ms (id {row_id})")
        assert origin == writer
        # auto_increment_increment=2, offset=server-id: node 1 makes odd keys, node 2 even ones.
        assert row_id % 2 == writer % 2, f"id {row_id} written on mariadb{writer} breaks the interleaving"


def test_schema_and_accounts():
    for node in (1, 2):
        tables = s.sql(node, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'ejabberd'")
        assert int(tables) > 20, f"mariadb{node}: only {tables} ejabberd tables"
        hb = s.sql(node, "SHOW COLUMNS FROM xmppwatch.heartbeat")
        assert "server_id" in hb and "ts" in hb
        grants = s.sql(node, "SHOW GRANTS FOR 'repl'@'127.0.0.%'")
        assert "REPLICATION SLAVE" in grants and "ALL PRIVILEGES" not in grants, grants
        grants = s.sql(node, "SHOW GRANTS FOR 'xmppwatch_exporter'@'127.0.0.%'")
        assert "SLAVE MONITOR" in grants and "`heartbeat`" in grants, grants


def test_exporter_account_can_do_its_job():
    """The exporter's credentials file works over TCP from the loopback, for exactly what it needs."""
    cnf = os.path.join(s.RUN_DIR, "secrets", "mariadb-exporter.cnf")
    assert oct(os.stat(cnf).st_mode & 0o777) == "0o600"
    import subprocess  # noqa: PLC0415
    for node in (1, 2):
        # REPLACE would need DELETE: the exporter upserts instead.
        q = ("SHOW SLAVE STATUS; INSERT INTO xmppwatch.heartbeat (server_id, ts) VALUES "
             "(@@server_id, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED)) "
             "ON DUPLICATE KEY UPDATE ts = VALUES(ts); SELECT COUNT(*) FROM xmppwatch.heartbeat")
        p = subprocess.run(["mariadb", f"--defaults-extra-file={cnf}", "-h", s.NODE_IP[node], "-P", "3306",
                            "-N", "-B", "-e", q], capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        p = subprocess.run(["mariadb", f"--defaults-extra-file={cnf}", "-h", s.NODE_IP[node], "-P", "3306",
                            "-N", "-B", "-e", "SELECT COUNT(*) FROM ejabberd.users"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode != 0, "the exporter account can read ejabberd.users"


def test_check_replication_command():
    out = s.stack("check-replication").stdout
    assert "OK both ways" in out, out


if __name__ == "__main__":
    s.run([test_threads_running_both_ways, test_row_written_on_each_side_appears_on_the_other,
           test_schema_and_accounts, test_exporter_account_can_do_its_job, test_check_replication_command])
