/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "output.h"

char *printable(const char *s)
{
        if (!s)
                return NULL;
        struct buf b = {0};
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        buf_printf(&b, "\\x%02x", *p);
                else
                        buf_append(&b, p, 1);
        }
        buf_append(&b, "", 0);
        return b.p;
}

void json_escape(struct buf *b, const char *s)
{
        buf_append(b, "\"", 1);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p;
                if (c == '"' || c == '\\') {
                        buf_append(b, "\\", 1);
                        buf_append(b, p, 1);
                } else if (c == '\n')
                        buf_puts(b, "\\n");
                else if (c == '\t')
                        buf_puts(b, "\\t");
                else if (c < 0x20 || c == 0x7f)
                        buf_printf(b, "\\u%04x", c);
                else if (c < 0x80)
                        buf_append(b, p, 1);
                else {
                        uint32_t cp;
                        size_t n = utf8_seq(p, &cp);
                        if (n > 0) {
                                buf_append(b, p, n);
                                p += n - 1;
                        } else
                                buf_puts(b, "\\ufffd");
                }
        }
        buf_append(b, "\"", 1);
}

static void json_key(struct json *j, const char *key)
{
        if (j->need_comma[j->depth])
                buf_append(&j->b, ",", 1);
        j->need_comma[j->depth] = true;
        if (key) {
                json_escape(&j->b, key);
                buf_append(&j->b, ":", 1);
        }
}

static void json_open(struct json *j, const char *key, char c)
{
        json_key(j, key);
        buf_append(&j->b, &c, 1);
        if (j->depth + 1 < JSON_MAX_DEPTH)
                j->depth++;
        j->need_comma[j->depth] = false;
}

static void json_close(struct json *j, char c)
{
        buf_append(&j->b, &c, 1);
        if (j->depth > 0)
                j->depth--;
}

void json_obj_begin(struct json *j, const char *key) { json_open(j, key, '{'); }
void json_obj_end(struct json *j) { json_close(j, '}'); }
void json_arr_begin(struct json *j, const char *key) { json_open(j, key, '['); }
void json_arr_end(struct json *j) { json_close(j, ']'); }

void json_str(struct json *j, const char *key, const char *value)
{
        json_key(j, key);
        if (value)
                json_escape(&j->b, value);
        else
                buf_puts(&j->b, "null");
}

void json_bool(struct json *j, const char *key, bool value)
{
        json_key(j, key);
        buf_puts(&j->b, value ? "true" : "false");
}

void json_int(struct json *j, const char *key, long long value)
{
        json_key(j, key);
        buf_printf(&j->b, "%lld", value);
}

void json_strv(struct json *j, const char *key, char *const *l)
{
        json_arr_begin(j, key);
        for (size_t i = 0; l && l[i]; i++)
                json_str(j, NULL, l[i]);
        json_arr_end(j);
}

/* The document, held until json_finish knows whether the command failed. */
static struct buf held;

void json_flush(struct json *j)
{
        if (j->b.len)
                buf_append(&held, j->b.p, j->b.len);
        buf_free(&j->b);
        j->depth = 0;
        j->need_comma[0] = false;
}

static void json_error_members(struct json *j, const struct json_failure *f)
{
        json_obj_begin(j, "error");
        json_str(j, "message", f->message ? f->message : "a problem was found: the rest of this object says which");
        json_str(j, "cause", f->cause);
        json_str(j, "errno", f->errno_text);
        json_int(j, "exit_status", f->exit_status);
        json_obj_end(j);
}

void json_finish(const struct json_failure *f)
{
        struct json j = {0};
        if (f && held.len && held.p[held.len - 1] == '}') {
                /* The verb's object, with the error as its last member. */
                j.b = held;
                j.b.len--;
                j.depth = 1;
                j.need_comma[1] = true;
                held = (struct buf){0};
                json_error_members(&j, f);
                json_obj_end(&j);
        } else if (f) {
                json_obj_begin(&j, NULL);
                json_str(&j, "command", f->command);
                json_str(&j, "app", f->app);
                json_error_members(&j, f);
                json_obj_end(&j);
        }
        if (held.len)
                printf("%.*s\n", (int)held.len, held.p);
        if (j.b.len)
                printf("%.*s\n", (int)j.b.len, j.b.p);
        fflush(stdout);
        buf_free(&held);
        buf_free(&j.b);
}
