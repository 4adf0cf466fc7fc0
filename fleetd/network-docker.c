/* SPDX-License-Identifier: Apache-2.0 */

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "curl-glue.h"
#include "log.h"
#include "network-docker.h"
#include "network.h"
#include "strv.h"
#include "time-util.h"

#define DOCKER_REPLY_MAX (1024 * 1024)
#define DOCKER_LIST_TIMEOUT_MS 10000L
/* A create (a bridge, its iptables rules) or a remove takes docker long on a busy machine; one given
 * up on while docker goes on, and sent again, is how a second network "fleet" arises. */
#define DOCKER_CHANGE_TIMEOUT_MS 60000L
/* Lists in one round of checks (the first, and one after each change): a docker whose networks
 * keep changing under us is left until the next round. */
#define DOCKER_ROUND_LISTS_MAX 4U
#define DOCKER_MESSAGE_MAX 512
#define DOCKER_LABEL "org.fleet.managed-by"

typedef enum DockerStep {
        DOCKER_IDLE,
        DOCKER_LIST,
        DOCKER_REMOVE,
        DOCKER_CREATE,
} DockerStep;

struct NetworkDocker {
        sd_event *event;
        char *path;
        CurlGlue *glue;
        CURL *curl;                     /* the request under way, if any */
        struct curl_slist *headers;
        char *reply;
        size_t reply_size;
        bool reply_truncated;
        DockerStep step;
        sd_event_source *timer;

        bool have_subnet;
        Subnet range;                   /* the cluster's */
        Subnet subnet;
        uint32_t mtu;
        NetworkDockerPlan plan;         /* what the last list decided */
        size_t removing;                /* the index in plan.remove of the network being removed */
        unsigned round_lists;           /* lists sent in this round of checks */
        char *status;
        bool ready;
        char *forward_status;           /* what the last look at DOCKER-USER found */
};

bool network_docker_range(Subnet subnet, Subnet *ret) {
        if (subnet.len > 28)
                return false;
        *ret = (Subnet) { .addr = subnet.addr | (UINT32_C(1) << (31 - subnet.len)), .len = subnet.len + 1 };
        return true;
}

char *network_docker_create_body(Subnet subnet, uint32_t mtu) {
        json_auto_t *o = NULL;
        char sn[SUBNET_STRLEN], rn[SUBNET_STRLEN], gw[16], m[12];
        Subnet range;

        if (!network_docker_range(subnet, &range))
                return NULL;
        subnet_format(subnet, sn);
        subnet_format(range, rn);
        subnet_addr_format(subnet.addr + 1, gw);
        snprintf(m, sizeof m, "%u", mtu);
        /* As docs/network.md's "docker network create": fleetd's nftables masquerade what leaves the
         * cluster range, so docker must not masquerade traffic between machines. */
        o = json_pack("{s:s, s:s, s:b, s:{s:s, s:[{s:s, s:s, s:s}]}, s:{s:s, s:s, s:s}, s:{s:s}}",
                      "Name", NETWORK_CNI_NAME,
                      "Driver", "bridge",
                      "CheckDuplicate", 1,
                      "IPAM", "Driver", "default", "Config", "Subnet", sn, "Gateway", gw, "IPRange", rn,
                      "Options",
                        "com.docker.network.bridge.name", NETWORK_BRIDGE_NAME,
                        "com.docker.network.driver.mtu", m,
                        "com.docker.network.bridge.enable_ip_masquerade", "false",
                      "Labels", DOCKER_LABEL, "fleetd");
        if (!o)
                return NULL;
        return json_dumps(o, JSON_COMPACT);
}

static int why_append(char **why, const char *what, const char *have, const char *want) {
        char *s;

        if (asprintf(&s, "%s%s%s %s (wants %s)", strempty(*why), *why ? ", " : "", what, have, want) < 0)
                return -ENOMEM;
        free_and_replace(*why, s);
        return 0;
}

/* A string member of o that docker may leave out: NULL when absent or empty. */
static const char *opt_string(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));

        return isempty(s) ? NULL : s;
}

