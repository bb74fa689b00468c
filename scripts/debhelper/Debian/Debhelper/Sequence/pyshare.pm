#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0-or-later
# dh sequence add-on: `Build-Depends: dh-sequence-pyshare` or `dh $@ --with pyshare` runs
# dh_pyshare, which puts pyshare-app-hook into the maintainer scripts of every package that
# ships /usr/lib/pyshare/APP.conf. It must run after dh_install and before dh_installdeb, which
# turns the snippets into the scripts.

use strict;
use warnings;
use Debian::Debhelper::Dh_Lib;

insert_before('dh_installdeb', 'dh_pyshare');

1;
