/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by every tests/unit/test-*.c: temporary directories, small file helpers, list
 * assertions, and a way to act as root without being root (a user namespace). Everything is
 * static inline: each test binary includes this once and uses only part of it. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "util.h"

/* Test output must survive a crash: tests/unit/run counts the "[ RUN ]" and "[ OK ]" lines,
 * and a buffered stdout would be lost when a sanitizer aborts the binary. */
__attribute__((constructor)) static void helpers_unbuffer_stdout(void) { setvbuf(stdout, NULL, _IONBF, 0); }

/* ---- temporary directories -------------------------------------------------------------- */

/* /var/tmp: on Debian a disk filesystem with ACLs and xattrs (unlike a tmpfs /tmp, on some
 * systems). $PYSHARE_TEST_TMPDIR overrides it. */
static inline char *tmpdir_new(void)
{
        const char *base = getenv("PYSHARE_TEST_TMPDIR");
        char *p = xasprintf("%s/pyshare-unit-XXXXXX", base && *base ? base : "/var/tmp");
        if (!mkdtemp(p)) {
                fprintf(stderr, "mkdtemp(%s): %s\n", p, strerror(errno));
                abort();
        }
        return p;
}

static inline int tmpdir_unlock_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
        (void)st;
        (void)f;
        if (type == FTW_D || type == FTW_DNR)
                chmod(p, 0700);
        return 0;
}

static inline int tmpdir_remove_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
        (void)st;
        (void)f;
        if (remove(p) < 0 && errno != ENOENT)
                fprintf(stderr, "cleanup: remove(%s): %s\n", p, strerror(errno));
        (void)type;
        return 0;
}

/* Removes path and everything below, never following a symlink (FTW_PHYS). */
static inline void tmpdir_remove(const char *path)
{
        if (!path)
                return;
        /* Directories a test made unreadable must be opened to be emptied. */
        nftw(path, tmpdir_unlock_one, 32, FTW_PHYS | FTW_MOUNT);
        nftw(path, tmpdir_remove_one, 32, FTW_PHYS | FTW_DEPTH | FTW_MOUNT);
}

/* The test's temporary directory, removed at the end of the test (cmocka setup/teardown). */
struct tmp {
        char *path;
        int fd;
};

static inline int tmp_setup(void **state)
{
        struct tmp *t = xcalloc(1, sizeof(*t));
        t->path = tmpdir_new();
        t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->fd < 0)
                return -1;
        *state = t;
        return 0;
}

static inline int tmp_teardown(void **state)
{
        struct tmp *t = *state;
        if (!t)
                return 0;
        close(t->fd);
        tmpdir_remove(t->path);
        free(t->path);
        free(t);
        return 0;
}

#define tmp_test(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

/* ---- small file helpers (they abort the test on failure) --------------------------------- */

#define check_errno(call)                                                                          \
        do {                                                                                       \
                if ((call) < 0) {                                                                  \
                        print_error("%s: %s\n", #call, strerror(errno));                           \
                        _fail(__FILE__, __LINE__);                                                 \
                }                                                                                  \
        } while (0)

/* Creates every directory of rel below dirfd (like mkdir -p), each with mode. */
static inline void mkdir_p(int dirfd, const char *rel, mode_t mode)
{
        _cleanup_free_ char *copy = xstrdup(rel);
        for (char *s = copy;; s++) {
                if (*s != '/' && *s)
                        continue;
                char saved = *s;
                *s = 0;
                if (*copy && mkdirat(dirfd, copy, mode) < 0 && errno != EEXIST) {
                        print_error("mkdir %s: %s\n", copy, strerror(errno));
                        fail();
                }
                if (*copy && fchmodat(dirfd, copy, mode, 0) < 0) {
                        print_error("chmod %s: %s\n", copy, strerror(errno));
                        fail();
                }
                *s = saved;
                if (!saved)
                        break;
        }
}

/* Writes content to dirfd/rel (parents created 0755), replacing what is there. */
static inline void write_file(int dirfd, const char *rel, const char *content)
{
        const char *slash = strrchr(rel, '/');
        if (slash) {
                _cleanup_free_ char *parent = xstrndup(rel, (size_t)(slash - rel));
                mkdir_p(dirfd, parent, 0755);
        }
        int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
                print_error("create %s: %s\n", rel, strerror(errno));
                fail();
        }
        size_t n = strlen(content);
        assert_int_equal(write(fd, content, n), (ssize_t)n);
        close(fd);
}

