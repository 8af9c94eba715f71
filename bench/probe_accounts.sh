#!/usr/bin/env bash
# Creates load-test accounts PREFIX1..PREFIXN on the local stack, all with one password
# (RUN_DIR/secrets/xmpp-PREFIX.password, generated once). ejabberdctl register takes about a
# second an account; thousands are written straight into MariaDB 1 instead (it replicates to
# MariaDB 2), in ejabberd's own SCRAM-SHA-256 format, so logins work on both nodes.
#   bench/probe_accounts.sh N [PREFIX]
set -euo pipefail
count=${1:?usage: probe_accounts.sh N [PREFIX]}
prefix=${2:-load}
repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$repo/run}
sock=$run_dir/mariadb1/mariadbd.sock
pwfile=$run_dir/secrets/xmpp-$prefix.password
[ -S "$sock" ] || { echo "probe_accounts: no MariaDB socket at $sock (server/stack up first)" >&2; exit 1; }
if ! [[ $count =~ ^[0-9]+$ ]] || [ "$count" -gt 100000 ]; then
  echo "probe_accounts: N must be 0..100000" >&2
  exit 1
fi
if [ ! -s "$pwfile" ]; then
  (umask 077; openssl rand -hex 16 >"$pwfile")
fi
/usr/bin/python3 - "$count" "$prefix" "$pwfile" <<'PY' | mariadb --no-defaults --socket="$sock" -uroot ejabberd
import base64, hashlib, hmac, os, sys
count, prefix, pwfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
password = open(pwfile).read().strip().encode()
salt = os.urandom(16)
salted = hashlib.pbkdf2_hmac("sha256", password, salt, 4096)
client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
stored = base64.b64encode(hashlib.sha256(client_key).digest()).decode()
server = base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest()).decode()
salt64 = base64.b64encode(salt).decode()
for start in range(1, count + 1, 1000):
    rows = ",".join(f"('{prefix}{i}','sha256:{stored}','{server}','{salt64}',4096)"
                    for i in range(start, min(count, start + 999) + 1))
    print(f"INSERT IGNORE INTO users (username,password,serverkey,salt,iterationcount) VALUES {rows};")
PY
echo "probe_accounts: $count accounts ${prefix}1..${prefix}$count (password in $pwfile)"
