/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apache-conf.h"
#include "envfile.h"
#include "rootfile.h"


/* ---- the httpd configuration ------------------------------------------------------------ */

/* WSGIProcessGroup and WSGIApplicationGroup where they were set, for the scripts to find. */
struct group_setting {
        bool application;
        int vhost;
        char section; /* 0 server or vhost level, 'd' <Directory>, 'l' <Location> */
        char *arg;    /* the section's path or URL */
        char *value;
};

struct conf {
        int rootfd;
        struct apache_config *c;
        char *const *env;
        char **defines; /* "NAME=VALUE" or "NAME" */
        unsigned depth, lines;
        size_t bytes;
        bool stopped; /* a cap was reached: nothing more is read */
        int vhost;
        struct group_setting *groups;
        size_t n_groups;
        char *script_group_opt;
};

/* Modules compiled into the server: they satisfy <IfModule> without a LoadModule. */
static const char *const debian_static[] = {"core.c",           "mod_so.c",       "mod_watchdog.c",
                                            "http_core.c",      "mod_log_config.c", "mod_logio.c",
                                            "mod_version.c",    "mod_unixd.c"};
static const char *const rhel_static[] = {"core.c", "mod_so.c", "http_core.c"};

static const char *define_value(const struct conf *cf, const char *name, size_t n)
{
        const char *found = NULL;
        for (size_t i = 0; cf->defines && cf->defines[i]; i++)
                if (strncmp(cf->defines[i], name, n) == 0 && (cf->defines[i][n] == '=' || !cf->defines[i][n]))
                        found = cf->defines[i][n] == '=' ? cf->defines[i] + n + 1 : "";
        return found;
}

static bool defined(const struct conf *cf, const char *name) { return define_value(cf, name, strlen(name)) != NULL; }

/* ${NAME} from Define, then from the environment, as httpd resolves it; an undefined one
 * stays as written (httpd warns and keeps it) and is reported through *ret_undefined. */
static char *substitute(const struct conf *cf, const char *s, char **ret_undefined)
{
        struct buf b = {0};
        for (const char *p = s; *p;) {
                const char *e;
                if (p[0] == '$' && p[1] == '{' && (e = strchr(p + 2, '}'))) {
                        size_t n = (size_t)(e - p - 2);
                        const char *v = define_value(cf, p + 2, n);
                        if (!v) {
                                _cleanup_free_ char *name = xstrndup(p + 2, n);
                                v = env_get(cf->env, name);
                                if (!v && ret_undefined && !*ret_undefined)
                                        *ret_undefined = xstrdup(name);
                        }
                        if (v)
                                buf_puts(&b, v);
                        else
                                buf_append(&b, p, n + 3);
                        p = e + 1;
                } else
                        buf_append(&b, p++, 1);
        }
        buf_append(&b, "", 1);
        return b.p;
}

/* Splits arguments as httpd's ap_getword_conf does, and also keeps key="a b" together the way
 * mod_wsgi's option parser reads it. Quotes are removed; \" inside quotes is a quote. */
static char **split_args(const char *s)
{
        char **l = xcalloc(1, sizeof(char *));
        const char *p = s;
        for (;;) {
                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                struct buf b = {0};
                char quote = 0;
                for (; *p && (quote || !is_blank(*p)); p++) {
                        if (quote && *p == '\\' && (p[1] == quote || p[1] == '\\'))
                                buf_append(&b, ++p, 1);
                        else if (quote && *p == quote)
                                quote = 0;
                        else if (!quote && (*p == '"' || *p == '\''))
                                quote = *p;
                        else
                                buf_append(&b, p, 1);
                }
                buf_append(&b, "", 1);
                strv_consume(&l, b.p);
        }
        return l;
}

