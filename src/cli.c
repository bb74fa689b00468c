/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli.h"
#include "log.h"
#include "output.h"
#include "probe.h"
#include "util.h"
#include "verbs.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <sysexits.h>

static const char usage_text[] =
        "Usage: pyshare [GLOBAL] COMMAND ...\n"
        "Make a shared Python environment importable by a service, keep it so, and prove it.\n"
        "\n"
        "Commands:\n"
        "  setup APP [--python=PATH] [--group=GROUP] [--service=UNIT] [--user=USER]...\n"
        "            [--module=NAME]... [--prefix=DIR] [--restart] [--no-probe]\n"
        "            [--cgi|--no-cgi] [--watch|--no-watch] [--from=FILE]\n"
        "            [--wsgi-script=PATH [--url=/PATH]] [--adopt]\n"
        "                        create the venv PREFIX/APP, set owners, modes and ACLs,\n"
        "                        wire it into the service, reload systemd, probe\n"
        "  probe APP [MODULE...] [--interpreter] [--timeout=SEC]\n"
        "                        import modules as the service user, in its environment\n"
        "  repair APP            re-apply group, modes and ACLs (after pip installs)\n"
        "  remove APP [--purge] [--restart]\n"
        "                        unwire the app; --purge also deletes its venv, --restart\n"
        "                        restarts the service when its environment changed\n"
        "  pip APP ARGS...       run the venv's pip as pyshare's own user (never root), then repair\n"
        "  list                  list the apps that are set up\n"
        "  status [APP]          settings and health of one or every app\n"
        "  rebuild APP [--python=PATH] [--upgrade] [--find-links=DIR] [--index-url=URL]\n"
        "              [--keep-old]\n"
        "                        build the venv again with the service's Python and the same\n"
        "                        distributions (after a Python upgrade); the old one comes\n"
        "                        back when anything fails\n"
        "\n"
        "Global options:\n"
        "      --root=DIR        operate on the image or tree below DIR\n"
        "      --dry-run         print the plan, change nothing\n"
        "      --json            print one JSON object on stdout\n"
        "      --diff            show the old and new content of every file written\n"
        "      --lock-timeout=SEC\n"
        "                        wait at most SEC seconds for another pyshare (default 300)\n"
        "  -q, --quiet           print only warnings and errors\n"
        "  -v, --verbose         print more\n"
        "  -h, --help            print this help\n"
        "      --version         print the version\n"
        "\n"
        "Setup options: --cgi/--no-cgi and --watch/--no-watch turn the Cgi= and Watch= settings\n"
        "on or off; --from=FILE reads the package's settings from FILE instead of\n"
        "/usr/lib/pyshare/APP.conf; --user given again adds a user that reads the venv too.\n"
        "--wsgi-script=PATH runs the app in a mod_wsgi daemon process of its own with its venv\n"
        "as python-home, mounted at --url (default /APP). --adopt takes over a virtualenv at\n"
        "PREFIX/APP that pyshare did not create.\n"
        "Defaults: --python=/usr/bin/python3 --group=deploy --prefix=/opt/pyshare\n"
        "--service=apache2.service, or httpd.service on a system that has httpd and no apache2;\n"
        "--user=the User that service runs as (www-data on Debian, apache on RHEL-family).\n"
        "Exit status: 0 ok, 1 a problem was found, 2 usage, 65 invalid setting, 69 no such\n"
        "user/group/service/Python, 73 cannot create or write, 77 needs root.\n"
        "See pyshare(8).\n";

enum {
        OPT_ROOT = 0x100,
        OPT_DRY_RUN,
        OPT_JSON,
        OPT_VERSION,
        OPT_LOCK_TIMEOUT,
        OPT_DIFF,
        OPT_UPGRADE, /* from here on: options of one command; rebuild's end with --python */
        OPT_FIND_LINKS,
        OPT_INDEX_URL,
        OPT_KEEP_OLD,
        OPT_PYTHON,
        OPT_GROUP,
        OPT_SERVICE,
        OPT_USER,
        OPT_MODULE,
        OPT_PREFIX,
        OPT_NO_PROBE,
        OPT_CGI,
        OPT_NO_CGI,
        OPT_WATCH,
        OPT_NO_WATCH,
        OPT_FROM,
        OPT_WSGI_SCRIPT,
        OPT_URL,
        OPT_ADOPT,
        OPT_RESTART, /* setup's last and remove's first: the verb table gives ranges */
        OPT_PURGE,
        OPT_INTERPRETER,
        OPT_TIMEOUT,
};

