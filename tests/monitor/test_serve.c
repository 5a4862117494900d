/* test_serve.c - `hwscope serve` against the fake NVML: a real Prometheus scrapes it and a PromQL
 * query over its HTTP API returns the fake GPUs' values; `promtool check metrics` passes on the
 * output; wrk on loopback for 3 s gets no error while resident memory stays flat; unknown paths
 * are 404, other methods 405, huge headers a 4xx, and slow clients holding connections do not
 * stall another client. */
#include "mon_test.h"

#include "hwscope/monitor.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

typedef struct {
    pid_t pid;
    int port;
} server;

/* AddressSanitizer's quarantine keeps freed memory resident: RSS says nothing under it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static int setup(void **state) {
    (void)state;
    return mon_setup_script(2, "gpu0.procs = 4242:/usr/bin/python3:1073741824\n"
                               "gpu0.xid = 79@0\ngpu1.xid = \"\"\n" /* the dashboard's XID panel */
                               "gpu0.nvlink_active = 18\ngpu0.nvlink_tx_kib_s = 2000000\n"
                               "gpu0.nvlink_rx_kib_s = 2000000\n");
}

/* Starts `hwscope serve --listen 127.0.0.1:0 extra...` and reads its port from stderr. */
static server start_server(const char *names) {
    int err_pipe[2];
    assert_int_equal(pipe(err_pipe), 0);
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--interval",
                          "0.2",   "--names",  names,         NULL};
    server s = {mon_spawn(mon_file_script, -1, err_pipe[1], argv), 0};
    close(err_pipe[1]);
    char text[512] = "";
    size_t got = 0;
    while (strchr(text, '\n') == NULL && got < sizeof text - 1) {
        struct pollfd p = {err_pipe[0], POLLIN, 0};
        assert_true(poll(&p, 1, 10000) == 1);
        ssize_t n = read(err_pipe[0], text + got, sizeof text - 1 - got);
        assert_true(n > 0);
        got += (size_t)n;
        text[got] = '\0';
    }
    close(err_pipe[0]);
    const char *at = strstr(text, "http://127.0.0.1:");
    assert_non_null(at);
    s.port = atoi(at + strlen("http://127.0.0.1:"));
    assert_true(s.port > 0);
    return s;
}

