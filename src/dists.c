/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dists.h"
#include "fileio.h"
#include "rootfile.h"

#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_MAX (16 * 1024 * 1024)
/* What one rebuild reads of a venv others can write: so many distributions, so many bytes of
 * their metadata (SECURITY.md: every input has a size). */
#define DISTS_MAX 10000
#define META_TOTAL_MAX (256 * 1024 * 1024)

void dists_free(struct dists *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->d[i].name);
                free(l->d[i].version);
                free(l->d[i].req);
        }
        free(l->d);
        strv_free(l->stops);
        strv_free(l->left);
        strv_free(l->notes);
        *l = (struct dists){0};
}

/* "Name:" and "Version:" of a METADATA or PKG-INFO text (its header ends at a blank line). */
static void meta_fields(char *text, char **ret_name, char **ret_version)
{
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && *line && *line != '\r';
             line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "Name:") && !*ret_name)
                        *ret_name = xstrdup(strstrip(line + 5));
                else if (startswith(line, "Version:") && !*ret_version)
                        *ret_version = xstrdup(strstrip(line + 8));
        }
}

/* Where the value of "key" starts in a small JSON text (direct_url.json), or NULL. */
static const char *json_value_of(const char *text, const char *key)
{
        _cleanup_free_ char *k = xasprintf("\"%s\"", key);
        const char *p = strstr(text, k);
        if (!p)
                return NULL;
        p += strlen(k);
        return p + strspn(p, " \t\n\r:");
}

static char *json_string_of(const char *text, const char *key)
{
        const char *p = json_value_of(text, key);
        if (!p || *p != '"')
                return NULL;
        const char *end = strchr(p + 1, '"');
        return end ? xstrndup(p + 1, (size_t)(end - p - 1)) : NULL;
}

static bool json_true_of(const char *text, const char *key)
{
        const char *p = json_value_of(text, key);
        return p && startswith(p, "true");
}

/* Whether a wheel's file name (NAME-VERSION[-BUILD]-PYTAG-ABITAG-PLATFORM.whl) says it was built
 * for another CPython than pyver ("3.13"): a version-specific ABI (cp311) other than pyver's, or
 * the stable ABI (abi3) from a later Python on. A pure wheel (ABI none) fits every Python. */
static bool wheel_for_other_python(const char *url, const char *pyver)
{
        unsigned major, minor;
        if (!pyver || !endswith(url, ".whl") || sscanf(pyver, "%u.%u", &major, &minor) != 2)
                return false;
        const char *base = strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
        _cleanup_free_ char *s = xstrndup(base, strlen(base) - strlen(".whl"));
        char *tags[3];
        for (int i = 2; i >= 0; i--) { /* platform, ABI, Python tag, from the right */
                char *dash = strrchr(s, '-');
                if (!dash)
                        return false;
                *dash = '\0';
                tags[i] = dash + 1;
        }
        const char *pytag = tags[0], *abi = tags[1];
        if (strcmp(abi, "none") == 0)
                return false;
        unsigned from_minor;
        if (strcmp(abi, "abi3") == 0)
                return sscanf(pytag, "cp3%u", &from_minor) == 1 && major == 3 && from_minor > minor;
        char want[32];
        snprintf(want, sizeof(want), "cp%u%u", major, minor);
        for (const char *tok = abi, *dot; tok; tok = dot ? dot + 1 : NULL) { /* compressed tags: cp311.cp312 */
                dot = strchr(tok, '.');
                size_t len = dot ? (size_t)(dot - tok) : strlen(tok);
                if (strncmp(tok, want, strlen(want)) == 0 && len >= strlen(want) &&
                    (len == strlen(want) || tok[strlen(want)] == 'd' || tok[strlen(want)] == 'm' ||
                     tok[strlen(want)] == 't'))
                        return false;
        }
        return true;
}

/* A distribution's name as PEP 508 allows it, and a version of the characters PEP 440 uses: what
 * goes to pip's command line (and to root's terminal) from a venv others can write. */
static bool dist_name_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 200 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool dist_version_ok(const char *s)
{
        size_t n = strlen(s);
        return n > 0 && n <= 64 && isalnum((unsigned char)s[0]) &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.+!_-") == n;
}

/* A URL or VCS field of direct_url.json as pip takes it: printable ASCII without blanks. */
static bool url_ok(const char *s)
{
        if (!s)
                return true;
        for (; *s; s++)
                if (*s <= ' ' || *s > '~')
                        return false;
        return true;
}

