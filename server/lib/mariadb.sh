# shellcheck shell=bash
# The MariaDB master-master pair: mariadb1 on 127.0.0.2 (server-id 1), mariadb2 on 127.0.0.3
# (server-id 2). Sourced by server/stack.

mariadb_dir() { echo "$RUN_DIR/$1"; }
mariadb_sock() { echo "$RUN_DIR/$1/mariadbd.sock"; }

# Runs SQL as root over the unix socket (unix_socket authentication, no password to leak).
mdb() {
  local comp=$1
  shift
  mariadb --no-defaults --socket="$(mariadb_sock "$comp")" -uroot -N -B "$@"
}

mariadb_healthy() {
  mariadb-admin --no-defaults --socket="$(mariadb_sock "$1")" -uroot --connect-timeout=2 ping >/dev/null
}

# SHOW SLAVE STATUS as "Field: value" lines (-N would drop the field names).
slave_status() {
  mariadb --no-defaults --socket="$(mariadb_sock "$1")" -uroot -B -e 'SHOW SLAVE STATUS\G'
}

mariadb_init_datadir() {
  local comp=$1 dir
  dir=$(mariadb_dir "$comp")
  [ -d "$dir/data/mysql" ] && return 0
  mkdir -p "$dir"
  chown mysql:mysql "$dir"
  chmod 750 "$dir"
  if ! mariadb-install-db --no-defaults --user=mysql --datadir="$dir/data" \
      --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1; then
    tail -n 20 "$dir/install.log" >&2
    rm -rf "$dir/data"
    die "$comp: mariadb-install-db failed (log: $dir/install.log)"
  fi
}

mariadb_render() {
  local comp=$1 dir
  dir=$(mariadb_dir "$comp")
  mkdir -p "$dir"
  render "$TEMPLATE_DIR/mariadb.cnf" "$dir/mariadb.cnf" \
    NODE_INDEX="$(node_index "$comp")" NODE_IP="$(node_ip "$comp")" \
    LOCAL_PATHS="datadir = $dir/data\nsocket = $dir/mariadbd.sock\npid-file = $dir/mariadbd.pid\nlog-error = $dir/error.log" \
    LOCAL_TUNING="# Small footprint: two instances share one machine.\ninnodb-buffer-pool-size = 64M\nperformance-schema = OFF"
}

mariadb_spawn() {
  local comp=$1
  spawn "$comp" "$(mariadb_dir "$comp")/stdout.log" \
    mariadbd --defaults-file="$(mariadb_dir "$comp")/mariadb.cnf" --user=mysql
}

mariadb_start() {
  local comp=$1
  mariadb_render "$comp"
  mariadb_init_datadir "$comp"
  mariadb_spawn "$comp"
}