static bool module_loaded(const struct conf *cf, const char *name)
{
        size_t n = strlen(name);
        if (endswith(name, ".c")) {
                const char *const *st = cf->c->layout == APACHE_RHEL ? rhel_static : debian_static;
                size_t nst = cf->c->layout == APACHE_RHEL ? ELEMENTSOF(rhel_static) : ELEMENTSOF(debian_static);
                for (size_t i = 0; i < nst; i++)
                        if (strcmp(st[i], name) == 0)
                                return true;
                /* mod_wsgi.c is the source of wsgi_module: mod_NAME.c for NAME_module. */
                if (!startswith(name, "mod_"))
                        return false;
                _cleanup_free_ char *id = xasprintf("%.*s_module", (int)(n - 6), name + 4);
                return strv_contains(cf->c->modules, id);
        }
        return strv_contains(cf->c->modules, name);
}

static void set_str(char **dst, const char *v)
{
        char *copy = v ? xstrdup(v) : NULL; /* v may be *dst itself */
        free(*dst);
        *dst = copy;
}

static void add_group_setting(struct conf *cf, bool application, char section, const char *arg, const char *value)
{
        if (cf->n_groups >= APACHE_MAX_ITEMS)
                return;
        cf->groups = xrealloc(cf->groups, (cf->n_groups + 1) * sizeof(*cf->groups));
        cf->groups[cf->n_groups++] = (struct group_setting){
                .application = application,
                .vhost = cf->vhost,
                .section = section,
                .arg = arg ? xstrdup(arg) : NULL,
                .value = xstrdup(value),
        };
}

static void wsgi_daemon(struct conf *cf, char **a, size_t n, const char *where)
{
        struct apache_config *c = cf->c;
        if (n < 1 || c->n_daemons >= APACHE_MAX_ITEMS) {
                apache_push_problem(&c->problems, xasprintf("%s: WSGIDaemonProcess without a name", where));
                return;
        }
        if (apache_config_daemon(c, a[0]))
                apache_push_problem(&c->problems,
                             xasprintf("%s: conflict: a second WSGIDaemonProcess %s (httpd refuses to start)", where, a[0]));
        c->daemons = xrealloc(c->daemons, (c->n_daemons + 1) * sizeof(*c->daemons));
        struct apache_daemon *d = &c->daemons[c->n_daemons++];
        *d = (struct apache_daemon){.name = xstrdup(a[0]), .where = xstrdup(where), .vhost = cf->vhost};
        static const struct {
                const char *key;
                size_t off;
        } opts[] = {
                {"user", offsetof(struct apache_daemon, user)},
                {"group", offsetof(struct apache_daemon, group)},
                {"supplementary-groups", offsetof(struct apache_daemon, supplementary_groups)},
                {"python-home", offsetof(struct apache_daemon, python_home)},
                {"python-path", offsetof(struct apache_daemon, python_path)},
                {"lang", offsetof(struct apache_daemon, lang)},
                {"locale", offsetof(struct apache_daemon, locale)},
                {"display-name", offsetof(struct apache_daemon, display_name)},
                {"home", offsetof(struct apache_daemon, home)},
        };
        for (size_t i = 1; i < n; i++) {
                const char *eq = strchr(a[i], '=');
                if (!eq)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(opts); k++)
                        if (strlen(opts[k].key) == (size_t)(eq - a[i]) && strncmp(a[i], opts[k].key, (size_t)(eq - a[i])) == 0)
                                set_str((char **)((char *)d + opts[k].off), eq + 1);
        }
}

static void wsgi_script(struct conf *cf, char **a, size_t n, bool match, const char *where)
{
        struct apache_config *c = cf->c;
        if (n < 2 || c->n_scripts >= APACHE_MAX_ITEMS) {
                apache_push_problem(&c->problems, xasprintf("%s: WSGIScriptAlias needs a URL and a path", where));
                return;
        }
        c->scripts = xrealloc(c->scripts, (c->n_scripts + 1) * sizeof(*c->scripts));
        struct apache_script *s = &c->scripts[c->n_scripts++];
        *s = (struct apache_script){.url = xstrdup(a[0]),
                                    .path = xstrdup(a[1]),
                                    .match = match,
                                    .where = xstrdup(where),
                                    .vhost = cf->vhost};
        for (size_t i = 2; i < n; i++) {
                if (startswith(a[i], "process-group="))
                        set_str(&s->process_group, a[i] + strlen("process-group="));
                else if (startswith(a[i], "application-group="))
                        set_str(&s->application_group, a[i] + strlen("application-group="));
        }
}

