/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "apache.h"
#include "envfile.h"
#include "rootfile.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <fnmatch.h>

static void add_problem(char ***l, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);
static void add_problem(char ***l, const char *file, unsigned line, const char *fmt, ...)
{
        if (strv_length(*l) >= APACHE_MAX_ITEMS)
                return;
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        strv_consume(l, xasprintf("%s:%u: %s", file, line, msg));
        free(msg);
}

/* Appends an owned message, within the cap. */
static void push_problem(char ***l, char *msg)
{
        if (strv_length(*l) >= APACHE_MAX_ITEMS)
                free(msg);
        else
                strv_consume(l, msg);
}

static bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* Splits text into logical lines: a backslash before the newline joins the next line (both
 * the shell and httpd do so). *lineno is the number of the first physical line. */
struct line_reader {
        const char *p, *end;
        unsigned next_line;
};

static char *next_logical_line(struct line_reader *lr, unsigned *ret_lineno)
{
        if (lr->p >= lr->end)
                return NULL;
        struct buf b = {0};
        *ret_lineno = lr->next_line;
        while (lr->p < lr->end) {
                const char *nl = memchr(lr->p, '\n', (size_t)(lr->end - lr->p));
                const char *e = nl ? nl : lr->end;
                size_t n = (size_t)(e - lr->p);
                if (n > 0 && lr->p[n - 1] == '\r')
                        n--;
                lr->next_line++;
                bool cont = n > 0 && lr->p[n - 1] == '\\';
                buf_append(&b, lr->p, cont ? n - 1 : n);
                lr->p = nl ? nl + 1 : lr->end;
                if (!cont || b.len > 64 * 1024)
                        break;
        }
        buf_append(&b, "", 1);
        return b.p;
}

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

