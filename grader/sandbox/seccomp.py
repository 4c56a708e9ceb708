"""A seccomp filter for the sandbox: system calls a notebook never needs fail with EPERM.

Built with libseccomp through its ctypes bindings (``pyseccomp``, API-compatible with libseccomp's own
Python module), exported as BPF once per grader process and handed to bubblewrap (``--seccomp FD``),
which installs it just before it starts the command. The deny-list follows Docker's and Flatpak's
default profiles: debugging other processes (ptrace, process_vm_*), changing mounts or namespaces,
the kernel keyring, eBPF, perf, userfaultfd, io_uring, kernel modules, reboot/kexec, and the like.
Sockets are limited to the families the network namespace isolates (see ALLOWED_FAMILIES), and
``fallocate`` is refused (EOPNOTSUPP; libc then writes the blocks, at disk speed, under RLIMIT_FSIZE).
An unknown name on an older kernel is skipped, not fatal.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import tempfile

log = logging.getLogger(__name__)

DENIED = (
    # other processes' memory and registers
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # mounts, namespaces, root
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # kernel keyring, eBPF, perf, userfaultfd, io_uring
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # the kernel itself
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "syslog", "acct", "quotactl", "lookup_dcookie", "iopl", "ioperm",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init", "nfsservctl", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "personality",
)


# socket(): only the families a notebook needs. The network namespace isolates AF_INET/AF_INET6/AF_UNIX
# (loopback only) and AF_NETLINK; it does not isolate e.g. AF_VSOCK (the hypervisor's port space) or
# AF_ALG (kernel crypto), so every other family fails with EAFNOSUPPORT.
ALLOWED_FAMILIES = (1, 2, 10, 16)  # AF_UNIX, AF_INET, AF_INET6, AF_NETLINK
_DENY_BELOW_17 = tuple(f for f in range(3, 17) if f not in ALLOWED_FAMILIES)


class SeccompUnavailable(RuntimeError):
    """libseccomp or its bindings are missing: the sandbox runs without the system-call filter."""


@functools.lru_cache(maxsize=1)
def bpf_program() -> bytes:
    """The BPF program for this machine's architecture (built once per process)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: libseccomp.so.2 itself is missing
        raise SeccompUnavailable(f"pyseccomp / libseccomp not available ({exc})") from exc
    filt = seccomp.SyscallFilter(seccomp.ALLOW)
    skipped = []
    for name in DENIED:
        try:
            filt.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (ValueError, RuntimeError, OSError):
            skipped.append(name)  # not a system call of this architecture or kernel
    if skipped:
        log.info("seccomp: not filtering unknown system calls %s", ", ".join(skipped))
    # disk space reserved in milliseconds outruns the size checks: make programs write instead
    filt.add_rule(seccomp.ERRNO(errno.EOPNOTSUPP), "fallocate")
    for call in ("socket", "socketpair"):
        filt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.GE, 17))
        for family in _DENY_BELOW_17:
            filt.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), call, seccomp.Arg(0, seccomp.EQ, family))
    with tempfile.TemporaryFile() as fh:
        filt.export_bpf(fh)
        fh.seek(0)
        return fh.read()


def open_filter() -> int:
    """A fresh fd holding the BPF program, positioned at its start, for bwrap's ``--seccomp FD``
    (bwrap reads it to the end, so every run needs its own)."""
    program = bpf_program()
    fd = os.memfd_create("grader-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
