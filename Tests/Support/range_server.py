#!/usr/bin/env python3
"""A tiny HTTP mirror for zoo's pull tests (standard library only).

Serves DIRECTORY on 127.0.0.1 (an ephemeral port, printed on the first line of stdout) with HTTP
Range support, as the Hugging Face hub does: `GET /<repo>/resolve/main/<file>`.

  --cut-after N   the first response for each file sends only N bytes of its body and then
                  drops the connection (an interrupted transfer, to test resuming)
  --lifetime S    exit after S seconds in any case (tests must never leave it running)

Only loopback is used; the server stops by itself.
"""

import argparse
import http.server
import os
import signal
import sys
import threading


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--cut-after", type=int, default=None)
    parser.add_argument("--lifetime", type=float, default=60.0)
    args = parser.parse_args()
    # A spawning test process may block SIGTERM; unblock it so `terminate()` works too.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    root = os.path.realpath(args.directory)
    cut = set()
    log = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *values):  # quiet: the test reads stdout
            pass

        def do_GET(self):
            parts = self.path.split("/")
            # /<owner>/<name>/resolve/main/<file>
            if len(parts) < 6 or parts[3] != "resolve":
                return self.send_error(404)
            relative = os.path.join(parts[1], parts[2], *parts[5:])
            path = os.path.realpath(os.path.join(root, relative))
            if not path.startswith(root + os.sep) or not os.path.isfile(path):
                return self.send_error(404)
            size = os.path.getsize(path)
            start = 0
            header = self.headers.get("Range")
            if header and header.startswith("bytes=") and header.endswith("-"):
                start = int(header[len("bytes="):-1])
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(size - start))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            log.append(f"{relative} from {start}")
            with open(path, "rb") as file:
                file.seek(start)
                body = file.read()
            if args.cut_after is not None and relative not in cut and len(body) > args.cut_after:
                cut.add(relative)
                self.wfile.write(body[: args.cut_after])
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
