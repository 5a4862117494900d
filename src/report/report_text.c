/* report_text.c - the report as text: the inventory with health verdicts, the quick figures
 * beside the datasheet, and what runs here, every table fitted to the terminal's width. */
#include "report/health.h"
#include "report/report_model.h"
#include "report/table.h"
#include "util/units.h"

#include <stdio.h>
#include <string.h>

static void print_inventory(const hws_report *r, FILE *out, int width) {
    const hws_cpu_info *c = &r->cpu;
    char peak[32], total[32], avail[32];
    fprintf(out,
            "CPU     %s: %.0f socket(s), %.0f cores, %.0f threads%s%s%s; FP32 peak %s "
            "(derived)\n",
            c->model[0] ? c->model : "n/a", c->sockets, c->cores, c->threads,
            c->has_avx512f == 1 ? ", AVX-512"
            : c->has_avx2 == 1  ? ", AVX2"
                                : "",
            c->has_amx_tile == 1 ? ", AMX" : "", c->has_sve == 1 ? ", SVE" : "",
            hws_fmt_num(peak, sizeof peak, c->fp32_peak_gflops, 0, "GFLOP/s"));
    fprintf(out, "Memory  %s, %s available\n", hws_fmt_gib(total, sizeof total, r->mem.total_bytes),
            hws_fmt_gib(avail, sizeof avail, r->mem.available_bytes));
    if (r->gpus.count == 0) {
        fprintf(out, "GPUs    none: %s\n", r->gpus.why_none);
        return;
    }
    fputc('\n', out);
    hws_table *t = hws_table_new(8, (const char *[]){"GPU", "name", "memory", "free", "SMs, cc",
                                                     "PCIe now", "bandwidth (derived)", "health"});
    if (t == NULL)
        return;
    hws_table_set_priority(t, 4, 2); /* narrow terminals: what `hwscope info` also shows goes */
    hws_table_set_priority(t, 6, 1);
    for (int i = 0; i < r->gpus.count; i++) {
        const hws_gpu_info *g = &r->gpus.gpus[i];
        char verdict[1024], idx[16], mem[32], free_mem[32], bw[32], sms[48], link[32];
        hws_gpu_health_text(verdict, sizeof verdict, &r->health[i]);
        snprintf(idx, sizeof idx, "%d", g->index);
        hws_fmt_gib(mem, sizeof mem, hws_gpu_device_mem_bytes(g));
        hws_fmt_gib(free_mem, sizeof free_mem, hws_gpu_usable_mem_bytes(g));
        hws_fmt_num(bw, sizeof bw, g->mem_bw_theoretical_gbps, 0, "GB/s");
        if (hws_known(g->sm_count) && hws_known(g->cc_major))
            snprintf(sms, sizeof sms, "%.0f, cc %.0f.%.0f", g->sm_count, g->cc_major, g->cc_minor);
        else
            snprintf(sms, sizeof sms, "n/a");
        if (hws_known(g->pcie_gen_cur) && hws_known(g->pcie_width_cur))
            snprintf(link, sizeof link, "gen%.0f x%.0f", g->pcie_gen_cur, g->pcie_width_cur);
        else
            snprintf(link, sizeof link, "n/a");
        hws_table_row(t, (const char *[]){idx, g->name[0] ? g->name : "n/a", mem, free_mem, sms,
                                          link, bw, verdict});
    }
    hws_table_print_width(t, out, width);
    hws_table_free(t);
}

static void print_figures(const hws_report *r, FILE *out, int width) {
    hws_print_heading(out, "Measured (quick: memory bandwidth and best matrix rate per device)");
    if (r->nfigures > 0) {
        hws_table *t = hws_table_new(6, (const char *[]){"device", "figure", "measured",
                                                         "datasheet", "of datasheet", "benchmark"});
        if (t == NULL)
            return;
        hws_table_set_priority(t, 5, 1);
        for (int i = 0; i < r->nfigures; i++) {
            const hws_report_figure *f = &r->figures[i];
            char m[48], d[48], frac[16];
            int dec = f->measured < 100 ? 1 : 0;
            hws_fmt_num(m, sizeof m, f->measured, dec, f->unit);
            hws_fmt_num(d, sizeof d, f->datasheet, dec, f->unit);
            hws_fmt_num(frac, sizeof frac,
                        hws_known(f->datasheet) && f->datasheet > 0
                            ? f->measured / f->datasheet * 100
                            : HWS_NA,
                        0, "%");
            hws_table_row(t, (const char *[]){f->device_name, f->what, m, d, frac, f->key});
        }
        hws_table_print_width(t, out, width);
        hws_table_free(t);
    }
    fprintf(out, "%s: %s\n", r->bench_state, r->bench_note);
}