/* The content of dirfd/rel, or NULL when it cannot be read. */
static inline char *read_file(int dirfd, const char *rel)
{
        int fd = openat(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct buf b = {0};
        char chunk[4096];
        ssize_t k;
        while ((k = read(fd, chunk, sizeof(chunk))) > 0)
                buf_append(&b, chunk, (size_t)k);
        close(fd);
        buf_append(&b, "", 0);
        return b.p;
}

/* Writes dirfd/rel (which must exist) with extra appended to dirfd/dst_rel. */
static inline void append_file(int dirfd, const char *rel, const char *extra, const char *dst_rel)
{
        char *text = read_file(dirfd, rel);
        assert_non_null(text);
        char *changed = xasprintf("%s%s", text, extra);
        write_file(dirfd, dst_rel, changed);
        free(changed);
        free(text);
}

static inline bool exists_at(int dirfd, const char *rel)
{
        struct stat st;
        return fstatat(dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Names in dirfd (without . and ..), sorted. */
static inline char **list_dir(int dirfd)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        DIR *d = fdopendir(fd);
        assert_non_null(d);
        char **l = xcalloc(1, sizeof(char *));
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
                        strv_push(&l, de->d_name);
        closedir(d);
        strv_sort(l);
        return l;
}

/* Number of open file descriptors of this process (to find leaks). */
static inline int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -1;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* opendir's own */
}

/* ---- list assertions ---------------------------------------------------------------------- */

static inline void print_strv(const char *what, char *const *l)
{
        print_error("  %s (%zu):\n", what, strv_length(l));
        for (size_t i = 0; l && l[i]; i++)
                print_error("    [%zu] \"%s\"\n", i, l[i]);
}

static inline void assert_strv_equal_at(const char *file, int line, char *const *got, const char *const *want)
{
        size_t n = 0;
        while (want[n])
                n++;
        bool ok = strv_length(got) == n;
        for (size_t i = 0; ok && i < n; i++)
                ok = strcmp(got[i], want[i]) == 0;
        if (!ok) {
                print_error("string lists differ\n");
                print_strv("got", got);
                print_strv("want", (char *const *)want);
                _fail(file, line);
        }
}

/* assert_strv_equal(list, "a", "b"): exactly these strings in this order. */
#define assert_strv_equal(got, ...)                                                                \
        assert_strv_equal_at(__FILE__, __LINE__, (got), (const char *const[]){__VA_ARGS__, NULL})
#define assert_strv_empty(got)                                                                     \
        assert_strv_equal_at(__FILE__, __LINE__, (got), (const char *const[]){NULL})

/* Compares byte buffers and prints both in hex when they differ. */
static inline void assert_bytes_equal_at(const char *file, int line, const void *got, size_t got_len,
                                         const void *want, size_t want_len)
{
        if (got_len == want_len && memcmp(got, want, got_len) == 0)
                return;
        print_error("byte buffers differ (got %zu bytes, want %zu)\n  got: ", got_len, want_len);
        for (size_t i = 0; i < got_len; i++)
                print_error("%02x%s", ((const uint8_t *)got)[i], i % 8 == 3 ? " " : "");
        print_error("\n want: ");
        for (size_t i = 0; i < want_len; i++)
                print_error("%02x%s", ((const uint8_t *)want)[i], i % 8 == 3 ? " " : "");
        print_error("\n");
        _fail(file, line);
}
#define assert_bytes_equal(got, got_len, want, want_len)                                           \
        assert_bytes_equal_at(__FILE__, __LINE__, (got), (got_len), (want), (want_len))

/* ---- acting as root without being root ---------------------------------------------------- */

static inline int write_proc(const char *file, const char *text)
{
        int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = write(fd, text, strlen(text));
        int r = k == (ssize_t)strlen(text) ? 0 : -errno;
        close(fd);
        return r;
}

/* Makes this process uid 0 / gid 0 for the files it creates: as root nothing to do; otherwise
 * it enters a new user namespace in which its own uid and gid are 0 (extra, with mount too, a
 * mount namespace). Returns 0 when the process now acts as root, -errno when it cannot. */
static inline int become_root(bool mount_ns)
{
        if (geteuid() == 0)
                return mount_ns && unshare(CLONE_NEWNS) < 0 ? -errno : 0;
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | (mount_ns ? CLONE_NEWNS : 0)) < 0)
                return -errno;
        char map[64];
        int r;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
        if ((r = write_proc("/proc/self/uid_map", map)) < 0)
                return r;
        if ((r = write_proc("/proc/self/setgroups", "deny\n")) < 0)
                return r;
        snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
        return write_proc("/proc/self/gid_map", map);
}

/* Runs fn in a child process (so that namespaces, seccomp filters and resource limits stay
 * there) and returns its exit status; 77 conventionally means "cannot run here". */
static inline int run_in_child(int (*fn)(void *), void *userdata)
{
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                _exit(fn(userdata));
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

/* Interprets run_in_child's result: 0 passes, 77 skips with why, anything else fails. */
#define assert_child_ok(status, why_skip)                                                          \
        do {                                                                                       \
                int _s = (status);                                                                 \
                if (_s == 77) {                                                                    \
                        print_message("skipped: %s\n", why_skip);                                  \
                        skip();                                                                    \
                }                                                                                  \
                if (_s != 0) {                                                                     \
                        print_error("child failed with status %d (the check that failed is "      \
                                    "numbered in the test)\n",                                     \
                                    _s);                                                           \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

/* ---- seccomp ------------------------------------------------------------------------------ */

/* Installs a filter that answers one system call with ret (SECCOMP_RET_ERRNO | e, or
 * SECCOMP_RET_KILL_PROCESS) and allows the rest: a kernel without that call, or a failing disk,
 * for this process and its children. -EOPNOTSUPP where the filter is not written for the
 * architecture. */
static inline int deny_syscall(long nr, unsigned ret)
{
#if defined(__x86_64__)
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, ret),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = {.len = ELEMENTSOF(filter), .filter = filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                return -errno;
        return 0;
#else
        (void)nr;
        (void)ret;
        return -EOPNOTSUPP;
#endif
}
