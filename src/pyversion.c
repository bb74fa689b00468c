/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pyversion.h"
#include "apache.h"
#include "fileio.h"
#include "output.h"
#include "rootfile.h"
#include "service.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ABI_WALK_DEPTH 12
#define ABI_WALK_ENTRIES 200000

char *pyversion_from_name(const char *name)
{
        if (!name)
                return NULL;
        const char *p = strstr(name, "cpython-");
        if (p) {
                p += strlen("cpython-");
                size_t n = strspn(p, "0123456789");
                if (n >= 2 && n <= 4)
                        return xasprintf("%c.%.*s", p[0], (int)(n - 1), p + 1);
        }
        for (p = strstr(name, "python"); p; p = strstr(p + 1, "python")) {
                const char *q = p + strlen("python");
                size_t major = strspn(q, "0123456789");
                if (major == 0 || q[major] != '.')
                        continue;
                size_t minor = strspn(q + major + 1, "0123456789");
                if (minor > 0)
                        return xstrndup(q, major + 1 + minor);
        }
        return NULL;
}

/* "3.11" from "3.11.2" or "3.11.2.final.0". */
static char *major_minor(const char *v)
{
        if (!v || !isdigit((unsigned char)v[0]))
                return NULL;
        const char *dot = strchr(v, '.');
        if (!dot || !isdigit((unsigned char)dot[1]))
                return NULL;
        return xstrndup(v, (size_t)(dot + 1 - v) + strspn(dot + 1, "0123456789"));
}

/* The path of an fd as the system below rootfd sees it. */
static int fd_path_in_root(int rootfd, int fd, char **ret)
{
        char buf[PATH_MAX + 1], rbuf[PATH_MAX + 1];
        _cleanup_free_ char *l = xasprintf("/proc/self/fd/%d", fd), *rl = xasprintf("/proc/self/fd/%d", rootfd);
        ssize_t n = readlink(l, buf, PATH_MAX), rn = readlink(rl, rbuf, PATH_MAX);
        if (n < 0 || rn < 0)
                return -errno;
        buf[n] = 0;
        rbuf[rn] = 0;
        if (strcmp(rbuf, "/") == 0) {
                *ret = xstrdup(buf);
                return 0;
        }
        size_t k = strlen(rbuf);
        if (strncmp(buf, rbuf, k) != 0 || (buf[k] != '/' && buf[k] != 0))
                return -EXDEV;
        *ret = xstrdup(buf[k] ? buf + k : "/");
        return 0;
}

/* The one lib/pythonX.Y (holding os.py) beside the bin/ of a program. */
static char *version_beside(int rootfd, const char *resolved)
{
        _cleanup_free_ char *dir = xstrdup(resolved);
        for (int i = 0; i < 2; i++) {
                char *slash = strrchr(dir, '/');
                if (!slash)
                        return NULL;
                *slash = 0;
        }
        _cleanup_free_ char *lib = xasprintf("%s/lib", dir);
        _cleanup_close_ int lfd = -1;
        _cleanup_strv_ char **names = NULL;
        if (root_open(rootfd, lib, O_RDONLY | O_DIRECTORY, &lfd) < 0 || dir_list_at(lfd, NULL, &names) < 0)
                return NULL;
        char *found = NULL;
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *os = xasprintf("%s/os.py", names[i]);
                struct stat st;
                if (!startswith(names[i], "python") || fstatat(lfd, os, &st, 0) < 0)
                        continue;
                if (found) {
                        free(found);
                        return NULL;
                }
                found = pyversion_from_name(names[i]);
        }
        return found;
}

