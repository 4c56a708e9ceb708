"""Run one command isolated from the grading machine, with resource limits.

- bwrap.py:    bubblewrap's command line: an allow-list file system, namespaces, no capabilities
- seccomp.py:  the system-call filter handed to bubblewrap
- cgroups.py:  memory and pids limits
- limits.py:   the limits, the result record and the sentences a student reads
- run.py:      run_sandboxed (launch, watch, kill, collect)
- verify.py:   verify_hidden: the hidden paths are really invisible inside

See the README, section "Security model", for what this protects against and what it does not.
"""

from grader.sandbox.bwrap import SANDBOX_HOME, SANDBOX_WORK, gpu_devices
from grader.sandbox.limits import FAILURES, Limits, SandboxResult, failure_message
from grader.sandbox.run import (
    NEUTRAL_CWD,
    PYTHON,
    UNAVAILABLE_HELP,
    SandboxUnavailable,
    SandboxWarning,
    isolation_available,
    run_sandboxed,
)
from grader.sandbox.verify import verify_hidden

__all__ = [
    "FAILURES",
    "NEUTRAL_CWD",
    "PYTHON",
    "SANDBOX_HOME",
    "SANDBOX_WORK",
    "UNAVAILABLE_HELP",
    "Limits",
    "SandboxResult",
    "SandboxUnavailable",
    "SandboxWarning",
    "failure_message",
    "gpu_devices",
    "isolation_available",
    "run_sandboxed",
    "verify_hidden",
]
