"""Every factor of the footprint and savings estimates, with its source, in one table.

Each is a setting (``VIGIE_FOOTPRINT__<NAME>`` or ``[footprint]`` in the config file), so a
territory can put in its own measured figures. "unsourced" marks a documented assumption.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Link = Literal["lora", "lora_sf12", "nbiot", "cellular", "wired"]

SOURCES: dict[str, str] = {
    "board_idle_w": "Raspberry Pi 4 idle, published board measurements",
    "board_load_w": "Raspberry Pi 4 under load, published board measurements",
    "board_busy_share": "unsourced: share of the day an edge board works at full load",
    "link_j_per_message.lora": "SX1262 +14 dBm, ~20-byte payload at SF7 (Semtech airtime formula)",
    "link_j_per_message.lora_sf12": "the same at SF12 (Semtech airtime formula)",
    "link_j_per_message.nbiot": (
        "derived: 152 mW receive during the ~10 s inactivity timer that dominates per-message "
        "energy (published NB-IoT energy models)"
    ),
    "link_j_per_message.cellular": "unsourced: taken as the NB-IoT timer model",
    "link_j_per_message.wired": (
        "power-model allocation (Mytton, Lundén & Malmodin 2024): the network's base load is "
        "not caused by Vigie, its per-message increment is negligible"
    ),
    "server_w_per_busy_core": "unsourced: a server's power per fully busy core",
    "grid_gco2e_per_kwh": "derived: middle of 55-73 gCO2e/kWh, French grid 2021-2022",
    "grid_gco2e_per_kwh_low": "the low end of the same range (French grid 2021-2022)",
    "grid_gco2e_per_kwh_high": "the high end of the same range (French grid 2021-2022)",
    "platform_cpu_s_per_1000_readings": (
        "measured: the bridge's and worker's CPU per 1,000 readings stored at 20,000 "
        "readings/s on the development machine (0.039-0.043 s); for estimates without a "
        "running platform (vigie footprint estimate)"
    ),
    "devices_per_gateway": (
        "unsourced: radio devices one LoRaWAN gateway serves in a town (hundreds to thousands)"
    ),
    "water_wh_per_m3": "unsourced: energy to produce and distribute a cubic metre of water",
    "leak_baseline_days": "unsourced: how long a leak runs before it is found without sensors",
    "pickup_wh": "unsourced: a refuse truck's energy per bin stop",
}


class FootprintFactors(BaseModel):
    model_config = ConfigDict(frozen=True)

    board_idle_w: float = Field(default=1.6, ge=0)
    board_load_w: float = Field(default=5.0, ge=0)
    board_busy_share: float = Field(default=0.05, ge=0, le=1)
    link: Link = "cellular"
    link_j_per_message: dict[str, float] = Field(
        default_factory=lambda: {
            "lora": 0.011,
            "lora_sf12": 0.27,
            "nbiot": 1.52,
            "cellular": 1.52,
            "wired": 0.0,
        }
    )
    server_w_per_busy_core: float = Field(default=15.0, ge=0)
    grid_gco2e_per_kwh: float = Field(default=64.0, ge=0)
    grid_gco2e_per_kwh_low: float = Field(default=55.0, ge=0)
    grid_gco2e_per_kwh_high: float = Field(default=73.0, ge=0)
    devices_per_gateway: int = Field(default=500, gt=0)
    platform_cpu_s_per_1000_readings: float = Field(default=0.041, ge=0)
    water_wh_per_m3: float = Field(default=500.0, ge=0)
    leak_baseline_days: float = Field(default=30.0, ge=0)
    pickup_wh: float = Field(default=400.0, ge=0)

    def table(self) -> list[tuple[str, str, str]]:
        """(factor, value, source) rows, for the README and ``vigie footprint factors``."""
        rows = []
        for name, value in self.model_dump().items():
            if name == "link_j_per_message":
                for link, joules in value.items():
                    key = f"link_j_per_message.{link}"
                    rows.append((key, f"{joules:g} J", SOURCES[key]))
            elif name != "link":
                rows.append((name, f"{value:g}", SOURCES[name]))
        return rows
