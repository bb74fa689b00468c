/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fswalk.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define STATX_WANT (STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_MNT_ID)

/* A directory that subtrees handed to another worker are looked up in: kept open until the
 * last of them has been opened. */
struct dirref {
        int fd;
        atomic_int refs;
};

struct frame {
        DIR *dir;
        char *path;
        unsigned depth;
        struct dirref *ref; /* made when a child is handed on */
};

/* A subtree for a worker: name in parent, as it was looked at. */
struct job {
        struct dirref *parent;
        char *name, *path;
        struct statx stx;
        unsigned depth;
};

const char *walk_skip_name(enum walk_skip why)
{
        static const char *const names[_WALK_SKIP_MAX] = {
                [WALK_SKIP_SYMLINK] = "symlink",  [WALK_SKIP_SPECIAL] = "special file",
                [WALK_SKIP_MOUNT] = "other mount", [WALK_SKIP_DEPTH] = "too deep",
                [WALK_SKIP_CHANGED] = "changed during the walk", [WALK_SKIP_ERROR] = "error",
        };
        return why < _WALK_SKIP_MAX ? names[why] : "?";
}

static bool same_inode(const struct stat *st, const struct statx *stx)
{
        return st->st_ino == stx->stx_ino && major(st->st_dev) == stx->stx_dev_major &&
               minor(st->st_dev) == stx->stx_dev_minor && (st->st_mode & S_IFMT) == (stx->stx_mode & S_IFMT);
}

/* Opens a directory looked at as stx, refusing anything else in its place. */
static int open_dir_verified(int dirfd, const char *name, const struct statx *stx, int *ret_fd)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR || errno == ENOENT ? -ESTALE : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !same_inode(&st, stx)) {
                close(fd);
                return -ESTALE;
        }
        *ret_fd = fd;
        return 0;
}

int walk_pin(const struct walk_entry *e, int *ret_fd)
{
        if (e->fd >= 0) {
                *ret_fd = fcntl(e->fd, F_DUPFD_CLOEXEC, 3);
                return *ret_fd < 0 ? -errno : 0;
        }
        int fd = openat(e->dirfd, e->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESTALE : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || !same_inode(&st, &e->stx)) {
                close(fd);
                return -ESTALE;
        }
        *ret_fd = fd;
        return 0;
}

int chmod_fd(int fd, mode_t mode)
{
        if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
                return 0;
        if (errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
                return -errno;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        return chmod(path, mode) < 0 ? -errno : 0;
}

static unsigned depth_bound(unsigned workers)
{
        /* Each level of each worker holds one fd: stay well inside RLIMIT_NOFILE. */
        struct rlimit rl;
        unsigned bound = WALK_MAX_DEPTH;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
                unsigned long usable = rl.rlim_cur > 64 ? (rl.rlim_cur - 32) / workers : 16;
                if (usable < bound)
                        bound = (unsigned)usable;
        }
        return bound;
}

struct walk {
        const struct walk_ops *ops;
        void *userdata;
        unsigned long long mnt;
        unsigned max_depth;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct job *queue;
        size_t n_queue, cap_queue;
        unsigned busy;         /* workers with a job */
        atomic_uint idle;      /* workers waiting for one: hand subtrees to them */
        atomic_int result;     /* the first error: every worker stops */
};

static void dirref_unref(struct dirref *r)
{
        if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
                if (r->fd >= 0)
                        close(r->fd);
                free(r);
        }
}