int pyversion_of_program(int rootfd, const char *path, char **ret_resolved, char **ret_version)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *resolved = NULL;
        int r = root_open(rootfd, path, O_PATH, &fd);
        if (r < 0 || (r = fd_path_in_root(rootfd, fd, &resolved)) < 0)
                return r;
        if (!resolved)
                return -EINVAL;
        const char *base = strrchr(resolved, '/');
        char *v = pyversion_from_name(base ? base + 1 : resolved);
        if (!v)
                v = version_beside(rootfd, resolved);
        *ret_version = v;
        *ret_resolved = TAKE_PTR(resolved);
        return 0;
}

void pyservice_free(struct pyservice *s)
{
        free(s->version);
        free(s->source);
        free(s->program);
        free(s->python_home);
        *s = (struct pyservice){0};
}

/* The first word of an ExecStart= value, without systemd's prefixes (@-:+!|). */
static char *exec_program(const char *value)
{
        const char *p = value + strspn(value, " \t@-:+!|");
        if (*p == '"' || *p == '\'') {
                const char *end = strchr(p + 1, *p);
                return end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
        }
        size_t n = strcspn(p, " \t");
        return n ? xstrndup(p, n) : NULL;
}

/* The interpreter of a script's #! line ("/usr/bin/env python3" looked up in PATH's usual
 * directories below the root), or NULL. */
static char *shebang_interpreter(int rootfd, const char *path)
{
        _cleanup_close_ int pin = -1, fd = -1;
        if (root_open(rootfd, path, O_RDONLY, &fd) < 0)
                return NULL;
        char buf[256];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 3 || buf[0] != '#' || buf[1] != '!')
                return NULL;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        char *save = NULL, *prog = strtok_r(buf + 2, " \t", &save);
        if (!prog)
                return NULL;
        const char *base = strrchr(prog, '/');
        if (!base || strcmp(base + 1, "env") != 0)
                return xstrdup(prog);
        char *arg = strtok_r(NULL, " \t", &save);
        while (arg && arg[0] == '-')
                arg = strtok_r(NULL, " \t", &save);
        if (!arg)
                return NULL;
        static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *cand = xasprintf("%s/%s", dirs[i], arg);
                struct stat st;
                if (root_stat(rootfd, cand, &st) >= 0 && S_ISREG(st.st_mode))
                        return TAKE_PTR(cand);
        }
        return NULL;
}

static void unit_python(int rootfd, const char *exec_start, struct pyservice *s)
{
        _cleanup_free_ char *prog = exec_program(exec_start), *resolved = NULL, *v = NULL, *lib = NULL;
        if (!prog || prog[0] != '/' || pyversion_of_program(rootfd, prog, &resolved, &v) < 0)
                return;
        const char *base = strrchr(resolved, '/') + 1;
        if (startswith(base, "python") && v) {
                s->source = xasprintf("ExecStart= runs %s", resolved);
        } else if (apache_elf_libpython(rootfd, resolved, &lib) >= 0 && (free(v), v = pyversion_from_name(lib))) {
                s->source = xasprintf("ExecStart= runs %s, which links %s", resolved, lib);
        } else {
                free(v);
                v = NULL;
                _cleanup_free_ char *interp = shebang_interpreter(rootfd, resolved), *ir = NULL;
                if (!interp || pyversion_of_program(rootfd, interp, &ir, &v) < 0 || !v)
                        return;
                s->source = xasprintf("ExecStart= runs %s, whose #! line names %s (%s)", resolved, interp, ir);
                free(resolved);
                resolved = TAKE_PTR(ir);
        }
        s->kind = PYSERVICE_UNIT;
        s->version = TAKE_PTR(v);
        s->program = TAKE_PTR(resolved);
}

