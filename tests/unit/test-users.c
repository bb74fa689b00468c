/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Users and groups in an image (--root): looked up in its own /etc/passwd and /etc/group, by
 * name and, for the owner of a file, by id. */
#include "helpers.h"
#include "users.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "imgdaemon:x:1:1::/nonexistent:/usr/sbin/nologin\n"
                             "imgsvc:x:4900:4900::/srv/imgsvc:/usr/sbin/nologin\n";
static const char group[] = "root:x:0:\n"
                            "imgdaemon:x:1:\n"
                            "imgdeploy:x:4901:imgsvc,other\n";

static void image(const struct tmp *t)
{
        write_file(t->fd, "etc/passwd", passwd);
        write_file(t->fd, "etc/group", group);
}

static void test_names_of_ids_in_an_image(void **state)
{
        struct tmp *t = *state;
        image(t);
        _cleanup_free_ char *u1 = user_name_of(t->fd, 1), *u = user_name_of(t->fd, 4900),
                            *unknown = user_name_of(t->fd, 4242), *g1 = group_name_of(t->fd, 1),
                            *g = group_name_of(t->fd, 4901), *gunknown = group_name_of(t->fd, 4242);
        /* uid 1 is daemon on most hosts: the image's own name is the one meant. */
        assert_string_equal(u1, "imgdaemon");
        assert_string_equal(u, "imgsvc");
        assert_string_equal(unknown, "4242");
        assert_string_equal(g1, "imgdaemon");
        assert_string_equal(g, "imgdeploy");
        assert_string_equal(gunknown, "4242");
}

static void test_names_of_ids_on_the_host(void **state)
{
        (void)state;
        _cleanup_free_ char *root = user_name_of(-1, 0), *groot = group_name_of(-1, 0),
                            *none = user_name_of(-1, 4294967000u);
        assert_string_equal(root, "root");
        assert_string_equal(groot, "root");
        assert_string_equal(none, "4294967000");
}

static void test_lookup_in_an_image(void **state)
{
        struct tmp *t = *state;
        image(t);
        struct ps_user u = {0};
        assert_int_equal(user_lookup(t->fd, "imgsvc", &u), 0);
        assert_int_equal(u.uid, 4900);
        assert_string_equal(u.home, "/srv/imgsvc");
        ps_user_free(&u);
        assert_int_equal(user_lookup(t->fd, "imgsv", &u), -PS_E_NOTFOUND);
        gid_t gid;
        _cleanup_strv_ char **members = NULL;
        assert_int_equal(group_lookup(t->fd, "imgdeploy", &gid, &members), 0);
        assert_int_equal(gid, 4901);
        assert_strv_equal(members, "imgsvc", "other");
        assert_int_equal(group_lookup(t->fd, "4901", &gid, NULL), -PS_E_NOTFOUND);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                tmp_test(test_names_of_ids_in_an_image),
                cmocka_unit_test(test_names_of_ids_on_the_host),
                tmp_test(test_lookup_in_an_image),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
