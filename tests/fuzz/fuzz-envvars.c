/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the envvars reader (src/envvars.c, apache_envvars_parse): the input is an
 * /etc/apache2/envvars. It must not crash, hang or leak; every variable it reports has a name,
 * a "FILE:LINE" (or "(environment)") where it was set, and each line it did not understand is
 * reported with its line number within the file. ". FILE" lines read below an empty root. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apache.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rootfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (rootfd < 0) {
                char dir[] = "/tmp/fuzz-envvars-XXXXXX";
                if (!mkdtemp(dir) || (rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        abort();
        }
        char *initial[] = {"PYTHONPATH=/opt/a", "HOME=/root", "APACHE_CONFDIR=/etc/apache2", NULL};
        struct apache_envvars e = {0};
        int r = apache_envvars_parse(rootfd, "/etc/apache2/envvars", (const char *)data, size, initial, &e);
        if (r < 0) {
                if (!memchr(data, 0, size)) /* only a NUL byte makes the text unreadable */
                        abort();
                return 0;
        }
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        for (size_t i = 0; i < e.n; i++) {
                const struct apache_var *v = &e.vars[i];
                if (!v->name || !*v->name || !v->where)
                        abort();
                if (v->value && strcmp(v->where, "(environment)") != 0 &&
                    !startswith(v->where, "/etc/apache2/envvars:"))
                        abort();
        }
        for (size_t i = 0; e.unparsed && e.unparsed[i]; i++) {
                if (!startswith(e.unparsed[i], "/etc/apache2/envvars:"))
                        abort();
                unsigned long n = strtoul(e.unparsed[i] + strlen("/etc/apache2/envvars:"), NULL, 10);
                if (n < 1 || n > lines)
                        abort();
        }
        char **exported = apache_envvars_exported(&e);
        for (size_t i = 0; exported[i]; i++)
                if (!strchr(exported[i], '='))
                        abort();
        strv_free(exported);
        apache_envvars_free(&e);
        return 0;
}
