/* test_hostile.c - every way a file reaches hwscope, fed what is not a file: a FIFO with no
 * writer, /dev/zero, a truncated library; broken environment variables; output that cannot be
 * written (a full disk, a closed pipe) for every command and format; names that are not UTF-8
 * or carry terminal escapes. Each must end at once, with the fault named, never hang or crash
 * (the runner kills a child after 120 s, which fails the test). */
#include "hws_test.h"

#include "util/text.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/hws_hostile_XXXXXX";

/* dir/name, in one of a few rotating static buffers. */
static const char *at(const char *name) {
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void write_text(const char *name, const char *text) {
    hws_write_file(at(name), text, strlen(text));
}

static const char *config = "{\"hidden_size\": 64, \"num_hidden_layers\": 2, "
                            "\"num_attention_heads\": 4, \"intermediate_size\": 128, "
                            "\"vocab_size\": 100}";

static int setup(void **state) {
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    if (mkfifo(at("fifo"), 0600) != 0 || mkfifo(at("fifo.gguf"), 0600) != 0 ||
        symlink("/dev/zero", at("zero.gguf")) != 0 || mkdir(at("st_fifo"), 0700) != 0 ||
        mkdir(at("index_zero"), 0700) != 0 || mkdir(at("root"), 0700) != 0 ||
        mkdir(at("root/proc"), 0700) != 0 || mkdir(at("x.gguf"), 0700) != 0)
        return -1;
    write_text("st_fifo/config.json", config);
    write_text("x.gguf/config.json", config);
    write_text("index_zero/config.json", config);
    if (mkfifo(at("st_fifo/model.safetensors"), 0600) != 0 ||
        symlink("/dev/zero", at("index_zero/model.safetensors.index.json")) != 0 ||
        mkfifo(at("root/proc/meminfo"), 0600) != 0 || symlink("/dev/zero", at("root/proc/cpuinfo")))
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs hwscope with env and args; asserts it ended by itself (not killed). */
static void run(hws_run *r, const char *const *env, const char *a0, const char *a1, const char *a2,
                const char *a3) {
    hws_run_cli(r, env, a0, a1, a2, a3, NULL);
    if (r->exit_code >= 128)
        fail_msg("hwscope %s %s: killed by signal %d; stderr: %s", a0, a1 ? a1 : "",
                 r->exit_code - 128, r->err);
}

/* A model argument that is not a regular file: exit 2 naming it. */
static void test_model_files(void **state) {
    (void)state;
    const struct {
        const char *arg, *want;
    } cases[] = {
        {at("fifo"), "fifo"},
        {"/dev/zero", "/dev/zero: a character device, not a regular file"},
        {at("fifo.gguf"), "fifo.gguf: a pipe (FIFO), not a regular file"},
        {at("zero.gguf"), "zero.gguf: a character device, not a regular file"},
        {at("st_fifo"), "model.safetensors: a pipe (FIFO), not a regular file"},
        {at("index_zero"), "model.safetensors.index.json: a character device"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hws_run r;
        run(&r, NULL, "plan", cases[i].arg, NULL, NULL);
        hws_assert_bad_input(&r, cases[i].want);
        hws_run_free(&r);
    }
    hws_run r; /* a folder named *.gguf is a checkpoint */
    run(&r, NULL, "plan", at("x.gguf"), "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    hws_run_free(&r);
}

static void test_catalog_files(void **state) {
    (void)state;
    hws_run r;
    run(&r, NULL, "catalog", "models", "--file", at("fifo"));
    hws_assert_bad_input(&r, "fifo");
    hws_run_free(&r);
    run(&r, NULL, "catalog", "gpus", "--file", "/dev/zero");
    hws_assert_bad_input(&r, "/dev/zero: a character device");
    hws_run_free(&r);
}

/* Environment variables naming what is not usable: exit 2 naming the variable. */
static void test_environment(void **state) {
    (void)state;
    char fifo_xml[300], zero_xml[64], bad_xml[300], root[300], missing[300];
    snprintf(fifo_xml, sizeof fifo_xml, "HWSCOPE_HWLOC_XML=%s", at("fifo"));
    snprintf(zero_xml, sizeof zero_xml, "HWSCOPE_HWLOC_XML=/dev/zero");
    write_text("garbage.xml", "<not a topology");
    snprintf(bad_xml, sizeof bad_xml, "HWSCOPE_HWLOC_XML=%s", at("garbage.xml"));
    snprintf(missing, sizeof missing, "HWSCOPE_SYSROOT=%s", at("missing"));
    const struct {
        const char *env, *want;
    } cases[] = {
        {fifo_xml, "HWSCOPE_HWLOC_XML="},
        {zero_xml, "HWSCOPE_HWLOC_XML=/dev/zero: a character device"},
        {bad_xml, "HWSCOPE_HWLOC_XML="},
        {missing, "HWSCOPE_SYSROOT="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = {cases[i].env, NULL};
        hws_run r;
        run(&r, env, "info", NULL, NULL, NULL);
        hws_assert_bad_input(&r, cases[i].want);
        hws_run_free(&r);
    }
    /* a recorded tree whose /proc files are a FIFO and /dev/zero: read without blocking, and
     * the unreadable memory facts said */
    snprintf(root, sizeof root, "HWSCOPE_SYSROOT=%s", at("root"));
    const char *env[] = {root, "HWSCOPE_HWLOC_XML=", NULL};
    char xml[300];
    snprintf(xml, sizeof xml, "HWSCOPE_HWLOC_XML=%s",
             hws_fixture("machines/h100-host/topology.xml"));
    env[1] = xml;
    hws_run r;
    run(&r, env, "info", NULL, NULL, NULL);
    assert_int_equal(r.exit_code, 1);
    hws_assert_contains(r.err, "proc/meminfo");
    hws_run_free(&r);
}

/* A driver library path that is a FIFO or a truncated ELF: named, never SIGBUS. */
static void test_driver_libraries(void **state) {
    (void)state;
    char *lib = hws_read_file(getenv("HWSCOPE_FAKE_NVML"));
    struct stat sb;
    assert_int_equal(stat(getenv("HWSCOPE_FAKE_NVML"), &sb), 0);
    const size_t cuts[] = {10, 100, (size_t)sb.st_size / 3, (size_t)sb.st_size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        hws_write_file(at("trunc.so"), lib, cuts[i]);
        char nvml[300], cuda[300];
        snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", at("trunc.so"));
        snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", at("fifo"));
        const char *env[] = {nvml, cuda, NULL};
        hws_run r;
        run(&r, env, "info", "--json", NULL, NULL);
        assert_int_equal(r.exit_code, 0);
        cJSON *doc = hws_run_json(&r);
        const cJSON *why = hws_json_at(doc, "gpus.why_none");
        assert_true(cJSON_IsString(why));
        hws_assert_contains(why->valuestring, "HWSCOPE_NVML_LIB=");
        hws_assert_contains(why->valuestring, "trunc.so: ");
        hws_assert_contains(why->valuestring, "HWSCOPE_CUDA_LIB=");
        hws_assert_contains(why->valuestring, "a pipe (FIFO), not a regular file");
        cJSON_Delete(doc);
        hws_run_free(&r);
    }
    free(lib);
}

/* Saved ceilings that cannot be used: a warning naming the file, the plan still made. */
static void test_ceilings_file(void **state) {
    (void)state;
    write_text("zero_ceiling.json", "{\"schema\": \"hwscope.ceilings/1\", \"gpus\": [{\"name\": "
                                    "\"H100 SXM 80GB\", \"mem_bw_gbps\": 0}]}");
    const struct {
        const char *file, *want;
    } cases[] = {
        {at("fifo"), "not a hwscope.ceilings/1 document"},
        {"/dev/zero", "/dev/zero: a character device"},
        {at("zero_ceiling.json"), "\"mem_bw_gbps\" is 0: a ceiling must be a positive figure"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char env0[300];
        snprintf(env0, sizeof env0, "HWSCOPE_CEILINGS=%s", cases[i].file);
        const char *env[] = {env0, NULL};
        hws_run r;
        run(&r, env, "plan", "Llama-2-7B", "--gpus", "1x H100 SXM 80GB");
        assert_int_equal(r.exit_code, 0);
        hws_assert_contains(r.err, "warning: saved ceilings not used");
        hws_assert_contains(r.err, cases[i].want);
        hws_run_free(&r);
        run(&r, env, "advise", "Llama-2-7B", NULL, NULL);
        assert_int_equal(r.exit_code, 0);
        hws_assert_contains(r.err, cases[i].want);
        hws_run_free(&r);
    }
}

/* Runs argv with stdout a pipe whose reader has gone, or /dev/full; returns the exit status
 * (128+N for a signal) and stderr. */
static int run_unwritable(const char *const *argv, bool full, char **err) {
    int out[2], errp[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(errp), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = full ? open("/dev/full", O_WRONLY) : out[1];
        dup2(fd, 1);
        dup2(errp[1], 2);
        close(out[0]);
        close(errp[0]);
        execv(getenv("HWSCOPE_BIN"), (char *const *)argv);
        _exit(127);
    }
    close(out[0]); /* the reader is gone before the first write */
    close(out[1]);
    close(errp[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t got;
    while ((got = read(errp[0], buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(errp[0]);
    int status;
    waitpid(pid, &status, 0);
    *err = strdup(buf);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Every command, every format: output that cannot be written is exit 1 with the reason. */
static void test_unwritable_output(void **state) {
    (void)state;
    const char *const commands[][6] = {
        {"hwscope", "info", NULL},
        {"hwscope", "catalog", NULL},
        {"hwscope", "plan", "Llama-2-7B", "--gpus", "1x H100 SXM 80GB", NULL},
        {"hwscope", "advise", "Llama-2-7B", NULL},
        {"hwscope", "report", NULL},
        {"hwscope", "bench", "transformer", "--shape", "2,2,16", NULL},
    };
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        for (int json = 0; json < 2; json++) {
            const char *argv[8];
            size_t n = 0;
            for (; commands[c][n] != NULL; n++)
                argv[n] = commands[c][n];
            if (json)
                argv[n++] = "--json";
            argv[n] = NULL;
            for (int full = 0; full < 2; full++) {
                char *err;
                int rc = run_unwritable(argv, full, &err);
                if (rc != 1 || strstr(err, "cannot write") == NULL)
                    fail_msg("hwscope %s%s > %s: exit %d, stderr: %s", argv[1],
                             json ? " --json" : "", full ? "/dev/full" : "closed pipe", rc, err);
                hws_assert_contains(err, full ? "No space left on device" : "Broken pipe");
                free(err);
            }
        }
    }
}

/* Folder names of random bytes (escapes, broken UTF-8): JSON stays valid UTF-8 and the table
 * carries no control byte. */
static void test_names_escaped(void **state) {
    (void)state;
    srand(7);
    for (int i = 0; i < 24; i++) {
        char name[40] = "m-";
        size_t n = 2;
        for (int k = 0; k < 12; k++) {
            int c = i % 3 == 0 ? 0x1b : 1 + rand() % 255;
            if (c != '/')
                name[n++] = (char)c;
        }
        name[n] = '\0';
        const char *folder = at(name);
        if (mkdir(folder, 0700) != 0)
            continue;
        char cfg[400];
        snprintf(cfg, sizeof cfg, "%s/config.json", folder);
        hws_write_file(cfg, config, strlen(config));
        for (int json = 0; json < 2; json++) {
            hws_run r;
            run(&r, NULL, "plan", folder, json ? "--json" : NULL, NULL);
            assert_int_equal(r.exit_code, 0);
            const unsigned char *p = (const unsigned char *)r.out;
            size_t len = strlen(r.out);
            for (size_t k = 0; k < len;) {
                size_t step = hws_utf8_len(p + k, len - k);
                if (step == 0)
                    fail_msg("byte %zu of the output is not UTF-8", k);
                if (!json && step == 1 && p[k] < 0x20 && p[k] != '\n')
                    fail_msg("control byte 0x%02x in the table", p[k]);
                if (step == 2 && p[k] == 0xC2 && p[k + 1] < 0xA0)
                    fail_msg("C1 control in the output");
                k += step;
            }
            if (json)
                cJSON_Delete(hws_run_json(&r));
            hws_run_free(&r);
        }
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_files),   cmocka_unit_test(test_catalog_files),
        cmocka_unit_test(test_environment),   cmocka_unit_test(test_driver_libraries),
        cmocka_unit_test(test_ceilings_file), cmocka_unit_test(test_unwritable_output),
        cmocka_unit_test(test_names_escaped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
