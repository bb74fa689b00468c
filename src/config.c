/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"
#include "names.h"

void config_free(struct app_config *c)
{
        free(c->python);
        free(c->group);
        free(c->service);
        free(c->user);
        strv_free(c->more_users);
        free(c->prefix);
        free(c->requirements);
        free(c->wheels);
        free(c->wsgi_script);
        free(c->url);
        strv_free(c->modules);
        *c = (struct app_config){0};
}

static void set_str(char **field, const char *v)
{
        free(*field);
        *field = xstrdup(v);
}

/* One User= line: the first of a file replaces the list, the next ones add a user once. */
static const char *parse_user(struct app_config *c, const char *value, bool *seen)
{
        if (!*value || !*seen) {
                free(c->user);
                c->user = *value ? xstrdup(value) : NULL;
                strv_free(c->more_users);
                c->more_users = NULL;
                *seen = *value != 0;
                return NULL;
        }
        if (strcmp(c->user, value) == 0 || strv_contains(c->more_users, value))
                return NULL;
        if (1 + strv_length(c->more_users) >= CONFIG_USERS_MAX)
                return "too many User= lines (at most 8)";
        strv_push(&c->more_users, value);
        return NULL;
}

int config_parse(const char *text, size_t len, struct app_config *c, unsigned *ret_line, const char **ret_why)
{
        bool in_app = false, user_seen = false;
        unsigned line = 0;
        const char *p = text, *end = text + len;
        *ret_why = NULL;
        while (p < end) {
                line++;
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (n > 4096) {
                        *ret_why = "line too long";
                        goto bad;
                }
                if (memchr(p, 0, n)) {
                        *ret_why = "NUL byte";
                        goto bad;
                }
                _cleanup_free_ char *raw = xstrndup(p, n);
                p = nl ? nl + 1 : end;
                char *s = strstrip(raw);
                if (*s == 0 || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        if (strcmp(s, "[App]") != 0) {
                                *ret_why = "unknown section (only [App] is allowed)";
                                goto bad;
                        }
                        in_app = true;
                        continue;
                }
                char *eq = strchr(s, '=');
                if (!eq) {
                        *ret_why = "expected Key=Value";
                        goto bad;
                }
                if (!in_app) {
                        *ret_why = "setting outside the [App] section";
                        goto bad;
                }
                *eq = 0;
                char *key = strstrip(s), *value = strstrip(eq + 1);
                if (strcmp(key, "Python") == 0)
                        set_str(&c->python, value);
                else if (strcmp(key, "Group") == 0)
                        set_str(&c->group, value);
                else if (strcmp(key, "Service") == 0)
                        set_str(&c->service, value);
                else if (strcmp(key, "User") == 0) {
                        if ((*ret_why = parse_user(c, value, &user_seen)))
                                goto bad;
                }
                else if (strcmp(key, "Prefix") == 0)
                        set_str(&c->prefix, value);
                else if (strcmp(key, "Requirements") == 0)
                        set_str(&c->requirements, value);
                else if (strcmp(key, "Wheels") == 0)
                        set_str(&c->wheels, value);
                else if (strcmp(key, "WSGIScript") == 0)
                        set_str(&c->wsgi_script, value);
                else if (strcmp(key, "URL") == 0)
                        set_str(&c->url, value);
                else if (strcmp(key, "Module") == 0) {
                        if (strv_length(c->modules) >= 256) {
                                *ret_why = "too many Module= lines (at most 256)";
                                goto bad;
                        }
                        if (*value)
                                strv_push(&c->modules, value);
                        else {
                                strv_free(c->modules);
                                c->modules = xcalloc(1, sizeof(char *));
                        }
                } else if (strcmp(key, "Cgi") == 0 || strcmp(key, "Watch") == 0) {
                        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
                                *ret_why = "takes yes or no";
                                goto bad;
                        }
                        *(strcmp(key, "Cgi") == 0 ? &c->cgi : &c->watch) = strcmp(value, "yes") == 0 ? CFG_YES : CFG_NO;
                } else {
                        *ret_why = "unknown key";
                        goto bad;
                }
        }
        return 0;
bad:
        *ret_line = line;
        return -EINVAL;
}

static bool names_valid(char *const *names)
{
        for (size_t i = 0; names && names[i]; i++)
                if (!user_name_valid(names[i]))
                        return false;
        return true;
}

