/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static void oom(void)
{
        static const char msg[] = "pyshare: out of memory\n";
        ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void)r;
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t m)
{
        void *p = calloc(n ? n : 1, m ? m : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                oom();
        return q;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *p;
        if (vasprintf(&p, fmt, ap) < 0)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *p = xvasprintf(fmt, ap);
        va_end(ap);
        return p;
}

void strv_free(char **l)
{
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

void strv_consume(char ***l, char *s)
{
        size_t n = strv_length(*l);
        *l = xrealloc(*l, (n + 2) * sizeof(char *));
        (*l)[n] = s;
        (*l)[n + 1] = NULL;
}

void strv_push(char ***l, const char *s) { strv_consume(l, xstrdup(s)); }

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (strcmp(l[i], s) == 0)
                        return true;
        return false;
}

char **strv_copy(char *const *l)
{
        if (!l)
                return NULL;
        char **c = xcalloc(strv_length(l) + 1, sizeof(char *));
        for (size_t i = 0; l[i]; i++)
                c[i] = xstrdup(l[i]);
        return c;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **l)
{
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_str);
}

/* Drops adjacent duplicates: call after strv_sort. */
void strv_uniq(char **l)
{
        if (!l || !l[0])
                return;
        size_t w = 1;
        for (size_t r = 1; l[r]; r++) {
                if (strcmp(l[r], l[w - 1]) == 0)
                        free(l[r]);
                else
                        l[w++] = l[r];
        }
        l[w] = NULL;
}

char *strv_join(char *const *l, const char *sep)
{
        struct buf b = {0};
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        buf_puts(&b, sep);
                buf_puts(&b, l[i]);
        }
        buf_append(&b, "", 0);
        return b.p;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap < b->len + n + 1)
                        cap *= 2;
                b->p = xrealloc(b->p, cap);
                b->cap = cap;
        }
        if (n)
                memcpy(b->p + b->len, data, n);
        b->len += n;
        b->p[b->len] = 0;
}

void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        buf_puts(b, s);
        free(s);
}

void buf_free(struct buf *b)
{
        free(b->p);
        *b = (struct buf){0};
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

char *strstrip(char *s)
{
        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
                s[--n] = 0;
        return s;
}

/* Returns the length of the UTF-8 sequence at s (1-4), or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF or truncated). */
size_t utf8_seq(const unsigned char *s, uint32_t *ret_cp)
{
        if (s[0] < 0x80) {
                *ret_cp = s[0];
                return 1;
        }
        uint32_t cp;
        size_t n;
        if ((s[0] & 0xe0) == 0xc0) {
                cp = s[0] & 0x1f;
                n = 2;
        } else if ((s[0] & 0xf0) == 0xe0) {
                cp = s[0] & 0x0f;
                n = 3;
        } else if ((s[0] & 0xf8) == 0xf0) {
                cp = s[0] & 0x07;
                n = 4;
        } else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RUN_OUTPUT_MAX (64 * 1024)

int read_until(int fd, long long deadline, struct buf *out, size_t cap)
{
        for (;;) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, (int)left) <= 0)
                        continue;
                char tmp[4096];
                ssize_t k = read(fd, tmp, sizeof(tmp));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return 0;
                if (out->len < cap)
                        buf_append(out, tmp, (size_t)k < cap - out->len ? (size_t)k : cap - out->len);
        }
}

/* fork(), but the child is the init of a new PID namespace, so that whatever it starts dies
 * with it (the kernel kills the rest of a PID namespace when its init ends). Only root may
 * make one: others get a plain fork, whose children are no more privileged than they are. */
static pid_t fork_contained(void)
{
        if (geteuid() == 0) {
                pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
                if (pid >= 0 || (errno != EPERM && errno != EINVAL && errno != ENOSPC && errno != EUSERS))
                        return pid;
        }
        return fork();
}

int run_command_with(char *const argv[], const struct run_hooks *h, int timeout_ms, char **ret_output)
{
        static char *const clean_env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "LANG=C.UTF-8",
                NULL,
        };
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        fflush(NULL);
        pid_t pid = fork_contained();
        if (pid < 0) {
                int r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                setsid();
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(pipefd[1], 1) < 0 ||
                    dup2(pipefd[1], 2) < 0)
                        _exit(127);
                if (h && h->child) {
                        const char *step = NULL;
                        int r = h->child(h->userdata, &step);
                        if (r < 0) {
                                dprintf(2, "pyshare: %s: %s\n", step, strerror(-r));
                                _exit(126);
                        }
                } else if (h && h->chroot_dir && chroot(h->chroot_dir) < 0)
                        _exit(126);
                /* Never the caller's directory: Python puts it first on sys.path. */
                if (chdir("/") < 0)
                        _exit(126);
                umask(022);
                execve(argv[0], argv, h && h->env ? h->env : clean_env);
                _exit(errno == ENOENT ? 127 : 126);
        }
        close(pipefd[1]);
        if (h && h->parent) {
                int r = h->parent(pid, h->userdata);
                if (r < 0) {
                        close(pipefd[0]);
                        kill(pid, SIGKILL);
                        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                        return r;
                }
        }

        struct buf out = {0};
        long long deadline = now_ms() + timeout_ms;
        bool timed_out = read_until(pipefd[0], deadline, &out, RUN_OUTPUT_MAX) == -ETIMEDOUT;
        close(pipefd[0]);
        /* Its output ended, but the command may live on (it closed its stdout): the deadline
         * holds for its end too. */
        int status;
        pid_t w;
        while ((w = waitpid(pid, &status, WNOHANG)) == 0 && !timed_out && now_ms() < deadline)
                usleep(10 * 1000);
        if (w == 0) {
                timed_out = true;
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
                        ;
        }
        if (w < 0) {
                int r = -errno;
                buf_free(&out);
                return r;
        }
        return command_result(&out, ret_output, timed_out, status);
}

int run_command(char *const argv[], const char *chroot_dir, int timeout_ms, char **ret_output)
{
        const struct run_hooks h = {.chroot_dir = chroot_dir};
        return run_command_with(argv, &h, timeout_ms, ret_output);
}

int command_result(struct buf *out, char **ret_output, bool timed_out, int status)
{
        if (ret_output) {
                buf_append(out, "", 0);
                *ret_output = TAKE_PTR(out->p);
        } else
                buf_free(out);
        if (timed_out)
                return -ETIMEDOUT;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
