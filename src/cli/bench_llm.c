/* bench_llm.c - `hwscope bench llm [MODEL]`: prefill and decode tokens/s of a model through the
 * hwscope engine, as llama-bench users know them (pp512, tg128, -d for decode after N tokens
 * of cache, comma lists), each beside its bound and the planner's prediction; the runs are
 * saved beside the ceilings for `hwscope plan --runtime hwscope`. */
#include "report/bench.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "hwscope/bench.h"
#include "hwscope/llm.h"
#include "hwscope/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD      "bench llm"
#define MAX_ARGS 256

static const char usage[] =
    "[MODEL] [-p 512] [-n 128] [-d 0] [-b 1] [--dtype bf16|fp16] [--quant int8|int4]\n"
    "       [--device cuda|cpu] [-r 5] [-o md|csv|json|jsonl] [--load] [--no-save]\n"
    "Runs MODEL (a catalog name, a Hugging Face folder or config.json, a .gguf file; with none,\n"
    "the largest catalog model that fits) through hwscope's engine with seeded random weights\n"
    "(--load: the file's own) and prints llama-bench's rows: ppN (prefill of N tokens) and tgN\n"
    "(N decode steps; tgN@dD after D tokens of cache), the mean and stddev of the repetitions,\n"
    "time to first token, peak device memory, average power and tokens per joule (NVML energy\n"
    "counter), the bound (bandwidth / bytes read per step for decode, matrix FLOP/s / FLOPs per\n"
    "token for prefill; measured ceilings when `hwscope bench` saved them, else the datasheet),\n"
    "the fraction of it reached, and `hwscope plan --runtime hwscope`'s prediction with its\n"
    "error. -p, -n, -d and -b take comma lists (-p 128,512). The runs are saved beside the\n"
    "ceilings (see `hwscope bench --help`) unless --no-save.";

/* llama-bench's short flags, spelled as this command's long ones. */
static const struct {
    const char *short_flag, *long_flag;
} aliases[] = {
    {"-p", "--prompt"}, {"-n", "--gen"},  {"-d", "--depth"},
    {"-b", "--batch"},  {"-r", "--reps"}, {"-o", "--output"},
};

/* A comma list of whole numbers in [lo, hi] into v; 2 after naming the flag when it is not. */
static int parse_list(const char *flag, const char *text, int lo, int hi, int *v, int *n) {
    const char *p = text;
    *n = 0;
    while (*p != '\0') {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno != 0 || x < lo || x > hi || (*end != ',' && *end != '\0') ||
            *n >= HWS_LLM_LIST_MAX)
            return hws_usage_error(CMD,
                                   "%s: '%s' is not a comma list of at most %d integers in "
                                   "%d..%d",
                                   flag, text, HWS_LLM_LIST_MAX, lo, hi);
        v[(*n)++] = (int)x;
        p = *end == ',' ? end + 1 : end;
        if (*end == ',' && *p == '\0')
            return hws_usage_error(CMD, "%s: '%s' ends with a comma", flag, text);
    }
    return *n > 0 ? 0 : hws_usage_error(CMD, "%s: empty list", flag);
}

typedef struct {
    const char *prompt, *gen, *depth, *batch, *dtype, *quant, *device, *output;
    long reps, threads, gpu;
    bool load, no_save;
} flags;

/* Available memory on the device the run uses, bytes; NA with why when unknown. */
static double available_bytes(const hws_llm_bench_opts *o, int gpu, char *why, size_t n) {
    hws_error err = {""};
    if (o->device == HWS_LLM_CUDA) {
        hws_device_set devs;
        if (hws_devices_local(&devs, &err) != HWS_OK || gpu >= devs.count) {
            snprintf(why, n, "%s", err.msg[0] ? err.msg : "no such GPU");
            return HWS_NA;
        }
        return devs.dev[gpu].mem_avail_bytes;
    }
    hws_mem_info mem;
    if (hws_probe_mem(&mem, &err) != HWS_OK) {
        snprintf(why, n, "%s", err.msg);
        return HWS_NA;
    }
    return mem.available_bytes;
}

/* The planner's memory for the run: weights in the format, KV for the longest row and the
 * largest batch, the engine's overheads. */
