/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fswalk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define STATX_WANT (STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID | STATX_INO | STATX_MNT_ID)

struct frame {
        DIR *dir;
        char *path;
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

static unsigned depth_bound(void)
{
        /* Each level holds one fd: stay well inside RLIMIT_NOFILE. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < WALK_MAX_DEPTH + 64)
                return rl.rlim_cur > 48 ? (unsigned)rl.rlim_cur - 32 : 16;
        return WALK_MAX_DEPTH;
}

int fswalk(int parentfd, const char *name, const char *path, const struct walk_ops *ops, void *userdata)
{
        struct walk_entry e = {.dirfd = parentfd, .name = name, .path = path, .fd = -1};
        if (statx(parentfd, name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &e.stx) < 0)
                return -errno;
        if (!S_ISDIR(e.stx.stx_mode))
                return -ENOTDIR;
        if (!(e.stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        unsigned long long mnt = e.stx.stx_mnt_id;
        int r = open_dir_verified(parentfd, name, &e.stx, &e.fd);
        if (r < 0)
                return r;
        r = ops->entry(&e, userdata);
        if (r != 0) {
                close(e.fd);
                return r < 0 ? r : 0;
        }

        unsigned max_depth = depth_bound();
        size_t cap = 16, n = 0;
        struct frame *stack = xmalloc(cap * sizeof(*stack));
        DIR *d = fdopendir(e.fd);
        if (!d) {
                r = -errno;
                close(e.fd);
                free(stack);
                return r;
        }
        stack[n++] = (struct frame){.dir = d, .path = xstrdup(path), .depth = 0};
        struct buf child_path = {0};
        r = 0;

        while (n > 0 && r >= 0) {
                struct frame *f = &stack[n - 1];
                errno = 0;
                struct dirent *de = readdir(f->dir);
                if (!de) {
                        closedir(f->dir);
                        free(f->path);
                        n--;
                        continue;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;

                child_path.len = 0;
                buf_puts(&child_path, f->path);
                buf_append(&child_path, "/", 1);
                buf_puts(&child_path, de->d_name);
                struct walk_entry c = {.dirfd = dirfd(f->dir), .name = de->d_name, .path = child_path.p,
                                       .fd = -1, .depth = f->depth + 1};
                if (statx(c.dirfd, c.name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &c.stx) < 0) {
                        if (errno != ENOENT)
                                ops->skipped(&c, WALK_SKIP_ERROR, -errno, userdata);
                        continue;
                }
                if (S_ISLNK(c.stx.stx_mode)) {
                        ops->skipped(&c, WALK_SKIP_SYMLINK, 0, userdata);
                        continue;
                }
                if (!S_ISDIR(c.stx.stx_mode) && !S_ISREG(c.stx.stx_mode)) {
                        ops->skipped(&c, WALK_SKIP_SPECIAL, 0, userdata);
                        continue;
                }
                if (c.stx.stx_mnt_id != mnt) {
                        ops->skipped(&c, WALK_SKIP_MOUNT, 0, userdata);
                        continue;
                }
                if (S_ISREG(c.stx.stx_mode)) {
                        r = ops->entry(&c, userdata);
                        continue;
                }
                if (c.depth > max_depth) {
                        ops->skipped(&c, WALK_SKIP_DEPTH, 0, userdata);
                        continue;
                }
                int k = open_dir_verified(c.dirfd, c.name, &c.stx, &c.fd);
                if (k < 0) {
                        ops->skipped(&c, k == -ESTALE ? WALK_SKIP_CHANGED : WALK_SKIP_ERROR, k, userdata);
                        continue;
                }
                k = ops->entry(&c, userdata);
                if (k != 0) {
                        close(c.fd);
                        r = k < 0 ? k : 0;
                        continue;
                }
                DIR *cd = fdopendir(c.fd);
                if (!cd) {
                        ops->skipped(&c, WALK_SKIP_ERROR, -errno, userdata);
                        close(c.fd);
                        continue;
                }
                if (n == cap) {
                        cap *= 2;
                        stack = xrealloc(stack, cap * sizeof(*stack));
                }
                stack[n++] = (struct frame){.dir = cd, .path = xstrdup(child_path.p), .depth = c.depth};
        }
        while (n > 0) {
                closedir(stack[n - 1].dir);
                free(stack[n - 1].path);
                n--;
        }
        free(stack);
        buf_free(&child_path);
        return r;
}
