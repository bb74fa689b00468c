/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 2: containment of the code pyshare runs from a venv (pip, the forked probe). The code
 * runs in a worker process under an init of pyshare's own in a new PID namespace: when the
 * worker ends, the init kills and reaps everything else in the namespace and exits, and the
 * kernel ends whatever is left when the init goes (at the deadline pyshare kills the init).
 * No process the worker starts outlives the run, whatever it does (setsid, double fork, chains
 * of any length). Optionally a fresh tmpfs on /tmp, in the new mount namespace.
 * And the one loop that collects a child's output until it ends or its deadline passes, and
 * run_command: every other program pyshare starts, contained the same way. */
#pragma once
#include "util.h"

struct contain_opts {
        bool private_tmp;   /* a fresh, empty /tmp that only this run sees */
        const char *root;   /* the worker chroots here (an image): its tmp directories get them */
};

struct contained {
        pid_t pid;     /* the namespace's init, our child */
        int pidfd;     /* its pidfd, or -1 where pidfd_open is refused */
        int report_fd; /* the init's report on the worker */
        bool ended;    /* the init was reaped */
        int status;    /* its wait status, once ended */
};
#define CONTAINED_NULL ((struct contained){.pid = -1, .pidfd = -1, .report_fd = -1})

/* Starts worker(userdata) contained; worker must not return (exec or _exit). It starts as
 * root with our fds (but the init's report pipe) in the new namespaces, and drops its own
 * privileges. -errno when the namespaces cannot be made. */
int contain_start(const struct contain_opts *o, void (*worker)(void *), void *userdata,
                  struct contained *ret);
/* Kills the init, and with it the namespace, then waits for the end (if not yet) and gives
 * the worker's end: its wait status (128+signal style as run_command: the raw status), and
 * how many processes it left behind that the init killed. Always ends the run. */
void contain_end(struct contained *c, int *ret_status, unsigned *ret_left);

/* A stream read while a child runs: the first cap bytes are kept, total counts all. */
struct contain_stream {
        int fd;
        struct buf *buf;
        size_t cap;
        size_t *total; /* or NULL */
        bool open;
};

/* What ends a run: for poll(), an fd with its events and the longest wait (-1: none); then
 * check() says whether the run ended. */
struct contain_watch {
        int (*prepare)(void *userdata, int *ret_fd, short *ret_events, int *ret_timeout_ms);
        int (*check)(void *userdata, bool *ret_ended);
        void *userdata;
};

/* The contained worker's end as a watch (its init's pidfd, or a 20 ms tick without one). */
struct contain_watch contain_watch_of(struct contained *c);

/* The one loop that waits on a child: reads the streams (non-blocking fds) and waits for the
 * watch's end, until the deadline (now_ms() based). After the end, what the streams still hold
 * is taken without waiting: a writer outside the containment (a passed fd) cannot keep us. 0
 * when the run ended, -ETIMEDOUT at the deadline, -errno when the watch failed. */
int contain_collect(struct contain_stream *s, size_t n, const struct contain_watch *w, long long deadline);
/* After the end (or a kill): what the streams hold now, without waiting for more. */
void contain_drain(struct contain_stream *s, size_t n, long long deadline);

/* Runs argv (argv[0] an absolute path) contained as above, in a new session, from /, with a
 * fixed environment (PATH, LANG), stdin from /dev/null and umask 022, and collects its
 * stdout+stderr (capped at 64 KiB). Returns the exit status (>= 0, 128+signal when killed) or
 * -errno when it could not be started; -ETIMEDOUT after timeout_ms (then the namespace, the
 * command and all it started, is killed). Only root can contain: others get -EPERM. */
int run_command(char *const argv[], int timeout_ms, char **ret_output);

/* The same with hooks: child() runs in the contained child after its stdio is set and before
 * chdir("/") and execve (a failure: "pyshare: STEP: error" in the output and status 126);
 * parent() runs in pyshare right after the start (a failure ends the run and is returned);
 * env replaces the fixed environment when given. */
struct run_hooks {
        char *const *env;
        int (*child)(void *userdata, const char **ret_step);
        int (*parent)(void *userdata);
        void *userdata;
};
int run_command_with(char *const argv[], const struct run_hooks *h, int timeout_ms, char **ret_output);
