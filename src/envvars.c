/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "envvars.h"
#include "rootfile.h"

#include <fnmatch.h>

/* ---- envvars: the subset of sh that apache2ctl meets in it ------------------------------ */

struct shell {
        int rootfd;
        struct apache_envvars *e;
        unsigned depth;
        unsigned lines;
};

static struct apache_var *sh_find(struct apache_envvars *e, const char *name, size_t n)
{
        for (size_t i = 0; i < e->n; i++)
                if (strlen(e->vars[i].name) == n && strncmp(e->vars[i].name, name, n) == 0)
                        return &e->vars[i];
        return NULL;
}

static struct apache_var *sh_get_or_add(struct apache_envvars *e, const char *name)
{
        struct apache_var *v = sh_find(e, name, strlen(name));
        if (v)
                return v;
        e->vars = xrealloc(e->vars, (e->n + 1) * sizeof(*e->vars));
        v = &e->vars[e->n++];
        *v = (struct apache_var){.name = xstrdup(name)};
        return v;
}

static int sh_set(struct apache_envvars *e, const char *name, const char *value, const char *where, bool export)
{
        if (e->n >= APACHE_MAX_ITEMS && !sh_find(e, name, strlen(name)))
                return -E2BIG;
        struct apache_var *v = sh_get_or_add(e, name);
        if (value) {
                free(v->value);
                v->value = xstrdup(value);
                free(v->where);
                v->where = xstrdup(where);
        }
        if (!v->where)
                v->where = xstrdup(where); /* "export NAME" before any value */
        if (export)
                v->exported = true;
        return 0;
}

static void sh_unset(struct apache_envvars *e, const char *name)
{
        struct apache_var *v = sh_find(e, name, strlen(name));
        if (!v)
                return;
        free(v->name);
        free(v->value);
        free(v->where);
        size_t i = (size_t)(v - e->vars);
        memmove(v, v + 1, (e->n - i - 1) * sizeof(*v));
        e->n--;
}

/* Removes the shortest or longest prefix (or suffix) of s that matches the glob pat. */
static char *trim_pattern(const char *s, const char *pat, bool suffix, bool longest)
{
        size_t n = strlen(s);
        for (size_t k = 0; k <= n; k++) {
                size_t len = longest ? n - k : k;
                _cleanup_free_ char *part = suffix ? xstrdup(s + n - len) : xstrndup(s, len);
                if (fnmatch(pat, part, 0) == 0)
                        return suffix ? xstrndup(s, n - len) : xstrdup(s + len);
        }
        return xstrdup(s);
}

static int sh_expand(struct shell *sh, const char *s, size_t n, unsigned depth, struct buf *out);

/* ${...} between p and the closing brace at end. */
static int sh_expand_braced(struct shell *sh, const char *p, const char *end, unsigned depth, struct buf *out)
{
        const char *q = p;
        while (q < end && is_name_char(*q))
                q++;
        if (q == p || !is_name_start(*p))
                return -EINVAL; /* ${#x}, ${1}, ${!x}: not met in envvars */
        const struct apache_var *v = sh_find(sh->e, p, (size_t)(q - p));
        const char *value = v && v->value ? v->value : NULL;
        if (q == end) {
                buf_puts(out, value ? value : "");
                return 0;
        }
        bool colon = *q == ':';
        if (colon)
                q++;
        if (q == end)
                return -EINVAL;
        char op = *q++;
        bool doubled = (op == '#' || op == '%') && q < end && *q == op && !colon;
        if (doubled)
                q++;
        struct buf word = {0};
        int r = sh_expand(sh, q, (size_t)(end - q), depth + 1, &word);
        buf_append(&word, "", 1);
        bool set = value && (!colon || *value);
        if (r < 0) {
        } else if (op == '-')
                buf_puts(out, set ? value : word.p);
        else if (op == '+')
                buf_puts(out, set ? word.p : "");
        else if ((op == '#' || op == '%') && !colon) {
                _cleanup_free_ char *t = trim_pattern(value ? value : "", word.p, op == '%', doubled);
                buf_puts(out, t);
        } else
                r = -EINVAL; /* ${x:=y}, ${x:?y}, substrings: not met in envvars */
        buf_free(&word);
        return r;
}

