/* report_html.c - the report as one self-contained HTML page (no network, no scripts, no
 * external fonts): the inventory with health verdicts, measured vs datasheet bars per device, a
 * roofline plot with each model's decode and prefill points, and the model x placement fit grid,
 * all as inline SVG; light and dark colours (prefers-color-scheme) and an A4 print layout.
 * Every string from outside (names, reasons, notes) goes through html_text, the one escaper. */
#include "report/health.h"
#include "report/report_model.h"
#include "util/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PROMPT_TOKENS 512.0 /* the planner's prefill prompt (llama-bench pp512) */

/* Writes s with &, <, >, " and ' escaped: the one place text enters the page. */
static void html_text(FILE *out, const char *s) {
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

/* printf into a buffer, then escaped onto the page. */
static void html_textf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void html_textf(FILE *out, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    html_text(out, buf);
}

/* A table cell: <td class="cls">text</td>, text escaped. */
static void cell(FILE *out, const char *cls, const char *text) {
    fprintf(out, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    html_text(out, text);
    fputs("</td>", out);
}

static const char style[] =
    ":root{--bg:#ffffff;--fg:#1b1f24;--muted:#5b6570;--grid:#d8dde3;--card:#f5f7f9;"
    "--measured:#2f6fdf;--datasheet:#b8c4d2;--ok:#2e8b57;--note:#3b82c4;--warn:#c77700;"
    "--bad:#c0392b;--nofit:#eceff3;--roof:#1b1f24;--decode:#d9480f;--prefill:#2f6fdf}\n"
    "@media (prefers-color-scheme: dark){:root{--bg:#111418;--fg:#e6e9ed;--muted:#9aa5b1;"
    "--grid:#2c333b;--card:#1a1f25;--measured:#6ea1ff;--datasheet:#4a5563;--ok:#4cc38a;"
    "--note:#6aa8e0;--warn:#f0a43a;--bad:#ff6b5e;--nofit:#232a31;--roof:#e6e9ed;"
    "--decode:#ff8a4c;--prefill:#6ea1ff}}\n"
    "body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "sans-serif;margin:24px auto;max-width:1100px;padding:0 16px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid "
    "var(--grid);padding-bottom:4px}\n"
    ".meta{color:var(--muted);font-size:12px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}\n"
    "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
    "var(--grid);vertical-align:top}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".badge{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;color:var(--bg)}\n"
    ".ok .badge{background:var(--ok)}.note .badge{background:var(--note)}"
    ".warning .badge{background:var(--warn)}.lost .badge{background:var(--bad)}\n"
    "ul.reasons{margin:2px 0 0 16px;padding:0;color:var(--muted)}\n"
    "svg{display:block;max-width:100%;height:auto;background:var(--card);border-radius:6px}\n"
    "svg text{fill:var(--fg);font:11px system-ui,sans-serif}svg .muted{fill:var(--muted)}\n"
    "svg .grid{stroke:var(--grid);stroke-width:1}svg .measured{fill:var(--measured)}\n"
    "svg .datasheet{fill:var(--datasheet)}svg .roof{stroke:var(--roof);stroke-width:2;fill:none}\n"
    "svg .decode{fill:var(--decode)}svg .prefill{fill:var(--prefill)}\n"
    "svg .fit{fill:var(--ok)}svg .nofit{fill:var(--nofit)}svg .na{fill:var(--card);"
    "stroke:var(--grid)}\n"
    "p.note{color:var(--muted);font-size:12px;margin:4px 0}\n"
    "@page{size:A4;margin:12mm}\n"
    "@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}"
    "svg,table{break-inside:avoid}}\n";

static void print_head(const hws_report *r, FILE *out) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"color-scheme\" content=\"light dark\">\n<title>",
          out);
    html_textf(out, "hwscope report: %s", r->fingerprint.hostname);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    html_textf(out, "hwscope report: %s", r->fingerprint.hostname);
    fputs("</h1>\n<p class=\"meta\">", out);
    html_textf(out, "%s UTC · hardware fingerprint %s · hwscope %s (%s)", r->fingerprint.time_utc,
               r->fingerprint_id, r->fingerprint.hwscope_version, r->fingerprint.build_commit);
    fputs("</p>\n", out);
}