struct section {
        char *name;
        char *arg;
        int saved_vhost;
        char kind; /* 'v' VirtualHost, 'd' Directory, 'l' Location, 'x' Files..., 0 other */
};

static int include_path(struct conf *cf, const char *pattern, bool optional, const char *where);

static void directive(struct conf *cf, const char *name, char **a, size_t n, const struct section *sec,
                      const char *file, unsigned lineno)
{
        struct apache_config *c = cf->c;
        _cleanup_free_ char *where = xasprintf("%s:%u", file, lineno);
        char section = sec && (sec->kind == 'd' || sec->kind == 'l') ? sec->kind : 0;
        const char *section_arg = section ? sec->arg : NULL;
        if (strcasecmp(name, "Include") == 0 || strcasecmp(name, "IncludeOptional") == 0) {
                for (size_t i = 0; i < n; i++)
                        include_path(cf, a[i], strcasecmp(name, "IncludeOptional") == 0, where);
        } else if (strcasecmp(name, "ServerRoot") == 0 && n == 1)
                set_str(&c->server_root, a[0]);
        else if (strcasecmp(name, "Define") == 0 && n >= 1 && strv_length(cf->defines) < APACHE_MAX_ITEMS) {
                strv_consume(&cf->defines, n >= 2 ? xasprintf("%s=%s", a[0], a[1]) : xstrdup(a[0]));
        } else if (strcasecmp(name, "UnDefine") == 0 && n == 1) {
                for (size_t i = 0; cf->defines && cf->defines[i]; i++)
                        if (strcmp(cf->defines[i], a[0]) == 0 ||
                            (startswith(cf->defines[i], a[0]) && cf->defines[i][strlen(a[0])] == '='))
                                cf->defines[i][0] = 0; /* never matches a name again */
        } else if (strcasecmp(name, "User") == 0 && n == 1 && cf->vhost < 0) {
                set_str(&c->user, a[0]);
                set_str(&c->user_where, where);
        } else if (strcasecmp(name, "Group") == 0 && n == 1 && cf->vhost < 0) {
                set_str(&c->group, a[0]);
                set_str(&c->group_where, where);
        } else if (strcasecmp(name, "LoadModule") == 0 && n == 2) {
                if (!strv_contains(c->modules, a[0]))
                        strv_push(&c->modules, a[0]);
                if (strcmp(a[0], "wsgi_module") == 0) {
                        _cleanup_free_ char *full = a[1][0] == '/' ? xstrdup(a[1])
                                                                    : xasprintf("%s/%s", c->server_root, a[1]);
                        set_str(&c->wsgi_module_path, full);
                }
                if (strcmp(a[0], "cgi_module") == 0 || strcmp(a[0], "cgid_module") == 0)
                        c->cgi = true;
        } else if (strcasecmp(name, "WSGIPythonHome") == 0 && n == 1) {
                set_str(&c->python_home, a[0]);
                set_str(&c->python_home_where, where);
        } else if (strcasecmp(name, "WSGIPythonPath") == 0 && n >= 1) {
                set_str(&c->python_path, a[0]);
                set_str(&c->python_path_where, where);
        } else if (strcasecmp(name, "WSGIDaemonProcess") == 0)
                wsgi_daemon(cf, a, n, where);
        else if (strcasecmp(name, "WSGIScriptAlias") == 0 || strcasecmp(name, "WSGIScriptAliasMatch") == 0)
                wsgi_script(cf, a, n, strlen(name) > strlen("WSGIScriptAlias"), where);
        else if (strcasecmp(name, "WSGIProcessGroup") == 0 && n == 1)
                add_group_setting(cf, false, section, section_arg, a[0]);
        else if (strcasecmp(name, "WSGIApplicationGroup") == 0 && n == 1)
                add_group_setting(cf, true, section, section_arg, a[0]);
        else if (strcasecmp(name, "PassEnv") == 0) {
                for (size_t i = 0; i < n && strv_length(c->passenv) < APACHE_MAX_ITEMS; i++)
                        strv_consume(&c->passenv, xasprintf("%s (%s)", a[i], where));
        }
}