/* Expands $NAME, ${...}, quotes and backslashes of one word (no field splitting: envvars
 * assigns, and assignments are not split). -EINVAL for what is not understood. */
static int sh_expand(struct shell *sh, const char *s, size_t n, unsigned depth, struct buf *out)
{
        if (depth > 8)
                return -EINVAL;
        bool dq = false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '`')
                        return -EINVAL; /* command substitution */
                if (c == '\'' && !dq) {
                        const char *e = memchr(s + i + 1, '\'', n - i - 1);
                        if (!e)
                                return -EINVAL;
                        buf_append(out, s + i + 1, (size_t)(e - s - i - 1));
                        i = (size_t)(e - s);
                } else if (c == '"')
                        dq = !dq;
                else if (c == '\\') {
                        if (i + 1 >= n)
                                return -EINVAL;
                        char d = s[++i];
                        if (dq && !strchr("$`\"\\", d))
                                buf_append(out, "\\", 1);
                        buf_append(out, &d, 1);
                } else if (c == '$' && i + 1 < n && s[i + 1] == '{') {
                        size_t j = i + 2;
                        int nest = 1;
                        for (; j < n; j++) {
                                if (s[j] == '$' && j + 1 < n && s[j + 1] == '{')
                                        nest++, j++;
                                else if (s[j] == '}' && --nest == 0)
                                        break;
                        }
                        if (j >= n)
                                return -EINVAL;
                        int r = sh_expand_braced(sh, s + i + 2, s + j, depth, out);
                        if (r < 0)
                                return r;
                        i = j;
                } else if (c == '$' && i + 1 < n && is_name_start(s[i + 1])) {
                        size_t j = i + 1;
                        while (j < n && is_name_char(s[j]))
                                j++;
                        const struct apache_var *v = sh_find(sh->e, s + i + 1, j - i - 1);
                        buf_puts(out, v && v->value ? v->value : "");
                        i = j - 1;
                } else if (c == '$' && i + 1 < n && !is_blank(s[i + 1]) && s[i + 1] != '"')
                        return -EINVAL; /* $(...), $1, $$, $? ... */
                else
                        buf_append(out, &c, 1);
        }
        return dq ? -EINVAL : 0;
}

/* Splits a line into raw words (quotes kept, for sh_expand) and ';' separators. -EINVAL for
 * pipes, redirections, subshells, background jobs and other shell that envvars rarely has. */
static int sh_split(const char *line, char ***ret)
{
        char **words = NULL;
        const char *p = line;
        for (;;) {
                while (is_blank(*p))
                        p++;
                if (!*p || *p == '#')
                        break;
                if (*p == ';') {
                        strv_push(&words, ";");
                        p++;
                        continue;
                }
                if (strchr("&|<>()", *p)) {
                        strv_free(words);
                        return -EINVAL;
                }
                const char *start = p;
                char quote = 0;
                int brace = 0;
                for (; *p; p++) {
                        if (quote) {
                                if (*p == '\\' && quote == '"' && p[1])
                                        p++;
                                else if (*p == quote)
                                        quote = 0;
                        } else if (*p == '\\' && p[1])
                                p++;
                        else if (*p == '\'' || *p == '"')
                                quote = *p;
                        else if (*p == '$' && p[1] == '{')
                                brace++, p++;
                        else if (*p == '}' && brace > 0)
                                brace--;
                        else if (!brace && (is_blank(*p) || strchr(";&|<>()", *p)))
                                break;
                }
                if (quote) {
                        strv_free(words);
                        return -EINVAL;
                }
                strv_consume(&words, xstrndup(start, (size_t)(p - start)));
        }
        *ret = words ? words : xcalloc(1, sizeof(char *));
        return 0;
}

/* NAME=... with NAME unquoted: an assignment word. Returns the length of NAME or 0. */
static size_t assignment_name(const char *w)
{
        if (!is_name_start(*w))
                return 0;
        size_t i = 1;
        while (is_name_char(w[i]))
                i++;
        return w[i] == '=' ? i : 0;
}

