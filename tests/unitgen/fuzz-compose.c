/* SPDX-License-Identifier: Apache-2.0 */

/* Fuzz target of the whole conversion (YAML → project → model → units, both runtimes).
 *
 * Built two ways:
 *  - always, as a plain program that replays the files and directories given on its command line
 *    (the corpus and every golden case), plus every truncation of each file at a line boundary and
 *    a few byte corruptions, in TAP; it runs in the unit suite, so under ASan/UBSan with gcc too;
 *  - with clang, as "fuzz-compose-libfuzzer" linked with -fsanitize=fuzzer (FUZZING_ENGINE); the
 *    libraries need the coverage instrumentation too, hence -fsanitize=fuzzer-no-link for all:
 *      CC=clang meson setup build-fuzz -Dc_args=-fsanitize=fuzzer-no-link \
 *              -Db_sanitize=address,undefined -Db_lundef=false
 *      ninja -C build-fuzz tests/unitgen/fuzz-compose-libfuzzer
 *      mkdir -p /tmp/corpus && cp -r tests/unitgen/fuzz-corpus/. /tmp/corpus/
 *      build-fuzz/tests/unitgen/fuzz-compose-libfuzzer -max_len=4096 -timeout=10 /tmp/corpus
 *    New crashes go into tests/unitgen/fuzz-corpus/ once fixed, so the replay keeps them. */

#include <stdint.h>

#include "fileio.h"
#include "strv.h"
#include "unitgen-convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *contents[1] = { (const char *) data };
        size_t sizes[1] = { size };

        for (Runtime rt = 0; rt < _RUNTIME_MAX; rt++) {
                ComposeLoadOptions o = {
                        .files = STRV_MAKE("fuzz.yaml"),
                        .contents = contents,
                        .sizes = sizes,
                        .project_dir = "/nonexistent/fuzz",
                        .environment = STRV_MAKE("SET=value", "EMPTY=", "PORT=8080"),
                };
                RenderedUnit *units = NULL;
                Diag d = {};
                size_t n = 0;

                if (unitgen_convert(&o, rt, rt == RUNTIME_DOCKER ? NETWORKING_CLUSTER : NETWORKING_LOCAL, &units, &n, NULL, &d) >= 0)
                        unit_render_free(units, n);
                diag_done(&d);
        }
        return 0;
}

#ifndef FUZZING_ENGINE
#include "fuzz-replay.h"

int main(int argc, char *argv[]) {
        return fuzz_replay_main(argc, argv, ":-[]{}&*<$\"'\n ");
}
#endif
