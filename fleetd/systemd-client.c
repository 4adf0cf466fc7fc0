/* SPDX-License-Identifier: Apache-2.0 */

#include <systemd/sd-bus.h>

#include "systemd-client.h"
#include "log.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_IFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_UNIT_PATH_PREFIX "/org/freedesktop/systemd1/unit"
#define SYSTEMD_PRIVATE_ADDRESS "unix:path=/run/systemd/private"

struct SystemdClient {
        sd_bus *bus;
        sd_bus_slot *properties_slot;
        sd_bus_slot *job_removed_slot;
        SystemdClientHandlers handlers;
};

typedef struct Pending {
        SystemdClient *client;
        systemd_done_t done;
        systemd_job_queued_t queued;    /* for a unit's job */
        void *userdata;
        char *what;
        char *unit;
} Pending;

static void pending_free(void *p) {
        Pending *pending = p;

        if (!pending)
                return;
        free(pending->what);
        free(pending->unit);
        free(pending);
}

static int pending_new(SystemdClient *s, systemd_done_t done, void *userdata, const char *what,
                       Pending **ret) {
        Pending *p;

        p = new0(Pending, 1);
        if (!p)
                return -ENOMEM;
        *p = (Pending) { .client = s, .done = done, .userdata = userdata, .what = strdup(what) };
        if (!p->what) {
                free(p);
                return -ENOMEM;
        }
        *ret = p;
        return 0;
}

static int reply_error(sd_bus_message *reply, const char **ret_message) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (!e) {
                *ret_message = NULL;
                return 0;
        }
        *ret_message = e->message ?: e->name;
        return -abs(sd_bus_message_get_errno(reply) ?: EIO);
}

/* Send m with a floating slot that owns p (freed when the reply was handled or the bus is closed). */
static int call_async(SystemdClient *s, sd_bus_message *m, sd_bus_message_handler_t handler, Pending *p) {
        sd_bus_slot *slot = NULL;
        int r;

        r = sd_bus_call_async(s->bus, &slot, m, handler, p, 0);
        if (r < 0) {
                pending_free(p);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, pending_free);
        r = sd_bus_slot_set_floating(slot, true);
        sd_bus_slot_unref(slot);
        return r < 0 ? r : 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        SystemdClient *s = userdata;
        _cleanup_free_ char *unit = NULL, *load = NULL, *active = NULL, *sub = NULL;
        const char *iface;
        int r;

        if (!s->handlers.unit_state)
                return 0;
        r = sd_bus_path_decode(sd_bus_message_get_path(m), SYSTEMD_UNIT_PATH_PREFIX, &unit);
        if (r <= 0)
                return 0;

        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, SYSTEMD_UNIT_IFACE))
                return 0;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                goto bad;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                char **field = NULL;
                const char *name, *value;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        goto bad;
                if (streq(name, "LoadState"))
                        field = &load;
                else if (streq(name, "ActiveState"))
                        field = &active;
                else if (streq(name, "SubState"))
                        field = &sub;

                if (field) {
                        r = sd_bus_message_read(m, "v", "s", &value);
                        if (r < 0)
                                goto bad;
                        free(*field);
                        *field = strdup(value);
                        if (!*field)
                                return log_oom();
                } else {
                        r = sd_bus_message_skip(m, "v");
                        if (r < 0)
                                goto bad;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto bad;
        }
        if (r < 0)
                goto bad;

        if (load || active || sub)
                s->handlers.unit_state(s, unit, load, active, sub, s->handlers.userdata);
        return 0;

bad:
        log_debug_errno(r, "Failed to parse PropertiesChanged of %s, ignoring: %m", unit);
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        SystemdClient *s = userdata;
        const char *job, *unit, *result;
        uint32_t id;
        int r;

        r = sd_bus_message_read(m, "uoss", &id, &job, &unit, &result);
        if (r < 0) {
                log_debug_errno(r, "Failed to parse JobRemoved, ignoring: %m");
                return 0;
        }
        if (s->handlers.job_removed)
                s->handlers.job_removed(s, unit, job, result, s->handlers.userdata);
        return 0;
}

static int on_subscribed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const char *message;
        int r;

        r = reply_error(reply, &message);
        if (r < 0)
                log_error_errno(r, "systemd: Subscribe failed, unit states will not be followed: %s",
                                strna(message));
        return 0;
}

