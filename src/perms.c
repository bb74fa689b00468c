/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "perms.h"
#include "acl.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sys/statfs.h>

void perms_stats_free(struct perms_stats *s)
{
        for (size_t i = 0; i < s->n_notes; i++)
                free(s->notes[i]);
        s->n_notes = 0;
        for (size_t i = 0; i < s->n_changes; i++)
                free(s->changes[i].path);
        s->n_changes = 0;
}

static void note(struct perms_stats *st, const char *path, const char *why)
{
        if (st->n_notes < PERMS_NOTES_MAX)
                st->notes[st->n_notes++] = xasprintf("%s: %s", path, why);
}

/* The walk runs two workers: the statistics are shared under a lock. */
struct apply_ctx {
        const struct perms_target *t;
        bool dry_run;
        struct perms_stats *st;
        pthread_mutex_t lock;
};

static void count(struct apply_ctx *c, unsigned long *counter, long delta, const char *path, const char *why)
{
        pthread_mutex_lock(&c->lock);
        *counter += (unsigned long)delta;
        if (path)
                note(c->st, path, why);
        pthread_mutex_unlock(&c->lock);
}

/* Counts a changed entry and keeps the first PERMS_CHANGES_MAX of them, for -v and --dry-run. */
static void count_change(struct apply_ctx *c, const struct walk_entry *e, uid_t uid, mode_t mode)
{
        pthread_mutex_lock(&c->lock);
        struct perms_stats *st = c->st;
        st->changed++;
        if (st->n_changes < PERMS_CHANGES_MAX)
                st->changes[st->n_changes++] = (struct perms_change){
                        .path = xstrdup(e->path),
                        .uid = e->stx.stx_uid,
                        .new_uid = uid,
                        .gid = e->stx.stx_gid,
                        .new_gid = c->t->group,
                        .mode = e->stx.stx_mode & 07777,
                        .new_mode = mode,
                };
        pthread_mutex_unlock(&c->lock);
}

static void add_more_users(struct acl_want *a, const struct perms_target *t)
{
        for (size_t i = 0; i < t->n_more && a->n_more < ACL_MORE_USERS_MAX; i++)
                a->more_users[a->n_more++] = t->more_users[i];
}

static void want_for(const struct walk_entry *e, const struct perms_target *t, struct acl_want *a, mode_t *ret_mode,
                     uid_t *ret_uid)
{
        bool dir = S_ISDIR(e->stx.stx_mode);
        bool exec = dir || (e->stx.stx_mode & 0111);
        *a = (struct acl_want){
                .owner = dir ? 7 : (e->stx.stx_mode >> 6) & 7,
                .group_obj = exec ? 7 : 6,
                .other = 0,
                .user = t->user,
                .user_perm = exec ? 5 : 4,
                .group = t->group,
                .group_perm = exec ? 7 : 6,
        };
        add_more_users(a, t);
        *ret_mode = dir ? 02770 : (mode_t)((a->owner << 6) | (acl_want_mask(a) << 3));
        *ret_uid = dir ? 0 : e->stx.stx_uid;
}

static const struct acl_want *default_want(const struct perms_target *t, struct acl_want *d)
{
        *d = (struct acl_want){.owner = 7, .group_obj = 7, .other = 0, .user = t->user, .user_perm = 5,
                               .group = t->group, .group_perm = 7};
        add_more_users(d, t);
        return d;
}

static bool is_reader(const struct perms_target *t, uid_t uid)
{
        if (uid == t->user)
                return true;
        for (size_t i = 0; i < t->n_more; i++)
                if (t->more_users[i] == uid)
                        return true;
        return false;
}

static bool xattr_is(int dirfd, const char *name, bool dflt, const struct acl_want *w)
{
        uint8_t want[ACL_XATTR_MAX], cur[ACL_XATTR_MAX];
        size_t wn = acl_want_xattr(w, want), cn;
        if (acl_read_at(dirfd, name, dflt, cur, &cn) < 0)
                return false;
        return cn == wn && memcmp(cur, want, wn) == 0;
}

