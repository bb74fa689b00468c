/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The physical walk of a tree others can write: what it reports, what it skips, where it
 * stops, and chmod through a pinned O_PATH fd. */
#include "fswalk.h"
#include "helpers.h"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

/* What a walk saw: "path" for entries (with a trailing "/" for directories) and
 * "path: why" for skips, sorted, plus a few numbers. The walk may call back from more than
 * one thread at a time, so the callbacks lock. */
struct seen {
        pthread_mutex_t lock;
        char **entries;
        char **skips;
        unsigned max_depth;
        unsigned n_depth_skips, n_error_skips;
        unsigned first_depth_skip; /* depth of the first WALK_SKIP_DEPTH */
        const char *stop_at;       /* return -ECANCELED at this path */
        const char *prune;         /* return 1 at this directory */
        int (*hook)(const struct walk_entry *e, struct seen *s);
        void *hook_data;
        bool fd_ok; /* every directory's fd was the inode that was looked at */
};

static int seen_entry_locked(const struct walk_entry *e, struct seen *s)
{
        bool dir = S_ISDIR(e->stx.stx_mode);
        strv_consume(&s->entries, xasprintf("%s%s", e->path, dir ? "/" : ""));
        if (e->depth > s->max_depth)
                s->max_depth = e->depth;
        if (dir) {
                struct stat st;
                if (e->fd < 0 || fstat(e->fd, &st) < 0 || st.st_ino != e->stx.stx_ino)
                        s->fd_ok = false;
        } else if (e->fd != -1)
                s->fd_ok = false;
        if (s->hook) {
                int r = s->hook(e, s);
                if (r != 0)
                        return r;
        }
        if (s->stop_at && strcmp(e->path, s->stop_at) == 0)
                return -ECANCELED;
        if (s->prune && strcmp(e->path, s->prune) == 0)
                return 1;
        return 0;
}

static int seen_entry(const struct walk_entry *e, void *userdata)
{
        struct seen *s = userdata;
        pthread_mutex_lock(&s->lock);
        int r = seen_entry_locked(e, s);
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void seen_skipped(const struct walk_entry *e, enum walk_skip why, int err, void *userdata)
{
        struct seen *s = userdata;
        pthread_mutex_lock(&s->lock);
        strv_consume(&s->skips, xasprintf("%s: %s", e->path, walk_skip_name(why)));
        if (why == WALK_SKIP_DEPTH) {
                if (s->n_depth_skips++ == 0)
                        s->first_depth_skip = e->depth;
        }
        if (why == WALK_SKIP_ERROR) {
                s->n_error_skips++;
                print_message("error skip: %s: %s\n", e->path, strerror(-err));
        }
        pthread_mutex_unlock(&s->lock);
}

static const struct walk_ops seen_ops = {.entry = seen_entry, .skipped = seen_skipped};

static void seen_init(struct seen *s)
{
        *s = (struct seen){.fd_ok = true};
        pthread_mutex_init(&s->lock, NULL);
        s->entries = xcalloc(1, sizeof(char *));
        s->skips = xcalloc(1, sizeof(char *));
}

static void seen_done(struct seen *s)
{
        strv_sort(s->entries);
        strv_sort(s->skips);
}

static void seen_free(struct seen *s)
{
        strv_free(s->entries);
        strv_free(s->skips);
        pthread_mutex_destroy(&s->lock);
}

static void make_socket(struct tmp *t, const char *rel)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", t->path, rel);
        assert_true(n > 0 && (size_t)n < sizeof(sa.sun_path));
        check_errno(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
        close(fd);
}

static void make_tree(struct tmp *t)
{
        mkdir_p(t->fd, "top/a/b", 0755);
        mkdir_p(t->fd, "top/empty", 0700);
        write_file(t->fd, "top/f1", "1");
        write_file(t->fd, "top/a/f2", "2");
        write_file(t->fd, "top/a/b/f3", "3");
        check_errno(symlinkat("/etc", t->fd, "top/etc-link"));
        check_errno(symlinkat("f1", t->fd, "top/a/file-link"));
        check_errno(symlinkat("nowhere", t->fd, "top/dangling"));
        check_errno(mkfifoat(t->fd, "top/a/fifo", 0600));
        make_socket(t, "top/sock");
}

static void test_walk_tree(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        struct seen s;
        seen_init(&s);
        int before = count_fds();
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), 0);
        assert_int_equal(count_fds(), before); /* every directory closed */
        seen_done(&s);
        assert_strv_equal(s.entries, "T/", "T/a/", "T/a/b/", "T/a/b/f3", "T/a/f2", "T/empty/", "T/f1");
        assert_strv_equal(s.skips, "T/a/fifo: special file", "T/a/file-link: symlink", "T/dangling: symlink",
                          "T/etc-link: symlink", "T/sock: special file");
        assert_int_equal(s.max_depth, 3);
        assert_true(s.fd_ok);
        seen_free(&s);
}

