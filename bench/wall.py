#!/usr/bin/env python3
"""Whole-process wall time of a command, median of N runs, in milliseconds.

  wall.py N CMD ARGS...

Each run is one fork and exec from this process, timed with perf_counter_ns around
subprocess.run; output goes to /dev/null. The harness's own cost is what `wall.py N /bin/true`
prints (about half a millisecond), far below a shell's `date +%s%N` pair (about three).
"""
import statistics, subprocess, sys, time

n = int(sys.argv[1])
cmd = sys.argv[2:]
times = []
for _ in range(n):
    t0 = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter_ns() - t0) / 1e6)
print(f"{statistics.median(times):.2f}")
