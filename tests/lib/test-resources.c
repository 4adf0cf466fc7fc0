/* SPDX-License-Identifier: Apache-2.0 */

#include "parse-util.h"
#include "resources.h"
#include "tap.h"

static void test_parse(void) {
        static const struct {
                const char *s;
                uint64_t milli;
        } cpus[] = { { "1.5", 1500 }, { "0.25", 250 }, { "2", 2000 }, { ".5", 500 }, { "0.001", 1 }, { "0", 0 } };
        static const char *const bad_cpus[] = { "", "-1", "1.2345", "1,5", "abc", "1.5x", "." };
        static const struct {
                const char *s;
                uint64_t bytes;
        } mems[] = { { "512M", 512ULL << 20 }, { "4G", 4ULL << 30 }, { "1.5GiB", 3ULL << 29 },
                     { "1073741824", 1ULL << 30 }, { "128mb", 128ULL << 20 }, { "2t", 2ULL << 40 } };
        static const char *const bad_mems[] = { "", "-1G", "4X", "G", "99999999999999999999g", "18446744073709551615.9" };
        _cleanup_free_ char *name = NULL;
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(cpus); i++)
                ok(resources_parse_cpu(cpus[i].s, &v) == 0 && v == cpus[i].milli, "cpu '%s'", cpus[i].s);
        for (size_t i = 0; i < ELEMENTSOF(bad_cpus); i++)
                is_int(resources_parse_cpu(bad_cpus[i], &v), -EINVAL, "cpu '%s' refused", bad_cpus[i]);
        for (size_t i = 0; i < ELEMENTSOF(mems); i++)
                ok(resources_parse_memory(mems[i].s, &v) == 0 && v == mems[i].bytes, "memory '%s'", mems[i].s);
        for (size_t i = 0; i < ELEMENTSOF(bad_mems); i++)
                is_int(resources_parse_memory(bad_mems[i], &v), -EINVAL, "memory '%s' refused", bad_mems[i]);

        ok(resources_parse_extra("gpu=2", &name, &v) == 0 && streq(name, "gpu") && v == 2, "gpu=2");
        is_int(resources_parse_extra("gpu", &name, &v), -EINVAL, "no amount");
        is_int(resources_parse_extra("=2", &name, &v), -EINVAL, "no name");
        is_int(resources_parse_extra("gpu=1.5", &name, &v), -EINVAL, "fractional count");
        is_int(resources_parse_extra("2gpu=1", &name, &v), -EINVAL, "name starts with a digit");
        is_int(resources_parse_extra("g/pu=1", &name, &v), -EINVAL, "name with '/'");
        ok(resource_name_is_valid("NVIDIA-GPU"), "swarm-style kind");
}

static void test_extra(void) {
        Resources a = {}, b = {};
        _cleanup_free_ char *s = NULL;

        ok(resources_add_extra(&a, "gpu", 1) == 0 && resources_add_extra(&a, "fpga", 2) == 0 &&
           resources_add_extra(&a, "gpu", 1) == 0 && resources_add_extra(&a, "ssd", 0) == 0, "add extras");
        ok(a.n_extra == 2 && streq(a.extra[0].name, "fpga") && streq(a.extra[1].name, "gpu") &&
           a.extra[1].amount == 2, "sorted, summed, zero left out");
        is_int(resources_add_extra(&a, "gpu", UINT64_MAX), -EINVAL, "overflow refused");
        a.cpu_milli = 2500;
        a.memory = 3ULL << 29;
        ok(resources_copy(&a, &b) == 0 && resources_equal(&a, &b), "copy equals");
        b.extra[0].amount++;
        ok(!resources_equal(&a, &b), "different amount differs");
        is_int(resources_get_extra(&a, "gpu"), 2, "get");
        is_int(resources_get_extra(&a, "tpu"), 0, "get absent");
        s = resources_format(&a);
        is_str(s, "2.5 CPU / 1.5 GiB / fpga 2 / gpu 2", "format");
        resources_done(&a);
        resources_done(&b);
        ok(resources_is_empty(&a), "done empties");
}

static void test_format(void) {
        char buf[RESOURCES_FORMAT_MAX];

        is_str(resources_format_cpu(buf, sizeof(buf), 1500), "1.5", "1.5 CPU");
        is_str(resources_format_cpu(buf, sizeof(buf), 250), "0.25", "0.25 CPU");
        is_str(resources_format_cpu(buf, sizeof(buf), 1), "0.001", "0.001 CPU");
        is_str(resources_format_cpu(buf, sizeof(buf), 4000), "4", "4 CPU");
        is_str(resources_format_memory(buf, sizeof(buf), 4ULL << 30), "4 GiB", "4 GiB");
        is_str(resources_format_memory(buf, sizeof(buf), (6ULL << 30) - 1), "5.9 GiB", "rounded down");
        is_str(resources_format_memory(buf, sizeof(buf), 512ULL << 20), "512 MiB", "512 MiB");
        is_str(resources_format_memory(buf, sizeof(buf), 300), "300 B", "bytes");
        is_str(resources_format_memory(buf, sizeof(buf), UINT64_MAX), "15.9 EiB", "the largest");
}

int main(void) {
        test_parse();
        test_extra();
        test_format();
        return done_testing();
}
