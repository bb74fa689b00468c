/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "prefix.h"
#include "users.h"
#include "names.h"

#include <fcntl.h>

static const char *const reserved[] = {
        "/",    "/root", "/etc", "/usr", "/var",     "/home", "/boot", "/proc",
        "/sys", "/dev",  "/run", "/tmp", "/var/tmp", "/srv",  "/opt",
};

/* "/a//b/./c/../" -> "/a/b"; ".." above the root stays at the root. */
static char *normalize(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *out = xmalloc(strlen(path) + 2);
        size_t n = 0;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                        continue;
                }
                out[n++] = '/';
                memcpy(out + n, c, strlen(c));
                n += strlen(c);
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        return out;
}

bool prefix_reserved(const char *prefix)
{
        _cleanup_free_ char *p = normalize(prefix);
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strcmp(p, reserved[i]) == 0)
                        return true;
        return false;
}

void prefix_problem_free(struct prefix_problem *p)
{
        free(p->path);
        p->path = NULL;
}

/* sshd's StrictModes: root's, and not writable by group or others unless sticky (where
 * nobody may rename or remove another user's entry). The group bits are the ACL mask when
 * there is one, so a named entry with write access counts too. */
static int judge(const struct stat *st, enum prefix_why *ret)
{
        if (st->st_uid != 0)
                *ret = PREFIX_OWNER;
        else if ((st->st_mode & 0022) && !(st->st_mode & S_ISVTX))
                *ret = PREFIX_WRITABLE;
        else
                return 0;
        return -PS_E_INVALID;
}

static int refuse(struct prefix_problem *ret, enum prefix_why why, const char *path, const struct stat *st, int r)
{
        *ret = (struct prefix_problem){.why = why, .path = xstrdup(*path ? path : "/")};
        if (st) {
                ret->uid = st->st_uid;
                ret->gid = st->st_gid;
                ret->mode = st->st_mode;
        }
        return r;
}

int prefix_open(int rootfd, const char *prefix, enum prefix_open_mode mode, int *ret_fd, bool *ret_created,
                struct prefix_problem *ret_problem)
{
        _cleanup_free_ char *norm = normalize(prefix);
        if (prefix_reserved(norm))
                return refuse(ret_problem, PREFIX_RESERVED, norm, NULL, -PS_E_INVALID);
        _cleanup_close_ int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        enum prefix_why why;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (judge(&st, &why) < 0)
                return refuse(ret_problem, why, "/", &st, -PS_E_INVALID);

        _cleanup_free_ char *copy = xstrdup(norm);
        bool created = false;
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                /* the path so far, for messages: norm up to the end of this component */
                _cleanup_free_ char *done = xstrndup(norm, (size_t)(c - copy) + strlen(c));
                created = false;
                int next = openat(fd, c, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
                if (next < 0 && errno == ENOENT) {
                        if (mode == PREFIX_OPEN_CHECK) {
                                *ret_fd = -1;
                                if (ret_created)
                                        *ret_created = false;
                                return 0;
                        }
                        if (mode == PREFIX_OPEN_EXISTING)
                                return refuse(ret_problem, PREFIX_MISSING, done, NULL, -ENOENT);
                        /* Created with no bits for others until it is root's: an existing name
                         * (EEXIST: someone was faster) is opened and judged like any other. */
                        created = mkdirat(fd, c, 0700) == 0;
                        if (!created && errno != EEXIST)
                                return -errno;
                        next = openat(fd, c, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
                }
                if (next < 0) {
                        if (errno == ENOTDIR || errno == ELOOP)
                                return refuse(ret_problem, PREFIX_NOT_DIR, done, NULL, -ENOTDIR);
                        return -errno;
                }
                close(fd);
                fd = next;
                if (fstat(fd, &st) < 0)
                        return -errno;
                if (created) {
                        _cleanup_close_ int wfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (wfd < 0 || fchown(wfd, 0, 0) < 0 || fchmod(wfd, 0755) < 0 || fstat(wfd, &st) < 0)
                                return -errno;
                }
                if (judge(&st, &why) < 0)
                        return refuse(ret_problem, why, done, &st, -PS_E_INVALID);
        }
        int out = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out < 0)
                return -errno;
        *ret_fd = out;
        if (ret_created)
                *ret_created = created;
        return 0;
}

char *prefix_problem_text(const struct prefix_problem *p, const char *prefix, const char *shown_root, int ids_rootfd)
{
        const char *root = shown_root ? shown_root : "";
        if (p->why == PREFIX_RESERVED)
                return xasprintf("%s%s is a system directory and never a prefix: a virtualenv there would sit among what "
                                 "the system keeps there, and removing it could take that along; use the default %s, "
                                 "or a directory of its own that root owns, such as /srv/venvs",
                                 root, prefix, PREFIX_DEFAULT);
        if (p->why == PREFIX_NOT_DIR)
                return xasprintf("%s%s is a symbolic link (or not a directory), which pyshare does not follow: set the "
                                 "prefix to the real directory or use the default %s",
                                 root, p->path, PREFIX_DEFAULT);
        if (p->why == PREFIX_MISSING)
                return xasprintf("%s%s does not exist", root, p->path);
        char mode[11];
        mode_string(p->mode, mode);
        _cleanup_free_ char *owner = user_name_of(ids_rootfd, p->uid);
        const char *what = p->why == PREFIX_OWNER            ? "is owned by"
                           : (p->mode & 0020) && (p->mode & 0002) ? "is writable by its group and others, owner"
                           : (p->mode & 0020)                 ? "is writable by its group, owner"
                                                              : "is writable by others, owner";
        return xasprintf("prefix %s%s refused: %s%s %s %s (%s %04o)%s; whoever owns or may write a directory on the "
                         "way to the virtualenv can swap it for her own between two of root's steps and so run code "
                         "as root. Use the default %s (or a prefix whose every directory is root's and not writable by "
                         "group or others, unless sticky)",
                         root, prefix, root, p->path, what, owner, mode, (unsigned)(p->mode & 07777),
                         p->why == PREFIX_WRITABLE ? " without the sticky bit" : "", PREFIX_DEFAULT);
}