static hws_status plan_memory(const hws_model_spec *m, const hws_llm_bench_opts *o, hws_memory *mem,
                              hws_error *err) {
    hws_plan_opts po;
    int maxp = 0, maxdn = 0, maxb = 1;
    for (int i = 0; i < o->nprompts; i++)
        maxp = o->prompts[i] > maxp ? o->prompts[i] : maxp;
    for (int i = 0; i < o->ngens; i++)
        for (int j = 0; j < (o->ndepths > 0 ? o->ndepths : 1); j++) {
            int dn = o->gens[i] + (o->ndepths > 0 ? o->depths[j] : 0);
            maxdn = dn > maxdn ? dn : maxdn;
        }
    for (int i = 0; i < o->nbatches; i++)
        maxb = o->batches[i] > maxb ? o->batches[i] : maxb;
    hws_plan_opts_default(&po);
    po.weights = hws_weight_format_find(hws_llm_format_name((hws_llm_format)o->format));
    po.runtime = HWS_RUNTIME_HWSCOPE;
    po.batch = maxb;
    po.prompt_tokens = maxp > 0 ? maxp : 1;
    po.ctx_tokens = (maxp + 1 > maxdn ? maxp + 1 : maxdn) + 1;
    return hws_memory_estimate(m, &po, mem, err);
}

/* With no MODEL: the catalog model the engine runs whose planned memory is largest and fits. */
static int pick_model(const hws_llm_bench_opts *o, double avail, hws_model_spec *out) {
    size_t n;
    const hws_model_spec *cat = hws_model_catalog(&n);
    double best = 0;
    for (size_t i = 0; i < n; i++) {
        hws_llm_shape shape;
        hws_memory mem;
        hws_error err;
        if (hws_llm_shape_from_spec(&cat[i], &shape, &err) != HWS_OK ||
            plan_memory(&cat[i], o, &mem, &err) != HWS_OK || mem.total_bytes > avail ||
            mem.total_bytes <= best)
            continue;
        best = mem.total_bytes;
        *out = cat[i];
    }
    return best > 0 ? 0 : -1;
}

/* A model that does not fit is bad input: the planner's breakdown on stderr, exit 2. */
static int refuse(const hws_model_spec *m, const hws_memory *mem, double avail) {
    fprintf(stderr,
            "hwscope " CMD ": %s does not fit: needs %.2f GiB, %.2f GiB available\n"
            "  weights %.2f GiB (%s)\n  KV cache %.2f GiB (%s)\n  activations %.2f GiB (%s)\n"
            "  CUDA context %.2f GiB, runtime %.2f GiB (%s)\n",
            m->name, mem->total_bytes / HWS_GIB, avail / HWS_GIB, mem->weights_bytes / HWS_GIB,
            mem->weights_basis, mem->kv_bytes / HWS_GIB, mem->kv_basis,
            mem->activation_bytes / HWS_GIB, mem->activation_basis,
            mem->cuda_context_bytes / HWS_GIB, mem->runtime_bytes / HWS_GIB, mem->overhead_basis);
    return 2;
}

/* The flags into o; 0, or the exit status after saying what is wrong. */
static int options_from_flags(const flags *f, hws_llm_bench_opts *o) {
    hws_error err = {""};
    hws_llm_format fmt = HWS_LLM_BF16;
    if (f->dtype != NULL && f->quant != NULL)
        return hws_usage_error(CMD, "--dtype and --quant: give one weight format");
    if (f->dtype != NULL && (hws_llm_format_parse(f->dtype, &fmt, &err) != HWS_OK ||
                             (fmt != HWS_LLM_BF16 && fmt != HWS_LLM_FP16)))
        return hws_usage_error(CMD, "--dtype: '%s' is not bf16 or fp16", f->dtype);
    if (f->quant != NULL && (hws_llm_format_parse(f->quant, &fmt, &err) != HWS_OK ||
                             (fmt != HWS_LLM_INT8 && fmt != HWS_LLM_INT4)))
        return hws_usage_error(CMD, "--quant: '%s' is not int8 or int4", f->quant);
    o->format = fmt;
    if (strcmp(f->device, "cuda") == 0)
        o->device = HWS_LLM_CUDA;
    else if (strcmp(f->device, "cpu") == 0)
        o->device = HWS_LLM_CPU;
    else
        return hws_usage_error(CMD, "--device: '%s' is not cuda or cpu", f->device);
    o->reps = (int)f->reps;
    o->threads = (int)f->threads;
    int rc = parse_list("-p", f->prompt, 0, 1048576, o->prompts, &o->nprompts);
    if (rc == 0)
        rc = parse_list("-n", f->gen, 0, 1048576, o->gens, &o->ngens);
    if (rc == 0)
        rc = parse_list("-d", f->depth, 0, 1048576, o->depths, &o->ndepths);
    if (rc == 0)
        rc = parse_list("-b", f->batch, 1, 4096, o->batches, &o->nbatches);
    int work = 0;
    for (int i = 0; rc == 0 && i < o->nprompts; i++)
        work += o->prompts[i] > 0;
    for (int i = 0; rc == 0 && i < o->ngens; i++)
        work += o->gens[i] > 0;
    if (rc == 0 && work == 0)
        return hws_usage_error(CMD, "-p and -n: every length is 0, nothing to run");
    return rc;
}

