/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rootfile.h"
#include "fileio.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

int root_open(int rootfd, const char *path, int flags, int *ret_fd)
{
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        /* RESOLVE_IN_ROOT: "/" and ".." stop at rootfd, as chroot would, without chroot. */
        /* openat2 refuses flags that O_PATH ignores: add O_NOCTTY only to a real open. */
        if (!(flags & O_PATH))
                flags |= O_NOCTTY;
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        /* With RESOLVE_IN_ROOT the kernel answers EAGAIN when a rename or mount anywhere on the
         * system raced with the lookup (openat2(2)): a busy host, not this file. Try again. */
        int fd = -1;
        for (int attempt = 0; attempt < 64; attempt++) {
                fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int root_stat(int rootfd, const char *path, struct stat *ret)
{
        _cleanup_close_ int fd = -1;
        int r = root_open(rootfd, path, O_PATH, &fd);
        if (r < 0)
                return r;
        return fstat(fd, ret) < 0 ? -errno : 0;
}

int root_read_file(int rootfd, const char *path, size_t max, char **ret, size_t *ret_len, struct stat *ret_st)
{
        _cleanup_close_ int pin = -1;
        int r = root_open(rootfd, path, O_PATH, &pin);
        if (r < 0)
                return r;
        return file_read_pinned(pin, max, ret, ret_len, ret_st);
}

int root_list_dir(int rootfd, const char *path, const char *pattern, size_t max, char ***ret)
{
        _cleanup_close_ int fd = -1;
        int r = root_open(rootfd, path, O_RDONLY | O_DIRECTORY, &fd);
        if (r < 0)
                return r;
        DIR *d = dir_stream_at(fd);
        if (!d)
                return -errno;
        char **l = xcalloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        while (n < max && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (pattern && fnmatch(pattern, de->d_name, FNM_PERIOD) != 0)
                        continue;
                strv_push(&l, de->d_name);
                n++;
        }
        closedir(d);
        strv_sort(l);
        *ret = l;
        return 0;
}
