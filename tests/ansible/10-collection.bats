#!/usr/bin/env bats
# The collection pyshare.pyshare as Debian's ansible-core sees it: documentation that matches
# the argument specs, rendered by ansible-doc, and Ansible's own messages for an unknown option
# or a value outside the choices (the module never runs pyshare then).
# bats sets $output and $status in each test.
# shellcheck disable=SC2154
bats_require_minimum_version 1.5.0
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MODULES=("$REPO/ansible/plugins/modules/app.py" "$REPO/ansible/plugins/modules/app_info.py")

setup() {
        COLL=$BATS_TEST_TMPDIR/collections
        mkdir -p "$COLL/ansible_collections/pyshare"
        ln -s "$REPO/ansible" "$COLL/ansible_collections/pyshare/pyshare"
        export ANSIBLE_COLLECTIONS_PATH=$COLL ANSIBLE_LOCAL_TEMP=$BATS_TEST_TMPDIR/tmp
        export ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
}

# play TASK_YAML: a play on localhost (connection local) with one task.
play() {
        cat >"$BATS_TEST_TMPDIR/play.yml" <<YAML
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
$1
YAML
        run ansible-playbook -i localhost, "$BATS_TEST_TMPDIR/play.yml"
}

@test "each module's documented options are its argument spec (names, types, elements, choices, defaults)" {
        run env PYTHONPATH="$COLL" /usr/bin/python3 "$BATS_TEST_DIRNAME/spec_vs_doc.py" "${MODULES[@]}"
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
}

@test "the check catches a difference: an option left out of the documentation" {
        sed 's/^    probe=dict(type="bool", default=True),$/&\n    extra=dict(type="int"),/' \
                "$REPO/ansible/plugins/modules/app.py" >"$BATS_TEST_TMPDIR/app.py"
        run env PYTHONPATH="$COLL" /usr/bin/python3 "$BATS_TEST_DIRNAME/spec_vs_doc.py" "$BATS_TEST_TMPDIR/app.py"
        [ "$status" -eq 1 ]
        [[ "$output" == *"option extra is undocumented"* ]]
}

@test "ansible-doc renders both modules with every option" {
        run ansible-doc pyshare.pyshare.app
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        for o in name state purge python group service user modules prefix cgi watch wsgi_script url restart probe rebuild upgrade find_links index_url; do
                grep -qE "^[=-] $o$|^[=-] $o " <<<"$output" || { echo "ansible-doc does not show $o" >&2; return 1; }
        done
        grep -qF "Runs \`pyshare --json setup' (or \`remove' with \`state=absent')" <<<"$output"
        run ansible-doc pyshare.pyshare.app_info
        [ "$status" -eq 0 ]
        grep -qF "Runs \`pyshare --json status' on the managed host" <<<"$output"
        run ansible-doc -l pyshare.pyshare
        [ "$status" -eq 0 ]
        grep -q "^pyshare.pyshare.app  *Make a shared Python virtualenv importable" <<<"$output"
        grep -q "^pyshare.pyshare.app_info  *The status of one or every pyshare app, as facts" <<<"$output"
}

@test "an unknown option fails the task with Ansible's own message" {
        play '    - pyshare.pyshare.app: {name: shop, modulez: [flask]}'
        [ "$status" -eq 2 ]
        [[ "$output" == *"Unsupported parameters for (pyshare.pyshare.app) module: modulez. Supported parameters include:"* ]]
}

@test "a mistyped value fails the task with Ansible's own message" {
        play '    - pyshare.pyshare.app: {name: shop, state: presnt}'
        [ "$status" -eq 2 ]
        [[ "$output" == *"value of state must be one of: present, absent, got: presnt"* ]]
        play '    - pyshare.pyshare.app: {name: shop, cgi: maybe}'
        [ "$status" -eq 2 ]
        [[ "$output" == *"argument 'cgi' is of type <class 'str'> and we were unable to convert to bool"* ]]
        play '    - pyshare.pyshare.app_info: {nme: shop}'
        [ "$status" -eq 2 ]
        [[ "$output" == *"Unsupported parameters for (pyshare.pyshare.app_info) module: nme"* ]]
}

