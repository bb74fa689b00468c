/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "units.h"
#include "envfile.h"
#include "fileio.h"

#include <dirent.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char *const unit_dirs[] = {
        "etc/systemd/system", "run/systemd/system", "usr/local/lib/systemd/system",
        "lib/systemd/system", "usr/lib/systemd/system",
};

/* The template name of an instance ("a@b.service" → "a@.service"), or NULL. */
static char *template_of(const char *unit)
{
        const char *at = strchr(unit, '@');
        const char *dot = strrchr(unit, '.');
        if (!at || !dot || dot < at || at + 1 == dot)
                return NULL;
        return xasprintf("%.*s%s", (int)(at - unit + 1), unit, dot);
}

/* Reads the first unit file called name in the search path, following alias symlinks by
 * their target's name (as systemd resolves aliases), never by path; *ret_name is the path
 * of the file read ("/lib/systemd/system/x.service"). */
static int read_unit(int rootfd, const char *name, unsigned hops, char **ret_text, char **ret_name)
{
        for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                _cleanup_close_ int dfd = -1;
                if (dir_open(rootfd, unit_dirs[i], 0, false, false, &dfd, NULL) < 0)
                        continue;
                struct stat st;
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t k = readlinkat(dfd, name, target, sizeof(target) - 1);
                        if (k <= 0 || hops > 8)
                                return -ELOOP;
                        target[k] = 0;
                        if (strcmp(target, "/dev/null") == 0)
                                return -PS_E_NOTFOUND; /* masked */
                        const char *base = strrchr(target, '/');
                        return read_unit(rootfd, base ? base + 1 : target, hops + 1, ret_text, ret_name);
                }
                int r = file_read_at(dfd, name, 1024 * 1024, ret_text, NULL, NULL);
                if (r < 0)
                        return r;
                *ret_name = xasprintf("/%s/%s", unit_dirs[i], name);
                return 0;
        }
        return -PS_E_NOTFOUND;
}

int unit_file_exists(int rootfd, const char *unit, bool *ret)
{
        _cleanup_free_ char *text = NULL, *name = NULL, *tmpl = template_of(unit);
        int r = read_unit(rootfd, unit, 0, &text, &name);
        if (r == -PS_E_NOTFOUND && tmpl)
                r = read_unit(rootfd, tmpl, 0, &text, &name);
        if (r == -PS_E_NOTFOUND) {
                *ret = false;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = true;
        return 0;
}

/* What a [Service] section says about who the service runs as; the last assignment wins, and
 * an empty SupplementaryGroups= resets the list, as in systemd. */
struct service_identity {
        char *user;
        bool dynamic;
        char *group;
        char **supplementary;
};

static void service_identity_free(struct service_identity *id)
{
        free(id->user);
        free(id->group);
        strv_free(id->supplementary);
}

static void parse_service_settings(const char *text, struct service_identity *id)
{
        _cleanup_free_ char *copy = xstrdup(text);
        bool in_service = false;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *s = strstrip(line);
                if (*s == '[') {
                        in_service = strcmp(s, "[Service]") == 0;
                        continue;
                }
                if (!in_service || *s == '#' || *s == ';')
                        continue;
                char *eq = strchr(s, '=');
                if (!eq)
                        continue;
                *eq = 0;
                char *key = strstrip(s), *value = strstrip(eq + 1);
                if (strcmp(key, "User") == 0) {
                        free(id->user);
                        id->user = *value ? xstrdup(value) : NULL;
                } else if (strcmp(key, "Group") == 0) {
                        free(id->group);
                        id->group = *value ? xstrdup(value) : NULL;
                } else if (strcmp(key, "SupplementaryGroups") == 0) {
                        if (!*value) {
                                strv_free(id->supplementary);
                                id->supplementary = NULL;
                        }
                        char *gsave = NULL;
                        for (char *g = strtok_r(value, " \t", &gsave); g; g = strtok_r(NULL, " \t", &gsave))
                                strv_push(&id->supplementary, g);
                } else if (strcmp(key, "DynamicUser") == 0)
                        id->dynamic = strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
                                      strcmp(value, "1") == 0 || strcmp(value, "on") == 0;
        }
}

/* Drop-ins of one directory name ("x.service.d") across the search path, by file name; a
 * name in an earlier directory hides the same name in later ones. */
static void collect_dropins(int rootfd, const char *dname, char ***names, char ***paths, char ***texts)
{
        for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                _cleanup_free_ char *rel = xasprintf("%s/%s", unit_dirs[i], dname);
                _cleanup_close_ int dfd = -1;
                if (dir_open(rootfd, rel, 0, false, false, &dfd, NULL) < 0)
                        continue;
                DIR *d = fdopendir(dfd);
                if (!d)
                        continue;
                int keep = TAKE_FD(dfd);
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (!endswith(de->d_name, ".conf") || strv_contains(*names, de->d_name))
                                continue;
                        char *text = NULL;
                        if (file_read_at(keep, de->d_name, 1024 * 1024, &text, NULL, NULL) < 0)
                                continue;
                        strv_push(names, de->d_name);
                        strv_consume(paths, xasprintf("/%s/%s", rel, de->d_name));
                        strv_consume(texts, text);
                }
                closedir(d);
        }
}

