/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "container-address.h"
#include "fileio.h"
#include "macro.h"
#include "string-util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_MAX_DEPTH 4

int container_address_parse_fib_trie(const char *text, char **ret) {
        char last[INET_ADDRSTRLEN] = "";

        assert(text);
        assert(ret);

        /* "|-- 10.42.7.2" names an address; its next line "/32 host LOCAL" says it is ours. */
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *p = l + strspn(l, " ");
                size_t n;

                if (startswith(p, "|-- ")) {
                        p += 4;
                        n = strcspn(p, " \n");
                        if (n < sizeof(last)) {
                                memcpy(last, p, n);
                                last[n] = 0;
                        } else
                                last[0] = 0;
                } else if (startswith(p, "/32 host LOCAL") && last[0] && !startswith(last, "127.")) {
                        struct in_addr ia;

                        if (inet_pton(AF_INET, last, &ia) != 1)
                                continue;
                        *ret = strdup(last);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

static int netns_inode(const char *pid, ino_t *ret) {
        char path[64];
        struct stat st;

        snprintf(path, sizeof path, "/proc/%s/ns/net", pid);
        if (stat(path, &st) < 0)
                return -errno;
        *ret = st.st_ino;
        return 0;
}

/* Walk dir's processes; *found gets the first foreign process's PID text and namespace. */
static int walk(const char *dir, unsigned depth, ino_t own, ino_t *ns, char found[static 16]) {
        _cleanup_free_ char *procs = NULL, *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (asprintf(&path, "%s/cgroup.procs", dir) < 0)
                return -ENOMEM;
        r = read_full_file(path, &procs, NULL, 1024 * 1024);
        if (r < 0)
                return r;
        for (char *p = procs, *e; *p; p = e) {
                char pid[16];
                ino_t ino = 0;
                size_t n;

                e = p + strcspn(p, "\n");
                n = (size_t) (e - p);
                if (*e)
                        e++;
                if (n == 0 || n >= sizeof pid)
                        continue;
                memcpy(pid, p, n);
                pid[n] = 0;
                if (netns_inode(pid, &ino) < 0 || ino == own)
                        continue;       /* gone already, or in the machine's namespace (conmon) */
                if (*ns == 0) {
                        *ns = ino;
                        strcpy(found, pid);
                } else if (*ns != ino)
                        return -ENOTUNIQ;
        }
        if (depth >= CGROUP_MAX_DEPTH)
                return 0;
        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                r = walk(sub, depth + 1, own, ns, found);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

int container_address_of_cgroup(const char *dir, char **ret, pid_t *ret_pid) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        char pid[16] = "";
        ino_t own = 0, ns = 0;
        int r;

        assert(dir);
        assert(ret);

        r = netns_inode("self", &own);
        if (r < 0)
                return r;
        r = walk(dir, 0, own, &ns, pid);
        if (r < 0)
                return r;
        if (ns == 0)
                return -ENOENT;
        if (asprintf(&path, "/proc/%s/net/fib_trie", pid) < 0)
                return -ENOMEM;
        /* Read through the process: its namespace's view, wherever fleetd's /proc/net points. */
        r = read_full_file(path, &text, NULL, 4 * 1024 * 1024);
        if (r < 0)
                return r;
        r = container_address_parse_fib_trie(text, ret);
        if (r >= 0 && ret_pid)
                *ret_pid = (pid_t) atoi(pid);
        return r;
}

int container_address_unit_cgroup(const char *unit, char **ret) {
        _cleanup_free_ char *text = NULL, *slice = NULL, *path = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        const char *l, *slash;
        struct dirent *de;
        struct stat st;
        int r;

        assert(unit);
        assert(ret);

        r = read_full_file("/proc/self/cgroup", &text, NULL, 64 * 1024);
        if (r < 0)
                return r;
        /* "0::/system.slice/fleetd.service": the unified hierarchy's line; our slice is its parent. */
        l = startswith(text, "0::") ? text : strstr(text, "\n0::");
        if (!l)
                return -ENOENT;
        l += l[0] == '\n' ? 4 : 3;
        slash = l;
        for (const char *c = l; *c && *c != '\n'; c++)
                if (*c == '/')
                        slash = c;
        if (asprintf(&slice, CGROUP_ROOT "%.*s", (int) (slash - l), l) < 0)
                return -ENOMEM;

        /* A plain unit sits in the slice; a template's instance in the slice's "system-<prefix>.slice"
         * (with systemd's escaping of the prefix): look one slice down rather than re-escape. */
        if (asprintf(&path, "%s/%s", slice, unit) < 0)
                return -ENOMEM;
        if (stat(path, &st) >= 0) {
                *ret = TAKE_PTR(path);
                return 0;
        }
        d = opendir(slice);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || !endswith(de->d_name, ".slice"))
                        continue;
                path = mfree(path);
                if (asprintf(&path, "%s/%s/%s", slice, de->d_name, unit) < 0)
                        return -ENOMEM;
                if (stat(path, &st) >= 0) {
                        *ret = TAKE_PTR(path);
                        return 0;
                }
        }
        return -ENOENT;
}
