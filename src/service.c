/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "service.h"
#include "bus.h"
#include "envfile.h"
#include "fileio.h"
#include "rootfile.h"
#include "units.h"

#include <fcntl.h>
#include <sys/stat.h>

static void add_finding(struct service_model *m, const char *cause, const char *fmt, ...) _printf_(3, 4);
static void add_finding(struct service_model *m, const char *cause, const char *fmt, ...)
{
        if (m->n_findings >= APACHE_MAX_ITEMS)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *text = xvasprintf(fmt, ap);
        va_end(ap);
        m->findings = xrealloc(m->findings, (m->n_findings + 1) * sizeof(*m->findings));
        m->findings[m->n_findings++] = (struct service_finding){.cause = cause, .text = text};
}

/* ---- environments with provenance ------------------------------------------------------- */

const struct service_var *service_env_get(const struct service_env *e, const char *name)
{
        for (size_t i = 0; i < e->n; i++)
                if (strcmp(e->v[i].name, name) == 0)
                        return &e->v[i];
        return NULL;
}

static void var_free(struct service_var *v)
{
        free(v->name);
        free(v->value);
        free(v->where);
        free(v->replaced_where);
        free(v->replaced_value);
}

static void env_free(struct service_env *e)
{
        for (size_t i = 0; i < e->n; i++)
                var_free(&e->v[i]);
        free(e->v);
        *e = (struct service_env){0};
}

/* Whether every ':' entry of old is still in new: "$PYTHONPATH:/x" extends, "/x" replaces. */
static bool extends(const char *old, const char *new)
{
        _cleanup_strv_ char **o = apache_split_python_path(old), **n = apache_split_python_path(new);
        for (size_t i = 0; o[i]; i++)
                if (!strv_contains(n, o[i]))
                        return false;
        return true;
}

static void env_set(struct service_env *e, const char *name, const char *value, const char *where)
{
        struct service_var *v = (struct service_var *)service_env_get(e, name);
        if (!v) {
                e->v = xrealloc(e->v, (e->n + 1) * sizeof(*e->v));
                v = &e->v[e->n++];
                *v = (struct service_var){.name = xstrdup(name)};
        } else if (strcmp(v->value, value) != 0 && !extends(v->value, value)) {
                free(v->replaced_where);
                free(v->replaced_value);
                v->replaced_where = TAKE_PTR(v->where);
                v->replaced_value = TAKE_PTR(v->value);
        }
        free(v->value);
        free(v->where);
        v->value = xstrdup(value);
        v->where = xstrdup(where);
}

static void env_unset(struct service_env *e, const char *name)
{
        struct service_var *v = (struct service_var *)service_env_get(e, name);
        if (!v)
                return;
        var_free(v);
        size_t i = (size_t)(v - e->v);
        memmove(v, v + 1, (e->n - i - 1) * sizeof(*v));
        e->n--;
}

static char **env_list(const struct service_env *e)
{
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < e->n; i++)
                strv_consume(&l, xasprintf("%s=%s", e->v[i].name, e->v[i].value));
        return l;
}

/* ---- unit files ------------------------------------------------------------------------- */