/* Compare one network object o with what subnet and mtu want: as network_docker_check(). */
static int check_object(json_t *o, Subnet subnet, uint32_t mtu, char **ret_why) {
        _cleanup_free_ char *why = NULL;
        char sn[SUBNET_STRLEN], rn[SUBNET_STRLEN], gw[16], m[12];
        const char *driver, *s;
        json_t *configs, *c, *options;
        Subnet range;
        int r = 0;

        assert(ret_why);

        if (!network_docker_range(subnet, &range))
                return -EINVAL;
        subnet_format(subnet, sn);
        subnet_format(range, rn);
        subnet_addr_format(subnet.addr + 1, gw);

        driver = json_string_value(json_object_get(o, "Driver"));
        configs = json_object_get(json_object_get(o, "IPAM"), "Config");
        if (!json_is_object(o) || !driver || (configs && !json_is_array(configs)))
                return -EBADMSG;
        options = json_object_get(o, "Options");

        if (!streq(driver, "bridge"))
                r = why_append(&why, "driver", driver, "bridge");
        if (r >= 0 && json_array_size(configs) != 1) {
                char n[24];

                snprintf(n, sizeof n, "%zu", json_array_size(configs));
                r = why_append(&why, "IPAM configs", n, "1");
        }
        c = json_array_get(configs, 0);
        if (r >= 0 && c) {
                s = opt_string(c, "Subnet");
                if (!streq_ptr(s, sn))
                        r = why_append(&why, "subnet", strna(s), sn);
                s = opt_string(c, "Gateway");
                if (r >= 0 && s && !streq(s, gw))
                        r = why_append(&why, "gateway", s, gw);
                s = opt_string(c, "IPRange");
                if (r >= 0 && s && !streq(s, rn))
                        r = why_append(&why, "IP range", s, rn);
        }
        s = opt_string(options, "com.docker.network.bridge.name");
        if (r >= 0 && s && !streq(s, NETWORK_BRIDGE_NAME))
                r = why_append(&why, "bridge", s, NETWORK_BRIDGE_NAME);
        /* docker names it by its option, podman's compat API by its own ("mtu"). */
        s = opt_string(options, "com.docker.network.driver.mtu") ?: opt_string(options, "mtu");
        snprintf(m, sizeof m, "%u", mtu);
        if (r >= 0 && s && !streq(s, m))
                r = why_append(&why, "mtu", s, m);
        if (r < 0)
                return r;
        *ret_why = TAKE_PTR(why);
        return *ret_why ? 0 : 1;
}

int network_docker_check(const char *json, size_t size, Subnet subnet, uint32_t mtu, char **ret_why) {
        json_auto_t *o = json_loadb(json, size, 0, NULL);

        return check_object(o, subnet, mtu, ret_why);
}

int network_docker_created_parse(const char *s, usec_t *ret) {
        struct tm tm = {};
        usec_t frac = 0, scale = USEC_PER_SEC;
        long offset = 0;
        int n = 0, oh, om;
        time_t t;

        assert(ret);

        /* Go's RFC 3339 with nanoseconds, in the daemon's zone: 2026-12-03T03:09:37.009478815Z or
         * ...+01:00; trailing zeros of the fraction are left out, so the text does not sort. */
        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                         &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
                return -EINVAL;
        s += n;
        if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++)
                        if (scale > 1) {
                                scale /= 10;
                                frac += (usec_t) (*s - '0') * scale;
                        }
        if (*s == 'Z')
                s++;
        else if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) == 2 && n == 5) {
                offset = (*s == '-' ? -1 : 1) * (long) (oh * 60 + om) * 60;
                s += 1 + n;
        } else
                return -EINVAL;
        if (*s != 0)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        t = timegm(&tm);
        /* Go's zero time (year 1) comes out before 1970: as good as unknown. */
        if (t == (time_t) -1 || t - offset < 0)
                return -EINVAL;
        *ret = (usec_t) (t - offset) * USEC_PER_SEC + frac;
        return 0;
}

