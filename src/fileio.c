/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

int dir_open(int rootfd, const char *rel, const struct dir_opts *o, int *ret_fd, char **ret_bad)
{
        static const struct dir_opts plain = {0};
        if (!o)
                o = &plain;
        mode_t mkdir_mode = o->mkdir_mode;
        _cleanup_close_ int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *copy = xstrdup(rel);
        struct buf done = {0};
        int r = 0;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (done.len)
                        buf_append(&done, "/", 1);
                buf_puts(&done, c);
                int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0 && errno == ENOENT && mkdir_mode) {
                        if (o->dry_run) {
                                *ret_fd = -1;
                                goto out;
                        }
                        if (mkdirat(fd, c, mkdir_mode) < 0 && errno != EEXIST) {
                                r = -errno;
                                goto fail;
                        }
                        next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (next >= 0 && (fchown(next, 0, 0) < 0 || fchmod(next, mkdir_mode) < 0)) {
                                r = -errno;
                                close(next);
                                goto fail;
                        }
                }
                if (next < 0) {
                        r = errno == ENOTDIR || errno == ELOOP ? -ENOTDIR : -errno;
                        goto fail;
                }
                close(fd);
                fd = next;
                if (o->trusted) {
                        struct stat st;
                        if (fstat(fd, &st) < 0) {
                                r = -errno;
                                goto fail;
                        }
                        if (st.st_uid != 0 || (st.st_mode & 0022)) {
                                r = -EPERM;
                                goto fail;
                        }
                }
        }
        *ret_fd = TAKE_FD(fd);
out:
        buf_free(&done);
        return 0;
fail:
        if (ret_bad) {
                buf_append(&done, "", 0);
                *ret_bad = TAKE_PTR(done.p);
        }
        buf_free(&done);
        return r;
}

DIR *dir_stream_at(int dirfd)
{
        /* A duplicate shares the offset: rewind it, so that a second listing sees every name. */
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                errno = e;
                return NULL;
        }
        rewinddir(d);
        return d;
}

int dir_list_at(int dirfd, const char *suffix, char ***ret)
{
        DIR *d = dir_stream_at(dirfd);
        if (!d)
                return -errno;
        char **names = NULL;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de)
                        break;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (!suffix || endswith(de->d_name, suffix))
                        strv_push(&names, de->d_name);
        }
        int r = -errno;
        closedir(d);
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        return 0;
}

int symlink_ensure_at(int dirfd, const char *name, const char *target, bool dry_run, bool *ret_changed)
{
        char link[PATH_MAX];
        ssize_t k = dirfd >= 0 ? readlinkat(dirfd, name, link, sizeof(link) - 1) : -1;
        *ret_changed = false;
        if (k >= 0 && (size_t)k == strlen(target) && memcmp(link, target, (size_t)k) == 0)
                return 0;
        if (!dry_run) {
                unlinkat(dirfd, name, 0);
                if (symlinkat(target, dirfd, name) < 0)
                        return -errno;
        }
        *ret_changed = true;
        return 0;
}

int file_read_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct stat *ret_st)
{
        /* Pin the entry without opening it, and only then open what was pinned: a name that is
         * looked at and then opened can be swapped in between for a FIFO (which blocks) or a
         * device node (whose open wakes a driver). O_PATH opens neither. */
        _cleanup_close_ int pin = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (pin < 0)
                return -errno;
        return file_read_pinned(pin, max, ret, ret_len, ret_st);
}

