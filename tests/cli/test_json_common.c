/* test_json_common.c - every command's JSON document carries when it was made, the host name
 * and the hardware fingerprint; the fingerprint's id is the same for the same hardware and
 * differs for other hardware. */
#include "hws_test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static cJSON *run_json(const char *script, const char *const *args) {
    hws_run r;
    hws_run_cli(&r, hws_fake_gpu_env(script, "HWSCOPE_CEILINGS=/nonexistent"), args[0], args[1],
                args[2], args[3], NULL);
    if (r.exit_code != 0)
        fail_msg("hwscope %s: exit %d: %s", args[0], r.exit_code, r.err);
    cJSON *doc = hws_run_json(&r);
    hws_run_free(&r);
    return doc;
}

static void test_every_document(void **state) {
    (void)state;
    const char *const cmds[][4] = {
        {"report", "--json", "--no-bench", NULL}, {"info", "--json", NULL, NULL},
        {"plan", "Llama-3.1-8B", "--json", NULL}, {"advise", "Llama-3.1-8B", "--json", NULL},
        {"catalog", "gpus", "--json", NULL},      {"version", "--json", NULL, NULL},
    };
    char host[256] = "";
    gethostname(host, sizeof host);
    char first_id[32] = "";
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cJSON *doc = run_json("h100-1", cmds[i]);
        const char *t = cJSON_GetStringValue(hws_json_at(doc, "time_utc"));
        assert_non_null(t);
        assert_int_equal(strlen(t), 20); /* 2026-12-06T03:45:00Z */
        assert_true(t[4] == '-' && t[10] == 'T' && t[19] == 'Z');
        hws_assert_json_str(doc, "hostname", host);
        hws_assert_json_str(doc, "fingerprint.gpus.0.name", "NVIDIA H100 80GB HBM3");
        hws_assert_json_str(doc, "fingerprint.gpus.0.pci_bus_id", "0000:18:00.0");
        hws_assert_json_str(doc, "fingerprint.driver_version", "580.159.04");
        const char *id = cJSON_GetStringValue(hws_json_at(doc, "fingerprint.id"));
        assert_non_null(id);
        assert_int_equal(strlen(id), 16);
        if (first_id[0] == '\0')
            snprintf(first_id, sizeof first_id, "%s", id);
        else
            assert_string_equal(id, first_id); /* same hardware, same id */
        cJSON_Delete(doc);
    }
    cJSON *other = run_json("h100-8", cmds[1]);
    const char *id = cJSON_GetStringValue(hws_json_at(other, "fingerprint.id"));
    assert_non_null(id);
    assert_string_not_equal(id, first_id);
    cJSON_Delete(other);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_document)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
