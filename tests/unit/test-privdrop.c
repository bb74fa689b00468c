/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The verification of a privilege drop that the forked probe and the transient unit's process
 * share, and the emptying of the inheritable capabilities. Each runs in a child of its own:
 * seccomp filters and changed ids stay there. */
#include "helpers.h"
#include "privdrop.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define NOBODY 65534u
#define GID_EXTRA 54322u

/* Makes the process an ordinary user: as root, uid/gid 65534 with the one supplementary group
 * GID_EXTRA; otherwise it already is one. Returns the supplementary group to use as the
 * forbidden one, or (gid_t)-1 when there is none. */
static gid_t become_ordinary(void)
{
        if (geteuid() == 0) {
                const gid_t extra = GID_EXTRA;
                if (setgroups(1, &extra) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                    setresuid(NOBODY, NOBODY, NOBODY) < 0)
                        return (gid_t)-2;
                return GID_EXTRA;
        }
        gid_t g[64];
        int n = getgroups(ELEMENTSOF(g), g);
        for (int i = 0; i < n; i++)
                if (g[i] != 0)
                        return g[i];
        return (gid_t)-1;
}

static int verify_child(void *userdata)
{
        (void)userdata;
        const char *step = NULL;
        /* Root: refused even before the drop — group 0, then setresuid(0,0,0), which succeeds
         * (in a throwaway child; this process stays as it is). */
        if (geteuid() == 0) {
                const gid_t zero = 0;
                if (setgroups(1, &zero) < 0)
                        return 77;
                if (privdrop_verify(0, 0, GID_EXTRA, &step) >= 0 || strcmp(step, "supplementary group 0 left") != 0)
                        return 10;
                if (setgroups(0, NULL) < 0)
                        return 77;
                if (privdrop_verify(0, 0, GID_EXTRA, &step) >= 0 || strcmp(step, "setresuid(0,0,0) succeeded") != 0)
                        return 11;
                if (geteuid() != 0)
                        return 12;
        }
        gid_t extra = become_ordinary();
        if (extra == (gid_t)-2)
                return 77;
        uid_t uid = getuid();
        gid_t gid = getgid();
        if (privdrop_verify(uid, gid, (gid_t)-1, &step) < 0) {
                fprintf(stderr, "an ordinary process fails at \"%s\"\n", step);
                return 13;
        }
        if (privdrop_verify(uid + 1, gid, (gid_t)-1, &step) != -EPERM || strcmp(step, "verify uids") != 0)
                return 14;
        if (privdrop_verify(uid, gid + 1, (gid_t)-1, &step) != -EPERM || strcmp(step, "verify gids") != 0)
                return 15;
        if (extra != (gid_t)-1 && (privdrop_verify(uid, gid, extra, &step) != -EPERM ||
                                   strcmp(step, "deploy group left in the supplementary groups") != 0))
                return 16;
        return 0;
}

static void test_verify(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(verify_child, NULL), "cannot change ids here");
}

/* Under a service's SystemCallFilter=~@privileged, copied into the probe's unit, setresuid
 * kills rather than fails: the verification must pass, and the process must live on. */
static int verify_sigsys_child(void *userdata)
{
        (void)userdata;
        if (become_ordinary() == (gid_t)-2)
                return 77;
        if (deny_syscall(SYS_setresuid, SECCOMP_RET_KILL_PROCESS) < 0)
                return 77;
        const char *step = NULL;
        if (privdrop_verify(getuid(), getgid(), (gid_t)-1, &step) < 0) {
                fprintf(stderr, "failed at \"%s\"\n", step);
                return 10;
        }
        return 0;
}

static void test_verify_survives_sigsys(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(verify_sigsys_child, NULL), "no seccomp filter here (or not x86-64)");
}

/* systemd 257 starts a service's processes with its bounding set as the inheritable set: an
 * ordinary user with inheritable capabilities (made here the way they survive a drop from
 * root: setresuid leaves the inheritable set alone) fails the verification until
 * privdrop_clear_inheritable empties it, which needs no privilege. */
static int inheritable_child(void *userdata)
{
        (void)userdata;
        if (geteuid() != 0)
                return 77;
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) < 0)
                return 77;
        d[0].inheritable = 1u << CAP_CHOWN;
        if (syscall(SYS_capset, &h, d) < 0 || become_ordinary() == (gid_t)-2)
                return 77;
        if (syscall(SYS_capget, &h, d) < 0 || d[0].inheritable != 1u << CAP_CHOWN || d[0].permitted)
                return 10;
        const char *step = NULL;
        if (privdrop_verify(getuid(), getgid(), (gid_t)-1, &step) != -EPERM || strcmp(step, "capabilities left") != 0)
                return 11;
        if (privdrop_clear_inheritable() < 0)
                return 12;
        if (privdrop_verify(getuid(), getgid(), (gid_t)-1, &step) < 0) {
                fprintf(stderr, "still refused at \"%s\"\n", step);
                return 13;
        }
        return 0;
}

static void test_clear_inheritable(void **state)
{
        (void)state;
        assert_child_ok(run_in_child(inheritable_child, NULL), "needs root to set up inheritable capabilities");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_verify),
                cmocka_unit_test(test_verify_survives_sigsys),
                cmocka_unit_test(test_clear_inheritable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
