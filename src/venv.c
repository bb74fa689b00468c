/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "venv.h"
#include "contain.h"
#include "fileio.h"
#include "fswalk.h"
#include "names.h"
#include "perms.h"
#include "sandbox.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Whether a directory holds only what `python -m venv` (and its ensurepip) writes at its top:
 * a root-owned 0700 directory with anything else in it was not made by an interrupted
 * venv_create (Prefix=/etc and a 0700 directory there), so nothing deletes it. */
/* The temporary of the marker that file_write_atomic leaves when killed before its rename
 * (".#.pyshare-complete." and 12 hex digits): venv_create's last step, so still ours. */
static bool is_marker_temporary(const char *name)
{
        static const char prefix[] = ".#" VENV_MARKER ".";
        if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
                return false;
        const char *hex = name + sizeof(prefix) - 1;
        return strlen(hex) == 12 && strspn(hex, "0123456789abcdef") == 12;
}

static bool only_venv_entries(int fd)
{
        static const char *const known[] = {"bin", "include", "lib", "lib64", "pyvenv.cfg"};
        _cleanup_strv_ char **names = NULL;
        if (dir_list_at(fd, NULL, &names) < 0)
                return false;
        for (size_t i = 0; names && names[i]; i++) {
                bool is_known = is_marker_temporary(names[i]);
                for (size_t k = 0; k < ELEMENTSOF(known) && !is_known; k++)
                        is_known = strcmp(names[i], known[k]) == 0;
                if (!is_known)
                        return false;
        }
        return true;
}

/* prefixfd/app without following: *ret_fd -1 when it is missing (st_mode 0 in *ret_st) or not
 * a directory, else the directory's fd, with the fstat of that fd. */
static int venv_open(int prefixfd, const char *app, struct stat *ret_st, int *ret_fd)
{
        *ret_fd = -1;
        if (fstatat(prefixfd, app, ret_st, AT_SYMLINK_NOFOLLOW) < 0) {
                ret_st->st_mode = 0;
                return errno == ENOENT ? 0 : -errno;
        }
        if (!S_ISDIR(ret_st->st_mode))
                return 0;
        int fd = openat(prefixfd, app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, ret_st) < 0) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

