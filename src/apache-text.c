/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apache-text.h"

void apache_add_problem(char ***l, const char *file, unsigned line, const char *fmt, ...)
{
        if (strv_length(*l) >= APACHE_MAX_ITEMS)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *msg = xvasprintf(fmt, ap);
        va_end(ap);
        strv_consume(l, xasprintf("%s:%u: %s", file, line, msg));
        free(msg);
}

void apache_push_problem(char ***l, char *msg)
{
        if (strv_length(*l) >= APACHE_MAX_ITEMS)
                free(msg);
        else
                strv_consume(l, msg);
}

char *apache_next_line(struct line_reader *lr, unsigned *ret_lineno)
{
        if (lr->p >= lr->end)
                return NULL;
        struct buf b = {0};
        *ret_lineno = lr->next_line;
        while (lr->p < lr->end) {
                const char *nl = memchr(lr->p, '\n', (size_t)(lr->end - lr->p));
                const char *e = nl ? nl : lr->end;
                size_t n = (size_t)(e - lr->p);
                if (n > 0 && lr->p[n - 1] == '\r')
                        n--;
                lr->next_line++;
                bool cont = n > 0 && lr->p[n - 1] == '\\';
                buf_append(&b, lr->p, cont ? n - 1 : n);
                lr->p = nl ? nl + 1 : lr->end;
                if (!cont || b.len > 64 * 1024)
                        break;
        }
        buf_append(&b, "", 1);
        return b.p;
}
