/* info_topology.c - the GPU link topology part of `hwscope info`: the nvidia-smi topo -m matrix,
 * NVLink and affinity per GPU, and the P2P matrix with the reason P2P is refused, as text and as
 * the "topology" object of hwscope.info/1. One field table per record feeds both. */
#include "cli/info.h"
#include "report/fields.h"
#include "report/json.h"
#include "report/table.h"
#include "util/units.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const hws_field topo_gpu_fields[] = {
    HWS_STR(hws_topo_gpu, pci_bus_id, "PCI bus id"),
    HWS_NUM(hws_topo_gpu, nvlinks_active, "NVLinks up", 1, 0, ""),
    HWS_STR(hws_topo_gpu, nvlink_gen, "NVLink generation"),
    HWS_NUM(hws_topo_gpu, nvlinks_to_switch, "of them to NVSwitch", 1, 0, ""),
    HWS_STR(hws_topo_gpu, cpu_affinity, "CPU affinity"),
    HWS_STR(hws_topo_gpu, numa_affinity, "NUMA affinity"),
};

/* One pair as the outputs show it. */
typedef struct {
    int a, b;
    char link[8];      /* the topo -m cell: "NV18", "SYS" */
    double nvlinks;    /* NA unknown */
    int via_nvswitch;  /* tri-state */
    char pcie_path[8]; /* "SYS"; "" unknown */
    char p2p_read[4];  /* nvidia-smi topo -p2p codes: OK, CNS, GNS, TNS, RKD, NS; "" unknown */
    char p2p_write[4];
    char p2p_why[64]; /* why reads are refused; "" when they work or it is unknown */
} pair_view;

static const hws_field pair_fields[] = {
    HWS_JSON_INT("a", pair_view, a),
    HWS_JSON_INT("b", pair_view, b),
    HWS_JSON_STR(pair_view, link),
    HWS_JSON_NUM(pair_view, nvlinks),
    HWS_TRI(pair_view, via_nvswitch, "via_nvswitch"),
    HWS_JSON_STR(pair_view, pcie_path),
    HWS_JSON_STR(pair_view, p2p_read),
    HWS_JSON_STR(pair_view, p2p_write),
    HWS_JSON_STR(pair_view, p2p_why),
};

static const char *p2p_code(int status) {
    static const char *const codes[] = {"OK", "CNS", "GNS", "TNS", "RKD", "NS"};
    return status >= 0 && status < (int)COUNT(codes) ? codes[status] : "";
}

static void view_pair(const hws_topology *t, int a, int b, pair_view *v) {
    const hws_topo_pair *p = &t->pairs[a][b];
    memset(v, 0, sizeof *v);
    v->a = a;
    v->b = b;
    hws_topo_cell(t, a, b, v->link, sizeof v->link);
    v->nvlinks = p->nvlinks >= 0 ? p->nvlinks : HWS_NA;
    v->via_nvswitch = p->via_switch;
    if (p->path != HWS_PATH_UNKNOWN)
        snprintf(v->pcie_path, sizeof v->pcie_path, "%s", hws_pcie_path_name(p->path));
    snprintf(v->p2p_read, sizeof v->p2p_read, "%s", p2p_code(p->p2p_read));
    snprintf(v->p2p_write, sizeof v->p2p_write, "%s", p2p_code(p->p2p_write));
    snprintf(v->p2p_why, sizeof v->p2p_why, "%s", hws_p2p_status_text(p->p2p_read));
}

/* A GPU x GPU matrix; cell(t, a, b, buf, n) fills each cell; extra columns per row after it. */
static void print_matrix(const hws_topology *t, const char *corner,
                         void (*cell)(const hws_topology *, int, int, char *, size_t),
                         bool affinity) {
    const char *headers[HWS_MAX_GPUS + 3] = {corner};
    char names[HWS_MAX_GPUS][16];
    for (int i = 0; i < t->count; i++) {
        snprintf(names[i], sizeof names[i], "GPU%d", t->gpus[i].index);
        headers[i + 1] = names[i];
    }
    headers[t->count + 1] = "CPU affinity";
    headers[t->count + 2] = "NUMA affinity";
    hws_table *tab = hws_table_new(t->count + 1 + (affinity ? 2 : 0), headers);
    if (tab != NULL)
        hws_table_set_key_columns(tab, 1); /* narrow terminals: blocks beside the GPU names */
    for (int a = 0; tab != NULL && a < t->count; a++) {
        char cells[HWS_MAX_GPUS + 2][160];
        const char *row[HWS_MAX_GPUS + 3] = {names[a]};
        for (int b = 0; b < t->count; b++) {
            cell(t, a, b, cells[b], sizeof cells[b]);
            row[b + 1] = cells[b];
        }
        row[t->count + 1] = hws_field_text(cells[t->count], sizeof cells[0], &topo_gpu_fields[4],
                                           &t->gpus[a], &t->gpus[a].notes);
        row[t->count + 2] = hws_field_text(cells[t->count + 1], sizeof cells[0],
                                           &topo_gpu_fields[5], &t->gpus[a], &t->gpus[a].notes);
        hws_table_row(tab, row);
    }
    if (tab != NULL)
        hws_table_print(tab, stdout);
    hws_table_free(tab);
}

