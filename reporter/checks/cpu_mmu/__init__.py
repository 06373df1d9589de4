"""Windows Server 2003 CPU/MMU virtualization mode (KB2001372; domain-reference §7).

``guests`` identifies Windows 2003 guests from the data file
``reporter/data/win2003_guests.toml``; ``assess`` works out, per VM, the configured
mode, the mode it actually runs in on its current host and which advice applies;
the ``cpu*`` modules are the checks (CPU-001…CPU-006) and ``fleet_tables`` the
report tables. All of it reads only the snapshot.
"""
