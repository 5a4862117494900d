#!/usr/bin/env python3
"""trace_layer.py TRACE: per position within a layer (kernels 1..5 after embed), over the last 30
decode steps' middle layers: start rel. to previous end, duration, time added."""
import sys, collections
recs = sorted(tuple(int(x) for x in l.split()[:4]) + (l.split(None, 4)[4].strip(),) for l in open(sys.argv[1]) if len(l.split()) >= 5)
steps = []; cur = None
for r in recs:
    if 'embed_kernel' in r[4]: cur = []; steps.append(cur)
    if cur is not None: cur.append(r)
steps = [s for s in steps if any('att_' in r[4] for r in s)]
cnt = collections.Counter(len(s) for s in steps).most_common(1)[0][0]
steps = [s for s in steps if len(s) == cnt][-30:]
per = (cnt - 2) // 32
acc = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0])
for s in steps:
    for L in range(2, 30):
        for j in range(per):
            i = 1 + L * per + j; r = s[i]; pe = max(x[1] for x in s[:i])
            a = acc[j]; a[0] += (r[0] - pe) / 1e3; a[1] += (r[1] - r[0]) / 1e3; a[2] += (max(r[1], pe) - pe) / 1e3; a[3] += 1
            a.append(r[4][:40] + ' g%d b%d' % (r[2], r[3])) if len(a) == 4 else None
for j in range(per):
    a = acc[j]; n = a[3]
    print('%d %-50s start-prev_end %6.2f dur %6.2f added %6.2f' % (j, a[4], a[0] / n, a[1] / n, a[2] / n))
