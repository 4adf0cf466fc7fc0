/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* getifaddrs()'s list, freed on scope exit: _cleanup_(freeifaddrsp) struct ifaddrs *l = NULL. */

#include <ifaddrs.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct ifaddrs *, freeifaddrs);
