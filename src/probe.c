/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "probe.h"
#include "privdrop.h"
#include "pyembed.h"
#include "bus.h"
#include "contain.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Runs in the child's Python. Records go to fd 3, one line each, every field hex-encoded UTF-8
 * ("-" for None): imported code can print whatever it likes on stdout without reaching them. */
static const char probe_code[] =
        "import os, sys, importlib\n"
        "def _h(s, cap=4000):\n"
        "    if s is None: return '-'\n"
        "    s = str(s)[:cap]\n"
        "    return s.encode('utf-8', 'surrogateescape').hex() or '='\n"
        "def _emit(line):\n"
        "    data = (line + '\\n').encode()\n"
        "    while data:\n"
        "        data = data[os.write(3, data):]\n"
        "_emit('P ' + _h(sys.version.split()[0]) + ' ' + _h(sys.executable) + ' ' + _h(os.pathsep.join(sys.path)))\n"
        "_pd = None\n"
        "for _name in sys.argv[1:]:\n"
        "    try:\n"
        "        _m = importlib.import_module(_name)\n"
        "        _f = getattr(_m, '__file__', None)\n"
        "        _s = getattr(_m, '__spec__', None)\n"
        "        _ns = _f is None and _s is not None and _s.submodule_search_locations is not None\n"
        "        _v = getattr(_m, '__version__', None)\n"
        "        if _v is None:\n"
        "            try:\n"
        "                import importlib.metadata as _md\n"
        "                if _pd is None: _pd = _md.packages_distributions()\n"
        "                _d = _pd.get(_name.partition('.')[0])\n"
        "                _v = _md.version(_d[0]) if _d else None\n"
        "            except Exception:\n"
        "                _v = None\n"
        "        _emit('M ' + _h(_name) + ' 1 ' + _h(_v, 200) + ' ' + _h(_f) + ' ' + ('1' if _ns else '0') + ' - -')\n"
        "    except BaseException as _e:\n"
        "        _emit('M ' + _h(_name) + ' 0 - - 0 ' + _h(type(_e).__name__) + ' ' + _h(_e))\n"
        "_emit('E')\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n";

void probe_result_free(struct probe_result *r)
{
        for (size_t i = 0; i < r->n_modules; i++) {
                struct probe_module *m = &r->modules[i];
                free(m->name);
                free(m->version);
                free(m->file);
                free(m->error_type);
                free(m->error);
        }
        free(r->modules);
        free(r->python_version);
        free(r->executable);
        free(r->sys_path);
        free(r->failure);
        free(r->output);
        strv_free(r->sandbox);
        free(r->unit_error);
        *r = (struct probe_result){0};
}

static void report_failure(const char *what, int err)
{
        char line[512];
        char msg[400];
        snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
        int n = snprintf(line, sizeof(line), "F ");
        for (const char *p = msg; *p && n < (int)sizeof(line) - 4; p++)
                n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x", (unsigned char)*p);
        line[n++] = '\n';
        ssize_t k = write(3, line, (size_t)n);
        (void)k;
}

/* Runs the import code, with results to fd 3: the venv's interpreter, or libpython embedded. */
static _Noreturn void run_python(const char *interpreter, char *const *modules, char *const *env)
{
        size_t nmod = strv_length(modules);
        if (interpreter) {
                char **argv = xcalloc(nmod + 4, sizeof(char *));
                argv[0] = (char *)interpreter;
                argv[1] = "-c";
                argv[2] = (char *)probe_code;
                for (size_t i = 0; i < nmod; i++)
                        argv[3 + i] = modules[i];
                execve(interpreter, argv, env);
                report_failure(interpreter, errno);
                _exit(127);
        }
        if (clearenv() != 0)
                _exit(122);
        for (size_t i = 0; env && env[i]; i++)
                putenv(env[i]);
        char **argv = xcalloc(nmod + 2, sizeof(char *));
        argv[0] = "pyshare-probe";
        for (size_t i = 0; i < nmod; i++)
                argv[1 + i] = modules[i];
        _exit(pyembed_run(probe_code, (int)nmod + 1, argv));
}

struct forked {
        const struct probe_request *req;
        int out_fd, result_fd;
};

