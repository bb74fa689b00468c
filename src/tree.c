/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tree.h"
#include "acl.h"
#include "app.h"
#include "fileio.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "perms.h"
#include "prefix.h"
#include "users.h"

#include <fcntl.h>
#include <sys/stat.h>

/* Each changed entry and what changes, as `chmod -c` says it: with --dry-run always, else with
 * -v; the first PERMS_CHANGES_MAX, then how many more. */
static void print_perms_changes(const struct ctx *x, const struct perms_stats *st)
{
        enum log_level level = x->dry_run ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
        for (size_t i = 0; i < st->n_changes; i++) {
                const struct perms_change *c = &st->changes[i];
                _cleanup_free_ char *what = xstrdup("");
                if (c->mode != c->new_mode) {
                        char *t = xasprintf("%smode %04o -> %04o", what, (unsigned)c->mode, (unsigned)c->new_mode);
                        free(what);
                        what = t;
                }
                if (c->uid != c->new_uid) {
                        _cleanup_free_ char *from = user_name_of(x->rootfd, c->uid),
                                            *to = user_name_of(x->rootfd, c->new_uid);
                        char *t = xasprintf("%s%sowner %s -> %s", what, *what ? ", " : "", from, to);
                        free(what);
                        what = t;
                }
                if (c->gid != c->new_gid) {
                        _cleanup_free_ char *from = group_name_of(x->rootfd, c->gid),
                                            *to = group_name_of(x->rootfd, c->new_gid);
                        char *t = xasprintf("%s%sgroup %s -> %s", what, *what ? ", " : "", from, to);
                        free(what);
                        what = t;
                }
                _cleanup_free_ char *p = printable(c->path);
                log_msg(level, "  %s %s: %s", x->dry_run ? "would change" : "changed", p, *what ? what : "ACL rewritten");
        }
        if (st->changed > st->n_changes)
                log_msg(level, "  ... and %lu more %s", st->changed - st->n_changes,
                        st->changed - st->n_changes == 1 ? "entry" : "entries");
}

void print_perms_stats(const struct ctx *x, const struct perms_stats *st)
{
        unsigned long skipped = st->hardlinks;
        for (int i = 0; i < _WALK_SKIP_MAX; i++)
                if (i != WALK_SKIP_SYMLINK)
                        skipped += st->skipped[i];
        log_info("permissions: %lu entries, %lu %s, %lu skipped, %lu symlinks left alone%s", st->entries, st->changed,
                 x->dry_run ? "to change" : "changed", skipped, st->skipped[WALK_SKIP_SYMLINK],
                 st->errors ? ", errors below" : "");
        for (size_t i = 0; i < st->n_notes; i++)
                log_notice("  %s", st->notes[i]);
        print_perms_changes(x, st);
}

void json_perms_stats(struct json *j, const struct perms_stats *st)
{
        json_int(j, "entries", (long long)st->entries);
        json_int(j, "changed", (long long)st->changed);
        json_obj_begin(j, "skipped");
        for (int i = 0; i < _WALK_SKIP_MAX; i++)
                json_int(j, walk_skip_name(i), (long long)st->skipped[i]);
        json_int(j, "hard link", (long long)st->hardlinks);
        json_obj_end(j);
        json_int(j, "errors", (long long)st->errors);
        json_arr_begin(j, "notes");
        for (size_t i = 0; i < st->n_notes; i++)
                json_str(j, NULL, st->notes[i]);
        json_arr_end(j);
}

/* The prefix through prefix_open (its rule: prefix.h), with the refusal said once. */
int open_prefix(const struct ctx *x, const char *prefix, enum prefix_open_mode mode, int *ret_fd)
{
        struct prefix_problem pp = {0};
        int r = prefix_open(x->rootfd, prefix, mode, ret_fd, NULL, &pp);
        if (r >= 0)
                return r;
        _cleanup_free_ char *sp = shown(x, prefix);
        _cleanup_free_ char *why = pp.path ? prefix_problem_text(&pp, prefix, x->root, ids_root(x)) : NULL;
        if (why)
                log_error("%s", why);
        else
                log_error("cannot open %s: %s", sp, strerror(-r));
        prefix_problem_free(&pp);
        return r;
}

/* A venv outside the default prefix can sit below a directory that the service user cannot
 * search (a 0700 home directory): give the user search permission there through an ACL entry
 * of its own and nothing else, as `setfacl -m u:USER:x DIR` would, through the fd that
 * perms_walk_ancestors pinned and looked at. */
