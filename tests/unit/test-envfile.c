/* SPDX-License-Identifier: GPL-2.0-or-later */
/* EnvironmentFile values: what pyshare writes, and a reader with systemd 252's semantics
 * (src/basic/env-file.c, parse_env_file_internal). */
#include "envfile.h"
#include "helpers.h"

/* ---- env_encode / env_value_check --------------------------------------------------------- */

static void test_encode_literal(void **state)
{
        (void)state;
        _cleanup_buf_ struct buf b = {0};
        assert_int_equal(env_encode(&b, "KEY", "a\"b\\c`d$e"), 0);
        assert_string_equal(b.p, "KEY=\"a\\\"b\\\\c\\`d\\$e\"\n");

        /* Appends; plain values are quoted too; '#', ';', quotes and spaces are literal. */
        assert_int_equal(env_encode(&b, "PYTHONPATH", "/opt/venvs/app/src"), 0);
        assert_int_equal(env_encode(&b, "_x1", ""), 0);
        assert_int_equal(env_encode(&b, "S", " #x; 'y' é\\"), 0);
        assert_string_equal(b.p, "KEY=\"a\\\"b\\\\c\\`d\\$e\"\n"
                                 "PYTHONPATH=\"/opt/venvs/app/src\"\n"
                                 "_x1=\"\"\n"
                                 "S=\" #x; 'y' é\\\\\"\n");
}

static void test_value_check_refuses(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "a\nb",          /* newline */
                "a\rb",          /* CR */
                "a\tb",          /* tab */
                "\x01",          /* C0 */
                "\x1b[31m",      /* escape sequence */
                "a\x7f",         /* DEL */
                "\xc2\x85",      /* U+0085 NEL, C1 */
                "\xc2\x80",      /* U+0080, C1 */
                "\xc2\x9f",      /* U+009F, C1 */
                "\xff",          /* never valid */
                "a\xfe",         /* never valid */
                "\xc0\xaf",      /* overlong '/' */
                "\xe0\x80\xaf",  /* overlong '/', 3 bytes */
                "\xf0\x80\x80\xaf", /* overlong '/', 4 bytes */
                "\xed\xa0\x80",  /* surrogate U+D800 */
                "\xed\xbf\xbf",  /* surrogate U+DFFF */
                "\xf4\x90\x80\x80", /* above U+10FFFF */
                "\xe2\x82",      /* truncated € */
                "x\xc3",         /* truncated é at the end */
                "\x80",          /* lone continuation byte */
                "\xc3\x28",      /* bad continuation */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad value #%zu\n", i);
                assert_int_equal(env_value_check(bad[i]), -EINVAL);
                _cleanup_buf_ struct buf b = {0};
                assert_int_equal(env_encode(&b, "K", bad[i]), -EINVAL);
                assert_int_equal(b.len, 0); /* nothing half-written */
        }
        assert_int_equal(env_value_check(NULL), -EINVAL);
}

static void test_value_check_accepts(void **state)
{
        (void)state;
        static const char *const good[] = {
                "",
                " leading and trailing ",
                "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
                "é",                /* U+00E9 */
                "\xc2\xa0",         /* U+00A0, the first after C1 */
                "€",                /* 3 bytes */
                "\xed\x9f\xbf",     /* U+D7FF, below the surrogates */
                "\xee\x80\x80",     /* U+E000, above them */
                "\xf0\x9f\x98\x80", /* U+1F600, 4 bytes */
                "\xf4\x8f\xbf\xbf", /* U+10FFFF, the last */
                "\xe2\x80\xa8",     /* U+2028 line separator: not a control for systemd */
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                print_message("good value #%zu\n", i);
                assert_int_equal(env_value_check(good[i]), 0);
        }
}

static void test_value_check_size(void **state)
{
        (void)state;
        _cleanup_free_ char *v = xmalloc(32 * 1024 + 2);
        memset(v, 'x', 32 * 1024 + 1);
        v[32 * 1024] = 0;
        assert_int_equal(env_value_check(v), 0);
        v[32 * 1024] = 'x';
        v[32 * 1024 + 1] = 0;
        assert_int_equal(env_value_check(v), -EINVAL);
        _cleanup_buf_ struct buf b = {0};
        assert_int_equal(env_encode(&b, "K", v), -EINVAL);
}

