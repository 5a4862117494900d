/* advise.c - `hwscope advise MODEL`: GPUs to buy or rent for a model, ranked by cost for a speed
 * target and budget, with why the others fail, and the guide's budget tree recomputed. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/plan_common.h"
#include "hwscope/plan.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "MODEL [--budget USD] [--min-tokens-per-s N] [--ctx N] [--batch B] [--buy|--rent]\n"
    "       [--dtype FMT | --quant GGUF_TYPE] [--life-years Y] [--usd-per-kwh P] [--utilisation "
    "U]\n"
    "       [--top N] [--json]\n"
    "Tries every catalog GPU x 1, 2, 4, 8 x {bf16, fp8, int8, int4 (vLLM), Q4_K_M (llama.cpp)},\n"
    "the CPU hosts of data/cpus.tsv and your CPU (llama.cpp). With --rent, --budget is USD per "
    "hour.";

static const char *cost_text(char *buf, size_t n, const hws_advice *a, int rent) {
    if (rent)
        return hws_fmt_num(buf, n, a->usd_per_hour, 2, "$/h");
    return hws_fmt_num(buf, n, a->buy_usd, 0, "$");
}

static void print_ranked(const hws_advice_list *l, int rent, long top) {
    char c[32], s[32], p[32], mt[32], need[32];
    hws_table *t =
        hws_table_new(9, (const char *[]){"#", "GPUs", "weights", "runtime", "cost", "$/Mtok",
                                          "decode tok/s", "prefill tok/s", "need/GPU GB"});
    if (t != NULL)
        hws_table_set_priority(t, 8, 1); /* narrow terminals: the per-GPU need goes first */
    int shown = 0;
    for (int i = 0; i < l->n && shown < top; i++) {
        const hws_advice *a = &l->items[i];
        if (!a->ok)
            break;
        hws_table_rowf(t, "%d\t%dx %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", ++shown, a->count, a->name,
                       a->weights->name, hws_runtime_name(a->runtime),
                       cost_text(c, sizeof c, a, rent),
                       hws_fmt_num(mt, sizeof mt, a->usd_per_mtok, 2, NULL),
                       hws_fmt_num(s, sizeof s, a->decode_tokens_per_s, 1, NULL),
                       hws_fmt_num(p, sizeof p, a->prefill_tokens_per_s, 0, NULL),
                       hws_fmt_num(need, sizeof need, a->mem_needed_bytes / HWS_GB, 1, NULL));
    }
    hws_print_heading(stdout, "configurations that work, cheapest first");
    if (shown == 0)
        printf("none: no catalog configuration meets the target\n");
    else
        hws_table_print(t, stdout);
    hws_table_free(t);
}

/* One row per GPU or CPU host with no working configuration: its nearest miss and why. */
static void print_failures(const hws_advice_list *l) {
    hws_table *t = hws_table_new(3, (const char *[]){"hardware", "nearest miss", "why not"});
    for (int i = 0; i < l->n; i++) {
        const hws_advice *a = &l->items[i];
        int first = 1, ok = 0;
        for (int j = 0; j < l->n; j++) {
            if (strcmp(l->items[j].name, a->name) != 0)
                continue;
            first &= j >= i;
            ok |= l->items[j].ok;
        }
        const hws_advice *near = first && !ok ? hws_advice_near_miss(l, a->name) : NULL;
        if (near != NULL)
            hws_table_rowf(t, "%s\t%dx, %s\t%s", near->name, near->count, near->weights->name,
                           near->why);
    }
    hws_print_heading(stdout, "why the others fail (or could not be ranked)");
    hws_table_print(t, stdout);
    hws_table_free(t);
}

static void print_tree(const hws_budget_tier *tiers) {
    hws_print_heading(stdout, "the guide's budget tree, recomputed for this model");
    printf("%s\n", hws_budget_tree_explained());
    hws_table *t = hws_table_new(4, (const char *[]){"tier", "guide", "hwscope", "verdict"});
    char pick[128];
    for (int i = 0; i < HWS_BUDGET_TIERS; i++) {
        const hws_budget_tier *b = &tiers[i];
        if (b->pick)
            snprintf(pick, sizeof pick, "%dx %s, %s ($%.0f)", b->pick->count, b->pick->name,
                     b->pick->weights->name, b->pick->buy_usd);
        else
            snprintf(pick, sizeof pick, "none");
        hws_table_row(t, (const char *[]){b->tier, b->guide_pick, pick, b->note});
    }
    hws_table_print(t, stdout);
    hws_table_free(t);
}

static cJSON *json_advice(const hws_advice *a) {
    cJSON *o = cJSON_CreateObject();
    hws_json_str(o, "gpu", a->gpu ? a->gpu->name : NULL);
    hws_json_str(o, "hardware", a->name);
    cJSON_AddBoolToObject(o, "cpu", a->cpu);
    cJSON_AddNumberToObject(o, "count", a->count);
    hws_json_str(o, "weights", a->weights->name);
    hws_json_str(o, "runtime", hws_runtime_name(a->runtime));
    hws_json_str(o, "placement", hws_place_name(a->place));
    cJSON_AddBoolToObject(o, "ok", a->ok);
    hws_json_str(o, "why", a->why);
    hws_record_json(o, &hws_advice_table, a, false);
    return o;
}

