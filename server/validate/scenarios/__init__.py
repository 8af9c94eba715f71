"""The fault matrix's scenarios, one a file, in the order `server/stack validate` runs them.

Each module has NAME (the name in the JSON and on the command line), SEED (what the seed's
validation table expects), EXPECTED_ALERTS, FAST (run by `make test`) and run(row, ctx).
"""
from . import (backup_restore, carbons, db_stop, disk_full, ejabberd_crash, ejabberd_hang, lb_affinity,
               lb_restart, messaging, offline, partition, replication)

ALL = [replication, messaging, offline, carbons, ejabberd_crash, ejabberd_hang, db_stop, lb_restart,
       lb_affinity, partition, disk_full, backup_restore]
BY_NAME = {m.NAME: m for m in ALL}
