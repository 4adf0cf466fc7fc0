/* SPDX-License-Identifier: Apache-2.0 */

#include <strings.h>

#include "parse-util.h"

int parse_boolean(const char *v) {
        static const char *const yes[] = { "1", "true", "yes", "on", "t", "y" };
        static const char *const no[] = { "0", "false", "no", "off", "f", "n" };

        assert(v);

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(v, yes[i]) == 0)
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(v, no[i]) == 0)
                        return 0;
        return -EINVAL;
}