/* The directives whose ${VAR} must resolve for the model to be right. */
static bool directive_matters(const char *name)
{
        static const char *const names[] = {"User", "Group", "Include", "IncludeOptional", "ServerRoot", "LoadModule"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(name, names[i]) == 0)
                        return true;
        return strncasecmp(name, "WSGI", 4) == 0 || strcasecmp(name, "PassEnv") == 0;
}

static bool section_true(const struct conf *cf, const char *name, char **a, size_t n)
{
        if (n < 1)
                return true;
        const char *arg = a[0];
        bool neg = *arg == '!';
        if (neg)
                arg++;
        bool res;
        if (strcasecmp(name, "IfModule") == 0)
                res = module_loaded(cf, arg);
        else if (strcasecmp(name, "IfDefine") == 0)
                res = defined(cf, arg);
        else
                return true; /* IfVersion, IfFile, If...: taken as true (the stock files need it so) */
        return neg ? !res : res;
}

static int parse_text(struct conf *cf, const char *file, const char *text, size_t len)
{
        struct apache_config *c = cf->c;
        struct line_reader lr = {.p = text, .end = text + len, .next_line = 1};
        struct section stack[64];
        size_t depth = 0;
        size_t skipping = 0; /* > 0: inside a section whose condition is false, at that depth */
        unsigned lineno;
        char *line;
        while ((line = apache_next_line(&lr, &lineno))) {
                _cleanup_free_ char *owned = line; /* freed at the end of each round */
                (void)owned;
                if (cf->stopped)
                        break;
                if (++cf->lines > APACHE_MAX_LINES) {
                        apache_add_problem(&c->problems, file, lineno, "more than %d lines: the rest is not read",
                                    APACHE_MAX_LINES);
                        cf->stopped = true;
                        break;
                }
                char *s = strstrip(line);
                if (!*s || *s == '#')
                        continue;
                if (s[0] == '<' && s[1] == '/') {
                        if (depth == 0) {
                                apache_add_problem(&c->problems, file, lineno, "%s without its section", s);
                                continue;
                        }
                        struct section *top = &stack[--depth];
                        if (top->kind == 'v')
                                cf->vhost = top->saved_vhost;
                        if (skipping == depth + 1)
                                skipping = 0;
                        free(top->name);
                        free(top->arg);
                        continue;
                }
                if (s[0] == '<') {
                        size_t l = strlen(s);
                        if (l < 3 || s[l - 1] != '>' || depth == ELEMENTSOF(stack)) {
                                apache_add_problem(&c->problems, file, lineno, "not understood: %s", s);
                                continue;
                        }
                        s[l - 1] = 0;
                        char *name = s + 1;
                        char *args = name + strcspn(name, " \t");
                        if (*args)
                                *args++ = 0;
                        struct section *sec = &stack[depth++];
                        *sec = (struct section){.name = xstrdup(name), .saved_vhost = cf->vhost};
                        if (skipping)
                                continue;
                        _cleanup_free_ char *sub = substitute(cf, args, NULL);
                        _cleanup_strv_ char **a = split_args(sub);
                        size_t n = strv_length(a);
                        if (!section_true(cf, name, a, n))
                                skipping = depth;
                        else if (strcasecmp(name, "VirtualHost") == 0) {
                                if (strv_length(c->vhosts) < APACHE_MAX_ITEMS) {
                                        sec->kind = 'v';
                                        cf->vhost = (int)strv_length(c->vhosts);
                                        strv_consume(&c->vhosts, xasprintf("%s (%s:%u)", sub, file, lineno));
                                }
                        } else if (strncasecmp(name, "Directory", 9) == 0 || strncasecmp(name, "Location", 8) == 0 ||
                                   strncasecmp(name, "Files", 5) == 0) {
                                /* Only exact <Directory>/<Location> paths decide a script's group. */
                                sec->kind = strcasecmp(name, "Directory") == 0  ? 'd'
                                            : strcasecmp(name, "Location") == 0 ? 'l'
                                                                                 : 'x';
                                sec->arg = n > 0 ? xstrdup(a[0]) : NULL;
                        }
                        continue;
                }
                if (skipping)
                        continue;
                char *name = s;
                char *args = name + strcspn(name, " \t");
                if (*args)
                        *args++ = 0;
                _cleanup_free_ char *undefined = NULL;
                _cleanup_free_ char *sub = substitute(cf, args, &undefined);
                if (undefined && directive_matters(name))
                        apache_add_problem(&c->problems, file, lineno, "%s: ${%s} is not defined (httpd keeps it as written)",
                                    name, undefined);
                _cleanup_strv_ char **a = split_args(sub);
                /* Settings of a <Files> section (kind 'x') are not tied to a path here. */
                const struct section *in = NULL;
                for (size_t i = depth; i > 0; i--)
                        if (stack[i - 1].kind) {
                                in = &stack[i - 1];
                                break;
                        }
                directive(cf, name, a, strv_length(a), in && in->kind != 'v' ? in : NULL, file, lineno);
        }
        if (depth > 0)
                apache_add_problem(&c->problems, file, lineno, "<%s> is not closed", stack[depth - 1].name);
        while (depth > 0) {
                struct section *top = &stack[--depth];
                if (top->kind == 'v')
                        cf->vhost = top->saved_vhost;
                free(top->name);
                free(top->arg);
        }
        return 0;
}

