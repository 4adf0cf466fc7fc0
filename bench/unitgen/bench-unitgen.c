/* SPDX-License-Identifier: Apache-2.0 */

/* bench-unitgen: conversion throughput. Generates a compose file of N services (default 200) that
 * uses the common keys (ports, environment, volumes, networks, depends_on, healthcheck, deploy
 * with replicas and placement, labels, anchors with merge keys, interpolation), converts it again
 * and again in memory (parse, interpolate, merge, convert, render, for the docker runtime) and
 * prints services converted per CPU second (and per wall second). Nothing is written unless --write FILE asks for the
 * generated compose file.
 *
 * With --keys K the file is one service and two large collections instead (issue 12: the duplicate
 * key check was quadratic, 4 MB of environment took seconds): an "x-keys" mapping of K distinct
 * keys, each checked against the others, and an environment list of K items naming 20,000
 * variables (a later item wins over an earlier one of the same name, as in compose; the unit stays
 * under the 1 MiB a unit file may have). Per-file CPU time over K is the figure.
 *
 * usage: bench-unitgen [--services N | --keys K] [--seconds S] [--runtime docker|podman] [--write FILE] */

#include <getopt.h>
#include <inttypes.h>
#include <time.h>

#include "fileio.h"
#include "strv.h"
#include "time-util.h"
#include "unitgen-convert.h"

static double now_sec(clockid_t clock) {
        return (double) now(clock) / (double) USEC_PER_SEC;
}

static char *generate(unsigned n) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_se(f);
        fputs("name: bench\n"
              "x-common: &common\n"
              "  restart: unless-stopped\n"
              "  logging:\n"
              "    driver: journald\n"
              "    options: {tag: \"{{.Name}}\"}\n"
              "  labels:\n"
              "    com.example.stack: bench\n"
              "services:\n", f);
        for (unsigned i = 0; i < n; i++) {
                fprintf(f,
                        "  svc%u:\n"
                        "    <<: *common\n"
                        "    image: \"registry.example.com/team/svc%u:${TAG:-1.%u}\"\n"
                        "    command: [\"/app/server\", \"--port\", \"8%03u\", \"--name\", \"svc %u\"]\n"
                        "    environment:\n"
                        "      SERVICE: svc%u\n"
                        "      DB_URL: \"postgres://db:5432/svc%u?sslmode=disable\"\n"
                        "      PRICE: \"5$$ 100%%\"\n"
                        "    ports: [\"%u:8080\"]\n"
                        "    volumes:\n"
                        "      - data%u:/var/lib/svc\n"
                        "      - /etc/svc%u:/etc/svc:ro\n"
                        "    networks: [front, back]\n"
                        "    healthcheck:\n"
                        "      test: [\"CMD\", \"/app/health\"]\n"
                        "      interval: 30s\n"
                        "      retries: 3\n"
                        "    stop_grace_period: 1m\n"
                        "    mem_limit: 256m\n"
                        "    cpus: 0.5\n",
                        i, i, i % 10, i % 1000, i, i, i, 10000 + i, i % 20, i);
                if (i > 0 && i % 4 != 0)
                        fprintf(f, "    depends_on:\n      svc%u: {condition: service_started}\n", i - 1);
                if (i % 5 == 0)
                        fprintf(f, "    deploy:\n"
                                   "      replicas: 3\n"
                                   "      placement:\n"
                                   "        constraints: [\"node.labels.zone == z%u\", \"node.role != manager\"]\n"
                                   "        max_replicas_per_node: 1\n"
                                   "      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}\n",
                                i % 3);
        }
        fputs("networks:\n  front: {}\n  back: {internal: true}\nvolumes:\n", f);
        for (unsigned i = 0; i < 20; i++)
                fprintf(f, "  data%u: {}\n", i);
        fclose(f);
        return buf;
}

#define KEYS_ENV_NAMES 20000U