static void p2p_cell(const hws_topology *t, int a, int b, char *buf, size_t n) {
    const char *code = p2p_code(t->pairs[a][b].p2p_read);
    snprintf(buf, n, "%s", a == b ? "X" : code[0] ? code : "n/a");
}

void hws_topology_print_text(const hws_topology *t) {
    hws_print_heading(stdout, "GPU link topology (as nvidia-smi topo -m)");
    if (t->count == 0) {
        printf("no topology: %s\n", t->why_none);
        return;
    }
    print_matrix(t, "", hws_topo_cell, true);
    printf("X = itself; NV# = # NVLinks (through NVSwitch where the links end on switches);\n"
           "PIX = at most one PCIe switch; PXB = several PCIe switches; PHB = a PCIe host bridge\n"
           "(the CPU); NODE = host bridges of one NUMA node; SYS = across NUMA nodes (the socket\n"
           "interconnect); BRD = one board.\n");
    hws_print_heading(stdout, "NVLink and affinity per GPU");
    hws_print_gpu_columns(topo_gpu_fields, COUNT(topo_gpu_fields), t->gpus, sizeof t->gpus[0],
                          t->count, offsetof(hws_topo_gpu, index), offsetof(hws_topo_gpu, notes));
    if (t->count < 2)
        return;
    hws_print_heading(stdout, "Peer-to-peer reads (NVML, as nvidia-smi topo -p2p r)");
    print_matrix(t, "", p2p_cell, false);
    for (int a = 0; a < t->count; a++)
        for (int b = a + 1; b < t->count; b++) {
            pair_view v;
            view_pair(t, a, b, &v);
            if (v.p2p_why[0] != '\0')
                printf("GPU%d-GPU%d: no P2P: %s; copies between them go through host memory\n", a,
                       b, v.p2p_why);
        }
}

cJSON *hws_topology_json(const hws_topology *t) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    hws_json_str(o, "why_none", t->count == 0 ? t->why_none : "");
    cJSON *gpus = cJSON_AddArrayToObject(o, "gpus");
    for (int i = 0; gpus != NULL && i < t->count; i++) {
        const hws_topo_gpu *g = &t->gpus[i];
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "index", g->index);
        hws_fields_json(d, topo_gpu_fields, COUNT(topo_gpu_fields), g);
        cJSON *links = cJSON_AddArrayToObject(d, "nvlinks");
        for (int l = 0; l < g->nlinks; l++) {
            static const char *const types[] = {"gpu", "npu", "switch"};
            const hws_topo_link *k = &g->links[l];
            if (!k->active)
                continue;
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "link", l);
            hws_json_str(j, "remote_type", k->remote_type >= 0 ? types[k->remote_type] : "");
            hws_json_str(j, "remote_pci_bus_id", k->remote_pci_bus_id);
            hws_json_num(j, "remote_gpu", k->remote_gpu >= 0 ? k->remote_gpu : HWS_NA);
            cJSON_AddItemToArray(links, j);
        }
        hws_notes_json(d, "unavailable", &g->notes);
        cJSON_AddItemToArray(gpus, d);
    }
    cJSON *pairs = cJSON_AddArrayToObject(o, "pairs");
    for (int a = 0; pairs != NULL && a < t->count; a++)
        for (int b = 0; b < t->count; b++) {
            pair_view v;
            if (a == b)
                continue;
            view_pair(t, a, b, &v);
            cJSON *p = cJSON_CreateObject();
            hws_fields_json(p, pair_fields, COUNT(pair_fields), &v);
            cJSON_AddItemToArray(pairs, p);
        }
    hws_notes_json(o, "unavailable", &t->notes);
    return o;
}
