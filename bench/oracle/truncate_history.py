#!/usr/bin/env python3
"""The history as it stood at an instant T, for checking `vigie report --as-of T` against the
peers (which only report at the export instant): rows created after T are dropped, and a first
response or resolution after T is blanked (it had not happened yet). sla.csv and
handle_time.csv are copied.  Usage: truncate_history.py DIR T OUT_DIR   (T: YYYY-MM-DDTHH:MM:SSZ)"""
import csv, os, shutil, sys

src, t, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
csv.field_size_limit(1 << 30)
with open(os.path.join(src, "tickets.csv"), newline="", encoding="utf-8") as f, \
        open(os.path.join(out, "tickets.csv"), "w", newline="", encoding="utf-8") as g:
    reader = csv.DictReader(f)
    writer = csv.DictWriter(g, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    for row in reader:
        # the timestamps are all YYYY-MM-DDTHH:MM:SSZ: they compare as strings
        if row["created_at"] > t:
            continue
        for col in ("first_response_at", "resolved_at"):
            if row[col] and row[col] > t:
                row[col] = ""
        writer.writerow(row)
for name in ("sla.csv", "handle_time.csv"):
    shutil.copy(os.path.join(src, name), os.path.join(out, name))
