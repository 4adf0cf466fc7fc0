/* SPDX-License-Identifier: Apache-2.0 */

/* cluster-probe: run inside a node (tools/cluster exec N cluster-probe [UNIT]). Asks the node's
 * systemd over unix:path=/run/systemd/private, with no dbus-daemon, for its Version, SystemState
 * and Virtualization, and for UNIT's ActiveState if given. Prints "Key=value" lines; exits non-zero
 * with the error on stderr if systemd does not answer. */

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "log.h"

#define SYSTEMD_SERVICE "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

static int probe_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        /* A direct connection to PID 1, not a message bus: sd_bus_start() must not send Hello(). */
        r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(bus);
        return 0;
}

static int probe_manager_property(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *value = NULL;
        int r;

        r = sd_bus_get_property_string(bus, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, name, &error,
                                       &value);
        if (r < 0)
                return log_error_errno(r, "Failed to read Manager.%s: %s", name,
                                       error.message ?: strerror(-r));
        printf("%s=%s\n", name, value);
        return 0;
}

static int probe_unit_state(sd_bus *bus, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *state = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_SERVICE, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", &error,
                               &reply, "s", unit);
        if (r < 0)
                return log_error_errno(r, "Failed to load %s: %s", unit, error.message ?: strerror(-r));
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse the LoadUnit reply: %m");
        r = sd_bus_get_property_string(bus, SYSTEMD_SERVICE, path, "org.freedesktop.systemd1.Unit",
                                       "ActiveState", &error, &state);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s's ActiveState: %s", unit,
                                       error.message ?: strerror(-r));
        printf("ActiveState=%s\n", state);
        return 0;
}

int main(int argc, char *argv[]) {
        static const char *const manager_properties[] = { "Version", "SystemState", "Virtualization" };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        sd_id128_t machine;
        int r;

        log_set_target(LOG_TARGET_CONSOLE);
        log_parse_environment();

        if (argc > 2) {
                log_error("usage: %s [UNIT]", program_invocation_short_name);
                return EXIT_FAILURE;
        }

        r = probe_connect(&bus);
        if (r < 0) {
                log_error_errno(r, "Failed to connect to /run/systemd/private: %m");
                return EXIT_FAILURE;
        }

        for (size_t i = 0; i < ELEMENTSOF(manager_properties); i++) {
                r = probe_manager_property(bus, manager_properties[i]);
                if (r < 0)
                        return EXIT_FAILURE;
        }

        r = sd_id128_get_machine(&machine);
        if (r < 0) {
                log_error_errno(r, "Failed to read the machine ID: %m");
                return EXIT_FAILURE;
        }
        printf("MachineID=" SD_ID128_FORMAT_STR "\n", SD_ID128_FORMAT_VAL(machine));

        if (argc == 2) {
                r = probe_unit_state(bus, argv[1]);
                if (r < 0)
                        return EXIT_FAILURE;
        }

        return EXIT_SUCCESS;
}
