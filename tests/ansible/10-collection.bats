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
        for o in name state purge python group service user modules prefix cgi watch wsgi_script url restart probe; do
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
