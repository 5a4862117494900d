/* hws_test.c - running the CLI under test, fixtures and JSON assertions. */
#include "hws_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    char *data;
    size_t len, cap;
} buffer;

static void buffer_add(buffer *b, const char *src, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void child_exec(int out_fd, int err_fd, const char *const *env, const char **argv) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    int devnull = open("/dev/null", 0);
    if (devnull >= 0)
        dup2(devnull, 0);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv((char *)env[i]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

static void collect(hws_run *r, int out_fd, int err_fd, pid_t pid) {
    buffer out = {0}, err = {0};
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_fds = 2;
    time_t deadline = time(NULL) + 120;
    buffer_add(&out, "", 0);
    buffer_add(&err, "", 0);
    while (open_fds > 0 && time(NULL) < deadline) {
        if (poll(fds, 2, 1000) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char chunk[8192];
            ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            } else {
                buffer_add(i == 0 ? &out : &err, chunk, (size_t)got);
            }
        }
    }
    int status = 0;
    if (open_fds > 0)
        kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->out = out.data;
    r->err = err.data;
}

void hws_run_cli(hws_run *r, const char *const *env, ...) {
    const char *argv[64];
    int argc = 0;
    const char *bin = getenv("HWSCOPE_BIN");
    assert_non_null(bin);
    argv[argc++] = bin;
    va_list ap;
    va_start(ap, env);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 63)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    int out_pipe[2], err_pipe[2];
    assert_int_equal(pipe(out_pipe), 0);
    assert_int_equal(pipe(err_pipe), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        child_exec(out_pipe[1], err_pipe[1], env, argv);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    collect(r, out_pipe[0], err_pipe[0], pid);
}

void hws_run_free(hws_run *r) {
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

cJSON *hws_run_json(const hws_run *r) {
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(r->out, &end, 1);
    if (doc == NULL) {
        fprintf(stderr, "not one JSON document; stdout was:\n%s\nstderr was:\n%s\n", r->out,
                r->err);
        fail();
    }
    return doc;
}

const char *hws_fixture(const char *name) {
    static char path[4096];
    const char *root = getenv("HWSCOPE_FIXTURES");
    /* machine trees: the build's copy, whose modelled trees it generates from their scripts */
    const char *machines = getenv("HWSCOPE_MACHINES");
    if (machines != NULL && strncmp(name, "machines", 8) == 0 &&
        (name[8] == '\0' || name[8] == '/')) {
        snprintf(path, sizeof path, "%s%s", machines, name + 8);
        return path;
    }
    assert_non_null(root);
    snprintf(path, sizeof path, "%s/%s", root, name);
    return path;
}

char *hws_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        fail();
    }
    buffer b = {0};
    char chunk[8192];
    size_t got;
    buffer_add(&b, "", 0);
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buffer_add(&b, chunk, got);
    fclose(f);
    return b.data;
}

void hws_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        fail();
    }
    size_t put = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || put != len) {
        fprintf(stderr, "%s: write failed\n", path);
        fail();
    }
}

const char *hws_temp_file(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/hws_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        fail();
    }
    close(fd);
    hws_write_file(path, text, strlen(text));
    return path;
}

const cJSON *hws_json_at(const cJSON *doc, const char *path) {
    char copy[512];
    snprintf(copy, sizeof copy, "%s", path);
    const cJSON *node = doc;
    for (char *save = NULL, *part = strtok_r(copy, ".", &save); part != NULL && node != NULL;
         part = strtok_r(NULL, ".", &save)) {
        char *end;
        long index = strtol(part, &end, 10);
        if (*end == '\0' && cJSON_IsArray(node))
            node = cJSON_GetArrayItem(node, (int)index);
        else
            node = cJSON_GetObjectItemCaseSensitive(node, part);
    }
    return node;
}

static const cJSON *must_have(const cJSON *doc, const char *path) {
    const cJSON *node = hws_json_at(doc, path);
    if (node == NULL) {
        fprintf(stderr, "JSON has no '%s'\n", path);
        fail();
    }
    return node;
}

void hws_assert_json_str(const cJSON *doc, const char *path, const char *want) {
    const cJSON *node = must_have(doc, path);
    if (want == NULL) {
        hws_assert_json_null(doc, path);
        return;
    }
    if (!cJSON_IsString(node) || strcmp(node->valuestring, want) != 0) {
        char *got = cJSON_PrintUnformatted(node);
        fprintf(stderr, "%s: want \"%s\", got %s\n", path, want, got);
        free(got);
        fail();
    }
}

void hws_assert_json_num(const cJSON *doc, const char *path, double want, double tol) {
    const cJSON *node = must_have(doc, path);
    if (!cJSON_IsNumber(node) || node->valuedouble < want - tol || node->valuedouble > want + tol) {
        char *got = cJSON_PrintUnformatted(node);
        fprintf(stderr, "%s: want %g (±%g), got %s\n", path, want, tol, got);
        free(got);
        fail();
    }
}

void hws_assert_json_null(const cJSON *doc, const char *path) {
    const cJSON *node = must_have(doc, path);
    if (!cJSON_IsNull(node)) {
        char *got = cJSON_PrintUnformatted(node);
        fprintf(stderr, "%s: want null, got %s\n", path, got);
        free(got);
        fail();
    }
}

void hws_assert_contains(const char *haystack, const char *needle) {
    if (haystack == NULL || strstr(haystack, needle) == NULL) {
        fprintf(stderr, "expected to find \"%s\" in:\n%s\n", needle,
                haystack != NULL ? haystack : "(null)");
        fail();
    }
}

void hws_assert_bad_input(const hws_run *r, const char *want) {
    if (r->exit_code != 2)
        fail_msg("exit %d, want 2 (bad input); stderr: %s", r->exit_code, r->err);
    assert_string_equal(r->out, "");
    hws_assert_contains(r->err, want);
}

const hws_bench_record *hws_find_record(const hws_bench_result *r, const char *key) {
    for (int i = 0; i < r->nrecords; i++)
        if (strcmp(r->records[i].key, key) == 0)
            return &r->records[i];
    fail_msg("no record %s", key);
    return NULL;
}

const char *const *hws_fake_gpu_env(const char *script, const char *extra) {
    static char nvml[1024], cuda[1024], gpus[1024];
    static const char *env[5];
    const char *lib = getenv("HWSCOPE_FAKE_NVML"), *cu = getenv("HWSCOPE_FAKE_CUDA");
    assert_non_null(lib);
    assert_non_null(cu);
    snprintf(nvml, sizeof nvml, "HWSCOPE_NVML_LIB=%s", lib);
    snprintf(cuda, sizeof cuda, "HWSCOPE_CUDA_LIB=%s", cu);
    if (strchr(script, '/') != NULL)
        snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s", script);
    else
        snprintf(gpus, sizeof gpus, "HWSCOPE_FAKE_GPUS=%s/gpus/%s.txt", getenv("HWSCOPE_FIXTURES"),
                 script);
    env[0] = nvml;
    env[1] = cuda;
    env[2] = gpus;
    env[3] = extra;
    env[4] = NULL;
    return env;
}

const hws_model_spec *hws_llm_shape_of(const char *model, hws_llm_shape *s) {
    hws_error err;
    assert_int_equal(hws_model_catalog_load(NULL, &err), HWS_OK);
    const hws_model_spec *m = hws_model_catalog_find(model);
    assert_non_null(m);
    assert_int_equal(hws_llm_shape_from_spec(m, s, &err), HWS_OK);
    return m;
}
