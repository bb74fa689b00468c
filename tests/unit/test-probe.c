/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The probe's parent, with and without a pidfd (test-privdrop.c has the privilege drop). Each
 * runs in a child of its own: seccomp filters stay there. */
#include "helpers.h"
#include "probe.h"

#include <sys/syscall.h>

/* A probe whose child stops at once (uid 0 is refused before anything else) must be seen to
 * end by its exit, not by the deadline. */
static int probe_ends_early(bool without_pidfd)
{
        if (without_pidfd && deny_syscall(SYS_pidfd_open, SECCOMP_RET_ERRNO | ENOSYS) < 0)
                return 77;
        if (without_pidfd && syscall(SYS_pidfd_open, getpid(), 0) >= 0)
                return 10; /* the filter is not in place */
        struct ps_user root = {.name = (char *)"root", .uid = 0, .gid = 0};
        char *modules[] = {(char *)"json", NULL};
        char *env[] = {NULL};
        const struct probe_request req = {
                .user = &root, .forbidden_gid = 54322, .modules = modules, .env = env, .timeout_ms = 20000,
        };
        struct probe_result res;
        long long start = now_ms();
        if (probe_run(&req, &res) < 0)
                return 11;
        long long took = now_ms() - start;
        int rc = 0;
        if (res.timed_out || took > 5000) {
                fprintf(stderr, "the probe's exit went unnoticed: timed_out=%d after %lld ms\n", res.timed_out, took);
                rc = 12;
        } else if (res.exit_status != 122 || !res.failure || !strstr(res.failure, "refusing uid or gid 0")) {
                fprintf(stderr, "exit status %d, failure \"%s\"\n", res.exit_status, res.failure ? res.failure : "");
                rc = 13;
        }
        probe_result_free(&res);
        return rc;
}

static int probe_with_pidfd_child(void *userdata)
{
        (void)userdata;
        return probe_ends_early(false);
}

static int probe_without_pidfd_child(void *userdata)
{
        (void)userdata;
        return probe_ends_early(true);
}

static void test_probe_exit_seen(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(probe_with_pidfd_child, NULL), "cannot run here");
}

/* pidfd_open refused (a seccomp filter, a container runtime): waitpid polling finds the exit. */
static void test_probe_exit_seen_without_pidfd(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(probe_without_pidfd_child, NULL),
                        "no seccomp filter here (or not x86-64)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe_exit_seen),
                cmocka_unit_test(test_probe_exit_seen_without_pidfd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
