/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which app a mistyped name meant: `pyshare status myap` suggests myapp. */
#include "helpers.h"
#include "similar.h"

static void test_name_distance(void **state)
{
        (void)state;
        assert_int_equal(name_distance("myapp", "myapp", 3), 0);
        assert_int_equal(name_distance("myap", "myapp", 3), 1);     /* one left out */
        assert_int_equal(name_distance("mypap", "myapp", 3), 1);    /* two swapped */
        assert_int_equal(name_distance("myapx", "myapp", 3), 1);    /* one wrong */
        assert_int_equal(name_distance("", "abc", 3), 3);
        assert_int_equal(name_distance("kitten", "sitting", 3), 3);
        /* Beyond max: max + 1, whatever the real distance. */
        assert_int_equal(name_distance("kitten", "sitting", 2), 3);
        assert_int_equal(name_distance("a", "abcdefgh", 2), 3);
}

static void test_name_nearest(void **state)
{
        (void)state;
        char *apps[] = {"demo", "myapp", "other", NULL};
        assert_string_equal(name_nearest("myap", apps), "myapp");
        assert_string_equal(name_nearest("deom", apps), "demo");
        assert_string_equal(name_nearest("othr", apps), "other");
        /* Too far from every name, or the name itself: no suggestion. */
        assert_null(name_nearest("web", apps));
        assert_null(name_nearest("myapp", apps));
        assert_null(name_nearest("x", NULL));
        /* Ties go to the first listed. */
        char *two[] = {"ab1", "ab2", NULL};
        assert_string_equal(name_nearest("ab", two), "ab1");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_name_distance),
                cmocka_unit_test(test_name_nearest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
