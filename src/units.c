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
                if (dir_open(rootfd, unit_dirs[i], NULL, &dfd, NULL) < 0)
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

/* One word of a systemd setting: quotes and C escapes removed (extract_first_word with
 * EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE), specifiers %% kept as one %. */
static const char *next_word(const char *p, struct buf *out, bool *ret_ok)
{
        *ret_ok = true;
        while (*p == ' ' || *p == '\t')
                p++;
        if (!*p)
                return NULL;
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
                if (!quote && (*p == '"' || *p == '\''))
                        quote = *p;
                else if (quote && *p == quote)
                        quote = 0;
                else if (*p == '\\' && p[1]) {
                        static const char from[] = "abfnrtv\\\"' s", to[] = "\a\b\f\n\r\t\v\\\"' \0 ";
                        const char *k = strchr(from, p[1]);
                        char c = k ? to[k - from] : p[1];
                        if (k && p[1] == 's')
                                c = ' ';
                        if (!k)
                                buf_append(out, "\\", 1);
                        buf_append(out, &c, 1);
                        p++;
                } else if (*p == '%' && p[1] == '%') {
                        buf_append(out, "%", 1);
                        p++;
                } else
                        buf_append(out, p, 1);
        }
        if (quote)
                *ret_ok = false;
        return p;
}

char **unit_parse_environment(const char *value)
{
        char **l = xcalloc(1, sizeof(char *));
        const char *p = value;
        for (;;) {
                struct buf w = {0};
                bool ok;
                p = next_word(p, &w, &ok);
                if (!p) {
                        buf_free(&w);
                        break;
                }
                buf_append(&w, "", 1);
                const char *eq = strchr(w.p, '=');
                if (ok && eq) {
                        _cleanup_free_ char *key = xstrndup(w.p, (size_t)(eq - w.p));
                        if (env_key_valid(key) && env_value_check(eq + 1) >= 0)
                                strv_push(&l, w.p);
                }
                buf_free(&w);
        }
        return l;
}


void unit_service_settings_free(struct unit_service_settings *u)
{
        strv_free(u->environment);
        strv_free(u->environment_where);
        strv_free(u->environment_files);
        strv_free(u->unset);
        free(u->user);
        free(u->group);
        strv_free(u->supplementary);
        strv_free(u->exec_start);
}

static bool parse_bool(const char *v)
{
        return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "on") == 0;
}

