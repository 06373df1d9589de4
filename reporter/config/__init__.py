"""The configuration: frozen TOML sections (``sections``) and the settings checks read
(``settings``). Nothing here imports a check family: families register their settings."""

from reporter.config.sections import (
    Config,
    EmailConfig,
    HistoryConfig,
    LicensingConfig,
    OutputConfig,
    ScheduleConfig,
    SecretRef,
    VCenterConfig,
    WaiverConfig,
    load_config,
    parse_config,
)

__all__ = [
    "Config", "EmailConfig", "HistoryConfig", "LicensingConfig", "OutputConfig", "ScheduleConfig",
    "SecretRef", "VCenterConfig", "WaiverConfig", "load_config", "parse_config",
]