static void test_key_valid(void **state)
{
        (void)state;
        static const char *const good[] = {"A", "_", "PYTHONPATH", "a1", "_x_9", "lower"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(env_key_valid(good[i]));
        static const char *const bad[] = {"", "1A", "A-B", "A B", "A=", "export X", "A.B", "é", "$A", "A\n"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                print_message("bad key \"%s\"\n", bad[i]);
                assert_false(env_key_valid(bad[i]));
                _cleanup_buf_ struct buf b = {0};
                assert_int_equal(env_encode(&b, bad[i], "v"), -EINVAL);
                assert_int_equal(b.len, 0);
        }
        assert_false(env_key_valid(NULL));
}

/* ---- env_parse: systemd's rules --------------------------------------------------------- */

static char **parse(const char *text)
{
        char **l = NULL;
        assert_int_equal(env_parse(text, strlen(text), &l), 0);
        assert_non_null(l);
        return l;
}

#define assert_parses_to(text, ...)                                                                \
        do {                                                                                       \
                _cleanup_strv_ char **_l = parse(text);                                            \
                assert_strv_equal(_l, __VA_ARGS__);                                                \
        } while (0)
#define assert_parses_to_nothing(text)                                                             \
        do {                                                                                       \
                _cleanup_strv_ char **_l = parse(text);                                            \
                assert_strv_empty(_l);                                                             \
        } while (0)

static void test_parse_export_and_comments(void **state)
{
        (void)state;
        /* "export X" is not a valid key: systemd drops the line. */
        assert_parses_to("export X=1\nY=2\n", "Y=2");
        assert_parses_to("# comment\n; other comment\n   # indented comment\nA=1\n", "A=1");
        assert_parses_to("#A=1\n;B=2\nC=3", "C=3");
        /* A comment line ends at its newline even with a quote in it (were it an assignment,
         * the quote would swallow the next line). */
        assert_parses_to("; x='\nA=1\n'\n", "A=1");
        assert_parses_to("# x=\"\nA=1\n\"\n", "A=1");
        /* '#' after the start of a value is part of it. */
        assert_parses_to("A=x # not a comment\n", "A=x # not a comment");
        /* systemd 252 (Debian 12): a comment ending in a backslash continues on the next line
         * (v254 changed this), so A=1 is still comment. */
        assert_parses_to("# c \\\nA=1\nB=2\n", "B=2");
}

static void test_parse_unquoted(void **state)
{
        (void)state;
        assert_parses_to("A=b c  \n", "A=b c");
        assert_parses_to("A=b c \t \nB=x", "A=b c", "B=x");
        assert_parses_to("A=   lead\n", "A=lead");
        /* An escaped character is kept as it is, an escaped space is not trailing white space. */
        assert_parses_to("A=a\\ b\\#c\\\\\n", "A=a b#c\\");
        assert_parses_to("A=x\\ \n", "A=x ");
        assert_parses_to("A=x\\  \n", "A=x ");
        /* No $ expansion, quotes in the middle of an unquoted value are literal. */
        assert_parses_to("A=$HOME\n", "A=$HOME");
        assert_parses_to("A=x\"y\"\n", "A=x\"y\"");
        /* A backslash-newline joins the next line. */
        assert_parses_to("A=one\\\ntwo\nB=3\n", "A=onetwo", "B=3");
        assert_parses_to("A=\\\nx\n", "A=x");
        /* Empty values. */
        assert_parses_to("A=\nB=", "A=", "B=");
        assert_parses_to("A=   \n", "A=");
}

static void test_parse_single_quotes(void **state)
{
        (void)state;
        /* Literal: no escapes at all, "$" and "\"" kept. */
        assert_parses_to("A='x\\\"$y'\n", "A=x\\\"$y");
        assert_parses_to("A='a \\n b'\n", "A=a \\n b");
        /* Across lines, with the newline kept. */
        assert_parses_to("A='x\ny'\nB=1\n", "A=x\ny", "B=1");
        /* White space inside quotes is kept. */
        assert_parses_to("A='  x  '  \n", "A=  x  ");
        /* Unterminated at the end of the file: what was read. */
        assert_parses_to("A='abc", "A=abc");
}

static void test_parse_double_quotes(void **state)
{
        (void)state;
        /* Only \" \\ \` \$ are escapes; any other backslash stays. */
        assert_parses_to("A=\"a\\\"b\\\\c\\`d\\$e\"\n", "A=a\"b\\c`d$e");
        assert_parses_to("A=\"a\\nb\\tc\\'d\"\n", "A=a\\nb\\tc\\'d");
        /* A backslash-newline inside double quotes is removed. */
        assert_parses_to("A=\"x\\\ny\"\n", "A=xy");
        /* A plain newline inside double quotes is kept. */
        assert_parses_to("A=\"x\ny\"\n", "A=x\ny");
        assert_parses_to("A=\"  spaced  \"\n", "A=  spaced  ");
        assert_parses_to("A=\"\"\n", "A=");
        assert_parses_to("A=\"$HOME\"\n", "A=$HOME");
}

static void test_parse_concatenation(void **state)
{
        (void)state;
        assert_parses_to("A=\"x\"y\n", "A=xy");
        assert_parses_to("A=\"x\" 'y' z\n", "A=xyz");
        assert_parses_to("A='a'\"b\"\n", "A=ab");
        assert_parses_to("A=\"x\"  \n", "A=x");
        /* No inline comments: after a closing quote, '#' starts more value (systemd#12527). */
        assert_parses_to("A=\"x\" # c\n", "A=x# c");
}

static void test_parse_keys(void **state)
{
        (void)state;
        /* White space before '=' ends the key; before the key it is skipped. */
        assert_parses_to("A =1\n", "A=1");
        assert_parses_to("A\t =1\n", "A=1");
        assert_parses_to("   A=1\n", "A=1");
        /* Invalid keys are dropped, the rest of the file still counts. */
        assert_parses_to("1A=x\nA-B=y\nA B=z\nC=ok\n", "C=ok");
        /* A line without '=' is ignored. */
        assert_parses_to("garbage line\nB=2\n", "B=2");
        assert_parses_to_nothing("NOVALUE");
        assert_parses_to_nothing("A");
        /* "\r" ends lines as "\n" does. */
        assert_parses_to("A=1\r\nB=2\r\n", "A=1", "B=2");
        assert_parses_to("A=1\rB=2", "A=1", "B=2");
        /* A value with invalid UTF-8 is not kept. */
        assert_parses_to("A=\xff\nB=ok\n", "B=ok");
}

static void test_parse_last_wins(void **state)
{
        (void)state;
        _cleanup_strv_ char **l = parse("A=1\nB=x\nA=2\n");
        assert_strv_equal(l, "A=1", "B=x", "A=2");
        assert_string_equal(env_get(l, "A"), "2");
        assert_string_equal(env_get(l, "B"), "x");
        assert_null(env_get(l, "C"));
        assert_null(env_get(l, "")); /* no "=..." entry */
        _cleanup_strv_ char **m = parse("AB=1\n");
        assert_null(env_get(m, "A")); /* a key is not matched by its prefix */
        assert_string_equal(env_get(m, "AB"), "1");
        assert_null(env_get(NULL, "A"));
}

static void test_parse_nul_refused(void **state)
{
        (void)state;
        static const char text[] = "A=1\nB=x\0y\n";
        char **l = (char **)0x1;
        assert_int_equal(env_parse(text, sizeof(text) - 1, &l), -EINVAL);
        assert_ptr_equal(l, (char **)0x1);
        /* len, not the NUL, ends the text: a prefix parses. */
        _cleanup_strv_ char **p = NULL;
        assert_int_equal(env_parse(text, 5, &p), 0);
        assert_strv_equal(p, "A=1");
        /* An empty text is an empty list, not NULL. */
        _cleanup_strv_ char **e = NULL;
        assert_int_equal(env_parse("", 0, &e), 0);
        assert_non_null(e);
        assert_strv_empty(e);
}

/* ---- round trip: whatever env_encode writes, systemd's reader gives back ------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t)(rng_state >> 11);
}

static void check_round_trip(const char *key, const char *value)
{
        _cleanup_buf_ struct buf b = {0};
        if (env_encode(&b, key, value) != 0) {
                print_error("env_encode refused key \"%s\" value \"%s\"\n", key, value);
                fail();
        }
        char **l = NULL;
        assert_int_equal(env_parse(b.p, b.len, &l), 0);
        _cleanup_free_ char *want = xasprintf("%s=%s", key, value);
        if (strv_length(l) != 1 || strcmp(l[0], want) != 0) {
                print_error("round trip failed for encoded text: %s", b.p);
                print_strv("parsed", l);
                strv_free(l);
                fail();
        }
        strv_free(l);
}

static void test_round_trip(void **state)
{
        (void)state;
        /* Every printable ASCII character alone, doubled, and next to each special one. */
        for (int c = 0x20; c < 0x7f; c++) {
                char v[8];
                snprintf(v, sizeof(v), "%c", c);
                check_round_trip("K", v);
                snprintf(v, sizeof(v), "%c%c", c, c);
                check_round_trip("K", v);
                static const char specials[] = "\"\\`$' #;=";
                for (const char *s = specials; *s; s++) {
                        snprintf(v, sizeof(v), "%c%c%c", *s, c, *s);
                        check_round_trip("K", v);
                }
        }
        /* All printable ASCII in one value, forwards and backwards. */
        char all[96], rev[96];
        for (int c = 0x20; c < 0x7f; c++) {
                all[c - 0x20] = (char)c;
                rev[0x7e - c] = (char)c;
        }
        all[95] = rev[95] = 0;
        check_round_trip("ALL", all);
        check_round_trip("REV", rev);

        static const char *const fixed[] = {"",    " ",  "  x  ", "\\",    "\\\\",  "x\\",  "\"",
                                            "'",   "''", "\"\"",  "$HOME", "${X}",  "`id`", "#",
                                            ";x",  "a=b", "\\\"", "\\$",   "é€😀", "\xc2\xa0", "\xe2\x80\xa8"};
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                check_round_trip("F", fixed[i]);

        /* Generated values: printable ASCII mixed with multibyte UTF-8. */
        static const char *const multibyte[] = {"é", "ß", "€", "ñ", "😀", "\xf4\x8f\xbf\xbf", "\xc2\xa0", "中", "\xef\xbb\xbf"};
        static const char keychars[] = "_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        for (int n = 0; n < 20000; n++) {
                char key[16], value[256];
                size_t kl = 1 + rnd() % 12;
                for (size_t i = 0; i < kl; i++)
                        key[i] = keychars[rnd() % (i == 0 ? 53 : sizeof(keychars) - 1)];
                key[kl] = 0;
                size_t len = 0, target = rnd() % 60;
                while (len < target) {
                        if (rnd() % 5 == 0) {
                                const char *m = multibyte[rnd() % ELEMENTSOF(multibyte)];
                                memcpy(value + len, m, strlen(m));
                                len += strlen(m);
                        } else
                                value[len++] = (char)(0x20 + rnd() % 95);
                }
                value[len] = 0;
                check_round_trip(key, value);
        }
}

