/* SPDX-License-Identifier: Apache-2.0 */

/* Fuzz target for every etcd reply parser. With libFuzzer:
 *     clang -fsanitize=fuzzer,address -DETCD_FUZZ_LIBFUZZER ... fuzz-etcd-json.c
 *     ./fuzz-etcd-json tests/etcd/corpus
 * Without it (gcc, the unit suite), main() replays the corpus directory given as argv[1], and for
 * each file also every truncation and a fixed series of byte mutations, so the test is the same
 * on every run. A crash, a leak (ASan) or UB (UBSan) fails it; the parsers must only ever return
 * 0 or a negative errno. */

#include <dirent.h>
#include <stdint.h>

#include "etcd-json.h"
#include "fileio.h"
#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned n_bad_returns;

static void check(int r) {
        if (r > 0)
                n_bad_returns++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data;
        EtcdWatchMessage m;
        EtcdResponse r;
        char *s = NULL;
        int code = 0;

        for (EtcdRequestKind k = 0; k < _ETCD_REQUEST_KIND_MAX; k++) {
                if (k == ETCD_REQUEST_AUTHENTICATE)
                        continue;
                check(etcd_json_parse_response(k, p, size, &r));
                etcd_response_done(&r);
        }

        check(etcd_json_parse_watch_message(p, size, &m));
        etcd_watch_message_done(&m);

        if (etcd_json_parse_error(p, size, &code, &s) >= 0) {
                check(code <= 0);
                free(s);
        }
        s = NULL;
        if (etcd_json_parse_token(p, size, &s) >= 0)
                free(s);
        return 0;
}

#ifndef ETCD_FUZZ_LIBFUZZER
static uint32_t rng_state = 0x2545F491;

static uint32_t rng(void) {
        /* xorshift32: a fixed sequence, so every run tests the same inputs. */
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 17;
        rng_state ^= rng_state << 5;
        return rng_state;
}

static void replay(const char *path) {
        static const char interesting[] = "{}[]\":,0-9 \\nutlfe";
        _cleanup_free_ char *data = NULL;
        _cleanup_free_ uint8_t *copy = NULL;
        size_t size;
        int r;

        r = read_full_file(path, &data, &size, 0);
        if (!ok(r >= 0, "read %s", path))
                return;

        LLVMFuzzerTestOneInput((const uint8_t *) data, size);

        for (size_t l = 0; l < size; l++)
                LLVMFuzzerTestOneInput((const uint8_t *) data, l);

        copy = malloc(size ?: 1);
        assert_se(copy);
        for (unsigned i = 0; i < 2000 && size > 0; i++) {
                memcpy(copy, data, size);
                for (unsigned j = 0, n = 1 + rng() % 4; j < n; j++) {
                        size_t at = rng() % size;

                        copy[at] = rng() % 2 ? (uint8_t) rng() : (uint8_t) interesting[rng() % (sizeof(interesting) - 1)];
                }
                LLVMFuzzerTestOneInput(copy, size);
        }

        is_int(n_bad_returns, 0, "%s: only 0 or negative errno from every parser, on every mutation", path);
}

int main(int argc, char *argv[]) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        unsigned n = 0;

        if (argc < 2)
                skip_all("usage: fuzz-etcd-json CORPUS-DIR");

        d = opendir(argv[1]);
        if (!d)
                bail_out("cannot open %s: %m", argv[1]);

        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if (de->d_name[0] == '.')
                        continue;
                assert_se(asprintf(&path, "%s/%s", argv[1], de->d_name) >= 0);
                replay(path);
                n++;
        }

        ok(n >= 10, "replayed %u corpus files", n);
        return done_testing();
}
#endif