# stub JSON RC: a pyshare first on PATH that records its arguments (one per line) in
# $BATS_TEST_TMPDIR/args and prints JSON with exit status RC.
stub() {
        mkdir -p "$BATS_TEST_TMPDIR/bin"
        printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/out.json"
        cat >"$BATS_TEST_TMPDIR/bin/pyshare" <<SH
#!/bin/sh
printf '%s\n' "\$@" >"$BATS_TEST_TMPDIR/args"
cat "$BATS_TEST_TMPDIR/out.json"
exit $2
SH
        chmod +x "$BATS_TEST_TMPDIR/bin/pyshare"
        export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

@test "check mode and diff mode: pyshare --json --dry-run --diff setup with every option; changed and the files as pyshare says" {
        stub '{"app":"shop","dry_run":true,"changed":true,"venv":"/opt/pyshare/shop","service":"apache2.service","files_changed":["/etc/pyshare/shop.conf"],"files_unchanged":[],"permissions":{"entries":0,"changed":0},"reload":"would-reload","restart":"not-requested","group_created":true,"venv_action":"created","diff":[{"path":"/etc/pyshare/shop.conf","before":null,"after":"[App]\n","symlink":false}]}' 0
        play '    - pyshare.pyshare.app: {name: shop, modules: [flask, numpy], group: web, cgi: false, watch: true, prefix: /srv/py, probe: false}
      check_mode: true
      diff: true
      register: r
    - ansible.builtin.assert:
        that:
          - r.changed
          - r.files_changed == ["/etc/pyshare/shop.conf"]
          - r.diff[0].after_header == "/etc/pyshare/shop.conf" and r.diff[0].before_header == "/dev/null"
          - "\"virtualenv /opt/pyshare/shop: created\" in r.diff[1].after"'
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(cat "$BATS_TEST_TMPDIR/args")" = "$(printf '%s\n' --json --dry-run --diff setup shop --group=web \
                --prefix=/srv/py --module=flask --module=numpy --no-cgi --watch --no-probe)" ]
}

@test "not changed when pyshare says so; state: absent runs remove --purge" {
        stub '{"app":"shop","dry_run":false,"changed":false,"files_removed":[],"purged":false,"reload":"not-needed"}' 0
        play '    - pyshare.pyshare.app: {name: shop, state: absent, purge: true}
      register: r
    - ansible.builtin.assert:
        that: [not r.changed, "r.files_changed == []"]'
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(cat "$BATS_TEST_TMPDIR/args")" = "$(printf '%s\n' --json remove shop --purge)" ]
}

@test "pyshare's error fails the task with its message and cause; a probe failure with the module's error" {
        stub '{"command":"setup","app":"shop","error":{"message":"service nosuch.service does not exist: install it first, or name another with --service=UNIT","cause":"not-found","errno":null,"exit_status":69}}' 69
        play '    - pyshare.pyshare.app: {name: shop, service: nosuch}'
        [ "$status" -eq 2 ]
        [[ "$output" == *'"msg": "service nosuch.service does not exist: install it first, or name another with --service=UNIT"'* ]]
        [[ "$output" == *'"cause": "not-found"'* ]]
        stub '{"app":"shop","changed":false,"probe":{"app":"shop","ok":false,"failure":null,"problems":[],"modules":[{"name":"flask","ok":false,"version":null,"file":null,"error":"ModuleNotFoundError: No module named '"'"'flask'"'"'"}]},"error":{"message":"a problem was found","cause":"problem","errno":null,"exit_status":1}}' 1
        play '    - pyshare.pyshare.app: {name: shop}'
        [ "$status" -eq 2 ]
        [[ "$output" == *"the probe of shop failed: flask: ModuleNotFoundError: No module named 'flask'"* ]]
}

@test "app_info: the apps as facts by name, problems reported but not failed" {
        stub '{"apps":[{"app":"shop","ok":false,"venv":"/opt/pyshare/shop","problems":["x"]}],"ok":false,"changed":false,"error":{"message":"a problem was found","cause":"problem","errno":null,"exit_status":1}}' 1
        play '    - pyshare.pyshare.app_info:
    - ansible.builtin.assert:
        that: [ansible_facts.pyshare_apps.shop.venv == "/opt/pyshare/shop", not ansible_facts.pyshare_apps.shop.ok]'
        [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
        [ "$(cat "$BATS_TEST_TMPDIR/args")" = "$(printf '%s\n' --json status)" ]
}