int file_read_pinned(int pin, size_t max, char **ret, size_t *ret_len, struct stat *ret_st)
{
        struct stat st;
        if (fstat(pin, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((size_t)st.st_size > max)
                return -EFBIG;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", pin);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char *p = xmalloc((size_t)st.st_size + 1);
        size_t len = 0;
        for (;;) {
                ssize_t k = read(fd, p + len, (size_t)st.st_size + 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;
                        free(p);
                        return r;
                }
                if (k == 0)
                        break;
                len += (size_t)k;
                if (len > (size_t)st.st_size) {
                        free(p);
                        return -EFBIG; /* it grew while we read */
                }
        }
        p[len] = 0;
        *ret = p;
        if (ret_len)
                *ret_len = len;
        if (ret_st)
                *ret_st = st;
        return 0;
}

static bool file_is_current(int dirfd, const char *name, const char *content, size_t len, mode_t mode)
{
        _cleanup_free_ char *old = NULL;
        size_t old_len = 0;
        struct stat st;
        if (file_read_at(dirfd, name, len, &old, &old_len, &st) < 0)
                return false;
        return old && old_len == len && memcmp(old, content, len) == 0 && st.st_uid == 0 && st.st_gid == 0 &&
               (st.st_mode & 07777) == mode && st.st_nlink == 1;
}

/* Temporaries ".#NAME.XXXXXXXXXXXX" of an earlier run that was killed before its rename. Only
 * one pyshare runs at a time (the lock), so any that exist are stale. */
static void remove_stale_temporaries(int dirfd, const char *name)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        size_t n = strlen(name);
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *s = de->d_name;
                if (strncmp(s, ".#", 2) != 0 || strncmp(s + 2, name, n) != 0 || s[2 + n] != '.' ||
                    strlen(s + 3 + n) != 12 || strspn(s + 3 + n, "0123456789abcdef") != 12)
                        continue;
                struct stat st;
                if (fstatat(dirfd, s, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        unlinkat(dirfd, s, 0);
        }
        closedir(d);
}

static int write_all(int fd, const char *p, size_t len)
{
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

int file_write_atomic(int dirfd, const char *name, const char *content, size_t len, mode_t mode, bool dry_run,
                      bool *ret_changed)
{
        /* Also when the file is current: a run killed before its rename may have left one
         * beside a file that a roll-back then made current again. */
        if (dirfd >= 0 && !dry_run)
                remove_stale_temporaries(dirfd, name);
        if (dirfd >= 0 && file_is_current(dirfd, name, content, len, mode)) {
                *ret_changed = false;
                return 0;
        }
        *ret_changed = true;
        if (dry_run)
                return 0;
        if (dirfd < 0)
                return -ENOENT;

        char tmp[300];
        _cleanup_close_ int fd = -1;
        for (int attempt = 0; attempt < 64 && fd < 0; attempt++) {
                unsigned long long rnd = 0;
                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) < 0)
                        rnd = (unsigned long long)now_ms() ^ ((unsigned long long)getpid() << 20) ^ (unsigned)attempt;
                snprintf(tmp, sizeof(tmp), ".#%.200s.%012llx", name, rnd & 0xffffffffffffULL);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return -errno;
        }
        if (fd < 0)
                return -EEXIST;

        int r = write_all(fd, content, len);
        if (r >= 0 && (fchown(fd, 0, 0) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0))
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        /* The new file is in place: say so, rather than that the old one is unchanged. */
        if (fsync(dirfd) < 0)
                return -PS_E_UNSYNCED;
        return 0;
}

int file_remove_at(int dirfd, const char *name, bool dry_run, bool *ret_removed)
{
        struct stat st;
        *ret_removed = false;
        if (dirfd < 0)
                return 0;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        *ret_removed = true;
        if (dry_run)
                return 0;
        if (unlinkat(dirfd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fsync(dirfd) < 0)
                return -errno;
        return 0;
}

int mount_id_at(int dirfd, const char *name, unsigned long long *ret)
{
        struct statx stx;
        int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
        if (statx(dirfd, name, flags, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = stx.stx_mnt_id;
        return 0;
}

static int rmtree_inner(int parentfd, const char *name, unsigned long long mnt, unsigned depth)
{
        struct statx stx;
        if (statx(parentfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO | STATX_MNT_ID, &stx) < 0)
                return errno == ENOENT ? 0 : -errno;
        /* Without a mount id a bind mount inside the tree could not be told apart. */
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        if (stx.stx_mnt_id != mnt)
                return -EXDEV;
        if (!S_ISDIR(stx.stx_mode))
                return unlinkat(parentfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        if (depth > 512)
                return -ELOOP;

        int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_ino != stx.stx_ino || major(st.st_dev) != stx.stx_dev_major ||
            minor(st.st_dev) != stx.stx_dev_minor) {
                close(fd);
                return -ESTALE; /* swapped under us */
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        for (;;) {
                errno = 0;
                if (!(de = readdir(d))) {
                        r = -errno;
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = rmtree_inner(dirfd(d), de->d_name, mnt, depth + 1);
                if (r < 0)
                        break;
        }
        closedir(d);
        if (r < 0)
                return r;
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int rmtree_at(int dirfd, const char *name)
{
        unsigned long long mnt = 0;
        int r = mount_id_at(dirfd, "", &mnt);
        if (r < 0)
                return r;
        return rmtree_inner(dirfd, name, mnt, 0);
}

int lock_take(const char *path, int timeout_sec, void (*waiting)(void), int *ret_fd)
{
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        long long deadline = now_ms() + (long long)timeout_sec * 1000;
        bool told = false;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (!told && waiting) {
                        waiting();
                        told = true;
                }
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                usleep(100 * 1000);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}