static int parse_file(struct conf *cf, const char *path, const char *where)
{
        struct apache_config *c = cf->c;
        if (cf->stopped)
                return 0;
        if (strv_length(c->files) >= APACHE_MAX_FILES || cf->depth >= APACHE_MAX_DEPTH ||
            cf->bytes >= APACHE_MAX_TOTAL_SIZE) {
                /* Said once: past a cap, every further Include would say it again. */
                apache_push_problem(&c->problems, xasprintf("%s: %s not read: more than %d files, %d levels of Include or "
                                                     "%d bytes; the rest of the configuration is not read either",
                                                     where, path, APACHE_MAX_FILES, APACHE_MAX_DEPTH,
                                                     APACHE_MAX_TOTAL_SIZE));
                cf->stopped = true;
                return 0;
        }
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = root_read_file(cf->rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r < 0 || memchr(text, 0, n)) {
                apache_push_problem(&c->problems, xasprintf("%s: unreadable: cannot read %s: %s", where, path,
                                                     strerror(r < 0 ? -r : EINVAL)));
                return 0;
        }
        strv_push(&c->files, path);
        cf->bytes += n;
        cf->depth++;
        r = parse_text(cf, path, text, n);
        cf->depth--;
        return r;
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* A file is read; a directory is read whole (every file in it and below, sorted). */
static void include_one(struct conf *cf, const char *path, const char *where)
{
        struct stat st;
        if (root_stat(cf->rootfd, path, &st) >= 0 && S_ISDIR(st.st_mode)) {
                if (cf->depth >= APACHE_MAX_DEPTH)
                        return;
                _cleanup_strv_ char **names = NULL;
                if (root_list_dir(cf->rootfd, path, NULL, APACHE_MAX_FILES, &names) < 0 || !names)
                        return;
                cf->depth++;
                for (size_t i = 0; names[i]; i++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);
                        include_one(cf, p, where);
                }
                cf->depth--;
                return;
        }
        parse_file(cf, path, where);
}

