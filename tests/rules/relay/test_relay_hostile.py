#!/usr/bin/python3
"""The alert relay against hostile or careless use; needs no chat stack (the XMPP target is a
port nobody listens on, so every notification takes the fallback path):
1. the fallback webhook URL is a secret: it never appears in the relay's log, in its answers
   (200 or 503), and the old --fallback.url flag is refused with a pointer to
   --fallback.url-file; a URL file open to others is refused;
2. a gzip-encoded body (200 KiB inflating to 200 MiB) is refused with 415 and the relay's
   memory does not grow;
3. --web.config.file: basic auth enforced, SIGHUP swaps the users, a broken file on SIGHUP
   keeps the old one; SIGTERM exits 0.
The relay binary is $XMPPWATCH_ALERT_RELAY (or <build>/alert_relay/xmppwatch_alert_relay)."""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
from receiver import Receiver  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402  (bcrypt through libcrypt, as the relay checks it)

RELAY = os.environ.get("XMPPWATCH_ALERT_RELAY") or os.path.join(
    os.environ.get("XMPPWATCH_BUILD_DIR", os.path.join(REPO, "build")), "alert_relay", "xmppwatch_alert_relay")
FIXTURE = os.path.join(HERE, "..", "fixtures", "notify_firing.json")
TOKEN = "T0KEN-do-not-leak-4f1c"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def bcrypt(password):
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))


