#!/usr/bin/env bats
# Adversarial: .pth files that a member of the deploy group plants (issue 10, findings 6 and 7).
# - A path line is judged with the service user's permissions, never root's: a directory only
#   root (or another user) can reach never enters the world-readable APP.env nor the service's
#   environment; under --root it is looked up in the image, not on the host.
# - Hostile sizes and counts: repair stays linear and capped, says what it left out in one line
#   (not one line per line of input) and frees the lock. Time is bounded with `timeout` as a
#   hang guard only, never asserted as speed.
load helpers
bats_require_minimum_version 1.5.0

APP=pst-adv-pth
AUNIT=pst-adv-pth.service
GUARD_APPS=$APP
GUARD_UNITS=$AUNIT
# Made in setup_file, outside the span the guard watches: root's closed directory, another
# user's, one open to all, one open through the service user's supplementary group, one open
# through an ACL entry for it, and one that only the host has (for --root).
SECRET=/root/pst-adv-secretdir
OTHER=/var/tmp/pst-adv-pth-other
OPEN=/var/tmp/pst-adv-pth-open
GRP=/var/tmp/pst-adv-pth-grp
ACLDIR=/var/tmp/pst-adv-pth-acl
HOSTONLY=/var/tmp/pst-adv-pth-hostonly

setup_file() {
        adv_fixtures
        adv_cleanup "$APP"
        adv_unit "$AUNIT"
        adv_setup "$APP" "$AUNIT" --no-probe -q
        rm -rf "$SECRET" "$OTHER" "$OPEN" "$GRP" "$ACLDIR" "$HOSTONLY"
        mkdir -m 0700 "$SECRET" && mkdir -m 0755 "$SECRET/lib"
        mkdir -m 0700 "$OTHER" && mkdir -m 0755 "$OTHER/lib" && chown -R "$DEPLOYER" "$OTHER"
        mkdir -m 0755 "$OPEN" "$HOSTONLY"
        mkdir -m 0750 "$GRP" && chgrp "$ADV_EXTRA_GROUP" "$GRP"
        mkdir -m 0700 "$ACLDIR" && setfacl -m "u:$ADV_SVC:r-x" "$ACLDIR"
}

teardown_file() {
        adv_cleanup "$APP"
        adv_unit_remove "$AUNIT"
        rm -rf "$SECRET" "$OTHER" "$OPEN" "$GRP" "$ACLDIR" "$HOSTONLY"
        if [ -n "${IMG:-}" ] && mountpoint -q "$IMG/usr"; then umount "$IMG/usr"; fi
        [ -z "${IMG:-}" ] || rm -rf "$IMG"
}

setup() {
        guard_begin
        SITE=$(site_of "$APP")
}

teardown() {
        rm -rf "$SITE"/pst_adv_*.pth "$SITE/pst_adv_d" "$SITE/pd" "$SITE/pst_adv_link"
        guard_check
}

# repair_bounded: pyshare repair with a generous hang bound ($REPAIR_BOUND seconds); the lock
# must be free after it.
REPAIR_BOUND=${REPAIR_BOUND:-300}
repair_bounded() {
        run timeout "$REPAIR_BOUND" "$PYSHARE" repair "$APP"
        [ "$status" -ne 124 ] || { echo "pyshare repair did not finish within $REPAIR_BOUND s" >&2; return 1; }
        assert_no_crash
        assert_status 0
        flock -n /run/pyshare.lock true || { echo "/run/pyshare.lock is still held after pyshare returned" >&2; return 1; }
}

pythonpath_of() { sed -n 's/^PYTHONPATH="\(.*\)"$/\1/p' "$1"; }

# in_path PATHLIST DIR: whether DIR is one entry of the colon-separated list.
in_path() { [[ ":$1:" == *":$2:"* ]]; }

# The count of lines of $output that say what was left out of PYTHONPATH.
left_out_lines() { grep -c "left out of PYTHONPATH" <<<"$output" || true; }

