/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The containment of venv code (contain.c): whatever the worker starts ends with it, its /tmp
 * is its own, and the collecting loop ends whatever a process outside does with a pipe. Needs
 * root (namespaces); each test runs in a child of its own. */
#include "helpers.h"
#include "contain.h"

#include <dirent.h>
#include <sys/prctl.h>

#define CHAIN_NAME "pstcontainchain"
#define CHAIN_DEPTH 300

/* Processes named CHAIN_NAME, as /proc shows them (zombies aside). */
static int count_chain(void)
{
        DIR *d = opendir("/proc");
        if (!d)
                return -1;
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] >= '1' && de->d_name[0] <= '9') {
                        char path[300], buf[512];
                        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                        FILE *f = fopen(path, "re");
                        if (!f)
                                continue;
                        size_t k = fread(buf, 1, sizeof(buf) - 1, f);
                        fclose(f);
                        buf[k] = 0;
                        char *rp = strrchr(buf, ')');
                        if (strstr(buf, "(" CHAIN_NAME ")") && rp && rp[1] == ' ' && rp[2] != 'Z')
                                n++;
                }
        closedir(d);
        return n;
}

/* Runs worker contained to its end (no stream): 0, 77 where namespaces are refused, or a
 * failure number; the worker's wait status and the count of processes it left. */
static int run_contained(const struct contain_opts *o, void (*worker)(void *), int *ret_status, unsigned *ret_left)
{
        struct contained c = CONTAINED_NULL;
        int r = contain_start(o, worker, NULL, &c);
        if (r == -EPERM)
                return 77;
        if (r < 0)
                return 50;
        struct contain_watch w = contain_watch_of(&c);
        r = contain_collect(NULL, 0, &w, now_ms() + 120000); /* a hang bound: ASan forks slowly */
        contain_end(&c, ret_status, ret_left);
        return r == 0 ? 0 : 51;
}

/* A chain: each process a session of its own and the parent of the next, all waiting forever.
 * The worker exits once the last one runs. */
static void chain_worker(void *userdata)
{
        (void)userdata;
        int q[2];
        if (pipe(q) < 0)
                _exit(1);
        if (fork() == 0) {
                prctl(PR_SET_NAME, CHAIN_NAME);
                for (int i = 0; i < CHAIN_DEPTH - 1; i++) {
                        setsid();
                        if (fork() != 0)
                                for (;;)
                                        pause();
                }
                setsid();
                if (write(q[1], "c", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        char c;
        _exit(read(q[0], &c, 1) == 1 ? 0 : 1);
}

static int chain_child(void *userdata)
{
        (void)userdata;
        if (geteuid() != 0)
                return 77;
        int status = -1;
        unsigned left = 0;
        int r = run_contained(&(struct contain_opts){0}, chain_worker, &status, &left);
        if (r != 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "worker status %d\n", status);
                return 15;
        }
        if (left < CHAIN_DEPTH) {
                fprintf(stderr, "the init counted %u left, the chain had %d\n", left, CHAIN_DEPTH);
                return 16;
        }
        int n = count_chain();
        if (n != 0) {
                fprintf(stderr, "%d processes of the chain outlived the worker\n", n);
                return 17;
        }
        return 0;
}

/* A chain of 300 setsid processes outlives no worker: no counting of rounds. */
static void test_chain_ends_with_worker(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(chain_child, NULL), "needs root for a PID namespace");
}

/* The worker ends at once; the test keeps its own copy of the pipe's write end, as a process
 * outside the containment that was handed the fd would. */
static void exiting_worker(void *userdata)
{
        (void)userdata;
        _exit(3);
}

static int held_pipe_child(void *userdata)
{
        (void)userdata;
        if (geteuid() != 0)
                return 77;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return 10;
        if (write(p[1], "early", 5) != 5)
                return 11;
        struct contained c = CONTAINED_NULL;
        int r = contain_start(&(struct contain_opts){0}, exiting_worker, NULL, &c);
        if (r == -EPERM)
                return 77;
        if (r < 0)
                return 12;
        /* p[1] stays open here: the pipe never reaches end-of-file. */
        struct buf got = {0};
        struct contain_stream s = {.fd = p[0], .buf = &got, .cap = 1024, .open = true};
        struct contain_watch w = contain_watch_of(&c);
        long long deadline = now_ms() + 10000;
        r = contain_collect(&s, 1, &w, deadline);
        int status = -1;
        unsigned left = 0;
        contain_end(&c, &status, &left);
        if (r != 0) {
                fprintf(stderr, "contain_collect: %d\n", r);
                return 13;
        }
        if (now_ms() >= deadline)
                return 14;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 3)
                return 15;
        if (got.len != 5 || memcmp(got.p, "early", 5) != 0)
                return 16;
        buf_free(&got);
        /* Killed at a deadline, the drain still ends at the empty pipe. */
        long long t0 = now_ms();
        s.open = true;
        contain_drain(&s, 1, t0 + 5000);
        if (now_ms() - t0 > 2500 || s.open)
                return 17;
        return 0;
}

/* Finding 4: a writer outside that keeps the pipe open cannot keep the loop going. */
static void test_collect_ends_with_pipe_held_outside(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(held_pipe_child, NULL), "needs root for a PID namespace");
}

static void tmp_worker(void *userdata)
{
        (void)userdata;
        DIR *d = opendir("/tmp");
        if (!d)
                _exit(20);
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        if (n != 0)
                _exit(21);
        FILE *f = fopen("/tmp/pst-contain-unit", "we");
        if (!f || fclose(f) != 0)
                _exit(22);
        _exit(0);
}

static int tmp_child(void *userdata)
{
        (void)userdata;
        if (geteuid() != 0)
                return 77;
        unlink("/tmp/pst-contain-unit");
        for (int round = 0; round < 2; round++) {
                int status = -1;
                unsigned left = 0;
                int r = run_contained(&(struct contain_opts){.private_tmp = true}, tmp_worker, &status, &left);
                if (r != 0)
                        return r;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "round %d: worker status %d\n", round, status);
                        return 12;
                }
        }
        /* Each run saw an empty /tmp, and the host's never got the file. */
        return access("/tmp/pst-contain-unit", F_OK) == 0 ? 13 : 0;
}

static void test_private_tmp(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(tmp_child, NULL), "needs root for a mount namespace");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_chain_ends_with_worker),
                cmocka_unit_test(test_collect_ends_with_pipe_held_outside),
                cmocka_unit_test(test_private_tmp),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
