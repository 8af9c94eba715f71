# shellcheck shell=bash
# Admin tasks from the seed's scripts: accounts, backup/restore, replication check.
# Sourced by server/stack. Passwords come from files and are never printed.

# Any healthy ejabberd node will do: the accounts live in the replicated database.
ej_any() {
  local comp
  for comp in $(ej_components); do
    if ej_healthy "$comp" 2>/dev/null; then echo "$comp"; return 0; fi
  done
  die "no ejabberd node is running (server/stack up)"
}

valid_user() { [[ $1 =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || die "invalid user name '$1' (a-z 0-9 . _ -)"; }

# The file holding NAME's new password: PASSFILE if given (its first line is the password),
# else a generated one in secrets/xmpp-NAME.password.new (600 from the start), kept only once
# ejabberd has accepted it. The password itself is never read into the launcher.
password_file_for() {
  local name=$1 file=${2:-} first
  if [ -n "$file" ]; then
    [ -r "$file" ] || die "cannot read password file $file"
    IFS= read -r first <"$file" || true
    [ -n "$first" ] || die "password file $file is empty"
    printf '%s' "$file"
  else
    rm -f "$SECRETS_DIR/xmpp-$name.password.new"
    (umask 077; openssl rand -hex 16 >"$SECRETS_DIR/xmpp-$name.password.new")
    printf '%s' "$SECRETS_DIR/xmpp-$name.password.new"
  fi
}

# Only once ejabberd accepted the new password does it replace the stored one.
commit_generated_password() {
  local name=$1 file=${2:-}
  [ -z "$file" ] || return 0
  mv "$SECRETS_DIR/xmpp-$name.password.new" "$SECRETS_DIR/xmpp-$name.password"
  log "password stored in $SECRETS_DIR/xmpp-$name.password"
}

cmd_user() {
  local sub=${1:-} name=${2:-} file=${3:-} node pwfile out
  case $sub in
    add | passwd)
      [ -n "$name" ] || die "usage: server/stack user $sub NAME [PASSFILE]"
      valid_user "$name"
      node=$(ej_any)
      if [ "$sub" = passwd ]; then
        ejctl "$node" check_account "$name" "$DOMAIN" >/dev/null 2>&1 || die "user passwd: $name@$DOMAIN does not exist"
      fi
      pwfile=$(password_file_for "$name" "$file")
      # The password reaches ejabberd on stdin (ejctl_secret), never on a command line.
      if [ "$sub" = add ]; then
        out=$(ejctl_secret "$node" register "$name" "$DOMAIN" <"$pwfile" 2>&1) || die "user add $name: $out"
      else
        out=$(ejctl_secret "$node" change_password "$name" "$DOMAIN" <"$pwfile" 2>&1) || die "user passwd $name: $out"
      fi
      commit_generated_password "$name" "$file"
      log "user $sub: $name@$DOMAIN done"
      ;;
    del)
      [ -n "$name" ] || die "usage: server/stack user del NAME"
      valid_user "$name"
      node=$(ej_any)
      ejctl "$node" check_account "$name" "$DOMAIN" >/dev/null 2>&1 || die "user del: $name@$DOMAIN does not exist"
      # Also ends the user's live sessions: ejabberd kicks an unregistered account.
      out=$(ejctl "$node" unregister "$name" "$DOMAIN" 2>&1) || die "user del $name: $out"
      rm -f "$SECRETS_DIR/xmpp-$name.password"
      log "user del: $name@$DOMAIN deleted"
      ;;
    list)
      node=$(ej_any)
      ejctl "$node" registered_users "$DOMAIN"
      ;;
    *) die "usage: server/stack user add|del|passwd|list ..." ;;
  esac
}

# The first MariaDB that answers: backups must work with either node down.
mariadb_any() {
  local comp
  for comp in mariadb1 mariadb2; do
    if is_running "$comp" && mariadb_healthy "$comp" >/dev/null 2>&1; then echo "$comp"; return 0; fi
  done
  die "no MariaDB is running (server/stack up)"
}

# A consistent InnoDB snapshot of ejabberd's data without locking ejabberd out
# (--single-transaction), gzip, written under a temporary name so a failed dump never looks
# like a good backup. The xmppwatch database only holds heartbeats and is left out.
cmd_backup() {
  local comp stamp out started
  started=$(date +%s)
  comp=$(mariadb_any)
  stamp=$(date +%Y%m%d-%H%M%S)
  (umask 077; mkdir -p "$BACKUP_DIR")
  out=$BACKUP_DIR/xmppwatch-$comp-$stamp.sql.gz
  if ! (umask 077
        set -o pipefail
        mariadb-dump --no-defaults --socket="$(mariadb_sock "$comp")" -uroot \
          --single-transaction --routines --events --triggers \
          --databases ejabberd | gzip -c >"$out.part"); then
    rm -f "$out.part"
    die "backup: mariadb-dump from $comp failed"
  fi
  mv "$out.part" "$out"
  # Seven days of backups, as in the seed's cron job.
  find "$BACKUP_DIR" -maxdepth 1 -name 'xmppwatch-*.sql.gz' -mtime +6 -print -delete |
    sed 's/^/backup: removed old /' >&2
  backup_textfile "$out" "$started"
  log "backup: $out ($(du -h "$out" | cut -f1))"
  echo "$out"
}