/* test / [ with the operators envvars files use; -EINVAL for the rest. */
static int sh_test(struct shell *sh, char **args, size_t n, bool *ret)
{
        _cleanup_strv_ char **v = NULL;
        for (size_t i = 0; i < n; i++) {
                struct buf b = {0};
                int r = sh_expand(sh, args[i], strlen(args[i]), 0, &b);
                buf_append(&b, "", 1);
                if (r < 0) {
                        buf_free(&b);
                        return r;
                }
                strv_consume(&v, b.p);
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
        struct buf b = {0};
        int r = sh_expand(sh, arg, strlen(arg), 0, &b);
        buf_append(&b, "", 1);
        _cleanup_free_ char *path = b.p;
        if (r < 0 || *path != '/' || sh->depth >= 4)
                return -EINVAL;
        _cleanup_free_ char *text = NULL;
        size_t n;
        r = root_read_file(sh->rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r < 0) {
                /* sh's "." of a missing file ends apache2ctl with an error. */
                add_problem(&sh->e->unparsed, file, lineno, "cannot read %s: %s", path, strerror(-r));
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
                        struct buf b = {0};
                        int r = sh_expand(sh, w[i] + k + 1, strlen(w[i] + k + 1), 0, &b);
                        buf_append(&b, "", 1);
                        _cleanup_free_ char *name = xstrndup(w[i], k);
                        if (r >= 0)
                                r = sh_set(sh->e, name, b.p, where, true);
                        buf_free(&b);
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
                size_t k = assignment_name(w[i]);
                struct buf b = {0};
                int r = sh_expand(sh, w[i] + k + 1, strlen(w[i] + k + 1), 0, &b);
                buf_append(&b, "", 1);
                _cleanup_free_ char *name = xstrndup(w[i], k);
                if (r >= 0)
                        r = sh_set(sh->e, name, b.p, where, false);
                buf_free(&b);
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
        while ((line = next_logical_line(&lr, &lineno))) {
                _cleanup_free_ char *owned = line; /* freed at the end of each round */
                (void)owned;
                if (++sh->lines > APACHE_MAX_LINES) {
                        add_problem(&sh->e->unparsed, path, lineno, "more than %d lines: the rest is not read",
                                    APACHE_MAX_LINES);
                        return 0;
                }
                _cleanup_strv_ char **words = NULL;
                if (sh_split(line, &words) < 0) {
                        add_problem(&sh->e->unparsed, path, lineno, "%s", strstrip(line));
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
                        add_problem(&sh->e->unparsed, path, lineno, "%s", strstrip(line));
        }
        if (nconds > 0)
                add_problem(&sh->e->unparsed, path, lineno, "an if without its fi");
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

/* ---- the httpd configuration ------------------------------------------------------------ */

/* WSGIProcessGroup and WSGIApplicationGroup where they were set, for the scripts to find. */
struct group_setting {
        bool application;
        int vhost;
        char section; /* 0 server or vhost level, 'd' <Directory>, 'l' <Location> */
        char *arg;    /* the section's path or URL */
        char *value;
};

struct conf {
        int rootfd;
        struct apache_config *c;
        char *const *env;
        char **defines; /* "NAME=VALUE" or "NAME" */
        unsigned depth, lines;
        size_t bytes;
        bool stopped; /* a cap was reached: nothing more is read */
        int vhost;
        struct group_setting *groups;
        size_t n_groups;
        char *script_group_opt;
};

/* Modules compiled into the server: they satisfy <IfModule> without a LoadModule. */
static const char *const debian_static[] = {"core.c",           "mod_so.c",       "mod_watchdog.c",
                                            "http_core.c",      "mod_log_config.c", "mod_logio.c",
                                            "mod_version.c",    "mod_unixd.c"};
static const char *const rhel_static[] = {"core.c", "mod_so.c", "http_core.c"};

static const char *define_value(const struct conf *cf, const char *name, size_t n)
{
        const char *found = NULL;
        for (size_t i = 0; cf->defines && cf->defines[i]; i++)
                if (strncmp(cf->defines[i], name, n) == 0 && (cf->defines[i][n] == '=' || !cf->defines[i][n]))
                        found = cf->defines[i][n] == '=' ? cf->defines[i] + n + 1 : "";
        return found;
}

static bool defined(const struct conf *cf, const char *name) { return define_value(cf, name, strlen(name)) != NULL; }

/* ${NAME} from Define, then from the environment, as httpd resolves it; an undefined one
 * stays as written (httpd warns and keeps it) and is reported through *ret_undefined. */
static char *substitute(const struct conf *cf, const char *s, char **ret_undefined)
{
        struct buf b = {0};
        for (const char *p = s; *p;) {
                const char *e;
                if (p[0] == '$' && p[1] == '{' && (e = strchr(p + 2, '}'))) {
                        size_t n = (size_t)(e - p - 2);
                        const char *v = define_value(cf, p + 2, n);
                        if (!v) {
                                _cleanup_free_ char *name = xstrndup(p + 2, n);
                                v = env_get(cf->env, name);
                                if (!v && ret_undefined && !*ret_undefined)
                                        *ret_undefined = xstrdup(name);
                        }
                        if (v)
                                buf_puts(&b, v);
                        else
                                buf_append(&b, p, n + 3);
                        p = e + 1;
                } else
                        buf_append(&b, p++, 1);
        }
        buf_append(&b, "", 1);
        return b.p;
}

/* Splits arguments as httpd's ap_getword_conf does, and also keeps key="a b" together the way
 * mod_wsgi's option parser reads it. Quotes are removed; \" inside quotes is a quote. */
static char **split_args(const char *s)
{
        char **l = xcalloc(1, sizeof(char *));
        const char *p = s;
        for (;;) {
                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                struct buf b = {0};
                char quote = 0;
                for (; *p && (quote || !is_blank(*p)); p++) {
                        if (quote && *p == '\\' && (p[1] == quote || p[1] == '\\'))
                                buf_append(&b, ++p, 1);
                        else if (quote && *p == quote)
                                quote = 0;
                        else if (!quote && (*p == '"' || *p == '\''))
                                quote = *p;
                        else
                                buf_append(&b, p, 1);
                }
                buf_append(&b, "", 1);
                strv_consume(&l, b.p);
        }
        return l;
}

static bool module_loaded(const struct conf *cf, const char *name)
{
        size_t n = strlen(name);
        if (endswith(name, ".c")) {
                const char *const *st = cf->c->layout == APACHE_RHEL ? rhel_static : debian_static;
                size_t nst = cf->c->layout == APACHE_RHEL ? ELEMENTSOF(rhel_static) : ELEMENTSOF(debian_static);
                for (size_t i = 0; i < nst; i++)
                        if (strcmp(st[i], name) == 0)
                                return true;
                /* mod_wsgi.c is the source of wsgi_module: mod_NAME.c for NAME_module. */
                if (!startswith(name, "mod_"))
                        return false;
                _cleanup_free_ char *id = xasprintf("%.*s_module", (int)(n - 6), name + 4);
                return strv_contains(cf->c->modules, id);
        }
        return strv_contains(cf->c->modules, name);
}

static void set_str(char **dst, const char *v)
{
        char *copy = v ? xstrdup(v) : NULL; /* v may be *dst itself */
        free(*dst);
        *dst = copy;
}

static void add_group_setting(struct conf *cf, bool application, char section, const char *arg, const char *value)
{
        if (cf->n_groups >= APACHE_MAX_ITEMS)
                return;
        cf->groups = xrealloc(cf->groups, (cf->n_groups + 1) * sizeof(*cf->groups));
        cf->groups[cf->n_groups++] = (struct group_setting){
                .application = application,
                .vhost = cf->vhost,
                .section = section,
                .arg = arg ? xstrdup(arg) : NULL,
                .value = xstrdup(value),
        };
}

static void wsgi_daemon(struct conf *cf, char **a, size_t n, const char *where)
{
        struct apache_config *c = cf->c;
        if (n < 1 || c->n_daemons >= APACHE_MAX_ITEMS) {
                push_problem(&c->problems, xasprintf("%s: WSGIDaemonProcess without a name", where));
                return;
        }
        if (apache_config_daemon(c, a[0]))
                push_problem(&c->problems,
                             xasprintf("%s: conflict: a second WSGIDaemonProcess %s (httpd refuses to start)", where, a[0]));
        c->daemons = xrealloc(c->daemons, (c->n_daemons + 1) * sizeof(*c->daemons));
        struct apache_daemon *d = &c->daemons[c->n_daemons++];
        *d = (struct apache_daemon){.name = xstrdup(a[0]), .where = xstrdup(where), .vhost = cf->vhost};
        static const struct {
                const char *key;
                size_t off;
        } opts[] = {
                {"user", offsetof(struct apache_daemon, user)},
                {"group", offsetof(struct apache_daemon, group)},
                {"supplementary-groups", offsetof(struct apache_daemon, supplementary_groups)},
                {"python-home", offsetof(struct apache_daemon, python_home)},
                {"python-path", offsetof(struct apache_daemon, python_path)},
                {"lang", offsetof(struct apache_daemon, lang)},
                {"locale", offsetof(struct apache_daemon, locale)},
                {"display-name", offsetof(struct apache_daemon, display_name)},
                {"home", offsetof(struct apache_daemon, home)},
        };
        for (size_t i = 1; i < n; i++) {
                const char *eq = strchr(a[i], '=');
                if (!eq)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(opts); k++)
                        if (strlen(opts[k].key) == (size_t)(eq - a[i]) && strncmp(a[i], opts[k].key, (size_t)(eq - a[i])) == 0)
                                set_str((char **)((char *)d + opts[k].off), eq + 1);
        }
}

static void wsgi_script(struct conf *cf, char **a, size_t n, bool match, const char *where)
{
        struct apache_config *c = cf->c;
        if (n < 2 || c->n_scripts >= APACHE_MAX_ITEMS) {
                push_problem(&c->problems, xasprintf("%s: WSGIScriptAlias needs a URL and a path", where));
                return;
        }
        c->scripts = xrealloc(c->scripts, (c->n_scripts + 1) * sizeof(*c->scripts));
        struct apache_script *s = &c->scripts[c->n_scripts++];
        *s = (struct apache_script){.url = xstrdup(a[0]),
                                    .path = xstrdup(a[1]),
                                    .match = match,
                                    .where = xstrdup(where),
                                    .vhost = cf->vhost};
        for (size_t i = 2; i < n; i++) {
                if (startswith(a[i], "process-group="))
                        set_str(&s->process_group, a[i] + strlen("process-group="));
                else if (startswith(a[i], "application-group="))
                        set_str(&s->application_group, a[i] + strlen("application-group="));
        }
}

struct section {
        char *name;
        char *arg;
        int saved_vhost;
        char kind; /* 'v' VirtualHost, 'd' Directory, 'l' Location, 'x' Files..., 0 other */
};

static int include_path(struct conf *cf, const char *pattern, bool optional, const char *where);

static void directive(struct conf *cf, const char *name, char **a, size_t n, const struct section *sec,
                      const char *file, unsigned lineno)
{
        struct apache_config *c = cf->c;
        _cleanup_free_ char *where = xasprintf("%s:%u", file, lineno);
        char section = sec && (sec->kind == 'd' || sec->kind == 'l') ? sec->kind : 0;
        const char *section_arg = section ? sec->arg : NULL;
        if (strcasecmp(name, "Include") == 0 || strcasecmp(name, "IncludeOptional") == 0) {
                for (size_t i = 0; i < n; i++)
                        include_path(cf, a[i], strcasecmp(name, "IncludeOptional") == 0, where);
        } else if (strcasecmp(name, "ServerRoot") == 0 && n == 1)
                set_str(&c->server_root, a[0]);
        else if (strcasecmp(name, "Define") == 0 && n >= 1 && strv_length(cf->defines) < APACHE_MAX_ITEMS) {
                strv_consume(&cf->defines, n >= 2 ? xasprintf("%s=%s", a[0], a[1]) : xstrdup(a[0]));
        } else if (strcasecmp(name, "UnDefine") == 0 && n == 1) {
                for (size_t i = 0; cf->defines && cf->defines[i]; i++)
                        if (strcmp(cf->defines[i], a[0]) == 0 ||
                            (startswith(cf->defines[i], a[0]) && cf->defines[i][strlen(a[0])] == '='))
                                cf->defines[i][0] = 0; /* never matches a name again */
        } else if (strcasecmp(name, "User") == 0 && n == 1 && cf->vhost < 0) {
                set_str(&c->user, a[0]);
                set_str(&c->user_where, where);
        } else if (strcasecmp(name, "Group") == 0 && n == 1 && cf->vhost < 0) {
                set_str(&c->group, a[0]);
                set_str(&c->group_where, where);
        } else if (strcasecmp(name, "LoadModule") == 0 && n == 2) {
                if (!strv_contains(c->modules, a[0]))
                        strv_push(&c->modules, a[0]);
                if (strcmp(a[0], "wsgi_module") == 0) {
                        _cleanup_free_ char *full = a[1][0] == '/' ? xstrdup(a[1])
                                                                    : xasprintf("%s/%s", c->server_root, a[1]);
                        set_str(&c->wsgi_module_path, full);
                }
                if (strcmp(a[0], "cgi_module") == 0 || strcmp(a[0], "cgid_module") == 0)
                        c->cgi = true;
        } else if (strcasecmp(name, "WSGIPythonHome") == 0 && n == 1) {
                set_str(&c->python_home, a[0]);
                set_str(&c->python_home_where, where);
        } else if (strcasecmp(name, "WSGIPythonPath") == 0 && n >= 1) {
                set_str(&c->python_path, a[0]);
                set_str(&c->python_path_where, where);
        } else if (strcasecmp(name, "WSGIDaemonProcess") == 0)
                wsgi_daemon(cf, a, n, where);
        else if (strcasecmp(name, "WSGIScriptAlias") == 0 || strcasecmp(name, "WSGIScriptAliasMatch") == 0)
                wsgi_script(cf, a, n, strlen(name) > strlen("WSGIScriptAlias"), where);
        else if (strcasecmp(name, "WSGIProcessGroup") == 0 && n == 1)
                add_group_setting(cf, false, section, section_arg, a[0]);
        else if (strcasecmp(name, "WSGIApplicationGroup") == 0 && n == 1)
                add_group_setting(cf, true, section, section_arg, a[0]);
        else if (strcasecmp(name, "PassEnv") == 0) {
                for (size_t i = 0; i < n && strv_length(c->passenv) < APACHE_MAX_ITEMS; i++)
                        strv_consume(&c->passenv, xasprintf("%s (%s)", a[i], where));
        }
}

/* The directives whose ${VAR} must resolve for the model to be right. */
static bool directive_matters(const char *name)
{
        static const char *const names[] = {"User", "Group", "Include", "IncludeOptional", "ServerRoot", "LoadModule"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(name, names[i]) == 0)
                        return true;
        return strncasecmp(name, "WSGI", 4) == 0 || strcasecmp(name, "PassEnv") == 0;
}

static bool section_true(const struct conf *cf, const char *name, char **a, size_t n)
{
        if (n < 1)
                return true;
        const char *arg = a[0];
        bool neg = *arg == '!';
        if (neg)
                arg++;
        bool res;
        if (strcasecmp(name, "IfModule") == 0)
                res = module_loaded(cf, arg);
        else if (strcasecmp(name, "IfDefine") == 0)
                res = defined(cf, arg);
        else
                return true; /* IfVersion, IfFile, If...: taken as true (the stock files need it so) */
        return neg ? !res : res;
}

static int parse_text(struct conf *cf, const char *file, const char *text, size_t len)
{
        struct apache_config *c = cf->c;
        struct line_reader lr = {.p = text, .end = text + len, .next_line = 1};
        struct section stack[64];
        size_t depth = 0;
        size_t skipping = 0; /* > 0: inside a section whose condition is false, at that depth */
        unsigned lineno;
        char *line;
        while ((line = next_logical_line(&lr, &lineno))) {
                _cleanup_free_ char *owned = line; /* freed at the end of each round */
                (void)owned;
                if (cf->stopped)
                        break;
                if (++cf->lines > APACHE_MAX_LINES) {
                        add_problem(&c->problems, file, lineno, "more than %d lines: the rest is not read",
                                    APACHE_MAX_LINES);
                        cf->stopped = true;
                        break;
                }
                char *s = strstrip(line);
                if (!*s || *s == '#')
                        continue;
                if (s[0] == '<' && s[1] == '/') {
                        if (depth == 0) {
                                add_problem(&c->problems, file, lineno, "%s without its section", s);
                                continue;
                        }
                        struct section *top = &stack[--depth];
                        if (top->kind == 'v')
                                cf->vhost = top->saved_vhost;
                        if (skipping == depth + 1)
                                skipping = 0;
                        free(top->name);
                        free(top->arg);
                        continue;
                }
                if (s[0] == '<') {
                        size_t l = strlen(s);
                        if (l < 3 || s[l - 1] != '>' || depth == ELEMENTSOF(stack)) {
                                add_problem(&c->problems, file, lineno, "not understood: %s", s);
                                continue;
                        }
                        s[l - 1] = 0;
                        char *name = s + 1;
                        char *args = name + strcspn(name, " \t");
                        if (*args)
                                *args++ = 0;
                        struct section *sec = &stack[depth++];
                        *sec = (struct section){.name = xstrdup(name), .saved_vhost = cf->vhost};
                        if (skipping)
                                continue;
                        _cleanup_free_ char *sub = substitute(cf, args, NULL);
                        _cleanup_strv_ char **a = split_args(sub);
                        size_t n = strv_length(a);
                        if (!section_true(cf, name, a, n))
                                skipping = depth;
                        else if (strcasecmp(name, "VirtualHost") == 0) {
                                if (strv_length(c->vhosts) < APACHE_MAX_ITEMS) {
                                        sec->kind = 'v';
                                        cf->vhost = (int)strv_length(c->vhosts);
                                        strv_consume(&c->vhosts, xasprintf("%s (%s:%u)", sub, file, lineno));
                                }
                        } else if (strncasecmp(name, "Directory", 9) == 0 || strncasecmp(name, "Location", 8) == 0 ||
                                   strncasecmp(name, "Files", 5) == 0) {
                                /* Only exact <Directory>/<Location> paths decide a script's group. */
                                sec->kind = strcasecmp(name, "Directory") == 0  ? 'd'
                                            : strcasecmp(name, "Location") == 0 ? 'l'
                                                                                 : 'x';
                                sec->arg = n > 0 ? xstrdup(a[0]) : NULL;
                        }
                        continue;
                }
                if (skipping)
                        continue;
                char *name = s;
                char *args = name + strcspn(name, " \t");
                if (*args)
                        *args++ = 0;
                _cleanup_free_ char *undefined = NULL;
                _cleanup_free_ char *sub = substitute(cf, args, &undefined);
                if (undefined && directive_matters(name))
                        add_problem(&c->problems, file, lineno, "%s: ${%s} is not defined (httpd keeps it as written)",
                                    name, undefined);
                _cleanup_strv_ char **a = split_args(sub);
                /* Settings of a <Files> section (kind 'x') are not tied to a path here. */
                const struct section *in = NULL;
                for (size_t i = depth; i > 0; i--)
                        if (stack[i - 1].kind) {
                                in = &stack[i - 1];
                                break;
                        }
                directive(cf, name, a, strv_length(a), in && in->kind != 'v' ? in : NULL, file, lineno);
        }
        if (depth > 0)
                add_problem(&c->problems, file, lineno, "<%s> is not closed", stack[depth - 1].name);
        while (depth > 0) {
                struct section *top = &stack[--depth];
                if (top->kind == 'v')
                        cf->vhost = top->saved_vhost;
                free(top->name);
                free(top->arg);
        }
        return 0;
}

static int parse_file(struct conf *cf, const char *path, const char *where)
{
        struct apache_config *c = cf->c;
        if (cf->stopped)
                return 0;
        if (strv_length(c->files) >= APACHE_MAX_FILES || cf->depth >= APACHE_MAX_DEPTH ||
            cf->bytes >= APACHE_MAX_TOTAL_SIZE) {
                /* Said once: past a cap, every further Include would say it again. */
                push_problem(&c->problems, xasprintf("%s: %s not read: more than %d files, %d levels of Include or "
                                                     "%d bytes; the rest of the configuration is not read either",
                                                     where, path, APACHE_MAX_FILES, APACHE_MAX_DEPTH,
                                                     APACHE_MAX_TOTAL_SIZE));
                cf->stopped = true;
                return 0;
        }
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = root_read_file(cf->rootfd, path, APACHE_MAX_FILE_SIZE, &text, &n, NULL);
        if (r < 0 || memchr(text, 0, n)) {
                push_problem(&c->problems, xasprintf("%s: unreadable: cannot read %s: %s", where, path,
                                                     strerror(r < 0 ? -r : EINVAL)));
                return 0;
        }
        strv_push(&c->files, path);
        cf->bytes += n;
        cf->depth++;
        r = parse_text(cf, path, text, n);
        cf->depth--;
        return r;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The entries of directory path (sorted; names matching pattern when given). */
static int list_dir(int rootfd, const char *path, const char *pattern, char ***ret)
{
        _cleanup_close_ int fd = -1;
        int r = root_open(rootfd, path, O_RDONLY | O_DIRECTORY, &fd);
        if (r < 0)
                return r;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        char **l = xcalloc(1, sizeof(char *));
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)) && n < APACHE_MAX_FILES) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                /* httpd matches with APR_FNM_PERIOD: a leading dot is matched only by a dot. */
                if (pattern && fnmatch(pattern, de->d_name, FNM_PERIOD) != 0)
                        continue;
                strv_push(&l, de->d_name);
                n++;
        }
        closedir(d);
        qsort(l, n, sizeof(char *), cmp_str);
        *ret = l;
        return 0;
}