static const struct option options[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"json", no_argument, NULL, OPT_JSON},
        {"diff", no_argument, NULL, OPT_DIFF},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"python", required_argument, NULL, OPT_PYTHON},
        {"group", required_argument, NULL, OPT_GROUP},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"user", required_argument, NULL, OPT_USER},
        {"module", required_argument, NULL, OPT_MODULE},
        {"prefix", required_argument, NULL, OPT_PREFIX},
        {"restart", no_argument, NULL, OPT_RESTART},
        {"no-probe", no_argument, NULL, OPT_NO_PROBE},
        {"cgi", no_argument, NULL, OPT_CGI},
        {"no-cgi", no_argument, NULL, OPT_NO_CGI},
        {"watch", no_argument, NULL, OPT_WATCH},
        {"no-watch", no_argument, NULL, OPT_NO_WATCH},
        {"from", required_argument, NULL, OPT_FROM},
        {"wsgi-script", required_argument, NULL, OPT_WSGI_SCRIPT},
        {"url", required_argument, NULL, OPT_URL},
        {"adopt", no_argument, NULL, OPT_ADOPT},
        {"interpreter", no_argument, NULL, OPT_INTERPRETER},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"purge", no_argument, NULL, OPT_PURGE},
        {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
        {"upgrade", no_argument, NULL, OPT_UPGRADE},
        {"find-links", required_argument, NULL, OPT_FIND_LINKS},
        {"index-url", required_argument, NULL, OPT_INDEX_URL},
        {"keep-old", no_argument, NULL, OPT_KEEP_OLD},
        {0},
};

/* What the command line gathered for a verb. */
struct cli_args {
        const char *verb, *app, *pip_app;
        struct setup_opts so;
        struct probe_opts po;
        struct rebuild_opts ro;
        bool purge, help, version;
        int verbosity; /* -1 quiet, 0, 1 verbose */
        char **modules, **positional, **pip_args, **more_users;
};

static void cli_args_free(struct cli_args *c)
{
        strv_free(c->modules);
        strv_free(c->positional);
        strv_free(c->more_users);
}

static int run_setup(struct ctx *x, struct cli_args *c)
{
        c->so.modules = c->modules;
        c->so.more_users = c->more_users;
        return verb_setup(x, c->app, &c->so);
}

static int run_probe_verb(struct ctx *x, struct cli_args *c)
{
        c->po.modules = c->positional + 1;
        return verb_probe(x, c->app, &c->po);
}

static int run_repair(struct ctx *x, struct cli_args *c) { return verb_repair(x, c->app); }
static int run_remove(struct ctx *x, struct cli_args *c) { return verb_remove(x, c->app, c->purge, c->so.restart); }
static int run_pip_verb(struct ctx *x, struct cli_args *c) { return verb_pip(x, c->app, c->pip_args); }
static int run_list(struct ctx *x, struct cli_args *c) { return verb_list(x); }
static int run_status(struct ctx *x, struct cli_args *c) { return verb_status(x, c->app); }

static int run_rebuild(struct ctx *x, struct cli_args *c)
{
        c->ro.python = c->so.python;
        return verb_rebuild(x, c->app, &c->ro);
}

enum verb_args {
        ARGS_NONE,      /* no argument */
        ARGS_APP,       /* APP */
        ARGS_APP_MORE,  /* APP and as many more as given (probe's modules) */
        ARGS_MAYBE_APP, /* [APP] */
        ARGS_PIP,       /* APP and pip's own arguments, split off before getopt */
};