/* One word expanded, as a string of its own (to free). */
static int sh_expand_word(struct shell *sh, const char *w, char **ret)
{
        struct buf b = {0};
        int r = sh_expand(sh, w, strlen(w), 0, &b);
        buf_append(&b, "", 1);
        if (r < 0) {
                buf_free(&b);
                return r;
        }
        *ret = b.p;
        return 0;
}

/* The assignment word w (NAME=VALUE, k the length of NAME): VALUE expanded, then set. */
static int sh_assign(struct shell *sh, const char *w, size_t k, const char *where, bool export)
{
        _cleanup_free_ char *name = xstrndup(w, k), *value = NULL;
        int r = sh_expand_word(sh, w + k + 1, &value);
        return r < 0 ? r : sh_set(sh->e, name, value, where, export);
}

/* test / [ with the operators envvars files use; -EINVAL for the rest. */
static int sh_test(struct shell *sh, char **args, size_t n, bool *ret)
{
        _cleanup_strv_ char **v = NULL;
        for (size_t i = 0; i < n; i++) {
                char *s;
                int r = sh_expand_word(sh, args[i], &s);
                if (r < 0)
                        return r;
                strv_consume(&v, s);
        }
        bool neg = false;
        size_t i = 0;
        if (n > 1 && strcmp(v[0], "!") == 0)
                neg = true, i = 1;
        size_t k = n - i;
        bool res;
        if (k == 1)
                res = *v[i] != 0;
        else if (k == 2 && strcmp(v[i], "-n") == 0)
                res = *v[i + 1] != 0;
        else if (k == 2 && strcmp(v[i], "-z") == 0)
                res = *v[i + 1] == 0;
        else if (k == 2 && strlen(v[i]) == 2 && v[i][0] == '-' && strchr("efdr", v[i][1])) {
                struct stat st;
                bool exists = root_stat(sh->rootfd, v[i + 1], &st) >= 0;
                res = exists && (v[i][1] != 'f' || S_ISREG(st.st_mode)) && (v[i][1] != 'd' || S_ISDIR(st.st_mode));
        } else if (k == 3 && (strcmp(v[i + 1], "=") == 0 || strcmp(v[i + 1], "==") == 0))
                res = strcmp(v[i], v[i + 2]) == 0;
        else if (k == 3 && strcmp(v[i + 1], "!=") == 0)
                res = strcmp(v[i], v[i + 2]) != 0;
        else
                return -EINVAL;
        *ret = neg ? !res : res;
        return 0;
}

/* The state of one if/elif/else/fi. */
struct sh_cond {
        bool outer_active; /* the enclosing block runs */
        bool taken;        /* a branch was chosen already */
        bool active;       /* the current branch runs */
        bool unknown;      /* the condition was not understood: no branch runs */
};

static int sh_run_text(struct shell *sh, const char *path, const char *text, size_t len);

static int sh_source(struct shell *sh, const char *file, unsigned lineno, const char *arg)
{
        _cleanup_free_ char *path = NULL;
        int r = sh_expand_word(sh, arg, &path);
        if (r < 0 || *path != '/' || sh->depth >= 4)
                return -EINVAL;
        _cleanup_free_ char *text = NULL;
        size_t n;
        r = root_read_file(sh->rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r < 0) {
                /* sh's "." of a missing file ends apache2ctl with an error. */
                apache_add_problem(&sh->e->unparsed, file, lineno, "cannot read %s: %s", path, strerror(-r));
                return 0;
        }
        sh->depth++;
        r = sh_run_text(sh, path, text, n);
        sh->depth--;
        return r;
}