int unit_files_read(int rootfd, const char *unit, char ***ret_paths, char ***ret_texts)
{
        _cleanup_free_ char *text = NULL, *name = NULL, *tmpl = template_of(unit);
        int r = read_unit(rootfd, unit, 0, &text, &name);
        if (r == -PS_E_NOTFOUND && tmpl)
                r = read_unit(rootfd, tmpl, 0, &text, &name);
        if (r < 0)
                return r;

        /* Drop-in directories, the most specific first, so that a file name in one hides the
         * same name in the later ones (systemd.unit(5)): the unit's, its template's, then
         * those of its dash prefixes ("a-b-.service.d", "a-.service.d"), then the type's
         * ("service.d"). */
        _cleanup_strv_ char **dirs = NULL, **names = NULL, **paths = NULL, **texts = NULL;
        strv_consume(&dirs, xasprintf("%s.d", unit));
        if (tmpl)
                strv_consume(&dirs, xasprintf("%s.d", tmpl));
        const char *dot = strrchr(unit, '.');
        for (const char *p = dot ? dot : unit; dot && p > unit; p--)
                if (*p == '-' && p != dot - 1)
                        strv_consume(&dirs, xasprintf("%.*s-%s.d", (int)(p - unit), unit, dot));
        if (dot)
                strv_consume(&dirs, xasprintf("%s.d", dot + 1));
        for (size_t i = 0; dirs[i]; i++)
                collect_dropins(rootfd, dirs[i], &names, &paths, &texts);

        /* Drop-ins apply in the order of their file names, whatever directory holds them. */
        char **out_paths = NULL, **out_texts = NULL;
        strv_consume(&out_paths, TAKE_PTR(name));
        strv_consume(&out_texts, TAKE_PTR(text));
        size_t n = texts && paths ? strv_length(names) : 0;
        for (size_t pass = 0; pass < n; pass++) {
                size_t best = SIZE_MAX;
                for (size_t i = 0; i < n; i++)
                        if (texts[i] && (best == SIZE_MAX || strcmp(names[i], names[best]) < 0))
                                best = i;
                strv_consume(&out_paths, TAKE_PTR(paths[best]));
                strv_consume(&out_texts, TAKE_PTR(texts[best]));
                names[best][0] = 0x7f; /* sorts last from now on */
        }
        *ret_paths = out_paths;
        *ret_texts = out_texts;
        return 0;
}

static int unit_file_identity(int rootfd, const char *unit, struct service_identity *id)
{
        _cleanup_strv_ char **paths = NULL, **texts = NULL;
        int r = unit_files_read(rootfd, unit, &paths, &texts);
        if (r < 0)
                return r;
        for (size_t i = 0; texts[i]; i++)
                parse_service_settings(texts[i], id);
        return 0;
}

int unit_file_user(int rootfd, const char *unit, char **ret_user, bool *ret_dynamic)
{
        struct service_identity id = {0};
        int r = unit_file_identity(rootfd, unit, &id);
        if (r >= 0) {
                *ret_user = TAKE_PTR(id.user);
                *ret_dynamic = id.dynamic;
        }
        service_identity_free(&id);
        return r;
}

int unit_file_groups(int rootfd, const char *unit, char ***ret_groups)
{
        struct service_identity id = {0};
        int r = unit_file_identity(rootfd, unit, &id);
        if (r >= 0) {
                char **groups = TAKE_PTR(id.supplementary);
                if (id.group)
                        strv_push(&groups, id.group);
                *ret_groups = groups;
        }
        service_identity_free(&id);
        return r;
}

const char *unit_default_service(int rootfd)
{
        /* Debian's Apache first; RHEL-family systems ship httpd instead. Decided on the system
         * pyshare runs on (or the image under --root), never when pyshare was built. */
        static const char *const candidates[] = {"apache2.service", "httpd.service"};
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                bool exists = false;
                if (unit_file_exists(rootfd, candidates[i], &exists) >= 0 && exists)
                        return candidates[i];
        }
        return candidates[0];
}

const char *unit_apache_command(const char *unit)
{
        if (strcmp(unit, "apache2.service") == 0 || startswith(unit, "apache2@"))
                return "/usr/sbin/apache2ctl";
        if (strcmp(unit, "httpd.service") == 0 || startswith(unit, "httpd@"))
                return "/usr/sbin/httpd";
        return NULL;
}

const char *unit_apache_cgi_text(void)
{
        return "# Written by pyshare (setup --cgi): CGI scripts get only the environment Apache passes\n"
               "# them; this passes on the PYTHONPATH that systemd gives Apache through pyshare's drop-in.\n"
               "PassEnv PYTHONPATH\n";
}

char *unit_dropin_text(const char *service_env_path)
{
        return xasprintf("# Written by pyshare: the PYTHONPATH of the shared environments this service uses.\n"
                         "# Edit with pyshare setup/remove, not by hand.\n"
                         "[Service]\n"
                         "EnvironmentFile=-%s\n",
                         service_env_path);
}

int unit_service_env_text(const char *unit, char *const *apps, char *const *pythonpaths, char **ret)
{
        struct buf b = {0};
        _cleanup_free_ char *list = strv_join(apps, ", ");
        buf_printf(&b, "# Written by pyshare for %s; apps: %s.\n", unit, list);
        _cleanup_free_ char *joined = strv_join(pythonpaths, ":");
        int r = env_encode(&b, "PYTHONPATH", joined);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = b.p;
        return 0;
}

char *unit_tmpfiles_text(const char *app, const char *venv, const char *user, const char *group)
{
        return xasprintf("# Written by pyshare for %1$s: restores the owner, mode and ACLs of its environment's\n"
                         "# top directory (systemd-tmpfiles --create). pyshare repair %1$s fixes the rest.\n"
                         "d %2$s 2770 root %4$s -\n"
                         "a+ %2$s - - - - u::rwx,g::rwx,o::---,u:%3$s:r-x,g:%4$s:rwx,"
                         "d:u::rwx,d:g::rwx,d:o::---,d:u:%3$s:r-x,d:g:%4$s:rwx\n",
                         app, venv, user, group);
}
