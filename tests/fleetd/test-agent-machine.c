/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>

#include "agent-machine.h"
#include "fileio.h"
#include "tap.h"

static char dir[] = "/tmp/test-agent-machine.XXXXXX";

static int read_id(const char *content, char **ret) {
        _cleanup_free_ char *path = NULL;
        int r;

        assert_se(asprintf(&path, "%s/machine-id", dir) > 0);
        assert_se(write_file_atomic(path, content, strlen(content), 0644, false) == 0);
        r = machine_id_read(path, ret);
        (void) unlink(path);
        return r;
}

static void test_machine_id(void) {
        _cleanup_free_ char *id = NULL, *missing = NULL;
        char *none = NULL;

        is_int(read_id("43d780cb8612420bb9dcd9c0264d51ed\n", &id), 0, "a machine-id file reads");
        is_str(id, "43d780cb8612420bb9dcd9c0264d51ed", "the ID, without the newline");
        id = mfree(id);
        is_int(read_id("43D780CB8612420BB9DCD9C0264D51ED", &id), 0, "upper case, no newline");
        is_str(id, "43d780cb8612420bb9dcd9c0264d51ed", "is lowered");

        is_int(read_id("43d780cb8612420bb9dcd9c0264d51e\n", &none), -EBADMSG, "31 characters are rejected");
        is_int(read_id("43d780cb8612420bb9dcd9c0264d51edd\n", &none), -EBADMSG,
               "33 characters are rejected");
        is_int(read_id("43d780cb-612420bb9dcd9c0264d51ed\n", &none), -EBADMSG,
               "a non-hex character is rejected");
        is_int(read_id("", &none), -EBADMSG, "an empty file is rejected");
        ok(!none, "nothing is returned on error");

        assert_se(asprintf(&missing, "%s/nonexistent", dir) > 0);
        is_int(machine_id_read(missing, &none), -ENOENT, "a missing file gives -ENOENT");
}

static void test_public_ip(void) {
        _cleanup_free_ char *ip = NULL;
        struct in_addr a;
        int r;

        r = machine_public_ip_detect(&ip);
        ok(r == 0 || r == -ENXIO, "detection succeeds or finds no address (%d)", r);
        if (r == 0) {
                ok(inet_pton(AF_INET, ip, &a) == 1, "the address is an IPv4 address (%s)", ip);
                ok(!strneq(ip, "127.", 4), "and not a loopback address");
        } else
                skip(2, "no non-loopback IPv4 address on this machine");
}

int main(void) {
        assert_se(mkdtemp(dir));
        test_machine_id();
        test_public_ip();
        (void) rmdir(dir);
        return done_testing();
}
