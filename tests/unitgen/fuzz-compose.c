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

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

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
#include "tap.h"

static void replay(const char *path, const char *data, size_t size) {
        _cleanup_free_ char *copy = NULL;
        size_t mutations = 0;

        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, size);

        /* Every prefix that ends a line: half-written files. */
        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n') {
                        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, i + 1);
                        mutations++;
                }

        /* Deterministic corruptions: YAML's structural characters dropped in at spread positions. */
        copy = malloc(size + 1);
        assert_se(copy);
        for (size_t i = 0; size > 0 && i < 64; i++) {
                static const char bytes[] = ":-[]{}&*<$\"'\n ";

                memcpy(copy, data, size);
                copy[(i * 7919) % size] = bytes[i % (sizeof(bytes) - 1)];
                (void) LLVMFuzzerTestOneInput((const uint8_t *) copy, size);
                mutations++;
        }
        ok(true, "%s and %zu variants convert or fail cleanly", path, mutations);
}

static void walk(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0) {
                ok(false, "%s: %m", path);
                return;
        }
        if (S_ISDIR(st.st_mode)) {
                struct dirent **entries = NULL;
                int n = scandir(path, &entries, NULL, alphasort);

                for (int i = 0; i < n; i++) {
                        _cleanup_free_ char *p = NULL;

                        if (entries[i]->d_name[0] != '.' || streq(entries[i]->d_name, ".env")) {
                                assert_se(asprintf(&p, "%s/%s", path, entries[i]->d_name) >= 0);
                                if (strstr(p, "/expected") == NULL)
                                        walk(p);
                        }
                        free(entries[i]);
                }
                free(entries);
                return;
        }
        if (!S_ISREG(st.st_mode))
                return;
        _cleanup_free_ char *data = NULL;
        size_t size;

        assert_se(read_full_file(path, &data, &size, 0) == 0);
        replay(path, data, size);
}

int main(int argc, char *argv[]) {
        if (argc < 2)
                skip_all("no corpus given");
        for (int i = 1; i < argc; i++)
                walk(argv[i]);
        return done_testing();
}
#endif