void network_docker_plan_done(NetworkDockerPlan *p) {
        assert(p);

        p->keep = mfree(p->keep);
        p->remove = strv_free(p->remove);
        p->why = strv_free(p->why);
}

typedef struct Candidate {
        const char *id;
        usec_t created;                 /* USEC_INFINITY: unknown, taken as the newest */
        char *why;                      /* what is wrong with it; NULL: right */
} Candidate;

static int candidate_compare(const void *a, const void *b) {
        const Candidate *x = a, *y = b;

        if (x->created != y->created)
                return x->created < y->created ? -1 : 1;
        return strcmp(x->id, y->id);
}

/* Ids go into a request's path: docker's (and podman's) are hex; refuse anything else. */
static bool id_valid(const char *id) {
        if (isempty(id) || strlen(id) > 128)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        return false;
        return true;
}

int network_docker_plan(const char *json, size_t size, Subnet subnet, uint32_t mtu, NetworkDockerPlan *ret) {
        _cleanup_(network_docker_plan_done) NetworkDockerPlan plan = {};
        _cleanup_free_ Candidate *c = NULL;
        json_auto_t *list = NULL;
        size_t i, n = 0;
        json_t *o;
        int r = 0;

        assert(ret);

        list = json_loadb(json, size, 0, NULL);
        if (!json_is_array(list))
                return -EBADMSG;
        c = new0(Candidate, json_array_size(list) ?: 1);
        if (!c)
                return -ENOMEM;
        /* docker's name filter matches parts of names (podman's: a regex): only "fleet" itself counts. */
        json_array_foreach(list, i, o) {
                if (!streq_ptr(json_string_value(json_object_get(o, "Name")), NETWORK_CNI_NAME))
                        continue;
                c[n].id = json_string_value(json_object_get(o, "Id"));
                if (!id_valid(c[n].id))
                        r = -EBADMSG;
                if (r >= 0 && network_docker_created_parse(json_string_value(json_object_get(o, "Created")),
                                                           &c[n].created) < 0)
                        c[n].created = USEC_INFINITY;
                if (r >= 0)
                        r = check_object(o, subnet, mtu, &c[n].why);
                n++;
                if (r < 0)
                        break;
        }
        if (r >= 0) {
                qsort(c, n, sizeof *c, candidate_compare);
                for (i = 0; r >= 0 && i < n; i++) {
                        if (!c[i].why && !plan.keep) {
                                plan.keep = strdup(c[i].id);
                                r = plan.keep ? 0 : -ENOMEM;
                                continue;
                        }
                        r = strv_extend(&plan.remove, c[i].id);
                        if (r >= 0 && c[i].why)
                                r = strv_extendf(&plan.why, "has %s", c[i].why);
                        else if (r >= 0)
                                r = strv_extendf(&plan.why, "is a second network named %s (the oldest right one, "
                                                 "%.12s, stays)", NETWORK_CNI_NAME, plan.keep);
                }
        }
        for (i = 0; i < n; i++)
                free(c[i].why);
        if (r < 0)
                return r;
        *ret = plan;
        plan = (NetworkDockerPlan) {};
        return 0;
}

/* The comments that mark fleetd's rules in DOCKER-USER (iptables -S shows them as -m comment). */
static void forward_comment(char buf[static 64], const char *dir, const char *range) {
        snprintf(buf, 64, "fleet: %s cluster range %s", dir, range);
}

static bool listing_has_comment(json_t *items, const char *comment) {
        size_t i;
        json_t *item;

        json_array_foreach(items, i, item)
                if (streq_ptr(json_string_value(json_object_get(json_object_get(item, "rule"), "comment")), comment))
                        return true;
        return false;
}