/* Saves the runs beside the ceilings of the device they ran on; 1 when that failed. */
static int save_runs(const hws_bench_result *r) {
    hws_llm_measured *runs = calloc((size_t)r->nllm + 1, sizeof *runs);
    char path[HWS_CEILINGS_PATH_BYTES];
    hws_error err = {""};
    int rc = 0;
    int n = runs != NULL ? hws_llm_records_measured(r, runs, r->nllm) : 0;
    if (n > 0 && !hws_ceilings_path(path, sizeof path)) {
        fprintf(stderr,
                "hwscope " CMD ": runs not saved: the ceilings path is longer than %d "
                "bytes (--no-save skips saving)\n",
                HWS_CEILINGS_PATH_BYTES - 1);
        rc = 1;
    } else if (n > 0) {
        fflush(stdout);
        if (hws_llm_measured_save(path, r->llm[0].device_name, runs, n, &err) != HWS_OK) {
            fprintf(stderr, "hwscope " CMD ": runs not saved: %s (--no-save skips saving)\n",
                    err.msg);
            rc = 1;
        } else {
            fprintf(stderr, "hwscope " CMD ": saved %d run(s) of %s to %s\n", n,
                    r->llm[0].device_name, path);
        }
    }
    free(runs);
    return rc;
}

/* Runs the benchmark and prints it; the exit status. */
static int run(const hws_llm_bench_opts *o, int gpu, hws_llm_out out, bool no_save) {
    hws_bench_options bo = hws_bench_defaults();
    bo.device = gpu;
    bo.llm = o;
    if (isatty(STDERR_FILENO))
        bo.progress = hws_cli_bench_progress;
    const char *suites[] = {"llm"};
    hws_bench_result *r = NULL;
    hws_error err = {""};
    hws_status st = hws_bench_run(suites, 1, &bo, &r, &err);
    if (bo.progress != NULL)
        fprintf(stderr, "\r\033[K");
    if (st != HWS_OK) {
        fprintf(stderr, "hwscope " CMD ": %s\n", err.msg);
        return st == HWS_ERR_INPUT ? 2 : 1;
    }
    int rc = 0;
    for (int i = 0; i < r->nrecords; i++)
        if (r->records[i].state != HWS_BENCH_OK) {
            fprintf(stderr, "hwscope " CMD ": %s\n", r->records[i].reason);
            rc = r->llm_status == HWS_ERR_INPUT ? 2 : 1;
        }
    if (rc == 0 && hws_llm_print(r, out, stdout) != 0) {
        fprintf(stderr, "hwscope " CMD ": cannot write the output: %s\n", strerror(errno));
        rc = 1;
    }
    if (rc == 0 && !no_save && save_runs(r) != 0)
        rc = 1;
    hws_bench_result_free(r);
    return rc;
}

