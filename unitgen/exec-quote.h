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
#define SPECIFIER_UNIT "\004"           /* written as %n: the unit's full name (an instance's own) */
#define SPECIFIER_UNIT_CHAR '\004'

/* Whether the n bytes of s hold a byte below "\t": never text, and two are the markers above. Every
 * string that reaches a unit from outside is checked with it: YAML scalars (yaml-node.c), variables
 * interpolated from the environment or .env (interpolate.c), env_file lines and variables passed
 * from the shell (compose-convert-run.c), and the project's directory, against which relative paths
 * are made absolute (compose-load.c); test-compose-load shows a directory with a marker byte refused. */
static inline bool text_has_control(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < '\t')
                        return true;
        return false;
}

/* Append the quoted form of word to f. Returns 0; a write error shows on f (ferror). */
int exec_quote_word(FILE *f, const char *word);

/* Write "key=" + the words of argv quoted and joined by spaces + "\n". Returns 0 or -EIO. */
int exec_write_line(FILE *f, const char *key, char *const *argv);
