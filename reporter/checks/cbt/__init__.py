"""Changed Block Tracking checks (family "cbt", ids CBT-NNN): domain-reference §5."""
