/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The handful of systemd idioms we use everywhere: scope-bound cleanup, explicit ownership
 * transfer, and a few string predicates. libsystemd does not export systemd's own versions
 * (they live in its private src/basic), so this is our minimal copy of the contract. */

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _const_ __attribute__((const))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _fallthrough_ __attribute__((fallthrough))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Division of unsigned values rounding up, e.g. a timeout to whole milliseconds that is never
 * shorter than asked. */
#define DIV_ROUND_UP(x, y) (((x) + (y) - 1) / (y))

#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* Like assert(), but the expression is evaluated even with NDEBUG. For tests. */
#define assert_se(expr)                                                                 \
        do {                                                                            \
                if (_unlikely_(!(expr))) {                                              \
                        fprintf(stderr, "Assertion '%s' failed at %s:%u, function %s()\n", \
                                #expr, __FILE__, __LINE__, __func__);                   \
                        abort();                                                        \
                }                                                                       \
        } while (false)

/* abort() in plain sight, so that -O0 with UBSan still knows the code after it is dead. */
#define assert_not_reached()                                                            \
        do {                                                                            \
                fprintf(stderr, "Code should not be reached at %s:%u, function %s()\n", \
                        __FILE__, __LINE__, __func__);                                  \
                abort();                                                                \
        } while (false)

/* Allocation helpers: new() checks the multiplication for overflow. */
#define new(t, n) ((t *) malloc_multiply(sizeof(t), (n)))
#define new0(t, n) ((t *) calloc((n) ?: 1, sizeof(t)))

static inline void *malloc_multiply(size_t size, size_t n) {
        if (size > 0 && n > (size_t) -1 / size)
                return NULL;
        return malloc(size * n ?: 1);
}

/* Grow *p so that it can hold at least need elements of size sz; *allocated tracks the capacity.
 * Returns the (possibly moved) array or NULL on overflow/OOM, leaving *p untouched then. */
void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t sz);
#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Hand over ownership: returns the pointer and clears the variable, so a _cleanup_ on it
 * becomes a no-op. */
#define TAKE_PTR(ptr)                           \
        ({                                      \
                __typeof__(ptr) *_pptr_ = &(ptr); \
                __typeof__(ptr) _ptr_ = *_pptr_;  \
                *_pptr_ = NULL;                 \
                _ptr_;                          \
        })

#define TAKE_FD(fd)                             \
        ({                                      \
                int *_fdp_ = &(fd);             \
                int _fd_ = *_fdp_;              \
                *_fdp_ = -EBADF;                \
                _fd_;                           \
        })

/* Replace *a by b, freeing the old value. Always succeeds. */
#define free_and_replace(a, b)                  \
        ({                                      \
                __typeof__(a) *_a = &(a);       \
                __typeof__(b) *_b = &(b);       \
                free(*_a);                      \
                *_a = *_b;                      \
                *_b = NULL;                     \
                0;                              \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        (void) safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* String predicates. */
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s) {
        return !s || !s[0];
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

/* If s begins with prefix, return a pointer to what follows it; NULL otherwise. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* If s ends with suffix, return a pointer to where the suffix starts; NULL otherwise. */
static inline const char *endswith(const char *s, const char *suffix) {
        size_t sl = strlen(s), xl = strlen(suffix);
        return sl >= xl && memcmp(s + sl - xl, suffix, xl) == 0 ? s + sl - xl : NULL;
}

#define WHITESPACE " \t\n\r"
