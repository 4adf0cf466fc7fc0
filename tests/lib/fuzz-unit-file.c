/* SPDX-License-Identifier: Apache-2.0 */

/* Fuzz target of the unit model: unit_file_parse(), the serializer and [X-Fleet]. Beyond "no crash,
 * no leak" it checks the properties fleet relies on:
 *  - what parses serializes to text that reads back, as systemd reads it, line by line
 *    (unit_file_check_written), and parses back to as many assignments serializing to the same
 *    text (sections grouped: an interleaved unit is reordered once, then stable);
 *  - every parsed assignment passes unit-syntax.h's checks (no value can start a line);
 *  - [X-Fleet] parsing for several names stays within its bound or fails cleanly.
 * With clang, as "fuzz-unit-file-libfuzzer" (see tests/unitgen/fuzz-compose.c for the build):
 *      build-fuzz/tests/lib/fuzz-unit-file-libfuzzer -max_len=8192 /tmp/corpus-copy
 * Otherwise main() replays tests/lib/fuzz-unit-corpus/ and examples/ in the unit suite. */

#include "strv.h"
#include "unit-file.h"
#include "unit-syntax.h"
#include "xfleet.h"

#ifndef FUZZING_ENGINE
#include "fuzz-replay.h"
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif

static void check_xfleet(const UnitFile *u, const char *name) {
        _cleanup_(xfleet_options_freep) XFleetOptions *x = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL;
        int r;

        r = xfleet_options_parse(u, name, &x, &error);
        assert_se(r == 0 || r == -EINVAL);
        if (r == 0) {
                size_t total = 0;

                STRV_FOREACH(w, x->machine_of)
                        total += strlen(*w);
                STRV_FOREACH(w, x->conflicts)
                        total += strlen(*w);
                assert_se(total <= XFLEET_VALUES_MAX);
                r = xfleet_options_validate(x, name, &error2);
                assert_se(r == 0 || r == -EINVAL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(unit_file_freep) UnitFile *u = NULL, *back = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL, *text2 = NULL;
        size_t n, n2;
        int r;

        r = unit_file_parse((const char *) data, size, &u, &error);
        assert_se(r == 0 || r == -EBADMSG || r == -EFBIG);
        if (r < 0) {
                assert_se(error);
                return 0;
        }

        for (size_t i = 0; i < u->n_options; i++)
                assert_se(unit_section_is_valid(u->options[i].section) &&
                          unit_option_name_is_valid(u->options[i].name) &&
                          unit_option_value_is_valid(u->options[i].value));

        assert_se(unit_file_serialize(u, &text, &n) == 0);
        assert_se(unit_file_check_written(text, n) == 0);
        assert_se(unit_file_parse(text, n, &back, NULL) == 0);
        /* The canonical text groups a section's assignments (fleet's shape), so a unit whose
         * sections interleave comes back reordered: same count, and the same text from then on. */
        assert_se(back->n_options == u->n_options);
        assert_se(unit_file_serialize(back, &text2, &n2) == 0);
        assert_se(n == n2 && memcmp(text, text2, n) == 0);

        check_xfleet(u, "web.service");
        check_xfleet(u, "web@1.service");
        check_xfleet(u, "web@.service");
        return 0;
}

#ifndef FUZZING_ENGINE
int main(int argc, char *argv[]) {
        /* The bytes a unit's structure is made of, and the ones systemd reads differently. */
        return fuzz_replay_main(argc, argv, "[]=#;\\\n\r \t%\"'\xef\xbb\xbf\xff");
}
#endif
