#include <systemd/sd-journal.h>
#include <systemd/sd-device.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
