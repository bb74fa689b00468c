/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 0: cleanup helpers, string lists, small process helpers. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(const int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
void strv_free(char **l);
static inline void strv_freep(char ***l) { strv_free(*l); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Hand ownership on: the variable is reset so its cleanup does nothing. */
#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _t = (fd);                                                                     \
                (fd) = -1;                                                                         \
                _t;                                                                                \
        })
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _t = (p);                                                            \
                (p) = NULL;                                                                        \
                _t;                                                                                \
        })

/* In a function with a `const char **ret_step` parameter: unless cond holds, name the step and
 * return -errno (-EPERM when the failed check set none). Clear errno before a check that is
 * not a system call. */
#define STEP(cond, what)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        *ret_step = what;                                                          \
                        return errno ? -errno : -EPERM;                                            \
                }                                                                                  \
        } while (0)

/* Error classes beyond errno. Functions return -errno or -PS_E_*; main.c maps them to exit
 * codes. Plain errno values mean "cannot create or write" (73). */
enum {
        PS_E_BASE = 4096,
        PS_E_PROBLEM,  /* a probe/status/check found a problem: 1 */
        PS_E_USAGE,    /* usage or malformed name: 2 */
        PS_E_INVALID,  /* refused or invalid setting: 65 */
        PS_E_NOTFOUND, /* user, group, service or Python does not exist: 69 */
        PS_E_NOTROOT,  /* needs root: 77 */
        PS_E_REPORTED, /* already reported to the user; exit 73 */
        PS_E_UNSYNCED, /* a file was renamed into place, but its directory could not be synced: 73 */
};

/* Allocation failure is not recoverable in a short-lived command-line tool. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* NULL-terminated string lists. */
size_t strv_length(char *const *l);
void strv_push(char ***l, const char *s);
void strv_consume(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
/* A copy of l (NULL for NULL). */
char **strv_copy(char *const *l);
void strv_sort(char **l);
void strv_uniq(char **l);
char *strv_join(char *const *l, const char *sep);

/* A growing byte buffer. */
struct buf {
        char *p;
        size_t len, cap;
};
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_free(struct buf *b);
static inline void buf_freep(struct buf *b) { buf_free(b); }
#define _cleanup_buf_ _cleanup_(buf_freep)

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);
char *strstrip(char *s);

/* The length of the UTF-8 sequence at s (1-4) and its code point, or 0 when it is invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
size_t utf8_seq(const unsigned char *s, uint32_t *ret_cp);

/* Monotonic clock in milliseconds. */
long long now_ms(void);

/* Reads fd until EOF (0) or the deadline (-ETIMEDOUT, now_ms() based), keeping the first cap
 * bytes in out and dropping the rest. */
int read_until(int fd, long long deadline, struct buf *out, size_t cap);

/* The end of a command run: hands out (NUL-terminated) to *ret_output when asked, and gives
 * -ETIMEDOUT, or the exit status as run_command does (128+signal when killed). */
int command_result(struct buf *out, char **ret_output, bool timed_out, int status);

/* Run argv (argv[0] an absolute path) as init of a new PID namespace when root (everything
 * it starts ends with it), in a new session, from / (after the chroot when one is given),
 * with a fixed environment (PATH, LANG), stdin from /dev/null and umask 022, and collect
 * stdout+stderr (capped at 64 KiB). Returns the exit status (>= 0, 128+signal when killed)
 * or -errno when it could not be started; -ETIMEDOUT after timeout_ms (the child and its
 * process group are killed). */
int run_command(char *const argv[], const char *chroot_dir, int timeout_ms, char **ret_output);

/* The same with hooks: child() runs in the child after its stdio is set and before chdir("/")
 * and execve, in place of the chroot (a failure: "pyshare: STEP: error" in the output and
 * status 126); parent() runs in the parent right after the fork (a failure kills the child
 * and is returned); env replaces the fixed environment when given. */
struct run_hooks {
        const char *chroot_dir;
        char *const *env;
        int (*child)(void *userdata, const char **ret_step);
        int (*parent)(pid_t pid, void *userdata);
        void *userdata;
};
int run_command_with(char *const argv[], const struct run_hooks *h, int timeout_ms, char **ret_output);