/* The verbs: name, arguments, the range of verb options each takes, the function. */
static const struct verb {
        const char *name;
        enum verb_args args;
        int opt_first, opt_last;
        int (*run)(struct ctx *x, struct cli_args *c);
} verbs[] = {
        {"setup", ARGS_APP, OPT_PYTHON, OPT_RESTART, run_setup},
        {"probe", ARGS_APP_MORE, OPT_INTERPRETER, OPT_TIMEOUT, run_probe_verb},
        {"repair", ARGS_APP, 0, -1, run_repair},
        {"remove", ARGS_APP, OPT_RESTART, OPT_PURGE, run_remove},
        {"pip", ARGS_PIP, 0, -1, run_pip_verb},
        {"list", ARGS_NONE, 0, -1, run_list},
        {"status", ARGS_MAYBE_APP, 0, -1, run_status},
        {"rebuild", ARGS_APP, OPT_UPGRADE, OPT_PYTHON, run_rebuild},
};

static const struct verb *verb_find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i].name, name) == 0)
                        return &verbs[i];
        return NULL;
}

/* "setup, probe, repair, remove, pip, list or status" */
static char *verb_names(void)
{
        struct buf b = {0};
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                buf_printf(&b, "%s%s", i == 0 ? "" : i + 1 == ELEMENTSOF(verbs) ? " or " : ", ", verbs[i].name);
        return b.p;
}

/* Global options go with every verb; a verb option only with its verb. */
static bool option_allowed(const struct verb *v, int opt)
{
        if (opt < OPT_UPGRADE)
                return true;
        return v && opt >= v->opt_first && opt <= v->opt_last;
}

static const char *option_name(int opt)
{
        for (const struct option *o = options; o->name; o++)
                if (o->val == opt)
                        return o->name;
        return "?";
}

static int parse_seconds(const char *s, int max, int *ret)
{
        char *end;
        if (!s)
                return -EINVAL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > max)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

/* The last usage error, for --json's error object. */
static char usage_msg[512];

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(usage_msg, sizeof(usage_msg), fmt, ap);
        va_end(ap);
        fprintf(stderr, "pyshare: %s (see pyshare --help)\n", usage_msg);
        return 2;
}

/* One option into x and c: 0, or the exit status when its value is refused. */
static int take_option(int opt, struct ctx *x, struct cli_args *c)
{
        switch (opt) {
        case OPT_ROOT:
                x->root = optarg;
                break;
        case OPT_DRY_RUN:
                x->dry_run = true;
                break;
        case OPT_JSON:
                x->json = true;
                break;
        case OPT_DIFF:
                x->diff = true;
                break;
        case 'q':
                c->verbosity = -1;
                break;
        case 'v':
                c->verbosity = 1;
                break;
        case 'h':
                c->help = true;
                break;
        case OPT_VERSION:
                c->version = true;
                break;
        case OPT_PYTHON:
                c->so.python = optarg;
                break;
        case OPT_GROUP:
                c->so.group = optarg;
                break;
        case OPT_SERVICE:
                c->so.service = optarg;
                break;
        case OPT_USER:
                if (!c->so.user)
                        c->so.user = optarg;
                else
                        strv_push(&c->more_users, optarg);
                break;
        case OPT_MODULE:
                strv_push(&c->modules, optarg);
                break;
        case OPT_PREFIX:
                c->so.prefix = optarg;
                break;
        case OPT_RESTART:
                c->so.restart = true;
                break;
        case OPT_NO_PROBE:
                c->so.no_probe = true;
                break;
        case OPT_CGI:
                c->so.cgi = 1;
                break;
        case OPT_NO_CGI:
                c->so.cgi = 0;
                break;
        case OPT_WATCH:
                c->so.watch = 1;
                break;
        case OPT_NO_WATCH:
                c->so.watch = 0;
                break;
        case OPT_FROM:
                if (optarg[0] != '/')
                        return usage_error("--from=%s: give an absolute path", optarg);
                c->so.from = optarg;
                break;
        case OPT_WSGI_SCRIPT:
                c->so.wsgi_script = optarg;
                break;
        case OPT_URL:
                c->so.url = optarg;
                break;
        case OPT_ADOPT:
                c->so.adopt = true;
                break;
        case OPT_INTERPRETER:
                c->po.interpreter = true;
                break;
        case OPT_TIMEOUT:
                if (parse_seconds(optarg, 3600, &c->po.timeout_sec) < 0)
                        return usage_error("--timeout=%s: give whole seconds from 1 to 3600", optarg);
                break;
        case OPT_PURGE:
                c->purge = true;
                break;
        case OPT_UPGRADE:
                c->ro.upgrade = true;
                break;
        case OPT_FIND_LINKS:
                c->ro.find_links = optarg;
                break;
        case OPT_INDEX_URL:
                c->ro.index_url = optarg;
                break;
        case OPT_KEEP_OLD:
                c->ro.keep_old = true;
                break;
        case OPT_LOCK_TIMEOUT:
                if (parse_seconds(optarg, 86400, &x->lock_timeout) < 0)
                        return usage_error("--lock-timeout=%s: give whole seconds from 1 to 86400", optarg);
                break;
        }
        return 0;
}