/* "Q4_K_M 42 tok/s" for the target's recommendation, or why nothing runs there. */
static void target_cell(const hws_report_model *m, hws_target t, char *buf, size_t n) {
    if (m->best[t] >= 0) {
        const hws_report_run *run = &m->runs[m->best[t]];
        char tps[32];
        hws_fmt_num(tps, sizeof tps, run->decode_tokens_per_s,
                    run->decode_tokens_per_s < 10 ? 1 : 0, "tok/s");
        snprintf(buf, n, "%s %s", run->format, tps);
        return;
    }
    const char *why = "-";
    for (int i = 0; i < m->nruns; i++) /* the last tried format's reason (smallest format) */
        if ((int)m->runs[i].target == (int)t && m->runs[i].why[0])
            why = m->runs[i].tried ? "does not fit" : m->runs[i].why;
    snprintf(buf, n, "%s", why);
}

static void print_runs(const hws_report *r, FILE *out, int width) {
    hws_print_heading(out, "What runs here (batch 1; decode at the prompt's end)");
    fprintf(out, "fit against: %s\n", r->fit_basis);
    hws_table *t = hws_table_new(
        5, (const char *[]){"model", "params", "on the GPUs", "GPUs + CPU offload", "CPU alone"});
    if (t == NULL)
        return;
    for (int i = 0; i < r->nmodels; i++) {
        const hws_report_model *m = &r->models[i];
        char params[32], cells[HWS_TARGET_COUNT][96];
        hws_fmt_num(params, sizeof params, m->params / 1e9, 1, m->moe ? "B MoE" : "B");
        for (int k = 0; k < HWS_TARGET_COUNT; k++)
            target_cell(m, (hws_target)k, cells[k], sizeof cells[k]);
        hws_table_row(t, (const char *[]){m->name, params, cells[0], cells[1], cells[2]});
    }
    hws_table_print_width(t, out, width);
    hws_table_free(t);

    hws_print_heading(out, "Recommended: the best format that fits, GPUs first");
    t = hws_table_new(10, (const char *[]){"model", "weights", "runtime", "placement", "GPUs",
                                           "GB per GPU", "host GB", "prefill tok/s", "decode tok/s",
                                           "basis"});
    if (t == NULL)
        return;
    hws_table_set_priority(t, 9, 1);
    hws_table_set_priority(t, 6, 2);
    int measured = 0;
    for (int i = 0; i < r->nmodels; i++) {
        const hws_report_model *m = &r->models[i];
        int b = m->best[HWS_TARGET_GPU] >= 0       ? m->best[HWS_TARGET_GPU]
                : m->best[HWS_TARGET_OFFLOAD] >= 0 ? m->best[HWS_TARGET_OFFLOAD]
                                                   : m->best[HWS_TARGET_CPU];
        if (b < 0) {
            hws_table_row(t, (const char *[]){m->name, "-", "-", "does not fit", "-", "-", "-", "-",
                                              "-", "-"});
            continue;
        }
        const hws_report_run *run = &m->runs[b];
        char ngpu[16], gb[32], host[32], pre[32], dec[32];
        snprintf(ngpu, sizeof ngpu, "%d", run->ngpus);
        hws_fmt_num(gb, sizeof gb, run->ngpus > 0 ? run->gpu_bytes / 1e9 : HWS_NA, 1, NULL);
        hws_fmt_num(host, sizeof host, run->host_bytes / 1e9, 1, NULL);
        hws_fmt_num(pre, sizeof pre, run->prefill_tokens_per_s, 0, NULL);
        hws_fmt_num(dec, sizeof dec, run->decode_tokens_per_s,
                    run->decode_tokens_per_s < 10 ? 1 : 0, NULL);
        measured |= strcmp(run->basis, "measured ceilings") == 0;
        hws_table_row(t, (const char *[]){m->name, run->format, run->runtime, run->placement, ngpu,
                                          gb, host, pre, dec, run->basis});
    }
    hws_table_print_width(t, out, width);
    hws_table_free(t);
    fprintf(out, "speeds: roofline from %s\n",
            measured ? "this machine's measured ceilings (hwscope bench or the quick measurement)"
                     : "the datasheet x stated efficiencies (run `hwscope bench` to use measured "
                       "figures)");
}

void hws_report_print_text(const hws_report *r, FILE *out, int width) {
    print_inventory(r, out, width);
    print_figures(r, out, width);
    print_runs(r, out, width);
    fprintf(out, "\n`hwscope info` shows every fact, `hwscope plan MODEL` one model in full, "
                 "--json all of this as one document, --html FILE as a page with charts.\n");
}
