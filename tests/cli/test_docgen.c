/* test_docgen.c - the man page and the bash/zsh completions are generated from the parser's own
 * option tables: the built files are what `hwscope __generate` prints now, and every option
 * each command's --help lists is in all three; -V, --version and `version` agree. */
#include "hws_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *generated(const char *what) {
    hws_run r;
    hws_run_cli(&r, NULL, "__generate", what, NULL);
    assert_int_equal(r.exit_code, 0);
    char *out = r.out;
    r.out = NULL;
    hws_run_free(&r);
    return out;
}

static char *built(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", getenv("HWSCOPE_BUILD_DIR"), name);
    return hws_read_file(path);
}

/* The built files are the generator's output now (they cannot be stale). */
static void test_built_files_current(void **state) {
    (void)state;
    const char *what[] = {"man", "bash", "zsh"},
               *files[] = {"hwscope.1", "hwscope.bash", "_hwscope"};
    for (int i = 0; i < 3; i++) {
        char *now = generated(what[i]), *file = built(files[i]);
        assert_string_equal(now, file);
        free(now);
        free(file);
    }
}

/* Checks that every "  --name" line of `hwscope ARGS --help` is in the man page (roff: \-\-)
 * and both completions; returns how many options it found. */
static int check_options(const char *cmd, const char *sub, const char *man, const char *bash,
                         const char *zsh) {
    hws_run r;
    if (sub != NULL)
        hws_run_cli(&r, NULL, cmd, sub, "--help", NULL);
    else
        hws_run_cli(&r, NULL, cmd, "--help", NULL);
    assert_int_equal(r.exit_code, 0);
    int found = 0;
    for (const char *p = strstr(r.out, "\n  --"); p != NULL; p = strstr(p + 1, "\n  --")) {
        char name[64], roff[160], word[80];
        if (sscanf(p + 5, "%63[a-z0-9-]", name) != 1)
            continue;
        snprintf(word, sizeof word, "--%s ", name);
        hws_assert_contains(bash, word);
        hws_assert_contains(zsh, word);
        size_t k = 0;
        k += (size_t)snprintf(roff, sizeof roff, ".BR \\-\\-");
        for (const char *c = name; *c != '\0' && k + 3 < sizeof roff; c++) {
            if (*c == '-')
                roff[k++] = '\\';
            roff[k++] = *c;
        }
        roff[k] = '\0';
        hws_assert_contains(man, roff);
        found++;
    }
    hws_run_free(&r);
    return found;
}

static void test_every_option_documented(void **state) {
    (void)state;
    char *man = generated("man"), *bash = generated("bash"), *zsh = generated("zsh");
    const char *cmds[] = {"report",  "info", "bench", "plan",  "advise",
                          "catalog", "top",  "log",   "serve", "version"};
    int total = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char heading[64];
        snprintf(heading, sizeof heading, ".SS \"hwscope %s\"", cmds[i]);
        hws_assert_contains(man, heading);
        total += check_options(cmds[i], NULL, man, bash, zsh);
    }
    total += check_options("bench", "transformer", man, bash, zsh);
    assert_true(total > 30); /* plan and advise alone have more */
    hws_assert_contains(man, ".SS \"hwscope bench transformer\"");
    hws_assert_contains(
        bash, "words=\"report info bench plan advise catalog top log serve version -V --version\"");
    free(man);
    free(bash);
    free(zsh);
}

static void test_version_spellings(void **state) {
    (void)state;
    const char *spellings[] = {"-V", "--version", "version"};
    char *first = NULL;
    for (int i = 0; i < 3; i++) {
        hws_run r;
        hws_run_cli(&r, NULL, spellings[i], NULL);
        assert_int_equal(r.exit_code, 0);
        hws_assert_contains(r.out, "hwscope ");
        if (first == NULL) {
            first = r.out;
            r.out = NULL;
        } else {
            assert_string_equal(first, r.out);
        }
        hws_run_free(&r);
    }
    free(first);
    hws_run r;
    hws_run_cli(&r, NULL, "version", "--json", NULL);
    assert_int_equal(r.exit_code, 0);
    cJSON *doc = hws_run_json(&r);
    hws_assert_json_str(doc, "schema", "hwscope.version/1");
    cJSON_Delete(doc);
    hws_run_free(&r);
    hws_run_cli(&r, NULL, "__generate", "pdf", NULL);
    hws_assert_bad_input(&r, "'pdf': say man, bash or zsh");
    hws_run_free(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_built_files_current),
        cmocka_unit_test(test_every_option_documented),
        cmocka_unit_test(test_version_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
