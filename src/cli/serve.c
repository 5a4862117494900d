/* serve.c - `hwscope serve`: a Prometheus exporter on libmicrohttpd. GET /metrics answers the
 * text exposition format with dcgm-exporter's metric names and labels, rendered once per new
 * sample into one response every request shares (never calling NVML, rendering or copying per
 * request); / a short page; other paths 404, other methods 405.
 *
 * One event-driven server thread (epoll) serves every connection without blocking on any one:
 * slow clients are cut after a timeout, oversized requests get MHD's own 4xx, and the number of
 * connections is bounded. Listens on loopback unless told otherwise. */
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/monitor_cli.h"
#include "monitor/sample_fields.h"
#include "hwscope/monitor.h"

#include <crypt.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char usage[] = "[--listen ADDR:PORT] [--interval S] [--names dcgm|hwscope] [--no-gpu]";

#define CONNECTION_TIMEOUT_S 10
#define MAX_CONNECTIONS      512

typedef struct {
    hws_monitor *m;
    hws_prom_names names;
    const hws_web_config *web; /* users to ask for; NULL or none: no authentication */
    pthread_mutex_t lock;      /* guards everything below */
    char last_login[192];      /* "user\npassword" that last passed bcrypt (it costs ~50 ms) */
    hws_mon_sample *sample;
    unsigned long long generation; /* of the sample the response was rendered from */
    struct MHD_Response *metrics;  /* /metrics, shared by every request until the next sample */
} exporter;

/* Renders the latest sample into a new shared response when the monitor has a newer one than
 * e->metrics. MHD counts the response's users, so connections still sending the old one keep it
 * until they are done; a request costs no rendering and no copy. Call with the lock. */
