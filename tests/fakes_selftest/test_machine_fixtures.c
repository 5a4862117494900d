/* test_machine_fixtures.c - checks that each recorded or modelled machine tree agrees with its
 * own expected.json (so probe tests compare against facts the tree really holds). */
#include "hws_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const machines[] = {"x86-ci", "two-socket", "arm64"};

/* The text of <machine>/<rel>, trailing whitespace trimmed; NULL when unreadable. Free it. */
static char *tree_read(const char *machine, const char *rel) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", hws_fixture("machines"), machine);
    size_t n = strlen(path);
    snprintf(path + n, sizeof(path) - n, "/%s", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fclose(f);
    char *text = hws_read_file(path);
    for (size_t len = strlen(text); len > 0 && strchr(" \n\t", text[len - 1]); len--)
        text[len - 1] = '\0';
    return text;
}

static cJSON *expected(const char *machine) {
    char *text = tree_read(machine, "expected.json");
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        fail_msg("%s/expected.json does not parse", machine);
    return doc;
}

static double num(const cJSON *doc, const char *path) {
    const cJSON *v = hws_json_at(doc, path);
    if (!cJSON_IsNumber(v))
        fail_msg("%s is not a number", path);
    return v->valuedouble;
}

static int count_lines_starting(const char *text, const char *prefix) {
    int n = 0;
    for (const char *p = text; p; p = strchr(p, '\n')) {
        p += *p == '\n';
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    }
    return n;
}

