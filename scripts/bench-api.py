#!/usr/bin/env python3
"""The JSON API under load, through HTTP as its callers meet it: builds the synthetic England
(`wardline demo --national`) on a fresh SQLite file, serves it, signs in as the national
admin, makes an API token and an alert source's key, then measures
  1. reads of the national chart and of a regional chart through the token (sequential, each
     timed), and the organisation list under `wrk`;
  2. alerts accepted per second with `wrk`: 32 connections posting alerts over 50 alert keys
     (the first of each opens an incident, every repeat is de-duplicated onto its timeline),
     then the same with every alert new (each opens an incident).
Figures go to docs/BENCHMARKS.md by hand.

Usage: scripts/bench-api.py BIN SITE_ROOT [SECONDS]
"""
import base64, hashlib, hmac, http.cookiejar, json, os, re, statistics, struct, subprocess
import sys, tempfile, time, urllib.request, urllib.parse

bin_, site = sys.argv[1], sys.argv[2]
seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
work = tempfile.mkdtemp(prefix="wardline-api-")
port = 3978
env = dict(os.environ, WARDLINE_DATABASE_URL=f"sqlite://{work}/wardline.db",
           WARDLINE_SECRET_KEY_FILE=f"{work}/secret.key", LEPTOS_SITE_ROOT=site,
           WARDLINE_COOKIE_SECURE="false", WARDLINE_ADDR=f"127.0.0.1:{port}", RUST_LOG="error")
subprocess.run([bin_, "demo", "--national"], env=env, capture_output=True, check=True)
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


try:
    post("/api/auth/sign_in", {"email": "dana.whitlock@demo.wardline.test", "password": "wardline-demo"})
    secret = post("/api/auth/mfa_begin", {})["secret"]
    post("/api/auth/mfa_confirm", {"code": totp(secret)})
    token = post("/api/tokens/create", {"name": "benchmark", "access": "read", "days": "1"})["secret"]
    orgs = json.loads(urllib.request.urlopen(urllib.request.Request(
        base + "/api/v1/orgs?q=Trust", headers={"Authorization": f"Bearer {token}"})).read())
    trust = orgs["items"][0]["code"]
    key = post("/api/integrations/alert_source",
               {"org_code": trust, "source": "Benchmark SIEM", "kind": "ransomware"})["secret"]

    def timed(path, n):
        times = []
        for _ in range(n):
            req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}",
                                                               "Accept-Encoding": "br"})
            t = time.monotonic()
            with urllib.request.urlopen(req) as r:
                size = len(r.read())
            times.append((time.monotonic() - t) * 1000)
        times.sort()
        return statistics.median(times), times[int(len(times) * 0.95) - 1], size

    for name, path in [("national chart (page 1 of England)", "/api/v1/orgs/X24/chart"),
                       ("regional chart", "/api/v1/orgs/Y70/chart")]:
        med, p95, size = timed(path, 30)
        print(f"{name} via token, 30 sequential: median {med:.0f} ms, p95 {p95:.0f} ms, {size:,} bytes as sent (br)")

    def wrk(script, path, conns, label, extra_env):
        lua = os.path.join(work, "bench.lua")
        open(lua, "w").write(script)
        out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", lua,
                              base + path], env=dict(os.environ, **extra_env),
                             capture_output=True, text=True, check=True).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        lat = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(f"{label}: {float(rate):,.0f}/s, p50 {lat.get('50')}, p99 {lat.get('99')}, "
              f"non-2xx {bad.group(1) if bad else 0} ({conns} connections, {seconds} s)")

    reads = """
local token = os.getenv("WARDLINE_TOKEN")
request = function()
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
end
"""
    wrk(reads, "/api/v1/orgs?q=Practice", 16, "organisation search via token", {"WARDLINE_TOKEN": token})

    alerts = """
local key = os.getenv("WARDLINE_KEY")
local spread = tonumber(os.getenv("SPREAD"))
local n = 0
local tag = tostring(math.random(1, 1000000))
request = function()
  n = n + 1
  local id = spread > 0 and ("bench-" .. (n % spread)) or ("new-" .. tag .. "-" .. n)
  local body = '{"alert_key":"' .. id .. '","title":"Benchmark alert ' .. id .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer " .. key}, body)
end
"""
    wrk(alerts, "/api/v1/alerts", 32, "alerts over 50 keys (de-duplicated)", {"WARDLINE_KEY": key, "SPREAD": "50"})
    wrk(alerts, "/api/v1/alerts", 32, "alerts each new (each opens an incident)", {"WARDLINE_KEY": key, "SPREAD": "0"})
    status = open(f"/proc/{server.pid}/status").read()
    rss = re.search(r"VmRSS:\s+(\d+ kB)", status).group(1)
    print(f"server resident memory after: {rss}")
finally:
    server.terminate()
    server.wait()
