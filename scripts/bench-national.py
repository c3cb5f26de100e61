#!/usr/bin/env python3
"""Wardline at national size: builds the synthetic England (`wardline demo --national`) on a
fresh SQLite file, serves it, signs in as the demo's national admin, and measures what a
person meets over HTTP: the national overview, a regional chart, the organisation map, CAF
readiness for all of England (time, and bytes as sent with brotli), then the server's
resident memory. Figures go to docs/BENCHMARKS.md by hand.

Usage: scripts/bench-national.py BIN SITE_ROOT [REQUESTS]
  BIN        the wardline binary (a release build: `cargo leptos build --release --precompress`)
  SITE_ROOT  its target/site directory
"""
import base64, hashlib, hmac, http.cookiejar, json, os, statistics, struct, subprocess
import sys, tempfile, time, urllib.request, urllib.parse

bin_, site = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
work = tempfile.mkdtemp(prefix="wardline-national-")
port = 3977
env = dict(os.environ, WARDLINE_DATABASE_URL=f"sqlite://{work}/wardline.db",
           WARDLINE_SECRET_KEY_FILE=f"{work}/secret.key", LEPTOS_SITE_ROOT=site,
           WARDLINE_COOKIE_SECURE="false", WARDLINE_ADDR=f"127.0.0.1:{port}", RUST_LOG="error")

t = time.monotonic()
out = subprocess.run([bin_, "demo", "--national"], env=env, capture_output=True, text=True, check=True)
built = time.monotonic() - t
print(f"demo --national (fresh SQLite): {built:.1f} s wall")
print("  " + [l for l in out.stdout.splitlines() if l.startswith("Synthetic")][0])
t = time.monotonic()
subprocess.run([bin_, "demo", "--national"], env=env, capture_output=True, check=True)
print(f"demo --national again: {time.monotonic() - t:.1f} s wall")

server = subprocess.Popen([bin_, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz")
        break
    except OSError:
        time.sleep(0.1)

jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def post(path, data):
    req = urllib.request.Request(base + path, data=urllib.parse.urlencode(data).encode(),
                                 headers={"Accept": "application/json"})
    return json.loads(op.open(req).read() or b"null")


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    h = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


post("/api/auth/sign_in", {"email": "dana.whitlock@demo.wardline.test", "password": "wardline-demo"})
secret = post("/api/auth/mfa_begin", {})["secret"]
post("/api/auth/mfa_confirm", {"code": totp(secret)})


def memory():
    status = open(f"/proc/{server.pid}/status").read()
    return {k: v.strip() for k, v in (l.split(":", 1) for l in status.splitlines())
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}


m = memory()
print(f"server memory once serving, before any page: resident {m['VmRSS']} "
      f"(anonymous {m['RssAnon']}, file-backed {m['RssFile']})")


def get(path):
    req = urllib.request.Request(base + path, headers={"Accept-Encoding": "br"})
    t = time.monotonic()
    with op.open(req) as r:
        body = r.read()
    return time.monotonic() - t, len(body)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


print(f"\n{'page':<22} {'p50 ms':>8} {'p99 ms':>8} {'bytes (br)':>11} {'resident after':>15}  ({runs} requests each, one at a time)")
for name, path, n in [("national overview", "/overview", runs), ("regional chart", "/orgs/Y70/chart", runs),
                      ("organisation map", "/orgs", runs), ("an ICB's page", "/orgs/Q00", runs),
                      ("CAF, all England", "/orgs/X24/caf", max(5, runs // 6))]:
    get(path)  # warm
    times, size = [], 0
    for _ in range(n):
        dt, size = get(path)
        times.append(dt * 1000)
    print(f"{name:<22} {pct(times, 50):8.0f} {pct(times, 99):8.0f} {size:11,} {memory()['VmRSS']:>15}")

# The same pages right after a change, made before each request, as a person would make it
# (the database's triggers move the change generation and its parts, migration 001901):
# - a holding changes (someone confirms their role: the commonest change): the server
#   reads the holdings of England again and keeps the rest;
# - a person changes (a job title; the same for a person disabled, a contact method, a
#   setting): the server reads people and settings again;
# - the organisation tree changes (an organisation renamed; the same for a link or a role):
#   the server reads the whole country again.
# What a person meets on a busy day, not only on a quiet one.
import random, sqlite3
changes = sqlite3.connect(f"{work}/wardline.db", timeout=30)
held = [r[0] for r in changes.execute("SELECT id FROM assignment WHERE ends_at IS NULL")]
people = [r[0] for r in changes.execute("SELECT id FROM person")]
orgs = [r[0] for r in changes.execute("SELECT id FROM organisation")]
random.seed(7)


def confirm_a_holding():
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    changes.execute("UPDATE assignment SET confirmed_at = ? WHERE id = ?", (now, random.choice(held)))
    changes.commit()


def retitle_a_person():
    changes.execute("UPDATE person SET job_title = ? WHERE id = ?",
                    (f"Lead {random.randrange(1000)}", random.choice(people)))
    changes.commit()


def rename_an_organisation():
    changes.execute("UPDATE organisation SET name = name || '' WHERE id = ?", (random.choice(orgs),))
    changes.commit()


n = max(5, runs // 3)
for label, change in [("after a holding changes", confirm_a_holding),
                      ("after a person changes", retitle_a_person),
                      ("after the tree changes", rename_an_organisation)]:
    print(f"\n{label:<24} {'p50 ms':>6} {'p99 ms':>8} {'bytes (br)':>11} {'resident after':>15}  ({n} requests each)")
    for name, path in [("national overview", "/overview"), ("regional chart", "/orgs/Y70/chart"),
                       ("CAF, all England", "/orgs/X24/caf")]:
        times, size = [], 0
        for _ in range(n):
            change()
            dt, size = get(path)
            times.append(dt * 1000)
        print(f"{name:<24} {pct(times, 50):6.0f} {pct(times, 99):8.0f} {size:11,} {memory()['VmRSS']:>15}")
changes.close()

rss = memory()
print(f"\nserver memory after the runs: resident {rss['VmRSS']} (anonymous {rss['RssAnon']}, "
      f"file-backed {rss['RssFile']}), peak {rss['VmHWM']}")
time.sleep(5)
rss = memory()
print(f"five seconds later, idle: resident {rss['VmRSS']} (anonymous {rss['RssAnon']}, "
      f"file-backed {rss['RssFile']})")
server.terminate()
server.wait()
import shutil
shutil.rmtree(work, ignore_errors=True)