static void print_inventory(const hws_report *r, FILE *out) {
    char a[64], b[64], c[64];
    fputs("<h2>Inventory</h2>\n<table class=\"inventory\">\n<tr><th>device</th><th>name</th>"
          "<th>memory</th><th>free</th><th>details</th><th>health</th></tr>\n",
          out);
    const hws_cpu_info *cpu = &r->cpu;
    snprintf(c, sizeof c, "%.0f cores, %.0f threads", cpu->cores, cpu->threads);
    fputs("<tr class=\"ok\">", out);
    cell(out, NULL, "CPU");
    cell(out, NULL, cpu->model[0] ? cpu->model : "n/a");
    cell(out, "num", hws_fmt_gib(a, sizeof a, r->mem.total_bytes));
    cell(out, "num", hws_fmt_gib(b, sizeof b, r->mem.available_bytes));
    cell(out, NULL, c);
    fputs("<td><span class=\"badge\">ok</span></td></tr>\n", out);
    for (int i = 0; i < r->gpus.count; i++) {
        const hws_gpu_info *g = &r->gpus.gpus[i];
        const hws_gpu_health *h = &r->health[i];
        char idx[16], details[128], bw[32];
        snprintf(idx, sizeof idx, "GPU %d", g->index);
        if (g->lost)
            snprintf(details, sizeof details, "n/a");
        else
            snprintf(details, sizeof details, "%.0f SMs, cc %.0f.%.0f, PCIe gen%.0f x%.0f, %s",
                     g->sm_count, g->cc_major, g->cc_minor, g->pcie_gen_cur, g->pcie_width_cur,
                     hws_fmt_num(bw, sizeof bw, g->mem_bw_theoretical_gbps, 0, "GB/s"));
        fprintf(out, "<tr class=\"%s\">", hws_health_level_name(h->level));
        cell(out, NULL, idx);
        cell(out, NULL, g->name[0] ? g->name : "n/a");
        cell(out, "num", hws_fmt_gib(a, sizeof a, hws_gpu_device_mem_bytes(g)));
        cell(out, "num", hws_fmt_gib(b, sizeof b, hws_gpu_usable_mem_bytes(g)));
        cell(out, NULL, details);
        fprintf(out, "<td><span class=\"badge\">%s</span>", hws_health_level_name(h->level));
        if (h->count > 0) {
            fputs("<ul class=\"reasons\">", out);
            for (int k = 0; k < h->count; k++) {
                fputs("<li>", out);
                html_text(out, h->reasons[k].text);
                fputs("</li>", out);
            }
            fputs("</ul>", out);
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    if (r->gpus.count == 0) {
        fputs("<p class=\"note\">No GPU: ", out);
        html_text(out, r->gpus.why_none);
        fputs("</p>\n", out);
    }
}

/* Bars of measured vs datasheet, each figure scaled to the larger of the two. */
static void print_bars(const hws_report *r, FILE *out) {
    fputs("<h2>Measured vs datasheet</h2>\n", out);
    const int row_h = 34, left = 270, bar_w = 340;
    int height = 30 + r->nfigures * row_h;
    fprintf(out,
            "<svg id=\"chart-measured\" role=\"img\" viewBox=\"0 0 760 %d\" width=\"760\" "
            "height=\"%d\"><title>measured vs datasheet per device</title>\n",
            height, height);
    fputs("<rect class=\"measured\" x=\"270\" y=\"8\" width=\"10\" height=\"10\"/>"
          "<text x=\"284\" y=\"17\">measured</text>"
          "<rect class=\"datasheet\" x=\"360\" y=\"8\" width=\"10\" height=\"10\"/>"
          "<text x=\"374\" y=\"17\">datasheet</text>\n",
          out);
    for (int i = 0; i < r->nfigures; i++) {
        const hws_report_figure *f = &r->figures[i];
        double scale = f->measured;
        if (hws_known(f->datasheet) && f->datasheet > scale)
            scale = f->datasheet;
        int y = 28 + i * row_h;
        char m[48], d[48];
        hws_fmt_num(m, sizeof m, f->measured, f->measured < 100 ? 1 : 0, f->unit);
        hws_fmt_num(d, sizeof d, f->datasheet, f->datasheet < 100 ? 1 : 0, f->unit);
        fprintf(out, "<text x=\"8\" y=\"%d\">", y + 12);
        html_textf(out, "%.38s", f->device_name);
        fprintf(out, "</text><text class=\"muted\" x=\"8\" y=\"%d\">", y + 26);
        html_text(out, f->what);
        fputs("</text>", out);
        double wm = scale > 0 ? bar_w * f->measured / scale : 0;
        fprintf(out, "<rect class=\"measured\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"12\"/>",
                left, y + 2, wm);
        if (hws_known(f->datasheet) && scale > 0)
            fprintf(out,
                    "<rect class=\"datasheet\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"10\"/>",
                    left, y + 16, bar_w * f->datasheet / scale);
        fprintf(out, "<text x=\"%d\" y=\"%d\">", left + bar_w + 8, y + 12);
        html_text(out, m);
        fprintf(out, "</text><text class=\"muted\" x=\"%d\" y=\"%d\">", left + bar_w + 8, y + 26);
        html_textf(out, "datasheet %s", d);
        fputs("</text>\n", out);
    }
    fputs("</svg>\n<p class=\"note\">", out);
    html_textf(out, "%s: %s", r->bench_state, r->bench_note);
    fputs("</p>\n", out);
}

/* The roofline's device: the first GPU (its saved or datasheet ceilings), else the CPU. */
typedef struct {
    const char *name;
    double bw_gbps; /* memory bandwidth, GB/s */
    double peak_tflops;
    hws_target target; /* whose runs are plotted */
    char basis[64];
} roof;

static double figure(const hws_report *r, int device, const char *what_prefix) {
    for (int i = 0; i < r->nfigures; i++)
        if (r->figures[i].device == device &&
            strncmp(r->figures[i].what, what_prefix, strlen(what_prefix)) == 0)
            return r->figures[i].measured;
    return HWS_NA;
}

static void roof_of(const hws_report *r, roof *rf) {
    memset(rf, 0, sizeof *rf);
    if (r->gpus_set.count > 0 && r->gpus_set.dev[0].spec != NULL) {
        const hws_gpu_spec *s = r->gpus_set.dev[0].spec;
        int dev = r->gpus.count > 0 ? r->gpus.gpus[0].index : 0;
        double bw = figure(r, dev, "memory"), mm = figure(r, dev, "matrix");
        rf->name = r->gpus_set.dev[0].name;
        rf->bw_gbps = hws_known(bw) ? bw : s->mem_bw_gbps;
        rf->peak_tflops = hws_known(mm) ? mm : s->bf16_tflops;
        rf->target = HWS_TARGET_GPU;
        snprintf(rf->basis, sizeof rf->basis, "%s",
                 hws_known(bw) && hws_known(mm) ? "measured" : "datasheet");
        return;
    }
    double bw = figure(r, -1, "memory"), mm = figure(r, -1, "matrix");
    rf->name = r->cpu.model[0] ? r->cpu.model : "CPU";
    rf->bw_gbps = hws_known(bw) ? bw : r->cpu_set.host.mem_bw_gbps;
    rf->peak_tflops = hws_known(mm) ? mm / 1000 : r->cpu.fp32_peak_gflops / 1000;
    rf->target = HWS_TARGET_CPU;
    snprintf(rf->basis, sizeof rf->basis, "%s", hws_known(bw) ? "measured" : "catalog/derived");
}

/* Log-log plot: x arithmetic intensity (FLOP/byte) 0.1..10^4, y FLOP/s over six decades below
 * the peak; the roof min(bw x I, peak); each model's decode (one token per step: intensity ~2
 * FLOP per weight byte) and prefill (512 tokens per pass) as achieved FLOP/s. */
static void print_roofline(const hws_report *r, FILE *out) {
    roof rf;
    roof_of(r, &rf);
    fputs("<h2>Roofline</h2>\n", out);
    if (!hws_known(rf.bw_gbps) || !hws_known(rf.peak_tflops) || rf.bw_gbps <= 0 ||
        rf.peak_tflops <= 0) {
        fputs("<p class=\"note\">No roofline: the device's bandwidth or peak is unknown.</p>\n",
              out);
        return;
    }
    const double x0 = -1, x1 = 4; /* log10 FLOP/byte */
    double peak = rf.peak_tflops * 1e12, y1 = ceil(log10(peak) + 0.3), y0 = y1 - 6;
    const int L = 70, T = 20, W = 640, H = 320;
#define PX(lx) (L + ((lx)-x0) / (x1 - x0) * W)
#define PY(ly) (T + H - ((ly)-y0) / (y1 - y0) * H)
    fprintf(out,
            "<svg id=\"chart-roofline\" role=\"img\" viewBox=\"0 0 760 %d\" width=\"760\" "
            "height=\"%d\"><title>roofline with each model's decode and prefill</title>\n",
            H + 84, H + 84);
    for (int d = (int)x0; d <= (int)x1; d++)
        fprintf(out,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"muted\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">1e%d</text>\n",
                PX(d), T, PX(d), T + H, PX(d), T + H + 14, d);
    for (int d = (int)y0; d <= (int)y1; d++)
        fprintf(out,
                "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
                "<text class=\"muted\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n",
                L, PY(d), L + W, PY(d), L - 4, PY(d) + 4, d);
    fprintf(out,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">arithmetic intensity, FLOP per "
            "byte read</text>\n",
            L + W / 2, T + H + 32);
    fprintf(out,
            "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" "
            "text-anchor=\"middle\">FLOP/s</text>\n",
            T + H / 2, T + H / 2);
    double ridge = log10(peak / (rf.bw_gbps * 1e9));
    double ly_left = log10(rf.bw_gbps * 1e9) + x0;
    fprintf(out, "<polyline class=\"roof\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\"/>\n", PX(x0),
            PY(ly_left), PX(ridge), PY(log10(peak)), PX(x1), PY(log10(peak)));
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", L + W, PY(log10(peak)) - 6);
    html_textf(out, "%s: %.0f GB/s, %.1f TFLOP/s (%s)", rf.name, rf.bw_gbps, rf.peak_tflops,
               rf.basis);
    fputs("</text>\n", out);
    int plotted = 0;
    for (int i = 0; i < r->nmodels; i++) {
        const hws_report_model *m = &r->models[i];
        int b = m->best[rf.target];
        if (b < 0)
            continue;
        const hws_report_run *run = &m->runs[b];
        if (!hws_known(run->decode_bytes_per_step) || run->decode_bytes_per_step <= 0 ||
            !hws_known(run->decode_tokens_per_s) || !hws_known(run->prefill_flops_per_token))
            continue;
        double per_dev = run->ngpus > 1 ? run->ngpus : 1; /* the roof is one device's */
        double dec_i = run->prefill_flops_per_token / run->decode_bytes_per_step;
        double dec_p = run->decode_tokens_per_s * run->prefill_flops_per_token / per_dev;
        double pre_i = dec_i * PROMPT_TOKENS;
        double pre_p = run->prefill_tokens_per_s * run->prefill_flops_per_token / per_dev;
        double pts[2][2] = {{dec_i, dec_p}, {pre_i, pre_p}};
        const char *cls[2] = {"decode", "prefill"};
        for (int k = 0; k < 2; k++) {
            if (!(pts[k][0] > 0) || !(pts[k][1] > 0))
                continue;
            double lx = fmin(fmax(log10(pts[k][0]), x0), x1);
            double ly = fmin(fmax(log10(pts[k][1]), y0), y1);
            fprintf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>", cls[k],
                    PX(lx), PY(ly));
            html_textf(out, "%s %s %s: %.3g FLOP/byte, %.3g FLOP/s per device", m->name,
                       run->format, cls[k], pts[k][0], pts[k][1]);
            fputs("</title></circle>", out);
            if (k == 0) {
                fprintf(out, "<text class=\"muted\" x=\"%.1f\" y=\"%.1f\">", PX(lx) + 6,
                        PY(ly) + 4);
                html_text(out, m->name);
                fputs("</text>", out);
            }
            plotted++;
        }
        fputc('\n', out);
    }
    fprintf(out,
            "<circle class=\"decode\" cx=\"%d\" cy=\"%d\" r=\"4\"/><text x=\"%d\" y=\"%d\">decode "
            "(1 token per step)</text><circle class=\"prefill\" cx=\"%d\" cy=\"%d\" r=\"4\"/>"
            "<text x=\"%d\" y=\"%d\">prefill (512-token prompt)</text>\n</svg>\n",
            L + 10, T + H + 50, L + 18, T + H + 54, L + 220, T + H + 50, L + 228, T + H + 54);
#undef PX
#undef PY
    fprintf(out,
            "<p class=\"note\">%d points: each model's recommended format on the %s, "
            "predicted (roofline model), not measured.</p>\n",
            plotted, rf.target == HWS_TARGET_GPU ? "GPUs" : "CPU");
}

/* The model x (target, format) grid: a filled cell fits, with its decode tok/s. */
static void print_grid(const hws_report *r, FILE *out) {
    fputs("<h2>What runs here</h2>\n", out);
    if (r->nmodels == 0)
        return;
    const hws_report_model *m0 = &r->models[0];
    const int L = 170, T = 44, CW = 66, RH = 24;
    const char *short_target[HWS_TARGET_COUNT] = {"GPUs", "GPUs+CPU", "CPU"};
    int cols = m0->nruns, w = L + cols * CW + 10, h = T + r->nmodels * RH + 10;
    fprintf(out,
            "<svg id=\"chart-fit\" role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\"><title>model x placement fit grid</title>\n",
            w, h, w, h);
    for (int c = 0; c < cols; c++) {
        const hws_report_run *run = &m0->runs[c];
        fprintf(out, "<text class=\"muted\" x=\"%d\" y=\"16\" text-anchor=\"middle\">",
                L + c * CW + CW / 2);
        html_text(out, short_target[run->target]);
        fprintf(out, "</text><text x=\"%d\" y=\"32\" text-anchor=\"middle\">", L + c * CW + CW / 2);
        html_text(out, run->format);
        fputs("</text>\n", out);
    }
    for (int i = 0; i < r->nmodels; i++) {
        const hws_report_model *m = &r->models[i];
        int y = T + i * RH;
        fprintf(out, "<text x=\"8\" y=\"%d\">", y + 16);
        html_text(out, m->name);
        fputs("</text>", out);
        for (int c = 0; c < m->nruns && c < cols; c++) {
            const hws_report_run *run = &m->runs[c];
            const char *cls = !run->tried ? "na" : run->fits ? "fit" : "nofit";
            fprintf(out,
                    "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\">"
                    "<title>",
                    cls, L + c * CW + 2, y + 2, CW - 4, RH - 4);
            html_textf(out, "%s %s on %s: %s", m->name, run->format, hws_target_name(run->target),
                       run->fits     ? run->placement
                       : run->why[0] ? run->why
                                     : "not tried");
            fputs("</title></rect>", out);
            if (run->fits && hws_known(run->decode_tokens_per_s))
                fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%.*f</text>",
                        L + c * CW + CW / 2, y + 16, run->decode_tokens_per_s < 10 ? 1 : 0,
                        run->decode_tokens_per_s);
        }
        fputc('\n', out);
    }
    fputs("</svg>\n<p class=\"note\">Cells: predicted decode tokens/s where it fits; empty: does "
          "not fit; outlined: not tried here. Fit against: ",
          out);
    html_text(out, r->fit_basis);
    fputs("</p>\n", out);
}

