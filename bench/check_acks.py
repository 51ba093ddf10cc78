#!/usr/bin/env python3
"""Re-reads the acknowledged updates of a W6 run and checks each ticket shows the last
acknowledged status, or a later one from a write still in flight when wrk stopped (wrk does
not log the answers of the requests cut off at the end of a run, though the server may have
committed them): then the history must hold more status changes than were acknowledged. Stands in for run_w6.py's own update check, whose Lua-to-regex conversion
turns vigie's `[%w_]+` status pattern into a broken character class (every check fails).

  check_acks.py BASE_URL TOKEN ACKS_DIR OP REP

Ack logs are `ack-<op>-<rep>.<thread>`, lines `id<TAB>status`, in acknowledgement order per
wrk thread; each thread updates its own stride of ids, so the last line of an id is its last
acknowledged status, or a later one from a write still in flight when wrk stopped (wrk does
not log the answers of the requests cut off at the end of a run, though the server may have
committed them): then the history must hold more status changes than were acknowledged.
"""
import glob
import http.client
import json
import sys
import urllib.parse

base_url, token, acks_dir, op, rep = sys.argv[1:6]
last = {}
n_acks = {}
for path in sorted(glob.glob(f"{acks_dir}/ack-{op}-{rep}.*")):
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0]:
                last[parts[0]] = parts[1] if len(parts) > 1 else None
                n_acks[parts[0]] = n_acks.get(parts[0], 0) + 1
if op == "create" and len(last) > 20000:
    # Every update id is checked; creates are many: a fixed-stride sample of 20,000.
    keys = sorted(last)
    last = {k: last[k] for k in keys[:: len(keys) // 20000 + 1]}
url = urllib.parse.urlsplit(base_url)
conn = http.client.HTTPConnection(url.hostname, url.port)
missing = wrong = in_flight = 0


def get(path):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    return response.status, response.read()


for ticket_id, status in last.items():
    code, body = get(f"/api/v1/tickets/{ticket_id}")
    if code != 200:
        missing += 1
        continue
    if op != "update":
        continue
    _, events = get(f"/api/v1/tickets/{ticket_id}/events")
    n_changes = sum(1 for e in json.loads(events)["items"] if e["kind"] == "status_changed")
    if n_changes < n_acks[ticket_id]:
        wrong += 1  # an acknowledged change is not in the history: lost
    elif json.loads(body)["status"] != status:
        if n_changes > n_acks[ticket_id]:
            in_flight += 1
        else:
            wrong += 1
print(
    f"{op} rep {rep}: {len(last)} tickets with acknowledged writes checked: {missing} missing, {wrong} lost "
    f"acknowledged changes, {in_flight} showing a later change that was in flight when the run stopped"
)
sys.exit(1 if missing or wrong else 0)
