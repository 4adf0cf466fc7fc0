/* SPDX-License-Identifier: Apache-2.0 */

#include "subnet.h"
#include "tap.h"

static Subnet S(const char *s) {
        Subnet r = {};

        assert_se(subnet_parse(s, &r) == 0);
        return r;
}

static void test_parse_format(void) {
        static const char *const good[] = {
                "10.42.0.0/16", "0.0.0.0/0", "255.255.255.255/32", "10.42.255.0/24", "192.168.1.128/25",
        };
        static const char *const bad[] = {
                "", "10.42.0.0", "10.42.0.0/", "/16", "10.42.0.1/16", "10.42.1.0/16", "10.42.0.0/33",
                "10.42.0.0/016", "10.42.0.0/+6", "10.42.0/16", "10.42.0.0.0/16", "10.042.0.0/16",
                "10.256.0.0/16", "10.42.0.0 /16", "1000.0.0.0/8", "10.42.0.0/1a", "a.b.c.d/8",
                "10..0.0/16", "10.42.0.0/-1",
        };
        char buf[SUBNET_STRLEN];
        Subnet s;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                is_int(subnet_parse(good[i], &s), 0, "parse %s", good[i]);
                is_str(subnet_format(s, buf), good[i], "%s prints back the same", good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                s = (Subnet) { .addr = 7, .len = 7 };
                is_int(subnet_parse(bad[i], &s), -EINVAL, "reject '%s'", bad[i]);
                ok(s.addr == 7 && s.len == 7, "'%s': the result is untouched", bad[i]);
        }
        is_int(subnet_parse(NULL, &s), -EINVAL, "reject NULL");

        s = S("10.42.3.0/24");
        is_str(subnet_to_key_name(s, buf), "10.42.3.0-24", "key name form");
        is_int(subnet_from_key_name("10.42.3.0-24", &s), 0, "parse the key name form");
        ok(subnet_equal(s, S("10.42.3.0/24")), "... to the same subnet");
        is_int(subnet_from_key_name("10.42.3.0/24", &s), -EINVAL, "the key name form has no slash");
        is_int(subnet_from_key_name("10.42.3.1-24", &s), -EINVAL, "nor host bits");

        uint32_t a;
        is_int(subnet_addr_parse("10.99.7.11", &a), 0, "parse an address");
        is_int((int) (a == ((10u << 24) | (99u << 16) | (7u << 8) | 11u)), 1, "... in host byte order");
        is_str(subnet_addr_format(a, buf), "10.99.7.11", "print it back");
}

static void test_relations(void) {
        ok(subnet_contains(S("10.42.0.0/16"), S("10.42.7.0/24")), "a /24 inside the /16");
        ok(!subnet_contains(S("10.42.7.0/24"), S("10.42.0.0/16")), "the /16 is not inside the /24");
        ok(!subnet_contains(S("10.42.0.0/16"), S("10.43.0.0/24")), "a /24 outside");
        ok(subnet_overlaps(S("10.42.0.0/16"), S("10.42.7.0/24")), "overlap either way (1)");
        ok(subnet_overlaps(S("10.42.7.0/24"), S("10.42.0.0/16")), "overlap either way (2)");
        ok(!subnet_overlaps(S("10.42.7.0/24"), S("10.42.8.0/24")), "neighbours do not overlap");
        ok(subnet_contains_addr(S("0.0.0.0/0"), 0xffffffffu), "/0 holds every address");
        is_int((int) subnet_mask(0), 0, "mask /0");
        ok(subnet_mask(24) == 0xffffff00u, "mask /24");
        ok(subnet_mask(32) == 0xffffffffu, "mask /32");
}

static void test_pick(void) {
        Subnet range = S("10.42.0.0/16"), got, a, b, taken[256];
        char buf[SUBNET_STRLEN];

        is_int(subnet_pick(range, 24, NULL, 0, 0, &got), 0, "pick with nothing taken");
        is_str(subnet_format(got, buf), "10.42.1.0/24", "seed 0: the first subnet after the skipped .0");
        is_int(subnet_pick(range, 24, NULL, 0, 254, &got), 0, "pick, seed 254");
        is_str(subnet_format(got, buf), "10.42.255.0/24", "seed 254: the last one");
        is_int(subnet_pick(range, 24, NULL, 0, 255, &got), 0, "pick, seed 255 wraps");
        is_str(subnet_format(got, buf), "10.42.1.0/24", "seed 255 wraps to the first candidate");

        taken[0] = S("10.42.1.0/24");
        taken[1] = S("10.42.2.0/23");  /* covers .2 and .3 */
        is_int(subnet_pick(range, 24, taken, 2, 0, &got), 0, "pick around taken subnets");
        is_str(subnet_format(got, buf), "10.42.4.0/24", "taken ones and overlapping bigger ones skipped");

        /* Different machines start at different places. */
        assert_se(subnet_pick(range, 24, NULL, 0, subnet_seed("aaaa"), &a) == 0);
        assert_se(subnet_pick(range, 24, NULL, 0, subnet_seed("bbbb"), &b) == 0);
        ok(!subnet_equal(a, b), "two machine ids seed two different subnets");
        ok(subnet_seed("x") == subnet_seed("x"), "the seed is stable");

        /* Full: a /22 has 3 usable /24s. */
        Subnet small = S("10.1.0.0/22");
        taken[0] = S("10.1.1.0/24");
        taken[1] = S("10.1.2.0/24");
        is_int(subnet_pick(small, 24, taken, 2, 99, &got), 0, "one left");
        is_str(subnet_format(got, buf), "10.1.3.0/24", "... and it is found from any seed");
        taken[2] = got;
        got = (Subnet) {};
        is_int(subnet_pick(small, 24, taken, 3, 5, &got), -ENOSPC, "range full");
        ok(got.addr == 0 && got.len == 0, "nothing written when full");
        is_int(subnet_pick(small, 22, NULL, 0, 0, &got), -ENOSPC, "a range of one subnet has none to give");
        is_int(subnet_pick(range, 15, NULL, 0, 0, &got), -EINVAL, "subnet bigger than the range");
        is_int(subnet_pick(range, 31, NULL, 0, 0, &got), -EINVAL, "a /31 has no room for a container");
        is_int(subnet_pick(S("10.0.0.0/8"), 30, NULL, 0, 12345, &got), 0, "a big range is fine");
        ok(subnet_contains(S("10.0.0.0/8"), got) && got.len == 30, "... and the pick is inside it");
}

int main(void) {
        test_parse_format();
        test_relations();
        test_pick();
        return done_testing();
}