/* The contained worker: the namespace's init is its parent, and the namespace ends with it. */
static _Noreturn void child(void *userdata)
{
        const struct forked *f = userdata;
        const struct probe_request *req = f->req;
        int r = child_isolate(f->out_fd, f->result_fd);
        if (r < 0)
                _exit(121); /* fd 3 may not be there to report on */
        const char *step = NULL;
        r = privdrop_to(req->user, req->forbidden_gid, &step);
        if (r < 0) {
                report_failure(step, -r);
                _exit(122);
        }
        /* Changing ids cleared the parent-death signal; the init's end ends us anyway. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
                report_failure("parent-death signal", errno);
                _exit(122);
        }
        if (chdir("/") < 0) {
                report_failure("chdir /", errno);
                _exit(122);
        }
        r = child_limits((unsigned)(req->timeout_ms / 1000) + 2, req->as_limit);
        if (r < 0) {
                report_failure("setrlimit", -r);
                _exit(122);
        }
        umask(022);

        run_python(req->interpreter, req->modules, req->env);
}

static int unhex(const char *s, char **ret)
{
        if (strcmp(s, "-") == 0) {
                *ret = NULL;
                return 0;
        }
        if (strcmp(s, "=") == 0) {
                *ret = xstrdup("");
                return 0;
        }
        size_t n = strlen(s);
        if (n % 2)
                return -EINVAL;
        char *p = xmalloc(n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
                unsigned v;
                if (sscanf(s + 2 * i, "%2x", &v) != 1) {
                        free(p);
                        return -EINVAL;
                }
                p[i] = (char)v;
                if (v == 0)
                        p[i] = '?';
        }
        p[n / 2] = 0;
        *ret = p;
        return 0;
}

static void parse_results(char *text, struct probe_result *res)
{
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[8] = {0};
                size_t nf = 0;
                char *s2 = NULL;
                for (char *t = strtok_r(line, " ", &s2); t && nf < ELEMENTSOF(f); t = strtok_r(NULL, " ", &s2))
                        f[nf++] = t;
                if (nf == 0)
                        continue;
                if (strcmp(f[0], "E") == 0 && nf == 1)
                        res->completed = true;
                else if (strcmp(f[0], "F") == 0 && nf == 2 && !res->failure)
                        unhex(f[1], &res->failure);
                else if (strcmp(f[0], "P") == 0 && nf == 4 && !res->python_version) {
                        unhex(f[1], &res->python_version);
                        unhex(f[2], &res->executable);
                        unhex(f[3], &res->sys_path);
                } else if (strcmp(f[0], "M") == 0 && nf == 8 && res->n_modules < 4096) {
                        struct probe_module m = {.ok = strcmp(f[2], "1") == 0, .namespace_pkg = strcmp(f[5], "1") == 0};
                        if (unhex(f[1], &m.name) < 0 || !m.name || unhex(f[3], &m.version) < 0 ||
                            unhex(f[4], &m.file) < 0 || unhex(f[6], &m.error_type) < 0 || unhex(f[7], &m.error) < 0) {
                                free(m.name);
                                free(m.version);
                                free(m.file);
                                free(m.error_type);
                                free(m.error);
                                continue;
                        }
                        res->modules = xrealloc(res->modules, (res->n_modules + 1) * sizeof(m));
                        res->modules[res->n_modules++] = m;
                }
        }
}

/* Hands the captured output to res and parses the result records. */
static void finish_result(struct probe_result *res, struct buf *out, struct buf *results)
{
        buf_append(out, "", 0);
        res->output = TAKE_PTR(out->p);
        buf_append(results, "", 0);
        parse_results(results->p, res);
        buf_free(results);
}

/* The probe's two channels: what imported code prints, and the results. */
static int probe_pipes(int outp[2], int resp[2])
{
        if (pipe2(outp, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(resp, O_CLOEXEC) < 0) {
                int r = -errno;
                close(outp[0]);
                close(outp[1]);
                return r;
        }
        return 0;
}

/* The probe's two channels, read by the one loop that waits on a child (contain_collect). */
static void probe_streams(struct contain_stream s[2], int outfd, int resfd, struct buf *out, struct buf *results,
                          struct probe_result *res)
{
        s[0] = (struct contain_stream){.fd = outfd, .buf = out, .cap = PROBE_OUTPUT_MAX, .total = &res->output_bytes,
                                       .open = true};
        s[1] = (struct contain_stream){.fd = resfd, .buf = results, .cap = PROBE_RESULT_MAX, .open = true};
}

int probe_run(const struct probe_request *req, struct probe_result *ret)
{
        int outp[2] = {-1, -1}, resp[2] = {-1, -1};
        int r = probe_pipes(outp, resp);
        if (r < 0)
                return r;
        /* In a PID namespace of its own: whatever the imports start ends with the probe. */
        struct forked f = {.req = req, .out_fd = outp[1], .result_fd = resp[1]};
        struct contained c = CONTAINED_NULL;
        r = contain_start(&(struct contain_opts){0}, child, &f, &c);
        close(outp[1]);
        close(resp[1]);
        _cleanup_close_ int outfd = outp[0], resfd = resp[0];
        if (r < 0)
                return r;

        if (req->meanwhile)
                req->meanwhile(req->meanwhile_data);
        struct probe_result res = {0};
        struct buf out = {0}, results = {0};
        struct contain_stream s[2];
        probe_streams(s, outfd, resfd, &out, &results, &res);
        struct contain_watch w = contain_watch_of(&c);
        r = contain_collect(s, 2, &w, now_ms() + req->timeout_ms);
        res.timed_out = r == -ETIMEDOUT;
        int status = 0;
        contain_end(&c, &status, &res.leftover_killed);
        /* Killed at the deadline: what it wrote before is still worth reading. */
        if (r < 0)
                contain_drain(s, 2, now_ms() + 300);
        res.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        finish_result(&res, &out, &results);
        *ret = res;
        return 0;
}

/* ---- the probe as a transient unit -------------------------------------------------------- */

/* The unit's end, as the manager reports it (JobRemoved), for contain_collect. */
struct unit_watch {
        bus_job *job;
        const char *result;
};

static int unit_prepare(void *userdata, int *ret_fd, short *ret_events, int *ret_timeout_ms)
{
        struct unit_watch *w = userdata;
        int fd = bus_job_poll_fd(w->job, ret_events, ret_timeout_ms);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

static int unit_check(void *userdata, bool *ret_ended)
{
        struct unit_watch *w = userdata;
        return bus_job_process(w->job, ret_ended, &w->result);
}

int probe_run_unit(const struct probe_request *req, const char *service, struct probe_result *ret)
{
        char self[4096];
        ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k <= 0)
                return -errno;
        self[k] = 0;

        int outp[2] = {-1, -1}, resp[2] = {-1, -1};
        int r = probe_pipes(outp, resp);
        if (r < 0)
                return r;
        char **argv = NULL;
        strv_push(&argv, self);
        strv_push(&argv, "__probe-child");
        if (req->interpreter)
                strv_consume(&argv, xasprintf("--interpreter=%s", req->interpreter));
        strv_consume(&argv, xasprintf("--timeout=%d", req->timeout_ms / 1000));
        strv_consume(&argv, xasprintf("--as-limit=%llu", req->as_limit));
        strv_consume(&argv, xasprintf("--uid=%u", (unsigned)req->user->uid));
        strv_consume(&argv, xasprintf("--gid=%u", (unsigned)req->user->gid));
        strv_consume(&argv, xasprintf("--forbidden-gid=%u", (unsigned)req->forbidden_gid));
        strv_push(&argv, "--");
        for (size_t i = 0; req->modules && req->modules[i]; i++)
                strv_push(&argv, req->modules[i]);

        struct probe_result res = {.sandboxed = !req->without_sandbox};
        const struct bus_transient_req treq = {
                .unit_prefix = "pyshare-probe",
                .description = "pyshare probe",
                .copy_from = service,
                .copy_sandbox = !req->without_sandbox,
                .user = req->user->name,
                .argv = argv,
                .env = req->env,
                .env_complete = req->env_complete,
                .stdin_fd = resp[1],
                .stdout_fd = outp[1],
                .stderr_fd = outp[1],
                .timeout_ms = req->timeout_ms,
        };
        bus_job *job = NULL;
        r = bus_transient_start(&treq, &job, &res.sandbox);
        strv_free(argv);
        /* systemd holds its own copies of the write ends now. */
        close(outp[1]);
        close(resp[1]);
        _cleanup_close_ int outfd = outp[0], resfd = resp[0];
        if (r < 0) {
                for (size_t i = 0; res.sandbox && res.sandbox[i]; i++)
                        if (startswith(res.sandbox[i], "error: "))
                                res.unit_error = xstrdup(res.sandbox[i] + 7);
                if (!res.unit_error)
                        res.unit_error = xstrdup(strerror(-r));
                *ret = res;
                return 0;
        }

        if (req->meanwhile)
                req->meanwhile(req->meanwhile_data);
        struct buf out = {0}, results = {0};
        struct contain_stream s[2];
        probe_streams(s, outfd, resfd, &out, &results, &res);
        struct unit_watch uw = {.job = job};
        const struct contain_watch w = {.prepare = unit_prepare, .check = unit_check, .userdata = &uw};
        /* systemd enforces the timeout and kills the cgroup; our own deadline only catches a
         * manager that never answers. Then the unit is stopped, which kills its cgroup. */
        r = contain_collect(s, 2, &w, now_ms() + req->timeout_ms + 10000);
        if (r == -ETIMEDOUT) {
                res.timed_out = true;
                bus_job_stop(job);
                if (contain_collect(s, 2, &w, now_ms() + 5000) < 0)
                        contain_drain(s, 2, now_ms() + 300);
        }
        if (uw.result && strcmp(uw.result, "timeout") == 0)
                res.timed_out = true;
        res.exit_status = uw.result && strcmp(uw.result, "done") == 0 ? 0 : 1;
        bus_job_free(job);
        finish_result(&res, &out, &results);
        *ret = res;
        return 0;
}

/* An id from our own command line; 0 (which is refused) when it is malformed. */
static unsigned parse_id(const char *s)
{
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        return errno || end == s || *end || v >= UINT32_MAX ? 0 : (unsigned)v;
}

int probe_child_main(int argc, char **argv)
{
        const char *interpreter = NULL;
        int timeout = 30, i = 1;
        unsigned long long as_limit = 0;
        /* Who systemd was asked to make us. 0 until given, and 0 is refused: a missing or
         * malformed argument fails the check rather than skipping it. */
        unsigned uid = 0, gid = 0, forbidden_gid = 0;
        for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (startswith(argv[i], "--interpreter="))
                        interpreter = argv[i] + strlen("--interpreter=");
                else if (startswith(argv[i], "--timeout="))
                        timeout = atoi(argv[i] + strlen("--timeout="));
                else if (startswith(argv[i], "--as-limit="))
                        as_limit = strtoull(argv[i] + strlen("--as-limit="), NULL, 10);
                else if (startswith(argv[i], "--uid="))
                        uid = parse_id(argv[i] + strlen("--uid="));
                else if (startswith(argv[i], "--gid="))
                        gid = parse_id(argv[i] + strlen("--gid="));
                else if (startswith(argv[i], "--forbidden-gid="))
                        forbidden_gid = parse_id(argv[i] + strlen("--forbidden-gid="));
        }
        if (i < argc)
                i++;
        /* systemd gave us the result pipe as stdin: move it to fd 3 and give imported code
         * /dev/null, as the forked probe does. The pipe goes first: opened before, /dev/null
         * would be fd 3 itself and the dup2 would put the pipe back on stdin. */
        if (dup2(0, 3) != 3)
                return 121;
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, 0) != 0)
                return 121;
        syscall(SYS_close_range, 4U, ~0U, 0);
        /* systemd changed our ids (User=): verified as the forked probe verifies its own drop. */
        const char *step = "refusing uid or gid 0";
        int r = privdrop_clear_inheritable();
        if (r < 0)
                step = "clearing the inheritable capabilities";
        else
                r = uid != 0 && gid != 0 ? privdrop_verify(uid, gid, forbidden_gid, &step) : -EPERM;
        if (r < 0) {
                report_failure(step, -r);
                return 122;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || child_limits((unsigned)timeout + 2, as_limit) < 0) {
                report_failure("limits", errno);
                return 122;
        }
        extern char **environ;
        char **env = NULL;
        for (char **e = environ; e && *e; e++)
                strv_push(&env, *e);
        run_python(interpreter, argv + i, env);
}