int pyversion_service(int rootfd, const char *unit, struct pyservice *ret)
{
        struct pyservice s = {0};
        struct service_model m = {0};
        int r = service_model_build(rootfd, unit, SERVICE_FILES_ONLY | SERVICE_NO_PROCESSES, &m);
        if (r == -PS_E_NOTFOUND) {
                *ret = s;
                return 0;
        }
        if (r < 0)
                return r;
        if (m.apache && m.conf.wsgi_module_path) {
                s.kind = PYSERVICE_MOD_WSGI;
                s.version = pyversion_from_name(m.wsgi_libpython);
                s.source = m.wsgi_libpython ? xasprintf("mod_wsgi: %s links %s", m.conf.wsgi_module_path, m.wsgi_libpython)
                                            : xasprintf("mod_wsgi: %s links no libpython", m.conf.wsgi_module_path);
                if (m.conf.python_home)
                        s.python_home = xasprintf("WSGIPythonHome %s (%s)", m.conf.python_home, m.conf.python_home_where);
                for (size_t i = 0; !s.python_home && i < m.conf.n_daemons; i++)
                        if (m.conf.daemons[i].python_home)
                                s.python_home = xasprintf("python-home=%s (%s)", m.conf.daemons[i].python_home,
                                                          m.conf.daemons[i].where);
        } else if (m.apache && m.conf.cgi)
                s.kind = PYSERVICE_CGI;
        else if (!m.apache && m.exec_start) {
                size_t n = strv_length(m.exec_start);
                unit_python(rootfd, m.exec_start[n - 1], &s);
        }
        service_model_free(&m);
        *ret = s;
        return 0;
}

void pyvenv_free(struct pyvenv *v)
{
        free(v->version);
        free(v->cfg_version);
        free(v->home);
        strv_free(v->lib_versions);
        free(v->bin_target);
        free(v->bin_link);
        strv_free(v->abi_tags);
        *v = (struct pyvenv){0};
}

static void read_cfg(int vfd, struct pyvenv *v)
{
        _cleanup_free_ char *text = NULL;
        if (file_read_at(vfd, "pyvenv.cfg", 64 * 1024, &text, NULL, NULL) < 0)
                return;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                char *key = strstrip(line), *value = strstrip(eq + 1);
                if (strcmp(key, "home") == 0 && !v->home)
                        v->home = xstrdup(value);
                else if ((strcmp(key, "version") == 0 || strcmp(key, "version_info") == 0) && !v->cfg_version)
                        v->cfg_version = xstrdup(value);
        }
}

/* Where bin/python leads: resolved inside the root, or the last link as written. */
static void read_bin(int rootfd, int vfd, const char *venv_rel, struct pyvenv *v)
{
        _cleanup_free_ char *p = xasprintf("%s/bin/python", venv_rel);
        _cleanup_close_ int fd = -1;
        if (root_open(rootfd, p, O_PATH, &fd) >= 0) {
                fd_path_in_root(rootfd, fd, &v->bin_target);
                return;
        }
        _cleanup_free_ char *name = xstrdup("bin/python");
        for (int i = 0; i < 16; i++) {
                char buf[PATH_MAX + 1];
                ssize_t n = readlinkat(vfd, name, buf, PATH_MAX);
                if (n < 0)
                        return;
                buf[n] = 0;
                if (strchr(buf, '/')) {
                        v->bin_link = xstrdup(buf);
                        return;
                }
                free(name);
                name = xasprintf("bin/%s", buf);
        }
}

/* The type of a directory entry: getdents' d_type where the filesystem gives it (ext4, xfs,
 * btrfs, tmpfs and overlayfs do), so that a venv of 100k entries costs no stat each. */
static unsigned char entry_type(int dfd, const char *name, unsigned char d_type)
{
        if (d_type != DT_UNKNOWN)
                return d_type;
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return DT_UNKNOWN;
        return S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
}

