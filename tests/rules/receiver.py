"""A webhook receiver for the tests: an HTTP server on a 127.0.0.1 port that records every
POSTed JSON body with its path (Alertmanager's webhook on /alertmanager, the Slack-compatible
rendered message on /chat). Runs in a thread; stop() closes it."""
import http.server
import json
import threading
import time


class Receiver:
    def __init__(self, host="127.0.0.1", port=9097):
        self.received = []  # (monotonic time, path, body dict)
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(min(n, 10 << 20))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                with outer.lock:
                    outer.received.append((time.monotonic(), self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def messages(self, path=None):
        with self.lock:
            return [(t, p, b) for t, p, b in self.received if path is None or p == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