static void test_walk_prune_and_stop(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        struct seen s;
        seen_init(&s);
        s.prune = "T/a";
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), 0);
        seen_done(&s);
        /* Nothing below a pruned directory, not even its skips. */
        assert_strv_equal(s.entries, "T/", "T/a/", "T/empty/", "T/f1");
        assert_strv_equal(s.skips, "T/dangling: symlink", "T/etc-link: symlink", "T/sock: special file");
        seen_free(&s);

        /* Pruning the top: only the top. */
        seen_init(&s);
        s.prune = "T";
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), 0);
        assert_strv_equal(s.entries, "T/");
        seen_free(&s);

        /* A negative return stops the walk and is returned, with nothing left open. */
        seen_init(&s);
        s.stop_at = "T/a/b/f3";
        int before = count_fds();
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), -ECANCELED);
        assert_int_equal(count_fds(), before);
        assert_true(strv_contains(s.entries, "T/a/b/f3"));
        seen_free(&s);

        seen_init(&s);
        s.stop_at = "T/a";
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), -ECANCELED);
        assert_false(strv_contains(s.entries, "T/a/f2"));
        assert_int_equal(count_fds(), before);
        seen_free(&s);
}

static void test_walk_top_not_followed(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        struct seen s;
        seen_init(&s);
        /* The top itself a symlink to a directory, a file, or missing. */
        check_errno(symlinkat("top", t->fd, "toplink"));
        assert_int_equal(fswalk(t->fd, "toplink", "L", &seen_ops, &s), -ENOTDIR);
        assert_int_equal(fswalk(t->fd, "top/f1", "F", &seen_ops, &s), -ENOTDIR);
        assert_int_equal(fswalk(t->fd, "missing", "M", &seen_ops, &s), -ENOENT);
        assert_strv_empty(s.entries);
        seen_free(&s);
}

/* The directory being walked is swapped for a symlink to elsewhere after it was opened: the
 * walk goes on in the directory it opened and never enters the symlink's target. */
static int swap_hook(const struct walk_entry *e, struct seen *s)
{
        struct tmp *t = s->hook_data;
        if (strcmp(e->path, "T/a") != 0)
                return 0;
        if (renameat(t->fd, "top/a", t->fd, "moved") < 0 || symlinkat("../outside", t->fd, "top/a") < 0)
                return -errno;
        return 0;
}

static void test_walk_swapped_directory(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        mkdir_p(t->fd, "outside/secret-dir", 0755);
        write_file(t->fd, "outside/secret", "s");
        struct seen s;
        seen_init(&s);
        s.hook = swap_hook;
        s.hook_data = t;
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), 0);
        seen_done(&s);
        assert_strv_equal(s.entries, "T/", "T/a/", "T/a/b/", "T/a/b/f3", "T/a/f2", "T/empty/", "T/f1");
        for (size_t i = 0; s.entries[i]; i++)
                assert_null(strstr(s.entries[i], "secret"));
        seen_free(&s);
}

