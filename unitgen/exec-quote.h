/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdio.h>

#include "macro.h"

/* Quoting for systemd's Exec*= lines, so that the process gets exactly the given argv: "%" becomes
 * "%%" (specifiers), "$" becomes "$$" (variable expansion), and a word with anything but plain
 * characters is put in double quotes with C escapes (\", \\, \n, \t, \xNN). systemd unquotes and
 * unescapes before running, so no shell ever sees the words.
 *
 * Where the converter wants one of systemd's specifiers, it says so beside the text, never inside
 * it: a word is literal text plus at most one specifier at a byte offset. Whatever bytes the text
 * holds are written as themselves, so no value can turn into a specifier. */
typedef enum ExecSpecifier {
        EXEC_SPECIFIER_NONE = 0,
        EXEC_SPECIFIER_HOME = 'h',      /* %h: the unit user's home */
        EXEC_SPECIFIER_INSTANCE = 'i',  /* %i: the template instance */
        EXEC_SPECIFIER_UNIT = 'n',      /* %n: the unit's full name (an instance's own) */
} ExecSpecifier;

typedef struct ExecWord {
        char *text;                     /* literal, owned */
        size_t at;                      /* where the specifier stands in text, <= strlen(text) */
        ExecSpecifier specifier;        /* EXEC_SPECIFIER_NONE: the word is text alone */
} ExecWord;

/* A command line (or any list of words), in order. Zero-initialised is empty. */
typedef struct ExecArgv {
        ExecWord *words;
        size_t n, allocated;
} ExecArgv;

/* Whether the n bytes of s hold a byte below "\t": never text. Every string that reaches a unit
 * from outside is checked with it, for clear errors: YAML scalars (yaml-node.c), variables
 * interpolated from the environment or .env (interpolate.c), env_file lines and variables passed
 * from the shell (compose-convert-run.c), and the project's directory (compose-load.c). The
 * quoter does not depend on it: it escapes every byte it is given. */
static inline bool text_has_control(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < '\t')
                        return true;
        return false;
}

/* Free w's text and reset it. */
void exec_word_done(ExecWord *w);

/* *ret = before + specifier + after (either string may be NULL: empty). Returns 0 or -ENOMEM;
 * *ret is owned by the caller (exec_word_done()). */
int exec_word_make(ExecWord *ret, const char *before, ExecSpecifier specifier, const char *after);

/* *ret = before + w + after, w's specifier kept at its place. Returns 0 or -ENOMEM. */
int exec_word_wrap(ExecWord *ret, const char *before, const ExecWord *w, const char *after);

/* Whether a and b are the same word: same text, same specifier at the same place. */
bool exec_word_equal(const ExecWord *a, const ExecWord *b) _pure_;

/* The word as a unit setting's value that systemd expands specifiers in (not an Exec line: no
 * quotes): "%" doubled, the specifier as "%X", every other byte as it is. For values already
 * checked to be plain names (container names). *ret is owned by the caller. Returns 0 or -ENOMEM. */
int exec_word_to_setting(const ExecWord *w, char **ret);

/* Free every word and reset a. */
void exec_argv_done(ExecArgv *a);

/* Append a literal word, each word of a strv, a copy of w, a copy of every word of b. Return 0 or
 * -ENOMEM (a keeps what it had). */
int exec_argv_add(ExecArgv *a, const char *text);
int exec_argv_add_strv(ExecArgv *a, char *const *l);
int exec_argv_add_word(ExecArgv *a, const ExecWord *w);
int exec_argv_add_argv(ExecArgv *a, const ExecArgv *b);

/* Whether a holds a word equal to w. */
bool exec_argv_contains(const ExecArgv *a, const ExecWord *w) _pure_;

/* Append the quoted form of w to f. A write error shows on f (ferror). */
void exec_quote_word(FILE *f, const ExecWord *w);

/* Write "key=" + prefix (e.g. "-": failure ignored; NULL: none) + the words of argv quoted and
 * joined by spaces + "\n". Returns 0 or -EIO. exec_write_strv: the same for literal words. */
int exec_write_line(FILE *f, const char *key, const char *prefix, const ExecArgv *argv);
int exec_write_strv(FILE *f, const char *key, const char *prefix, char *const *argv);