static char *generate_keys(unsigned k) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_se(f);
        fputs("name: bench\nx-keys:\n", f);
        for (unsigned i = 0; i < k; i++)
                fprintf(f, "  key%u: value%u\n", i, i);
        fputs("services:\n  web:\n    image: nginx\n    environment:\n", f);
        for (unsigned i = 0; i < k; i++)
                fprintf(f, "      - E%u=v%u\n", i % KEYS_ENV_NAMES, i);
        assert_se(fclose(f) == 0);
        return buf;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "services", required_argument, NULL, 'n' },
                { "seconds",  required_argument, NULL, 's' },
                { "runtime",  required_argument, NULL, 'r' },
                { "write",    required_argument, NULL, 'w' },
                { "keys",     required_argument, NULL, 'k' },
                {}
        };
        unsigned n_services = 200, n_keys = 0, iterations = 0, n_units = 0;
        double seconds = 2.0, start, cpu_start, elapsed, cpu;
        Runtime runtime = RUNTIME_DOCKER;
        const char *write_to = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        n_services = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        seconds = strtod(optarg, NULL);
                        break;
                case 'r':
                        runtime = runtime_from_string(optarg);
                        if (runtime < 0) {
                                fprintf(stderr, "unknown runtime %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'w':
                        write_to = optarg;
                        break;
                case 'k':
                        n_keys = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (n_services == 0 || seconds <= 0) {
                fprintf(stderr, "need --services > 0 and --seconds > 0\n");
                return EXIT_FAILURE;
        }

        text = n_keys > 0 ? generate_keys(n_keys) : generate(n_services);
        size = strlen(text);
        if (write_to && write_file_atomic(write_to, text, size, 0644, false) < 0) {
                fprintf(stderr, "cannot write %s\n", write_to);
                return EXIT_FAILURE;
        }

        /* CPU time is the figure: the machine may be shared, and wall time then measures the others. */
        start = now_sec(CLOCK_MONOTONIC);
        cpu_start = now_sec(CLOCK_PROCESS_CPUTIME_ID);
        do {
                const char *contents[1] = { text };
                ComposeLoadOptions o = {
                        .files = STRV_MAKE("compose.yaml"),
                        .contents = contents,
                        .sizes = &size,
                        .project_dir = "/srv/bench",
                        .environment = STRV_MAKE("PATH=/usr/bin"),
                };
                RenderedUnit *units = NULL;
                Diag d = {};
                size_t n = 0;

                if (unitgen_convert(&o, runtime, NETWORKING_CLUSTER, &units, &n, NULL, &d) < 0) {
                        STRV_FOREACH(l, d.lines)
                                fprintf(stderr, "%s\n", *l);
                        fprintf(stderr, "the generated file does not convert\n");
                        return EXIT_FAILURE;
                }
                n_units = (unsigned) n;
                unit_render_free(units, n);
                diag_done(&d);
                iterations++;
                cpu = now_sec(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
        } while (cpu < seconds);
        elapsed = now_sec(CLOCK_MONOTONIC) - start;

        if (n_keys > 0) {
                printf("bench-unitgen: %u keys in a mapping and %u in an environment list (%zu bytes of compose, "
                       "runtime %s)\n", n_keys, n_keys, size, runtime_to_string(runtime));
                printf("conversions: %u in %.3f s of CPU (%.3f s wall), %.3f ms of CPU per file, %.0f ns of CPU "
                       "per key\n", iterations, cpu, elapsed, cpu * 1000.0 / iterations,
                       cpu * 1e9 / iterations / (2.0 * n_keys));
                return EXIT_SUCCESS;
        }
        printf("bench-unitgen: %u services (%zu bytes of compose, %u units, runtime %s)\n", n_services, size,
               n_units, runtime_to_string(runtime));
        printf("conversions: %u in %.3f s of CPU (%.3f s wall), %.3f ms of CPU per file\n", iterations, cpu, elapsed,
               cpu * 1000.0 / iterations);
        printf("services/second: %.0f (per CPU second; %.0f per wall second)\n", (double) n_services * iterations / cpu,
               (double) n_services * iterations / elapsed);
        return EXIT_SUCCESS;
}