static bool has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* A file is read; a directory is read whole (every file in it and below, sorted). */
static void include_one(struct conf *cf, const char *path, const char *where)
{
        struct stat st;
        if (root_stat(cf->rootfd, path, &st) >= 0 && S_ISDIR(st.st_mode)) {
                if (cf->depth >= APACHE_MAX_DEPTH)
                        return;
                _cleanup_strv_ char **names = NULL;
                if (list_dir(cf->rootfd, path, NULL, &names) < 0 || !names)
                        return;
                cf->depth++;
                for (size_t i = 0; names[i]; i++) {
                        _cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);
                        include_one(cf, p, where);
                }
                cf->depth--;
                return;
        }
        parse_file(cf, path, where);
}

/* Expands the wildcards of pattern one component at a time, as httpd 2.4 does. */
static size_t include_glob(struct conf *cf, const char *dir, const char *rest, const char *where)
{
        const char *slash = strchr(rest, '/');
        _cleanup_free_ char *comp = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
        const char *after = slash ? slash + 1 : NULL;
        if (!has_glob(comp)) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, comp);
                if (after)
                        return include_glob(cf, p, after, where);
                struct stat st;
                if (root_stat(cf->rootfd, p, &st) < 0)
                        return 0;
                include_one(cf, p, where);
                return 1;
        }
        _cleanup_strv_ char **names = NULL;
        if (list_dir(cf->rootfd, *dir ? dir : "/", comp, &names) < 0 || !names)
                return 0;
        size_t found = 0;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
                if (after) {
                        struct stat st;
                        if (root_stat(cf->rootfd, p, &st) >= 0 && S_ISDIR(st.st_mode))
                                found += include_glob(cf, p, after, where);
                } else {
                        include_one(cf, p, where);
                        found++;
                }
        }
        return found;
}

