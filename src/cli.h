/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Layer 5: the command line. */
#pragma once

/* Parses argv and runs the verb; returns the exit status. */
int cli_main(int argc, char **argv);
