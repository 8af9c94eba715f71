#!/usr/bin/python3
"""The exporter's MariaDB collector against the real pair: the heartbeat lag tracks a delay
injected by stopping the SQL thread, and stopping MariaDB 2 shows on host 1 as a stopped IO
thread with its error number (host 2: mysql_up 0, scrape still served), then recovers with
the lag back near 0. Leaves the stack healthy."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exporterlib as e  # noqa: E402
from exporterlib import s  # noqa: E402

TOLERANCE = 0.100  # the bound on how closely the lag tracks a known delay


def lag(host, peer):
    """(heartbeat lag as the exporter reports it, wall time of the scrape's midpoint)."""
    t0 = time.time()
    samples = e.scrape(host)
    t1 = time.time()
    return e.value(samples, "xmppwatch_replication_heartbeat_lag_seconds", peer_server_id=str(peer)), (t0 + t1) / 2


def io_running(host):
    return e.value(e.scrape(host), "mysql_slave_status_slave_io_running", connection_name="",
                   master_host=s.NODE_IP[2 if host == 1 else 1])


def test_heartbeat_lag_tracks_a_stopped_sql_thread():
    s.wait_for("a healthy stack", s.stack_healthy, 60)
    e.wait_value(1, "xmppwatch_replication_heartbeat_lag_seconds", lambda v: v < 0.5, timeout=30, peer_server_id="2")
    before, _ = lag(1, 2)
    s.sql(1, "STOP SLAVE SQL_THREAD")
    stopped_at = time.time()
    try:
        frozen = int(s.sql(1, "SELECT ts FROM xmppwatch.heartbeat WHERE server_id = 2").split()[-1]) / 1e6
        s.say(f"lag before {before:.3f}s; SQL thread stopped; newest applied heartbeat was "
              f"{stopped_at - frozen:.3f}s old at the stop")
        errors = []
        for wait in (1.0, 2.0, 3.0):
            time.sleep(max(0.0, stopped_at + wait - time.time()))
            got, at = lag(1, 2)
            delay = at - stopped_at
            s.say(f"  {delay:.3f}s after the stop: exporter lag {got:.3f}s (off by {got - delay:+.3f}s)")
            if abs(got - delay) > TOLERANCE:
                errors.append(f"lag {got:.3f}s vs injected {delay:.3f}s")
        assert not errors, "; ".join(errors)
    finally:
        s.sql(1, "START SLAVE SQL_THREAD")
    after = e.wait_value(1, "xmppwatch_replication_heartbeat_lag_seconds", lambda v: v < 0.5, timeout=30,
                         peer_server_id="2")
    s.say(f"SQL thread restarted: lag back to {after:.3f}s")


def test_mariadb2_down_shows_on_both_hosts():
    s.wait_for("a healthy stack", s.stack_healthy, 60)
    assert io_running(1) == 1
    s.stack("kill", "mariadb2", "TERM")
    try:
        e.wait_value(1, "mysql_slave_status_slave_io_running", lambda v: v == 0, timeout=30, connection_name="",
                     master_host=s.NODE_IP[2])
        errno = e.wait_value(1, "mysql_slave_status_last_io_errno", lambda v: v != 0, timeout=90, connection_name="",
                             master_host=s.NODE_IP[2])
        s.say(f"host 1: IO thread 0, last IO errno {errno:.0f}")
        samples = e.scrape(2)
        assert e.value(samples, "mysql_up") == 0, "host 2 still reports mysql_up 1"
        assert e.value(samples, "node_scrape_collector_success", collector="mysql") == 1
        s.say("host 2: mysql_up 0, scrape served")
    finally:
        s.stack("start", "mariadb2", timeout=240)
    e.wait_value(1, "mysql_slave_status_slave_io_running", lambda v: v == 1, timeout=60, connection_name="",
                 master_host=s.NODE_IP[2])
    e.wait_value(2, "mysql_up", lambda v: v == 1, timeout=60)
    got = e.wait_value(1, "xmppwatch_replication_heartbeat_lag_seconds", lambda v: v < 0.5, timeout=60,
                       peer_server_id="2")
    s.say(f"MariaDB 2 back: IO thread 1, lag {got:.3f}s")
    s.wait_for("a healthy stack", s.stack_healthy, 120)


if __name__ == "__main__":
    s.run([test_heartbeat_lag_tracks_a_stopped_sql_thread, test_mariadb2_down_shows_on_both_hosts])
