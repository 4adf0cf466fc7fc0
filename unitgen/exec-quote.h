/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "macro.h"

/* Quoting for systemd's Exec*= lines, so that the process gets exactly the given argv: "%" becomes
 * "%%" (specifiers), "$" becomes "$$" (variable expansion), and a word with anything but plain
 * characters is put in double quotes with C escapes (\", \\, \n, \t, \xNN). systemd unquotes and
 * unescapes before running, so no shell ever sees the words.
 *
 * The converter marks the places where it wants a specifier with control characters that YAML
 * input cannot carry (yaml-node.c rejects them): */
#define SPECIFIER_HOME "\002"           /* written as %h: the unit user's home */
#define SPECIFIER_INSTANCE "\003"       /* written as %i: the template instance */
#define SPECIFIER_HOME_CHAR '\002'
#define SPECIFIER_INSTANCE_CHAR '\003'

/* Append the quoted form of word to f. Returns 0; a write error shows on f (ferror). */
int exec_quote_word(FILE *f, const char *word);

/* Write "key=" + the words of argv quoted and joined by spaces + "\n". Returns 0 or -EIO. */
int exec_write_line(FILE *f, const char *key, char *const *argv);