void unit_parse_service(const char *path, const char *text, struct unit_service_settings *u)
{
        bool in_service = false;
        const char *p = text, *end = text + strlen(text);
        unsigned lineno = 0;
        while (p < end) {
                /* A backslash at the end continues the line (systemd joins with a space). */
                struct buf b = {0};
                unsigned first = lineno + 1;
                while (p < end) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        const char *e = nl ? nl : end;
                        lineno++;
                        size_t n = (size_t)(e - p);
                        bool cont = n > 0 && p[n - 1] == '\\';
                        buf_append(&b, p, cont ? n - 1 : n);
                        p = nl ? nl + 1 : end;
                        if (!cont)
                                break;
                        buf_append(&b, " ", 1);
                }
                buf_append(&b, "", 1);
                char *s = strstrip(b.p);
                if (*s == '[')
                        in_service = strcmp(s, "[Service]") == 0;
                char *eq = strchr(s, '=');
                if (!in_service || *s == '#' || *s == ';' || *s == '[' || !eq) {
                        buf_free(&b);
                        continue;
                }
                *eq = 0;
                const char *key = strstrip(s);
                char *value = strstrip(eq + 1);
                _cleanup_free_ char *where = xasprintf("%s:%u", path, first);
                if (strcmp(key, "Environment") == 0) {
                        if (!*value) {
                                strv_free(u->environment);
                                strv_free(u->environment_where);
                                u->environment = u->environment_where = NULL;
                        }
                        _cleanup_strv_ char **l = unit_parse_environment(value);
                        for (size_t i = 0; l[i]; i++) {
                                strv_push(&u->environment, l[i]);
                                strv_push(&u->environment_where, where);
                        }
                } else if (strcmp(key, "EnvironmentFile") == 0) {
                        if (!*value) {
                                strv_free(u->environment_files);
                                u->environment_files = NULL;
                        } else
                                strv_push(&u->environment_files, value);
                } else if (strcmp(key, "UnsetEnvironment") == 0) {
                        char *save = NULL;
                        for (char *w = strtok_r(value, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                                strv_push(&u->unset, w);
                } else if (strcmp(key, "User") == 0) {
                        free(u->user);
                        u->user = *value ? xstrdup(value) : NULL;
                } else if (strcmp(key, "Group") == 0) {
                        free(u->group);
                        u->group = *value ? xstrdup(value) : NULL;
                } else if (strcmp(key, "SupplementaryGroups") == 0) {
                        if (!*value) {
                                strv_free(u->supplementary);
                                u->supplementary = NULL;
                        }
                        char *save = NULL;
                        for (char *w = strtok_r(value, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                                strv_push(&u->supplementary, w);
                } else if (strcmp(key, "DynamicUser") == 0)
                        u->dynamic = parse_bool(value);
                else if (strcmp(key, "ExecStart") == 0) {
                        if (!*value) {
                                strv_free(u->exec_start);
                                u->exec_start = NULL;
                        } else
                                strv_push(&u->exec_start, value);
                }
                buf_free(&b);
        }
}

/* Drop-ins of one directory name ("x.service.d") across the search path, by file name; a
 * name in an earlier directory hides the same name in later ones. */
static void collect_dropins(int rootfd, const char *dname, char ***names, char ***paths, char ***texts)
{
        for (size_t i = 0; i < ELEMENTSOF(unit_dirs); i++) {
                _cleanup_free_ char *rel = xasprintf("%s/%s", unit_dirs[i], dname);
                _cleanup_close_ int dfd = -1;
                if (dir_open(rootfd, rel, NULL, &dfd, NULL) < 0)
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

int unit_file_settings(int rootfd, const char *unit, char ***ret_paths, struct unit_service_settings *ret)
{
        _cleanup_strv_ char **paths = NULL, **texts = NULL;
        int r = unit_files_read(rootfd, unit, &paths, &texts);
        if (r < 0)
                return r;
        struct unit_service_settings u = {0};
        for (size_t i = 0; texts[i]; i++)
                unit_parse_service(paths[i], texts[i], &u);
        if (ret_paths)
                *ret_paths = TAKE_PTR(paths);
        *ret = u;
        return 0;
}

int unit_file_user(int rootfd, const char *unit, char **ret_user, bool *ret_dynamic)
{
        struct unit_service_settings u = {0};
        int r = unit_file_settings(rootfd, unit, NULL, &u);
        if (r >= 0) {
                *ret_user = TAKE_PTR(u.user);
                *ret_dynamic = u.dynamic;
        }
        unit_service_settings_free(&u);
        return r;
}

int unit_file_groups(int rootfd, const char *unit, char ***ret_groups)
{
        struct unit_service_settings u = {0};
        int r = unit_file_settings(rootfd, unit, NULL, &u);
        if (r >= 0) {
                char **groups = TAKE_PTR(u.supplementary);
                if (u.group)
                        strv_push(&groups, u.group);
                *ret_groups = groups;
        }
        unit_service_settings_free(&u);
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

char *unit_tmpfiles_text(const char *app, const char *venv, char *const *users, const char *group)
{
        struct buf acc = {0}, dflt = {0};
        for (size_t i = 0; users && users[i]; i++) {
                buf_printf(&acc, ",u:%s:r-x", users[i]);
                buf_printf(&dflt, ",d:u:%s:r-x", users[i]);
        }
        char *t = xasprintf("# Written by pyshare for %1$s: restores the owner, mode and ACLs of its environment's\n"
                            "# top directory (systemd-tmpfiles --create). pyshare repair %1$s fixes the rest.\n"
                            "d %2$s 2770 root %3$s -\n"
                            "a+ %2$s - - - - u::rwx,g::rwx,o::---%4$s,g:%3$s:rwx,"
                            "d:u::rwx,d:g::rwx,d:o::---%5$s,d:g:%3$s:rwx\n",
                            app, venv, group, acc.p ? acc.p : "", dflt.p ? dflt.p : "");
        free(acc.p);
        free(dflt.p);
        return t;
}
