/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --json document: builder output and string escaping, checked literally. */
#include "helpers.h"
#include "output.h"

static char *escaped(const char *s)
{
        struct buf b = {0};
        json_escape(&b, s);
        return b.p;
}

#define assert_escapes_to(in, out)                                                                 \
        do {                                                                                       \
                _cleanup_free_ char *_e = escaped(in);                                             \
                assert_string_equal(_e, out);                                                      \
        } while (0)

/* True when s is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF). */
static bool utf8_wellformed(const unsigned char *s)
{
        while (*s) {
                unsigned char c = *s;
                size_t n;
                uint32_t cp;
                if (c < 0x80) {
                        s++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        n = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 4;
                        cp = c & 0x07;
                } else
                        return false;
                for (size_t i = 1; i < n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i] & 0x3f);
                }
                if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                s += n;
        }
        return true;
}

static void test_escape_literal(void **state)
{
        (void)state;
        assert_escapes_to("", "\"\"");
        assert_escapes_to("plain text", "\"plain text\"");
        assert_escapes_to("a\"b\\c", "\"a\\\"b\\\\c\"");
        assert_escapes_to("/etc/pyshare", "\"/etc/pyshare\""); /* '/' needs no escape */
        assert_escapes_to("l1\nl2\tx", "\"l1\\nl2\\tx\"");
        assert_escapes_to("\r\x01\x1f\x7f", "\"\\u000d\\u0001\\u001f\\u007f\"");
        assert_escapes_to("\x1b[31mred", "\"\\u001b[31mred\"");
}

static void test_escape_utf8(void **state)
{
        (void)state;
        /* Valid UTF-8 passes through as it is. */
        assert_escapes_to("é€😀", "\"é€😀\"");
        assert_escapes_to("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
        /* Invalid bytes become U+FFFD. */
        assert_escapes_to("\xff", "\"\\ufffd\"");
        assert_escapes_to("a\xffz", "\"a\\ufffdz\"");
        assert_escapes_to("\xfe\xfe", "\"\\ufffd\\ufffd\"");
        assert_escapes_to("x\xc3", "\"x\\ufffd\"");        /* truncated at the end */
        assert_escapes_to("\xc3(", "\"\\ufffd(\"");       /* bad continuation */
        assert_escapes_to("\x80z", "\"\\ufffdz\"");       /* lone continuation */
}

/* Every kind of invalid UTF-8, file names included, must give a document that decodes: a
 * consumer such as Python's json.loads(bytes) rejects the whole output otherwise. */
static void test_escape_invalid_utf8_never_passes_through(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "\xc0\xaf",         /* overlong '/' */
                "\xc1\xbf",         /* overlong */
                "\xe0\x80\xaf",     /* overlong, 3 bytes */
                "\xf0\x80\x80\xaf", /* overlong, 4 bytes */
                "\xed\xa0\x80",     /* surrogate U+D800 */
                "\xed\xbf\xbf",     /* surrogate U+DFFF */
                "\xf4\x90\x80\x80", /* above U+10FFFF */
                "\xf7\xbf\xbf\xbf", /* above U+10FFFF */
                "\xe2\x82",         /* truncated */
                "\xf0\x9f\x98",     /* truncated */
        };
        size_t failures = 0;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *name = xasprintf("file-%s.py", bad[i]);
                _cleanup_free_ char *e = escaped(name);
                if (utf8_wellformed((const unsigned char *)e) && strstr(e, "\\ufffd") &&
                    startswith(e, "\"file-") && endswith(e, ".py\""))
                        continue;
                failures++;
                print_error("json_escape passed invalid UTF-8 through: ");
                for (const unsigned char *p = (const unsigned char *)e; *p; p++)
                        print_error(*p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
                print_error("\n");
        }
        assert_int_equal(failures, 0);
}

static void test_builder_nested(void **state)
{
        (void)state;
        struct json j = {0};
        char *l[] = {"x", "y\"", NULL};
        char *none[] = {NULL};
        json_obj_begin(&j, NULL);
        json_str(&j, "app", "demo");
        json_int(&j, "count", -3);
        json_int(&j, "big", 9007199254740993LL);
        json_bool(&j, "ok", true);
        json_bool(&j, "bad", false);
        json_str(&j, "none", NULL);
        json_arr_begin(&j, "list");
        json_obj_begin(&j, NULL);
        json_str(&j, "a", "b");
        json_obj_end(&j);
        json_arr_begin(&j, NULL);
        json_arr_end(&j);
        json_int(&j, NULL, 1);
        json_str(&j, NULL, "s");
        json_arr_end(&j);
        json_strv(&j, "modules", l);
        json_strv(&j, "empty_list", none);
        json_strv(&j, "null_list", NULL);
        json_obj_begin(&j, "nested");
        json_obj_begin(&j, "deeper");
        json_bool(&j, "t", true);
        json_obj_end(&j);
        json_int(&j, "after", 0);
        json_obj_end(&j);
        json_obj_begin(&j, "empty");
        json_obj_end(&j);
        json_str(&j, "k\"ey", "v");
        json_obj_end(&j);
        assert_string_equal(j.b.p, "{\"app\":\"demo\",\"count\":-3,\"big\":9007199254740993,\"ok\":true,\"bad\":false,"
                                   "\"none\":null,\"list\":[{\"a\":\"b\"},[],1,\"s\"],\"modules\":[\"x\",\"y\\\"\"],"
                                   "\"empty_list\":[],\"null_list\":[],\"nested\":{\"deeper\":{\"t\":true},\"after\":0},"
                                   "\"empty\":{},\"k\\\"ey\":\"v\"}");
        assert_int_equal(j.depth, 0);
        buf_free(&j.b);
}

