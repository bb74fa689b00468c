/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for /etc/pyshare/APP.conf (src/config.c).
 *
 * config_parse of the raw input must not crash, and an error must come with a line number
 * inside the text and a reason. A text that parses and validates must format to a canonical
 * text that parses to the same configuration and formats to the same bytes again (a rerun of
 * setup rewrites nothing). Anything else aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_eq(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static bool config_eq(const struct app_config *a, const struct app_config *b)
{
        if (!str_eq(a->python, b->python) || !str_eq(a->group, b->group) || !str_eq(a->service, b->service) ||
            !str_eq(a->user, b->user) || !str_eq(a->prefix, b->prefix))
                return false;
        size_t n = strv_length(a->modules);
        if (strv_length(b->modules) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a->modules[i], b->modules[i]) != 0)
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > CONFIG_MAX_SIZE)
                return 0; /* file_read_at refuses larger files before parsing */

        struct app_config c = {0};
        unsigned line = 0;
        const char *why = NULL;
        int r = config_parse((const char *)data, size, &c, &line, &why);
        if (r < 0) {
                if (r != -EINVAL || !why || line == 0)
                        abort();
                /* The line number names a line of the text. */
                size_t lines = 1;
                for (size_t i = 0; i + 1 < size; i++)
                        if (data[i] == '\n')
                                lines++;
                if (line > lines)
                        abort();
                config_free(&c);
                return 0;
        }
        if (r != 0 || why)
                abort();

        const char *bad = NULL;
        if (config_validate(&c, &bad) < 0) {
                if (!bad)
                        abort();
                config_free(&c);
                return 0;
        }

        char *text = config_format(&c);
        struct app_config d = {0};
        if (config_parse(text, strlen(text), &d, &line, &why) != 0)
                abort();
        if (!config_eq(&c, &d))
                abort();
        if (config_validate(&d, &bad) != 0)
                abort();
        char *again = config_format(&d);
        if (strcmp(text, again) != 0)
                abort();

        free(text);
        free(again);
        config_free(&c);
        config_free(&d);
        return 0;
}