/* Many assignments in one file come back in order. */
static void test_round_trip_file(void **state)
{
        (void)state;
        static const char *const values[] = {"plain", "a\"b", "c\\", "$X", " ", "", "'q'", "é", "x\\\\y"};
        _cleanup_buf_ struct buf b = {0};
        _cleanup_strv_ char **want = NULL;
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                _cleanup_free_ char *key = xasprintf("K%zu", i);
                assert_int_equal(env_encode(&b, key, values[i]), 0);
                strv_consume(&want, xasprintf("%s=%s", key, values[i]));
        }
        _cleanup_strv_ char **l = NULL;
        assert_int_equal(env_parse(b.p, b.len, &l), 0);
        assert_int_equal(strv_length(l), ELEMENTSOF(values));
        for (size_t i = 0; i < ELEMENTSOF(values); i++)
                assert_string_equal(l[i], want[i]);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encode_literal),
                cmocka_unit_test(test_value_check_refuses),
                cmocka_unit_test(test_value_check_accepts),
                cmocka_unit_test(test_value_check_size),
                cmocka_unit_test(test_key_valid),
                cmocka_unit_test(test_parse_export_and_comments),
                cmocka_unit_test(test_parse_unquoted),
                cmocka_unit_test(test_parse_single_quotes),
                cmocka_unit_test(test_parse_double_quotes),
                cmocka_unit_test(test_parse_concatenation),
                cmocka_unit_test(test_parse_keys),
                cmocka_unit_test(test_parse_last_wins),
                cmocka_unit_test(test_parse_nul_refused),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_round_trip_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
