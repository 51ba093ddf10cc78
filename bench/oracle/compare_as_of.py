#!/usr/bin/env python3
"""Compare a `vigie report --as-of T` with the peer's report of the history truncated at T
(truncate_history.py), by compare_reports.py's rule, leaving out what differs by definition:
`tickets_total` (the rows of each file) and `backlog.by_status` (only reported at the export
instant).  Usage: compare_as_of.py PEER.json VIGIE.json"""
import json, sys
import compare_reports

a, b = (json.load(open(p)) for p in sys.argv[1:3])
for r in (a, b):
    r.pop("tickets_total", None)
    r["backlog"].pop("by_status", None)
out = []
compare_reports.diff(a, b, "", out)
if out:
    print("\n".join(out[:30]))
    print("DISAGREE: %d difference(s)" % len(out))
    sys.exit(1)
print("agree (as of %s)" % b["as_of"])
