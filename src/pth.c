/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "pth.h"
#include "fileio.h"
#include "names.h"
#include "perms.h"

#include <dirent.h>
#include <sys/stat.h>

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

static bool is_pth(const char *n) { return endswith(n, ".pth") && n[0] != '.'; }


/* The first PTH_FILES_MAX *.pth names in site.py's order, with a bounded heap (the largest
 * kept name on top) so that a directory of a million names costs no more memory than 256:
 * sorted into *ret; the others counted, the first of them by name kept. */
static int pth_names(int sitefd, struct pth_info *p, char ***ret)
{
        DIR *d = dir_stream_at(sitefd);
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