static int include_path(struct conf *cf, const char *pattern, bool optional, const char *where)
{
        struct apache_config *c = cf->c;
        _cleanup_free_ char *full = pattern[0] == '/' ? xstrdup(pattern) : xasprintf("%s/%s", c->server_root, pattern);
        /* Drop repeated slashes and a trailing one, so components are plain names. */
        char *w = full;
        for (const char *r = full; *r; r++)
                if (!(*r == '/' && (r[1] == '/' || r[1] == 0) && w != full))
                        *w++ = *r;
        *w = 0;
        size_t found;
        if (!has_glob(full)) {
                struct stat st;
                if (root_stat(cf->rootfd, full, &st) < 0) {
                        if (!optional)
                                push_problem(&c->problems,
                                             xasprintf("%s: Include %s: no such file (httpd refuses to start)", where, full));
                        return 0;
                }
                include_one(cf, full, where);
                return 0;
        }
        found = include_glob(cf, "", full + 1, where);
        if (found == 0 && !optional)
                push_problem(&c->problems,
                             xasprintf("%s: Include %s: no file matches (httpd refuses to start)", where, full));
        return 0;
}

/* The group setting that applies to a script: a <Location> around its URL, then the longest
 * <Directory> around its file, then the virtual host's own, then the server's; a vhost's
 * setting beats the server's of the same kind, a later one an earlier one. */
