/* SPDX-License-Identifier: Apache-2.0 */

#include <dirent.h>
#include <limits.h>

#include "fileio.h"
#include "tap.h"
#include "unit-name.h"

/* The agent writes unit files with write_file_atomic(): its temporary file once took the unit's
 * name plus a suffix, and a 246-character name failed with "File name too long". */
static void test_write_atomic_longest_name(void) {
        char dir[] = "/tmp/test-fileio-XXXXXX", name[UNIT_NAME_MAX + 1];
        _cleanup_free_ char *path = NULL, *back = NULL;
        struct dirent *de;
        unsigned entries = 0;
        DIR *d;

        assert_se(mkdtemp(dir));
        memset(name, 'a', UNIT_NAME_MAX);
        memcpy(name + UNIT_NAME_MAX - 8, ".service", 9);
        assert_se(unit_name_is_valid(name));
        assert_se(asprintf(&path, "%s/%s", dir, name) > 0);

        is_int(write_file_atomic(path, "x\n", 2, 0644, false), 0, "a unit file of the longest valid name is written");
        ok(read_full_file(path, &back, NULL, 0) == 0 && streq(back, "x\n"), "with its contents");
        is_int(write_file_atomic(path, "y\n", 2, 0600, true), 0, "and replaced");

        d = opendir(dir);
        assert_se(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
                        entries++;
        closedir(d);
        is_int(entries, 1, "no temporary file is left behind");
        assert_se(unlink(path) == 0 && rmdir(dir) == 0);
}

int main(void) {
        test_write_atomic_longest_name();
        return done_testing();
}
