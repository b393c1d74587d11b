"""A local HTTP API for the AurumAPITests: paginates every way, rate-limits, fails on purpose.

Started by the tests (`python3 api_test_server.py`); prints its port on the first line of stdout and
exits when its stdin closes (so it never outlives the test process). Each test passes `run=<id>` so
its request log and failure sequence are its own; `GET /requests?run=<id>` returns that log.
"""
import base64
import json
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CITIES = ["Berlin", "Lisbon", "Oslo"]
RECORDS = [
    {"id": i, "name": f"Customer {i}", "address": {"city": CITIES[i % 3], "zip": f"{10000 + i}"}, "tags": ["t%d" % (i % 2)]}
    for i in range(1, 26)
]
API_KEY = "k3y-s3cret-123"
TOKEN = "tok-abc-999"
BASIC = ("ann", "pw-secret-42")

lock = threading.Lock()
requests_by_run = {}   # run -> [request info]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):  # quiet
        pass

    # -- helpers -----------------------------------------------------------------------------
    def send_json(self, obj, status=200, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def url(self, path, **params):
        q = dict(params)
        if self.run:
            q["run"] = self.run
        return "http://%s%s?%s" % (self.headers.get("Host"), path, urlencode(q))

    def count(self):
        """How many requests this run has made to this path so far (this one included)."""
        with lock:
            return sum(1 for r in requests_by_run.get(self.run, []) if r["path"] == self.path_only)

    def int_param(self, name, default):
        try:
            return int(self.q.get(name, [default])[0])
        except ValueError:
            return default

    # -- dispatch ----------------------------------------------------------------------------
    def do_GET(self):
        u = urlparse(self.path)
        self.path_only = u.path
        self.q = parse_qs(u.query, keep_blank_values=True)
        self.run = self.q.get("run", [""])[0]
        if u.path != "/requests":
            with lock:
                requests_by_run.setdefault(self.run, []).append({
                    "path": u.path, "query": u.query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                })
        name = "route_" + u.path.strip("/").replace("/", "_").replace("-", "_")
        getattr(self, name, self.route_missing)()

    def route_missing(self):
        self.send_json({"error": "no route %s" % self.path_only}, status=404)

    def route_requests(self):
        with lock:
            self.send_json(requests_by_run.get(self.run, []))

    # -- pagination --------------------------------------------------------------------------
    def route_page(self):
        page = self.int_param("page", 1)
        size = self.int_param("per_page", 10)
        self.send_json({"data": RECORDS[(page - 1) * size: page * size], "page": page})

    def route_offset(self):
        offset = self.int_param("offset", 0)
        limit = self.int_param("limit", 10)
        self.send_json({"results": RECORDS[offset: offset + limit], "total": len(RECORDS)})

    @staticmethod
    def token(i):
        # Characters a URL must encode, so a cursor that is not sent back verbatim is noticed.
        return "c+%d/=&" % i

    def route_cursor(self):
        c = self.q.get("cursor", [""])[0]
        start = int(c[2:-3]) if c else 0
        nxt = start + 10
        self.send_json({"items": RECORDS[start: nxt], "meta": {"next_cursor": self.token(nxt) if nxt < len(RECORDS) else None}})

    def route_auto_cursor(self):
        c = self.q.get("cursor", [""])[0]
        start = int(c[2:-3]) if c else 0
        nxt = start + 10
        self.send_json({"data": RECORDS[start: nxt], "next_cursor": self.token(nxt) if nxt < len(RECORDS) else None})

    def route_link(self):
        page = self.int_param("page", 1)
        links = ['<%s>; rel="first"' % self.url("/link", page=1)]
        if page * 10 < len(RECORDS):
            # Absolute on page 1, relative on page 2; rel with several types, a comma inside a quoted title.
            target = self.url("/link", page=page + 1) if page == 1 else "/link?" + urlencode({"page": page + 1, "run": self.run})
            links.append('<%s>; title="next, please"; rel="next last"' % target)
        self.send_json(RECORDS[(page - 1) * 10: page * 10], headers={"Link": ", ".join(links)})

    def route_next(self):
        page = self.int_param("page", 1)
        body = {"records": RECORDS[(page - 1) * 10: page * 10]}
        if page == 1:
            body["next"] = self.url("/next", page=2)
        elif page == 2:
            body["links"] = {"next": "/next?" + urlencode({"page": 3, "run": self.run})}
        else:
            body["next"] = None
        self.send_json(body)

    def route_nested(self):
        self.send_json(None, raw=b'{"data": {"customers": [{"id": 1, "name": {"first": "Ann", "last": "Lee"}, '
                                 b'"tags": ["a", "b"], "score": 1.5, "big": 12345678901234567890, "active": true, '
                                 b'"note": null}, {"id": 2, "name": {"first": "Bo"}}, 7]}}')

    def route_empty(self):
        self.send_response(204)
        self.end_headers()

    # -- bad input ---------------------------------------------------------------------------
    def route_html(self):
        body = b"<!DOCTYPE html>\n<html><head><title>Sign in - Example</title></head><body>Please sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_notjson(self):
        self.send_json(None, raw=b'{"data": [\n  {"id": 1},\n  {"id": 2},,\n]}')

    def route_noarray(self):
        self.send_json({"status": "ok", "count": 3})

    def route_loop(self):
        page = self.int_param("page", 1)
        target = self.url("/loop", page=2 if page == 1 else 1)
        self.send_json([{"id": page}], headers={"Link": '<%s>; rel="next"' % target})

    def route_cursorloop(self):
        c = self.q.get("cursor", [""])[0]
        nxt = {"": "a", "a": "b", "b": "a"}[c]
        self.send_json({"items": [{"id": c or "start"}], "next_cursor": nxt})

    def route_same(self):
        self.send_json({"data": RECORDS[:5]})

    def route_hal(self):
        # HAL style: {"_embedded"...} is not looked at; records under "items", next under _links.next.href.
        page = self.int_param("page", 1)
        body = {"items": RECORDS[(page - 1) * 10: page * 10], "_links": {"self": {"href": "/hal?page=%d" % page}}}
        if page * 10 < len(RECORDS):
            body["_links"]["next"] = {"href": "/hal?" + urlencode({"page": page + 1, "run": self.run})}
        self.send_json(body)

    def route_nextnumber(self):
        self.send_json({"data": [{"id": 1}], "next": 2})

    def route_nexttoken(self):
        self.send_json({"data": [{"id": 1}], "next": "eyJwYWdlIjoyfQ"})

    # -- failures and rate limits ------------------------------------------------------------
    def drop(self):
        """Closes the connection without a byte of response."""
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass

    def route_flaky(self):
        n = self.count()
        if n == 1:
            self.send_json({"error": "boom"}, status=500)
        elif n == 2:
            self.drop()
        elif n == 3:
            self.send_json({"error": "slow down"}, status=429, headers={"Retry-After": "1"})
        elif n == 4:
            self.send_json({"error": "unavailable"}, status=503)
        else:
            self.send_json({"data": RECORDS[:3]})

    def route_ratelimit_date(self):
        if self.count() == 1:
            self.send_json({"error": "slow down"}, status=429, headers={"Retry-After": formatdate(time.time() + 2, usegmt=True)})
        else:
            self.send_json({"data": RECORDS[:2]})

    def route_ratelimit_long(self):
        self.send_json({"error": "come back tomorrow"}, status=429, headers={"Retry-After": "86400"})

    def route_always503(self):
        self.send_json({"error": "down for maintenance"}, status=503)

    def route_status(self):
        code = self.int_param("code", 500)
        self.send_json({"error": "status %d for key %s" % (code, self.headers.get("X-API-Key", "-"))}, status=code)

    def route_slow(self):
        time.sleep(float(self.q.get("seconds", ["5"])[0]))
        self.send_json({"data": [{"id": 1}]})

    def route_dropped(self):
        self.drop()

    # -- authentication ----------------------------------------------------------------------
    def deny(self, sent):
        self.send_json({"error": "invalid credentials %s" % sent}, status=401)

    def route_auth_key(self):
        sent = self.headers.get("X-API-Key")
        if sent == API_KEY:
            self.send_json({"data": [{"id": 1, "auth": "key"}]})
        else:
            self.deny(sent)

    def route_auth_query(self):
        sent = self.q.get("key", [None])[0]
        if sent == API_KEY:
            if self.int_param("page", 1) == 1:
                # The next link echoes the key, as some APIs do: it must not show in messages.
                self.send_json({"data": [{"id": 1}]}, headers={"Link": '<%s&key=%s>; rel="next"' % (self.url("/auth/query", page=2), sent)})
            else:
                self.send_json({"data": [{"id": 2}]}, headers={"Link": '<%s&key=%s>; rel="next"' % (self.url("/auth/query", page=2), sent)})
        else:
            self.deny(sent)

    def route_auth_cross(self):
        # Page 1 (127.0.0.1) links to page 2 on "localhost": another origin, which must get no credentials.
        if self.int_param("page", 1) == 1:
            port = self.server.server_address[1]
            self.send_json({"data": [{"id": 1}]},
                           headers={"Link": '<http://localhost:%d/auth/cross?page=2&run=%s>; rel="next"' % (port, self.run)})
        else:
            self.send_json({"data": [{"id": 2}]})

    def route_auth_redirect(self):
        # A redirect to another origin ("localhost"), which must get no credentials either.
        port = self.server.server_address[1]
        self.send_response(302)
        self.send_header("Location", "http://localhost:%d/auth/cross?page=2&run=%s" % (port, self.run))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_auth_bearer(self):
        sent = self.headers.get("Authorization", "")
        if sent == "Bearer " + TOKEN:
            self.send_json({"data": [{"id": 1, "auth": "bearer"}]})
        else:
            self.deny(sent)

    def route_auth_basic(self):
        sent = self.headers.get("Authorization", "")
        if sent == "Basic " + base64.b64encode(("%s:%s" % BASIC).encode()).decode():
            self.send_json({"data": [{"id": 1, "auth": "basic"}]})
        else:
            self.deny(sent)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the test process goes away


if __name__ == "__main__":
    main()