static void print_recommended(const hws_report *r, FILE *out) {
    fputs("<table class=\"runs\">\n<tr><th>model</th><th>params</th><th>weights</th>"
          "<th>runtime</th><th>where</th><th>placement</th><th>GB per GPU</th><th>host GB</th>"
          "<th>prefill tok/s</th><th>decode tok/s</th><th>basis</th></tr>\n",
          out);
    for (int i = 0; i < r->nmodels; i++) {
        const hws_report_model *m = &r->models[i];
        int b = m->best[HWS_TARGET_GPU] >= 0       ? m->best[HWS_TARGET_GPU]
                : m->best[HWS_TARGET_OFFLOAD] >= 0 ? m->best[HWS_TARGET_OFFLOAD]
                                                   : m->best[HWS_TARGET_CPU];
        char params[32], gb[32], host[32], pre[32], dec[32];
        hws_fmt_num(params, sizeof params, m->params / 1e9, 1, m->moe ? "B MoE" : "B");
        fputs("<tr>", out);
        cell(out, NULL, m->name);
        cell(out, "num", params);
        if (b < 0) {
            fputs("<td colspan=\"9\">does not fit here</td></tr>\n", out);
            continue;
        }
        const hws_report_run *run = &m->runs[b];
        hws_fmt_num(gb, sizeof gb, run->ngpus > 0 ? run->gpu_bytes / 1e9 : HWS_NA, 1, NULL);
        hws_fmt_num(host, sizeof host, run->host_bytes / 1e9, 1, NULL);
        hws_fmt_num(pre, sizeof pre, run->prefill_tokens_per_s, 0, NULL);
        hws_fmt_num(dec, sizeof dec, run->decode_tokens_per_s,
                    run->decode_tokens_per_s < 10 ? 1 : 0, NULL);
        cell(out, NULL, run->format);
        cell(out, NULL, run->runtime);
        cell(out, NULL, hws_target_name(run->target));
        cell(out, NULL, run->placement);
        cell(out, "num", gb);
        cell(out, "num", host);
        cell(out, "num", pre);
        cell(out, "num", dec);
        cell(out, NULL, run->basis);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

int hws_report_write_html(const hws_report *r, FILE *out) {
    print_head(r, out);
    print_inventory(r, out);
    print_bars(r, out);
    print_roofline(r, out);
    print_grid(r, out);
    print_recommended(r, out);
    fputs("<p class=\"meta\">Made by hwscope from this machine's probed facts; speeds are "
          "roofline predictions. Sizes: GB = 10^9 bytes, GiB = 2^30 bytes.</p>\n</body>\n"
          "</html>\n",
          out);
    return ferror(out) ? -1 : 0;
}