struct grant_ctx {
        const struct ctx *x;
        const struct ps_user *u;
        struct perms_stats *st;
};

static int grant_one(const struct perms_ancestor *an, void *userdata)
{
        const struct grant_ctx *g = userdata;
        const char *user = g->u->name;
        if (!S_ISDIR(an->st.st_mode))
                return 0; /* a symlink: status and the probe say so; nothing here follows it */
        _cleanup_free_ char *sp = shown(g->x, an->path);
        int r;
        if (g->x->dry_run)
                log_info("would give %s search permission on %s (ACL entry u:%s:--x)", user, sp, user);
        else if ((r = acl_grant_search_fd(an->fd, g->u->uid)) < 0) {
                log_error("cannot give %s search permission on %s: %s; give it yourself (chmod o+x %s) or move the "
                          "venv under %s",
                          user, sp, strerror(-r), sp, DEFAULT_PREFIX);
                return r;
        } else
                log_info("gave %s search permission on %s (ACL entry u:%s:--x; its owner, mode bits for others and "
                         "other entries are unchanged)",
                         user, sp, user);
        g->st->changed++;
        return 0;
}

static int grant_ancestors(const struct ctx *x, const struct app *a, const struct ps_user *u, struct perms_stats *st)
{
        _cleanup_free_ gid_t *gids = NULL;
        size_t ngids = 0;
        if (x->root || user_groups(u, &gids, &ngids) < 0) {
                free(gids);
                gids = xmalloc(sizeof(*gids));
                gids[0] = u->gid;
                ngids = 1;
        }
        struct grant_ctx g = {.x = x, .u = u, .st = st};
        _cleanup_close_ int parentfd = -1;
        return perms_walk_ancestors(x->rootfd, a->venv, u->uid, gids, ngids, grant_one, &g, &parentfd);
}

void app_perms_target(const struct app *a, uid_t more[ACL_MORE_USERS_MAX], struct perms_target *ret)
{
        *ret = (struct perms_target){.user = a->user.uid, .group = a->gid, .more_users = more};
        ret->n_more = app_more_uids(a, more, ACL_MORE_USERS_MAX);
}

static void unreadable_of(const struct ctx *x, const struct app *a, const struct ps_user *u, bool tree_proven,
                          char ***problems)
{
        _cleanup_free_ gid_t *gids = NULL;
        size_t ngids = 0, nf = 0;
        struct perms_finding *f = NULL;
        if (x->root || user_groups(u, &gids, &ngids) < 0 ||
            (tree_proven ? perms_find_unreadable_above : perms_find_unreadable)(a->venv, u->uid, gids, ngids, 8, &f,
                                                                                &nf) < 0)
                return;
        for (size_t i = 0; i < nf; i++)
                strv_consume(problems, describe_finding_of(x, a, u, &f[i]));
        perms_findings_free(f, nf);
}

void unreadable_problems(const struct ctx *x, const struct app *a, const struct perms_stats *layout, char ***problems)
{
        /* A walk that found every entry in pyshare's layout for these readers, with nothing
         * unproven, has shown that they may read the whole tree: only the ancestors are left. */
        bool proven = layout && layout->changed == 0 && layout->unproven == 0 && layout->errors == 0;
        unreadable_of(x, a, &a->user, proven, problems);
        for (size_t i = 0; i < a->n_more; i++)
                unreadable_of(x, a, &a->more_users[i], proven, problems);
}

int apply_tree(const struct ctx *x, const struct app *a, struct perms_stats *st)
{
        _cleanup_close_ int pfd = -1;
        _cleanup_free_ char *sv = shown(x, a->venv);
        int r = open_prefix(x, a->cfg.prefix, PREFIX_OPEN_EXISTING, &pfd);
        if (r < 0)
                return r;
        uid_t more[ACL_MORE_USERS_MAX];
        struct perms_target t;
        app_perms_target(a, more, &t);
        _cleanup_close_ int vfd = openat(pfd, a->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = vfd < 0 ? -errno : acl_supported_fd(vfd);
        if (r >= 0)
                r = perms_apply(pfd, a->name, sv, &t, x->dry_run, st);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "the filesystem of %s has no POSIX ACL support: mount it with ACLs (the acl "
                                       "option) or choose --prefix on a filesystem with ACLs",
                                       sv);
        if (r < 0)
                return log_error_errno(r, "cannot set the permissions of %s: %s", sv, strerror(-r));
        if (st->errors) {
                print_perms_stats(x, st);
                log_error("%lu entries of %s could not be changed (listed above)", st->errors, sv);
                return -EIO;
        }
        r = grant_ancestors(x, a, &a->user, st);
        for (size_t i = 0; r >= 0 && i < a->n_more; i++)
                r = grant_ancestors(x, a, &a->more_users[i], st);
        return r;
}