/* walk_pin gives an O_PATH fd on the inode that was looked at, and refuses a replacement. */
static int pin_hook(const struct walk_entry *e, struct seen *s)
{
        struct tmp *t = s->hook_data;
        int fd = -1;
        if (strcmp(e->path, "T/f1") == 0) {
                if (walk_pin(e, &fd) < 0)
                        return -100;
                struct stat st;
                int flags = fcntl(fd, F_GETFL);
                bool ok = fstat(fd, &st) == 0 && st.st_ino == e->stx.stx_ino && (flags & O_PATH) &&
                          (fcntl(fd, F_GETFD) & FD_CLOEXEC);
                close(fd);
                if (!ok)
                        return -101;
                /* Replace f1 by another file, as an attacker would between look and change. */
                int nf = openat(t->fd, "top/f1.new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (nf < 0)
                        return -102;
                close(nf);
                if (renameat(t->fd, "top/f1.new", t->fd, "top/f1") < 0)
                        return -103;
                if (walk_pin(e, &fd) != -ESTALE)
                        return -104;
                /* And by a symlink. */
                if (unlinkat(t->fd, "top/f1", 0) < 0 || symlinkat("/etc/passwd", t->fd, "top/f1") < 0)
                        return -105;
                if (walk_pin(e, &fd) != -ESTALE)
                        return -106;
        } else if (strcmp(e->path, "T/a") == 0) {
                if (walk_pin(e, &fd) < 0)
                        return -107;
                struct stat st;
                bool ok = fstat(fd, &st) == 0 && st.st_ino == e->stx.stx_ino && fd != e->fd;
                close(fd);
                if (!ok)
                        return -108;
        }
        return 0;
}

static void test_walk_pin(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        struct seen s;
        seen_init(&s);
        s.hook = pin_hook;
        s.hook_data = t;
        assert_int_equal(fswalk(t->fd, "top", "T", &seen_ops, &s), 0);
        assert_true(strv_contains(s.entries, "T/f1"));
        assert_true(strv_contains(s.entries, "T/a/"));
        seen_free(&s);
}

/* A chain of n nested directories "d/d/d..." below top, with a file at the bottom. */
static void make_deep(struct tmp *t, unsigned n)
{
        check_errno(mkdirat(t->fd, "deep", 0755));
        int fd = openat(t->fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (unsigned i = 0; i < n; i++) {
                check_errno(mkdirat(fd, "d", 0755));
                int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(fd);
                fd = next;
        }
        int f = openat(fd, "bottom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(f >= 0);
        close(f);
        close(fd);
}

static void test_walk_depth_bound(void **state)
{
        struct tmp *t = *state;
        struct rlimit rl;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < WALK_MAX_DEPTH + 64) {
                struct rlimit more = {.rlim_cur = WALK_MAX_DEPTH + 256, .rlim_max = rl.rlim_max};
                if (more.rlim_cur > rl.rlim_max || setrlimit(RLIMIT_NOFILE, &more) < 0) {
                        print_message("skipped: RLIMIT_NOFILE %llu is too low to test the depth bound\n",
                                      (unsigned long long)rl.rlim_cur);
                        skip();
                }
        }
        make_deep(t, WALK_MAX_DEPTH + 5);
        struct seen s;
        seen_init(&s);
        int before = count_fds();
        assert_int_equal(fswalk(t->fd, "deep", "D", &seen_ops, &s), 0);
        assert_int_equal(count_fds(), before);
        assert_int_equal(s.max_depth, WALK_MAX_DEPTH);
        assert_int_equal(s.n_depth_skips, 1);
        assert_int_equal(s.first_depth_skip, WALK_MAX_DEPTH + 1);
        assert_int_equal(s.n_error_skips, 0);
        assert_int_equal(strv_length(s.entries), WALK_MAX_DEPTH + 1); /* top and 128 levels */
        setrlimit(RLIMIT_NOFILE, &rl);
        seen_free(&s);
}

/* Under a small RLIMIT_NOFILE the bound shrinks so that the walk never runs out of fds. */
static void test_walk_depth_low_rlimit(void **state)
{
        struct tmp *t = *state;
        make_deep(t, WALK_MAX_DEPTH + 5);
        struct rlimit rl, low = {.rlim_cur = 100};
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        low.rlim_max = rl.rlim_max;
        if (count_fds() > 20) {
                print_message("skipped: %d fds already open\n", count_fds());
                skip();
        }
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        struct seen s;
        seen_init(&s);
        int r = fswalk(t->fd, "deep", "D", &seen_ops, &s);
        setrlimit(RLIMIT_NOFILE, &rl);
        assert_int_equal(r, 0);
        assert_int_equal(s.n_error_skips, 0);
        assert_int_equal(s.n_depth_skips, 1);
        assert_true(s.max_depth > 16 && s.max_depth < 100);
        assert_int_equal(s.first_depth_skip, s.max_depth + 1);
        seen_free(&s);
}

/* A bind mount of a directory of the same filesystem (same st_dev) is another mount. */
struct mnt_ctx {
        struct tmp *t;
        struct seen *s;
};

static int walk_mount_child(void *userdata)
{
        struct mnt_ctx *m = userdata;
        if (become_root(true) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 77;
        _cleanup_free_ char *src = xasprintf("%s/outside", m->t->path);
        _cleanup_free_ char *dst = xasprintf("%s/top/a/mnt", m->t->path);
        _cleanup_free_ char *tmpfs = xasprintf("%s/top/tmpfs", m->t->path);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0 || mount("none", tmpfs, "tmpfs", 0, "size=64k") < 0)
                return 77;
        struct stat a, b;
        if (stat(src, &a) < 0 || stat(dst, &b) < 0 || a.st_dev != b.st_dev)
                return 10; /* the point: st_dev alone cannot tell */
        /* An fd opened before unshare() still sees the old namespace's mounts. */
        int fd = open(m->t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 15;
        int r = fswalk(fd, "top", "T", &seen_ops, m->s);
        if (r != 0)
                return 11;
        seen_done(m->s);
        static const char *const want_skips[] = {"T/a/fifo: special file", "T/a/file-link: symlink",
                                                 "T/a/mnt: other mount",   "T/dangling: symlink",
                                                 "T/etc-link: symlink",    "T/sock: special file",
                                                 "T/tmpfs: other mount"};
        bool same = strv_length(m->s->skips) == ELEMENTSOF(want_skips);
        for (size_t i = 0; same && i < ELEMENTSOF(want_skips); i++)
                same = strcmp(m->s->skips[i], want_skips[i]) == 0;
        if (!same) {
                for (size_t i = 0; m->s->skips[i]; i++)
                        fprintf(stderr, "skip: %s\n", m->s->skips[i]);
                return 12;
        }
        for (size_t i = 0; m->s->entries[i]; i++)
                if (strstr(m->s->entries[i], "secret") || strstr(m->s->entries[i], "mnt"))
                        return 14;
        return 0;
}

static void test_walk_other_mounts(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        mkdir_p(t->fd, "top/a/mnt", 0755);
        mkdir_p(t->fd, "top/tmpfs", 0755);
        mkdir_p(t->fd, "outside", 0755);
        write_file(t->fd, "outside/secret", "s");
        struct seen s;
        seen_init(&s);
        struct mnt_ctx m = {.t = t, .s = &s};
        int status = run_in_child(walk_mount_child, &m);
        seen_free(&s);
        assert_child_ok(status, "cannot create a mount namespace here");
}

/* A directory that cannot be read to the end is not walked "successfully": the caller would
 * report a tree as repaired when part of it was never looked at. getdents64 fails with EIO
 * here (a seccomp filter, in a child), as it does on a failing disk or a stale NFS handle. */
static int readdir_error_child(void *userdata)
{
        struct mnt_ctx *m = userdata;
        if (deny_syscall(SYS_getdents64, SECCOMP_RET_ERRNO | EIO) < 0)
                return 77;
        int r = fswalk(m->t->fd, "top", "T", &seen_ops, m->s);
        if (r < 0 || m->s->n_error_skips > 0)
                return 0;
        fprintf(stderr, "fswalk returned %d and reported no error although no directory could be read\n", r);
        return 10;
}

static void test_walk_readdir_error_reported(void **state)
{
        struct tmp *t = *state;
        make_tree(t);
        struct seen s;
        seen_init(&s);
        struct mnt_ctx m = {.t = t, .s = &s};
        int status = run_in_child(readdir_error_child, &m);
        seen_free(&s);
        assert_child_ok(status, "no seccomp filter here (or not x86-64)");
}

/* ---- chmod_fd ----------------------------------------------------------------------------- */

static void test_chmod_fd_o_path(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "f", "x");
        check_errno(fchmodat(t->fd, "f", 0600, 0));
        check_errno(mkdirat(t->fd, "d", 0700));
        int fd = openat(t->fd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        int dfd = openat(t->fd, "d", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        assert_true(fd >= 0 && dfd >= 0);
        assert_int_equal(chmod_fd(fd, 0640), 0);
        assert_int_equal(chmod_fd(dfd, 02770), 0);
        struct stat st;
        assert_int_equal(fstatat(t->fd, "f", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(fstatat(t->fd, "d", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 02770);
        /* The inode behind the fd, even after its name moved. */
        check_errno(renameat(t->fd, "f", t->fd, "g"));
        assert_int_equal(chmod_fd(fd, 0604), 0);
        assert_int_equal(fstatat(t->fd, "g", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0604);
        close(fd);
        close(dfd);
}

/* The fallback for kernels before 6.6 (Debian 12 runs 6.1): fchmodat2 answers ENOSYS, as a
 * seccomp filter makes it do here. */
static int fallback_child(void *userdata)
{
        struct tmp *t = userdata;
        if (deny_syscall(452 /* fchmodat2 */, SECCOMP_RET_ERRNO | ENOSYS) < 0)
                return 77;
        /* The filter works: fchmodat2 is "missing" now (on a bad fd, so that it could change
         * nothing even without the filter). */
        if (syscall(452, -1, "", 0600, AT_EMPTY_PATH) != -1 || errno != ENOSYS)
                return 10;
        int fd = openat(t->fd, "f", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 11;
        if (chmod_fd(fd, 0640) != 0)
                return 12;
        struct stat st;
        if (fstatat(t->fd, "f", &st, 0) < 0 || (st.st_mode & 07777) != 0640)
                return 13;
        close(fd);
        return 0;
}

static void test_chmod_fd_fallback(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "f", "x");
        check_errno(fchmodat(t->fd, "f", 0600, 0));
        assert_child_ok(run_in_child(fallback_child, t), "no seccomp filter here (or not x86-64)");
}

static void test_skip_names(void **state)
{
        (void)state;
        assert_string_equal(walk_skip_name(WALK_SKIP_SYMLINK), "symlink");
        assert_string_equal(walk_skip_name(WALK_SKIP_SPECIAL), "special file");
        assert_string_equal(walk_skip_name(WALK_SKIP_MOUNT), "other mount");
        assert_string_equal(walk_skip_name(WALK_SKIP_DEPTH), "too deep");
        assert_string_equal(walk_skip_name(WALK_SKIP_CHANGED), "changed during the walk");
        assert_string_equal(walk_skip_name(WALK_SKIP_ERROR), "error");
        assert_string_equal(walk_skip_name(_WALK_SKIP_MAX), "?");
}

/* The walk runs single-threaded or with two workers (PYSHARE_WALK_THREADS): every walk test
 * runs both ways. */
static int threads_1(void **state)
{
        (void)state;
        return setenv("PYSHARE_WALK_THREADS", "1", 1);
}

static int threads_2(void **state)
{
        (void)state;
        return setenv("PYSHARE_WALK_THREADS", "2", 1);
}

int main(void)
{
        const struct CMUnitTest walk_tests[] = {
                tmp_test(test_walk_tree),
                tmp_test(test_walk_prune_and_stop),
                tmp_test(test_walk_top_not_followed),
                tmp_test(test_walk_swapped_directory),
                tmp_test(test_walk_pin),
                tmp_test(test_walk_depth_bound),
                tmp_test(test_walk_depth_low_rlimit),
                tmp_test(test_walk_other_mounts),
                tmp_test(test_walk_readdir_error_reported),
        };
        const struct CMUnitTest other_tests[] = {
                tmp_test(test_chmod_fd_o_path),
                tmp_test(test_chmod_fd_fallback),
                cmocka_unit_test(test_skip_names),
        };
        int failed = cmocka_run_group_tests_name("walk, one thread", walk_tests, threads_1, NULL);
        failed += cmocka_run_group_tests_name("walk, two threads", walk_tests, threads_2, NULL);
        failed += cmocka_run_group_tests_name("chmod_fd", other_tests, NULL, NULL);
        return failed;
}
