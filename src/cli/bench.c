/* bench.c - `hwscope bench [SUITE...]`: measured key metrics against the datasheet and the
 * theoretical peak; `hwscope bench transformer ...` is handed to cmd_bench_transformer. */
#include "report/bench.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/bench.h"
#include "report/json.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUITES 8

static const char usage[] =
    "[cpu|mem|gemm|pcie|gpu|p2p|nccl|all ...] [--quick] [--device N] [--no-save] [--json]\n"
    "       hwscope bench transformer [OPTIONS]\n"
    "Measures memory bandwidth, matrix throughput per precision and host<->device copies, each\n"
    "beside the datasheet and the theoretical peak, with a verdict (normal, low, suspect).\n"
    "Suites: cpu (STREAM, OpenBLAS products), mem (CPU and GPU memory), gemm (CPU and GPU\n"
    "products), pcie (host<->device), gpu (all single-GPU ones), p2p (peer-to-peer bandwidth\n"
    "and latency between every pair of GPUs), nccl (NCCL all-reduce, all-gather,\n"
    "reduce-scatter, broadcast, all-to-all over every GPU; libnccl.so.2 or $HWSCOPE_NCCL_LIB;\n"
    "NCCL_NVLS_ENABLE=0 is set for the run), all (the default).\n"
    "The GPU's measured ceilings (copy bandwidth, best product per precision, CPU STREAM) are\n"
    "saved for `hwscope plan` in $HWSCOPE_CEILINGS, else $XDG_CACHE_HOME/hwscope/ceilings.json,\n"
    "else ~/.cache/hwscope/ceilings.json; --no-save leaves that file alone.";

/* `bench ... transformer REST`: the transformer command gets argv from "transformer" on, with
 * any flags given before it kept. */
static int dispatch_transformer(int argc, char **argv, int at) {
    char **args = calloc((size_t)argc + 1, sizeof *args);
    int n = 0;
    if (args == NULL) {
        fprintf(stderr, "hwscope bench: out of memory\n");
        return 1;
    }
    args[n++] = argv[at];
    for (int i = 1; i < argc; i++)
        if (i != at)
            args[n++] = argv[i];
    int rc = cmd_bench_transformer(n, args);
    free(args);
    return rc;
}

/* One progress line on stderr, rewritten in place (only when stderr is a terminal). */
static void progress(void *arg, const char *key, int index, int total) {
    (void)arg;
    fprintf(hws_terminal_stream(), "\r\033[K[%d/%d] %s ...", index + 1, total, key);
    fflush(stderr);
}

/* Saves the GPU's ceilings for the planner; 1 when that failed (the file is left alone). */
static int save_ceilings(const hws_bench_result *r) {
    hws_ceilings c;
    hws_error err = {""};
    char path[HWS_CEILINGS_PATH_BYTES];
    if (!hws_bench_ceilings(r, &c)) {
        if (hws_known(c.host_mem_bw_gbps))
            fprintf(stderr, "hwscope bench: no ceilings saved: they are saved per GPU, with the "
                            "GPU suites (bench gpu, mem or all)\n");
        return 0;
    }
    if (!hws_ceilings_path(path, sizeof path)) {
        fprintf(stderr,
                "hwscope bench: ceilings not saved: the path from $HWSCOPE_CEILINGS, "
                "$XDG_CACHE_HOME or $HOME is longer than %d bytes (--no-save skips saving)\n",
                HWS_CEILINGS_PATH_BYTES - 1);
        return 1;
    }
    fflush(stdout); /* the table first, where both go to one file */
    if (hws_ceilings_save(path, r->fingerprint.bench_gpu_name, &c, &err) != HWS_OK) {
        fprintf(stderr, "hwscope bench: ceilings not saved: %s (--no-save skips saving)\n",
                err.msg);
        return 1;
    }
    fprintf(stderr, "hwscope bench: saved the measured ceilings of %s to %s\n",
            r->fingerprint.bench_gpu_name, path);
    return 0;
}

static int exit_code(const hws_bench_result *r) {
    for (int i = 0; i < r->nrecords; i++)
        if (r->records[i].state == HWS_BENCH_FAILED)
            return 1;
    return 0;
}

int cmd_bench(int argc, char **argv) {
    bool json = false, quick = false, no_save = false;
    long device = 0;
    const char *pos[MAX_SUITES];
    int npos = 0;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "transformer") == 0)
            return dispatch_transformer(argc, argv, i);
    hws_opt opts[] = {
        {"quick", HWS_OPT_FLAG, &quick, 0, 0, "small sizes and few repeats: a few seconds"},
        {"device", HWS_OPT_INT, &device, 0, 63, "GPU index (NVML/CUDA numbering)"},
        {"no-save", HWS_OPT_FLAG, &no_save, 0, 0, "do not save the ceilings for `hwscope plan`"},
        {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document"},
    };
    int rc = hws_args_parse("bench", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos,
                            MAX_SUITES, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    for (int i = 0; i < npos; i++)
        if (!hws_bench_suite_known(pos[i]))
            return hws_usage_error("bench",
                                   "'%s' is not a suite (cpu, mem, gemm, pcie, gpu, p2p, "
                                   "nccl, all, transformer)",
                                   pos[i]);
    /* NVLink SHARP stays off in every NCCL run (the library never calls setenv): set before
     * NCCL is first opened, so the communicators and any child process see it */
    if (setenv("NCCL_NVLS_ENABLE", "0", 1) != 0) {
        fprintf(stderr, "hwscope bench: cannot set NCCL_NVLS_ENABLE=0\n");
        return 1;
    }
    hws_bench_options o = hws_bench_defaults();
    o.quick = quick;
    o.device = (int)device;
    if (isatty(STDERR_FILENO))
        o.progress = progress;
    hws_bench_result *r = NULL;
    hws_error err = {""};
    hws_status st = hws_bench_run(pos, npos, &o, &r, &err);
    if (o.progress != NULL)
        fprintf(hws_terminal_stream(), "\r\033[K");
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope bench: %s\n", err.msg);
        return st == HWS_ERR_INPUT ? 2 : 1;
    }
    if (r->gpu_note[0] != '\0')
        fprintf(stderr, "hwscope bench: GPU benchmarks waived: %s\n", r->gpu_note);
    rc = exit_code(r);
    if (json) {
        if (hws_json_emit("bench", hws_bench_json(r, pos, npos, quick)) != 0)
            rc = 1;
    } else {
        hws_bench_print(r, stdout);
    }
    if (!no_save && save_ceilings(r) != 0)
        rc = 1;
    hws_bench_result_free(r);
    return rc;
}
