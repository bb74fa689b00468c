/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "venv.h"
#include "contain.h"
#include "fileio.h"
#include "fswalk.h"
#include "names.h"
#include "perms.h"
#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Whether a directory holds only what `python -m venv` (and its ensurepip) writes at its top:
 * a root-owned 0700 directory with anything else in it was not made by an interrupted
 * venv_create (Prefix=/etc and a 0700 directory there), so nothing deletes it. */
static bool only_venv_entries(int fd)
{
        static const char *const names[] = {"bin", "include", "lib", "lib64", "pyvenv.cfg"};
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
        if (!d) {
                if (dup >= 0)
                        close(dup);
                return false;
        }
        bool only = true;
        struct dirent *de;
        while (only && (de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(names) && !known; i++)
                        known = strcmp(de->d_name, names[i]) == 0;
                only = known;
        }
        closedir(d);
        return only;
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
        static const char marker[] = "pyshare: this virtualenv was created completely.\n";
        bool changed;
        return file_write_atomic(fd, VENV_MARKER, marker, sizeof(marker) - 1, 0644, false, &changed);
}

int venv_site_packages(int venvfd, char **ret_rel)
{
        _cleanup_close_ int lib = openat(venvfd, "lib", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lib < 0)
                return -errno;
        DIR *d = fdopendir(lib);
        if (!d)
                return -errno;
        int libfd = TAKE_FD(lib);
        char *found = NULL;
        int r = -ENOENT;
        struct dirent *de;
        for (;;) {
                errno = 0;
                if (!(de = readdir(d))) {
                        if (errno)
                                r = -errno;
                        break;
                }
                if (!startswith(de->d_name, "python3."))
                        continue;
                _cleanup_free_ char *rel = xasprintf("%s/site-packages", de->d_name);
                struct stat st;
                if (fstatat(libfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (found) {
                        r = -ENOTUNIQ;
                        break;
                }
                found = xasprintf("lib/%s", rel);
                r = 0;
        }
        closedir(d);
        if (r < 0) {
                free(found);
                return r;
        }
        *ret_rel = found;
        return 0;
}

void pth_info_free(struct pth_info *p)
{
        strv_free(p->dirs);
        strv_free(p->code_lines);
        for (size_t i = 0; i < _PTH_REFUSED_MAX; i++)
                free(p->refused_first[i]);
        free(p->user);
        *p = (struct pth_info){0};
}

/* ---- a set of strings, for dropping repeated path lines in constant time ----------------- */

struct strset {
        char **slot;
        size_t cap, n; /* cap a power of two, kept at least twice n */
};

static size_t str_hash(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        return (size_t)h;
}

static void strset_free(struct strset *set)
{
        for (size_t i = 0; i < set->cap; i++)
                free(set->slot[i]);
        free(set->slot);
        *set = (struct strset){0};
}

static char **strset_find(const struct strset *set, const char *s)
{
        size_t i = str_hash(s) & (set->cap - 1);
        while (set->slot[i] && strcmp(set->slot[i], s) != 0)
                i = (i + 1) & (set->cap - 1);
        return &set->slot[i];
}

/* Adds a copy of s: false when it was there already. */
static bool strset_add(struct strset *set, const char *s)
{
        if (2 * (set->n + 1) > set->cap) {
                struct strset bigger = {.cap = set->cap ? set->cap * 2 : 64};
                bigger.slot = xcalloc(bigger.cap, sizeof(char *));
                for (size_t i = 0; i < set->cap; i++)
                        if (set->slot[i])
                                *strset_find(&bigger, set->slot[i]) = set->slot[i];
                bigger.n = set->n;
                free(set->slot);
                *set = bigger;
        }
        char **slot = strset_find(set, s);
        if (*slot)
                return false;
        *slot = xstrdup(s);
        set->n++;
        return true;
}

/* ---- .pth files ---------------------------------------------------------------------------- */

struct pth_ctx {
        int rootfd;
        const char *site_abs;
        uid_t uid;
        gid_t *gids;
        size_t ngids;
        unsigned budget;          /* path components left to look up */
        size_t n_dirs, dirs_bytes; /* in p->dirs, and their length in PYTHONPATH */
        struct strset seen;       /* every path looked at, site-packages itself too */
        struct pth_info *p;
};

/* Text from a .pth file for a message: control characters but tab and non-ASCII bytes as '?',
 * at most max bytes and "..." after. */
static char *shown_text(const char *s, size_t n, size_t max)
{
        size_t k = n < max ? n : max;
        char *t = xstrndup(s, k);
        for (size_t i = 0; i < k; i++)
                if (((unsigned char)t[i] < 0x20 && t[i] != '\t') || (unsigned char)t[i] >= 0x7f)
                        t[i] = '?';
        if (n <= max)
                return t;
        char *u = xasprintf("%s...", t);
        free(t);
        return u;
}

/* Counts one refusal; the first of each reason is kept for the summary. */
static void refuse(struct pth_info *p, enum pth_refusal why, const char *file, const char *line, size_t n)
{
        if (p->refused[why]++ > 0)
                return;
        if (!line) {
                p->refused_first[why] = shown_text(file, strlen(file), 80);
                return;
        }
        _cleanup_free_ char *l = shown_text(line, n, 80);
        p->refused_first[why] = xasprintf("%s: %s", file, l);
}

/* "/" followed by the lexical normalisation of s ("a/./b/../c" → "/a/c") in one pass: NULL when
 * it climbs above / or is / itself. */
static char *normalize_abs(const char *s)
{
        char *out = xmalloc(strlen(s) + 2);
        size_t o = 0;
        for (const char *c = s;;) {
                c += strspn(c, "/");
                if (!*c)
                        break;
                size_t len = strcspn(c, "/");
                if (len == 2 && c[0] == '.' && c[1] == '.') {
                        if (o == 0) {
                                free(out);
                                return NULL;
                        }
                        while (out[--o] != '/')
                                ;
                } else if (len != 1 || c[0] != '.') {
                        out[o++] = '/';
                        memcpy(out + o, c, len);
                        o += len;
                }
                c += len;
        }
        out[o] = 0;
        if (o == 0) {
                free(out);
                return NULL;
        }
        return out;
}

static bool pth_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

/* One line of a .pth file (n bytes, not NUL-terminated), with site.py's rules. */
static void pth_line(struct pth_ctx *c, const char *file, const char *line, size_t n)
{
        struct pth_info *p = c->p;
        if (n == 0 || line[0] == '#')
                return;
        if (n >= 7 && strncmp(line, "import", 6) == 0 && (line[6] == ' ' || line[6] == '\t')) {
                if (p->n_code_lines++ < PTH_CODE_LINES_MAX) {
                        _cleanup_free_ char *l = shown_text(line, n, 40);
                        strv_consume(&p->code_lines, xasprintf("%s: %s", file, l));
                }
                return;
        }
        while (n > 0 && pth_space(line[n - 1]))
                n--;
        if (n == 0)
                return;
        if (memchr(line, 0, n)) {
                refuse(p, PTH_REFUSED_CHARS, file, line, n);
                return;
        }
        /* As site.py does: joined with site-packages, normalised. */
        _cleanup_free_ char *joined = line[0] == '/' ? xstrndup(line, n)
                                                     : xasprintf("%s/%.*s", c->site_abs, (int)n, line);
        _cleanup_free_ char *abs = normalize_abs(joined);
        if (!abs) {
                refuse(p, PTH_REFUSED_NOT_BELOW, file, line, n);
                return;
        }
        if (!path_safe_absolute(abs)) {
                refuse(p, PTH_REFUSED_CHARS, file, line, n);
                return;
        }
        if (!strset_add(&c->seen, abs))
                return; /* once is enough, as in site.py */
        size_t len = strlen(abs) + 1; /* and a ':' */
        if (c->n_dirs >= PTH_DIRS_MAX || c->dirs_bytes + len > PTH_DIRS_BYTES_MAX) {
                refuse(p, PTH_REFUSED_DIRS, file, line, n);
                return;
        }
        /* Kept when it is a directory (or a zip file: an .egg) that the service user reaches, as
         * site.py keeps what exists when the service starts. */
        struct stat st;
        int r = perms_user_reach(c->rootfd, abs, c->uid, c->gids, c->ngids, &c->budget, &st);
        if (r == -EACCES)
                refuse(p, PTH_REFUSED_UNREACHABLE, file, line, n);
        else if (r == -ENOBUFS)
                refuse(p, PTH_REFUSED_LOOKUPS, file, line, n);
        if (r < 0)
                return; /* not there for the service user: site.py drops it silently too */
        if (c->n_dirs % 16 == 0)
                p->dirs = xrealloc(p->dirs, (c->n_dirs + 17) * sizeof(char *));
        p->dirs[c->n_dirs++] = TAKE_PTR(abs);
        p->dirs[c->n_dirs] = NULL;
        c->dirs_bytes += len;
}

/* One .pth file, read whole or left out whole. */
static void pth_file(struct pth_ctx *c, int sitefd, const char *name, size_t *bytes, size_t *lines)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = file_read_at(sitefd, name, PTH_FILE_BYTES_MAX, &text, &len, NULL);
        if (r < 0) {
                refuse(c->p, r == -EFBIG ? PTH_REFUSED_FILE_SIZE : PTH_REFUSED_NOT_FILE, name, NULL, 0);
                return;
        }
        size_t nl = len > 0 && text[len - 1] != '\n';
        for (const char *q = text; (q = memchr(q, '\n', len - (size_t)(q - text))); q++)
                nl++;
        if (nl > PTH_FILE_LINES_MAX) {
                refuse(c->p, PTH_REFUSED_FILE_SIZE, name, NULL, 0);
                return;
        }
        if (*bytes + len > PTH_TOTAL_BYTES_MAX || *lines + nl > PTH_TOTAL_LINES_MAX) {
                refuse(c->p, PTH_REFUSED_TOTAL, name, NULL, 0);
                return;
        }
        *bytes += len;
        *lines += nl;
        for (const char *q = text; q < text + len;) {
                const char *e = memchr(q, '\n', len - (size_t)(q - text));
                size_t n = e ? (size_t)(e - q) : len - (size_t)(q - text);
                pth_line(c, name, q, n);
                q += n + 1;
        }
}

/* A stream over the entries of dirfd from the start, on an fd of its own; NULL and errno set
 * when it cannot be had. */
static DIR *dir_stream(int dirfd)
{
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

static int read_dir_names(int dirfd, bool (*keep)(const char *), char ***ret)
{
        DIR *d = dir_stream(dirfd);
        if (!d)
                return -errno;
        int r;
        char **names = NULL;
        struct dirent *de;
        for (;;) {
                errno = 0;
                if (!(de = readdir(d))) {
                        r = -errno;
                        if (r < 0) {
                                strv_free(names);
                                closedir(d);
                                return r;
                        }
                        break;
                }
                if (keep(de->d_name))
                        strv_push(&names, de->d_name);
        }
        closedir(d);
        strv_sort(names);
        *ret = names;
        return 0;
}

static bool is_pth(const char *n) { return endswith(n, ".pth") && n[0] != '.'; }
static bool is_dist_info(const char *n) { return endswith(n, ".dist-info"); }

/* The first PTH_FILES_MAX *.pth names in site.py's order, with a bounded heap (the largest
 * kept name on top) so that a directory of a million names costs no more memory than 256:
 * sorted into *ret; the others counted, the first of them by name kept. */
static int pth_names(int sitefd, struct pth_info *p, char ***ret)
{
        DIR *d = dir_stream(sitefd);
        if (!d)
                return -errno;
        int r = 0;
        char **heap = xcalloc(PTH_FILES_MAX + 1, sizeof(char *));
        size_t n = 0;
        _cleanup_free_ char *first_out = NULL;
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        r = -errno;
                        break;
                }
                if (!is_pth(de->d_name))
                        continue;
                char *out = NULL;
                if (n < PTH_FILES_MAX) {
                        size_t i = n++;
                        heap[i] = xstrdup(de->d_name);
                        for (; i > 0 && strcmp(heap[(i - 1) / 2], heap[i]) < 0; i = (i - 1) / 2) {
                                char *t = heap[i];
                                heap[i] = heap[(i - 1) / 2];
                                heap[(i - 1) / 2] = t;
                        }
                } else if (strcmp(de->d_name, heap[0]) < 0) {
                        out = heap[0];
                        heap[0] = xstrdup(de->d_name);
                        for (size_t i = 0;;) {
                                size_t l = 2 * i + 1, big = i;
                                if (l < n && strcmp(heap[l], heap[big]) > 0)
                                        big = l;
                                if (l + 1 < n && strcmp(heap[l + 1], heap[big]) > 0)
                                        big = l + 1;
                                if (big == i)
                                        break;
                                char *t = heap[i];
                                heap[i] = heap[big];
                                heap[big] = t;
                                i = big;
                        }
                } else
                        out = xstrdup(de->d_name);
                if (!out)
                        continue;
                p->refused[PTH_REFUSED_FILES]++;
                if (!first_out || strcmp(out, first_out) < 0) {
                        free(first_out);
                        first_out = out;
                } else
                        free(out);
        }
        closedir(d);
        if (r < 0) {
                strv_free(heap);
                return r;
        }
        if (first_out)
                p->refused_first[PTH_REFUSED_FILES] = shown_text(first_out, strlen(first_out), 80);
        strv_sort(heap);
        *ret = heap;
        return 0;
}