/* The requirement that installs one distribution as it was, or a reason in *stops. */
static void add_dist(int rootfd, int infofd, char *name, char *version, const char *pyver, bool explicit_sources,
                     struct dists *l)
{
        _cleanup_free_ char *du = NULL;
        char *req = NULL;
        if (infofd >= 0 && file_read_at(infofd, "direct_url.json", 64 * 1024, &du, NULL, NULL) >= 0) {
                _cleanup_free_ char *url = json_string_of(du, "url"), *vcs = json_string_of(du, "vcs"),
                                    *commit = json_string_of(du, "commit_id");
                struct stat st;
                const bool foreign_wheel = url && startswith(url, "file://") && wheel_for_other_python(url, pyver);
                if (json_true_of(du, "editable"))
                        strv_consume(&l->stops, xasprintf("%s %s is an editable install of %s: pip cannot install it "
                                                          "again as it was; uninstall it (pyshare pip APP uninstall "
                                                          "%s) and install it again after the rebuild",
                                                          name, version, url ? url : "a local directory", name));
                else if (!url_ok(url) || !url_ok(vcs) || !url_ok(commit))
                        strv_consume(&l->stops, xasprintf("%s %s records in its direct_url.json a URL that pip "
                                                          "would not take (blanks or control characters): "
                                                          "uninstall it, or install it again from an index",
                                                          name, version));
                else if (foreign_wheel && !explicit_sources)
                        /* Asked for by name, it would come from pip's own index, where a project of
                         * that name may be another's: only from sources the admin named. */
                        strv_consume(&l->stops, xasprintf("%s %s was installed from %s, a wheel for another Python "
                                                          "than %s, and pip would look for %s==%s in the index of "
                                                          "its own configuration, where that name may belong to "
                                                          "another project: give --find-links=DIR with a wheel of "
                                                          "it for Python %s (or --index-url=URL)",
                                                          name, version, url + 7, pyver, name, version, pyver));
                else if (foreign_wheel)
                        strv_consume(&l->notes, xasprintf("%s %s was installed from %s, a wheel for another Python "
                                                          "than %s: asked for as %s==%s",
                                                          name, version, url + 7, pyver, name, version));
                else if (url && startswith(url, "file://") && root_stat(rootfd, url + 7, &st) < 0)
                        strv_consume(&l->stops, xasprintf("%s %s was installed from %s, which is gone: put it back, "
                                                          "or uninstall %s first",
                                                          name, version, url + 7, name));
                else if (url && vcs)
                        req = xasprintf("%s @ %s+%s%s%s", name, vcs, url, commit ? "@" : "", commit ? commit : "");
                else if (url)
                        req = xasprintf("%s @ %s", name, url);
        }
        if (!req)
                req = xasprintf("%s==%s", name, version);
        l->d = xrealloc(l->d, (l->n + 1) * sizeof(*l->d));
        l->d[l->n++] = (struct dist){.name = name, .version = version, .req = req};
}

static bool is_venv_tool(const char *name)
{
        return strcasecmp(name, "pip") == 0 || strcasecmp(name, "setuptools") == 0;
}

/* What site-packages holds: *.dist-info (METADATA, direct_url.json) and *.egg-info (PKG-INFO,
 * or the file itself), read without running any Python; legacy *.egg-link files are editable
 * installs. Sorted by name. */
int read_dists(int rootfd, int sitefd, const char *pyver, bool explicit_sources, struct dists *ret)
{
        struct dists l = {0};
        size_t dists = 0, meta_total = 0;
        _cleanup_strv_ char **names = NULL;
        int r = dir_list_at(sitefd, NULL, &names);
        if (r < 0)
                return r;
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++) {
                const char *n = names[i];
                if (endswith(n, ".egg-link")) {
                        strv_consume(&l.stops, xasprintf("%s is an editable install (setup.py develop): pip cannot "
                                                         "install it again as it was; remove it and install it "
                                                         "again after the rebuild",
                                                         n));
                        continue;
                }
                bool dist_info = endswith(n, ".dist-info");
                if (!dist_info && !endswith(n, ".egg-info"))
                        continue;
                if (++dists > DISTS_MAX || meta_total > META_TOTAL_MAX) {
                        dists_free(&l);
                        return -E2BIG; /* "Argument list too long": more than a rebuild installs */
                }
                _cleanup_close_ int infofd = openat(sitefd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                r = infofd >= 0 ? file_read_at(infofd, dist_info ? "METADATA" : "PKG-INFO", META_MAX, &text, &len, NULL)
                                : file_read_at(sitefd, n, META_MAX, &text, &len, NULL);
                meta_total += r >= 0 ? len : 0;
                char *name = NULL, *version = NULL;
                if (r >= 0)
                        meta_fields(text, &name, &version);
                if (!name || !version || !dist_name_ok(name) || !dist_version_ok(version)) {
                        strv_consume(&l.stops,
                                     xasprintf("%s names %s: remove it, or repair the distribution it belongs to", n,
                                               !name || !version ? "no distribution and version"
                                                                 : "a distribution or version that pip would not take "
                                                                   "as a requirement (PEP 508 names, PEP 440 versions)"));
                        free(name);
                        free(version);
                        continue;
                }
                if (is_venv_tool(name)) {
                        strv_consume(&l.left, xasprintf("%s %s", name, version));
                        free(name);
                        free(version);
                        continue;
                }
                add_dist(rootfd, infofd, name, version, pyver, explicit_sources, &l);
        }
        *ret = l;
        return 0;
}

bool same_dist(const char *a, const char *b)
{
        for (;; a++, b++) {
                while (*a == '-' || *a == '_' || *a == '.')
                        a++;
                while (*b == '-' || *b == '_' || *b == '.')
                        b++;
                if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
                        return false;
                if (!*a)
                        return true;
        }
}
