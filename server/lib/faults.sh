# shellcheck shell=bash
# Faults the fault matrix (server/stack validate) injects that are not a signal to one process:
# a network partition between the two chat hosts, and a full disk under MariaDB 1. Each one
# touches only this stack's addresses and a mount it makes itself, records what it did under
# $RUN_DIR/faults/, and is undone by `fault NAME off`, by `fault clear` and by `down`.
# Sourced by server/stack.

FAULT_DIR=$RUN_DIR/faults
# iptables rules carry this comment, so only our own rules are ever deleted.
FAULT_TAG="xmppwatch-partition:$RUN_DIR"

# --- partition -----------------------------------------------------------------------------
# The cluster link leaves from its host's own address (Erlang distribution binds its source:
# vm.args), so dropping 127.0.0.2 <-> 127.0.0.3 cuts it. MariaDB cannot bind the source of its
# replication connection (MariaDB 10.11 refuses MASTER_BIND), so those connections are told
# apart by owner and destination (mariadbd connecting to the peer's 3306), marked, and dropped
# both ways by their mark. Nothing else is touched: both hosts keep talking to the proxy host
# and to their own database. Dropped on input, not output: the sender sees silence, as across
# a real network, not an immediate EPERM.
PARTITION_MARK=0x5877

partition_rules() {
  printf '%s\n' \
    "mangle OUTPUT -p tcp -d $XMPP2_IP --dport 3306 -m owner --uid-owner mysql -j CONNMARK --set-mark $PARTITION_MARK" \
    "mangle OUTPUT -p tcp -d $XMPP1_IP --dport 3306 -m owner --uid-owner mysql -j CONNMARK --set-mark $PARTITION_MARK" \
    "filter INPUT -m connmark --mark $PARTITION_MARK -j DROP" \
    "filter INPUT -s $XMPP1_IP -d $XMPP2_IP -j DROP" \
    "filter INPUT -s $XMPP2_IP -d $XMPP1_IP -j DROP"
}

partition_on() {
  command -v iptables >/dev/null || die "fault partition: iptables is not installed (scripts/install-deps.sh)"
  local table chain rule
  mkdir -p "$FAULT_DIR"
  touch "$FAULT_DIR/partition"
  while read -r table chain rule; do
    # shellcheck disable=SC2086 # the rule is a list of words
    iptables -w 5 -t "$table" -C "$chain" $rule -m comment --comment "$FAULT_TAG" 2>/dev/null ||
      iptables -w 5 -t "$table" -I "$chain" $rule -m comment --comment "$FAULT_TAG" ||
      { partition_off; die "fault partition: iptables refused: $table $chain $rule"; }
  done < <(partition_rules)
  log "fault: partition $XMPP1_IP <-> $XMPP2_IP on (cluster link and replication)"
}

partition_off() {
  local table chain rule
  command -v iptables >/dev/null || { rm -f "$FAULT_DIR/partition"; return 0; }
  while read -r table chain rule; do
    # shellcheck disable=SC2086
    while iptables -w 5 -t "$table" -D "$chain" $rule -m comment --comment "$FAULT_TAG" 2>/dev/null; do :; done
  done < <(partition_rules)
  rm -f "$FAULT_DIR/partition"
  log "fault: partition off"
}

# --- disk full under MariaDB 1 ------------------------------------------------------------
# MariaDB 1's data directory moves onto a small ext4 image of its own (loop mount, bind-mounted
# over the data directory so no path changes), which is then filled. Undoing it frees the
# space, then moves the data back and removes the mount. The host's own disks are never filled.
DISK_IMG=$FAULT_DIR/mariadb1-disk.img
DISK_MNT=$FAULT_DIR/mariadb1-disk