/* Nesting to the deepest level the builder keeps track of stays well-formed. */
static void test_builder_deep(void **state)
{
        (void)state;
        struct json j = {0};
        _cleanup_buf_ struct buf want = {0};
        const int levels = JSON_MAX_DEPTH - 1;
        for (int i = 0; i < levels; i++) {
                json_arr_begin(&j, NULL);
                buf_puts(&want, i >= 2 ? ",[" : "[");
                if (i > 0) {
                        json_int(&j, NULL, i);
                        buf_printf(&want, "%d", i);
                }
        }
        for (int i = 0; i < levels; i++) {
                json_arr_end(&j);
                buf_puts(&want, "]");
                if (i < levels - 1) {
                        json_int(&j, NULL, 100 + i);
                        buf_printf(&want, ",%d", 100 + i);
                }
        }
        assert_string_equal(j.b.p, want.p);
        buf_free(&j.b);
}

static char *capture_stdout(void (*fn)(void *), void *userdata)
{
        char path[] = "/tmp/pyshare-unit-stdout-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        fflush(stdout);
        int saved = dup(STDOUT_FILENO);
        assert_true(saved >= 0);
        assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
        fn(userdata);
        fflush(stdout);
        assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
        close(saved);
        lseek(fd, 0, SEEK_SET);
        struct buf b = {0};
        char chunk[512];
        ssize_t k;
        while ((k = read(fd, chunk, sizeof(chunk))) > 0)
                buf_append(&b, chunk, (size_t)k);
        buf_append(&b, "", 0);
        close(fd);
        return b.p;
}

static void flush_it(void *userdata)
{
        json_flush(userdata);
        json_finish(NULL);
}

static const struct json_failure failure = {
        .command = "setup", .app = "a", .message = "it broke", .cause = "not-found", .exit_status = 69,
};

static void flush_failed(void *userdata)
{
        json_flush(userdata);
        json_finish(&failure);
}

static void test_finish_error(void **state)
{
        (void)state;
        /* The verb's object gets the error as its last member. */
        struct json j = {0};
        json_obj_begin(&j, NULL);
        json_bool(&j, "changed", false);
        json_obj_end(&j);
        _cleanup_free_ char *out = capture_stdout(flush_failed, &j);
        assert_string_equal(out, "{\"changed\":false,\"error\":{\"message\":\"it broke\",\"cause\":\"not-found\","
                                 "\"errno\":null,\"exit_status\":69}}\n");
        /* Nothing reported yet: the error is the document, with the command and the app. */
        _cleanup_free_ char *out2 = capture_stdout(flush_failed, &j);
        assert_string_equal(out2, "{\"command\":\"setup\",\"app\":\"a\",\"error\":{\"message\":\"it broke\","
                                  "\"cause\":\"not-found\",\"errno\":null,\"exit_status\":69}}\n");
}

static void test_flush(void **state)
{
        (void)state;
        struct json j = {0};
        json_obj_begin(&j, NULL);
        json_str(&j, "a", "1");
        json_obj_end(&j);
        _cleanup_free_ char *out = capture_stdout(flush_it, &j);
        assert_string_equal(out, "{\"a\":\"1\"}\n");
        assert_null(j.b.p);
        assert_int_equal(j.depth, 0);

        /* The same struct builds a second document without a leading comma. */
        json_obj_begin(&j, NULL);
        json_bool(&j, "b", false);
        json_obj_end(&j);
        _cleanup_free_ char *out2 = capture_stdout(flush_it, &j);
        assert_string_equal(out2, "{\"b\":false}\n");

        /* Nothing built: nothing printed. */
        _cleanup_free_ char *out3 = capture_stdout(flush_it, &j);
        assert_string_equal(out3, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_literal),
                cmocka_unit_test(test_escape_utf8),
                cmocka_unit_test(test_escape_invalid_utf8_never_passes_through),
                cmocka_unit_test(test_builder_nested),
                cmocka_unit_test(test_builder_deep),
                cmocka_unit_test(test_flush),
                cmocka_unit_test(test_finish_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
