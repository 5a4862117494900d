/* hws_test.h - helpers for tests: run the hwscope binary and capture what it printed, find
 * fixtures, and parse JSON output.
 *
 * Example:
 *   hws_run r;
 *   hws_run_cli(&r, (const char *[]){"HWSCOPE_SYSROOT=...", NULL}, "info", "--json", NULL);
 *   assert_int_equal(r.exit_code, 0);
 *   cJSON *doc = hws_run_json(&r);   // fails the test when stdout is not one JSON document
 *   ...; cJSON_Delete(doc); hws_run_free(&r); */
#ifndef HWSCOPE_TESTS_SUPPORT_H
#define HWSCOPE_TESTS_SUPPORT_H

/* cmocka needs these before its header */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "hwscope/bench.h"
#include "hwscope/llm.h"
#include "hwscope/plan.h"

typedef struct {
    int exit_code; /* the process's exit status; 128+N when killed by signal N */
    char *out;     /* stdout, NUL-terminated */
    char *err;     /* stderr, NUL-terminated */
} hws_run;

/* Runs $HWSCOPE_BIN with the arguments (NULL-terminated) and extra environment entries
 * ("KEY=VALUE", NULL-terminated list, may be NULL), stdin closed, 120 s limit. */
void hws_run_cli(hws_run *r, const char *const *env, ...);
void hws_run_free(hws_run *r);
/* Parses r->out as one JSON document; fails the test when it is not. */
cJSON *hws_run_json(const hws_run *r);

/* $HWSCOPE_FIXTURES/<name>, in a static buffer. */
const char *hws_fixture(const char *name);
/* Reads a whole file; fails the test when it cannot. Free the result. */
char *hws_read_file(const char *path);
/* Writes text to a new file /tmp/hws_test_XXXXXX; returns its path in a static buffer (valid
 * until the next call; unlink it when done). Fails the test when it cannot. */
const char *hws_temp_file(const char *text);
/* Writes len bytes of data to path (created or truncated); fails the test when it cannot. */
void hws_write_file(const char *path, const void *data, size_t len);

/* The object at a dotted path ("gpus.0.name"): numbers in the path index arrays. */
const cJSON *hws_json_at(const cJSON *doc, const char *path);
/* Asserts the JSON string at path equals want (NULL: must be JSON null). */
void hws_assert_json_str(const cJSON *doc, const char *path, const char *want);
/* Asserts the number at path is within tol of want. */
void hws_assert_json_num(const cJSON *doc, const char *path, double want, double tol);
void hws_assert_json_null(const cJSON *doc, const char *path);
/* Asserts a run was refused as bad usage or input: exit 2, nothing on stdout, and stderr naming
 * the fault (contains want). */
void hws_assert_bad_input(const hws_run *r, const char *want);
/* Asserts haystack contains needle, printing both when not. */
void hws_assert_contains(const char *haystack, const char *needle);

/* The catalog model's spec (the catalog loaded), and in *s the engine's shape of it. */
const hws_model_spec *hws_llm_shape_of(const char *model, hws_llm_shape *s);

/* The record of a benchmark run named key; fails the test when there is none. */
const hws_bench_record *hws_find_record(const hws_bench_result *r, const char *key);

/* The environment that makes hwscope see the scripted GPUs of
 * $HWSCOPE_FIXTURES/gpus/<script>.txt (or of the file script names, when it holds a '/')
 * through the fake NVML and CUDA libraries, plus `extra` (one more "KEY=VALUE", which wins over
 * the ones before it, or NULL). NULL-terminated, in a static buffer (valid until the next
 * call). */
const char *const *hws_fake_gpu_env(const char *script, const char *extra);

#endif
