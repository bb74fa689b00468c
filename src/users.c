/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "users.h"
#include "contain.h"
#include "fileio.h"

#include <grp.h>
#include <pwd.h>

void ps_user_free(struct ps_user *u)
{
        free(u->name);
        free(u->home);
        *u = (struct ps_user){0};
}

/* Finds the line of an image's passwd/group file whose field number field is key, and splits
 * it at ':'. */
static int db_find(int rootfd, const char *file, size_t field, const char *key, char ***ret_fields)
{
        _cleanup_close_ int etc = -1;
        int r = dir_open(rootfd, "etc", NULL, &etc, NULL);
        if (r < 0)
                return r == -ENOENT ? -PS_E_NOTFOUND : r;
        _cleanup_free_ char *text = NULL;
        r = file_read_at(etc, file, 16 * 1024 * 1024, &text, NULL, NULL);
        if (r < 0)
                return r == -ENOENT ? -PS_E_NOTFOUND : r;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char **fields = NULL;
                char *p = line;
                for (;;) {
                        char *colon = strchr(p, ':');
                        strv_consume(&fields, xstrndup(p, colon ? (size_t)(colon - p) : strlen(p)));
                        if (!colon)
                                break;
                        p = colon + 1;
                }
                if (strv_length(fields) > field && strcmp(fields[field], key) == 0) {
                        *ret_fields = fields;
                        return 0;
                }
                strv_free(fields);
        }
        return -PS_E_NOTFOUND;
}

int id_parse(const char *s, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v >= 0xffffffffUL)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

int user_lookup(int rootfd, const char *name, struct ps_user *ret)
{
        if (rootfd < 0) {
                struct passwd pw, *res = NULL;
                char buf[16384];
                int e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
                if (e != 0)
                        return -e;
                if (!res)
                        return -PS_E_NOTFOUND;
                *ret = (struct ps_user){.name = xstrdup(pw.pw_name), .uid = pw.pw_uid, .gid = pw.pw_gid,
                                        .home = xstrdup(pw.pw_dir ? pw.pw_dir : "/")};
                return 0;
        }
        _cleanup_strv_ char **f = NULL;
        int r = db_find(rootfd, "passwd", 0, name, &f);
        if (r < 0)
                return r;
        unsigned uid, gid;
        if (strv_length(f) < 7 || id_parse(f[2], &uid) < 0 || id_parse(f[3], &gid) < 0)
                return -PS_E_NOTFOUND;
        *ret = (struct ps_user){.name = xstrdup(name), .uid = uid, .gid = gid, .home = xstrdup(f[5])};
        return 0;
}

int group_lookup(int rootfd, const char *name, gid_t *ret_gid, char ***ret_members)
{
        char **members = NULL;
        if (rootfd < 0) {
                struct group gr, *res = NULL;
                size_t sz = 65536;
                _cleanup_free_ char *buf = xmalloc(sz);
                int e;
                while ((e = getgrnam_r(name, &gr, buf, sz, &res)) == ERANGE && sz < 16 * 1024 * 1024) {
                        sz *= 2;
                        free(buf);
                        buf = xmalloc(sz);
                }
                if (e != 0)
                        return -e;
                if (!res)
                        return -PS_E_NOTFOUND;
                for (char **m = gr.gr_mem; m && *m; m++)
                        strv_push(&members, *m);
                *ret_gid = gr.gr_gid;
        } else {
                _cleanup_strv_ char **f = NULL;
                int r = db_find(rootfd, "group", 0, name, &f);
                if (r < 0)
                        return r;
                unsigned gid;
                if (strv_length(f) < 3 || id_parse(f[2], &gid) < 0)
                        return -PS_E_NOTFOUND;
                if (strv_length(f) >= 4 && *f[3]) {
                        char *save = NULL;
                        for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                                strv_push(&members, m);
                }
                *ret_gid = gid;
        }
        if (ret_members)
                *ret_members = members;
        else
                strv_free(members);
        return 0;
}

/* The name in field 0 of the line whose field 2 is id, in the image's passwd or group file. */
static char *db_name_of(int rootfd, const char *file, unsigned id)
{
        _cleanup_strv_ char **f = NULL;
        _cleanup_free_ char *key = xasprintf("%u", id);
        if (db_find(rootfd, file, 2, key, &f) < 0)
                return NULL;
        return xstrdup(f[0]);
}

/* The name from the image's file, or the host's (host_name), or the number. */
static char *id_name(int rootfd, const char *file, unsigned id, const char *host_name)
{
        char *name = rootfd >= 0 ? db_name_of(rootfd, file, id) : host_name ? xstrdup(host_name) : NULL;
        return name ? name : xasprintf("%u", id);
}

char *user_name_of(int rootfd, uid_t uid)
{
        const struct passwd *pw = rootfd < 0 ? getpwuid(uid) : NULL;
        return id_name(rootfd, "passwd", (unsigned)uid, pw ? pw->pw_name : NULL);
}

char *group_name_of(int rootfd, gid_t gid)
{
        const struct group *gr = rootfd < 0 ? getgrgid(gid) : NULL;
        return id_name(rootfd, "group", (unsigned)gid, gr ? gr->gr_name : NULL);
}

int user_in_group(int rootfd, const struct ps_user *u, gid_t gid, bool *ret)
{
        _cleanup_free_ gid_t *g = NULL;
        size_t n;
        int r = user_groups_at(rootfd, u, &g, &n);
        if (r < 0)
                return r;
        *ret = false;
        for (size_t i = 0; i < n; i++)
                if (g[i] == gid)
                        *ret = true;
        return 0;
}

int user_groups_at(int rootfd, const struct ps_user *u, gid_t **ret, size_t *ret_n)
{
        if (rootfd < 0)
                return user_groups(u, ret, ret_n);
        /* An image: its primary group, and every group of its /etc/group that lists it. */
        _cleanup_close_ int etc = -1;
        int r = dir_open(rootfd, "etc", NULL, &etc, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        r = file_read_at(etc, "group", 16 * 1024 * 1024, &text, NULL, NULL);
        if (r < 0)
                return r;
        size_t n = 1;
        gid_t *g = xmalloc(sizeof(*g));
        g[0] = u->gid;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4] = {0};
                char *p = line;
                for (int i = 0; i < 4 && p; i++) {
                        f[i] = p;
                        p = strchr(p, ':');
                        if (p)
                                *p++ = 0;
                }
                unsigned gid;
                if (!f[3] || id_parse(f[2], &gid) < 0 || gid == u->gid)
                        continue;
                char *s2 = NULL;
                for (char *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2))
                        if (strcmp(m, u->name) == 0) {
                                g = xrealloc(g, (n + 1) * sizeof(*g));
                                g[n++] = gid;
                                break;
                        }
        }
        *ret = g;
        *ret_n = n;
        return 0;
}

int user_groups(const struct ps_user *u, gid_t **ret, size_t *ret_n)
{
        int n = 64;
        gid_t *g = xmalloc((size_t)n * sizeof(gid_t));
        while (getgrouplist(u->name, u->gid, g, &n) < 0) {
                if (n > 65536) {
                        free(g);
                        return -E2BIG;
                }
                g = xrealloc(g, (size_t)n * sizeof(gid_t));
        }
        *ret = g;
        *ret_n = (size_t)n;
        return 0;
}

int group_create_system(const char *name, char **ret_output)
{
        char *argv[] = {"/usr/sbin/groupadd", "--system", (char *)name, NULL};
        int r = run_command(argv, 60 * 1000, ret_output);
        if (r < 0)
                return r;
        return r == 0 ? 0 : -EIO;
}
