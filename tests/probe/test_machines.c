/* test_machines.c - `hwscope info --json` on each recorded machine under
 * tests/fixtures/machines/<name>/ (its /proc and /sys read through HWSCOPE_SYSROOT, and its hwloc
 * XML when present) must show what expected.json says that machine showed, field by field. */
#include "hws_test.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every member of want must be in got with the same value (numbers within 1e-6 relative);
 * arrays must have the same length. Reports the path of the first difference. */
static int matches(const cJSON *want, const cJSON *got, const char *path) {
    char sub[512];
    if (got == NULL) {
        fprintf(stderr, "%s: missing\n", path);
        return 0;
    }
    if (cJSON_IsObject(want)) {
        for (const cJSON *w = want->child; w != NULL; w = w->next) {
            snprintf(sub, sizeof sub, "%s.%s", path, w->string);
            if (!matches(w, cJSON_GetObjectItemCaseSensitive(got, w->string), sub))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(want)) {
        if (!cJSON_IsArray(got) || cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
            fprintf(stderr, "%s: want %d items, got %d\n", path, cJSON_GetArraySize(want),
                    cJSON_GetArraySize(got));
            return 0;
        }
        for (int i = 0; i < cJSON_GetArraySize(want); i++) {
            snprintf(sub, sizeof sub, "%s.%d", path, i);
            if (!matches(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i), sub))
                return 0;
        }
        return 1;
    }
    int same = 0;
    if (cJSON_IsNumber(want) && cJSON_IsNumber(got))
        same = fabs(want->valuedouble - got->valuedouble) <= 1e-6 * fabs(want->valuedouble);
    else if (cJSON_IsString(want) && cJSON_IsString(got))
        same = strcmp(want->valuestring, got->valuestring) == 0;
    else
        same = (want->type & 0xFF) == (got->type & 0xFF); /* null, true, false */
    if (!same) {
        char *w = cJSON_PrintUnformatted(want), *g = cJSON_PrintUnformatted(got);
        fprintf(stderr, "%s: want %s, got %s\n", path, w, g);
        free(w);
        free(g);
    }
    return same;
}

static cJSON *info_of(const char *machine_dir, const char *xml) {
    static char root[1024], xml_env[1100];
    snprintf(root, sizeof root, "HWSCOPE_SYSROOT=%s", machine_dir);
    snprintf(xml_env, sizeof xml_env, "HWSCOPE_HWLOC_XML=%s", xml != NULL ? xml : "");
    const char *env[] = {root, xml_env, "HWSCOPE_NVML_LIB=/nonexistent",
                         "HWSCOPE_CUDA_LIB=/nonexistent", NULL};
    hws_run r;
    hws_run_cli(&r, env, "info", "--json", NULL);
    if (r.exit_code != 0)
        fprintf(stderr, "%s: exit %d: %s\n", machine_dir, r.exit_code, r.err);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_run_free(&r);
    return doc;
}

/* The topology facts hwloc gives, which the XML export must reproduce. */
static void check_topology_from_xml(const char *dir, const cJSON *want_cpu) {
    char xml[1200];
    struct stat st;
    snprintf(xml, sizeof xml, "%s/topology.xml", dir);
    if (stat(xml, &st) != 0)
        return;
    cJSON *doc = info_of(dir, xml);
    const cJSON *got_cpu = hws_json_at(doc, "cpu");
    const char *keys[] = {"sockets", "cores", "threads", "numa_nodes", "caches"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *want = cJSON_GetObjectItemCaseSensitive(want_cpu, keys[k]);
        char path[128];
        snprintf(path, sizeof path, "xml:cpu.%s", keys[k]);
        if (want != NULL)
            assert_true(matches(want, cJSON_GetObjectItemCaseSensitive(got_cpu, keys[k]), path));
    }
    cJSON_Delete(doc);
}

static void test_recorded_machines(void **state) {
    (void)state;
    const char *machines = hws_fixture("machines");
    DIR *d = opendir(machines);
    assert_non_null(d);
    int checked = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char dir[1024], expected_path[1100];
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof dir, "%s/%s", machines, e->d_name);
        snprintf(expected_path, sizeof expected_path, "%s/expected.json", dir);
        struct stat st;
        if (stat(expected_path, &st) != 0)
            continue;
        char *text = hws_read_file(expected_path);
        cJSON *want = cJSON_Parse(text);
        free(text);
        assert_non_null(want);
        cJSON *got = info_of(dir, NULL);
        fprintf(stderr, "machine %s\n", e->d_name);
        assert_true(
            matches(cJSON_GetObjectItemCaseSensitive(want, "cpu"), hws_json_at(got, "cpu"), "cpu"));
        assert_true(matches(cJSON_GetObjectItemCaseSensitive(want, "memory"),
                            hws_json_at(got, "memory"), "memory"));
        check_topology_from_xml(dir, cJSON_GetObjectItemCaseSensitive(want, "cpu"));
        cJSON_Delete(got);
        cJSON_Delete(want);
        checked++;
    }
    closedir(d);
    fprintf(stderr, "%d recorded machines checked\n", checked);
    assert_true(checked >= 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_recorded_machines)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