int config_validate(const struct app_config *c, const char **ret_key)
{
        _cleanup_free_ char *unit = NULL;
        if (c->python && !path_safe_absolute(c->python))
                *ret_key = "Python";
        else if (c->group && !user_name_valid(c->group))
                *ret_key = "Group";
        else if ((c->user && !user_name_valid(c->user)) || !names_valid(c->more_users))
                *ret_key = "User";
        else if (c->service && unit_name_normalize(c->service, &unit) < 0)
                *ret_key = "Service";
        else if (c->prefix && (!path_safe_absolute(c->prefix) || strcmp(c->prefix, "/") == 0))
                *ret_key = "Prefix";
        else if (c->requirements && !path_safe_absolute(c->requirements))
                *ret_key = "Requirements";
        else if (c->wheels && !path_safe_absolute(c->wheels))
                *ret_key = "Wheels";
        else if (c->wsgi_script && !path_safe_absolute(c->wsgi_script))
                *ret_key = "WSGIScript";
        else if (c->url && !path_safe_absolute(c->url))
                *ret_key = "URL";
        else {
                for (size_t i = 0; c->modules && c->modules[i]; i++)
                        if (!module_name_valid(c->modules[i])) {
                                *ret_key = "Module";
                                return -EINVAL;
                        }
                return 0;
        }
        return -EINVAL;
}

char **config_users(const struct app_config *c)
{
        char **l = xcalloc(1, sizeof(char *));
        if (c->user) {
                strv_push(&l, c->user);
                for (size_t i = 0; c->more_users && c->more_users[i]; i++)
                        strv_push(&l, c->more_users[i]);
        }
        return l;
}

char *config_format(const struct app_config *c)
{
        struct buf b = {0};
        buf_puts(&b, "# Written by pyshare setup; pyshare reads it on every verb.\n[App]\n");
        if (c->python)
                buf_printf(&b, "Python=%s\n", c->python);
        if (c->group)
                buf_printf(&b, "Group=%s\n", c->group);
        if (c->service)
                buf_printf(&b, "Service=%s\n", c->service);
        if (c->user)
                buf_printf(&b, "User=%s\n", c->user);
        for (size_t i = 0; c->user && c->more_users && c->more_users[i]; i++)
                buf_printf(&b, "User=%s\n", c->more_users[i]);
        if (c->prefix)
                buf_printf(&b, "Prefix=%s\n", c->prefix);
        if (c->modules && !c->modules[0])
                buf_puts(&b, "Module=\n");
        for (size_t i = 0; c->modules && c->modules[i]; i++)
                buf_printf(&b, "Module=%s\n", c->modules[i]);
        if (c->requirements)
                buf_printf(&b, "Requirements=%s\n", c->requirements);
        if (c->wheels)
                buf_printf(&b, "Wheels=%s\n", c->wheels);
        if (c->wsgi_script)
                buf_printf(&b, "WSGIScript=%s\n", c->wsgi_script);
        if (c->url)
                buf_printf(&b, "URL=%s\n", c->url);
        if (c->cgi)
                buf_printf(&b, "Cgi=%s\n", c->cgi == CFG_YES ? "yes" : "no");
        if (c->watch)
                buf_printf(&b, "Watch=%s\n", c->watch == CFG_YES ? "yes" : "no");
        return b.p;
}

static void overlay_str(char **base, const char *over)
{
        if (over)
                set_str(base, over);
}

void config_overlay(struct app_config *base, const struct app_config *over)
{
        overlay_str(&base->python, over->python);
        overlay_str(&base->group, over->group);
        overlay_str(&base->service, over->service);
        if (over->user) {
                set_str(&base->user, over->user);
                strv_free(base->more_users);
                base->more_users = strv_copy(over->more_users);
        }
        overlay_str(&base->prefix, over->prefix);
        overlay_str(&base->requirements, over->requirements);
        overlay_str(&base->wheels, over->wheels);
        overlay_str(&base->wsgi_script, over->wsgi_script);
        overlay_str(&base->url, over->url);
        if (over->modules) {
                strv_free(base->modules);
                base->modules = strv_copy(over->modules); /* an empty list stays an empty list */
        }
        if (over->cgi)
                base->cgi = over->cgi;
        if (over->watch)
                base->watch = over->watch;
}

static void subtract_str(char **c, const char *ref)
{
        if (*c && ref && strcmp(*c, ref) == 0) {
                free(*c);
                *c = NULL;
        }
}

static bool strv_equal(char *const *a, char *const *b)
{
        size_t n = strv_length(a);
        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

void config_subtract(struct app_config *c, const struct app_config *ref)
{
        subtract_str(&c->python, ref->python);
        subtract_str(&c->group, ref->group);
        subtract_str(&c->service, ref->service);
        if (c->user && ref->user && strcmp(c->user, ref->user) == 0 &&
            strv_equal(c->more_users, ref->more_users)) {
                free(c->user);
                c->user = NULL;
                strv_free(c->more_users);
                c->more_users = NULL;
        }
        subtract_str(&c->prefix, ref->prefix);
        subtract_str(&c->requirements, ref->requirements);
        subtract_str(&c->wheels, ref->wheels);
        subtract_str(&c->wsgi_script, ref->wsgi_script);
        subtract_str(&c->url, ref->url);
        if (c->modules && ref->modules && strv_equal(c->modules, ref->modules)) {
                strv_free(c->modules);
                c->modules = NULL;
        }
        if (c->cgi == ref->cgi)
                c->cgi = CFG_UNSET;
        if (c->watch == ref->watch)
                c->watch = CFG_UNSET;
}