int venv_read_pth(int rootfd, int userdbfd, int sitefd, const char *site_abs, const struct ps_user *user,
                  struct pth_info *ret)
{
        if (!user->name)
                return -EINVAL; /* nobody to decide for */
        struct pth_ctx c = {.rootfd = rootfd, .site_abs = site_abs, .uid = user->uid, .budget = PTH_LOOKUPS_MAX};
        int r = user_groups_at(userdbfd, user, &c.gids, &c.ngids);
        if (r < 0)
                return r;
        struct pth_info p = {.user = xstrdup(user->name)};
        c.p = &p;
        _cleanup_strv_ char **names = NULL;
        if ((r = pth_names(sitefd, &p, &names)) < 0) {
                free(c.gids);
                pth_info_free(&p);
                return r;
        }
        strset_add(&c.seen, site_abs); /* first in PYTHONPATH already */
        size_t bytes = 0, lines = 0;
        for (size_t i = 0; names && names[i]; i++)
                pth_file(&c, sitefd, names[i], &bytes, &lines);
        strset_free(&c.seen);
        free(c.gids);
        p.lookups = PTH_LOOKUPS_MAX - c.budget;
        *ret = p;
        return 0;
}

static char *refusal_phrase(enum pth_refusal why, size_t n, const char *user)
{
        const char *s = n == 1 ? "" : "s";
        switch (why) {
        case PTH_REFUSED_FILES:
                return xasprintf("%zu .pth file%s beyond the first %d", n, s, PTH_FILES_MAX);
        case PTH_REFUSED_NOT_FILE:
                return xasprintf("%zu .pth name%s that %s not a readable regular file", n, s, n == 1 ? "is" : "are");
        case PTH_REFUSED_FILE_SIZE:
                return xasprintf("%zu .pth file%s over %d KiB or %d lines", n, s, PTH_FILE_BYTES_MAX / 1024,
                                 PTH_FILE_LINES_MAX);
        case PTH_REFUSED_TOTAL:
                return xasprintf("%zu .pth file%s past %d MiB or %d lines in all", n, s,
                                 PTH_TOTAL_BYTES_MAX / (1024 * 1024), PTH_TOTAL_LINES_MAX);
        case PTH_REFUSED_NOT_BELOW:
                return xasprintf("%zu path line%s climbing above /", n, s);
        case PTH_REFUSED_CHARS:
                return xasprintf("%zu path line%s with characters that cannot go into PYTHONPATH (or over 1024 long)",
                                 n, s);
        case PTH_REFUSED_UNREACHABLE:
                return xasprintf("%zu path line%s not reachable by %s", n, s, user);
        case PTH_REFUSED_DIRS:
                return xasprintf("%zu path line%s past %d directories or %d KiB", n, s, PTH_DIRS_MAX,
                                 PTH_DIRS_BYTES_MAX / 1024);
        case PTH_REFUSED_LOOKUPS:
                return xasprintf("%zu path line%s not looked up after %d path components", n, s, PTH_LOOKUPS_MAX);
        case _PTH_REFUSED_MAX:
                break;
        }
        return xstrdup("?");
}

char *pth_refused_summary(const struct pth_info *p)
{
        struct buf b = {0};
        for (size_t i = 0; i < _PTH_REFUSED_MAX; i++) {
                if (!p->refused[i])
                        continue;
                _cleanup_free_ char *what = refusal_phrase((enum pth_refusal)i, p->refused[i], p->user ? p->user : "?");
                buf_printf(&b, "%s%s (first: %s)", b.len ? "; " : "", what,
                           p->refused_first[i] ? p->refused_first[i] : "?");
        }
        return b.p;
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
        int r = read_dir_names(sitefd, is_dist_info, &dists);
        if (r < 0)
                return r;
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
