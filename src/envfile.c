/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "envfile.h"

int env_value_check(const char *value)
{
        if (!value || strlen(value) > ENV_VALUE_MAX)
                return -EINVAL;
        const unsigned char *p = (const unsigned char *)value;
        while (*p) {
                uint32_t cp;
                size_t n = utf8_seq(p, &cp);
                /* C0 and C1 controls, DEL: a newline or CR would end the assignment. */
                if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
                        return -EINVAL;
                p += n;
        }
        return 0;
}

static bool utf8_valid(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                uint32_t cp;
                size_t n = utf8_seq(p, &cp);
                if (n == 0)
                        return false;
                p += n;
        }
        return true;
}

bool env_key_valid(const char *key)
{
        if (!key || !*key || strlen(key) > 255)
                return false;
        if (!((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
                return false;
        for (const char *p = key + 1; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                      *p == '_'))
                        return false;
        return true;
}

int env_encode(struct buf *b, const char *key, const char *value)
{
        if (!env_key_valid(key) || env_value_check(value) < 0)
                return -EINVAL;
        buf_puts(b, key);
        buf_puts(b, "=\"");
        for (const char *p = value; *p; p++) {
                if (strchr("\"\\`$", *p))
                        buf_append(b, "\\", 1);
                buf_append(b, p, 1);
        }
        buf_puts(b, "\"\n");
        return 0;
}

static bool is_ws(char c) { return c == ' ' || c == '\t'; }
static bool is_nl(char c) { return c == '\n' || c == '\r'; }

/* systemd keeps an assignment only when the key is valid and the value is valid UTF-8. */
static void push_assignment(char ***l, struct buf *key, struct buf *value, size_t value_ws)
{
        buf_append(key, "", 0);
        buf_append(value, "", 0);
        char *k = key->p;
        size_t kn = key->len;
        while (kn > 0 && is_ws(k[kn - 1]))
                k[--kn] = 0;
        value->p[value->len - value_ws] = 0;
        if (env_key_valid(k) && utf8_valid(value->p))
                strv_consume(l, xasprintf("%s=%s", k, value->p));
        key->len = value->len = 0;
}

int env_parse(const char *text, size_t len, char ***ret)
{
        enum {
                PRE_KEY,
                KEY,
                PRE_VALUE,
                VALUE,
                VALUE_ESCAPE,
                SINGLE_QUOTE,
                DOUBLE_QUOTE,
                DOUBLE_QUOTE_ESCAPE,
                COMMENT,
                COMMENT_ESCAPE,
        } state = PRE_KEY;
        _cleanup_buf_ struct buf key = {0}, value = {0};
        size_t value_ws = 0; /* trailing white space of an unquoted value, dropped at the end */
        char **l = xcalloc(1, sizeof(char *));

        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (c == 0) {
                        strv_free(l);
                        return -EINVAL;
                }
                switch (state) {
                case PRE_KEY:
                        if (c == '#' || c == ';')
                                state = COMMENT;
                        else if (!is_ws(c) && !is_nl(c)) {
                                state = KEY;
                                key.len = value.len = 0;
                                buf_append(&key, &c, 1);
                        }
                        break;
                case KEY:
                        if (is_nl(c)) {
                                state = PRE_KEY;
                                key.len = 0;
                        } else if (c == '=') {
                                state = PRE_VALUE;
                                value_ws = 0;
                        } else
                                buf_append(&key, &c, 1);
                        break;
                case PRE_VALUE:
                        if (is_nl(c)) {
                                state = PRE_KEY;
                                push_assignment(&l, &key, &value, 0);
                        } else if (c == '\'')
                                state = SINGLE_QUOTE;
                        else if (c == '"')
                                state = DOUBLE_QUOTE;
                        else if (c == '\\')
                                state = VALUE_ESCAPE;
                        else if (!is_ws(c)) {
                                state = VALUE;
                                buf_append(&value, &c, 1);
                        }
                        break;
                case VALUE:
                        if (is_nl(c)) {
                                state = PRE_KEY;
                                push_assignment(&l, &key, &value, value_ws);
                                value_ws = 0;
                        } else if (c == '\\') {
                                state = VALUE_ESCAPE;
                                value_ws = 0;
                        } else {
                                value_ws = is_ws(c) ? value_ws + 1 : 0;
                                buf_append(&value, &c, 1);
                        }
                        break;
                case VALUE_ESCAPE:
                        state = VALUE;
                        if (!is_nl(c))
                                buf_append(&value, &c, 1);
                        break;
                case SINGLE_QUOTE:
                        if (c == '\'')
                                state = PRE_VALUE;
                        else
                                buf_append(&value, &c, 1);
                        break;
                case DOUBLE_QUOTE:
                        if (c == '"')
                                state = PRE_VALUE;
                        else if (c == '\\')
                                state = DOUBLE_QUOTE_ESCAPE;
                        else
                                buf_append(&value, &c, 1);
                        break;
                case DOUBLE_QUOTE_ESCAPE:
                        state = DOUBLE_QUOTE;
                        if (strchr("\"\\`$", c))
                                buf_append(&value, &c, 1);
                        else if (c != '\n') {
                                buf_append(&value, "\\", 1);
                                buf_append(&value, &c, 1);
                        }
                        break;
                case COMMENT:
                        if (c == '\\')
                                state = COMMENT_ESCAPE;
                        else if (is_nl(c))
                                state = PRE_KEY;
                        break;
                case COMMENT_ESCAPE:
                        state = COMMENT;
                        break;
                }
        }
        if (state == PRE_VALUE || state == VALUE || state == VALUE_ESCAPE || state == SINGLE_QUOTE ||
            state == DOUBLE_QUOTE || state == DOUBLE_QUOTE_ESCAPE)
                push_assignment(&l, &key, &value, state == VALUE ? value_ws : 0);
        *ret = l;
        return 0;
}

const char *env_get(char *const *env, const char *key)
{
        size_t n = strlen(key);
        const char *found = NULL;
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
                        found = env[i] + n + 1;
        return found;
}
