/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "macro.h"
#include "sha1.h"

/* The unit model: a systemd unit file as fleet keeps it, an ordered list of (section, name,
 * value) assignments. Every assignment is kept, in order, duplicates included (as fleet and
 * go-systemd do); an empty value is an ordinary value (systemd's "reset the list" meaning is the
 * consumer's business). The canonical serialization and the hash are fleet's, so a hash we print
 * is the hash fleet printed for the same unit. */

#define UNIT_FILE_SIZE_MAX (1024U * 1024U)

typedef struct UnitOption {
        char *section;
        char *name;
        char *value;
        unsigned line;          /* 1-based line of the assignment in the parsed text; 0 if added */
} UnitOption;

typedef struct UnitFile {
        UnitOption *options;
        size_t n_options;
        size_t n_allocated;
} UnitFile;

/* An empty unit file. Returns NULL on OOM. */
UnitFile *unit_file_new(void);
/* Free the unit file and all its strings. Accepts NULL, returns NULL. */
UnitFile *unit_file_free(UnitFile *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(UnitFile *, unit_file_free);

/* Parse systemd unit-file text (size bytes, need not be NUL-terminated, at most
 * UNIT_FILE_SIZE_MAX) exactly as systemd's unit loader reads it, refusing what systemd would
 * read differently from what we store: lines end at "\n", "\r", "\r\n" or "\n\r"; lines
 * starting with '#' or ';' (after leading whitespace) are comments, also inside a continuation;
 * a line ending in an odd number of backslashes continues on the next (the last backslash
 * becomes a space); a UTF-8 byte order mark starts the first line only; names and values are
 * trimmed of whitespace; "[Section]" headers. Errors (-EBADMSG) for a NUL byte or invalid UTF-8
 * (with line and column), an assignment before any section, a line without '=', an empty name,
 * a name or section name unit_option_name_is_valid() / unit_section_is_valid() refuse
 * (unit-syntax.h), an
 * unterminated or empty section header or trailing garbage after it; -EFBIG if too large;
 * -ENOMEM. Every assignment of a parsed unit passes unit-syntax.h's three checks, so it serializes
 * to text that reads back the same.
 *
 * On success *ret gets a new UnitFile owned by the caller. On -EBADMSG (and -EFBIG), if
 * error_message is non-NULL it gets a malloc'd explanation "line N: ..." or "line N, column C:
 * ..." the caller frees; otherwise *error_message is left untouched. */
int unit_file_parse(const char *text, size_t size, UnitFile **ret, char **error_message);

/* Append a copy of (section, name, value). Returns 0, -EINVAL if one of them fails its check in
 * unit-syntax.h, or -ENOMEM (u unchanged then). */
int unit_file_add(UnitFile *u, const char *section, const char *name, const char *value);

/* Deep copy. Returns 0 or -ENOMEM. */
int unit_file_copy(const UnitFile *u, UnitFile **ret);

/* The last value assigned to section.name, or NULL. Borrowed from u. */
const char *unit_file_get_last(const UnitFile *u, const char *section, const char *name);
/* Every value assigned to section.name, in order, as a new strv (an empty, non-NULL vector if
 * there is none). Returns 0 or -ENOMEM. */
int unit_file_get_all(const UnitFile *u, const char *section, const char *name, char ***ret);
/* Whether the unit has at least one assignment in section. */
bool unit_file_has_section(const UnitFile *u, const char *section);

/* The canonical text, fleet's shape: for each section in first-seen order "[Section]\n" then its
 * assignments "Name=Value\n" in order, sections separated by one empty line; an empty unit
 * serializes to "". *ret is malloc'd, NUL-terminated; *ret_size (optional) excludes the NUL.
 * Returns 0 or -ENOMEM. */
int unit_file_serialize(const UnitFile *u, char **ret, size_t *ret_size);

/* The unit hash: SHA1 of the canonical serialization. Returns 0 or -ENOMEM. */
int unit_file_hash(const UnitFile *u, uint8_t ret_digest[static SHA1_DIGEST_SIZE]);
/* The same as 40 lowercase hex characters (fleetctl shows the first 7). Returns 0 or -ENOMEM. */
int unit_file_hash_hex(const UnitFile *u, char ret[static SHA1_HEX_SIZE]);

/* Same assignments in the same order. */
bool unit_file_equal(const UnitFile *a, const UnitFile *b);