int venv_state(int prefixfd, const char *app, enum venv_state *ret)
{
        struct stat st;
        _cleanup_close_ int fd = -1;
        int r = venv_open(prefixfd, app, &st, &fd);
        if (r < 0)
                return r;
        if (fd < 0) {
                *ret = st.st_mode ? VENV_NOT_A_VENV : VENV_MISSING;
                return 0;
        }
        struct stat m;
        if (fstatat(fd, VENV_MARKER, &m, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(m.st_mode) && m.st_uid == 0) {
                *ret = VENV_READY;
                return 0;
        }
        if (st.st_uid == 0 && st.st_gid == 0 && (st.st_mode & 07777) == 0700 && only_venv_entries(fd))
                *ret = VENV_INCOMPLETE;
        else if (fstatat(fd, "pyvenv.cfg", &m, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(m.st_mode))
                *ret = VENV_FOREIGN;
        else
                *ret = VENV_NOT_A_VENV;
        return 0;
}

/* Handing a venv to the sandbox's id and back (SECURITY.md walk rules: no-follow looks,
 * changes only through pinned fds). */
struct handover {
        uid_t from;     /* entries owned (user or group) by from go to to_uid:to_gid */
        uid_t to_uid;
        gid_t to_gid;
        bool all;       /* also entries of other owners (the hand-over to the sandbox) */
        int err;
        const char *what; /* why the tree was refused */
};

static void handover_fail(struct handover *c, int err, const char *what)
{
        if (!c->err) {
                c->err = err;
                c->what = what;
        }
}

static bool handover_wants(const struct handover *c, const struct statx *stx)
{
        return c->all || stx->stx_uid == c->from || stx->stx_gid == c->from;
}

static int handover_entry(const struct walk_entry *e, void *userdata)
{
        struct handover *c = userdata;
        /* A hard-linked file may be someone else's too: never given away. */
        if (!handover_wants(c, &e->stx) || (c->all && S_ISREG(e->stx.stx_mode) && e->stx.stx_nlink > 1))
                return 0;
        _cleanup_close_ int pinned = -1;
        int fd = e->fd;
        if (fd < 0) {
                int r = walk_pin(e, &pinned);
                if (r < 0) {
                        handover_fail(c, r, "an entry that changed meanwhile");
                        return r;
                }
                fd = pinned;
        }
        /* Owner changes clear set-uid and set-gid bits of files. */
        if (fchownat(fd, "", c->to_uid, c->to_gid, AT_EMPTY_PATH) < 0) {
                handover_fail(c, -errno, "an entry whose owner cannot be changed");
                return -errno;
        }
        return 0;
}

static void handover_skipped(const struct walk_entry *e, enum walk_skip why, int err, void *userdata)
{
        struct handover *c = userdata;
        if (why == WALK_SKIP_SYMLINK || why == WALK_SKIP_SPECIAL) {
                /* Never opened: changed relative to the parent's fd, without following. */
                if (!c->all && handover_wants(c, &e->stx) &&
                    fchownat(e->dirfd, e->name, c->to_uid, c->to_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        handover_fail(c, -errno, "an entry whose owner cannot be changed");
                return;
        }
        handover_fail(c, why == WALK_SKIP_ERROR && err < 0 ? err : -EPERM,
                      why == WALK_SKIP_MOUNT   ? "a mount point"
                      : why == WALK_SKIP_DEPTH ? "a tree deeper than pyshare walks"
                                               : "an entry that could not be looked at");
}

static int handover(int prefixfd, const char *app, uid_t from, uid_t to_uid, gid_t to_gid, bool all,
                    const char **ret_what)
{
        struct handover c = {.from = from, .to_uid = to_uid, .to_gid = to_gid, .all = all};
        const struct walk_ops ops = {.entry = handover_entry, .skipped = handover_skipped};
        int r = fswalk(prefixfd, app, app, &ops, &c);
        if (c.err) {
                *ret_what = c.what;
                return c.err;
        }
        return r < 0 ? r : 0;
}

/* Runs argv in the image root_dir as root of a user namespace whose host id is id (which
 * owns the venv meanwhile), then gives everything that id owns in the venv back to root and
 * the group gid: afterwards nothing of the image's making belongs to anyone but root. */
static int run_on_venv(int prefixfd, const char *app, int fd, uid_t id, gid_t gid, char *const argv[],
                       char *const env[], const char *root_dir, int timeout_ms, char **ret_output)
{
        int r = sandbox_run(argv, env, root_dir, id, timeout_ms, ret_output);
        /* The top first: from here on the sandbox's id cannot reach anything below. */
        struct stat st;
        if (fstat(fd, &st) < 0 || fchown(fd, 0, gid) < 0 || fchmod(fd, st.st_mode & 02770) < 0)
                return -errno;
        const char *what = NULL;
        int k = handover(prefixfd, app, id, 0, gid, false, &what);
        if (k < 0) {
                if (ret_output && what) {
                        free(*ret_output);
                        *ret_output = xasprintf("the image's program left %s in the virtualenv", what);
                }
                return k;
        }
        return r;
}

int venv_run_in_image(int prefixfd, const char *app, char *const argv[], char *const env[], const char *root_dir,
                      int timeout_ms, char **ret_output)
{
        _cleanup_close_ int fd = openat(prefixfd, app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        uid_t id;
        int r = sandbox_pick_id(&id);
        if (r < 0)
                return r;
        const char *what = NULL;
        if ((r = handover(prefixfd, app, 0, id, id, true, &what)) < 0) {
                int k = handover(prefixfd, app, id, 0, st.st_gid, false, &what);
                (void)k;
                if (ret_output)
                        *ret_output = xasprintf("cannot hand the virtualenv to the sandbox: %s", what ? what : strerror(-r));
                return r;
        }
        return run_on_venv(prefixfd, app, fd, id, st.st_gid, argv, env, root_dir, timeout_ms, ret_output);
}

int venv_pip_in_image(int rootfd, const char *prefix_rel, const char *app, const char *pip, char *const *args,
                      const char *root_dir, int timeout_ms, char **ret_output)
{
        _cleanup_close_ int pfd = -1;
        int r = dir_open(rootfd, prefix_rel, NULL, &pfd, NULL);
        if (r < 0)
                return r;
        static char *const env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
                                    "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1",
                                    NULL};
        _cleanup_strv_ char **argv = NULL;
        strv_push(&argv, pip);
        for (size_t i = 0; args && args[i]; i++)
                strv_push(&argv, args[i]);
        return venv_run_in_image(pfd, app, argv, env, root_dir, timeout_ms, ret_output);
}

int venv_create(int prefixfd, const char *app, const char *venv_path, const char *python, const char *chroot_dir,
                char **ret_output)
{
        enum venv_state s = VENV_MISSING;
        int r = venv_state(prefixfd, app, &s);
        if (r < 0)
                return r;
        if (s == VENV_INCOMPLETE && (r = rmtree_at(prefixfd, app)) < 0)
                return r;
        if (mkdirat(prefixfd, app, 0700) < 0)
                return -errno;
        _cleanup_close_ int fd = openat(prefixfd, app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchown(fd, 0, 0) < 0 || fchmod(fd, 0700) < 0)
                return -errno;

        /* -I: neither the current directory nor PYTHON* variables nor the user site. */
        char *argv[] = {(char *)python, "-I", "-m", "venv", (char *)venv_path, NULL};
        if (!chroot_dir)
                r = run_command(argv, 10 * 60 * 1000, ret_output);
        else {
                /* The image's Python never runs as root on the host: root in a user namespace
                 * is an unused host id, which alone may write the new directory meanwhile. */
                uid_t id;
                if ((r = sandbox_pick_id(&id)) < 0)
                        return r;
                if (fchown(fd, id, id) < 0)
                        return -errno;
                r = run_on_venv(prefixfd, app, fd, id, 0, argv, NULL, chroot_dir, 10 * 60 * 1000, ret_output);
                if (fchmod(fd, 0700) < 0)
                        return -errno;
        }
        if (r < 0)
                return r;
        if (r != 0)
                return -EIO;
        return venv_marker_write(fd, VENV_ORIGIN_CREATED);
}

int venv_site_packages(int venvfd, char **ret_rel)
{
        _cleanup_close_ int lib = openat(venvfd, "lib", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lib < 0)
                return -errno;
        _cleanup_strv_ char **names = NULL;
        int r = dir_list_at(lib, NULL, &names);
        if (r < 0)
                return r;
        _cleanup_free_ char *found = NULL;
        for (size_t i = 0; names && names[i]; i++) {
                if (!startswith(names[i], "python3."))
                        continue;
                _cleanup_free_ char *rel = xasprintf("%s/site-packages", names[i]);
                struct stat st;
                if (fstatat(lib, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (found)
                        return -ENOTUNIQ;
                found = xasprintf("lib/%s", rel);
        }
        if (!found)
                return -ENOENT;
        *ret_rel = TAKE_PTR(found);
        return 0;
}

static bool skip_distribution(const char *dist)
{
        return startswith(dist, "pip-") || startswith(dist, "setuptools-") || startswith(dist, "_distutils_hack");
}

/* "numpy/__init__.py,sha256=...,123" → "numpy"; "six.py,..." → "six"; "_x.cpython-311-x86_64-linux-gnu.so" → "_x". */
static char *record_top(const char *line)
{
        size_t n = strcspn(line, ",");
        _cleanup_free_ char *path = xstrndup(line, n);
        if (path[0] == '"' || startswith(path, "../") || path[0] == '/')
                return NULL;
        char *slash = strchr(path, '/');
        if (slash) {
                *slash = 0;
                if (endswith(path, ".dist-info") || endswith(path, ".data") || strcmp(path, "__pycache__") == 0)
                        return NULL;
        } else {
                if (!endswith(path, ".py") && !endswith(path, ".so"))
                        return NULL;
                path[strcspn(path, ".")] = 0;
        }
        return module_name_valid(path) && !strchr(path, '.') ? xstrdup(path) : NULL;
}

int venv_top_level(int sitefd, char ***ret)
{
        _cleanup_strv_ char **dists = NULL;
        int r = dir_list_at(sitefd, ".dist-info", &dists);
        if (r < 0)
                return r;
        strv_sort(dists);
        char **mods = NULL;
        for (size_t i = 0; dists && dists[i]; i++) {
                if (skip_distribution(dists[i]))
                        continue;
                _cleanup_close_ int dfd = openat(sitefd, dists[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        continue;
                _cleanup_free_ char *text = NULL;
                bool from_top = file_read_at(dfd, "top_level.txt", 1024 * 1024, &text, NULL, NULL) >= 0;
                if (!from_top && file_read_at(dfd, "RECORD", 16 * 1024 * 1024, &text, NULL, NULL) < 0)
                        continue;
                char *save = NULL;
                for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char *s = strstrip(line);
                        char *name = from_top ? (module_name_valid(s) && !strchr(s, '.') ? xstrdup(s) : NULL) : record_top(s);
                        if (name && strcmp(name, "pip") != 0 && strcmp(name, "setuptools") != 0 &&
                            strcmp(name, "pkg_resources") != 0 && strcmp(name, "_distutils_hack") != 0)
                                strv_consume(&mods, name);
                        else
                                free(name);
                }
        }
        strv_sort(mods);
        strv_uniq(mods);
        *ret = mods;
        return 0;
}

int venv_marker_read(int venvfd, enum venv_origin *ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct stat st;
        int r = file_read_at(venvfd, VENV_MARKER, 256, &text, &len, &st);
        if (r == -ENOENT) {
                *ret = VENV_ORIGIN_NONE;
                return 0;
        }
        if (r == -EINVAL || r == -EFBIG) {
                *ret = VENV_ORIGIN_FOREIGN;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = VENV_ORIGIN_FOREIGN;
        if (st.st_uid != 0 || st.st_nlink != 1)
                return 0;
        if (len == strlen(VENV_MARKER_CREATED) && memcmp(text, VENV_MARKER_CREATED, len) == 0)
                *ret = VENV_ORIGIN_CREATED;
        else if (len == strlen(VENV_MARKER_ADOPTED) && memcmp(text, VENV_MARKER_ADOPTED, len) == 0)
                *ret = VENV_ORIGIN_ADOPTED;
        return 0;
}

int venv_marker_write(int venvfd, enum venv_origin origin)
{
        const char *text = origin == VENV_ORIGIN_CREATED ? VENV_MARKER_CREATED
                           : origin == VENV_ORIGIN_ADOPTED ? VENV_MARKER_ADOPTED
                                                           : NULL;
        if (!text)
                return -EINVAL;
        bool changed;
        return file_write_atomic(venvfd, VENV_MARKER, text, strlen(text), 0644, false, &changed);
}

static bool owned_as_made(const struct stat *st)
{
        if (!S_ISDIR(st->st_mode) || st->st_uid != 0)
                return false;
        if (st->st_gid == 0 && (st->st_mode & 07777) == 0700)
                return true;
        return (st->st_mode & S_ISGID) && st->st_gid != 0 && !(st->st_mode & 0007);
}

int venv_purge_check(int prefixfd, const char *app, enum venv_purge *ret, char **ret_why)
{
        struct stat st;
        _cleanup_close_ int fd = -1;
        int r = venv_open(prefixfd, app, &st, &fd);
        if (r < 0)
                return r;
        if (fd < 0) {
                *ret = st.st_mode ? VENV_PURGE_NOT_OURS : VENV_PURGE_MISSING;
                if (st.st_mode)
                        *ret_why = xstrdup("it is not a directory");
                return 0;
        }
        enum venv_origin o;
        r = venv_marker_read(fd, &o);
        if (r < 0)
                return r;
        if (o == VENV_ORIGIN_ADOPTED) {
                *ret = VENV_PURGE_ADOPTED;
                return 0;
        }
        if (o != VENV_ORIGIN_CREATED) {
                *ret = VENV_PURGE_NOT_OURS;
                *ret_why = xstrdup(o == VENV_ORIGIN_NONE ? "it carries no " VENV_MARKER " marker, so pyshare did not create it"
                                                         : "its " VENV_MARKER " is not the marker pyshare writes");
                return 0;
        }
        if (!owned_as_made(&st)) {
                char mode[11];
                mode_string(st.st_mode, mode);
                *ret = VENV_PURGE_NOT_OURS;
                *ret_why = xasprintf("it is %s uid %u gid %u, not owned as pyshare makes a virtualenv (root with the "
                                     "deploy group and the set-group-ID bit, or root:root 0700)",
                                     mode, (unsigned)st.st_uid, (unsigned)st.st_gid);
                return 0;
        }
        *ret = VENV_PURGE_DELETE;
        return 0;
}