int cmd_bench_llm(int argc, char **argv) {
    flags f = {"512", "128", "0", "1", NULL, NULL, "cuda", "md", 5, 0, 0, false, false};
    char *args[MAX_ARGS];
    const char *pos[1];
    int npos = 0;
    if (argc > MAX_ARGS)
        return hws_usage_error(CMD, "more than %d arguments", MAX_ARGS);
    for (int i = 0; i < argc; i++) {
        args[i] = argv[i];
        for (size_t k = 0; k < sizeof aliases / sizeof aliases[0]; k++)
            if (i > 0 && strcmp(argv[i], aliases[k].short_flag) == 0)
                args[i] = (char *)aliases[k].long_flag;
    }
    hws_opt opts[] = {
        {"prompt", HWS_OPT_STRING, &f.prompt, 0, 0, "-p: prompt tokens per pp row, list (512)"},
        {"gen", HWS_OPT_STRING, &f.gen, 0, 0, "-n: decode steps per tg row, list (128)"},
        {"depth", HWS_OPT_STRING, &f.depth, 0, 0, "-d: tokens in the cache before decode (0)"},
        {"batch", HWS_OPT_STRING, &f.batch, 0, 0, "-b: sequences decoded together, list (1)"},
        {"dtype", HWS_OPT_STRING, &f.dtype, 0, 0, "bf16 (default) or fp16 weights"},
        {"quant", HWS_OPT_STRING, &f.quant, 0, 0, "int8 or int4 (group-wise) weights"},
        {"device", HWS_OPT_STRING, &f.device, 0, 0, "cuda (default) or cpu"},
        {"gpu", HWS_OPT_INT, &f.gpu, 0, 63, "CUDA device index (0)"},
        {"threads", HWS_OPT_INT, &f.threads, 0, 4096, "CPU threads (0: every usable core)"},
        {"reps", HWS_OPT_INT, &f.reps, 1, HWS_BENCH_MAX_SAMPLES, "-r: timed repetitions (5)"},
        {"output", HWS_OPT_STRING, &f.output, 0, 0, "-o: md (default), csv, json or jsonl"},
        {"load", HWS_OPT_FLAG, &f.load, 0, 0, "load MODEL's own weights instead of random ones"},
        {"no-save", HWS_OPT_FLAG, &f.no_save, 0, 0, "do not save the runs for `hwscope plan`"},
    };
    int rc =
        hws_args_parse(CMD, usage, argc, args, opts, sizeof opts / sizeof opts[0], pos, 1, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    hws_llm_bench_opts o;
    memset(&o, 0, sizeof o);
    hws_llm_out out;
    if (!hws_llm_out_parse(f.output, &out))
        return hws_usage_error(CMD, "-o: '%s' is not md, csv, json or jsonl", f.output);
    if ((rc = options_from_flags(&f, &o)) != 0)
        return rc;
    hws_model_spec model;
    hws_error err = {""};
    char why[HWS_ERROR_LEN] = "";
    if (npos == 1) {
        hws_status st = hws_model_resolve(pos[0], &model, &err);
        if (st != HWS_OK) {
            fprintf(stderr, "hwscope " CMD ": %s\n", err.msg);
            return st == HWS_ERR_INPUT ? 2 : 1;
        }
        struct stat sb;
        bool is_file = stat(pos[0], &sb) == 0;
        if (f.load && !is_file)
            return hws_usage_error(CMD, "--load: '%s' is a catalog name, not a file", pos[0]);
        o.model_path = f.load ? pos[0] : NULL;
        o.shape_file = is_file ? pos[0] : NULL;
    } else if (f.load) {
        return hws_usage_error(CMD, "--load needs a MODEL file or folder");
    }
    double avail = available_bytes(&o, (int)f.gpu, why, sizeof why);
    if (npos == 0 && (!hws_known(avail) || pick_model(&o, avail, &model) != 0)) {
        fprintf(stderr, "hwscope " CMD ": no MODEL given and no catalog model fits%s%s\n",
                why[0] ? ": " : "", why);
        return 1;
    }
    hws_llm_shape shape;
    if (hws_llm_shape_from_spec(&model, &shape, &err) != HWS_OK)
        return hws_usage_error(CMD, "%s", err.msg);
    hws_memory mem;
    if (plan_memory(&model, &o, &mem, &err) != HWS_OK)
        return hws_usage_error(CMD, "%s", err.msg);
    if (hws_known(avail) && mem.total_bytes > avail)
        return refuse(&model, &mem, avail);
    o.model = &model;
    return run(&o, (int)f.gpu, out, f.no_save);
}