char *describe_finding(const struct ctx *x, const struct app *a, const struct perms_finding *f)
{
        return describe_finding_of(x, a, &a->user, f);
}

char *describe_finding_of(const struct ctx *x, const struct app *a, const struct ps_user *who,
                          const struct perms_finding *f)
{
        char mode[11];
        mode_string(f->mode, mode);
        _cleanup_free_ char *u = user_name_of(ids_root(x), f->uid), *g = group_name_of(ids_root(x), f->gid);
        if (f->symlink)
                return xasprintf("%s is a symbolic link, which pyshare does not follow: the check stopped there; "
                                 "set the app's prefix to the real directory (pyshare setup %s --prefix=DIR)",
                                 f->path, a->name);
        bool in_home = startswith(f->path, "/home/") || startswith(f->path, "/root");
        /* repair gives access to the user stored at setup; a service that runs as another user
         * now needs setup to store that one. */
        _cleanup_free_ char *fix = who == &a->user && a->cfg.user && strcmp(a->cfg.user, who->name) != 0
                                           ? xasprintf("pyshare setup %s --user=%s", a->name, who->name)
                                           : xasprintf("pyshare repair %s", a->name);
        if (f->outside && in_home)
                return xasprintf("%s cannot enter %s (%s %s:%s, ACL %s): run `%s` (it gives %s search permission "
                                 "there, as setfacl -m u:%s:x %s does), or move the venv out of the home directory or "
                                 "run `pyshare setup` with the default location",
                                 who->name, f->path, mode, u, g, f->acl, fix, who->name, who->name, f->path);
        if (f->outside)
                return xasprintf("%s cannot enter %s (%s %s:%s, ACL %s): run `%s` (it gives %s search permission "
                                 "there, as setfacl -m u:%s:x %s does) or move the venv under %s",
                                 who->name, f->path, mode, u, g, f->acl, fix, who->name, who->name, f->path,
                                 DEFAULT_PREFIX);
        return xasprintf("%s cannot %s %s (%s %s:%s, ACL %s): run `%s`", who->name, f->is_dir ? "list" : "read",
                         f->path, mode, u, g, f->acl, fix);
}

int check_acl_support(const struct ctx *x, const char *prefix)
{
        _cleanup_free_ char *p = xstrdup(prefix + 1);
        for (;;) {
                _cleanup_close_ int fd = -1;
                int r = *p ? dir_open(x->rootfd, p, NULL, &fd, NULL)
                           : ((fd = openat(x->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ? -errno : 0);
                if (r == -ENOENT && *p) {
                        char *slash = strrchr(p, '/');
                        if (slash)
                                *slash = 0;
                        else
                                *p = 0;
                        continue;
                }
                if (r < 0)
                        return report_dir_error(x, p, r, NULL);
                if (acl_supported_fd(fd) == -EOPNOTSUPP) {
                        _cleanup_free_ char *abs = xasprintf("/%s", p), *sp = shown(x, abs);
                        log_error("the filesystem of %s has no POSIX ACL support: pyshare needs ACLs to let the service "
                                  "user read the environment; mount it with ACLs or choose --prefix on a filesystem "
                                  "that has them. Nothing was changed.",
                                  sp);
                        return -EOPNOTSUPP;
                }
                return 0;
        }
}

/* Missing components are created root:root 0755; an existing prefix keeps its owner and mode
 * (what setup did not create is not setup's to change; the service user gets search
 * permission by an ACL entry where it needs it). */
int prepare_prefix(const struct ctx *x, const char *prefix, int *ret_fd)
{
        int r = open_prefix(x, prefix, x->dry_run ? PREFIX_OPEN_CHECK : PREFIX_OPEN_CREATE, ret_fd);
        if (r < 0)
                return r;
        _cleanup_free_ char *sp = shown(x, prefix);
        if (*ret_fd < 0)
                log_info("would create %s (root:root 0755)", sp);
        return 0;
}
