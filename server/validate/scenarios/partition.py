"""The two chat hosts lose sight of each other for 30 s (cluster link and replication cut by
`server/stack fault partition`, which drops traffic between 127.0.0.2 and 127.0.0.3 only) while
both stay reachable from the load balancer. Messages cross the cut (sender through the LB on
node 1, receiver on node 2). Thirty seconds is less than the cluster's net_ticktime, so the
nodes never declare each other down: messages wait in the cluster link and arrive when TCP's
retransmission (backed off to tens of seconds by then) gets through, which is why traffic goes
on for 45 s after healing before anything counts as lost. After healing: nothing acknowledged lost, no duplicate account or
row, and cluster and replication converge by themselves; the time to converge is measured."""
import os
import threading
import time

import xmppstack as s
from harness import drill

NAME = "partition"
SEED = "(not in the seed) no loss, converges by itself"
EXPECTED_ALERTS = []
FAST = False
# The archive too: the messages of the drill are archived on node 1's database during the cut,
# so equal checksums mean replication has caught up, not only that nothing changed.
TABLES = ("users", "rosterusers", "spool", "archive")
MARKER = os.path.join(s.RUN_DIR, "faults", "partition")  # present while the cut is in place


def _heartbeats_fresh():
    """Each side has its peer's heartbeat row from the last two seconds: replication flows."""
    for node in (1, 2):
        age = s.sql(node, "SELECT (UNIX_TIMESTAMP(NOW(6)) * 1000000 - ts) / 1e6 FROM xmppwatch.heartbeat "
                          f"WHERE server_id = {3 - node}")
        if not age or float(age) > 2:
            return False
    return True


def _converged():
    if not (s.replication_ok(1) and s.replication_ok(2) and _heartbeats_fresh()):
        return False
    if not (s.cluster(1) == s.cluster(2) == sorted(s.NODE_NAME.values())):
        return False
    sums = [s.sql(n, "CHECKSUM TABLE " + ", ".join(f"ejabberd.{t}" for t in TABLES)) for n in (1, 2)]
    return sums[0] == sums[1]


def _watch_convergence(result, stop):
    """From the moment the cut is healed (its marker goes), how long until converged."""
    while not stop.is_set() and not os.path.exists(MARKER):
        stop.wait(0.1)
    while not stop.is_set() and os.path.exists(MARKER):
        stop.wait(0.1)
    healed = time.time()
    while not stop.is_set():
        try:
            if _converged():
                result["seconds"] = time.time() - healed
                return
        except Exception:  # noqa: BLE001 - a query during the catch-up may fail; try again
            pass
        stop.wait(0.5)


def run(row, ctx):
    result, stop = {}, threading.Event()
    watcher = threading.Thread(target=_watch_convergence, args=(result, stop), daemon=True)
    watcher.start()
    try:
        rep = drill(row, ctx.watcher, ctx.alerts, module="drill_crossnode", fault="fault partition on",
                    restore="fault partition off", hold=30, after_restore=45)
        watcher.join(120)
    finally:
        stop.set()
    row.detection_s = ctx.watcher.lb_down_after(rep["fault_at"])
    if "seconds" in result:
        row.recovery_s = result["seconds"]
        row.check("cluster, replication and tables converged by themselves", True,
                  f"{row.recovery_s:.1f} s after healing")
    else:
        row.check("cluster, replication and tables converged by themselves", False,
                  f"cluster {s.cluster(1)} / {s.cluster(2)}, replication {s.replication_ok(1)}/{s.replication_ok(2)}")
    # The cluster link's own recovery shows in the messages: the slowest one crossed the cut.
    row.note(f"cross-node messages flowed again {rep['delivery_max_seconds'] - 30:.0f} s after healing "
             "(TCP retransmission backoff on the cluster link)")
    for n in (1, 2):
        st = s.slave_status(n)
        row.check(f"no duplicate-row error on mariadb{n}", st.get("Last_SQL_Errno", "0") == "0",
                  st.get("Last_SQL_Error", ""))
