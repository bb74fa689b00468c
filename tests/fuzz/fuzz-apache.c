/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the Apache configuration reader (src/apache-conf.c, apache_config_read):
 * the input is httpd.conf in an otherwise empty root (Include lines find nothing, or the file
 * itself). It must not crash, hang or leak; whatever it finds stays within its caps, and every
 * daemon, script and problem names where it came from. The same bytes then go through the
 * ELF reader that finds mod_wsgi.so's libpython. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apache.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int rootfd = -1;

/* "FILE:LINE..." where FILE is one of the files read (an Include may name the same file by
 * another path, so not necessarily httpd.conf's). */
static bool from_a_file(const struct apache_config *c, const char *where)
{
        for (size_t i = 0; c->files && c->files[i]; i++)
                if (startswith(where, c->files[i]) && where[strlen(c->files[i])] == ':')
                        return true;
        return startswith(where, "(main)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (rootfd < 0) {
                char dir[] = "/tmp/fuzz-apache-XXXXXX";
                if (!mkdtemp(dir) || (rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                        abort();
                if (mkdirat(rootfd, "etc", 0755) < 0 || mkdirat(rootfd, "etc/httpd", 0755) < 0 ||
                    mkdirat(rootfd, "etc/httpd/conf", 0755) < 0)
                        abort();
        }
        int fd = openat(rootfd, "etc/httpd/conf/httpd.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, size) != (ssize_t)size)
                abort();
        close(fd);
        char *env[] = {"APACHE_RUN_USER=www-data", NULL};
        char *defines[] = {"FOREGROUND", NULL};
        struct apache_config c = {0};
        if (apache_config_read(rootfd, APACHE_RHEL, env, defines, &c) < 0)
                abort();
        if (!c.user || !c.group || strv_length(c.files) > APACHE_MAX_FILES || c.n_daemons > APACHE_MAX_ITEMS ||
            c.n_scripts > APACHE_MAX_ITEMS)
                abort();
        for (size_t i = 0; i < c.n_daemons; i++)
                if (!c.daemons[i].name || !from_a_file(&c, c.daemons[i].where))
                        abort();
        for (size_t i = 0; i < c.n_scripts; i++) {
                const struct apache_script *s = &c.scripts[i];
                if (!s->url || !s->path || !s->process_group || !s->application_group ||
                    s->vhost >= (int)strv_length(c.vhosts) || !from_a_file(&c, s->where))
                        abort();
        }
        for (size_t i = 0; c.problems && c.problems[i]; i++)
                if (!from_a_file(&c, c.problems[i]))
                        abort();
        apache_config_free(&c);

        /* The same bytes as a shared object: the ELF reader must stay within them. */
        char *lib = NULL;
        int r = apache_elf_libpython(rootfd, "/etc/httpd/conf/httpd.conf", &lib);
        if (r >= 0 && (!lib || strncmp(lib, "libpython", 9) != 0))
                abort();
        free(lib);
        return 0;
}