struct dirent64_raw {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* The ABI tags of the extension modules below dfd (closed here): getdents64 straight, one
 * syscall per 16 KiB of names, as this walks every directory of the venv. */
static void walk_abi(int dfd, int depth, unsigned *budget, struct pyvenv *v)
{
        _cleanup_close_ int fd = dfd;
        char buf[16384] __attribute__((aligned(8)));
        long n;
        while (*budget > 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
                for (long off = 0; off < n && *budget > 0;) {
                        const struct dirent64_raw *e = (const struct dirent64_raw *)(buf + off);
                        off += e->d_reclen;
                        (*budget)--;
                        const char *name = e->d_name;
                        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                                continue;
                        unsigned char type = entry_type(fd, name, e->d_type);
                        /* Python never loads an extension module from these. */
                        if (type == DT_DIR && depth < ABI_WALK_DEPTH && strcmp(name, "__pycache__") != 0 &&
                            !endswith(name, ".dist-info")) {
                                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (sub >= 0)
                                        walk_abi(sub, depth + 1, budget, v);
                        } else if (type == DT_REG && endswith(name, ".so") && strstr(name, ".cpython-")) {
                                char *tag = pyversion_from_name(name);
                                if (tag && !strv_contains(v->abi_tags, tag))
                                        strv_consume(&v->abi_tags, tag);
                                else
                                        free(tag);
                        }
                }
        }
}

static int venv_read(int rootfd, const char *venv_rel, bool abi, struct pyvenv *ret)
{
        struct pyvenv v = {0};
        _cleanup_close_ int vfd = -1, lfd = -1;
        int r = dir_open(rootfd, venv_rel, NULL, &vfd, NULL);
        if (r < 0)
                return r;
        read_cfg(vfd, &v);
        read_bin(rootfd, vfd, venv_rel, &v);
        _cleanup_strv_ char **names = NULL;
        lfd = openat(vfd, "lib", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lfd >= 0 && dir_list_at(lfd, NULL, &names) >= 0) {
                strv_sort(names);
                unsigned budget = ABI_WALK_ENTRIES;
                for (size_t i = 0; names[i]; i++) {
                        char *lv = startswith(names[i], "python") ? pyversion_from_name(names[i]) : NULL;
                        if (!lv)
                                continue;
                        strv_consume(&v.lib_versions, lv);
                        int sub = abi ? openat(lfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
                        if (sub >= 0)
                                walk_abi(sub, 0, &budget, &v);
                }
        }
        strv_sort(v.abi_tags);
        v.version = major_minor(v.cfg_version);
        if (!v.version && v.lib_versions)
                v.version = xstrdup(v.lib_versions[0]);
        if (!v.version && v.abi_tags)
                v.version = xstrdup(v.abi_tags[0]);
        *ret = v;
        return 0;
}

void pycheck_free(struct pycheck *c)
{
        free(c->want);
        free(c->want_source);
        pyvenv_free(&c->venv);
        free(c->mismatch);
        *c = (struct pycheck){0};
}

static bool under_dir(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/* What in the venv says another Python than want: "pyvenv.cfg says version = 3.9.2", ... */
static char **venv_evidence(const struct pyvenv *v, const char *want)
{
        char **ev = NULL;
        _cleanup_free_ char *cfg = major_minor(v->cfg_version);
        if (cfg && strcmp(cfg, want) != 0)
                strv_consume(&ev, xasprintf("pyvenv.cfg says version = %s", v->cfg_version));
        if (v->lib_versions && !strv_contains(v->lib_versions, want)) {
                _cleanup_free_ char *libs = strv_join(v->lib_versions, ", lib/python");
                strv_consume(&ev, xasprintf("it has lib/python%s", libs));
        }
        _cleanup_strv_ char **tags = NULL;
        for (size_t i = 0; v->abi_tags && v->abi_tags[i]; i++)
                if (strcmp(v->abi_tags[i], want) != 0)
                        strv_push(&tags, v->abi_tags[i]);
        if (tags) {
                _cleanup_free_ char *t = strv_join(tags, ", ");
                strv_consume(&ev, xasprintf("its extension modules are built for Python %s", t));
        }
        if (!v->bin_target && v->bin_link)
                strv_consume(&ev, xasprintf("bin/python leads to %s, which does not exist", v->bin_link));
        else if (v->bin_target) {
                _cleanup_free_ char *bv = pyversion_from_name(strrchr(v->bin_target, '/'));
                if (bv && strcmp(bv, want) != 0)
                        strv_consume(&ev, xasprintf("bin/python leads to %s", v->bin_target));
        }
        return ev;
}

int pyversion_venv(int rootfd, const char *venv_rel, const char *venv_abs, struct pyvenv *ret)
{
        (void)venv_abs;
        return venv_read(rootfd, venv_rel, true, ret);
}

static int pycheck(int rootfd, const char *app, const char *unit, const char *venv_rel, const char *venv_abs,
                   const char *python, bool python_given, bool abi, struct pycheck *ret)
{
        struct pycheck c = {0};
        struct pyservice s = {0};
        int r = pyversion_service(rootfd, unit, &s);
        if (r < 0)
                return r;
        c.mod_wsgi = s.kind == PYSERVICE_MOD_WSGI;
        c.cgi = s.kind == PYSERVICE_CGI;
        if (c.mod_wsgi && s.version) {
                c.want = xstrdup(s.version);
                c.want_source = xasprintf("%s runs Python %s (%s%s%s)", unit, s.version, s.source,
                                          s.python_home ? "; " : "", s.python_home ? s.python_home : "");
        } else if (!python_given && s.kind == PYSERVICE_UNIT && !under_dir(s.program, venv_abs)) {
                c.want = xstrdup(s.version);
                c.want_source = xasprintf("%s runs Python %s (%s)", unit, s.version, s.source);
        } else if (python) {
                _cleanup_free_ char *resolved = NULL;
                if (pyversion_of_program(rootfd, python, &resolved, &c.want) >= 0 && c.want)
                        c.want_source = strcmp(resolved, python) == 0
                                                ? xasprintf("the app's Python %s is Python %s", python, c.want)
                                                : xasprintf("the app's Python %s (%s) is Python %s", python,
                                                            resolved, c.want);
        }
        pyservice_free(&s);
        r = venv_read(rootfd, venv_rel, abi, &c.venv);
        if (r < 0 && r != -ENOENT) {
                pycheck_free(&c);
                return r;
        }
        _cleanup_strv_ char **ev = c.want ? venv_evidence(&c.venv, c.want) : NULL;
        if (ev) {
                _cleanup_free_ char *why = strv_join(ev, "; ");
                c.mismatch = xasprintf("%s was built by %s%s (%s), but %s: run `pyshare rebuild %s`", venv_abs,
                                       c.venv.version ? "Python " : "another Python",
                                       c.venv.version ? c.venv.version : "", why, c.want_source, app);
        }
        *ret = c;
        return 0;
}

int pycheck_app(int rootfd, const char *app, const char *unit, const char *venv_rel, const char *venv_abs,
                const char *python, bool python_given, struct pycheck *ret)
{
        return pycheck(rootfd, app, unit, venv_rel, venv_abs, python, python_given, true, ret);
}

void pycheck_job_run(void *job)
{
        struct pycheck_job *pj = job;
        if (pj->done)
                return;
        pj->done = true;
        pj->r = pycheck(pj->rootfd, pj->app, pj->unit, pj->venv_rel, pj->venv_abs, pj->python, false, pj->abi, pj->pc);
}

void pycheck_json(struct json *j, const struct pycheck *c, const char *app)
{
        json_arr_begin(j, "causes");
        if (c->mismatch) {
                _cleanup_free_ char *fix = xasprintf("pyshare rebuild %s", app);
                json_obj_begin(j, NULL);
                json_str(j, "cause", PYVERSION_CAUSE);
                json_str(j, "text", c->mismatch);
                json_str(j, "service_python", c->want);
                json_str(j, "venv_python", c->venv.version);
                json_str(j, "fix", fix);
                json_obj_end(j);
        }
        json_arr_end(j);
}
