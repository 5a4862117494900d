/* test_file.c - hws_file_read: regular files, pipes, the size limit, directories, missing
 * files. */
#include "hws_test.h"

#include "util/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A FIFO with no writer and a character device that never ends: neither blocks nor loops. */
static void test_fifo_and_device(void **state) {
    (void)state;
    char fifo[80], *text;
    size_t len;
    hws_error err = {""};
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(hws_file_read(fifo, 100, &text, &len, &err), HWS_OK); /* no writer: empty */
    assert_int_equal(len, 0);
    free(text);
    int fd;
    uint64_t size;
    assert_int_equal(hws_file_open(fifo, false, &fd, &size, &err), HWS_ERR_INPUT);
    assert_int_equal(fd, -1);
    hws_assert_contains(err.msg, "a pipe (FIFO), not a regular file");
    unlink(fifo);
    assert_int_equal(hws_file_read("/dev/zero", 100, &text, &len, &err), HWS_ERR_INPUT);
    assert_null(text);
    hws_assert_contains(err.msg, "/dev/zero: a character device, not a regular file");
}

/* /proc files state no size: read to their end within the bound. */
static void test_pseudo_file(void **state) {
    (void)state;
    char *text;
    size_t len;
    hws_error err = {""};
    assert_int_equal(hws_file_read("/proc/self/status", 1 << 20, &text, &len, &err), HWS_OK);
    assert_true(len > 0 && strstr(text, "Name:") != NULL);
    free(text);
    assert_int_equal(hws_file_read("/proc/self/status", 8, &text, &len, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "larger than 8 bytes");
}

static void test_pread_short(void **state) {
    (void)state;
    int fd;
    uint64_t size;
    char buf[16];
    hws_error err = {""};
    assert_int_equal(hws_file_open(path, false, &fd, &size, &err), HWS_OK);
    assert_int_equal(size, 10);
    assert_int_equal(hws_file_pread(fd, path, buf, 4, 6, &err), HWS_OK);
    assert_memory_equal(buf, "6789", 4);
    assert_int_equal(hws_file_pread(fd, path, buf, 8, 6, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "offset 10: the file ends 4 bytes short");
    close(fd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_directory_and_missing),
        cmocka_unit_test(test_fifo_and_device),
        cmocka_unit_test(test_pseudo_file),
        cmocka_unit_test(test_pread_short),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
