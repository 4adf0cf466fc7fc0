/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* libcurl's multi interface glued to an sd-event loop, in the shape of systemd's
 * src/import/curl-util.c: a socket callback keeps one I/O source per socket, a timer callback keeps
 * one timer, and finished transfers are handed out from a defer source, one per loop iteration, so
 * that the finished callback runs outside every libcurl callback and may add or remove handles.
 * Finished transfers are collected after every libcurl call, whatever it returned: when a socket
 * cannot be watched libcurl aborts the transfers (CURLE_ABORTED_BY_CALLBACK), and they must still
 * be handed out, or their owners would wait for ever. A socket's source remembers which socket it
 * was made for (device and inode), since libcurl names sockets by number and a closed socket's
 * number comes back for the next one. */

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct CurlGlue CurlGlue;

/* Called once per finished transfer, after the handle was removed from the multi handle. The
 * callee owns curl from then on (it may add it again, keep it or free it). */
typedef void (*curl_glue_finished_t)(CurlGlue *g, CURL *curl, CURLcode result, void *userdata);

/* Create a glue on event (which must outlive it). Returns 0, -ENOMEM or the error of sd-event. */
int curl_glue_new(CurlGlue **ret, sd_event *event, curl_glue_finished_t on_finished, void *userdata);

/* Free the glue and close its cached connections. Every transfer must have been finished or
 * removed with curl_glue_remove() before (the easy handles belong to the callers). Accepts NULL;
 * returns NULL. */
CurlGlue *curl_glue_free(CurlGlue *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlGlue *, curl_glue_free);

/* Start a transfer. Ownership of curl stays with the caller; it must stay alive until the finished
 * callback ran or curl_glue_remove() was called. Returns 0 or -EIO. */
int curl_glue_add(CurlGlue *g, CURL *curl);

/* Stop a transfer without calling the finished callback. Safe for a handle that is not added. */
void curl_glue_remove(CurlGlue *g, CURL *curl);