static int refresh(exporter *e) {
    unsigned long long gen = hws_monitor_generation(e->m);
    if (e->metrics != NULL && gen == e->generation)
        return 0;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (out == NULL)
        return -1;
    hws_monitor_snapshot(e->m, e->sample);
    hws_mon_prometheus(out, e->sample, e->names);
    if (fclose(out) != 0) {
        free(text);
        return -1;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
        free(text);
        return -1;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (e->metrics != NULL)
        MHD_destroy_response(e->metrics);
    e->metrics = r;
    e->generation = gen;
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
                             const char *body, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

/* 1 when the request carries a user and password of the web config (or none is asked for). */
static int authorised(exporter *e, struct MHD_Connection *c) {
    if (e->web == NULL || e->web->nusers == 0)
        return 1;
    char *password = NULL, login[192];
    char *user = MHD_basic_auth_get_username_password(c, &password);
    int ok = 0;
    if (user != NULL && password != NULL &&
        (size_t)snprintf(login, sizeof login, "%s\n%s", user, password) < sizeof login) {
        pthread_mutex_lock(&e->lock);
        ok = strcmp(login, e->last_login) == 0;
        pthread_mutex_unlock(&e->lock);
        struct crypt_data *data = ok ? NULL : calloc(1, sizeof *data);
        for (int i = 0; data != NULL && i < e->web->nusers && !ok; i++) {
            if (strcmp(e->web->users[i].name, user) != 0)
                continue;
            const char *got = crypt_r(password, e->web->users[i].hash, data);
            ok = got != NULL && got[0] != '*' && strcmp(got, e->web->users[i].hash) == 0;
        }
        free(data);
        if (ok) {
            pthread_mutex_lock(&e->lock);
            snprintf(e->last_login, sizeof e->last_login, "%s", login);
            pthread_mutex_unlock(&e->lock);
        }
    }
    MHD_free(user);
    MHD_free(password);
    return ok;
}

static const char index_page[] =
    "<html><head><title>hwscope exporter</title></head><body><h1>hwscope exporter</h1>"
    "<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    exporter *e = cls;
    (void)version;
    (void)upload;
    *upload_size = 0; /* a body is never read: GET and HEAD have none, others get 405 */
    if (*state == NULL) {
        *state = e; /* first call: headers only; answer on the next */
        return MHD_YES;
    }
    if (!authorised(e, c)) {
        static const char text[] = "authentication required\n";
        struct MHD_Response *r =
            MHD_create_response_from_buffer(sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ok =
            r != NULL ? MHD_queue_basic_auth_fail_response(c, "hwscope", r) : MHD_NO;
        MHD_destroy_response(r);
        return ok;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char text[] = "method not allowed: use GET\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", text, sizeof text - 1);
    }
    if (strcmp(url, "/") == 0)
        return reply(c, MHD_HTTP_OK, "text/html", index_page, sizeof index_page - 1);
    if (strcmp(url, "/metrics") != 0) {
        static const char text[] = "not found: the metrics are at /metrics\n";
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", text, sizeof text - 1);
    }
    pthread_mutex_lock(&e->lock);
    enum MHD_Result ok;
    if (refresh(e) != 0) {
        static const char text[] = "cannot render the metrics: out of memory\n";
        ok = reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", text, sizeof text - 1);
    } else {
        ok = MHD_queue_response(c, MHD_HTTP_OK, e->metrics);
    }
    pthread_mutex_unlock(&e->lock);
    return ok;
}

/* "127.0.0.1:9400", "[::1]:9400", "localhost:9400", ":9400" (every interface) -> a listening
 * socket. Returns the fd, or -1 after saying why (*exit_code 2 bad address, 1 cannot listen). */
static int open_listener(const char *listen_at, char *shown, size_t shown_n, int *exit_code) {
    char host[256] = "", port[16] = "";
    const char *colon = strrchr(listen_at, ':');
    *exit_code = 2;
    if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= sizeof port ||
        (size_t)(colon - listen_at) >= sizeof host) {
        hws_usage_error("serve", "--listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:9400)",
                        listen_at);
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - listen_at), listen_at);
    snprintf(port, sizeof port, "%s", colon + 1);
    char *end = NULL;
    long port_num = strtol(port, &end, 10);
    if (*end != '\0' || port_num < 0 || port_num > 65535) {
        hws_usage_error("serve", "--listen: port '%s' is not a number in 0..65535", port);
        return -1;
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *found = NULL;
    int gai = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &found);
    if (gai != 0) {
        hws_usage_error("serve", "--listen: '%s': %s", listen_at, gai_strerror(gai));
        return -1;
    }
    *exit_code = 1;
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 256) != 0) {
        fprintf(stderr, "hwscope serve: cannot listen on %s: %s\n", listen_at, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(found);
        return -1;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    char numeric_host[128] = "?", numeric_port[16] = "?";
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        getnameinfo((struct sockaddr *)&bound, blen, numeric_host, sizeof numeric_host,
                    numeric_port, sizeof numeric_port, NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(shown, shown_n, "%s%s%s:%s", found->ai_family == AF_INET6 ? "[" : "", numeric_host,
             found->ai_family == AF_INET6 ? "]" : "", numeric_port);
    freeaddrinfo(found);
    return fd;
}

/* Reads the web config at path and the certificate and key it names; 0, or -1 after saying why
 * (bad input: the caller exits 2). */
static int load_web_config(const char *path, hws_web_config *web, char **cert, char **key) {
    hws_error err = {""};
    if (hws_web_config_load(path, web, cert, key, &err) == HWS_OK)
        return 0;
    hws_usage_error("serve", "--web-config: %s", err.msg);
    return -1;
}

int cmd_serve(int argc, char **argv) {
    double interval = 1;
    bool no_gpu = false;
    const char *listen_at = "127.0.0.1:9400", *names = "dcgm", *web_config = NULL;
    hws_opt opts[] = {
        {"listen", HWS_OPT_STRING, &listen_at, 0, 0,
         "address and port (127.0.0.1:9400; :9400 for every interface; port 0 picks one)"},
        {"interval", HWS_OPT_DOUBLE, &interval, 0.05, 3600, "seconds between samples (1)"},
        {"names", HWS_OPT_STRING, &names, 0, 0,
         "dcgm: dcgm-exporter's metric and label names (default); hwscope: hwscope_gpu_*, "
         "snake_case labels, counters ending in _total"},
        {"web-config", HWS_OPT_STRING, &web_config, 0, 0,
         "Prometheus web configuration file: tls_server_config (cert_file, key_file) and "
         "basic_auth_users (bcrypt)"},
        {"no-gpu", HWS_OPT_FLAG, &no_gpu, 0, 0, "host metrics only: do not open NVML"},
    };
    const char *pos[1];
    int npos = 0, rc = hws_args_parse("serve", usage, argc, argv, opts,
                                      sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc != HWS_ARGS_OK)
        return rc == HWS_ARGS_HELP ? 0 : 2;
    if (strcmp(names, "dcgm") != 0 && strcmp(names, "hwscope") != 0)
        return hws_usage_error("serve", "--names: '%s' is not dcgm or hwscope", names);
    hws_web_config web;
    memset(&web, 0, sizeof web);
    char *cert = NULL, *key = NULL;
    if (web_config != NULL && load_web_config(web_config, &web, &cert, &key) != 0)
        return 2;
    char shown[192];
    int fd = open_listener(listen_at, shown, sizeof shown, &rc);
    if (fd < 0) {
        free(cert);
        free(key);
        return rc;
    }
    exporter e = {.web = web_config != NULL ? &web : NULL,
                  .names = strcmp(names, "hwscope") == 0 ? HWS_PROM_HWSCOPE : HWS_PROM_DCGM};
    pthread_mutex_init(&e.lock, NULL);
    hws_cli_catch_stop_signals();
    if ((rc = hws_cli_monitor_start("serve", interval, no_gpu, &e.m)) != 0) {
        close(fd);
        return rc;
    }
    e.sample = hws_mon_sample_new(e.m);
    struct MHD_Daemon *d =
        e.sample == NULL
            ? NULL
            : MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                   (cert != NULL ? MHD_USE_TLS : 0),
                               0, NULL, NULL, handle, &e, MHD_OPTION_LISTEN_SOCKET, fd,
                               MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
                               MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "hwscope serve: cannot start the HTTP server on %s\n", shown);
        close(fd);
        rc = 1;
    } else {
        fprintf(stderr, "hwscope serve: listening on %s://%s/metrics%s\n",
                cert != NULL ? "https" : "http", shown,
                web_config != NULL && web.nusers > 0 ? " (basic auth)" : "");
        double next = 0;
        while (hws_cli_tick(&next, 3600))
            continue;
        MHD_stop_daemon(d); /* closes the listening socket too */
    }
    hws_monitor_stop(e.m);
    hws_mon_sample_free(e.sample);
    if (e.metrics != NULL)
        MHD_destroy_response(e.metrics);
    free(cert);
    free(key);
    pthread_mutex_destroy(&e.lock);
    return rc;
}