static void push_job(struct walk *w, struct job j)
{
        pthread_mutex_lock(&w->lock);
        if (w->n_queue == w->cap_queue) {
                w->cap_queue = w->cap_queue ? w->cap_queue * 2 : 8;
                w->queue = xrealloc(w->queue, w->cap_queue * sizeof(*w->queue));
        }
        w->queue[w->n_queue++] = j;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

static void fail_walk(struct walk *w, int r)
{
        int expected = 0;
        atomic_compare_exchange_strong(&w->result, &expected, r);
}

/* Opens the directory e was looked at as, hands it to the entry callback, and returns it to
 * be read; NULL when it is not to be descended into (skipped, refused, or the walk failed).
 * The top directory cannot be skipped: failing to open it fails the walk. */
static DIR *enter_dir(struct walk *w, struct walk_entry *e)
{
        int r = open_dir_verified(e->dirfd, e->name, &e->stx, &e->fd);
        if (r < 0) {
                if (e->depth == 0)
                        fail_walk(w, r);
                else
                        w->ops->skipped(e, r == -ESTALE ? WALK_SKIP_CHANGED : WALK_SKIP_ERROR, r, w->userdata);
                return NULL;
        }
        r = w->ops->entry(e, w->userdata);
        if (r != 0) {
                close(e->fd);
                if (r < 0)
                        fail_walk(w, r);
                return NULL;
        }
        DIR *d = fdopendir(e->fd);
        if (!d) {
                w->ops->skipped(e, WALK_SKIP_ERROR, -errno, w->userdata);
                close(e->fd);
        }
        return d;
}

/* Walks one subtree depth-first; hands child directories to idle workers. */
static void walk_job(struct walk *w, struct job *j)
{
        struct walk_entry e = {.dirfd = j->parent->fd, .name = j->name, .path = j->path, .fd = -1,
                               .depth = j->depth, .stx = j->stx};
        int r;
        DIR *d = enter_dir(w, &e);
        if (!d)
                return;
        size_t cap = 16, n = 0;
        struct frame *stack = xmalloc(cap * sizeof(*stack));
        stack[n++] = (struct frame){.dir = d, .path = xstrdup(j->path), .depth = j->depth};
        struct buf child_path = {0};

        while (n > 0 && atomic_load(&w->result) == 0) {
                struct frame *f = &stack[n - 1];
                errno = 0;
                struct dirent *de = readdir(f->dir);
                if (!de) {
                        if (errno != 0) {
                                /* Part of the tree could not be read: never report it as done. */
                                struct walk_entry fe = {.dirfd = dirfd(f->dir), .name = ".", .path = f->path, .fd = -1,
                                                        .depth = f->depth};
                                w->ops->skipped(&fe, WALK_SKIP_ERROR, -errno, w->userdata);
                        }
                        closedir(f->dir);
                        free(f->path);
                        dirref_unref(f->ref);
                        n--;
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;

                child_path.len = 0;
                buf_puts(&child_path, f->path);
                buf_append(&child_path, "/", 1);
                buf_puts(&child_path, de->d_name);
                struct walk_entry c = {.dirfd = dirfd(f->dir), .name = de->d_name, .path = child_path.p, .fd = -1,
                                       .depth = f->depth + 1};
                if (statx(c.dirfd, c.name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &c.stx) < 0) {
                        if (errno != ENOENT)
                                w->ops->skipped(&c, WALK_SKIP_ERROR, -errno, w->userdata);
                        continue;
                }
                if (S_ISLNK(c.stx.stx_mode)) {
                        w->ops->skipped(&c, WALK_SKIP_SYMLINK, 0, w->userdata);
                        continue;
                }
                if (!S_ISDIR(c.stx.stx_mode) && !S_ISREG(c.stx.stx_mode)) {
                        w->ops->skipped(&c, WALK_SKIP_SPECIAL, 0, w->userdata);
                        continue;
                }
                if (c.stx.stx_mnt_id != w->mnt) {
                        w->ops->skipped(&c, WALK_SKIP_MOUNT, 0, w->userdata);
                        continue;
                }
                if (S_ISREG(c.stx.stx_mode)) {
                        r = w->ops->entry(&c, w->userdata);
                        if (r < 0)
                                fail_walk(w, r);
                        continue;
                }
                if (c.depth > w->max_depth) {
                        w->ops->skipped(&c, WALK_SKIP_DEPTH, 0, w->userdata);
                        continue;
                }
                if (atomic_load(&w->idle) > 0) {
                        /* Another worker waits: give it this subtree, looked up in our directory. */
                        if (!f->ref) {
                                f->ref = xcalloc(1, sizeof(*f->ref));
                                f->ref->fd = fcntl(dirfd(f->dir), F_DUPFD_CLOEXEC, 3);
                                atomic_init(&f->ref->refs, 1);
                        }
                        if (f->ref->fd >= 0) {
                                atomic_fetch_add(&f->ref->refs, 1);
                                push_job(w, (struct job){.parent = f->ref, .name = xstrdup(c.name),
                                                         .path = xstrdup(c.path), .stx = c.stx, .depth = c.depth});
                                continue;
                        }
                }
                DIR *cd = enter_dir(w, &c);
                if (!cd)
                        continue;
                if (n == cap) {
                        cap *= 2;
                        stack = xrealloc(stack, cap * sizeof(*stack));
                }
                stack[n++] = (struct frame){.dir = cd, .path = xstrdup(child_path.p), .depth = c.depth};
        }
        while (n > 0) {
                closedir(stack[n - 1].dir);
                free(stack[n - 1].path);
                dirref_unref(stack[n - 1].ref);
                n--;
        }
        free(stack);
        buf_free(&child_path);
}

static void *worker(void *arg)
{
        struct walk *w = arg;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (w->n_queue == 0 && w->busy > 0 && atomic_load(&w->result) == 0) {
                        atomic_fetch_add(&w->idle, 1);
                        pthread_cond_wait(&w->cond, &w->lock);
                        atomic_fetch_sub(&w->idle, 1);
                }
                if (w->n_queue == 0 || atomic_load(&w->result) != 0)
                        break;
                struct job j = w->queue[--w->n_queue];
                w->busy++;
                pthread_mutex_unlock(&w->lock);
                walk_job(w, &j);
                dirref_unref(j.parent);
                free(j.name);
                free(j.path);
                pthread_mutex_lock(&w->lock);
                w->busy--;
                if (w->busy == 0 && w->n_queue == 0)
                        pthread_cond_broadcast(&w->cond);
        }
        /* Jobs left behind after an error: release them. */
        while (w->n_queue > 0) {
                struct job *j = &w->queue[--w->n_queue];
                dirref_unref(j->parent);
                free(j->name);
                free(j->path);
        }
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

static unsigned walk_workers(void)
{
        /* Two workers use both cores of the machines this targets; the callbacks take their
         * own locks. PYSHARE_WALK_THREADS=1 makes the walk single-threaded (tests, debugging). */
        const char *e = getenv("PYSHARE_WALK_THREADS");
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned n = cpus >= 2 ? 2 : 1;
        if (e && (*e == '1' || *e == '2') && e[1] == 0)
                n = (unsigned)(*e - '0');
        return n;
}

int fswalk(int parentfd, const char *name, const char *path, const struct walk_ops *ops, void *userdata)
{
        struct statx stx;
        if (statx(parentfd, name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &stx) < 0)
                return -errno;
        if (!S_ISDIR(stx.stx_mode))
                return -ENOTDIR;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;

        unsigned nworkers = walk_workers();
        struct walk w = {.ops = ops, .userdata = userdata, .mnt = stx.stx_mnt_id, .max_depth = depth_bound(nworkers)};
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.cond, NULL);
        /* parentfd is the caller's: one reference more than the job's, so it is never closed. */
        struct dirref top = {.fd = parentfd};
        atomic_init(&top.refs, 2);
        push_job(&w, (struct job){.parent = &top, .name = xstrdup(name), .path = xstrdup(path), .stx = stx});

        pthread_t threads[2];
        unsigned started = 0;
        for (unsigned i = 1; i < nworkers; i++)
                if (pthread_create(&threads[started], NULL, worker, &w) == 0)
                        started++;
        worker(&w);
        for (unsigned i = 0; i < started; i++)
                pthread_join(threads[i], NULL);
        free(w.queue);
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.cond);
        return atomic_load(&w.result);
}
