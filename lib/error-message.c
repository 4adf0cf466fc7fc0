/* SPDX-License-Identifier: Apache-2.0 */

#include "error-message.h"

int error_message_setv(char **ret_error, int error, const char *format, va_list ap) {
        char *s;

        assert(format);

        if (!ret_error)
                return -abs(error);
        if (vasprintf(&s, format, ap) < 0)
                return -ENOMEM;
        free_and_replace(*ret_error, s);
        return -abs(error);
}

int error_message_set(char **ret_error, int error, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = error_message_setv(ret_error, error, format, ap);
        va_end(ap);
        return r;
}