static void stop_server(server s) {
    kill(s.pid, SIGTERM);
    assert_int_equal(mon_wait(s.pid), 0);
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Sends request, reads the reply (at most 5 s); returns the status code, body in *body (free). */
static int http(int port, const char *request, size_t request_len, char **body) {
    int fd = connect_to(port);
    size_t sent = 0;
    while (sent < request_len) {
        ssize_t n = send(fd, request + sent, request_len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer and close before reading a huge request */
        sent += (size_t)n;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        assert_true(poll(&p, 1, 5000) == 1); /* an answer within 5 s: the server is not stalled */
        if (len + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    int code = 0;
    sscanf(buf, "HTTP/1.%*d %d", &code);
    char *start = strstr(buf, "\r\n\r\n");
    if (body != NULL)
        *body = strdup(start != NULL ? start + 4 : "");
    free(buf);
    return code;
}

static int get(int port, const char *method, const char *path, char **body) {
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     method, path);
    return http(port, req, (size_t)n, body);
}

static void test_paths_methods_and_bad_clients(void **state) {
    (void)state;
    server s = start_server("dcgm");
    char *body = NULL;
    assert_int_equal(get(s.port, "GET", "/metrics", &body), 200);
    hws_assert_contains(body, "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\"");
    hws_assert_contains(body, "DCGM_FI_DEV_FB_USED{gpu=\"1\"");
    free(body);
    assert_int_equal(get(s.port, "GET", "/nope", NULL), 404);
    assert_int_equal(get(s.port, "POST", "/metrics", NULL), 405);
    assert_int_equal(get(s.port, "DELETE", "/", NULL), 405);
    assert_int_equal(get(s.port, "GET", "/", NULL), 200);
    /* a 1 MB header line */
    size_t big = 1 << 20;
    char *req = malloc(big + 128);
    int head = snprintf(req, 128, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + head, 'a', big);
    memcpy(req + head + big, "\r\n\r\n", 5);
    int code = http(s.port, req, (size_t)head + big + 4, NULL);
    assert_true(code == 0 || (code >= 400 && code < 500)); /* 431, or closed without a reply */
    free(req);
    /* 32 slow clients holding half a request each; another client is still answered */
    int slow[32];
    for (int i = 0; i < 32; i++) {
        slow[i] = connect_to(s.port);
        assert_true(send(slow[i], "GET /metrics HTTP/1.1\r\nHos", 26, MSG_NOSIGNAL) == 26);
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(get(s.port, "GET", "/metrics", NULL), 200);
    for (int i = 0; i < 32; i++)
        close(slow[i]);
    stop_server(s);
}

/* Runs a shell command with the text on its stdin; returns its exit status, output in *out. */
static int run_with_input(const char *command, const char *input, char **out) {
    char in_path[] = "/tmp/hws_serve_in_XXXXXX", cmd[1024];
    int fd = mkstemp(in_path);
    assert_true(fd >= 0);
    close(fd);
    hws_write_file(in_path, input, strlen(input));
    snprintf(cmd, sizeof cmd, "%s < %s 2>&1", command, in_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0)
        if ((len += n) + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    buf[len] = '\0';
    int status = pclose(p);
    unlink(in_path);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_promtool_check_metrics(void **state) {
    (void)state;
    MON_REQUIRE("promtool");
    server s = start_server("hwscope");
    char *body = NULL, *out = NULL;
    assert_int_equal(get(s.port, "GET", "/metrics", &body), 200);
    stop_server(s);
    int rc = run_with_input("promtool check metrics", body, &out);
    if (rc != 0)
        printf("promtool said:\n%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
    free(body);
    /* dcgm-exporter's own names: promtool's only remarks are the ones dcgm-exporter's output
     * earns too (its camelCase labels, its counters without _total), no format error */
    s = start_server("dcgm");
    assert_int_equal(get(s.port, "GET", "/metrics", &body), 200);
    stop_server(s);
    rc = run_with_input("promtool check metrics", body, &out);
    assert_true(rc == 0 || rc == 3);
    for (char *save = NULL, *line = strtok_r(out, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
        if (strstr(line, "camelCase") == NULL && strstr(line, "_total") == NULL)
            fail_msg("promtool: %s", line);
    free(out);
    free(body);
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* Runs every query of the Grafana dashboard (docs/grafana/) on the Prometheus at port, with the
 * $host variable as ".*": each must be valid PromQL and return series. */
static void check_dashboard_queries(int port) {
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/grafana/hwscope-gpus.json", getenv("HWSCOPE_SOURCE_DIR"));
    char *text = hws_read_file(path);
    cJSON *dash = cJSON_Parse(text);
    assert_non_null(dash);
    const cJSON *panel;
    cJSON_ArrayForEach(panel, cJSON_GetObjectItem(dash, "panels")) {
        const char *expr = cJSON_GetStringValue(hws_json_at(panel, "targets.0.expr"));
        char query[1024] = "/api/v1/query?query=", *body = NULL;
        size_t n = strlen(query);
        for (const char *p = expr; *p != '\0' && n + 8 < sizeof query; p++) {
            if (strncmp(p, "$host", 5) == 0) {
                n += (size_t)snprintf(query + n, sizeof query - n, ".%%2A");
                p += 4;
            } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9') || *p == '_') {
                query[n++] = *p;
            } else {
                n += (size_t)snprintf(query + n, sizeof query - n, "%%%02X", (unsigned char)*p);
            }
        }
        query[n] = '\0';
        assert_int_equal(get(port, "GET", query, &body), 200);
        cJSON *doc = cJSON_Parse(body);
        hws_assert_json_str(doc, "status", "success");
        if (strstr(expr, "rate(") == NULL) /* a rate needs two scrapes of the window */
            if (cJSON_GetArraySize(hws_json_at(doc, "data.result")) == 0)
                fail_msg("no series for the dashboard's %s", expr);
        cJSON_Delete(doc);
        free(body);
    }
    cJSON_Delete(dash);
    free(text);
}

static void test_prometheus_scrapes(void **state) {
    (void)state;
    MON_REQUIRE("prometheus");
    server s = start_server("dcgm");
    char dir[] = "/tmp/hws_prom_XXXXXX", config[256], data[256], flag[4][320];
    assert_non_null(mkdtemp(dir));
    snprintf(config, sizeof config, "%s/prometheus.yml", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    char yml[512];
    int n = snprintf(yml, sizeof yml,
                     "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: hwscope\n"
                     "    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
                     s.port);
    hws_write_file(config, yml, (size_t)n);
    int prom_port = free_port();
    snprintf(flag[0], sizeof flag[0], "--config.file=%s", config);
    snprintf(flag[1], sizeof flag[1], "--storage.tsdb.path=%s", data);
    snprintf(flag[2], sizeof flag[2], "--web.listen-address=127.0.0.1:%d", prom_port);
    pid_t prom = fork();
    assert_true(prom >= 0);
    if (prom == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        execlp("prometheus", "prometheus", flag[0], flag[1], flag[2], (char *)NULL);
        _exit(127);
    }
    /* query until Prometheus has scraped both GPUs (it starts in ~1 s, scrapes every 1 s) */
    cJSON *result = NULL, *doc = NULL;
    for (int i = 0; i < 150 && result == NULL; i++) {
        mon_sleep_ms(200);
        char *body = NULL;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)prom_port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (!up ||
            get(prom_port, "GET", "/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL", &body) != 200) {
            free(body);
            continue;
        }
        doc = cJSON_Parse(body);
        free(body);
        const cJSON *r = hws_json_at(doc, "data.result");
        if (cJSON_GetArraySize(r) == 2)
            result = (cJSON *)r;
        else
            cJSON_Delete(doc), doc = NULL;
    }
    if (result != NULL)
        check_dashboard_queries(prom_port);
    kill(prom, SIGTERM);
    mon_wait(prom);
    stop_server(s);
    char rm[320];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    assert_int_equal(system(rm), 0);
    assert_non_null(result);
    for (int i = 0; i < 2; i++) {
        const cJSON *series = cJSON_GetArrayItem(result, i);
        int gpu = atoi(cJSON_GetStringValue(hws_json_at(series, "metric.gpu")));
        const char *value =
            cJSON_GetStringValue(cJSON_GetArrayItem(hws_json_at(series, "value"), 1));
        hws_assert_contains(cJSON_GetStringValue(hws_json_at(series, "metric.modelName")), "H100");
        assert_int_equal(atoi(value), (10 + 7 * gpu) % 100); /* the script's utilisation */
    }
    cJSON_Delete(doc);
}

static double rss_kib(pid_t pid) {
    char path[64], *text, value[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    text = hws_read_file(path);
    char *at = strstr(text, "VmRSS:");
    double kib = at != NULL ? strtod(at + 6, NULL) : -1;
    (void)value;
    free(text);
    return kib;
}

static void test_wrk_load(void **state) {
    (void)state;
    MON_REQUIRE("wrk");
    server s = start_server("dcgm");
    for (int i = 0; i < 200; i++) /* warm up: the body and MHD's pools exist */
        assert_int_equal(get(s.port, "GET", "/metrics", NULL), 200);
    double before = rss_kib(s.pid);
    char cmd[256], *out = NULL;
    snprintf(cmd, sizeof cmd, "wrk -t2 -c16 -d3s --latency http://127.0.0.1:%d/metrics", s.port);
    int rc = run_with_input(cmd, "", &out);
    double after = rss_kib(s.pid);
    stop_server(s);
    printf("%s\nserve RSS: %.0f KiB before, %.0f KiB after\n", out, before, after);
    const char *rps = strstr(out, "Requests/sec:");
    int errors = strstr(out, "Socket errors") != NULL || strstr(out, "Non-2xx") != NULL;
    double per_s = rps != NULL ? strtod(rps + strlen("Requests/sec:"), NULL) : 0;
    free(out);
    assert_int_equal(rc, 0);
    assert_false(errors);
    assert_true(per_s > 0);
    if (UNDER_ASAN) {
        printf("RSS not checked: AddressSanitizer's quarantine keeps freed memory resident\n");
        return;
    }
    assert_true(after - before < 2048); /* flat: less than 2 MiB more after the load */
    assert_true(after < 20 * 1024);     /* the target: an exporter under 20 MB */
}

static void test_web_config_file(void **state) {
    (void)state;
    hws_web_config cfg;
    hws_error err = {""};
    assert_int_equal(hws_web_config_parse("# TLS and users\ntls_server_config:\n"
                                          "  cert_file: server.crt\n  key_file: '/k/server.key'\n"
                                          "basic_auth_users:\n  alice: $2y$10$abc # admin\n"
                                          "  bob: \"$2b$05$xyz\"\n",
                                          "/etc/hws/web.yml", &cfg, &err),
                     HWS_OK);
    assert_string_equal(cfg.cert_file, "/etc/hws/server.crt");
    assert_string_equal(cfg.key_file, "/k/server.key");
    assert_int_equal(cfg.nusers, 2);
    assert_string_equal(cfg.users[0].hash, "$2y$10$abc");
    assert_string_equal(cfg.users[1].name, "bob");
    assert_string_equal(cfg.users[1].hash, "$2b$05$xyz");
    assert_int_equal(
        hws_web_config_parse("http_server_config:\n  http2: true\n", "w.yml", &cfg, &err),
        HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "w.yml:1: 'http_server_config' is not supported");
    assert_int_equal(
        hws_web_config_parse("basic_auth_users:\n  alice: plain\n", "w.yml", &cfg, &err),
        HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "w.yml:2: user 'alice'");
    assert_int_equal(
        hws_web_config_parse("tls_server_config:\n  cert_file: a.crt\n", "w.yml", &cfg, &err),
        HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "both cert_file and key_file");
}

static void test_tls_and_basic_auth(void **state) {
    (void)state;
    MON_REQUIRE("openssl");
    MON_REQUIRE("curl");
    char dir[] = "/tmp/hws_tls_XXXXXX", cmd[1024], yml[512], path[300];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/server.key -out "
             "%s/server.crt -days 2 -subj /CN=localhost >/dev/null 2>&1",
             dir, dir);
    assert_int_equal(system(cmd), 0);
    struct crypt_data *data = calloc(1, sizeof *data);
    const char *hash = crypt_r("s3cret", "$2b$05$abcdefghijklmnopqrstuu", data);
    assert_true(hash != NULL && strncmp(hash, "$2b$05$", 7) == 0);
    int n = snprintf(yml, sizeof yml,
                     "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                     "basic_auth_users:\n  alice: %s\n",
                     hash);
    free(data);
    snprintf(path, sizeof path, "%s/web.yml", dir);
    hws_write_file(path, yml, (size_t)n);
    int err_pipe[2];
    assert_int_equal(pipe(err_pipe), 0);
    const char *argv[] = {"serve", "--listen", "127.0.0.1:0", "--web-config", path, NULL};
    pid_t pid = mon_spawn(mon_file_script, -1, err_pipe[1], argv);
    close(err_pipe[1]);
    char text[512] = "";
    struct pollfd p = {err_pipe[0], POLLIN, 0};
    assert_true(poll(&p, 1, 10000) == 1);
    ssize_t got = read(err_pipe[0], text, sizeof text - 1);
    text[got > 0 ? got : 0] = '\0';
    close(err_pipe[0]);
    const char *at = strstr(text, "https://127.0.0.1:");
    assert_non_null(at);
    int port = atoi(at + strlen("https://127.0.0.1:"));
    const char *users[] = {"", "-u alice:wrong", "-u alice:s3cret", "-u alice:s3cret"};
    const char *want[] = {"401", "401", "200", "200"}; /* the second good login is cached */
    for (int i = 0; i < 4; i++) {
        char *out = NULL;
        snprintf(cmd, sizeof cmd,
                 "curl -sk -o /dev/null -w '%%{http_code}' %s https://127.0.0.1:%d/metrics",
                 users[i], port);
        run_with_input(cmd, "", &out);
        assert_string_equal(out, want[i]);
        free(out);
    }
    kill(pid, SIGTERM);
    assert_int_equal(mon_wait(pid), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    /* a bad file is bad input */
    hws_run r;
    hws_run_cli(&r, mon_env(mon_file_script), "serve", "--web-config", "/nonexistent/web.yml",
                NULL);
    hws_assert_bad_input(&r, "--web-config");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_methods_and_bad_clients),
        cmocka_unit_test(test_promtool_check_metrics),
        cmocka_unit_test(test_prometheus_scrapes),
        cmocka_unit_test(test_wrk_load),
        cmocka_unit_test(test_web_config_file),
        cmocka_unit_test(test_tls_and_basic_auth),
    };
    return cmocka_run_group_tests(tests, setup, mon_teardown_script);
}