static const char *effective_group(const struct conf *cf, const struct apache_script *s, bool application)
{
        const struct group_setting *best = NULL;
        int best_rank = -1;
        size_t best_len = 0;
        for (size_t i = 0; i < cf->n_groups; i++) {
                const struct group_setting *g = &cf->groups[i];
                if (g->application != application || (g->vhost != s->vhost && g->vhost != -1))
                        continue;
                int rank;
                size_t len = 0;
                if (g->section == 'l') {
                        if (s->match || !g->arg || !startswith(s->url, g->arg))
                                continue;
                        rank = 4;
                } else if (g->section == 'd') {
                        if (!g->arg || !startswith(s->path, g->arg))
                                continue;
                        rank = 2;
                        len = strlen(g->arg);
                } else
                        rank = 0;
                rank += g->vhost == s->vhost && s->vhost >= 0;
                if (rank > best_rank || (rank == best_rank && len >= best_len)) {
                        best = g;
                        best_rank = rank;
                        best_len = len;
                }
        }
        return best ? best->value : NULL;
}

void apache_config_free(struct apache_config *c)
{
        free(c->server_root);
        free(c->user);
        free(c->group);
        free(c->user_where);
        free(c->group_where);
        strv_free(c->modules);
        free(c->wsgi_module_path);
        free(c->python_home);
        free(c->python_path);
        free(c->python_home_where);
        free(c->python_path_where);
        for (size_t i = 0; i < c->n_daemons; i++) {
                struct apache_daemon *d = &c->daemons[i];
                free(d->name);
                free(d->user);
                free(d->group);
                free(d->supplementary_groups);
                free(d->python_home);
                free(d->python_path);
                free(d->lang);
                free(d->locale);
                free(d->display_name);
                free(d->home);
                free(d->where);
        }
        free(c->daemons);
        for (size_t i = 0; i < c->n_scripts; i++) {
                struct apache_script *s = &c->scripts[i];
                free(s->url);
                free(s->path);
                free(s->process_group);
                free(s->application_group);
                free(s->where);
        }
        free(c->scripts);
        strv_free(c->vhosts);
        strv_free(c->passenv);
        strv_free(c->files);
        strv_free(c->problems);
        *c = (struct apache_config){0};
}

