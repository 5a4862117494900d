# torch_peaks.py - PyTorch's own figures for the two ceilings the report measures on a GPU:
# a large device-to-device copy (bytes read + written / time) and a bf16 8192^3 matrix product,
# CUDA events, median of 20 after 5 warm-ups.
import statistics, torch
def timed(fn, reps=20, warm=5):
    for _ in range(warm): fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize(); ts.append(a.elapsed_time(b) / 1e3)
    return statistics.median(ts)
n = 1 << 30
src = torch.empty(n, dtype=torch.uint8, device="cuda"); dst = torch.empty_like(src)
t = timed(lambda: dst.copy_(src))
print(f"torch d2d copy 1 GiB: {2 * n / t / 1e9:.0f} GB/s (read + written)")
for dt in (torch.bfloat16, torch.float16):
    x = torch.randn(8192, 8192, device="cuda", dtype=dt); y = torch.randn_like(x)
    t = timed(lambda: x @ y)
    print(f"torch {str(dt).split('.')[-1]} matmul 8192^3: {2 * 8192**3 / t / 1e12:.0f} TFLOP/s")
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
