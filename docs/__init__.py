"""The project documentation shipped with the tool (methodology.md is cited by every report)."""