enum apache_layout apache_detect_layout(int rootfd)
{
        struct stat st;
        if (root_stat(rootfd, "/etc/apache2/apache2.conf", &st) >= 0)
                return APACHE_DEBIAN;
        if (root_stat(rootfd, "/etc/httpd/conf/httpd.conf", &st) >= 0)
                return APACHE_RHEL;
        return APACHE_NONE;
}

int apache_config_read(int rootfd, enum apache_layout layout, char *const *env, char *const *defines,
                       struct apache_config *ret)
{
        const char *root = layout == APACHE_DEBIAN ? "/etc/apache2" : "/etc/httpd";
        const char *main = apache_main_file(layout);
        struct stat st;
        if (layout == APACHE_NONE || root_stat(rootfd, main, &st) < 0)
                return -PS_E_NOTFOUND;
        struct apache_config c = {.layout = layout, .server_root = xstrdup(root)};
        struct conf cf = {.rootfd = rootfd, .c = &c, .env = env, .vhost = -1};
        for (size_t i = 0; defines && defines[i]; i++)
                strv_push(&cf.defines, defines[i]);
        parse_file(&cf, main, "(main)");
        for (size_t i = 0; i < c.n_scripts; i++) {
                struct apache_script *s = &c.scripts[i];
                const char *pg = s->process_group ? s->process_group : effective_group(&cf, s, false);
                const char *ag = s->application_group ? s->application_group : effective_group(&cf, s, true);
                /* %{GLOBAL} as a process group is the empty name: Apache's own children. */
                set_str(&s->process_group, !pg || strcmp(pg, "%{GLOBAL}") == 0 ? "" : pg);
                set_str(&s->application_group, ag ? ag : "%{RESOURCE}");
                if (*s->process_group && !strstr(s->process_group, "%{") && !apache_config_daemon(&c, s->process_group))
                        push_problem(&c.problems,
                                     xasprintf("%s: conflict: process group %s is not defined by a WSGIDaemonProcess",
                                               s->where, s->process_group));
        }
        if (!c.user)
                c.user = xstrdup("#-1");
        if (!c.group)
                c.group = xstrdup("#-1");
        for (size_t i = 0; i < cf.n_groups; i++) {
                free(cf.groups[i].arg);
                free(cf.groups[i].value);
        }
        free(cf.groups);
        strv_free(cf.defines);
        *ret = c;
        return 0;
}