static int bus_connect(const char *address, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        if (!address && geteuid() == 0 && access("/run/systemd/private", F_OK) >= 0)
                address = SYSTEMD_PRIVATE_ADDRESS;
        if (!address)
                return sd_bus_open_system(ret);

        /* A peer-to-peer connection to PID 1, not a message bus: sd_bus_new() leaves bus_client
         * off, so no Hello() is sent (the private socket does not implement it). */
        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int systemd_client_new(SystemdClient **ret, sd_event *event, const char *address,
                       const SystemdClientHandlers *handlers) {
        _cleanup_(systemd_client_freep) SystemdClient *s = NULL;
        int r;

        assert(ret);
        assert(event);

        s = new0(SystemdClient, 1);
        if (!s)
                return -ENOMEM;
        if (handlers)
                s->handlers = *handlers;

        r = bus_connect(address, &s->bus);
        if (r < 0)
                return r;

        r = sd_bus_add_match(s->bus, &s->properties_slot,
                             "type='signal',"
                             "interface='org.freedesktop.DBus.Properties',"
                             "member='PropertiesChanged',"
                             "path_namespace='" SYSTEMD_UNIT_PATH_PREFIX "'",
                             on_properties_changed, s);
        if (r < 0)
                return r;
        r = sd_bus_match_signal(s->bus, &s->job_removed_slot, NULL, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                "JobRemoved", on_job_removed, s);
        if (r < 0)
                return r;

        r = sd_bus_set_exit_on_disconnect(s->bus, true);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(s->bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;

        /* Asynchronous like every other call: the reply comes through the loop. Calls sent later
         * are queued behind it, so no signal for them is missed. */
        r = sd_bus_call_method_async(s->bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe",
                                     on_subscribed, s, "");
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

SystemdClient *systemd_client_free(SystemdClient *s) {
        if (!s)
                return NULL;
        sd_bus_slot_unref(s->properties_slot);
        sd_bus_slot_unref(s->job_removed_slot);
        if (s->bus) {
                (void) sd_bus_detach_event(s->bus);
                sd_bus_flush_close_unref(s->bus);
        }
        return mfree(s);
}

static int on_done_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        const char *message;
        int r;

        r = reply_error(reply, &message);
        if (r < 0)
                log_warning_errno(r, "systemd: %s failed: %s", p->what, strna(message));
        if (p->done)
                p->done(p->client, r, p->userdata);
        return 0;
}

int systemd_client_reload(SystemdClient *s, systemd_done_t done, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Pending *p;
        int r;

        assert(s);

        r = sd_bus_message_new_method_call(s->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "Reload");
        if (r < 0)
                return r;
        r = pending_new(s, done, userdata, "Reload", &p);
        if (r < 0)
                return r;
        return call_async(s, m, on_done_reply, p);
}

static int on_job_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        const char *message, *job;
        int r;

        r = reply_error(reply, &message);
        if (r < 0)
                log_warning_errno(r, "systemd: %s failed: %s", p->what, strna(message));
        else {
                r = sd_bus_message_read(reply, "o", &job);
                if (r < 0)
                        log_warning_errno(r, "systemd: malformed reply to %s: %m", p->what);
        }
        if (r < 0)
                job = NULL;
        if (p->queued)
                p->queued(p->client, p->unit, job, p->userdata);
        return 0;
}

int systemd_client_queue_job(SystemdClient *s, const char *method, const char *unit, systemd_job_queued_t queued,
                             void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL;
        Pending *p;
        int r;

        assert(s);
        assert(method);
        assert(unit);

        r = sd_bus_message_new_method_call(s->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return r;
        if (asprintf(&what, "%s(%s)", method, unit) < 0)
                return -ENOMEM;
        r = pending_new(s, NULL, userdata, what, &p);
        if (r < 0)
                return r;
        p->queued = queued;
        p->unit = strdup(unit);
        if (!p->unit) {
                pending_free(p);
                return -ENOMEM;
        }
        return call_async(s, m, on_job_reply, p);
}

int systemd_client_start_unit(SystemdClient *s, const char *unit) {
        return systemd_client_queue_job(s, "StartUnit", unit, NULL, NULL);
}

int systemd_client_stop_unit(SystemdClient *s, const char *unit) {
        return systemd_client_queue_job(s, "StopUnit", unit, NULL, NULL);
}

int systemd_client_restart_unit(SystemdClient *s, const char *unit) {
        return systemd_client_queue_job(s, "RestartUnit", unit, NULL, NULL);
}

static int unit_file_call(SystemdClient *s, const char *method, const char *file, bool force) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *what = NULL;
        Pending *p;
        int r;

        assert(s);
        assert(file);

        r = sd_bus_message_new_method_call(s->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "as", 1, file);
        if (r < 0)
                return r;
        /* DisableUnitFiles has no force argument. */
        r = streq(method, "DisableUnitFiles") ? sd_bus_message_append(m, "b", true) :
                                                sd_bus_message_append(m, "bb", true, force);
        if (r < 0)
                return r;
        if (asprintf(&what, "%s(%s)", method, file) < 0)
                return -ENOMEM;
        r = pending_new(s, NULL, NULL, what, &p);
        if (r < 0)
                return r;
        return call_async(s, m, on_done_reply, p);
}

int systemd_client_enable_unit_file(SystemdClient *s, const char *path) {
        return unit_file_call(s, "EnableUnitFiles", path, true);
}

int systemd_client_disable_unit_file(SystemdClient *s, const char *unit) {
        return unit_file_call(s, "DisableUnitFiles", unit, false);
}

int systemd_client_link_unit_file(SystemdClient *s, const char *path) {
        return unit_file_call(s, "LinkUnitFiles", path, true);
}

static int on_list_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        SystemdClient *s = p->client;
        const char *message;
        int r;

        r = reply_error(reply, &message);
        if (r < 0) {
                log_warning_errno(r, "systemd: ListUnitsByNames failed: %s", strna(message));
                goto finish;
        }

        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        if (r < 0)
                goto finish;
        for (;;) {
                const char *name, *description, *load, *active, *sub, *following, *path, *job_type,
                        *job_path;
                uint32_t job_id;

                r = sd_bus_message_read(reply, "(ssssssouso)", &name, &description, &load, &active, &sub,
                                        &following, &path, &job_id, &job_type, &job_path);
                if (r <= 0)
                        break;
                if (s->handlers.unit_state)
                        s->handlers.unit_state(s, name, load, active, sub, s->handlers.userdata);
        }
        if (r < 0)
                log_warning_errno(r, "systemd: malformed ListUnitsByNames reply: %m");

finish:
        if (p->done)
                p->done(s, r < 0 ? r : 0, p->userdata);
        return 0;
}