@test "finding 7: a .pth naming root's or another user's closed directory stays out of APP.env and the service's environment; reachable ones go in" {
        printf '%s\n' "$SECRET/lib" "$SECRET" "$OTHER/lib" "$OPEN" "$GRP" "$ACLDIR" |
                as_deployer sh -c "cat > $SITE/pst_adv_leak.pth"
        repair_bounded
        assert_output_has "left out of PYTHONPATH: 3 path lines not reachable by $ADV_SVC (first: pst_adv_leak.pth: $SECRET/lib)"
        [ "$(left_out_lines)" = 1 ]
        local app_env svc_env p
        app_env=$(pythonpath_of "/etc/pyshare/$APP.env")
        svc_env=$(pythonpath_of "/etc/pyshare/services/$AUNIT.env")
        [ -n "$app_env" ] && [ -n "$svc_env" ]
        for p in "$app_env" "$svc_env"; do
                [[ "$p" != *"$SECRET"* ]] || { echo "root's directory reached PYTHONPATH: $p" >&2; return 1; }
                [[ "$p" != *"$OTHER"* ]] || { echo "another user's closed directory reached PYTHONPATH: $p" >&2; return 1; }
                # open to others; through the supplementary group; through an ACL entry
                in_path "$p" "$OPEN" && in_path "$p" "$GRP" && in_path "$p" "$ACLDIR" ||
                        { echo "a directory $ADV_SVC can reach is missing from PYTHONPATH: $p" >&2; return 1; }
        done
        # The world can read APP.env: nothing root alone sees may be in it.
        run grep -c "pst-adv-secretdir" "/etc/pyshare/$APP.env"
        [ "$output" = 0 ]
        # Opened for the service user, the directory goes in at the next repair.
        chmod 0755 "$OTHER"
        repair_bounded
        in_path "$(pythonpath_of "/etc/pyshare/$APP.env")" "$OTHER/lib"
        chmod 0700 "$OTHER"
        # A symlink that the deployer plants in site-packages is followed as the service user
        # would follow it: to root's directory, not reachable.
        rm -f "$SITE/pst_adv_leak.pth"
        as_deployer ln -s "$SECRET/lib" "$SITE/pst_adv_link"
        as_deployer sh -c "echo pst_adv_link > $SITE/pst_adv_leak.pth"
        repair_bounded
        rm -f "$SITE/pst_adv_link"
        assert_output_has "left out of PYTHONPATH: 1 path line not reachable by $ADV_SVC (first: pst_adv_leak.pth: pst_adv_link)"
        [[ "$(pythonpath_of "/etc/pyshare/$APP.env")" != *pst_adv_link* ]]
}

@test "finding 6: two 1 MiB hostile .pth files: repair finishes with one summary line instead of a million, and the lock is free" {
        as_deployer sh -c "yes : | head -c 1048576 > $SITE/pst_adv_big1.pth && cp $SITE/pst_adv_big1.pth $SITE/pst_adv_big2.pth"
        # and one under the caps whose 1000 lines are all refused: counted, not listed
        as_deployer sh -c "yes : | head -n 1000 > $SITE/pst_adv_small.pth"
        [ "$(stat -c %s "$SITE/pst_adv_big1.pth")" = 1048576 ]
        repair_bounded
        [ "$(left_out_lines)" = 1 ]
        assert_output_has "left out of PYTHONPATH: 2 .pth files over 64 KiB or 1024 lines (first: pst_adv_big1.pth); 1000 path lines with characters that cannot go into PYTHONPATH (or over 1024 long) (first: pst_adv_small.pth: :)"
        [ "$(wc -l <<<"$output")" -lt 40 ]
        [ "$(pythonpath_of "/etc/pyshare/$APP.env")" = "$SITE" ]
}

@test "finding 6: more .pth files than the cap: the first 256 by name are read, the others left out in one line" {
        local i p others keep
        # the venv's own .pth files (setuptools' distutils-precedence.pth) sort before ours
        others=$(find "$SITE" -maxdepth 1 -name '*.pth' ! -name '.*' | wc -l)
        keep=$((256 - others))
        as_deployer sh -c "mkdir $SITE/pd && for i in \$(seq -w 0 299); do mkdir $SITE/pd/\$i && echo pd/\$i > $SITE/pst_adv_cap_0\$i.pth; done"
        repair_bounded
        assert_output_has "left out of PYTHONPATH: $((300 - keep)) .pth files beyond the first 256 (first: pst_adv_cap_$(printf %04d "$keep").pth)"
        [ "$(left_out_lines)" = 1 ]
        p=$(pythonpath_of "/etc/pyshare/$APP.env")
        for i in 0 1 $((keep - 1)); do
                in_path "$p" "$SITE/pd/$(printf %03d "$i")" || { echo "pd/$i is missing from PYTHONPATH" >&2; return 1; }
        done
        for i in $keep 299; do
                if in_path "$p" "$SITE/pd/$(printf %03d "$i")"; then echo "pd/$i is in PYTHONPATH" >&2; return 1; fi
        done
        [ "$(tr ':' '\n' <<<"$p" | grep -c pd/)" = "$keep" ]
}

@test "finding 7: under --root a .pth line is looked up in the image: a directory only the host has stays out, one only the image has goes in" {
        make_image
        mkdir -m 0755 -p "$IMG/srv/imgonly"
        run "$PYSHARE" --root="$IMG" setup img --service=imgweb --group=imgdeploy --no-probe
        assert_status 0
        local isite
        isite=$(cd "$IMG" && echo opt/pyshare/img/lib/python3.*/site-packages)
        [ -d "$IMG/$isite" ]
        # an absolute symlink in the image names the host directory: resolved in the image too
        ln -s "$HOSTONLY" "$IMG/srv/tohost"
        printf '%s\n' "$HOSTONLY" /srv/imgonly /srv/tohost >"$IMG/$isite/pst_adv_img.pth"
        run timeout 300 "$PYSHARE" --root="$IMG" repair img
        assert_status 0
        local p
        p=$(pythonpath_of "$IMG/etc/pyshare/img.env")
        in_path "$p" /srv/imgonly || { echo "the image's own directory is missing: $p" >&2; return 1; }
        [[ "$p" != *"$HOSTONLY"* ]] || { echo "a directory of the host reached the image's PYTHONPATH: $p" >&2; return 1; }
        [[ "$p" != */srv/tohost* ]]
        drop_image
        IMG=
}