/* True when word appears as a whole word in the first "flags"/"Features" line of cpuinfo. */
static bool has_flag(const char *cpuinfo, const char *word) {
    const char *line = strstr(cpuinfo, "\nflags\t");
    if (!line)
        line = strstr(cpuinfo, "\nFeatures\t");
    assert_non_null(line);
    const char *end = strchr(line + 1, '\n');
    size_t n = strlen(word);
    for (const char *p = strstr(line, word); p && p < end; p = strstr(p + 1, word))
        if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void check_cpus_and_flags(const char *m, const cJSON *doc) {
    char *cpuinfo = tree_read(m, "proc/cpuinfo");
    assert_non_null(cpuinfo);
    assert_int_equal(count_lines_starting(cpuinfo, "processor\t"), (int)num(doc, "cpu.threads"));
    /* isa.has_X is the cpuinfo flag X (on arm64: neon is asimd, and FMA comes with it) */
    const cJSON *isa = hws_json_at(doc, "cpu.isa");
    bool arm = strcmp(hws_json_at(doc, "cpu.arch")->valuestring, "aarch64") == 0;
    for (const cJSON *f = isa->child; f; f = f->next) {
        const char *flag = f->string + 4;
        if (strcmp(flag, "neon") == 0 || (arm && strcmp(flag, "fma") == 0))
            flag = "asimd";
        if (has_flag(cpuinfo, flag) != cJSON_IsTrue(f))
            fail_msg("%s: flag %s should be %s", m, flag, cJSON_IsTrue(f) ? "on" : "off");
    }
    free(cpuinfo);
    char *lscpu = tree_read(m, "expected-lscpu.txt");
    assert_non_null(lscpu);
    const char *model = hws_json_at(doc, "cpu.model")->valuestring;
    hws_assert_contains(lscpu, model);
    free(lscpu);
}

static void check_memory(const char *m, const cJSON *doc) {
    char *meminfo = tree_read(m, "proc/meminfo");
    assert_non_null(meminfo);
    unsigned long long kb = strtoull(strstr(meminfo, "MemTotal:") + 9, NULL, 10);
    assert_true((double)kb * 1024 == num(doc, "memory.total_bytes"));
    free(meminfo);
    char *huge = tree_read(m, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    assert_non_null(huge);
    assert_int_equal(atoi(huge), (int)num(doc, "memory.hugepages_total"));
    free(huge);
}

static void check_numa(const char *m, const cJSON *doc) {
    int nodes = (int)num(doc, "cpu.numa_nodes"), with_cpus = 0;
    for (int i = 0; i < nodes; i++) {
        char rel[128], key[64];
        snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", i);
        char *list = tree_read(m, rel);
        assert_non_null(list);
        snprintf(key, sizeof(key), "tree.numa_node_cpus.%d", i);
        assert_string_equal(list, hws_json_at(doc, key)->valuestring);
        with_cpus += list[0] != '\0';
        free(list);
    }
    assert_int_equal(with_cpus, (int)num(doc, "tree.numa_nodes_with_cpus"));
    char rel[128];
    snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", nodes);
    char *extra = tree_read(m, rel);
    assert_null(extra); /* no more nodes than expected */
}

/* The cgroup v2 limits at the path /proc/self/cgroup names ("0::/path"). */
static void check_cgroup(const char *m, const cJSON *doc) {
    if (num(doc, "tree.cgroup_version") != 2)
        return;
    char *self = tree_read(m, "proc/self/cgroup");
    assert_non_null(self);
    const char *path = strstr(self, "0::");
    assert_non_null(path);
    char rel[512];
    snprintf(rel, sizeof(rel), "sys/fs/cgroup%s/cpu.max", strcmp(path + 3, "/") ? path + 3 : "");
    char *cpu = tree_read(m, rel);
    const cJSON *want_cpu = hws_json_at(doc, "cpu.cgroup_cpu_quota");
    if (cJSON_IsNull(want_cpu)) {
        assert_true(!cpu || strncmp(cpu, "max", 3) == 0);
    } else {
        assert_non_null(cpu);
        double quota = 0, period = 0;
        assert_int_equal(sscanf(cpu, "%lf %lf", &quota, &period), 2);
        assert_true(quota / period == want_cpu->valuedouble);
    }
    snprintf(rel, sizeof(rel), "sys/fs/cgroup%s/memory.max", strcmp(path + 3, "/") ? path + 3 : "");
    char *mem = tree_read(m, rel);
    const cJSON *want_mem = hws_json_at(doc, "memory.cgroup_limit_bytes");
    if (cJSON_IsNull(want_mem))
        assert_true(!mem || strcmp(mem, "max") == 0);
    else
        assert_true(mem && strtod(mem, NULL) == want_mem->valuedouble);
    free(cpu);
    free(mem);
    free(self);
}

/* Every expected cache has an index on CPU 0 with that level, type and size. */
static void check_caches(const char *m, const cJSON *doc) {
    const cJSON *caches = hws_json_at(doc, "cpu.caches");
    for (const cJSON *c = caches->child; c; c = c->next) {
        bool found = false;
        for (int i = 0; i < 8 && !found; i++) {
            char rel[128];
            snprintf(rel, sizeof(rel), "sys/devices/system/cpu/cpu0/cache/index%d/", i);
            size_t n = strlen(rel);
            strcpy(rel + n, "level");
            char *level = tree_read(m, rel);
            strcpy(rel + n, "type");
            char *type = tree_read(m, rel);
            strcpy(rel + n, "size");
            char *size = tree_read(m, rel);
            found = level && type && size && atoi(level) == (int)num(c, "level") &&
                    strcasecmp(type, hws_json_at(c, "type")->valuestring) == 0 &&
                    atof(size) * 1024 == num(c, "size_bytes");
            free(level);
            free(type);
            free(size);
        }
        if (!found)
            fail_msg("%s: no L%d %s cache on cpu0", m, (int)num(c, "level"),
                     hws_json_at(c, "type")->valuestring);
    }
}

static void test_machines_match_expected(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
        cJSON *doc = expected(machines[i]);
        check_cpus_and_flags(machines[i], doc);
        check_memory(machines[i], doc);
        check_numa(machines[i], doc);
        check_cgroup(machines[i], doc);
        check_caches(machines[i], doc);
        cJSON_Delete(doc);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machines_match_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
