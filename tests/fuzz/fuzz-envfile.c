/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the EnvironmentFile code (src/envfile.c).
 *
 * 1. The raw input is an EnvironmentFile: env_parse must not crash, and what it returns must
 *    be "KEY=VALUE" entries with a valid key and valid UTF-8.
 * 2. The input split at its first NUL is a key and a value (no NUL: key "K", the whole input
 *    the value). Whatever env_encode accepts, systemd's reader must give back exactly: one
 *    assignment, the same key, the same bytes. Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool utf8_ok(const char *s)
{
        /* env_value_check also refuses control characters; a value that passes the parser
         * may hold them (a quoted newline), so only the UTF-8 part is checked here. */
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                unsigned char c = *p;
                size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
                if (n == 0)
                        return false;
                uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3fu);
                }
                if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                p += n;
        }
        return true;
}

static void check_parse_raw(const uint8_t *data, size_t size)
{
        char **l = NULL;
        if (env_parse((const char *)data, size, &l) < 0) {
                /* Only a NUL byte makes the text unreadable. */
                if (!memchr(data, 0, size))
                        abort();
                return;
        }
        if (!l)
                abort();
        for (size_t i = 0; l[i]; i++) {
                const char *eq = strchr(l[i], '=');
                if (!eq)
                        abort();
                char *key = xstrndup(l[i], (size_t)(eq - l[i]));
                if (!env_key_valid(key) || !utf8_ok(eq + 1))
                        abort();
                /* env_get finds the last assignment of a key. */
                const char *v = env_get(l, key);
                if (!v)
                        abort();
                bool later = false;
                for (size_t j = i + 1; l[j]; j++)
                        if (strncmp(l[j], key, strlen(key)) == 0 && l[j][strlen(key)] == '=')
                                later = true;
                if (!later && v != eq + 1)
                        abort();
                free(key);
        }
        strv_free(l);
}

static void check_round_trip(const char *key, const char *value)
{
        struct buf b = {0};
        int r = env_encode(&b, key, value);
        if (r < 0) {
                if (b.len != 0) /* nothing half-written */
                        abort();
                if (env_key_valid(key) && env_value_check(value) == 0)
                        abort();
                buf_free(&b);
                return;
        }
        if (!env_key_valid(key) || env_value_check(value) < 0)
                abort();
        /* One line, ending in the only newline. */
        if (!b.p || b.len == 0 || b.p[b.len - 1] != '\n' || memchr(b.p, '\n', b.len - 1) || strchr(b.p, '\r'))
                abort();
        char **l = NULL;
        if (env_parse(b.p, b.len, &l) < 0 || !l)
                abort();
        char *want = xasprintf("%s=%s", key, value);
        if (!l[0] || l[1] || strcmp(l[0], want) != 0)
                abort();
        const char *got = env_get(l, key);
        if (!got || strcmp(got, value) != 0)
                abort();
        /* Twice in one file: both come back, the last wins. */
        char *once = xstrdup(b.p);
        buf_puts(&b, once);
        free(once);
        strv_free(l);
        l = NULL;
        if (env_parse(b.p, b.len, &l) < 0 || strv_length(l) != 2 || strcmp(l[0], want) != 0 || strcmp(l[1], want) != 0)
                abort();
        free(want);
        strv_free(l);
        buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check_parse_raw(data, size);

        const uint8_t *nul = memchr(data, 0, size);
        char *key, *value;
        if (nul) {
                key = xstrndup((const char *)data, (size_t)(nul - data));
                /* The value stops at the next NUL, as a C string would. */
                value = xstrndup((const char *)nul + 1, size - (size_t)(nul - data) - 1);
        } else {
                key = xstrdup("K");
                value = xstrndup((const char *)data, size);
        }
        check_round_trip(key, value);
        free(key);
        free(value);
        return 0;
}