int network_docker_forward_rules(Subnet range, const char *json, size_t size, char **ret) {
        _cleanup_free_ char *text = NULL;
        json_auto_t *o = NULL;
        char rs[SUBNET_STRLEN], from[64], to[64];
        json_t *items;
        int r = 0;

        assert(ret);

        o = json_loadb(json, size, 0, NULL);
        items = json_object_get(o, "nftables");
        if (!json_is_array(items))
                return -EBADMSG;
        subnet_format(range, rs);
        forward_comment(from, "from", rs);
        forward_comment(to, "to", rs);
        /* Inserted at the top: docker's own DOCKER-USER ends with RETURN. Both ways, as flannel does:
         * to the range (new connections from other machines to containers here, which docker's
         * FORWARD chain would drop at its policy) and from it. */
        if (!listing_has_comment(items, to))
                r = asprintf(&text, "insert rule ip filter " NETWORK_DOCKER_USER_CHAIN " ip daddr %s counter accept "
                             "comment \"%s\"\n", rs, to) < 0 ? -ENOMEM : 0;
        if (r >= 0 && !listing_has_comment(items, from)) {
                char *t;

                r = asprintf(&t, "%sinsert rule ip filter " NETWORK_DOCKER_USER_CHAIN " ip saddr %s counter accept "
                             "comment \"%s\"\n", strempty(text), rs, from) < 0 ? -ENOMEM : 0;
                if (r >= 0)
                        free_and_replace(text, t);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        return 0;
}

/* ---- talking to docker ---- */

/* Replace *status by the text fmt makes. Returns 1 when it changed, 0 when not, -ENOMEM (*status kept). */
static int status_replace(char **status, const char *fmt, va_list ap) _printf_(2, 0);
static int status_replace(char **status, const char *fmt, va_list ap) {
        char *s;
        bool changed;

        if (vasprintf(&s, fmt, ap) < 0)
                return -ENOMEM;
        changed = !*status || !streq(*status, s);
        free_and_replace(*status, s);
        return changed;
}

static void docker_set_status(NetworkDocker *d, bool ready, const char *fmt, ...) _printf_(3, 4);
static void docker_set_status(NetworkDocker *d, bool ready, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = status_replace(&d->status, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        /* Checked every few seconds: say it once per change. */
        if (r > 0)
                log_full(ready ? LOG_INFO : LOG_ERR, "Cluster network: %s", d->status);
        d->ready = ready;
}

static void request_stop(NetworkDocker *d) {
        if (d->curl) {
                curl_glue_remove(d->glue, d->curl);
                curl_easy_cleanup(d->curl);
                d->curl = NULL;
        }
        curl_slist_free_all(d->headers);
        d->headers = NULL;
        d->reply = mfree(d->reply);
        d->reply_size = 0;
        d->reply_truncated = false;
        d->step = DOCKER_IDLE;
}

static size_t on_data(char *p, size_t size, size_t n, void *userdata) {
        NetworkDocker *d = userdata;
        size_t k = size * n;
        char *b;

        if (d->reply_size + k > DOCKER_REPLY_MAX) {
                d->reply_truncated = true;
                return 0;
        }
        b = realloc(d->reply, d->reply_size + k + 1);
        if (!b)
                return 0;
        memcpy(b + d->reply_size, p, k);
        d->reply_size += k;
        b[d->reply_size] = 0;
        d->reply = b;
        return k;
}

/* Send method path (under the API version) with body (NULL: none). Returns 0 or a negative errno. */
static int request(NetworkDocker *d, DockerStep step, const char *method, const char *path, const char *body,
                   long timeout_ms) {
        _cleanup_free_ char *url = NULL;
        int r;

        request_stop(d);
        if (asprintf(&url, "http://docker/" NETWORK_DOCKER_API "%s", path) < 0)
                return -ENOMEM;
        d->curl = curl_easy_init();
        if (!d->curl)
                return -ENOMEM;
        if (body) {
                d->headers = curl_slist_append(NULL, "Content-Type: application/json");
                if (!d->headers)
                        return -ENOMEM;
        }
        if (curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH, d->path) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, d) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
            curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            (body && (curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, d->headers) != CURLE_OK ||
                      curl_easy_setopt(d->curl, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK))) {
                request_stop(d);
                return -EIO;
        }
        r = curl_glue_add(d->glue, d->curl);
        if (r < 0) {
                request_stop(d);
                return r;
        }
        d->step = step;
        return 0;
}

