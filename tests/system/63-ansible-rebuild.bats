#!/usr/bin/env bats
# The Ansible module pyshare.pyshare.app after a Python upgrade (issues 14 and 16): with
# rebuild: true it rebuilds a venv whose Python is not the service's before the setup (in check
# mode it plans the rebuild and changes nothing), leaves a matching venv alone, and without
# rebuild fails with pyshare's own message and cause. Real ansible-playbook (Debian's
# ansible-core), connection local, on the host as root, with the pyshare under test on PATH.
# bats sets $output and $status in each test.
# shellcheck disable=SC2154
load helpers
load lib/rebuild

APP=pst-ansrebuild
RUNIT=pst-ansrebuild.service
RWHEELS=/var/tmp/pyshare-tests/ansrebuild-wheels

setup_file() {
        require_cmd ansible-playbook
        rebuild_setup_file
}

teardown_file() { rebuild_teardown_file; }

setup() {
        rebuild_setup
        COLL=$BATS_TEST_TMPDIR/collections
        mkdir -p "$COLL/ansible_collections/pyshare" "$BATS_TEST_TMPDIR/bin"
        ln -s "$REPO/ansible" "$COLL/ansible_collections/pyshare/pyshare"
        # The module finds pyshare on PATH: the binary under test, not an installed one.
        ln -s "$PYSHARE" "$BATS_TEST_TMPDIR/bin/pyshare"
        export ANSIBLE_COLLECTIONS_PATH=$COLL ANSIBLE_LOCAL_TEMP=$BATS_TEST_TMPDIR/tmp
        export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
}

# play [ARGS...]: the app task with the options in $TASK; its result (registered, written out by
# a second task that also runs in check mode) in $result, and $status is 2 when the task failed.
play() {
        rm -f "$BATS_TEST_TMPDIR/result.json"
        cat >"$BATS_TEST_TMPDIR/play.yml" <<YAML
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - pyshare.pyshare.app: {name: $APP, service: $RUNIT, group: $DEPLOY_GROUP, probe: false, $TASK}
      register: r
      ignore_errors: true
    - ansible.builtin.copy: {content: "{{ r | to_json }}", dest: "$BATS_TEST_TMPDIR/result.json"}
      check_mode: false
    - ansible.builtin.fail: {msg: the task failed}
      when: r is failed
YAML
        run env PATH="$BATS_TEST_TMPDIR/bin:$PATH" ansible-playbook -i localhost, "$@" "$BATS_TEST_TMPDIR/play.yml"
        result=$(jq -c . "$BATS_TEST_TMPDIR/result.json") || { echo "$output" >&2; return 1; }
}

@test "ansible app with rebuild: true, check mode: the rebuild is planned (changed), nothing changes" {
        old_venv
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        TASK="rebuild: true, find_links: $RWHEELS"
        play --check
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(jq -c '[.changed, .rebuilt, .rebuild.old_python_version, .rebuild.python_version, [.rebuild.requirements[].requirement]]' <<<"$result")" = \
                "[true,true,\"3.9\",\"$PYVER\",[\"pstest_cext==2.0\",\"pstest_cli==1.0\",\"pstest_pure==1.0\"]]" ]
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "ansible app with rebuild: true rebuilds the venv, then sets it up; the next run changes nothing" {
        old_venv
        TASK="rebuild: true, find_links: $RWHEELS"
        play
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(jq -c '[.changed, .rebuilt, .rebuild.python_version, .venv]' <<<"$result")" = \
                "[true,true,\"$PYVER\",\"/opt/pyshare/$APP\"]" ]
        grep -qx "version = $PYVER.*" "/opt/pyshare/$APP/pyvenv.cfg"
        run "$PYSHARE" status "$APP"
        assert_status 0
        run runuser -u "$SVC_USER" -- "/opt/pyshare/$APP/bin/pstest-cli"
        [ "$output" = "pstest-cli ok" ]
        # The venv matches now: no rebuild, nothing changed.
        play
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(jq -c '[.changed, .rebuilt, has("rebuild")]' <<<"$result")" = "[false,false,false]" ]
}

@test "ansible app without rebuild on a venv of another Python fails with pyshare's message and cause, changing nothing" {
        old_venv
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        TASK="restart: false"
        play
        [ "$status" -eq 2 ]
        [ "$(jq -r '.msg' <<<"$result")" = "$(MISMATCH_TEXT); setup does not wire a virtualenv that the service's Python cannot import" ]
        [ "$(jq -r '.cause' <<<"$result")" = python-mismatch ]
        # The cause is pyshare's own, in its JSON error object.
        st=0
        json=$("$PYSHARE" --json setup "$APP" --service="$RUNIT" --group="$DEPLOY_GROUP" --no-probe 2>/dev/null) || st=$?
        [ "$st" -eq 65 ]
        [ "$(jq -c '.error | [.cause, .exit_status]' <<<"$json")" = '["python-mismatch",65]' ]
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "ansible app: a rebuild whose requirements cannot be met fails the task, and the old venv stays" {
        old_venv
        rm -f "$RWHEELS"/pstest_cli-*.whl
        before=$(snapshot "/opt/pyshare/$APP" /etc/pyshare)
        TASK="rebuild: true, find_links: $RWHEELS"
        play
        rebuild_wheels
        [ "$status" -eq 2 ]
        [[ "$(jq -r '.msg' <<<"$result")" == *pstest_cli* ]]
        [ "$(jq -r '.rebuilt' <<<"$result")" = false ]
        [ "$before" = "$(snapshot "/opt/pyshare/$APP" /etc/pyshare)" ]
}

@test "ansible app: the rebuild's options without rebuild: true fail the task, naming them" {
        TASK="find_links: $RWHEELS"
        play
        [ "$status" -eq 2 ]
        [ "$(jq -r '.msg' <<<"$result")" = "upgrade, find_links and index_url are options of the rebuild: give rebuild: true too" ]
        [ ! -e "/etc/pyshare/$APP.conf" ]
}