static int print_json(const hws_model_spec *m, const hws_plan_opts *o, const hws_memory *mem,
                      const hws_advise_opts *ao, const hws_advice_list *l,
                      const hws_budget_tier *tiers) {
    cJSON *doc = hws_json_doc("hwscope.advise/1");
    if (doc == NULL)
        return 1;
    hws_json_model(doc, m, mem);
    hws_json_options(doc, o, m);
    cJSON *t = cJSON_AddObjectToObject(doc, "target");
    hws_json_num(t, "budget_usd", ao->budget_usd);
    hws_json_num(t, "min_tokens_per_s", ao->min_tokens_per_s);
    hws_json_str(t, "mode", ao->rent ? "rent" : "buy");
    cJSON *ok = cJSON_AddArrayToObject(doc, "configurations");
    cJSON *bad = cJSON_AddArrayToObject(doc, "rejected");
    for (int i = 0; i < l->n; i++)
        cJSON_AddItemToArray(l->items[i].ok ? ok : bad, json_advice(&l->items[i]));
    cJSON *tree = cJSON_AddArrayToObject(doc, "budget_tree");
    for (int i = 0; i < HWS_BUDGET_TIERS; i++) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddItemToArray(tree, b);
        hws_json_str(b, "tier", tiers[i].tier);
        hws_json_num(b, "max_usd", tiers[i].max_usd);
        hws_json_str(b, "guide_pick", tiers[i].guide_pick);
        if (tiers[i].pick)
            cJSON_AddItemToObject(b, "pick", json_advice(tiers[i].pick));
        else
            cJSON_AddNullToObject(b, "pick");
        cJSON_AddBoolToObject(b, "agrees", tiers[i].agrees);
        hws_json_str(b, "note", tiers[i].note);
    }
    return hws_json_emit("advise", doc);
}

int cmd_advise(int argc, char **argv) {
    hws_plan_args a;
    hws_plan_args_default(&a);
    hws_advise_opts ao = {.budget_usd = HWS_NA, .min_tokens_per_s = HWS_NA};
    hws_host host;
    bool json = false, buy = false, rent = false;
    long top = 15;
    const char *pos[2];
    int npos = 0;
    hws_opt opts[] = {
        HWS_PLAN_COMMON_OPTS(a),
        {"budget", HWS_OPT_DOUBLE, &ao.budget_usd, 0, 1e9, "USD to spend (per hour with --rent)"},
        {"min-tokens-per-s", HWS_OPT_DOUBLE, &ao.min_tokens_per_s, 0, 1e7,
         "decode speed wanted, tokens/s (all sequences of --batch together)"},
        {"buy", HWS_OPT_FLAG, &buy, 0, 0, "rank by purchase price (the default)"},
        {"rent", HWS_OPT_FLAG, &rent, 0, 0, "rank by $/hour; show $ per million tokens"},
        {"top", HWS_OPT_INT, &top, 1, 1000, "configurations shown (15)"},
        {"life-years", HWS_OPT_DOUBLE, &ao.life_years, 0.1, 50,
         "buying: years the purchase is amortised over for $/Mtok (3)"},
        {"usd-per-kwh", HWS_OPT_DOUBLE, &ao.usd_per_kwh, 0, 10,
         "buying: electricity price for $/Mtok, USD/kWh (0.15)"},
        {"utilisation", HWS_OPT_DOUBLE, &ao.utilisation, 0.01, 1,
         "buying: fraction of the hours spent generating, for $/Mtok (0.5)"},
        {"json", HWS_OPT_FLAG, &json, 0, 0, "print one JSON document (hwscope.advise/1)"},
    };
    int rc = hws_args_parse("advise", usage, argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1,
                            &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (npos != 1)
        return hws_usage_error("advise", "one MODEL expected (see --help)");
    if (buy && rent)
        return hws_usage_error("advise", "--buy and --rent: pick one");
    ao.rent = rent;
    hws_model_spec m;
    hws_plan_opts o;
    hws_memory mem;
    rc = hws_plan_setup("advise", pos[0], &a, &m, &o, &mem);
    if (rc != 0)
        return rc;
    if (hws_plan_host("advise", NULL, 0, &host) == 0)
        ao.host = &host;
    if (a.dtype == NULL && a.quant == NULL)
        o.weights = NULL; /* try every candidate format */
    hws_advice_list l;
    hws_error err = {{0}};
    if (hws_advise(&m, &o, &ao, &l, &err) != HWS_OK) {
        fprintf(stderr, "hwscope advise: %s\n", err.msg);
        return 1;
    }
    hws_ceilings_warn("advise", l.ceilings_warning);
    hws_budget_tier tiers[HWS_BUDGET_TIERS];
    hws_advise_budget_tree(&l, tiers);
    if (json) {
        rc = print_json(&m, &o, &mem, &ao, &l, tiers);
    } else {
        char target[64] = "any speed", budget[64] = "none";
        if (hws_known(ao.min_tokens_per_s))
            snprintf(target, sizeof target, "decode >= %g tokens/s", ao.min_tokens_per_s);
        if (hws_known(ao.budget_usd))
            snprintf(budget, sizeof budget, "%.0f USD", ao.budget_usd);
        printf("%s at ctx %.0f x batch %.0f, %s KV; target: %s, budget %s\n", m.name, o.ctx_tokens,
               o.batch, o.kv->name, target, budget);
        print_ranked(&l, rent, top);
        print_failures(&l);
        print_tree(tiers);
    }
    hws_advice_list_free(&l);
    return rc;
}
