/* test_safetensors.c - the safetensors reader and the weight loader: good files read back, bad
 * ones are errors that name the file and the offset or key at fault. */
#include "hws_test.h"

#include "format/safetensors.h"
#include "hwscope/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file image: 8-byte length, header, data. */
static size_t image(unsigned char *buf, const char *header, const void *data, size_t data_len) {
    uint64_t n = strlen(header);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, header, n);
    memcpy(buf + 8 + n, data, data_len);
    return 8 + n + data_len;
}

static void test_reads_f32_f16_bf16(void **state) {
    (void)state;
    unsigned char buf[512], data[16];
    float one = 1.0f, two = -2.5f;
    memcpy(data, &one, 4);
    memcpy(data + 4, &two, 4);
    data[8] = 0x00, data[9] = 0x3c;   /* F16 1.0 */
    data[10] = 0x01, data[11] = 0x00; /* F16 smallest subnormal */
    data[12] = 0x20, data[13] = 0xc0; /* BF16 -2.5 */
    size_t n = image(buf,
                     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                     "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                     "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,1],\"data_offsets\":[12,14]},"
                     "\"__metadata__\":{\"nhead\":\"4\"}}",
                     data, 14);
    hws_safetensors st;
    hws_error err;
    assert_int_equal(hws_safetensors_parse(buf, n, "t.safetensors", &st, &err), HWS_OK);
    assert_int_equal(st.n, 3);
    assert_string_equal(hws_safetensors_meta(&st, "nhead"), "4");
    float out[2];
    assert_int_equal(hws_safetensors_read(&st, "a", 1, (int64_t[]){2}, out, &err), HWS_OK);
    assert_true(out[0] == 1.0f && out[1] == -2.5f);
    assert_int_equal(hws_safetensors_read(&st, "h", 1, (int64_t[]){2}, out, &err), HWS_OK);
    assert_true(out[0] == 1.0f && out[1] == 0x1p-24f);
    assert_int_equal(hws_safetensors_read(&st, "b", 2, (int64_t[]){1, 1}, out, &err), HWS_OK);
    assert_true(out[0] == -2.5f);
    assert_int_equal(hws_safetensors_read(&st, "a", 1, (int64_t[]){3}, out, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "t.safetensors: tensor 'a'");
    assert_int_equal(hws_safetensors_read(&st, "zz", 1, (int64_t[]){3}, out, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "'zz' is missing");
    hws_safetensors_close(&st);
}

static void expect_bad(const unsigned char *buf, size_t n, const char *want) {
    hws_safetensors st;
    hws_error err = {{0}};
    assert_int_equal(hws_safetensors_parse(buf, n, "bad.safetensors", &st, &err), HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "bad.safetensors: ");
    hws_assert_contains(err.msg, want);
}

static void test_bad_files_name_offset_or_key(void **state) {
    (void)state;
    unsigned char buf[512], data[8] = {0};
    expect_bad(buf, image(buf, "", data, 0) - 3, "offset 0: file is 5 bytes");
    size_t n = image(buf, "{}", data, 0);
    buf[0] = 200; /* header length past the end */
    expect_bad(buf, n, "offset 0: header length 200");
    expect_bad(buf, image(buf, "{\"a\":", data, 0), "header is not valid JSON");
    expect_bad(buf, image(buf, "[1]", data, 0), "offset 8: header is not a JSON object");
    expect_bad(
        buf, image(buf, "{\"w\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", data, 4),
        "tensor 'w': missing or unknown dtype");
    expect_bad(
        buf,
        image(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", data, 4),
        "tensor 'w': shape holds a bad size");
    expect_bad(
        buf,
        image(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data, 4),
        "tensor 'w': data_offsets lie outside the file");
    expect_bad(
        buf,
        image(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", data, 8),
        "tensor 'w': data_offsets do not match");
    expect_bad(buf, image(buf, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data, 4),
               "tensor 'w': data_offsets is not [begin, end]");
    expect_bad(buf, image(buf, "{\"__metadata__\":{\"x\":1}}", data, 0),
               "__metadata__ 'x' is not a string");
}

static void test_loader_names_file_and_key(void **state) {
    (void)state;
    char path[] = "/tmp/hws_st_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unsigned char buf[512], data[4] = {0};
    size_t n = image(buf,
                     "{\"encoder.norm.weight\":{\"dtype\":\"F32\",\"shape\":[1],"
                     "\"data_offsets\":[0,4]},\"__metadata__\":{\"nhead\":\"1\"}}",
                     data, 4);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    hws_tfm_config cfg = hws_tfm_config_default();
    hws_tfm_weights *w = NULL;
    hws_error err;
    assert_int_equal(hws_tfm_weights_load(path, &cfg, &w, &err), HWS_ERR_INPUT);
    assert_null(w);
    hws_assert_contains(err.msg, path);
    hws_assert_contains(err.msg, "tensor 'encoder.norm.bias' is missing");
    unlink(path);
    assert_int_equal(hws_tfm_weights_load("/nonexistent/w.safetensors", &cfg, &w, &err),
                     HWS_ERR_INPUT);
    hws_assert_contains(err.msg, "/nonexistent/w.safetensors");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_f32_f16_bf16),
        cmocka_unit_test(test_bad_files_name_offset_or_key),
        cmocka_unit_test(test_loader_names_file_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
