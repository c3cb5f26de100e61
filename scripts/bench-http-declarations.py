#!/usr/bin/env python3
"""Declarations through HTTP as a person meets them, on the real `wardline` binary (issue 14,
point 7): the demo data on a fresh SQLite file (WAL, synchronous=FULL), PEOPLE members of
staff at the demo GP practice each signed in with their own session, then `wrk` with 50
connections declaring ransomware as them in turn for SECONDS, after a warm-up. Each person
comes from their own address (X-Forwarded-For from a trusted local proxy), so no per-address
or per-person limit answers first. For comparison, the same clients then ask
`/api/auth/status` (the session and sign-in check, no write). Figures go to
docs/BENCHMARKS.md by hand.

Usage: scripts/bench-http-declarations.py BIN SITE_ROOT [PEOPLE] [SECONDS]
  BIN        the wardline binary (a release build: `cargo leptos build --release --precompress`)
  SITE_ROOT  its target/site directory
Installs Debian's wrk when it is missing.
"""
import http.cookiejar, os, re, shutil, sqlite3, subprocess, sys, tempfile, time
import urllib.request, urllib.parse

bin_, site = sys.argv[1], sys.argv[2]
people = int(sys.argv[3]) if len(sys.argv) > 3 else 800
seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 10
if not shutil.which("wrk"):
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))

work = tempfile.mkdtemp(prefix="wardline-http-")
port = 3988
base = f"http://127.0.0.1:{port}"
env = dict(os.environ, WARDLINE_DATABASE_URL=f"sqlite://{work}/wardline.db",
           WARDLINE_SECRET_KEY_FILE=f"{work}/secret.key", LEPTOS_SITE_ROOT=site,
           WARDLINE_COOKIE_SECURE="false", WARDLINE_ADDR=f"127.0.0.1:{port}", RUST_LOG="error",
           WARDLINE_TRUSTED_PROXIES="127.0.0.1/32")
subprocess.run([bin_, "demo"], env=env, capture_output=True, check=True)

# Staff at the demo practice, with the demo password (the hash copied from a demo member of
# staff, so setting up does not spend minutes hashing).
db = sqlite3.connect(f"{work}/wardline.db")
pid, org, created = db.execute(
    "SELECT id, org_id, created_at FROM person WHERE email = 'nadia.kowalski@demo.wardline.test'").fetchone()
hash_, changed = db.execute(
    "SELECT password_hash, password_changed_at FROM account WHERE person_id = ?", (pid,)).fetchone()
emails = []
for i in range(people):
    email = f"http.staff.{i}@demo.wardline.test"
    cur = db.execute("INSERT INTO person (display_name, email, job_title, org_id, disabled, created_at) "
                     "VALUES (?, ?, 'Receptionist', ?, 0, ?)", (f"HTTP Staff {i}", email, org, created))
    db.execute("INSERT INTO account (person_id, password_hash, password_changed_at, failed_attempts) "
               "VALUES (?, ?, ?, 0)", (cur.lastrowid, hash_, changed))
    db.execute("INSERT INTO access_grant (person_id, org_id, role, created_at) VALUES (?, ?, 'staff', ?)",
               (cur.lastrowid, org, created))
    emails.append(email)
db.commit()
db.close()

server = subprocess.Popen([bin_, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz")
        break
    except OSError:
        time.sleep(0.1)


def address(n):
    return f"10.{1 + n // 250}.{n % 250 // 10}.{n % 10 + 1}"


cookies = []
for n, email in enumerate(emails):
    jar = http.cookiejar.CookieJar()
    op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    req = urllib.request.Request(base + "/api/auth/sign_in",
                                 data=urllib.parse.urlencode({"email": email, "password": "wardline-demo"}).encode(),
                                 headers={"Accept": "application/json", "X-Forwarded-For": address(n)})
    op.open(req).read()
    cookies.append(next(c.value for c in jar if c.name == "wardline_session"))

form = urllib.parse.urlencode({"kind": "ransomware", "location": "Reception PC 2", "patients_affected": "unknown",
                               "systems": "EMIS Web", "summary": "Ransom note on screen; files renamed"})
lua = os.path.join(work, "as-people.lua")
with open(lua, "w") as f:
    f.write("local cookies = {" + ",".join(f'"{c}"' for c in cookies) + "}\n")
    f.write("local from = {" + ",".join(f'"{address(n)}"' for n in range(len(cookies))) + "}\n")
    f.write(f'local body = "{form}"\n')
    f.write("""
local n = 0
local path = os.getenv("WRK_PATH")
local offset = tonumber(os.getenv("WRK_OFFSET") or "0")
function setup(thread) thread:set("offset", offset) end
function request()
  n = n + 1
  local i = (n * 7 + (offset or 0)) % #cookies + 1
  return wrk.format("POST", path, {
    ["Cookie"] = "wardline_session=" .. cookies[i],
    ["X-Forwarded-For"] = from[i],
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end
local bad = 0
function response(status, headers, body) if status ~= 200 then bad = bad + 1 end end
""")


def run(path, secs, label):
    out = subprocess.run(["wrk", "-t2", "-c50", f"-d{secs}s", "--latency", "-s", lua, base],
                         env=dict(os.environ, WRK_PATH=path), capture_output=True, text=True, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    rate = re.search(r"Requests/sec:\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out).group(1)
    print(f"{label:<34} {float(rate):>8.0f}/s  p50 {lat['50']:>8}  p90 {lat['90']:>8}  p99 {lat['99']:>8}  "
          f"requests {total}, non-200 {non2xx.group(1) if non2xx else 0}")


print(f"{people} people signed in; wrk -t2 -c50, {seconds} s each, after a 2 s warm-up")
run("/api/auth/status", 2, "(warm-up)")
run("/api/auth/status", seconds, "signed-in reads (/api/auth/status)")
run("/api/incidents/declare", 2, "(warm-up)")
run("/api/incidents/declare", seconds, "declarations")
db = sqlite3.connect(f"{work}/wardline.db")
print("incidents written:", db.execute("SELECT count(*) FROM incident").fetchone()[0])
server.terminate()
server.wait()
