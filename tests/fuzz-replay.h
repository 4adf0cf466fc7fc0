/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The unit-suite side of a fuzz target: without a fuzzing engine, main() replays the files and
 * directories given on the command line (a corpus, golden cases), each file also cut at every line
 * end and with a fixed series of byte corruptions, so the test is the same on every run and runs
 * under ASan/UBSan with gcc too. A target defines LLVMFuzzerTestOneInput() and, outside a
 * FUZZING_ENGINE build, calls fuzz_replay_main() with the bytes it wants dropped in. A crash, a leak
 * or a failed assertion in the target fails the test. */

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fileio.h"
#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_replay_one(const char *path, const char *data, size_t size, const char *bytes) {
        _cleanup_free_ char *copy = NULL;
        size_t mutations = 0, n_bytes = strlen(bytes);

        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, size);

        /* Every prefix that ends a line: half-written files. */
        for (size_t i = 0; i < size; i++)
                if (data[i] == '\n') {
                        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, i + 1);
                        mutations++;
                }

        /* Deterministic corruptions: structural bytes dropped in at spread positions. */
        copy = malloc(size + 1);
        assert_se(copy);
        for (size_t i = 0; size > 0 && n_bytes > 0 && i < 64; i++) {
                memcpy(copy, data, size);
                copy[(i * 7919) % size] = bytes[i % n_bytes];
                (void) LLVMFuzzerTestOneInput((const uint8_t *) copy, size);
                mutations++;
        }
        ok(true, "%s and %zu variants pass the target's checks", path, mutations);
}

static void fuzz_replay_walk(const char *path, const char *bytes) {
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t size;

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
                                        fuzz_replay_walk(p, bytes);
                        }
                        free(entries[i]);
                }
                free(entries);
                return;
        }
        if (!S_ISREG(st.st_mode))
                return;
        assert_se(read_full_file(path, &data, &size, 0) == 0);
        fuzz_replay_one(path, data, size, bytes);
}

/* Replays argv[1..]; bytes: the corruptions to drop in (at most 64 per file). */
static _unused_ int fuzz_replay_main(int argc, char *argv[], const char *bytes) {
        if (argc < 2)
                skip_all("no corpus given");
        for (int i = 1; i < argc; i++)
                fuzz_replay_walk(argv[i], bytes);
        return done_testing();
}