def request(url, body=None, headers=None, method=None, timeout=20):
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Relay:
    def __init__(self, tmp, *extra, auth=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.auth = auth or {}
        self.log_path = os.path.join(tmp, f"relay-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [RELAY, "--web.listen-address", f"127.0.0.1:{self.port}", "--xmpp.target", f"127.0.0.1:{free_port()}",
             "--xmpp.domain", "xmpp.test", "--xmpp.user", "alerts", "--xmpp.password-file", os.path.join(tmp, "pw"),
             "--xmpp.to", "oncall@xmpp.test", "--timeout-ms", "1000", *extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if request(self.url + "/-/healthy", headers=self.auth, timeout=2)[0] in (200, 401):
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"relay exited {self.proc.returncode}: {self.logs()}")
            time.sleep(0.1)
        raise RuntimeError("relay did not listen within 10 s")

    def post(self, body, headers=None):
        h = {"Content-Type": "application/json", **self.auth, **(headers or {})}
        return request(self.url + "/alert", body=body, headers=h, method="POST")

    def logs(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return None
        finally:
            self.log.close()


def main():
    if not os.access(RELAY, os.X_OK):
        print(f"FAIL: relay binary {RELAY} not built")
        return 1
    failures, checks = [], []

    def check(name, cond, detail=""):
        checks.append(name)
        print(f"{'ok  ' if cond else 'FAIL'} {name}{': ' + str(detail)[:400] if detail and not cond else ''}", flush=True)
        if not cond:
            failures.append(name)

    body = open(FIXTURE, "rb").read()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "pw"), "w") as f:
            f.write("not-used\n")

        def url_file(url, mode=0o600):
            path = os.path.join(tmp, f"url-{free_port()}")
            with open(path, "w") as f:
                f.write(url + "\n")
            os.chmod(path, mode)
            return path

        # 1. The old flag: refused, pointing to the new one, without echoing the URL.
        old = subprocess.run([RELAY, "--xmpp.password-file", os.path.join(tmp, "pw"), "--xmpp.to", "a@b",
                              "--web.listen-address", f"127.0.0.1:{free_port()}",
                              "--fallback.url", f"http://127.0.0.1:1/{TOKEN}"], capture_output=True, text=True, timeout=10)
        check("--fallback.url is refused", old.returncode != 0, old.returncode)
        check("... with a pointer to --fallback.url-file", "--fallback.url-file" in old.stderr, old.stderr)
        check("... without echoing the URL", TOKEN not in old.stdout + old.stderr, old.stderr)
        loose = subprocess.run([RELAY, "--xmpp.password-file", os.path.join(tmp, "pw"), "--xmpp.to", "a@b",
                                "--web.listen-address", f"127.0.0.1:{free_port()}",
                                "--fallback.url-file", url_file(f"http://127.0.0.1:1/{TOKEN}", 0o644)],
                               capture_output=True, text=True, timeout=10)
        check("a URL file readable by others is refused", loose.returncode != 0 and "chmod 600" in loose.stderr,
              loose.stderr)
        check("... without echoing its content", TOKEN not in loose.stderr, loose.stderr)

        # XMPP down, fallback webhook up: delivered there; the URL is in no log line or answer.
        rport = free_port()
        rcv = Receiver(port=rport)
        relay = Relay(tmp, "--fallback.url-file", url_file(f"http://127.0.0.1:{rport}/hook/{TOKEN}"))
        try:
            status, text = relay.post(body)
            check("XMPP down: delivered to the fallback webhook", status == 200 and '"fallback"' in text, (status, text))
            check("the webhook got it on the secret path", bool(rcv.messages(f"/hook/{TOKEN}")), rcv.messages())
            check("answer does not carry the URL", TOKEN not in text and str(rport) not in text, text)

            # 2. gzip bomb: 415 before the body is read, and no growth.
            bomb = subprocess.run("head -c 209715200 /dev/zero | gzip -9", shell=True, capture_output=True).stdout
            before = rss_kib(relay.proc.pid)
            status, text = relay.post(bomb, {"Content-Encoding": "gzip"})
            after = rss_kib(relay.proc.pid)
            print(f"figure: relay RSS {before} KiB -> {after} KiB after a {len(bomb)}-byte gzip bomb")
            check("gzip body refused with 415", status == 415, (status, text))
            check("relay memory did not grow by 32 MiB", after - before < 32 * 1024, (before, after))
            # Declared over 4 MiB: answered 413 before the body is sent (sending it all would
            # only meet a closed connection).
            with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as s:
                s.sendall(b"POST /alert HTTP/1.1\r\nHost: x\r\nContent-Length: 5242880\r\n\r\n")
                head = s.recv(200).decode(errors="replace")
            check("a body over 4 MiB is refused with 413", head.startswith("HTTP/1.1 413"), head)
            status, _ = request(relay.url + "/alert")
            check("GET /alert is 405", status == 405, status)
        finally:
            code = relay.stop()
            rcv.stop()
        logs = relay.logs()
        check("SIGTERM: exit 0", code == 0, code)
        check("the log never names the fallback URL", TOKEN not in logs and f":{rport}" not in logs, logs)

        # XMPP and fallback down: 503 with outcomes, no URL.
        relay = Relay(tmp, "--fallback.url-file", url_file(f"http://127.0.0.1:{free_port()}/hook/{TOKEN}"))
        try:
            status, text = relay.post(body)
            check("everything down: 503", status == 503, (status, text))
            check("503 names outcomes, not the URL", TOKEN not in text and "url connect_failed" not in text
                  and "fallback failed" in text, text)
        finally:
            relay.stop()
        check("the log never names the fallback URL (503 path)", TOKEN not in relay.logs(), relay.logs())

        # 3. Web config with basic auth; SIGHUP swaps users; a broken file keeps the old set.
        web = os.path.join(tmp, "web.yml")
        with open(web, "w") as f:
            f.write(f"basic_auth_users:\n  alice: {bcrypt('pa')}\nhttp_server_config:\n  headers:\n"
                    "    X-Content-Type-Options: nosniff\n")
        relay = Relay(tmp, "--web.config.file", web, "--fallback.file", os.path.join(tmp, "fallback.log"),
                      auth=basic("alice", "pa"))
        try:
            check("no credentials: 401", request(relay.url + "/metrics")[0] == 401)
            check("alice: 200", request(relay.url + "/metrics", headers=basic("alice", "pa"))[0] == 200)
            with open(web, "w") as f:
                f.write(f"basic_auth_users:\n  bob: {bcrypt('pb')}\n")
            relay.proc.send_signal(signal.SIGHUP)
            ok = False
            for _ in range(50):
                if request(relay.url + "/metrics", headers=basic("bob", "pb"))[0] == 200:
                    ok = True
                    break
                time.sleep(0.1)
            check("SIGHUP: bob now in", ok)
            check("SIGHUP: alice now out", request(relay.url + "/metrics", headers=basic("alice", "pa"))[0] == 401)
            with open(web, "w") as f:
                f.write("basic_auth_users:\n  carol: plaintext\n")
            relay.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            check("a broken file on SIGHUP keeps the old users",
                  request(relay.url + "/metrics", headers=basic("bob", "pb"))[0] == 200)
            check("... and says why in the log", "not a bcrypt hash" in relay.logs(), relay.logs())
        finally:
            code = relay.stop()
        check("SIGTERM after reloads: exit 0", code == 0, code)

        bad = os.path.join(tmp, "bad.yml")
        with open(bad, "w") as f:
            f.write("tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n")
        r = subprocess.run([RELAY, "--xmpp.password-file", os.path.join(tmp, "pw"), "--xmpp.to", "a@b",
                            "--web.listen-address", f"127.0.0.1:{free_port()}", "--web.config.file", bad],
                           capture_output=True, text=True, timeout=10)
        check("a web config asking for TLS without a certificate is refused at start",
              r.returncode != 0 and "cert_file" in r.stderr, (r.returncode, r.stderr))

    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