const struct apache_daemon *apache_config_daemon(const struct apache_config *c, const char *name)
{
        for (size_t i = 0; i < c->n_daemons; i++)
                if (strcmp(c->daemons[i].name, name) == 0)
                        return &c->daemons[i];
        return NULL;
}

char **apache_split_python_path(const char *value)
{
        /* mod_wsgi adds each entry with site.addsitedir, split at ':' on Unix; empty entries
         * are skipped. */
        char **l = xcalloc(1, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(value ? value : "");
        char *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
                strv_push(&l, p);
        return l;
}

enum apache_layout apache_layout_of_unit(int rootfd, const char *unit)
{
        if (unit && startswith(unit, "apache2"))
                return APACHE_DEBIAN;
        if (unit && startswith(unit, "httpd"))
                return APACHE_RHEL;
        return apache_detect_layout(rootfd);
}

const char *apache_main_file(enum apache_layout layout)
{
        return layout == APACHE_DEBIAN ? "/etc/apache2/apache2.conf"
               : layout == APACHE_RHEL ? "/etc/httpd/conf/httpd.conf"
                                       : NULL;
}

int apache_run_user(int rootfd, enum apache_layout layout, char **ret_user, char **ret_group, char **ret_reason)
{
        if (layout == APACHE_NONE)
                return -PS_E_NOTFOUND;
        struct apache_envvars e = {0};
        _cleanup_strv_ char **env = NULL;
        if (layout == APACHE_DEBIAN) {
                int r = apache_debian_envvars(rootfd, NULL, &e);
                if (r < 0 && r != -PS_E_NOTFOUND)
                        return r;
                env = apache_envvars_exported(&e);
        }
        struct apache_config c = {0};
        int r = apache_config_read(rootfd, layout, env, NULL, &c);
        if (r >= 0 && (strstr(c.user, "${") || strcmp(c.user, "#-1") == 0)) {
                if (ret_reason)
                        *ret_reason = c.user_where ? xasprintf("%s: User %s: the variable is not set", c.user_where, c.user)
                                                   : xstrdup("no User directive in the configuration");
                r = -PS_E_INVALID;
        }
        if (r >= 0) {
                *ret_user = TAKE_PTR(c.user);
                if (ret_group)
                        *ret_group = TAKE_PTR(c.group);
        }
        apache_config_free(&c);
        apache_envvars_free(&e);
        return r;
}

/* ---- which libpython mod_wsgi.so links ---------------------------------------------------- */

/* The file offset of virtual address addr, through the PT_LOAD segments. */
static bool elf_offset(const char *img, size_t len, const Elf64_Ehdr *eh, uint64_t addr, uint64_t *ret)
{
        for (uint16_t i = 0; i < eh->e_phnum; i++) {
                const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr));
                if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz) {
                        *ret = ph->p_offset + (addr - ph->p_vaddr);
                        return *ret < len;
                }
        }
        return false;
}