/* The line of the last assignment to key in an EnvironmentFile's text (0 when not found). */
static unsigned line_of_key(const char *text, const char *key)
{
        unsigned found = 0, lineno = 1;
        size_t n = strlen(key);
        for (const char *p = text; p && *p; lineno++) {
                const char *s = p;
                while (*s == ' ' || *s == '\t')
                        s++;
                if (strncmp(s, key, n) == 0) {
                        const char *t = s + n;
                        while (*t == ' ' || *t == '\t')
                                t++;
                        if (*t == '=')
                                found = lineno;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return found;
}

/* systemd's exec environment: Environment= in order, then each EnvironmentFile= in order
 * (they override Environment=), then UnsetEnvironment=. */
static void systemd_environment(int rootfd, struct service_model *m, char *const *env, char *const *env_where,
                                char *const *unset)
{
        for (size_t i = 0; env && env[i]; i++) {
                const char *eq = strchr(env[i], '=');
                _cleanup_free_ char *name = xstrndup(env[i], (size_t)(eq - env[i]));
                env_set(&m->next, name, eq + 1, env_where ? env_where[i] : "Environment= (systemd)");
        }
        for (size_t i = 0; m->environment_files && m->environment_files[i]; i++) {
                const char *f = m->environment_files[i];
                bool optional = *f == '-';
                if (optional)
                        f++;
                _cleanup_free_ char *text = NULL;
                size_t n;
                int r = root_read_file(rootfd, f, 1024 * 1024, &text, &n, NULL);
                if (r < 0) {
                        if (!optional)
                                add_finding(m, SERVICE_CAUSE_UNREADABLE,
                                            "%s cannot read its EnvironmentFile=%s (%s): it fails to start", m->unit, f,
                                            strerror(-r));
                        continue;
                }
                _cleanup_strv_ char **vars = NULL;
                if (env_parse(text, n, &vars) < 0)
                        continue;
                for (size_t k = 0; vars[k]; k++) {
                        const char *eq = strchr(vars[k], '=');
                        _cleanup_free_ char *name = xstrndup(vars[k], (size_t)(eq - vars[k]));
                        _cleanup_free_ char *where = xasprintf("%s:%u", f, line_of_key(text, name));
                        env_set(&m->next, name, eq + 1, where);
                }
                /* systemd drops "export KEY=..." lines without a word: say so for PYTHON*. */
                unsigned lineno = 1;
                for (const char *p = text; p && *p; lineno++) {
                        const char *s = p;
                        while (*s == ' ' || *s == '\t')
                                s++;
                        if (startswith(s, "export ") && (strstr(s, "PYTHON") == s + 7 || startswith(s + 7, "VIRTUAL_ENV")))
                                add_finding(m, SERVICE_CAUSE_IGNORED,
                                            "%s:%u: systemd ignores \"export NAME=\" lines in an EnvironmentFile: "
                                            "remove \"export \"",
                                            f, lineno);
                        p = strchr(p, '\n');
                        if (p)
                                p++;
                }
        }
        for (size_t i = 0; unset && unset[i]; i++) {
                const char *eq = strchr(unset[i], '=');
                if (!eq)
                        env_unset(&m->next, unset[i]);
                else {
                        _cleanup_free_ char *name = xstrndup(unset[i], (size_t)(eq - unset[i]));
                        const struct service_var *v = service_env_get(&m->next, name);
                        if (v && strcmp(v->value, eq + 1) == 0)
                                env_unset(&m->next, name);
                }
        }
}

static int from_files(int rootfd, struct service_model *m)
{
        struct unit_service_settings u = {0};
        int r = unit_file_settings(rootfd, m->unit, &m->unit_files, &u);
        if (r < 0)
                return r;
        m->user = TAKE_PTR(u.user);
        m->group = TAKE_PTR(u.group);
        m->supplementary_groups = TAKE_PTR(u.supplementary);
        m->dynamic_user = u.dynamic;
        m->exec_start = TAKE_PTR(u.exec_start);
        m->environment_files = TAKE_PTR(u.environment_files);
        systemd_environment(rootfd, m, u.environment, u.environment_where, u.unset);
        unit_service_settings_free(&u);
        return 0;
}

static int from_bus(int rootfd, struct service_model *m)
{
        struct bus_unit_exec e = {0};
        int r = bus_unit_exec(m->unit, &e);
        if (r < 0)
                return r;
        if (!e.found) {
                bus_unit_exec_free(&e);
                return -PS_E_NOTFOUND;
        }
        m->running = e.active;
        m->need_reload = e.need_reload;
        m->main_pid = (pid_t)e.main_pid;
        strv_push(&m->unit_files, e.fragment_path);
        for (size_t i = 0; e.dropin_paths && e.dropin_paths[i]; i++)
                strv_push(&m->unit_files, e.dropin_paths[i]);
        m->user = *e.user ? TAKE_PTR(e.user) : NULL;
        m->group = *e.group ? TAKE_PTR(e.group) : NULL;
        m->supplementary_groups = TAKE_PTR(e.supplementary_groups);
        m->dynamic_user = e.dynamic_user;
        m->environment_files = TAKE_PTR(e.environment_files);
        systemd_environment(rootfd, m, e.environment, NULL, e.unset_environment);
        /* ExecStart= as text and the unit files' line numbers come from the files. */
        struct unit_service_settings u = {0};
        if (unit_file_settings(rootfd, m->unit, NULL, &u) >= 0) {
                m->exec_start = TAKE_PTR(u.exec_start);
                /* Give each Environment= variable its file and line where the files agree. */
                for (size_t i = 0; u.environment && u.environment[i]; i++) {
                        const char *eq = strchr(u.environment[i], '=');
                        _cleanup_free_ char *name = xstrndup(u.environment[i], (size_t)(eq - u.environment[i]));
                        struct service_var *v = (struct service_var *)service_env_get(&m->next, name);
                        if (v && strcmp(v->where, "Environment= (systemd)") == 0 && strcmp(v->value, eq + 1) == 0) {
                                free(v->where);
                                v->where = xstrdup(u.environment_where[i]);
                        }
                }
        }
        unit_service_settings_free(&u);
        if (m->need_reload)
                add_finding(m, SERVICE_CAUSE_RELOAD,
                            "%s: its unit files changed since systemd loaded them; the next start gets what systemd "
                            "loaded: systemctl daemon-reload",
                            m->unit);
        bus_unit_exec_free(&e);
        return 0;
}

/* ---- processes -------------------------------------------------------------------------- */

static int read_proc_file(int procfd, pid_t pid, const char *name, size_t max, char **ret, size_t *ret_len)
{
        char path[64];
        if (pid > 0)
                snprintf(path, sizeof(path), "%d/%s", (int)pid, name);
        else
                snprintf(path, sizeof(path), "%s", name);
        _cleanup_close_ int fd = openat(procfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        _cleanup_buf_ struct buf b = {0};
        int r = read_until(fd, now_ms() + 2000, &b, max);
        if (r < 0)
                return r;
        buf_append(&b, "", 1);
        *ret_len = b.len - 1;
        *ret = TAKE_PTR(b.p);
        return 0;
}

static void proc_fill(int procfd, struct service_proc *p)
{
        _cleanup_free_ char *cmd = NULL, *status = NULL, *environ = NULL;
        size_t n = 0;
        if (read_proc_file(procfd, p->pid, "cmdline", 4096, &cmd, &n) >= 0 && cmd) {
                for (size_t i = 0; i + 1 < n; i++)
                        if (cmd[i] == 0)
                                cmd[i] = ' ';
                p->cmdline = TAKE_PTR(cmd);
        } else
                p->cmdline = xstrdup("");
        if (read_proc_file(procfd, p->pid, "status", 16384, &status, &n) >= 0 && status) {
                char *save = NULL;
                for (char *l = strtok_r(status, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        unsigned long a, b;
                        if (sscanf(l, "Uid:\t%lu\t%lu", &a, &b) == 2)
                                p->uid = (uid_t)b;
                        else if (sscanf(l, "Gid:\t%lu\t%lu", &a, &b) == 2)
                                p->gid = (gid_t)b;
                        else if (startswith(l, "Groups:")) {
                                char *gsave = NULL;
                                for (char *g = strtok_r(l + 7, " \t", &gsave); g && p->n_groups < 65536;
                                     g = strtok_r(NULL, " \t", &gsave)) {
                                        p->groups = xrealloc(p->groups, (p->n_groups + 1) * sizeof(gid_t));
                                        p->groups[p->n_groups++] = (gid_t)strtoul(g, NULL, 10);
                                }
                        }
                }
        }
        if (read_proc_file(procfd, p->pid, "environ", 1024 * 1024, &environ, &n) >= 0 && environ) {
                p->env = xcalloc(1, sizeof(char *));
                for (size_t i = 0; i < n; i += strlen(environ + i) + 1)
                        if (environ[i])
                                strv_push(&p->env, environ + i);
        }
}

static pid_t proc_ppid(int procfd, pid_t pid)
{
        _cleanup_free_ char *stat = NULL;
        size_t n;
        if (read_proc_file(procfd, pid, "stat", 4096, &stat, &n) < 0 || !stat)
                return -1;
        /* "PID (comm) S PPID ...": comm may hold spaces and parentheses; the last ')' ends it. */
        const char *e = strrchr(stat, ')');
        int ppid;
        return e && sscanf(e + 1, " %*c %d", &ppid) == 1 ? (pid_t)ppid : -1;
}

/* When pid started, from its start time in clock ticks after boot and the boot time. */
static time_t proc_started(int procfd, pid_t pid)
{
        _cleanup_free_ char *stat = NULL;
        size_t n;
        if (read_proc_file(procfd, pid, "stat", 4096, &stat, &n) < 0 || !stat)
                return 0;
        const char *e = strrchr(stat, ')');
        unsigned long long ticks = 0;
        /* Field 22, the 20th after the comm's ')'. */
        if (!e || sscanf(e + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                         &ticks) != 1)
                return 0;
        _cleanup_free_ char *all = NULL;
        if (read_proc_file(procfd, 0, "stat", 1024 * 1024, &all, &n) < 0 || !all)
                return 0;
        const char *bt = strstr(all, "\nbtime ");
        long hz = sysconf(_SC_CLK_TCK);
        return bt && hz > 0 ? (time_t)(strtoll(bt + 7, NULL, 10) + (long long)(ticks / (unsigned long long)hz)) : 0;
}

static void add_proc(int procfd, struct service_model *m, pid_t pid, const char *role)
{
        if (m->n_procs >= APACHE_MAX_ITEMS)
                return;
        m->procs = xrealloc(m->procs, (m->n_procs + 1) * sizeof(*m->procs));
        struct service_proc *p = &m->procs[m->n_procs++];
        *p = (struct service_proc){.pid = pid};
        proc_fill(procfd, p);
        if (role)
                p->role = xstrdup(role);
        else if (startswith(p->cmdline, "(wsgi:")) {
                /* display-name=%{GROUP}: "(wsgi:NAME)" */
                size_t k = strcspn(p->cmdline + 6, ")");
                p->role = xasprintf("wsgi:%.*s", (int)k, p->cmdline + 6);
        } else {
                for (size_t i = 0; i < m->conf.n_daemons && !p->role; i++) {
                        const struct apache_daemon *d = &m->conf.daemons[i];
                        if (d->display_name && strcmp(d->display_name, "%{GROUP}") != 0 &&
                            strcmp(strstrip(p->cmdline), d->display_name) == 0)
                                p->role = xasprintf("wsgi:%s", d->name);
                }
                /* Apache's children are forks of the main process (workers, mod_cgid's daemon,
                 * mod_wsgi's daemons without display-name=) with its command line; another
                 * command line is a program it started (a piped logger, often root's). */
                if (!p->role && m->apache && m->n_procs > 1 && strcmp(p->cmdline, m->procs[0].cmdline) != 0)
                        p->role = xstrdup("helper");
                if (!p->role)
                        p->role = xstrdup(m->apache ? "worker" : "child");
        }
}

static pid_t apache_pid_from_file(int rootfd, const struct service_model *m)
{
        const struct apache_var *v = m->envvars_read ? apache_envvars_get(&m->envvars, "APACHE_PID_FILE") : NULL;
        const char *path = v ? v->value : m->layout == APACHE_RHEL ? "/run/httpd/httpd.pid" : "/run/apache2/apache2.pid";
        _cleanup_free_ char *text = NULL;
        size_t n;
        if (root_read_file(rootfd, path, 64, &text, &n, NULL) < 0)
                return 0;
        long pid = strtol(text, NULL, 10);
        return pid > 1 && pid < (1L << 22) ? (pid_t)pid : 0;
}

void service_find_processes(int procfd, int rootfd, struct service_model *m)
{
        if (m->main_pid <= 0 && m->apache)
                m->main_pid = apache_pid_from_file(rootfd, m);
        char name[32];
        snprintf(name, sizeof(name), "%d", (int)m->main_pid);
        struct stat st;
        if (m->main_pid <= 0 || fstatat(procfd, name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
                return;
        add_proc(procfd, m, m->main_pid, "main");
        m->started = proc_started(procfd, m->main_pid);
        _cleanup_strv_ char **pids = NULL;
        if (dir_list_at(procfd, NULL, &pids) < 0)
                return;
        for (size_t i = 0; pids[i]; i++) {
                char *endp;
                long pid = strtol(pids[i], &endp, 10);
                if (*endp || pid <= 1 || pid == m->main_pid)
                        continue;
                if (proc_ppid(procfd, (pid_t)pid) == m->main_pid)
                        add_proc(procfd, m, (pid_t)pid, NULL);
        }
        m->running = true;
}

bool service_proc_runs_code(const struct service_model *m, const struct service_proc *p)
{
        if (!m->apache)
                return true;
        if (strcmp(p->role, "helper") == 0)
                return false;
        if (strcmp(p->role, "main") != 0)
                return true;
        for (size_t i = 0; i < m->n_procs; i++)
                if (strcmp(m->procs[i].role, "main") != 0 && strcmp(m->procs[i].role, "helper") != 0)
                        return false;
        return true; /* no children that run code: the main process is all there is */
}

const char *service_daemon_user(const struct service_model *m, const struct apache_daemon *d)
{
        return d->user ? d->user : m->run_user;
}

bool service_loads_envfile(const struct service_model *m, const char *path)
{
        for (size_t i = 0; m->environment_files && m->environment_files[i]; i++) {
                const char *f = m->environment_files[i];
                if (strcmp(*f == '-' ? f + 1 : f, path) == 0)
                        return true;
        }
        return false;
}

/* ---- the whole model -------------------------------------------------------------------- */

static void apache_part(int rootfd, struct service_model *m)
{
        m->layout = apache_layout_of_unit(rootfd, m->unit);
        _cleanup_strv_ char **env = env_list(&m->next);
        if (m->layout == APACHE_DEBIAN) {
                /* apachectl sources envvars after systemd set the environment: it wins. */
                int r = apache_debian_envvars(rootfd, env, &m->envvars);
                if (r >= 0) {
                        m->envvars_read = true;
                        struct service_env next = {0};
                        for (size_t i = 0; i < m->envvars.n; i++) {
                                const struct apache_var *v = &m->envvars.vars[i];
                                if (!v->exported || !v->value)
                                        continue;
                                const struct service_var *before = service_env_get(&m->next, v->name);
                                if (before && strcmp(v->where, "(environment)") == 0) {
                                        env_set(&next, v->name, before->value, before->where);
                                        struct service_var *nv = (struct service_var *)service_env_get(&next, v->name);
                                        if (before->replaced_where) {
                                                nv->replaced_where = xstrdup(before->replaced_where);
                                                nv->replaced_value = xstrdup(before->replaced_value);
                                        }
                                } else {
                                        if (before)
                                                env_set(&next, v->name, before->value, before->where);
                                        env_set(&next, v->name, v->value, v->where);
                                }
                        }
                        env_free(&m->next);
                        m->next = next;
                        for (size_t i = 0; m->envvars.unparsed && m->envvars.unparsed[i]; i++)
                                add_finding(m, SERVICE_CAUSE_UNPARSED,
                                            "%s: not understood, so not applied here (apachectl runs it)",
                                            m->envvars.unparsed[i]);
                } else if (r != -PS_E_NOTFOUND)
                        add_finding(m, SERVICE_CAUSE_UNREADABLE, "/etc/apache2/envvars: %s", strerror(-r));
                strv_free(env);
                env = env_list(&m->next);
        }
        /* RHEL's httpd.service runs httpd with $OPTIONS -DFOREGROUND. */
        char *rhel_defines[] = {"FOREGROUND", NULL};
        if (apache_config_read(rootfd, m->layout, env, m->layout == APACHE_RHEL ? rhel_defines : NULL, &m->conf) < 0)
                return;
        m->run_user = xstrdup(m->conf.user);
        m->run_group = xstrdup(m->conf.group);
        if (m->conf.wsgi_module_path) {
                int r = apache_elf_libpython(rootfd, m->conf.wsgi_module_path, &m->wsgi_libpython);
                if (r < 0 && r != -ENOENT)
                        add_finding(m, SERVICE_CAUSE_UNREADABLE, "LoadModule wsgi_module %s: %s: Apache fails to start",
                                    m->conf.wsgi_module_path, strerror(-r));
        }
        for (size_t i = 0; m->conf.problems && m->conf.problems[i]; i++) {
                const char *p = m->conf.problems[i];
                add_finding(m,
                            strstr(p, ": conflict: ")     ? SERVICE_CAUSE_CONFLICT
                            : strstr(p, ": unreadable: ") ? SERVICE_CAUSE_UNREADABLE
                                                          : SERVICE_CAUSE_UNPARSED,
                            "%s", p);
        }
        for (size_t i = 0; i < m->conf.n_daemons; i++) {
                const struct apache_daemon *d = &m->conf.daemons[i];
                if (d->user && strcmp(d->user, m->run_user) != 0)
                        add_finding(m, SERVICE_CAUSE_DAEMON_USER,
                                    "%s: WSGIDaemonProcess %s runs as %s, not as Apache's user %s: %s needs access too",
                                    d->where, d->name, d->user, m->run_user, d->user);
        }
}

static const char *const python_vars[] = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"};

static void judge(struct service_model *m)
{
        for (size_t i = 0; i < ELEMENTSOF(python_vars); i++) {
                const struct service_var *v = service_env_get(&m->next, python_vars[i]);
                if (v && v->replaced_where)
                        add_finding(m, SERVICE_CAUSE_OVERRIDDEN,
                                    "%s: %s=%s replaces %s=%s set at %s: the service gets only the first", v->where,
                                    v->name, v->value, v->name, v->replaced_value, v->replaced_where);
        }
        for (size_t i = 0; i < m->n_procs; i++) {
                const struct service_proc *p = &m->procs[i];
                if (!p->env || !service_proc_runs_code(m, p))
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(python_vars); k++) {
                        const char *now = env_get(p->env, python_vars[k]);
                        const struct service_var *next = service_env_get(&m->next, python_vars[k]);
                        if ((!now && !next) || (now && next && strcmp(now, next->value) == 0))
                                continue;
                        add_finding(m, SERVICE_CAUSE_RESTART,
                                    "PID %d (%s) runs with %s%s%s; the next start gets %s%s%s: systemctl restart %s",
                                    (int)p->pid, p->role, python_vars[k], now ? "=" : " unset", now ? now : "",
                                    python_vars[k], next ? "=" : " unset", next ? next->value : "", m->unit);
                        i = m->n_procs; /* one process says it for all */
                        break;
                }
        }
}

int service_model_build(int rootfd, const char *unit, unsigned flags, struct service_model *ret)
{
        struct service_model m = {.unit = xstrdup(unit), .apache = unit_apache_command(unit) != NULL};
        int r = -ENOTCONN;
        if (!(flags & SERVICE_FILES_ONLY) && bus_systemd_running()) {
                r = from_bus(rootfd, &m);
                m.from_bus = r >= 0;
        }
        if (r < 0 && r != -PS_E_NOTFOUND) {
                env_free(&m.next);
                strv_free(m.environment_files);
                m.environment_files = NULL;
                r = from_files(rootfd, &m);
        }
        if (r < 0) {
                service_model_free(&m);
                return r;
        }
        if (m.apache)
                apache_part(rootfd, &m);
        if (!(flags & SERVICE_NO_PROCESSES)) {
                _cleanup_close_ int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (procfd >= 0)
                        service_find_processes(procfd, rootfd, &m);
        }
        judge(&m);
        *ret = m;
        return 0;
}

void service_model_free(struct service_model *m)
{
        free(m->unit);
        strv_free(m->unit_files);
        free(m->user);
        free(m->group);
        strv_free(m->supplementary_groups);
        strv_free(m->exec_start);
        strv_free(m->environment_files);
        env_free(&m->next);
        apache_config_free(&m->conf);
        apache_envvars_free(&m->envvars);
        free(m->run_user);
        free(m->run_group);
        free(m->wsgi_libpython);
        for (size_t i = 0; i < m->n_procs; i++) {
                free(m->procs[i].role);
                free(m->procs[i].cmdline);
                free(m->procs[i].groups);
                strv_free(m->procs[i].env);
        }
        free(m->procs);
        for (size_t i = 0; i < m->n_findings; i++)
                free(m->findings[i].text);
        free(m->findings);
        *m = (struct service_model){0};
}
