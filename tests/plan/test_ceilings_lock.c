/* test_ceilings_lock.c - bench runs saving ceilings for different GPUs at the same time (one
 * process each, as `hwscope bench --device N` runs are started side by side) keep every entry:
 * the read-change-replace of the file is done under a lock. Repeated, since a lost update
 * without the lock shows only sometimes. */
#include "hws_test.h"

#include "hwscope/plan.h"
#include "util/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS 8
#define ROUNDS  5

static void test_concurrent_saves(void **state) {
    (void)state;
    for (int round = 0; round < ROUNDS; round++) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/hws_lock_%d_%d/ceilings.json", (int)getpid(), round);
        pid_t kids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            kids[w] = fork();
            assert_true(kids[w] >= 0);
            if (kids[w] == 0) {
                hws_ceilings c;
                memset(&c, 0, sizeof c);
                c.mem_bw_gbps = 1000 + w;
                c.bf16_tflops = c.fp16_tflops = c.fp8_tflops = c.int8_tops = HWS_NA;
                c.fp32_tflops = c.allreduce_busbw_gbps = c.host_mem_bw_gbps = HWS_NA;
                snprintf(c.measured_at, sizeof c.measured_at, "2026-12-06T00:00:0%dZ", w);
                char name[32];
                snprintf(name, sizeof name, "GPU model %d", w);
                hws_error err;
                _exit(hws_ceilings_save(path, name, &c, &err) == HWS_OK ? 0 : 1);
            }
        }
        for (int w = 0; w < WRITERS; w++) {
            int status;
            assert_int_equal(waitpid(kids[w], &status, 0), kids[w]);
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        for (int w = 0; w < WRITERS; w++) {
            char name[32];
            snprintf(name, sizeof name, "GPU model %d", w);
            hws_ceilings c;
            hws_error err = {""};
            if (hws_ceilings_load(path, name, NULL, &c, &err) != HWS_OK)
                fail_msg("round %d: %s lost: %s", round, name, err.msg);
            assert_float_equal(c.mem_bw_gbps, 1000 + w, 0);
        }
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf /tmp/hws_lock_%d_%d", (int)getpid(), round);
        assert_int_equal(system(cmd), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_saves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