/* Expands the wildcards of pattern one component at a time, as httpd 2.4 does. */
static size_t include_glob(struct conf *cf, const char *dir, const char *rest, const char *where)
{
        const char *slash = strchr(rest, '/');
        _cleanup_free_ char *comp = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
        const char *after = slash ? slash + 1 : NULL;
        if (!has_glob(comp)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, comp);
                if (after)
                        return include_glob(cf, p, after, where);
                struct stat st;
                if (root_stat(cf->rootfd, p, &st) < 0)
                        return 0;
                include_one(cf, p, where);
                return 1;
        }
        _cleanup_strv_ char **names = NULL;
        if (root_list_dir(cf->rootfd, *dir ? dir : "/", comp, APACHE_MAX_FILES, &names) < 0 || !names)
                return 0;
        size_t found = 0;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
                if (after) {
                        struct stat st;
                        if (root_stat(cf->rootfd, p, &st) >= 0 && S_ISDIR(st.st_mode))
                                found += include_glob(cf, p, after, where);
                } else {
                        include_one(cf, p, where);
                        found++;
                }
        }
        return found;
}

static int include_path(struct conf *cf, const char *pattern, bool optional, const char *where)
{
        struct apache_config *c = cf->c;
        _cleanup_free_ char *full = pattern[0] == '/' ? xstrdup(pattern) : xasprintf("%s/%s", c->server_root, pattern);
        /* Drop repeated slashes and a trailing one, so components are plain names. */
        char *w = full;
        for (const char *r = full; *r; r++)
                if (!(*r == '/' && (r[1] == '/' || r[1] == 0) && w != full))
                        *w++ = *r;
        *w = 0;
        size_t found;
        if (!has_glob(full)) {
                struct stat st;
                if (root_stat(cf->rootfd, full, &st) < 0) {
                        if (!optional)
                                apache_push_problem(&c->problems,
                                             xasprintf("%s: Include %s: no such file (httpd refuses to start)", where, full));
                        return 0;
                }
                include_one(cf, full, where);
                return 0;
        }
        found = include_glob(cf, "", full + 1, where);
        if (found == 0 && !optional)
                apache_push_problem(&c->problems,
                             xasprintf("%s: Include %s: no file matches (httpd refuses to start)", where, full));
        return 0;
}

/* The group setting that applies to a script: a <Location> around its URL, then the longest
 * <Directory> around its file, then the virtual host's own, then the server's; a vhost's
 * setting beats the server's of the same kind, a later one an earlier one. */
static const char *effective_group(const struct conf *cf, const struct apache_script *s, bool application)
{
        const struct group_setting *best = NULL;
        int best_rank = -1;
        size_t best_len = 0;
        for (size_t i = 0; i < cf->n_groups; i++) {
                const struct group_setting *g = &cf->groups[i];
                if (g->application != application || (g->vhost != s->vhost && g->vhost != -1))
                        continue;
                int rank;
                size_t len = 0;
                if (g->section == 'l') {
                        if (s->match || !g->arg || !startswith(s->url, g->arg))
                                continue;
                        rank = 4;
                } else if (g->section == 'd') {
                        if (!g->arg || !startswith(s->path, g->arg))
                                continue;
                        rank = 2;
                        len = strlen(g->arg);
                } else
                        rank = 0;
                rank += g->vhost == s->vhost && s->vhost >= 0;
                if (rank > best_rank || (rank == best_rank && len >= best_len)) {
                        best = g;
                        best_rank = rank;
                        best_len = len;
                }
        }
        return best ? best->value : NULL;
}