/* One simple command (words up to a ';'), in a block that runs. */
static int sh_command(struct shell *sh, const char *file, unsigned lineno, char **w, size_t n)
{
        _cleanup_free_ char *where = xasprintf("%s:%u", file, lineno);
        if (n == 0 || strcmp(w[0], ":") == 0 || strcmp(w[0], "true") == 0)
                return 0;
        if (strcmp(w[0], "export") == 0 || strcmp(w[0], "unset") == 0) {
                bool unset = w[0][0] == 'u';
                for (size_t i = 1; i < n; i++) {
                        size_t k = assignment_name(w[i]);
                        if (unset && strcmp(w[i], "-v") == 0)
                                continue;
                        if (k == 0) {
                                bool ok = is_name_start(w[i][0]);
                                for (const char *c = w[i]; ok && *c; c++)
                                        ok = is_name_char(*c);
                                if (!ok)
                                        return -EINVAL;
                                if (unset)
                                        sh_unset(sh->e, w[i]);
                                else if (sh_set(sh->e, w[i], NULL, where, true) < 0)
                                        return -E2BIG;
                                continue;
                        }
                        if (unset)
                                return -EINVAL;
                        int r = sh_assign(sh, w[i], k, where, true);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (strcmp(w[0], ".") == 0 || strcmp(w[0], "source") == 0)
                return n == 2 ? sh_source(sh, file, lineno, w[1]) : -EINVAL;
        /* Only assignments: "A=1 B=2". An assignment before a command ("A=1 cmd") is not. */
        for (size_t i = 0; i < n; i++)
                if (assignment_name(w[i]) == 0)
                        return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                int r = sh_assign(sh, w[i], assignment_name(w[i]), where, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int sh_run_text(struct shell *sh, const char *path, const char *text, size_t len)
{
        struct line_reader lr = {.p = text, .end = text + len, .next_line = 1};
        struct sh_cond conds[16];
        size_t nconds = 0;
        unsigned lineno;
        char *line;
        while ((line = apache_next_line(&lr, &lineno))) {
                _cleanup_free_ char *owned = line; /* freed at the end of each round */
                (void)owned;
                if (++sh->lines > APACHE_MAX_LINES) {
                        apache_add_problem(&sh->e->unparsed, path, lineno, "more than %d lines: the rest is not read",
                                    APACHE_MAX_LINES);
                        return 0;
                }
                _cleanup_strv_ char **words = NULL;
                if (sh_split(line, &words) < 0) {
                        apache_add_problem(&sh->e->unparsed, path, lineno, "%s", strstrip(line));
                        continue;
                }
                size_t n = strv_length(words);
                bool bad = false;
                /* Commands separated by ';', each with its keyword handled first. */
                for (size_t i = 0; i < n && !bad;) {
                        size_t j = i;
                        while (j < n && strcmp(words[j], ";") != 0)
                                j++;
                        char **w = words + i;
                        size_t k = j - i;
                        bool running = nconds == 0 || conds[nconds - 1].active;
                        if (k > 0 && (strcmp(w[0], "if") == 0 || strcmp(w[0], "elif") == 0)) {
                                bool is_if = w[0][0] == 'i';
                                if (is_if) {
                                        if (nconds == ELEMENTSOF(conds)) {
                                                bad = true;
                                                break;
                                        }
                                        conds[nconds++] = (struct sh_cond){.outer_active = running};
                                } else if (nconds == 0) {
                                        bad = true;
                                        break;
                                }
                                struct sh_cond *c = &conds[nconds - 1];
                                c->active = false;
                                if (c->outer_active && !c->taken && !c->unknown) {
                                        char **t = w + 1;
                                        size_t tn = k - 1;
                                        bool ok = tn >= 1;
                                        if (ok && strcmp(t[0], "[") == 0) {
                                                ok = tn >= 2 && strcmp(t[tn - 1], "]") == 0;
                                                t++, tn -= 2;
                                        } else if (ok && strcmp(t[0], "test") == 0)
                                                t++, tn--;
                                        else
                                                ok = false;
                                        bool res = false;
                                        if (!ok || tn == 0 || sh_test(sh, t, tn, &res) < 0) {
                                                c->unknown = true;
                                                bad = true;
                                        } else if (res)
                                                c->active = c->taken = true;
                                }
                        } else if (k == 1 && strcmp(w[0], "then") == 0) {
                                bad = nconds == 0;
                        } else if (k == 1 && strcmp(w[0], "else") == 0) {
                                if (nconds == 0) {
                                        bad = true;
                                        break;
                                }
                                struct sh_cond *c = &conds[nconds - 1];
                                c->active = c->outer_active && !c->taken && !c->unknown;
                                c->taken = true;
                        } else if (k == 1 && strcmp(w[0], "fi") == 0) {
                                if (nconds == 0)
                                        bad = true;
                                else
                                        nconds--;
                        } else if (k > 0 && strcmp(w[0], "then") == 0) {
                                /* "then A=1" on one line: run the rest after the keyword. */
                                if (nconds == 0 || (running && sh_command(sh, path, lineno, w + 1, k - 1) < 0))
                                        bad = true;
                        } else if (running && sh_command(sh, path, lineno, w, k) < 0)
                                bad = true;
                        i = j + 1;
                }
                if (bad)
                        apache_add_problem(&sh->e->unparsed, path, lineno, "%s", strstrip(line));
        }
        if (nconds > 0)
                apache_add_problem(&sh->e->unparsed, path, lineno, "an if without its fi");
        return 0;
}

void apache_envvars_free(struct apache_envvars *e)
{
        for (size_t i = 0; i < e->n; i++) {
                free(e->vars[i].name);
                free(e->vars[i].value);
                free(e->vars[i].where);
        }
        free(e->vars);
        strv_free(e->unparsed);
        *e = (struct apache_envvars){0};
}

static void envvars_init(struct apache_envvars *e, char *const *initial)
{
        for (size_t i = 0; initial && initial[i]; i++) {
                const char *eq = strchr(initial[i], '=');
                if (!eq || eq == initial[i])
                        continue;
                _cleanup_free_ char *name = xstrndup(initial[i], (size_t)(eq - initial[i]));
                sh_set(e, name, eq + 1, "(environment)", true);
        }
}

static int envvars_run(int rootfd, const char *path, const char *text, size_t len, struct apache_envvars *e)
{
        if (memchr(text, 0, len))
                return -EINVAL;
        struct shell sh = {.rootfd = rootfd, .e = e};
        return sh_run_text(&sh, path, text, len);
}

int apache_envvars_parse(int rootfd, const char *path, const char *text, size_t len, char *const *initial,
                         struct apache_envvars *ret)
{
        struct apache_envvars e = {0};
        envvars_init(&e, initial);
        int r = envvars_run(rootfd, path, text, len, &e);
        if (r < 0) {
                apache_envvars_free(&e);
                return r;
        }
        *ret = e;
        return 0;
}

int apache_envvars_read(int rootfd, const char *path, char *const *initial, struct apache_envvars *ret)
{
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = root_read_file(rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r < 0)
                return r;
        return apache_envvars_parse(rootfd, path, text, n, initial, ret);
}

const struct apache_var *apache_envvars_get(const struct apache_envvars *e, const char *name)
{
        for (size_t i = 0; i < e->n; i++)
                if (e->vars[i].exported && e->vars[i].value && strcmp(e->vars[i].name, name) == 0)
                        return &e->vars[i];
        return NULL;
}

char **apache_envvars_exported(const struct apache_envvars *e)
{
        char **l = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < e->n; i++)
                if (e->vars[i].exported && e->vars[i].value)
                        strv_consume(&l, xasprintf("%s=%s", e->vars[i].name, e->vars[i].value));
        return l;
}

int apache_debian_envvars(int rootfd, char *const *env, struct apache_envvars *ret)
{
        struct apache_envvars e = {0};
        envvars_init(&e, env);
        /* apache2ctl sets APACHE_CONFDIR (without exporting it) unless the environment has it,
         * then sources $APACHE_CONFDIR/envvars. */
        const struct apache_var *dir = sh_find(&e, "APACHE_CONFDIR", strlen("APACHE_CONFDIR"));
        if (!dir || !dir->value || !*dir->value)
                sh_set(&e, "APACHE_CONFDIR", "/etc/apache2", "(apache2ctl)", false);
        dir = sh_find(&e, "APACHE_CONFDIR", strlen("APACHE_CONFDIR"));
        _cleanup_free_ char *path = xasprintf("%s/envvars", dir->value);
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = root_read_file(rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r >= 0)
                r = envvars_run(rootfd, path, text, n, &e);
        if (r < 0) {
                apache_envvars_free(&e);
                return r == -ENOENT ? -PS_E_NOTFOUND : r;
        }
        *ret = e;
        return 0;
}
