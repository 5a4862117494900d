/* web_config.c - reads the TLS and basic-auth part of Prometheus's web configuration file (see
 * the header). The passwords are checked by `hwscope serve` (libcrypt), not here. */
#include "hwscope/monitor.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trims blanks at both ends, then one pair of matching quotes. */
static char *clean(char *s) {
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* dir of path + name into out, unless name is absolute. */
static void relative_to(const char *path, const char *name, char *out, size_t n) {
    const char *slash = strrchr(path, '/');
    if (name[0] == '/' || slash == NULL)
        snprintf(out, n, "%s", name);
    else
        snprintf(out, n, "%.*s/%s", (int)(slash - path), path, name);
}

static hws_status parse_line(char *line, const char *path, int lineno, int *section,
                             hws_web_config *cfg, hws_error *err) {
    char *hash = strchr(line, '#');
    if (hash != NULL && (hash == line || hash[-1] == ' ' || hash[-1] == '\t'))
        *hash = '\0'; /* a comment (a bcrypt hash has no " #") */
    int indented = line[0] == ' ' || line[0] == '\t';
    char *colon = strchr(line, ':');
    char *key = clean(line);
    if (key[0] == '\0')
        return HWS_OK;
    if (colon == NULL)
        return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: expected 'key: value'", path, lineno);
    *colon = '\0';
    key = clean(line);
    char *value = clean(colon + 1);
    if (!indented) {
        *section = strcmp(key, "tls_server_config") == 0  ? 1
                   : strcmp(key, "basic_auth_users") == 0 ? 2
                                                          : 0;
        if (*section == 0 || value[0] != '\0')
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "%s:%d: '%s' is not supported (hwscope reads tls_server_config "
                                 "and basic_auth_users)",
                                 path, lineno, key);
        return HWS_OK;
    }
    if (*section == 1 && (strcmp(key, "cert_file") == 0 || strcmp(key, "key_file") == 0)) {
        char *dst = key[0] == 'c' ? cfg->cert_file : cfg->key_file;
        relative_to(path, value, dst, sizeof cfg->cert_file);
        return HWS_OK;
    }
    if (*section == 2) {
        if (cfg->nusers == HWS_WEB_MAX_USERS || strlen(key) >= sizeof cfg->users[0].name ||
            strlen(value) >= sizeof cfg->users[0].hash || strncmp(value, "$2", 2) != 0)
            return hws_error_set(err, HWS_ERR_INPUT,
                                 "%s:%d: user '%s': expected a bcrypt hash ($2y$...), at most "
                                 "%d users",
                                 path, lineno, key, HWS_WEB_MAX_USERS);
        snprintf(cfg->users[cfg->nusers].name, sizeof cfg->users[0].name, "%s", key);
        snprintf(cfg->users[cfg->nusers].hash, sizeof cfg->users[0].hash, "%s", value);
        cfg->nusers++;
        return HWS_OK;
    }
    return hws_error_set(err, HWS_ERR_INPUT, "%s:%d: '%s' is not supported here", path, lineno,
                         key);
}

hws_status hws_web_config_parse(const char *text, const char *path, hws_web_config *cfg,
                                hws_error *err) {
    memset(cfg, 0, sizeof *cfg);
    char *copy = strdup(text);
    if (copy == NULL)
        return hws_error_set(err, HWS_ERR_NOMEM, "out of memory");
    int section = 0, lineno = 0;
    hws_status st = HWS_OK;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line != NULL && st == HWS_OK;
         line = strtok_r(NULL, "\n", &save))
        st = parse_line(line, path, ++lineno, &section, cfg, err);
    free(copy);
    if (st == HWS_OK && (cfg->cert_file[0] == '\0') != (cfg->key_file[0] == '\0'))
        st = hws_error_set(err, HWS_ERR_INPUT,
                           "%s: tls_server_config needs both cert_file and "
                           "key_file",
                           path);
    return st;
}

hws_status hws_web_config_load(const char *path, hws_web_config *cfg, char **cert, char **key,
                               hws_error *err) {
    char *text = NULL;
    size_t len = 0;
    *cert = *key = NULL;
    hws_status st = hws_file_read(path, 1 << 20, &text, &len, err);
    if (st == HWS_OK)
        st = hws_web_config_parse(text, path, cfg, err);
    free(text);
    if (st == HWS_OK && cfg->cert_file[0] != '\0' &&
        (st = hws_file_read(cfg->cert_file, 1 << 20, cert, &len, err)) == HWS_OK)
        st = hws_file_read(cfg->key_file, 1 << 20, key, &len, err);
    if (st != HWS_OK) {
        free(*cert);
        free(*key);
        *cert = *key = NULL;
    }
    return st;
}
