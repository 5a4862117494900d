/* test_file.c - hws_file_read: regular files, pipes, the size limit, directories, missing
 * files. */
#include "hws_test.h"

#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/hws_file_XXXXXX";
static char path[64];

static int setup(void **state) {
    (void)state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/text", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs("0123456789", f);
    return fclose(f);
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_regular_file(void **state) {
    (void)state;
    char *text;
    size_t len;
    hws_error err = {""};
    assert_int_equal(hws_file_read(path, 10, &text, &len, &err), HWS_OK);
    assert_int_equal(len, 10);
    assert_string_equal(text, "0123456789");
    free(text);
}

static void test_too_large(void **state) {
    (void)state;
    char *text;
    size_t len;
    hws_error err = {""};
    assert_int_equal(hws_file_read(path, 9, &text, &len, &err), HWS_ERR_INPUT);
    assert_null(text);
    hws_assert_contains(err.msg, path);
    hws_assert_contains(err.msg, "larger than 9 bytes");
}

/* Reads /dev/fd/N of a pipe that a child fills with n bytes; returns hws_file_read's status. */
static hws_status read_pipe(size_t n, size_t max_bytes, char **text, size_t *len, hws_error *err) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char block[4096];
        memset(block, 'x', sizeof block);
        for (size_t done = 0; done < n;) {
            size_t k = n - done < sizeof block ? n - done : sizeof block;
            ssize_t w = write(fds[1], block, k);
            if (w <= 0)
                _exit(1);
            done += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    char name[32];
    snprintf(name, sizeof name, "/dev/fd/%d", fds[0]);
    hws_status st = hws_file_read(name, max_bytes, text, len, err);
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return st;
}

/* A pipe has no size up front: it is read to its end, past the first buffer, within the limit. */
static void test_pipe(void **state) {
    (void)state;
    char *text;
    size_t len;
    hws_error err = {""};
    assert_int_equal(read_pipe(200000, 300000, &text, &len, &err), HWS_OK);
    assert_int_equal(len, 200000);
    assert_int_equal(strlen(text), 200000);
    free(text);
    assert_int_equal(read_pipe(200000, 150000, &text, &len, &err), HWS_ERR_INPUT);
    assert_null(text);
    hws_assert_contains(err.msg, "larger than 150000 bytes");
}

static void test_directory_and_missing(void **state) {
    (void)state;
    char *text;
    size_t len;
    hws_error err = {""};
    assert_int_equal(hws_file_read(dir, 100, &text, &len, &err), HWS_ERR_INPUT);
    assert_null(text);
    hws_assert_contains(err.msg, dir);
    hws_assert_contains(err.msg, "not a regular file");
    char missing[80];
    snprintf(missing, sizeof missing, "%s/none", dir);
    errno = 0;
    assert_int_equal(hws_file_read(missing, 100, &text, &len, &err), HWS_ERR_INPUT);
    assert_int_equal(errno, ENOENT);
    hws_assert_contains(err.msg, "/none: cannot open");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_directory_and_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