/* docker's error answers are {"message": "..."}. */
static const char *reply_message(NetworkDocker *d, char buf[static DOCKER_MESSAGE_MAX]) {
        json_auto_t *o = NULL;
        const char *m;

        /* podman 4.3 sends its error object twice, one after the other: the first one tells. */
        o = d->reply ? json_loadb(d->reply, d->reply_size, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
        m = json_string_value(json_object_get(o, "message"));
        snprintf(buf, DOCKER_MESSAGE_MAX, "%s", m ?: d->reply_size > 0 ? "(no message)" : "(empty answer)");
        return buf;
}

/* GET /networks with a name filter: every network called "fleet" (and, the filter matching parts of
 * names, some others), with its configuration. The list, not GET /networks/fleet: docker answers
 * that with 400 "network fleet is ambiguous" when there are two, and says nothing of either. */
#define DOCKER_LIST_PATH "/networks?filters=%7B%22name%22%3A%5B%22" NETWORK_CNI_NAME "%22%5D%7D"

static void list(NetworkDocker *d) {
        int r;

        if (d->round_lists >= DOCKER_ROUND_LISTS_MAX)
                return docker_set_status(d, false, "docker's networks named %s keep changing (listed %u times): "
                                         "looking again at the next check", NETWORK_CNI_NAME, d->round_lists);
        d->round_lists++;
        r = request(d, DOCKER_LIST, "GET", DOCKER_LIST_PATH, NULL, DOCKER_LIST_TIMEOUT_MS);
        if (r < 0)
                docker_set_status(d, false, "cannot ask docker at %s about network %s: %s", d->path,
                                  NETWORK_CNI_NAME, strerror(-r));
}

/* A round of checks: list, remove what is wrong or doubled, create what is missing, list again. */
static void check_now(NetworkDocker *d) {
        if (!d->have_subnet || d->step != DOCKER_IDLE)
                return;
        if (access(d->path, F_OK) < 0)
                return docker_set_status(d, false, "no docker at %s: docker network %s not set up", d->path,
                                         NETWORK_CNI_NAME);
        d->round_lists = 0;
        list(d);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        NetworkDocker *d = userdata;

        check_now(d);
        (void) sd_event_source_set_time_relative(s, NETWORK_DOCKER_CHECK_USEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void create(NetworkDocker *d) {
        _cleanup_free_ char *body = network_docker_create_body(d->subnet, d->mtu);
        int r;

        /* CheckDuplicate (in the body) makes docker refuse a second "fleet" it knows of; it is no lock,
         * so the list after the create is what makes sure. */
        r = body ? request(d, DOCKER_CREATE, "POST", "/networks/create", body, DOCKER_CHANGE_TIMEOUT_MS) : -ENOMEM;
        if (r < 0)
                docker_set_status(d, false, "cannot create docker network %s: %s", NETWORK_CNI_NAME, strerror(-r));
}

/* Remove the plan's next network; when none is left, create the network or check the one kept. */
static void remove_next(NetworkDocker *d) {
        _cleanup_free_ char *path = NULL;
        const char *id = d->plan.remove ? d->plan.remove[d->removing] : NULL;
        int r;

        if (!id)
                return d->plan.keep ? list(d) : create(d);
        log_warning("Cluster network: docker network %s %.12s %s: removing it%s.", NETWORK_CNI_NAME, id,
                    d->plan.why[d->removing], d->plan.keep ? "" : " to create it again");
        r = asprintf(&path, "/networks/%s", id) < 0 ? -ENOMEM :
                request(d, DOCKER_REMOVE, "DELETE", path, NULL, DOCKER_CHANGE_TIMEOUT_MS);
        if (r < 0)
                docker_set_status(d, false, "cannot remove docker network %s %.12s: %s", NETWORK_CNI_NAME, id,
                                  strerror(-r));
}

static void forward_set_status(NetworkDocker *d, int level, const char *fmt, ...) _printf_(3, 4);
static void forward_set_status(NetworkDocker *d, int level, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = status_replace(&d->forward_status, fmt, ap);
        va_end(ap);
        /* Looked at every few seconds: say it once per change. */
        if (r > 0)
                log_full(level, "Cluster network: %s", d->forward_status);
}

/* docker sets the FORWARD policy to DROP when it turns forwarding on itself (as at boot), which
 * drops other machines' connections to containers here; DOCKER-USER is where docker leaves room
 * for rules of one's own. iptables-nft (Debian's iptables, which docker runs) keeps it in nftables'
 * table ip filter, so libnftables reaches it. Keep fleetd's accept rules there. */
static void forward_check(NetworkDocker *d) {
        _cleanup_free_ char *json = NULL, *error = NULL, *rules = NULL;
        char rs[SUBNET_STRLEN];
        int r;

        subnet_format(d->range, rs);
        r = network_nft_list("list chain ip filter " NETWORK_DOCKER_USER_CHAIN, &json, &error);
        if (error)      /* nft's first line says it; the others point at the command */
                error[strcspn(error, "\n")] = 0;
        if (r == -EIO)
                return forward_set_status(d, LOG_WARNING, "no chain %s in nftables' table ip filter (docker runs "
                                          "without iptables, or with iptables-legacy; nft: %s): if docker's FORWARD "
                                          "policy drops, other machines do not reach containers here",
                                          NETWORK_DOCKER_USER_CHAIN, strna(error));
        if (r >= 0)
                r = network_docker_forward_rules(d->range, json, strlen(json), &rules);
        if (r >= 0 && !rules)
                return forward_set_status(d, LOG_INFO, "docker's chain %s accepts the cluster range %s",
                                          NETWORK_DOCKER_USER_CHAIN, rs);
        if (r >= 0)
                r = network_nft_apply(rules, &error);
        if (r < 0)
                return forward_set_status(d, LOG_ERR, "cannot accept the cluster range %s in docker's chain %s: %s",
                                          rs, NETWORK_DOCKER_USER_CHAIN, error ?: strerror(-r));
        log_info("Cluster network: accepting the cluster range %s in docker's chain %s (docker's FORWARD policy "
                 "may drop).", rs, NETWORK_DOCKER_USER_CHAIN);
        d->forward_status = mfree(d->forward_status);
}

static void on_listed(NetworkDocker *d, long code) {
        NetworkDockerPlan plan = {};
        char msg[DOCKER_MESSAGE_MAX];
        char sn[SUBNET_STRLEN];
        int r;

        if (code != 200)
                return docker_set_status(d, false, "docker at %s answered %ld to GET /networks: %s", d->path, code,
                                         reply_message(d, msg));
        r = network_docker_plan(d->reply, d->reply_size, d->subnet, d->mtu, &plan);
        if (r < 0)
                return docker_set_status(d, false, "docker at %s: cannot read its networks named %s: %s", d->path,
                                         NETWORK_CNI_NAME, strerror(-r));
        network_docker_plan_done(&d->plan);
        d->plan = plan;
        d->removing = 0;
        if (d->plan.keep && !d->plan.remove) {
                forward_check(d);
                return docker_set_status(d, true, "docker network %s on %s (bridge %s, docker's addresses from the "
                                         "upper half)", NETWORK_CNI_NAME, subnet_format(d->subnet, sn),
                                         NETWORK_BRIDGE_NAME);
        }
        if (d->plan.remove)
                docker_set_status(d, false, "repairing docker's networks named %s: %zu to remove%s", NETWORK_CNI_NAME,
                                  strv_length(d->plan.remove), d->plan.keep ? "" : ", none right");
        remove_next(d);
}

static void on_finished(CurlGlue *g, CURL *curl, CURLcode result, void *userdata) {
        NetworkDocker *d = userdata;
        DockerStep step = d->step;
        char msg[DOCKER_MESSAGE_MAX];
        long code = 0;

        assert(curl == d->curl);
        if (result != CURLE_OK) {
                /* A change given up on may still happen: the next round's list sees what came of it. */
                docker_set_status(d, false, "docker at %s does not answer: %s", d->path,
                                  d->reply_truncated ? "answer over 1 MiB" : curl_easy_strerror(result));
                return request_stop(d);
        }
        (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        /* The reply stays ours until the next request replaces it. */
        curl_easy_cleanup(d->curl);
        d->curl = NULL;
        d->step = DOCKER_IDLE;

        /* Two networks of one name make docker answer 400 "... is ambiguous" to whatever names it: the
         * list tells which they are, and the plan removes the extra one. */
        if (step != DOCKER_LIST && code >= 400 && strstr(reply_message(d, msg), "ambiguous")) {
                log_warning("Cluster network: docker: %s: listing its networks named %s to repair them.", msg,
                            NETWORK_CNI_NAME);
                return list(d);
        }

        switch (step) {

        case DOCKER_LIST:
                on_listed(d, code);
                break;

        case DOCKER_REMOVE:
                if (code == 204 || code == 200 || code == 404) {
                        d->removing++;
                        remove_next(d);
                } else
                        docker_set_status(d, false, "docker network %s %.12s %s, and docker refuses to remove it "
                                          "(%ld: %s): remove its containers or the network", NETWORK_CNI_NAME,
                                          d->plan.remove[d->removing], d->plan.why[d->removing], code,
                                          reply_message(d, msg));
                break;

        case DOCKER_CREATE:
                if (code == 201 || code == 200) {
                        char sn[SUBNET_STRLEN];

                        log_info("Cluster network: created docker network %s on %s.", NETWORK_CNI_NAME,
                                 subnet_format(d->subnet, sn));
                        /* Read it back: what docker made of it, and whether it is the only one, decides. */
                        list(d);
                } else if (code == 409) {
                        /* Made meanwhile (by an earlier create that timed out, or someone else): look. */
                        log_info("Cluster network: docker already has a network %s (%s): checking it.",
                                 NETWORK_CNI_NAME, reply_message(d, msg));
                        list(d);
                } else
                        docker_set_status(d, false, "docker refuses to create network %s (%ld: %s)",
                                          NETWORK_CNI_NAME, code, reply_message(d, msg));
                break;

        case DOCKER_IDLE:
                break;
        }
}

int network_docker_new(NetworkDocker **ret, sd_event *event, const char *path) {
        _cleanup_(network_docker_freep) NetworkDocker *d = NULL;
        int r;

        assert(ret);
        assert(path);

        d = new0(NetworkDocker, 1);
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->path = strdup(path);
        d->status = strdup("not checked yet");
        if (!d->path || !d->status)
                return -ENOMEM;
        r = curl_glue_new(&d->glue, event, on_finished, d);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(event, &d->timer, CLOCK_MONOTONIC, NETWORK_DOCKER_CHECK_USEC, 0, on_timer, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(d->timer, "docker-network");
        *ret = TAKE_PTR(d);
        return 0;
}

NetworkDocker *network_docker_free(NetworkDocker *d) {
        if (!d)
                return NULL;
        request_stop(d);
        curl_glue_free(d->glue);
        sd_event_source_disable_unref(d->timer);
        sd_event_unref(d->event);
        free(d->path);
        network_docker_plan_done(&d->plan);
        free(d->status);
        free(d->forward_status);
        return mfree(d);
}

void network_docker_set(NetworkDocker *d, Subnet range, Subnet subnet, uint32_t mtu) {
        char sn[SUBNET_STRLEN];
        Subnet half;

        assert(d);

        if (!network_docker_range(subnet, &half)) {
                docker_set_status(d, false, "subnet %s is too small to share with docker (at most /28): docker "
                                  "network %s not set up", subnet_format(subnet, sn), NETWORK_CNI_NAME);
                return;
        }
        d->range = range;
        d->subnet = subnet;
        d->mtu = mtu;
        d->have_subnet = true;
        request_stop(d);
        check_now(d);
        (void) sd_event_source_set_time_relative(d->timer, NETWORK_DOCKER_CHECK_USEC);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

const char *network_docker_status(const NetworkDocker *d) {
        return d ? d->status : "docker network not managed";
}

bool network_docker_is_ready(const NetworkDocker *d) {
        return d && d->ready;
}