/* pip's own options follow "pip APP": only what comes before is ours. Cuts argv there. */
static int split_pip(int *argc, char **argv, struct cli_args *c)
{
        for (int i = 1; i < *argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        break;
                if (argv[i][0] == '-') {
                        if ((strcmp(argv[i], "--root") == 0 || strcmp(argv[i], "--lock-timeout") == 0) && i + 1 < *argc)
                                i++;
                        continue;
                }
                if (strcmp(argv[i], "pip") != 0)
                        break;
                if (i + 1 >= *argc)
                        return usage_error("%s", "pip needs an app name and pip's arguments");
                c->pip_app = argv[i + 1];
                c->pip_args = argv + i + 2;
                *argc = i + 1;
                break;
        }
        return 0;
}

/* Global options may come before or after the verb; verb options only after it. 0, or the exit
 * status of a usage error. */
static int parse_args(int argc, char **argv, struct ctx *x, struct cli_args *c)
{
        opterr = 0;
        optind = 1;
        int opt;
        while ((opt = getopt_long(argc, argv, "-:qvh", options, NULL)) != -1) {
                switch (opt) {
                case 1:
                        if (!c->verb)
                                c->verb = optarg;
                        else
                                strv_push(&c->positional, optarg);
                        continue;
                case '?':
                        if (optopt)
                                return usage_error("unknown option -%c", optopt);
                        return usage_error("unknown option %s", argv[optind - 1]);
                case ':':
                        return usage_error("option %s needs a value", argv[optind - 1]);
                default:
                        break;
                }
                if (opt >= OPT_UPGRADE && (!c->verb || !option_allowed(verb_find(c->verb), opt))) {
                        char buf[64];
                        snprintf(buf, sizeof(buf), "--%s", option_name(opt));
                        return usage_error("option %s %s", buf,
                                           c->verb ? "does not go with this command" : "goes after the command");
                }
                int r = take_option(opt, x, c);
                if (r != 0)
                        return r;
        }
        return 0;
}

static const char *error_cause(int r)
{
        switch (r) {
        case -PS_E_PROBLEM:
                return "problem";
        case -PS_E_USAGE:
                return "usage";
        case -PS_E_INVALID:
                return "invalid";
        case -PS_E_NOTFOUND:
                return "not-found";
        case -PS_E_NOTROOT:
                return "not-root";
        default:
                return "cannot-write";
        }
}

static int exit_status(int r)
{
        switch (r) {
        case 0:
                return 0;
        case -PS_E_PROBLEM:
                return 1;
        case -PS_E_USAGE:
                return 2;
        case -PS_E_INVALID:
                return EX_DATAERR;
        case -PS_E_NOTFOUND:
                return EX_UNAVAILABLE;
        case -PS_E_NOTROOT:
                return EX_NOPERM;
        default:
                return EX_CANTCREAT;
        }
}