disk_full_on() {
  local data used_mb
  data=$(mariadb_dir mariadb1)/data
  [ -e "$FAULT_DIR/disk-full" ] && die "fault disk-full: already on (fault disk-full off first)"
  is_running mariadb1 || die "fault disk-full: mariadb1 is not running"
  command -v mkfs.ext4 >/dev/null || die "fault disk-full: mkfs.ext4 is missing (package e2fsprogs)"
  mkdir -p "$FAULT_DIR" "$DISK_MNT"
  touch "$FAULT_DIR/disk-full"
  stop_component mariadb1
  used_mb=$(du -sm "$data" | cut -f1)
  truncate -s "$((used_mb + 96))M" "$DISK_IMG"
  mkfs.ext4 -q -F -m 0 "$DISK_IMG" || { disk_full_off; die "fault disk-full: mkfs.ext4 failed"; }
  mount -o loop "$DISK_IMG" "$DISK_MNT" || { disk_full_off; die "fault disk-full: loop mount failed"; }
  cp -a "$data" "$DISK_MNT/data" || { disk_full_off; die "fault disk-full: copying the data failed"; }
  mount --bind "$DISK_MNT/data" "$data" || { disk_full_off; die "fault disk-full: bind mount failed"; }
  bring_up mariadb1
  # Fill what is left but a sliver, so the next binlog or InnoDB extension hits ENOSPC.
  local avail_kb
  avail_kb=$(df -Pk "$DISK_MNT" | awk 'NR==2 {print $4}')
  fallocate -l "$(( (avail_kb - 256) * 1024 ))" "$DISK_MNT/filler" 2>/dev/null ||
    dd if=/dev/zero of="$DISK_MNT/filler" bs=1M status=none 2>/dev/null || true
  log "fault: disk under mariadb1 full ($(df -Ph "$DISK_MNT" | awk 'NR==2 {print $3 " used, " $4 " free"}'))"
}

disk_full_off() {
  local data
  data=$(mariadb_dir mariadb1)/data
  rm -f "$DISK_MNT/filler"
  if mountpoint -q "$data"; then
    # Space is back: MariaDB resumes on its own (it retries a full disk once a minute), and
    # the load balancer's agent sees writes succeed again. That is the recovery to measure;
    # only then is the data moved home again.
    local t0
    t0=$(now_ms)
    if is_running mariadb1 && wait_until 90 "mariadb1 to take writes again" haproxy_server_up ej1; then
      log "fault: mariadb1 takes writes again $(( $(now_ms) - t0 )) ms after space was freed"
    fi
    stop_component mariadb1
    umount "$data" || die "fault disk-full off: cannot unmount $data"
    copy_back "$DISK_MNT/data/" "$data/"
  fi
  if mountpoint -q "$DISK_MNT"; then umount "$DISK_MNT" || die "fault disk-full off: cannot unmount $DISK_MNT"; fi
  rm -f "$DISK_IMG" "$FAULT_DIR/disk-full"
  rmdir "$DISK_MNT" 2>/dev/null || true
  [ -e "$RUN_DIR/state/mariadb-pair.done" ] && ! is_running mariadb1 && bring_up mariadb1
  log "fault: disk-full off"
}

# The image's copy is the newer one: it replaces the original data directory's content.
copy_back() {
  local from=$1 to=$2
  find "$to" -mindepth 1 -delete
  cp -a "$from." "$to"
}

faults_clear() {
  [ -d "$FAULT_DIR" ] || return 0
  [ -e "$FAULT_DIR/partition" ] && partition_off
  if [ -e "$FAULT_DIR/disk-full" ] || mountpoint -q "$DISK_MNT" 2>/dev/null; then disk_full_off; fi
  return 0
}

cmd_fault() {
  local name=${1:-} state=${2:-}
  case $name:$state in
    partition:on) partition_on ;;
    partition:off) partition_off ;;
    disk-full:on) take_lock; disk_full_on ;;
    disk-full:off) take_lock; disk_full_off ;;
    clear:) take_lock; faults_clear ;;
    *) die "usage: server/stack fault partition|disk-full on|off, or: server/stack fault clear" ;;
  esac
}
