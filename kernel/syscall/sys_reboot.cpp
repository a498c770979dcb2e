// reboot(2): restart, halt and power-off of the VM.
#include <linux/reboot.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/firmware_tables.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/process/caps.h"
#include "kernel/process/process.h"
#include "kernel/smp.h"
#include "kernel/syscall/syscall.h"

namespace keel {

namespace {

[[noreturn]] void stop_machine(const char* what) {
    pr_emerg("reboot: %s", what);
    arch::irq_disable();
    smp_stop_others();
    arch::halt_forever();
}

}  // namespace

SYSCALL(reboot) {
    u32 magic1 = static_cast<u32>(args.a0), magic2 = static_cast<u32>(args.a1);
    if (!caps::capable(CAP_SYS_BOOT)) return Error(EPERM);
    if (magic1 != LINUX_REBOOT_MAGIC1 ||
        (magic2 != LINUX_REBOOT_MAGIC2 && magic2 != LINUX_REBOOT_MAGIC2A && magic2 != LINUX_REBOOT_MAGIC2B &&
         magic2 != LINUX_REBOOT_MAGIC2C))
        return Error(EINVAL);
    switch (static_cast<u32>(args.a2)) {
    case LINUX_REBOOT_CMD_RESTART:
    case LINUX_REBOOT_CMD_RESTART2:
        pr_emerg("reboot: Restarting system");
        machine_reboot();
    case LINUX_REBOOT_CMD_HALT:
        stop_machine("System halted");
    case LINUX_REBOOT_CMD_POWER_OFF:
        pr_emerg("reboot: Power down");
        arch::irq_disable();
        smp_stop_others();
        arch::acpi_power_off();
        // Without ACPI (microvm,acpi=off) halting is what is left.
        arch::halt_forever();
    case LINUX_REBOOT_CMD_CAD_ON:
    case LINUX_REBOOT_CMD_CAD_OFF:
        return 0;
    default:
        return Error(EINVAL);
    }
}

}  // namespace keel
