#!/bin/bash
# Measures the server's memory while it refuses hostile uploads (docs/limits.md):
#
#   scripts/limits/measure.sh target/release/minzheng FILE...
#
# For each FILE: a fresh `minzheng serve --demo` on port 18090 (in ./limits-demo, seeded
# the first time), sign-in as staff, FILE posted to /api/v1/imports/households, the job
# followed to its end; prints VmRSS before the upload and VmHWM (the peak) after it.
set -u
BIN=$(realpath "$1"); shift
PORT=18090; DIR=limits-demo; JAR=$DIR/cookies
mkdir -p $DIR
for f in "$@"; do
  f=$(realpath "$f")
  (cd $DIR && exec "$BIN" serve --demo --listen 127.0.0.1:$PORT > server.log 2>&1) & PID=$!
  for i in $(seq 1 120); do curl -s -o /dev/null http://127.0.0.1:$PORT/healthz && break; sleep 1; done
  mem() { grep -E "^$1:" /proc/$PID/status | tr -s ' \t' ' '; }
  TOKEN=$(curl -s -c $JAR -b $JAR -H 'Content-Type: application/json' \
    -d '{"username":"staff","password":"Minzheng@2026"}' http://127.0.0.1:$PORT/api/v1/session |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["csrf_token"])')
  echo "== $(basename "$f") ($(stat -c %s "$f") bytes); before: $(mem VmRSS)"
  curl -s -m 600 -b $JAR -H "X-CSRF-Token: $TOKEN" -F "file=@$f" -o $DIR/resp.json \
    -w 'HTTP %{http_code} in %{time_total}s\n' http://127.0.0.1:$PORT/api/v1/imports/households
  JOB=$(python3 -c 'import json; print(json.load(open("'$DIR'/resp.json")).get("job_id",""))' 2>/dev/null)
  for i in $(seq 1 600); do
    ST=$(curl -s -b $JAR http://127.0.0.1:$PORT/api/v1/jobs/$JOB |
      python3 -c 'import sys,json; j=json.load(sys.stdin); print(j["status"], j["report"]["issues"][0]["reason"] if j.get("report") and j["report"]["issues"] else j["message"])' 2>/dev/null)
    case "$ST" in running*) sleep 1;; *) break;; esac
  done
  echo "job $JOB: $ST"
  echo "after: $(mem VmHWM) $(mem VmRSS)"
  kill $PID; wait $PID 2>/dev/null
done
