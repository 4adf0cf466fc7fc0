/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "unit-writer.h"

/* What `systemctl enable` would do, done by the generator: systemd does not enable generated
 * units, so, as quadlet does, the links a unit's [Install] section asks for are made in the
 * generator's output directory dest, next to the unit. For each unit the unit's name (a template:
 * each of its instances) gets "<target>.wants/" (WantedBy=) and "<target>.requires/" (RequiredBy=)
 * links to "../<unit>", and each Alias= a link "<alias>" to "<unit>".
 * An existing link of the same name is replaced. Returns 0, or a negative errno after logging
 * which link could not be made (the unit file itself is already written then). */
int generator_install_links(const char *dest, const RenderedUnit *u);
