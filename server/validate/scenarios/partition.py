"""The two chat hosts lose sight of each other for 30 s (cluster link and replication cut by
`server/stack fault partition`, which drops traffic between 127.0.0.2 and 127.0.0.3 only) while
both stay reachable from the load balancer. Messages cross the cut (sender through the LB on
node 1, receiver on node 2). Thirty seconds is less than the cluster's net_ticktime, so the
nodes never declare each other down: messages wait in the cluster link and arrive when TCP's
retransmission (backed off to tens of seconds by then) gets through, which is why traffic goes
on for 45 s after healing before anything counts as lost. After healing: nothing acknowledged lost, no duplicate account or
row, and cluster and replication converge by themselves; the time to converge is measured."""
import time

import xmppstack as s
from harness import drill

NAME = "partition"
SEED = "(not in the seed) no loss, converges by itself"
EXPECTED_ALERTS = []
FAST = False
TABLES = ("users", "rosterusers", "spool")


def _converged():
    if not (s.replication_ok(1) and s.replication_ok(2)):
        return False
    if not (s.cluster(1) == s.cluster(2) == sorted(s.NODE_NAME.values())):
        return False
    sums = [s.sql(n, "CHECKSUM TABLE " + ", ".join(f"ejabberd.{t}" for t in TABLES)) for n in (1, 2)]
    return sums[0] == sums[1]


def run(row, ctx):
    rep = drill(row, ctx.watcher, ctx.alerts, module="drill_crossnode", fault="fault partition on",
                restore="fault partition off", hold=30, after_restore=45)
    row.detection_s = ctx.watcher.lb_down_after(rep["fault_at"])
    t0 = rep["restore_at"]
    try:
        s.wait_for("cluster and replication to converge", _converged, 120, 0.5)
        row.recovery_s = time.time() - t0
        row.check("cluster, replication and tables converged by themselves", True, f"{row.recovery_s:.1f} s")
    except AssertionError:
        row.check("cluster, replication and tables converged by themselves", False,
                  f"cluster {s.cluster(1)} / {s.cluster(2)}, replication {s.replication_ok(1)}/{s.replication_ok(2)}")
    for n in (1, 2):
        st = s.slave_status(n)
        row.check(f"no duplicate-row error on mariadb{n}", st.get("Last_SQL_Errno", "0") == "0",
                  st.get("Last_SQL_Error", ""))
