/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Pure parsers and validators return a negative errno and, for the user, a sentence saying what is
 * wrong in an optional char **ret_error. This is the one way to fill it in. */

#include <stdarg.h>

#include "macro.h"

/* If ret_error is not NULL, replace *ret_error (NULL or a malloc'd string, which is freed) by the
 * formatted message. Returns -abs(error), or -ENOMEM if the message could not be allocated (then
 * *ret_error is left alone), so that a caller can "return error_message_set(ret_error, EINVAL, ...)". */
int error_message_set(char **ret_error, int error, const char *format, ...) _printf_(3, 4);
int error_message_setv(char **ret_error, int error, const char *format, va_list ap) _printf_(3, 0);
