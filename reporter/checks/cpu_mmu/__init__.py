"""Windows Server 2003 CPU/MMU virtualization mode (KB2001372).

``guests`` identifies Windows 2003 guests from the data file
``reporter/data/win2003_guests.toml``; ``assess`` works out, per VM, the configured
mode, the mode it actually runs in on its current host and which advice applies;
the ``cpu*`` modules are the checks (CPU-001…CPU-006) and ``fleet_tables`` the
report tables. All of it reads only the snapshot.
"""

from reporter.checks.base import Family

FAMILY = Family(id="cpu-mmu", title="Windows Server 2003 CPU/MMU virtualization", order=50)