# Master-master bootstrap, done once per run directory:
# 1. a replication user on each side, out of the binlog (a replicated CREATE USER would
#    collide with the peer's own and stop its SQL thread);
# 2. each side replicates from the other, starting at the peer's current position;
# 3. the shared schema is created on mariadb1 only and arrives on mariadb2 by replication;
# 4. per-node accounts (ejabberd, exporter) out of the binlog, once the tables exist.
mariadb_bootstrap_pair() {
  local stamp=$RUN_DIR/state/mariadb-pair.done
  [ -e "$stamp" ] && return 0
  local repl_pw app_pw exp_pw comp peer_ip file pos
  repl_pw=$(secret mariadb-repl.password)
  app_pw=$(secret mariadb-ejabberd.password)
  exp_pw=$(secret mariadb-exporter.password)
  write_exporter_cnf "$exp_pw"

  for comp in mariadb1 mariadb2; do
    mdb "$comp" <<SQL || die "$comp: creating the replication user failed"
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'repl'@'127.0.0.%' IDENTIFIED BY '$repl_pw';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.%';
SQL
  done
  for comp in mariadb1 mariadb2; do
    if [ "$comp" = mariadb1 ]; then peer=mariadb2; else peer=mariadb1; fi
    peer_ip=$(node_ip "$peer")
    read -r file pos _ < <(mdb "$peer" -e 'SHOW MASTER STATUS')
    [ -n "$file" ] || die "$peer: SHOW MASTER STATUS returned nothing (binlog off?)"
    # A 1 s connect retry so a restarted peer is picked up at once, not after the default 60 s.
    mdb "$comp" <<SQL || die "$comp: CHANGE MASTER failed"
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='$peer_ip', MASTER_PORT=3306, MASTER_USER='repl',
  MASTER_PASSWORD='$repl_pw', MASTER_LOG_FILE='$file', MASTER_LOG_POS=$pos,
  MASTER_USE_GTID=no, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1;
START SLAVE;
SQL
  done
  for comp in mariadb1 mariadb2; do
    wait_until 20 "$comp replication threads" replication_running "$comp" ||
      { slave_status "$comp" | grep -E 'Running|Error' >&2 || true; die "$comp: replication did not start"; }
  done

  mdb mariadb1 <<'SQL' || die "mariadb1: creating databases failed"
CREATE DATABASE IF NOT EXISTS ejabberd CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE DATABASE IF NOT EXISTS xmppwatch CHARACTER SET utf8mb4;
CREATE TABLE IF NOT EXISTS xmppwatch.heartbeat (
  server_id INT UNSIGNED NOT NULL PRIMARY KEY COMMENT 'server_id of the master that wrote the row',
  ts BIGINT NOT NULL COMMENT 'microseconds since the epoch, at the writer'
) ENGINE=InnoDB COMMENT='replication lag: each master writes its row, the peer reads it';
SQL
  mdb mariadb1 ejabberd </usr/share/ejabberd/sql/mysql.sql || die "mariadb1: loading the ejabberd schema failed"
  wait_until 20 "the schema to replicate to mariadb2" schema_present mariadb2 ||
    die "mariadb2: the ejabberd schema did not arrive by replication"

  for comp in mariadb1 mariadb2; do
    mdb "$comp" <<SQL || die "$comp: creating accounts failed"
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'ejabberd'@'127.0.0.%' IDENTIFIED BY '$app_pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES ON ejabberd.* TO 'ejabberd'@'127.0.0.%';
CREATE USER IF NOT EXISTS 'xmppwatch_exporter'@'127.0.0.%' IDENTIFIED BY '$exp_pw';
GRANT REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'xmppwatch_exporter'@'127.0.0.%';
GRANT SELECT, INSERT, UPDATE ON xmppwatch.heartbeat TO 'xmppwatch_exporter'@'127.0.0.%';
SQL
  done
  mkdir -p "$RUN_DIR/state"
  touch "$stamp"
}

write_exporter_cnf() {
  local f=$SECRETS_DIR/mariadb-exporter.cnf
  [ -s "$f" ] && return 0
  # printf is a shell builtin: the password is on no command line. 600 from the start, then
  # handed to the exporters' user.
  (umask 077; printf '[client]\nuser=xmppwatch_exporter\npassword=%s\n' "$1" >"$f.new")
  chown "$SERVICE_USER:$SERVICE_USER" "$f.new"
  mv "$f.new" "$f"
}

replication_running() {
  local out
  out=$(slave_status "$1") || return 1
  grep -q 'Slave_IO_Running: Yes' <<<"$out" && grep -q 'Slave_SQL_Running: Yes' <<<"$out"
}

schema_present() {
  [ "$(mdb "$1" -e "SELECT COUNT(*) FROM information_schema.tables WHERE
      (table_schema='ejabberd' AND table_name IN ('users','spool','archive'))
      OR (table_schema='xmppwatch' AND table_name='heartbeat')")" = 4 ]
}

# One line for `status`: IO/SQL thread state, seconds behind and the last error if any.
replication_summary() {
  local out io sql behind err
  out=$(slave_status "$1" 2>/dev/null) || { echo "unreachable"; return; }
  [ -n "$out" ] || { echo "not configured"; return; }
  io=$(awk -F': ' '/Slave_IO_Running:/{print $2}' <<<"$out")
  sql=$(awk -F': ' '/Slave_SQL_Running:/{print $2}' <<<"$out")
  behind=$(awk -F': ' '/Seconds_Behind_Master:/{print $2}' <<<"$out")
  err=$(awk -F': ' '/Last_(IO|SQL)_Error: ./{print $2; exit}' <<<"$out")
  printf 'repl from %s: io=%s sql=%s behind=%ss%s' \
    "$(awk -F': ' '/Master_Host:/{print $2}' <<<"$out")" "$io" "$sql" "$behind" "${err:+ error: $err}"
}