int apache_elf_libpython(int rootfd, const char *path, char **ret)
{
        _cleanup_free_ char *img = NULL;
        size_t len;
        int r = root_read_file(rootfd, path, 64 * 1024 * 1024, &img, &len, NULL);
        if (r < 0)
                return r;
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
        if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
            eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
            (len - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
                return -EINVAL;
        const Elf64_Phdr *dyn = NULL;
        for (uint16_t i = 0; i < eh->e_phnum; i++) {
                const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr));
                if (ph->p_type == PT_DYNAMIC)
                        dyn = ph;
        }
        if (!dyn || dyn->p_offset > len || (len - dyn->p_offset) < dyn->p_filesz)
                return -EINVAL;
        const Elf64_Dyn *d = (const Elf64_Dyn *)(img + dyn->p_offset);
        size_t nd = dyn->p_filesz / sizeof(Elf64_Dyn);
        uint64_t strtab = 0, strsz = 0;
        for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
                if (d[i].d_tag == DT_STRTAB)
                        strtab = d[i].d_un.d_ptr;
                else if (d[i].d_tag == DT_STRSZ)
                        strsz = d[i].d_un.d_val;
        }
        uint64_t stroff;
        if (!strtab || !elf_offset(img, len, eh, strtab, &stroff) || strsz > len - stroff)
                return -EINVAL;
        for (size_t i = 0; i < nd && d[i].d_tag != DT_NULL; i++) {
                if (d[i].d_tag != DT_NEEDED || d[i].d_un.d_val >= strsz)
                        continue;
                const char *name = img + stroff + d[i].d_un.d_val;
                size_t max = strsz - d[i].d_un.d_val;
                if (strnlen(name, max) < max && startswith(name, "libpython")) {
                        *ret = xstrdup(name);
                        return 0;
                }
        }
        return -ENOENT;
}
