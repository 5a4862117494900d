#!/usr/bin/env python3
"""trace_steps.py TRACE [--last N]: decode steps of a CUPTI kernel trace (cupti_trace.c). A step
starts at embed_kernel; steps with an att_warp_kernel and the modal kernel count are kept (the
last N). Per kernel name: calls per step, mean duration, mean time added to the step's end (end
minus the previous kernel's end), mean gap (start minus the previous end)."""
import sys, re, collections
path = sys.argv[1]; last = int(sys.argv[3]) if len(sys.argv) > 3 else 20
recs = []
for l in open(path):
    a = l.split(None, 4)
    if len(a) < 5: continue
    recs.append((int(a[0]), int(a[1]), int(a[2]), int(a[3]), a[4].strip()))
recs.sort()
def short(n):
    n = re.sub(r'\(.*', '', n)
    m = re.match(r'(?:void )?([\w:]+)(<.*>)?', n)
    return (m.group(1) + (m.group(2) or '')) if m else n[:60]
steps = []; cur = None
for r in recs:
    if 'embed_kernel' in r[4]:
        cur = []; steps.append(cur)
    if cur is not None: cur.append(r)
steps = [s for s in steps if any('att_warp' in r[4] or 'att_split' in r[4] for r in s)]
if not steps: print('no decode steps'); sys.exit(0)
cnt = collections.Counter(len(s) for s in steps).most_common(1)[0][0]
steps = [s for s in steps if len(s) == cnt][-last:]
agg = collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0, ''])
spans = []
for s in steps:
    spans.append((s[-1][1] - s[0][0]) / 1e3)
    prev_end = s[0][0]
    for r in s:
        key = short(r[4]) + ' g%d b%d' % (r[2], r[3])
        a = agg[key]; a[0] += 1; a[1] += (r[1] - r[0]) / 1e3
        a[2] += (max(r[1], prev_end) - prev_end) / 1e3; a[3] += (r[0] - prev_end) / 1e3
        prev_end = max(prev_end, r[1])
n = len(steps)
print('%d steps of %d kernels; span mean %.1f us (min %.1f)' % (n, cnt, sum(spans) / n, min(spans)))
print('%-70s %5s %9s %9s %9s %9s' % ('kernel', 'calls', 'dur us', 'added us', 'add/call', 'gap/call'))
for k, a in sorted(agg.items(), key=lambda kv: -kv[1][2]):
    c = a[0] / n
    print('%-70s %5.0f %9.1f %9.1f %9.2f %9.2f' % (k[:70], c, a[1] / n, a[2] / n, a[2] / a[0], a[3] / a[0]))