static int apply_entry(const struct walk_entry *e, void *userdata)
{
        struct apply_ctx *c = userdata;
        struct perms_stats *st = c->st;
        bool dir = S_ISDIR(e->stx.stx_mode);
        count(c, &st->entries, 1, NULL, NULL);
        if (!dir && e->stx.stx_nlink > 1) {
                count(c, &st->hardlinks, 1, e->path, "hard link (more than one name), left alone");
                count(c, &st->unproven, 1, NULL, NULL);
                return 0;
        }

        struct acl_want a, d;
        mode_t want_mode;
        uid_t want_uid;
        want_for(e, c->t, &a, &want_mode, &want_uid);
        /* The top directory is looked at through its own fd, every other entry through its
         * parent's, so that nothing is opened just to be read. */
        int xfd = e->depth == 0 ? e->fd : e->dirfd;
        const char *xname = e->depth == 0 ? "" : e->name;
        mode_t cur = e->stx.stx_mode & 07777;
        bool need_own = e->stx.stx_uid != want_uid || e->stx.stx_gid != c->t->group;
        bool need_mode = cur != want_mode;
        /* An entry whose owner or mode is wrong gets its ACL written anyway: reading it first
         * would cost as much as writing it. */
        bool need_acl = need_own || need_mode || !xattr_is(xfd, xname, false, &a) ||
                        (dir && !xattr_is(xfd, xname, true, default_want(c->t, &d)));
        if (!need_own && !need_mode && !need_acl) {
                /* In the layout every reader has its own ACL entry with r, which the kernel
                 * looks at only for those who do not own the file. */
                if (!dir && !((cur >> 6) & 4) && is_reader(c->t, e->stx.stx_uid))
                        count(c, &st->unproven, 1, NULL, NULL);
                return 0;
        }
        if (c->dry_run) {
                count_change(c, e, want_uid, want_mode);
                return 0;
        }

        _cleanup_close_ int fd = -1;
        int r = walk_pin(e, &fd);
        if (r < 0) {
                count(c, &st->skipped[WALK_SKIP_CHANGED], 1, e->path, "changed during the walk, left alone");
                return 0;
        }
        /* The ACL first: on a filesystem without ACLs nothing at all has changed when it fails. */
        if (need_acl && (r = acl_apply_fd(fd, &a, dir ? default_want(c->t, &d) : NULL)) < 0) {
                errno = -r;
                goto fail;
        }
        if (need_own && fchownat(fd, "", want_uid, c->t->group, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                goto fail;
        /* Writing the access ACL sets the permission bits to want_mode's. What remains are the
         * set-id bits: files must lose theirs, and a directory's set-gid bit must be (re)set —
         * the kernel drops it silently when it is written without CAP_FSETID, so that one is
         * checked. */
        if ((cur & 07000) != (want_mode & 07000) || (!need_acl && (cur & 0777) != (want_mode & 0777)) ||
            (dir && need_acl)) {
                if ((r = chmod_fd(fd, want_mode)) < 0) {
                        errno = -r;
                        goto fail;
                }
                struct stat now;
                if (dir && fstat(fd, &now) == 0 && (now.st_mode & 07777) != want_mode) {
                        errno = EPERM;
                        goto fail;
                }
        }
        count_change(c, e, want_uid, want_mode);
        return 0;
fail:
        if (errno == EOPNOTSUPP || errno == ENOSPC || errno == EROFS || errno == EDQUOT)
                return -errno; /* the same for every entry: stop and say so once */
        count(c, &st->errors, 1, e->path, strerror(errno));
        return 0;
}

static void apply_skipped(const struct walk_entry *e, enum walk_skip why, int err, void *userdata)
{
        struct apply_ctx *c = userdata;
        /* Symlinks are normal in a venv (bin/python, lib64): count them, do not list them. */
        count(c, &c->st->skipped[why], 1, why == WALK_SKIP_SYMLINK ? NULL : e->path,
              why == WALK_SKIP_ERROR ? strerror(-err) : walk_skip_name(why));
}

int perms_apply(int parentfd, const char *name, const char *path, const struct perms_target *t, bool dry_run,
                struct perms_stats *st)
{
        struct apply_ctx c = {.t = t, .dry_run = dry_run, .st = st};
        pthread_mutex_init(&c.lock, NULL);
        const struct walk_ops ops = {.entry = apply_entry, .skipped = apply_skipped};
        int r = fswalk(parentfd, name, path, &ops, &c);
        pthread_mutex_destroy(&c.lock);
        return r;
}

void perms_findings_free(struct perms_finding *f, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(f[i].path);
                free(f[i].acl);
        }
        free(f);
}

struct find_ctx {
        uid_t uid;
        const gid_t *gids;
        size_t ngids, max, n;
        struct perms_finding *f;
        pthread_mutex_t lock;
};

static void add_finding(struct find_ctx *c, int dirfd, const char *name, const char *path, uid_t uid, gid_t gid,
                        mode_t mode, bool outside)
{
        if (c->n >= c->max)
                return;
        c->f = xrealloc(c->f, (c->n + 1) * sizeof(*c->f));
        c->f[c->n++] = (struct perms_finding){
                .path = xstrdup(path), .uid = uid, .gid = gid, .mode = mode,
                .acl = acl_text_at(dirfd, name), .is_dir = S_ISDIR(mode), .outside = outside,
                .symlink = S_ISLNK(mode),
        };
}

static int find_entry(const struct walk_entry *e, void *userdata)
{
        struct find_ctx *c = userdata;
        pthread_mutex_lock(&c->lock);
        bool full = c->n >= c->max;
        pthread_mutex_unlock(&c->lock);
        if (full)
                return -ECANCELED;
        bool dir = S_ISDIR(e->stx.stx_mode);
        uint8_t x[ACL_XATTR_MAX];
        size_t xn = 0;
        int xfd = e->depth == 0 ? e->fd : e->dirfd;
        if (acl_read_at(xfd, e->depth == 0 ? "" : e->name, false, x, &xn) < 0)
                xn = 0;
        unsigned want = dir ? (ACL_R | ACL_X) : ACL_R;
        if (acl_allows(e->stx.stx_uid, e->stx.stx_gid, e->stx.stx_mode, x, xn, c->uid, c->gids, c->ngids, want))
                return 0;
        pthread_mutex_lock(&c->lock);
        add_finding(c, e->depth == 0 ? e->fd : e->dirfd, e->depth == 0 ? "." : e->name, e->path, e->stx.stx_uid,
                    e->stx.stx_gid, e->stx.stx_mode, false);
        pthread_mutex_unlock(&c->lock);
        return 1; /* what lies below an unreadable directory is unreachable anyway */
}

static void find_skipped(const struct walk_entry *e, enum walk_skip why, int err, void *userdata) {}

int perms_walk_ancestors(int rootfd, const char *path, uid_t uid, const gid_t *gids, size_t ngids,
                         perms_ancestor_fn fn, void *userdata, int *ret_parentfd)
{
        *ret_parentfd = -1;
        _cleanup_close_ int fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *copy = xstrdup(path);
        _cleanup_buf_ struct buf sofar = {0};
        char *save = NULL, *comp = strtok_r(copy, "/", &save);
        while (comp) {
                char *next = strtok_r(NULL, "/", &save);
                if (!next)
                        break; /* comp is the tree itself */
                buf_append(&sofar, "/", 1);
                buf_puts(&sofar, comp);
                _cleanup_close_ int nfd = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct perms_ancestor an = {.fd = nfd, .parentfd = fd, .name = comp, .path = sofar.p};
                if (nfd < 0 || fstat(nfd, &an.st) < 0)
                        return 0; /* missing: the tree below is not there either */
                if (!S_ISDIR(an.st.st_mode))
                        /* The tree is not reached through an inode that was looked at. */
                        return S_ISLNK(an.st.st_mode) ? fn(&an, userdata) : 0;
                uint8_t x[ACL_XATTR_MAX];
                size_t xn = 0;
                if (acl_read_at(nfd, "", false, x, &xn) < 0)
                        xn = 0;
                int r;
                if (!acl_allows(an.st.st_uid, an.st.st_gid, an.st.st_mode, x, xn, uid, gids, ngids, ACL_X) &&
                    (r = fn(&an, userdata)) < 0)
                        return r;
                close(fd);
                fd = TAKE_FD(nfd);
                comp = next;
        }
        *ret_parentfd = TAKE_FD(fd);
        return 0;
}

static int find_ancestor(const struct perms_ancestor *an, void *userdata)
{
        struct find_ctx *c = userdata;
        if (S_ISLNK(an->st.st_mode))
                add_finding(c, an->parentfd, an->name, an->path, an->st.st_uid, an->st.st_gid, an->st.st_mode, true);
        else
                add_finding(c, an->fd, ".", an->path, an->st.st_uid, an->st.st_gid, an->st.st_mode, true);
        return 0;
}

static int find_unreadable(const char *path, uid_t uid, const gid_t *gids, size_t ngids, size_t max, bool tree,
                           struct perms_finding **ret, size_t *ret_n)
{
        /* Ancestors: every directory from / down to the tree's parent needs search permission. */
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        struct find_ctx c = {.uid = uid, .gids = gids, .ngids = ngids, .max = max};
        pthread_mutex_init(&c.lock, NULL);
        _cleanup_close_ int parentfd = -1;
        int r = perms_walk_ancestors(root, path, uid, gids, ngids, find_ancestor, &c, &parentfd);
        const char *name = strrchr(path, '/');
        if (tree && r >= 0 && parentfd >= 0 && c.n == 0 && name && name[1]) {
                const struct walk_ops ops = {.entry = find_entry, .skipped = find_skipped};
                r = fswalk(parentfd, name + 1, path, &ops, &c);
                if (r == -ECANCELED || r == -ENOENT || r == -ENOTDIR)
                        r = 0;
        }
        pthread_mutex_destroy(&c.lock);
        if (r < 0) {
                perms_findings_free(c.f, c.n);
                return r;
        }
        *ret = c.f;
        *ret_n = c.n;
        return 0;
}

int perms_find_unreadable(const char *path, uid_t uid, const gid_t *gids, size_t ngids, size_t max,
                          struct perms_finding **ret, size_t *ret_n)
{
        return find_unreadable(path, uid, gids, ngids, max, true, ret, ret_n);
}

int perms_find_unreadable_above(const char *path, uid_t uid, const gid_t *gids, size_t ngids, size_t max,
                                struct perms_finding **ret, size_t *ret_n)
{
        return find_unreadable(path, uid, gids, ngids, max, false, ret, ret_n);
}

/* What uid may do with the inode behind pinned fd: its access ACL (absent, or unsupported by
 * the filesystem: the mode bits) by the kernel's rules. An ACL too long to read is not
 * evaluated: nothing granted. */
static bool user_may(int fd, const struct stat *st, uid_t uid, const gid_t *gids, size_t ngids, unsigned want)
{
        uint8_t x[ACL_XATTR_MAX];
        size_t xn = 0;
        int r = acl_read_at(fd, "", false, x, &xn);
        if (r == -EOPNOTSUPP)
                xn = 0;
        else if (r < 0 || xn > ACL_XATTR_MAX)
                return false;
        return acl_allows(st->st_uid, st->st_gid, st->st_mode, x, xn, uid, gids, ngids, want);
}

struct reach_dir {
        dev_t dev;
        ino_t ino;
};

/* A symlink in a sticky world-writable directory is followed only by its owner, or when the
 * directory's owner owns it too (fs.protected_symlinks, on in Debian). */
static bool symlink_followable(const struct stat *dir, const struct stat *link, uid_t uid)
{
        if (!(dir->st_mode & S_ISVTX) || (dir->st_mode & 0002) == 0)
                return true;
        return link->st_uid == uid || link->st_uid == dir->st_uid;
}

int perms_user_reach(int rootfd, const char *path, uid_t uid, const gid_t *gids, size_t ngids, unsigned *budget,
                     struct stat *ret_st)
{
        struct stat root_st, cur_st;
        _cleanup_close_ int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0 || fstat(cur, &root_st) < 0)
                return -errno;
        cur_st = root_st;
        /* The directories above cur, to check that ".." leads back to the one we came from. */
        _cleanup_free_ struct reach_dir *up = NULL;
        size_t depth = 0, up_cap = 0;
        _cleanup_free_ char *rest = xstrdup(path);
        size_t pos = 0;
        unsigned links = 0;
        for (;;) {
                pos += strspn(rest + pos, "/");
                if (!rest[pos])
                        break;
                size_t len = strcspn(rest + pos, "/");
                _cleanup_free_ char *comp = xstrndup(rest + pos, len);
                pos += len;
                bool last = rest[pos + strspn(rest + pos, "/")] == 0, slash = rest[pos] == '/';
                if (*budget == 0)
                        return -ENOBUFS;
                (*budget)--;
                /* Any name, "." and ".." too, is looked up in cur only with search permission. */
                if (!S_ISDIR(cur_st.st_mode))
                        return -ENOTDIR;
                if (!user_may(cur, &cur_st, uid, gids, ngids, ACL_X))
                        return -EACCES;
                if (strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {
                        if (depth == 0)
                                continue; /* ".." of the root is the root */
                        int pfd = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        struct stat pst;
                        if (pfd < 0 || fstat(pfd, &pst) < 0) {
                                int r = -errno;
                                if (pfd >= 0)
                                        close(pfd);
                                return r;
                        }
                        depth--;
                        if (pst.st_dev != up[depth].dev || pst.st_ino != up[depth].ino) {
                                close(pfd);
                                return -ESTALE; /* moved while we looked */
                        }
                        close(cur);
                        cur = pfd;
                        cur_st = pst;
                        continue;
                }
                _cleanup_close_ int nfd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (nfd < 0 || fstat(nfd, &st) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode)) {
                        struct statfs sf;
                        if (++links > PERMS_SYMLINKS_MAX)
                                return -ELOOP;
                        if (!symlink_followable(&cur_st, &st, uid) ||
                            (fstatfs(nfd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC))
                                return -EACCES;
                        char target[PATH_MAX];
                        ssize_t k = readlinkat(nfd, "", target, sizeof(target) - 1);
                        if (k < 0)
                                return -errno;
                        if (k == 0)
                                return -ENOENT;
                        target[k] = 0;
                        /* What follows the link ("" or "/more") is walked after its target. */
                        char *next = xasprintf("%s%s", target, rest + pos);
                        free(rest);
                        rest = next;
                        pos = 0;
                        if (target[0] == '/') {
                                int rfd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (rfd < 0)
                                        return -errno;
                                close(cur);
                                cur = rfd;
                                cur_st = root_st;
                                depth = 0;
                        }
                        continue;
                }
                if ((!last || slash) && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if (depth == up_cap) {
                        up_cap = up_cap ? up_cap * 2 : 16;
                        up = xrealloc(up, up_cap * sizeof(*up));
                }
                up[depth++] = (struct reach_dir){.dev = cur_st.st_dev, .ino = cur_st.st_ino};
                close(cur);
                cur = TAKE_FD(nfd);
                cur_st = st;
        }
        unsigned want = S_ISDIR(cur_st.st_mode) ? ACL_R | ACL_X : S_ISREG(cur_st.st_mode) ? ACL_R : 0;
        if (!want)
                return -EINVAL;
        if (!user_may(cur, &cur_st, uid, gids, ngids, want))
                return -EACCES;
        if (ret_st)
                *ret_st = cur_st;
        return 0;
}
