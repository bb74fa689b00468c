#!/usr/bin/env bats
# Adversarial: PYTHONPATH values that do not fit an EnvironmentFile value (32 KiB), from .pth
# files that members of the deploy groups plant (issue 10, finding 6's caps, seen from the
# service). Each app's .pth part is capped at 16 KiB, but apps that share a service add up:
# three apps with 14 KiB each. The repair of the one that tips it over fails with one error
# that names the service, the size, the apps and the fix, and writes nothing: not its APP.env
# (which the service would then lose silently), not the service's EnvironmentFile.
load helpers
bats_require_minimum_version 1.5.0

APPS=(pst-adv-envsize-a pst-adv-envsize-b pst-adv-envsize-c)
AUNIT=pst-adv-envsize.service
NDIRS=90 # of 100-character names: about 14.6 KiB of PYTHONPATH per app

setup_file() {
        adv_fixtures
        adv_cleanup "${APPS[@]}"
        adv_unit "$AUNIT"
        local app
        for app in "${APPS[@]}"; do
                adv_setup "$app" "$AUNIT" --no-probe -q
        done
}

teardown_file() {
        adv_cleanup "${APPS[@]}"
        rm -f "/etc/systemd/system/$AUNIT" "/etc/pyshare/services/$AUNIT.env"
        rm -rf "/etc/systemd/system/$AUNIT.d"
}

teardown() {
        local app
        for app in "${APPS[@]}"; do
                rm -rf "$(site_of "$app")/pst_adv_big.pth" "$(site_of "$app")/pd"
        done
}

pythonpath_of() { sed -n 's/^PYTHONPATH="\(.*\)"$/\1/p' "$1"; }

# big_pth APP: NDIRS directories of 100-character names in its site-packages, and a .pth file
# naming them all, made by the deployer.
big_pth() {
        local site name
        site=$(site_of "$1")
        name=$(printf 'x%.0s' {1..96})
        as_deployer sh -c "mkdir $site/pd && for i in \$(seq -w 1 $NDIRS); do mkdir $site/pd/${name}_\$i &&
                echo pd/${name}_\$i >> $site/pst_adv_big.pth; done"
}

# The PYTHONPATH the app would give: its site-packages, then the directories of big_pth.
app_pythonpath() {
        local site name i p
        site=$(site_of "$1")
        name=$(printf 'x%.0s' {1..96})
        p=$site
        for i in $(seq -w 1 "$NDIRS"); do
                p="$p:$site/pd/${name}_$i"
        done
        printf '%s' "$p"
}

@test "finding 6: apps whose PYTHONPATHs add up to more than a service's EnvironmentFile value holds: repair refuses with one error and writes nothing" {
        local a=${APPS[0]} b=${APPS[1]} c=${APPS[2]} before after pp want
        big_pth "$a"
        big_pth "$b"
        run "$PYSHARE" repair "$a" -q
        assert_status 0
        run "$PYSHARE" repair "$b" -q
        assert_status 0
        # two fit: the service has both
        pp=$(pythonpath_of "/etc/pyshare/services/$AUNIT.env")
        [ "$pp" = "$(app_pythonpath "$a"):$(app_pythonpath "$b"):$(site_of "$c")" ]

        big_pth "$c"
        before=$(snapshot /etc/pyshare /etc/systemd/system/"$AUNIT".d)
        run "$PYSHARE" repair "$c"
        assert_no_crash
        assert_status 65
        want="$(app_pythonpath "$a"):$(app_pythonpath "$b"):$(app_pythonpath "$c")"
        assert_output_has "pyshare: error: the PYTHONPATH of $AUNIT would be ${#want} bytes with $c's, more than the 32768 that an EnvironmentFile value may hold (its apps: $a, $b, $c): nothing was changed; remove directory lines from the .pth files in /opt/pyshare/$c or the other apps' venvs, or give $c a service of its own (--service=)"
        [ "$(grep -c 'error:' <<<"$output")" = 1 ]
        after=$(snapshot /etc/pyshare /etc/systemd/system/"$AUNIT".d)
        [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") | head -n 20 >&2; return 1; }
        # the service keeps all three apps, c with what it had before
        [ "$(pythonpath_of "/etc/pyshare/services/$AUNIT.env")" = "$pp" ]
        [ "$(pythonpath_of "/etc/pyshare/$c.env")" = "$(site_of "$c")" ]

        # the same refusal from setup, before its first write
        run "$PYSHARE" setup "$c" --service="$AUNIT" --group="$DEPLOY_GROUP" --no-probe -q
        assert_status 65
        assert_output_has "pyshare: error: the PYTHONPATH of $AUNIT would be ${#want} bytes with $c's"
        [ "$(snapshot /etc/pyshare /etc/systemd/system/"$AUNIT".d)" = "$before" ]

        # with its .pth file gone, c's repair works again
        rm -rf "$(site_of "$c")/pst_adv_big.pth"
        run "$PYSHARE" repair "$c" -q
        assert_status 0
}