/* The command's end under --json: its document, with an error object when r says it failed. */
static int json_end(const struct cli_args *c, int r)
{
        int status = exit_status(r);
        if (status == 0) {
                json_finish(NULL);
                return 0;
        }
        const bool is_errno = r < 0 && r > -PS_E_BASE;
        const struct json_failure f = {
                .command = c->verb,
                .app = c->app,
                .message = r == -PS_E_USAGE && usage_msg[0] ? usage_msg : log_first_error(),
                .cause = log_error_cause() && r != -PS_E_USAGE ? log_error_cause() : error_cause(r),
                .errno_text = is_errno ? strerror(-r) : NULL,
                .exit_status = status,
        };
        json_finish(&f);
        return status;
}

/* The command line's usage errors, as JSON when --json was asked for. */
static int usage_end(int argc, char **argv, const struct cli_args *c, int status)
{
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--json") == 0)
                        return json_end(c, -PS_E_USAGE);
        return status;
}

static int cli_run(int argc, char **argv, struct ctx *x, struct cli_args *c);

int cli_main(int argc, char **argv)
{
        /* The process of a transient probe unit (see probe.c), not a command for people. */
        if (argc > 1 && strcmp(argv[1], "__probe-child") == 0)
                return probe_child_main(argc - 1, argv + 1);
        struct ctx x = {.rootfd = -1, .lock_timeout = 300};
        /* The package's dpkg trigger after a Python or mod_wsgi upgrade (debian/pyshare.triggers). */
        if (argc == 2 && strcmp(argv[1], "__python-check") == 0) {
                log_setup(0, false);
                x.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int r = verb_python_check(&x);
                close(x.rootfd);
                return exit_status(r);
        }
        _cleanup_(cli_args_free) struct cli_args c = {.so = {.cgi = -1, .watch = -1}, .po = {.timeout_sec = 30}};
        int full_argc = argc;
        int r = cli_run(argc, argv, &x, &c);
        if (r == 2)
                return usage_end(full_argc, argv, &c, r);
        if (r > 0 || (r == 0 && !x.json))
                return r;
        return x.json ? json_end(&c, r) : exit_status(r);
}

/* 0 or an exit status (> 0) of its own, or the verb's -errno/-PS_E_*. */
static int cli_run(int argc, char **argv, struct ctx *x, struct cli_args *c)
{
        int r = split_pip(&argc, argv, c);
        if (r != 0 || (r = parse_args(argc, argv, x, c)) != 0)
                return r;
        if (c->help) {
                fputs(usage_text, stdout);
                return 0;
        }
        if (c->version) {
                printf("pyshare %s\n", PYSHARE_VERSION);
                return 0;
        }
        _cleanup_free_ char *names = verb_names();
        if (!c->verb)
                return usage_error("no command given: %s", names);
        log_setup(c->verbosity, x->json);

        const struct verb *v = verb_find(c->verb);
        enum verb_args args = v ? v->args : ARGS_NONE;
        size_t npos = strv_length(c->positional);
        c->app = args == ARGS_PIP ? c->pip_app : c->positional ? c->positional[0] : NULL;
        if ((args == ARGS_APP || args == ARGS_APP_MORE) && !c->app)
                return usage_error("%s needs an app name", c->verb);
        size_t max_pos = args == ARGS_APP || args == ARGS_MAYBE_APP ? 1 : 0;
        if (args != ARGS_APP_MORE && c->positional && npos > max_pos)
                return usage_error("unexpected argument '%s'", c->positional[max_pos]);

        if (x->root) {
                x->rootfd = open(x->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (x->rootfd < 0) {
                        int e = errno;
                        log_error("--root=%s: %s", x->root, strerror(e));
                        return e == ENOENT ? -PS_E_NOTFOUND : -e;
                }
        } else
                x->rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (!v || (args == ARGS_PIP && (!c->pip_args || !c->pip_args[0]))) {
                close(x->rootfd);
                if (!v)
                        return usage_error("unknown command '%s': %s", c->verb, names);
                return usage_error("%s", "pip needs pip's arguments, such as install -r requirements.txt");
        }
        r = v->run(x, c);
        close(x->rootfd);
        return r;
}