void apache_config_free(struct apache_config *c)
{
        free(c->server_root);
        free(c->user);
        free(c->group);
        free(c->user_where);
        free(c->group_where);
        strv_free(c->modules);
        free(c->wsgi_module_path);
        free(c->python_home);
        free(c->python_path);
        free(c->python_home_where);
        free(c->python_path_where);
        for (size_t i = 0; i < c->n_daemons; i++) {
                struct apache_daemon *d = &c->daemons[i];
                free(d->name);
                free(d->user);
                free(d->group);
                free(d->supplementary_groups);
                free(d->python_home);
                free(d->python_path);
                free(d->lang);
                free(d->locale);
                free(d->display_name);
                free(d->home);
                free(d->where);
        }
        free(c->daemons);
        for (size_t i = 0; i < c->n_scripts; i++) {
                struct apache_script *s = &c->scripts[i];
                free(s->url);
                free(s->path);
                free(s->process_group);
                free(s->application_group);
                free(s->where);
        }
        free(c->scripts);
        strv_free(c->vhosts);
        strv_free(c->passenv);
        strv_free(c->files);
        strv_free(c->problems);
        *c = (struct apache_config){0};
}

enum apache_layout apache_detect_layout(int rootfd)
{
        struct stat st;
        if (root_stat(rootfd, "/etc/apache2/apache2.conf", &st) >= 0)
                return APACHE_DEBIAN;
        if (root_stat(rootfd, "/etc/httpd/conf/httpd.conf", &st) >= 0)
                return APACHE_RHEL;
        return APACHE_NONE;
}

int apache_config_read(int rootfd, enum apache_layout layout, char *const *env, char *const *defines,
                       struct apache_config *ret)
{
        const char *root = layout == APACHE_DEBIAN ? "/etc/apache2" : "/etc/httpd";
        const char *main = apache_main_file(layout);
        struct stat st;
        if (layout == APACHE_NONE || root_stat(rootfd, main, &st) < 0)
                return -PS_E_NOTFOUND;
        struct apache_config c = {.layout = layout, .server_root = xstrdup(root)};
        struct conf cf = {.rootfd = rootfd, .c = &c, .env = env, .vhost = -1};
        for (size_t i = 0; defines && defines[i]; i++)
                strv_push(&cf.defines, defines[i]);
        parse_file(&cf, main, "(main)");
        for (size_t i = 0; i < c.n_scripts; i++) {
                struct apache_script *s = &c.scripts[i];
                const char *pg = s->process_group ? s->process_group : effective_group(&cf, s, false);
                const char *ag = s->application_group ? s->application_group : effective_group(&cf, s, true);
                /* %{GLOBAL} as a process group is the empty name: Apache's own children. */
                set_str(&s->process_group, !pg || strcmp(pg, "%{GLOBAL}") == 0 ? "" : pg);
                set_str(&s->application_group, ag ? ag : "%{RESOURCE}");
                if (*s->process_group && !strstr(s->process_group, "%{") && !apache_config_daemon(&c, s->process_group))
                        apache_push_problem(&c.problems,
                                     xasprintf("%s: conflict: process group %s is not defined by a WSGIDaemonProcess",
                                               s->where, s->process_group));
        }
        if (!c.user)
                c.user = xstrdup("#-1");
        if (!c.group)
                c.group = xstrdup("#-1");
        for (size_t i = 0; i < cf.n_groups; i++) {
                free(cf.groups[i].arg);
                free(cf.groups[i].value);
        }
        free(cf.groups);
        strv_free(cf.defines);
        *ret = c;
        return 0;
}

const struct apache_daemon *apache_config_daemon(const struct apache_config *c, const char *name)
{
        for (size_t i = 0; i < c->n_daemons; i++)
                if (strcmp(c->daemons[i].name, name) == 0)
                        return &c->daemons[i];
        return NULL;
}

const char *apache_main_file(enum apache_layout layout)
{
        return layout == APACHE_DEBIAN ? "/etc/apache2/apache2.conf"
               : layout == APACHE_RHEL ? "/etc/httpd/conf/httpd.conf"
                                       : NULL;
}
