"""The webhook receiver of `anbu bench alerts`, in its own process (as a real one would be).

Usage: python -m alerts.bench_receiver PORT N — prints READY, then, once N distinct alerts have
arrived, one JSON object {alert_id: epoch seconds of first receipt}.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main(port: int, n: int) -> None:
    got: dict[int, float] = {}
    lock = threading.Lock()
    done = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            now = time.time()
            with lock:
                got.setdefault(int(body["alert_id"]), now)
                if len(got) >= n:
                    done.set()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024  # a real gateway's listen backlog, not socketserver's 5

    srv = Server(("127.0.0.1", port), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("READY", flush=True)
    done.wait(300)
    print(json.dumps(got), flush=True)
    srv.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