# Success time, size and duration for the exporter's textfile collector, so an alert fires when
# backups stop (MysqlBackupTooOld). Only a success writes it: a failed run leaves the old time.
# Written under a name the collector ignores and renamed, so a scrape never sees half a file.
backup_textfile() {
  local file=$1 started=$2 now size tmp
  now=$(date +%s)
  size=$(stat -c %s "$file")
  mkdir -p "$TEXTFILE_DIR"
  tmp=$(mktemp "$TEXTFILE_DIR/.backup.prom.XXXXXX")
  {
    echo "# HELP xmppwatch_backup_last_success_timestamp_seconds Unix time the last MariaDB backup (server/stack backup) finished."
    echo "# TYPE xmppwatch_backup_last_success_timestamp_seconds gauge"
    echo "xmppwatch_backup_last_success_timestamp_seconds $now"
    echo "# HELP xmppwatch_backup_last_size_bytes Size of the last MariaDB backup file (gzip)."
    echo "# TYPE xmppwatch_backup_last_size_bytes gauge"
    echo "xmppwatch_backup_last_size_bytes $size"
    echo "# HELP xmppwatch_backup_last_duration_seconds How long the last MariaDB backup took."
    echo "# TYPE xmppwatch_backup_last_duration_seconds gauge"
    echo "xmppwatch_backup_last_duration_seconds $((now - started))"
  } >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$TEXTFILE_DIR/backup.prom"
}

# Loaded into one node with the binlog on, so the peer receives the same statements by
# replication instead of a second, conflicting load. ejabberd is stopped meanwhile: a write
# on node 2 into a table that node 1 is dropping and re-creating stops node 1's SQL thread
# (seen in testing: error 1146 on ejabberd.archive). Restoring is an outage; say so.
# caught_up FROM TO SECONDS: waits until TO has applied everything FROM has written so far.
caught_up() {
  local bin pos waited
  read -r bin pos _ < <(mdb "$1" -e 'SHOW MASTER STATUS')
  waited=$(mdb "$2" -e "SELECT MASTER_POS_WAIT('$bin', $pos, $3)")
  case $waited in
    '' | NULL | -1) log "$2 has not applied $1's binlog up to $bin:$pos (MASTER_POS_WAIT: ${waited:-none})"; return 1 ;;
  esac
}

cmd_restore() {
  local file=${1:-} comp was_running=()
  [ -n "$file" ] || die "usage: server/stack restore FILE.sql.gz"
  [ -r "$file" ] || die "restore: cannot read $file"
  gzip -t "$file" 2>/dev/null || die "restore: $file is not a valid gzip file"
  for comp in mariadb1 mariadb2; do
    is_running "$comp" || die "restore: $comp is down; both MariaDB nodes must run"
    replication_running "$comp" || die "restore: replication into $comp is broken; fix it first (server/stack check-replication)"
  done
  take_lock
  for comp in $(ej_components | tac); do
    if is_running "$comp"; then was_running+=("$comp"); stop_component "$comp"; fi
  done
  # Master-master: a write the peer took just before its ejabberd stopped may still be on its
  # way to mariadb1. Applied during the load it would hit a table the dump has just dropped
  # (seen: "Table 'ejabberd.archive' doesn't exist", replication stopped), so mariadb1 first
  # catches up with everything mariadb2 has.
  caught_up mariadb2 mariadb1 60 ||
    die "restore: mariadb1 did not catch up with mariadb2 before the restore; ejabberd left stopped"
  log "restore: ejabberd stopped, mariadb1 caught up with mariadb2; loading $file into mariadb1"
  gzip -dc "$file" | mdb mariadb1 || die "restore: loading $file failed (ejabberd left stopped; server/stack up restarts it)"
  caught_up mariadb1 mariadb2 120 || die "restore: mariadb2 did not apply the restore"
  log "restore: mariadb2 applied the restore by replication"
  for comp in $(ej_components); do
    if [[ " ${was_running[*]} " == *" $comp "* ]]; then bring_up "$comp"; fi
  done
  cmd_check_replication
}

# Writes a heartbeat row on each master and times its arrival on the peer.
cmd_check_replication() {
  local comp peer sid ts t0 ok=0 failed=0
  for comp in mariadb1 mariadb2; do
    if ! is_running "$comp"; then
      echo "$comp: DOWN"
      failed=$((failed + 1))
      continue
    fi
    echo "$comp: $(replication_summary "$comp")"
  done
  for comp in mariadb1 mariadb2; do
    if [ "$comp" = mariadb1 ]; then peer=mariadb2; else peer=mariadb1; fi
    if ! is_running "$comp" || ! is_running "$peer"; then continue; fi
    sid=$(node_index "$comp")
    ts=$(mdb "$comp" -e "INSERT INTO xmppwatch.heartbeat (server_id, ts)
           VALUES (@@server_id, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED))
           ON DUPLICATE KEY UPDATE ts = VALUES(ts);
           SELECT ts FROM xmppwatch.heartbeat WHERE server_id = @@server_id") ||
      { echo "$comp -> $peer: write failed"; failed=$((failed + 1)); continue; }
    t0=$(now_ms)
    # The exporter rewrites the same row every few ms: a later value arriving proves the
    # stream is past our write just as well.
    if wait_until 10 "heartbeat $comp -> $peer" bash -c \
        "[ \"\$(mariadb --no-defaults --socket='$(mariadb_sock "$peer")' -uroot -N -B -e 'SELECT ts >= $ts FROM xmppwatch.heartbeat WHERE server_id = $sid')\" = 1 ]"; then
      echo "$comp -> $peer: heartbeat arrived in $(( $(now_ms) - t0 )) ms"
      ok=$((ok + 1))
    else
      echo "$comp -> $peer: heartbeat NOT replicated within 10 s"
      failed=$((failed + 1))
    fi
  done
  [ "$failed" -eq 0 ] && [ "$ok" -eq 2 ] && { echo "replication: OK both ways"; return 0; }
  echo "replication: FAILED"
  return 1
}