int systemd_client_refresh(SystemdClient *s, char *const *units, systemd_done_t done, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Pending *p;
        int r;

        assert(s);

        r = sd_bus_message_new_method_call(s->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "ListUnitsByNames");
        if (r < 0)
                return r;
        r = sd_bus_message_append_strv(m, (char **) units);
        if (r < 0)
                return r;
        r = pending_new(s, done, userdata, "ListUnitsByNames", &p);
        if (r < 0)
                return r;
        return call_async(s, m, on_list_reply, p);
}

int systemd_client_own_job_type(SystemdClient *s, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *job = NULL;
        _cleanup_free_ char *unit_path = NULL, *type = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path, *job_path;
        uint32_t job_id;
        int r;

        assert(s);
        assert(ret);

        r = sd_bus_call_method(s->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnitByPID", &error,
                               &reply, "u", (uint32_t) getpid());
        if (r < 0)
                goto finish;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                goto finish;
        unit_path = strdup(path);
        if (!unit_path) {
                r = -ENOMEM;
                goto finish;
        }

        r = sd_bus_get_property(s->bus, SYSTEMD_DEST, unit_path, SYSTEMD_UNIT_IFACE, "Job", &error, &job,
                                "(uo)");
        if (r < 0)
                goto finish;
        r = sd_bus_message_read(job, "(uo)", &job_id, &job_path);
        if (r < 0)
                goto finish;
        if (job_id != 0) {
                r = sd_bus_get_property_string(s->bus, SYSTEMD_DEST, job_path,
                                               "org.freedesktop.systemd1.Job", "JobType", &error, &type);
                if (r < 0)
                        goto finish;
        }
        *ret = TAKE_PTR(type);
        r = 0;

finish:
        sd_bus_error_free(&error);
        return r;
}
