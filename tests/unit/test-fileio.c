/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fd-based file work: atomic writes under /etc, bounded reads that never block, trusted
 * directories, removal that never follows a symlink, the machine-wide lock. */
#include "fileio.h"
#include "helpers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/resource.h>

/* file_write_atomic makes files root:root, and "already right" includes the owner: as an
 * ordinary user the test runs in a user namespace where it is root (helpers.h). */
static void need_root(void)
{
        static int r = 1;
        if (r == 1)
                r = become_root(false);
        if (r < 0) {
                print_message("skipped: not root and no user namespace: %s\n", strerror(-r));
                skip();
        }
}

/* ---- file_write_atomic -------------------------------------------------------------------- */

static void test_write_atomic(void **state)
{
        struct tmp *t = *state;
        need_root();
        static const char content[] = "[App]\nGroup=deploy\n";
        bool changed = false;
        assert_int_equal(file_write_atomic(t->fd, "app.conf", content, strlen(content), 0640, false, &changed), 0);
        assert_true(changed);

        _cleanup_free_ char *got = read_file(t->fd, "app.conf");
        assert_string_equal(got, content);
        struct stat st;
        assert_int_equal(fstatat(t->fd, "app.conf", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 0);
        /* No temporary file left behind. */
        _cleanup_strv_ char **names = list_dir(t->fd);
        assert_strv_equal(names, "app.conf");
}

static void test_write_atomic_unchanged(void **state)
{
        struct tmp *t = *state;
        need_root();
        static const char content[] = "PYTHONPATH=\"/opt/x\"\n";
        bool changed = false;
        assert_int_equal(file_write_atomic(t->fd, "env", content, strlen(content), 0644, false, &changed), 0);
        assert_true(changed);
        struct stat before, after;
        assert_int_equal(fstatat(t->fd, "env", &before, AT_SYMLINK_NOFOLLOW), 0);

        usleep(20 * 1000); /* so that a rewrite would show in the mtime */
        changed = true;
        assert_int_equal(file_write_atomic(t->fd, "env", content, strlen(content), 0644, false, &changed), 0);
        assert_false(changed);
        assert_int_equal(fstatat(t->fd, "env", &after, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(after.st_ino, before.st_ino);
        assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
        assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
        assert_int_equal(after.st_ctim.tv_nsec, before.st_ctim.tv_nsec);

        /* Different content, or the same content with another mode, is rewritten. */
        assert_int_equal(file_write_atomic(t->fd, "env", content, strlen(content), 0600, false, &changed), 0);
        assert_true(changed);
        assert_int_equal(fstatat(t->fd, "env", &after, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(after.st_mode & 07777, 0600);
        assert_int_equal(file_write_atomic(t->fd, "env", "X=1\n", 4, 0600, false, &changed), 0);
        assert_true(changed);
        _cleanup_free_ char *got = read_file(t->fd, "env");
        assert_string_equal(got, "X=1\n");
        /* A longer file whose start is the content is not "already right". */
        assert_int_equal(file_write_atomic(t->fd, "env", "X=1", 3, 0600, false, &changed), 0);
        assert_true(changed);
        _cleanup_free_ char *got2 = read_file(t->fd, "env");
        assert_string_equal(got2, "X=1");
        _cleanup_strv_ char **names = list_dir(t->fd);
        assert_strv_equal(names, "env");
}

static void test_write_atomic_dry_run(void **state)
{
        struct tmp *t = *state;
        need_root();
        bool changed = false;
        assert_int_equal(file_write_atomic(t->fd, "new.conf", "x\n", 2, 0644, true, &changed), 0);
        assert_true(changed);
        _cleanup_strv_ char **names = list_dir(t->fd);
        assert_strv_empty(names);

        /* An existing file with other content: reported, not touched. */
        write_file(t->fd, "old.conf", "old\n");
        assert_int_equal(file_write_atomic(t->fd, "old.conf", "new\n", 4, 0644, true, &changed), 0);
        assert_true(changed);
        _cleanup_free_ char *got = read_file(t->fd, "old.conf");
        assert_string_equal(got, "old\n");

        /* The directory does not exist yet (dirfd -1). */
        changed = false;
        assert_int_equal(file_write_atomic(-1, "x.conf", "x", 1, 0644, true, &changed), 0);
        assert_true(changed);
        _cleanup_strv_ char **names2 = list_dir(t->fd);
        assert_strv_equal(names2, "old.conf");
}

/* A planted symlink (to a file outside) is replaced, its target never written. */
static void test_write_atomic_replaces_symlink(void **state)
{
        struct tmp *t = *state;
        need_root();
        write_file(t->fd, "victim", "precious\n");
        check_errno(symlinkat("victim", t->fd, "app.conf"));
        bool changed = false;
        assert_int_equal(file_write_atomic(t->fd, "app.conf", "precious\n", 9, 0644, false, &changed), 0);
        assert_true(changed); /* a symlink is never "already right" */
        struct stat st;
        assert_int_equal(fstatat(t->fd, "app.conf", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(file_write_atomic(t->fd, "app.conf", "mine\n", 5, 0644, false, &changed), 0);
        _cleanup_free_ char *v = read_file(t->fd, "victim");
        assert_string_equal(v, "precious\n");
}

/* A hard link to another file is broken, not written through. */
static void test_write_atomic_hardlink(void **state)
{
        struct tmp *t = *state;
        need_root();
        static const char content[] = "same\n";
        bool changed;
        assert_int_equal(file_write_atomic(t->fd, "other", content, strlen(content), 0644, false, &changed), 0);
        check_errno(linkat(t->fd, "other", t->fd, "app.conf", 0));
        /* Same content, owner and mode, but two names: not "already right". */
        assert_int_equal(file_write_atomic(t->fd, "app.conf", content, strlen(content), 0644, false, &changed), 0);
        assert_true(changed);
        assert_int_equal(file_write_atomic(t->fd, "app.conf", "new\n", 4, 0644, false, &changed), 0);
        _cleanup_free_ char *o = read_file(t->fd, "other");
        assert_string_equal(o, content);
        struct stat st;
        assert_int_equal(fstatat(t->fd, "other", &st, 0), 0);
        assert_int_equal(st.st_nlink, 1);
}

/* ---- file_read_at ----------------------------------------------------------------------- */

static void test_read_regular(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "f", "hello\nworld");
        char *p = NULL;
        size_t len = 0;
        struct stat st;
        assert_int_equal(file_read_at(t->fd, "f", 1024, &p, &len, &st), 0);
        assert_int_equal(len, 11);
        assert_memory_equal(p, "hello\nworld", 12); /* NUL-terminated */
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 11);
        free(p);

        /* Exactly max bytes is fine, one more is -EFBIG. */
        p = NULL;
        assert_int_equal(file_read_at(t->fd, "f", 11, &p, NULL, NULL), 0);
        free(p);
        p = (char *)0x1;
        assert_int_equal(file_read_at(t->fd, "f", 10, &p, &len, NULL), -EFBIG);
        assert_ptr_equal(p, (char *)0x1);

        /* Empty file. */
        write_file(t->fd, "empty", "");
        p = NULL;
        assert_int_equal(file_read_at(t->fd, "empty", 0, &p, &len, NULL), 0);
        assert_int_equal(len, 0);
        assert_string_equal(p, "");
        free(p);

        assert_int_equal(file_read_at(t->fd, "missing", 10, &p, NULL, NULL), -ENOENT);
}

static void test_read_fifo_does_not_block(void **state)
{
        struct tmp *t = *state;
        check_errno(mkfifoat(t->fd, "fifo", 0600));
        /* If the read blocked, SIGALRM would end the binary: a crash the runner reports. */
        alarm(10);
        long long start = now_ms();
        char *p = (char *)0x1;
        assert_int_equal(file_read_at(t->fd, "fifo", 1024, &p, NULL, NULL), -EINVAL);
        long long took = now_ms() - start;
        alarm(0);
        assert_true(took < 1000);
        assert_ptr_equal(p, (char *)0x1);
}

static void test_read_refuses_others(void **state)
{
        struct tmp *t = *state;
        char *p = NULL;
        write_file(t->fd, "target", "secret");
        check_errno(symlinkat("target", t->fd, "link"));
        check_errno(symlinkat("nowhere", t->fd, "dangling"));
        check_errno(mkdirat(t->fd, "dir", 0755));
        assert_int_equal(file_read_at(t->fd, "link", 1024, &p, NULL, NULL), -EINVAL);
        assert_int_equal(file_read_at(t->fd, "dangling", 1024, &p, NULL, NULL), -EINVAL);
        assert_int_equal(file_read_at(t->fd, "dir", 1024, &p, NULL, NULL), -EINVAL);
        assert_null(p);

        /* A device node: refused, and opening it must not block either. */
        int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dev >= 0);
        assert_int_equal(file_read_at(dev, "null", 1024, &p, NULL, NULL), -EINVAL);
        close(dev);
        assert_null(p);
}

/* A writer blocked in open(O_WRONLY) on a FIFO, through a name of its own (a hard link): its
 * open returns only once someone opens the FIFO for reading. So while it stays blocked,
 * nobody has opened the FIFO — not even non-blocking, which would not block the reader. */
struct fifo_writer {
        pthread_t thread;
        char *path;
        atomic_bool opened;
};

static void *fifo_writer_main(void *userdata)
{
        struct fifo_writer *w = userdata;
        int fd = open(w->path, O_WRONLY | O_CLOEXEC);
        atomic_store(&w->opened, true);
        if (fd >= 0)
                close(fd);
        return NULL;
}

static void fifo_writer_start(struct fifo_writer *w, const struct tmp *t, const char *fifo)
{
        _cleanup_free_ char *wname = xasprintf("%s.writer", fifo);
        check_errno(linkat(t->fd, fifo, t->fd, wname, 0));
        w->path = xasprintf("%s/%s", t->path, wname);
        atomic_store(&w->opened, false);
        assert_int_equal(pthread_create(&w->thread, NULL, fifo_writer_main, w), 0);
        usleep(50 * 1000); /* into its open, so that a reader would release it */
}

/* Whether the FIFO was opened for reading before now; releases the writer either way. */
static bool fifo_writer_stop(struct fifo_writer *w)
{
        bool opened = atomic_load(&w->opened);
        int fd = open(w->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        pthread_join(w->thread, NULL);
        if (fd >= 0)
                close(fd);
        free(w->path);
        return opened;
}

struct swapper {
        int dirfd;
        atomic_bool stop;
        atomic_ulong swaps;
};

static void *swapper_main(void *userdata)
{
        struct swapper *s = userdata;
        while (!atomic_load(&s->stop))
                if (renameat2(s->dirfd, "f", s->dirfd, "fifo", RENAME_EXCHANGE) == 0)
                        atomic_fetch_add(&s->swaps, 1);
        return NULL;
}

/* The name is a regular file one moment and a FIFO the next (an exchange, so it is never
 * missing): every read gets the file's content or -EINVAL, none blocks, and the FIFO is never
 * opened — a look and then an open by name would, now and then, open whatever the name was
 * by then. */
static void test_read_fifo_swapped_in_never_opened(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "f", "content");
        check_errno(mkfifoat(t->fd, "fifo", 0600));
        struct fifo_writer w;
        fifo_writer_start(&w, t, "fifo");

        struct swapper s = {.dirfd = t->fd};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, swapper_main, &s), 0);
        alarm(30); /* a read that blocked would end the binary: a crash the runner reports */
        unsigned long got_file = 0, got_einval = 0, other = 0;
        long long end = now_ms() + 1500;
        while (now_ms() < end && !atomic_load(&w.opened)) {
                char *p = NULL;
                int r = file_read_at(t->fd, "f", 1024, &p, NULL, NULL);
                if (r == 0 && strcmp(p, "content") == 0)
                        got_file++;
                else if (r == -EINVAL)
                        got_einval++;
                else
                        other++;
                free(p);
        }
        atomic_store(&s.stop, true);
        pthread_join(th, NULL);
        alarm(0);
        bool opened = fifo_writer_stop(&w);
        print_message("%lu reads of the file, %lu refusals of the FIFO, %lu swaps\n", got_file, got_einval,
                      atomic_load(&s.swaps));
        assert_false(opened);
        assert_int_equal(other, 0);
        /* Both sides were seen: the race was run, not just one case. */
        assert_true(got_file > 0);
        assert_true(got_einval > 0);
}

/* A symlink is refused as a name, whatever it points to: a FIFO (never opened, no blocking),
 * a regular file (its content not read), a directory. */
static void test_read_symlink_never_followed(void **state)
{
        struct tmp *t = *state;
        check_errno(mkfifoat(t->fd, "fifo", 0600));
        write_file(t->fd, "target", "secret");
        check_errno(mkdirat(t->fd, "dir", 0755));
        check_errno(symlinkat("fifo", t->fd, "to-fifo"));
        check_errno(symlinkat("target", t->fd, "to-file"));
        check_errno(symlinkat("dir", t->fd, "to-dir"));
        _cleanup_free_ char *abs = xasprintf("%s/target", t->path);
        check_errno(symlinkat(abs, t->fd, "to-file-abs"));
        struct fifo_writer w;
        fifo_writer_start(&w, t, "fifo");

        alarm(10);
        long long start = now_ms();
        const char *names[] = {"to-fifo", "to-file", "to-dir", "to-file-abs"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char *p = (char *)0x1;
                struct stat st = {.st_size = 12345};
                assert_int_equal(file_read_at(t->fd, names[i], 1024, &p, NULL, &st), -EINVAL);
                assert_ptr_equal(p, (char *)0x1);
                assert_int_equal(st.st_size, 12345); /* outputs written only on success */
        }
        long long took = now_ms() - start;
        alarm(0);
        assert_false(fifo_writer_stop(&w));
        assert_true(took < 1000);
}

/* ---- dir_open ----------------------------------------------------------------------------- */

static void test_dir_open_create(void **state)
{
        struct tmp *t = *state;
        need_root();
        int fd = -1;
        char *bad = NULL;
        /* Dry run: nothing is created, no fd. */
        fd = 42;
        const struct dir_opts dry = {.mkdir_mode = 0755, .trusted = true, .dry_run = true};
        assert_int_equal(dir_open(t->fd, "etc/pyshare", &dry, &fd, &bad), 0);
        assert_int_equal(fd, -1);
        assert_false(exists_at(t->fd, "etc"));

        assert_int_equal(dir_open(t->fd, "etc/pyshare", &(const struct dir_opts){.mkdir_mode = 0755, .trusted = true},
                                  &fd, &bad), 0);
        assert_true(fd >= 0);
        assert_null(bad);
        struct stat st, via;
        assert_int_equal(fstatat(t->fd, "etc/pyshare", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(fstat(fd, &via), 0);
        assert_int_equal(via.st_ino, st.st_ino);
        assert_int_not_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
        close(fd);

        /* Existing: opened; missing without mkdir_mode: -ENOENT. */
        assert_int_equal(dir_open(t->fd, "etc/pyshare", &(const struct dir_opts){.trusted = true},
                                  &fd, NULL), 0);
        close(fd);
        assert_int_equal(dir_open(t->fd, "etc/nothing", NULL, &fd, NULL), -ENOENT);
        /* A file in the way. */
        write_file(t->fd, "etc/file", "");
        assert_int_equal(dir_open(t->fd, "etc/file/x", &(const struct dir_opts){.mkdir_mode = 0755},
                                  &fd, NULL), -ENOTDIR);
}

static void test_dir_open_trusted(void **state)
{
        struct tmp *t = *state;
        need_root();
        mkdir_p(t->fd, "a/b/c", 0755);
        int fd = -1;
        char *bad = NULL;
        /* The clean tree is trusted (the positive control for the refusals below). */
        assert_int_equal(dir_open(t->fd, "a/b/c", &(const struct dir_opts){.trusted = true}, &fd, &bad), 0);
        assert_null(bad);
        close(fd);

        /* A group-writable component. */
        check_errno(fchmodat(t->fd, "a/b", 0775, 0));
        fd = -1;
        assert_int_equal(dir_open(t->fd, "a/b/c", &(const struct dir_opts){.trusted = true},
                                  &fd, &bad), -EPERM);
        assert_int_equal(fd, -1);
        assert_string_equal(bad, "a/b");
        free(bad);
        bad = NULL;
        /* Untrusted opening does not care. */
        assert_int_equal(dir_open(t->fd, "a/b/c", NULL, &fd, NULL), 0);
        close(fd);

        /* Other-writable, and with the sticky bit still refused. */
        check_errno(fchmodat(t->fd, "a/b", 0755, 0));
        check_errno(fchmodat(t->fd, "a/b/c", 01757, 0));
        assert_int_equal(dir_open(t->fd, "a/b/c", &(const struct dir_opts){.trusted = true},
                                  &fd, &bad), -EPERM);
        assert_string_equal(bad, "a/b/c");
        free(bad);
        bad = NULL;
        check_errno(fchmodat(t->fd, "a/b/c", 0755, 0));

        /* Not owned by root (only where another owner can be set). */
        if (fchownat(t->fd, "a", 1, 0, AT_SYMLINK_NOFOLLOW) == 0) {
                assert_int_equal(dir_open(t->fd, "a/b/c", &(const struct dir_opts){.trusted = true},
                                          &fd, &bad), -EPERM);
                assert_string_equal(bad, "a");
                free(bad);
                bad = NULL;
        } else
                print_message("owner check not exercised: cannot chown here (%s)\n", strerror(errno));
}

static void test_dir_open_symlink_component(void **state)
{
        struct tmp *t = *state;
        mkdir_p(t->fd, "real/c", 0755);
        mkdir_p(t->fd, "a", 0755);
        check_errno(symlinkat("../real", t->fd, "a/link"));
        int fd = -1;
        char *bad = NULL;
        assert_int_equal(dir_open(t->fd, "a/link/c", NULL, &fd, &bad), -ENOTDIR);
        assert_int_equal(fd, -1);
        assert_string_equal(bad, "a/link");
        free(bad);
        bad = NULL;
        assert_int_equal(dir_open(t->fd, "a/link/c", &(const struct dir_opts){.trusted = true},
                                  &fd, &bad), -ENOTDIR);
        free(bad);
        /* The last component too. */
        assert_int_equal(dir_open(t->fd, "a/link", NULL, &fd, NULL), -ENOTDIR);
        /* With mkdir_mode: a symlink is not "missing", nothing is created behind it. */
        assert_int_equal(dir_open(t->fd, "a/link/new", &(const struct dir_opts){.mkdir_mode = 0755},
                                  &fd, NULL), -ENOTDIR);
        assert_false(exists_at(t->fd, "real/new"));
        /* A dangling symlink is not replaced by a directory either. */
        check_errno(symlinkat("../nowhere", t->fd, "a/dangling"));
        assert_int_equal(dir_open(t->fd, "a/dangling", &(const struct dir_opts){.mkdir_mode = 0755},
                                  &fd, NULL), -ENOTDIR);
        assert_false(exists_at(t->fd, "nowhere"));
}

/* ---- rmtree_at ---------------------------------------------------------------------------- */

static void make_victim(int fd)
{
        mkdir_p(fd, "victim/sub", 0755);
        write_file(fd, "victim/keep", "keep me\n");
        write_file(fd, "victim/sub/deep", "me too\n");
}

static void assert_victim_intact(int fd)
{
        _cleanup_free_ char *a = read_file(fd, "victim/keep");
        _cleanup_free_ char *b = read_file(fd, "victim/sub/deep");
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, "keep me\n");
        assert_string_equal(b, "me too\n");
}

static void test_rmtree(void **state)
{
        struct tmp *t = *state;
        make_victim(t->fd);
        mkdir_p(t->fd, "tree/a/b/c", 0755);
        write_file(t->fd, "tree/a/file", "x");
        write_file(t->fd, "tree/a/b/c/file", "x");
        check_errno(symlinkat("../victim", t->fd, "tree/dirlink"));
        check_errno(symlinkat("../../victim/keep", t->fd, "tree/a/filelink"));
        check_errno(symlinkat(t->path, t->fd, "tree/a/b/abslink"));
        check_errno(mkfifoat(t->fd, "tree/a/fifo", 0600));
        check_errno(linkat(t->fd, "victim/keep", t->fd, "tree/hardlink", 0));
        mkdir_p(t->fd, "tree/empty", 0700);

        int before = count_fds();
        assert_int_equal(rmtree_at(t->fd, "tree"), 0);
        assert_int_equal(count_fds(), before);
        assert_false(exists_at(t->fd, "tree"));
        assert_victim_intact(t->fd);
        struct stat st;
        assert_int_equal(fstatat(t->fd, "victim/keep", &st, 0), 0);
        assert_int_equal(st.st_nlink, 1);

        /* Missing: nothing to do. A file: removed. */
        assert_int_equal(rmtree_at(t->fd, "tree"), 0);
        write_file(t->fd, "plain", "x");
        assert_int_equal(rmtree_at(t->fd, "plain"), 0);
        assert_false(exists_at(t->fd, "plain"));
}

/* rmtree_at of a name that is itself a symlink removes the link, not what it points to. */
static void test_rmtree_top_symlink(void **state)
{
        struct tmp *t = *state;
        make_victim(t->fd);
        check_errno(symlinkat("victim", t->fd, "venv"));
        assert_int_equal(rmtree_at(t->fd, "venv"), 0);
        assert_false(exists_at(t->fd, "venv"));
        assert_victim_intact(t->fd);
}

struct mount_ctx {
        const char *path;
};

/* In a child with its own mount namespace: a bind mount of victim inside the tree stops the
 * removal with -EXDEV, and nothing of victim is removed. */
static int rmtree_bind_child(void *userdata)
{
        const struct mount_ctx *m = userdata;
        if (become_root(true) < 0)
                return 77;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 77;
        int fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 10;
        if ((mkdirat(fd, "tree", 0755) < 0 && errno != EEXIST) || mkdirat(fd, "tree/mnt", 0755) < 0)
                return 10;
        _cleanup_free_ char *src = xasprintf("%s/victim", m->path);
        _cleanup_free_ char *dst = xasprintf("%s/tree/mnt", m->path);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return 77;
        if (rmtree_at(fd, "tree") != -EXDEV)
                return 11;
        _cleanup_free_ char *keep = read_file(fd, "victim/keep");
        if (!keep || strcmp(keep, "keep me\n") != 0)
                return 12;
        return 0;
}

static void test_rmtree_stays_on_mount(void **state)
{
        struct tmp *t = *state;
        make_victim(t->fd);
        struct mount_ctx m = {.path = t->path};
        assert_child_ok(run_in_child(rmtree_bind_child, &m), "cannot create a mount namespace here");
        assert_victim_intact(t->fd);
}

/* Deeper than 512 levels: refused with -ELOOP rather than recursing without bound. */
static void test_rmtree_depth_bound(void **state)
{
        struct tmp *t = *state;
        struct rlimit rl;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 700) {
                struct rlimit more = {.rlim_cur = 1024, .rlim_max = rl.rlim_max};
                if (more.rlim_cur > rl.rlim_max || setrlimit(RLIMIT_NOFILE, &more) < 0) {
                        print_message("skipped: RLIMIT_NOFILE too low\n");
                        skip();
                }
        }
        check_errno(mkdirat(t->fd, "deep", 0755));
        int fd = openat(t->fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        for (int i = 0; i < 530; i++) {
                check_errno(mkdirat(fd, "d", 0755));
                int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(next >= 0);
                close(fd);
                fd = next;
        }
        close(fd);
        int before = count_fds();
        assert_int_equal(rmtree_at(t->fd, "deep"), -ELOOP);
        assert_int_equal(count_fds(), before);
        setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- file_remove_at ----------------------------------------------------------------------- */

static void test_remove(void **state)
{
        struct tmp *t = *state;
        bool removed = true;
        assert_int_equal(file_remove_at(t->fd, "missing", false, &removed), 0);
        assert_false(removed);
        write_file(t->fd, "f", "x");
        assert_int_equal(file_remove_at(t->fd, "f", true, &removed), 0);
        assert_true(removed);
        assert_true(exists_at(t->fd, "f")); /* dry run */
        assert_int_equal(file_remove_at(t->fd, "f", false, &removed), 0);
        assert_true(removed);
        assert_false(exists_at(t->fd, "f"));
        /* A symlink goes, its target stays. */
        write_file(t->fd, "target", "x");
        check_errno(symlinkat("target", t->fd, "link"));
        assert_int_equal(file_remove_at(t->fd, "link", false, &removed), 0);
        assert_false(exists_at(t->fd, "link"));
        assert_true(exists_at(t->fd, "target"));
        /* A directory is refused. */
        check_errno(mkdirat(t->fd, "d", 0755));
        assert_int_equal(file_remove_at(t->fd, "d", false, &removed), -EISDIR);
        assert_true(exists_at(t->fd, "d"));
        /* No directory (dry run of a setup that never happened). */
        assert_int_equal(file_remove_at(-1, "f", false, &removed), 0);
        assert_false(removed);
}

/* ---- lock_take ---------------------------------------------------------------------------- */

static int waited;
static void on_wait(void) { waited++; }

static void test_lock(void **state)
{
        struct tmp *t = *state;
        _cleanup_free_ char *path = xasprintf("%s/lock", t->path);
        int fd = -1;
        assert_int_equal(lock_take(path, 1, on_wait, &fd), 0);
        assert_true(fd >= 0);
        assert_int_equal(waited, 0);

        /* A second open file description cannot take it; waits about timeout, says so once. */
        int fd2 = -1;
        long long start = now_ms();
        assert_int_equal(lock_take(path, 1, on_wait, &fd2), -ETIMEDOUT);
        long long took = now_ms() - start;
        assert_int_equal(fd2, -1);
        assert_int_equal(waited, 1);
        assert_true(took >= 900 && took < 5000);

        /* Free again once released. */
        close(fd);
        assert_int_equal(lock_take(path, 1, on_wait, &fd2), 0);
        assert_int_equal(waited, 1);
        close(fd2);

        /* A symlink in place of the lock file is not followed. */
        write_file(t->fd, "target", "");
        check_errno(symlinkat("target", t->fd, "lock2"));
        _cleanup_free_ char *path2 = xasprintf("%s/lock2", t->path);
        assert_int_equal(lock_take(path2, 0, NULL, &fd2), -ELOOP);
}

/* The names of a directory with a suffix, twice through the same fd (a listing rewinds). */
static void test_dir_list(void **state)
{
        struct tmp *t = *state;
        write_file(t->fd, "d/a.conf", "");
        write_file(t->fd, "d/b.conf", "");
        write_file(t->fd, "d/c.env", "");
        write_file(t->fd, "d/.conf", "");
        mkdir_p(t->fd, "d/dir.conf", 0755);
        _cleanup_close_ int dfd = openat(t->fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        for (int round = 0; round < 2; round++) {
                _cleanup_strv_ char **conf = NULL, **all = NULL;
                assert_int_equal(dir_list_at(dfd, ".conf", &conf), 0);
                assert_int_equal(dir_list_at(dfd, NULL, &all), 0);
                strv_sort(conf);
                strv_sort(all);
                assert_strv_equal(conf, ".conf", "a.conf", "b.conf", "dir.conf");
                assert_strv_equal(all, ".conf", "a.conf", "b.conf", "c.env", "dir.conf");
        }
        _cleanup_strv_ char **none = NULL;
        assert_int_equal(dir_list_at(dfd, ".whl", &none), 0);
        assert_null(none);
}

/* A symlink made once, left alone when right, replaced when it points elsewhere; a dry run
 * only tells. */
static void test_symlink_ensure(void **state)
{
        struct tmp *t = *state;
        char buf[64];
        bool changed;
        assert_int_equal(symlink_ensure_at(t->fd, "l", "../x", true, &changed), 0);
        assert_true(changed);
        assert_false(exists_at(t->fd, "l"));
        assert_int_equal(symlink_ensure_at(t->fd, "l", "../x", false, &changed), 0);
        assert_true(changed);
        ssize_t k = readlinkat(t->fd, "l", buf, sizeof(buf));
        assert_int_equal(k, 4);
        assert_memory_equal(buf, "../x", 4);
        assert_int_equal(symlink_ensure_at(t->fd, "l", "../x", false, &changed), 0);
        assert_false(changed);
        assert_int_equal(symlink_ensure_at(t->fd, "l", "../y", false, &changed), 0);
        assert_true(changed);
        k = readlinkat(t->fd, "l", buf, sizeof(buf));
        assert_int_equal(k, 4);
        assert_memory_equal(buf, "../y", 4);
        /* A file in the way is replaced too (a2enconf and systemctl enable do the same). */
        write_file(t->fd, "f", "x");
        assert_int_equal(symlink_ensure_at(t->fd, "f", "../x", false, &changed), 0);
        assert_true(changed);
        assert_int_equal(readlinkat(t->fd, "f", buf, sizeof(buf)), 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_write_atomic),
                tmp_test(test_write_atomic_unchanged),
                tmp_test(test_write_atomic_dry_run),
                tmp_test(test_write_atomic_replaces_symlink),
                tmp_test(test_write_atomic_hardlink),
                tmp_test(test_read_regular),
                tmp_test(test_read_fifo_does_not_block),
                tmp_test(test_read_refuses_others),
                tmp_test(test_read_fifo_swapped_in_never_opened),
                tmp_test(test_read_symlink_never_followed),
                tmp_test(test_dir_open_create),
                tmp_test(test_dir_open_trusted),
                tmp_test(test_dir_open_symlink_component),
                tmp_test(test_rmtree),
                tmp_test(test_rmtree_top_symlink),
                tmp_test(test_rmtree_stays_on_mount),
                tmp_test(test_rmtree_depth_bound),
                tmp_test(test_remove),
                tmp_test(test_lock),
                tmp_test(test_dir_list),
                tmp_test(test_symlink_ensure),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
