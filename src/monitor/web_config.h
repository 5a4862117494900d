/* web_config.h - the part of Prometheus's web configuration file (the exporter-toolkit format,
 * `--web.config.file`) that `hwscope serve --web-config FILE` understands: TLS with a certificate
 * and key, and basic-auth users with bcrypt hashes.
 *
 *   tls_server_config:
 *     cert_file: server.crt      # relative paths are relative to the file's folder
 *     key_file: server.key
 *   basic_auth_users:
 *     alice: $2y$10$...          # bcrypt, as `htpasswd -nBC 10 alice` writes it
 *
 * Any other key is refused with its line, as Prometheus refuses unknown fields. */
#ifndef HWSCOPE_MONITOR_WEB_CONFIG_H
#define HWSCOPE_MONITOR_WEB_CONFIG_H

#include "hwscope/hwscope.h"

#define HWS_WEB_MAX_USERS 32

typedef struct {
    char cert_file[1024], key_file[1024]; /* both "" when TLS is off */
    int nusers;                           /* 0: no authentication */
    struct {
        char name[64];
        char hash[128];
    } users[HWS_WEB_MAX_USERS];
} hws_web_config;

/* Parses text (the file at path, used for messages and relative paths) into cfg; HWS_ERR_INPUT
 * with "PATH:LINE: ..." when it is not such a file. */
hws_status hws_web_config_parse(const char *text, const char *path, hws_web_config *cfg,
                                hws_error *err);

#endif
