"""The bridge's routing for a LoRaWAN network server's events.

Each uplink becomes a Vigie batch (one reading time: the uplink's) on the device's own
topic, and then goes the very way a device's batch goes: the same validation, the same
Kafka record, the same de-duplication downstream on (device, seq). What cannot be read
becomes a dead letter carrying the server's event as it came: an unknown DevEUI, a frame
its decoder refuses, fields its model does not map. Mapped fields of an uplink still arrive
when others are refused.

Counter states are written to disk after Kafka acknowledged the bulk and before MQTT is
acknowledged, so a bridge killed at any point numbers the redelivered uplinks as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.lorawan.counters import FrameCounters
from ingest.lorawan.models import DeviceModel
from ingest.lorawan.state import CounterStore
from ingest.lorawan.translate import translate
from ingest.lorawan.uplinks import Join, Network, UplinkError, parse
from ingest.routing import Inbound, Outbound, Router
from vigie.contracts import Asset, Channel, DeadLetter, DeviceTopic, RejectReason
from vigie.registries import Registries

log = logging.getLogger("vigie.ingest.lorawan")


def by_dev_eui(registry: Registries) -> dict[str, tuple[str, Asset]]:
    """Every LoRaWAN asset of every territory served, by DevEUI."""
    out: dict[str, tuple[str, Asset]] = {}
    for territory in registry.territories.values():
        for eui, asset in territory.by_dev_eui().items():
            if eui in out:
                raise ValueError(f"DevEUI {eui} is in {out[eui][0]} and {territory.id}")
            out[eui] = (territory.id, asset)
    return out


@dataclass
class LorawanRouter(Router):
    network: Network = "chirpstack"
    models: Mapping[str, DeviceModel] = field(default_factory=dict)
    devices: Mapping[str, tuple[str, Asset]] = field(default_factory=dict)
    counters: FrameCounters = field(default_factory=FrameCounters)
    store: CounterStore | None = None

    def route_all(self, item: Inbound) -> list[Outbound]:
        try:
            event = parse(self.network, item.topic, item.payload, item.received_at_ms)
            if event is None:
                self.stats.ignored += 1
                return []
            if isinstance(event, Join):
                self.counters.join(event.dev_eui, event.time_ms)
                self.stats.ignored += 1
                return []
            found = self.devices.get(event.dev_eui)
            if found is None:
                raise UplinkError(
                    RejectReason.UNKNOWN_DEVICE,
                    f"DevEUI {event.dev_eui} is in no registry: add lorawan.dev_eui to its asset",
                )
            territory, asset = found
            model = self.models.get(asset.lorawan.model if asset.lorawan else "")
            if model is None:
                raise UplinkError(
                    RejectReason.UNDECODABLE,
                    f"{asset.id}: no device model "
                    f"{asset.lorawan.model if asset.lorawan else None!r} "
                    f"(known: {', '.join(sorted(self.models))})",
                )
            done = translate(event, asset, model)
        except UplinkError as exc:
            return [self._letter(item, exc.reason, exc.detail)]
        out = []
        if done.readings:
            seq = self.counters.seq(event.dev_eui, event.f_cnt, event.time_ms)
            batch = {
                "v": 1,
                "device_id": asset.id,
                "seq": seq,
                "sent_at_ms": event.time_ms,
                "readings": [
                    {"ts_ms": event.time_ms, "metric": m, "value": v} for m, v in done.readings
                ],
            }
            topic = DeviceTopic(
                territory, asset.vertical, asset.id, Channel.TELEMETRY, self.policy.prefix
            )
            inner = Inbound(
                str(topic), json.dumps(batch).encode(), item.mid, item.qos, item.received_at_ms
            )
            routed = self.route(inner)
            if routed is not None:
                out.append(routed)
        if done.unmapped:
            reason = RejectReason.UNMAPPED_FIELD
            detail = f"{model.name}: no metric for {', '.join(done.unmapped)}"
            detail = "; ".join([detail, *done.faults])
        elif done.faults:
            reason, detail = RejectReason.UNDECODABLE, "; ".join(done.faults)
        elif not done.readings:  # a start-up, device-information or debug frame
            reason = RejectReason.UNMAPPED_FIELD
            detail = f"{model.name}: {done.note or 'no field Vigie maps'}"
        else:
            return out
        detail = f"{asset.id} fCnt {event.f_cnt}: {detail}"
        out.append(self._letter(item, reason, detail, counted=bool(out)))
        return out

    def settle(self) -> None:
        """Write the counter states a bulk changed (Kafka has the bulk)."""
        if self.store is not None:
            self.store.save(self.counters.take())

    def _letter(
        self, item: Inbound, reason: RejectReason, detail: str, counted: bool = False
    ) -> Outbound:
        """A dead letter of the event as it came (``counted``: its batch was received)."""
        self.stats.received += not counted
        self.stats.rejected[reason] += 1
        log.warning("lorawan event refused", extra={"reason": reason, "detail": detail[:200]})
        letter = DeadLetter.of(item.topic, item.received_at_ms, reason, detail, item.payload)
        return Outbound(
            self.topics.deadletter,
            item.topic.encode(),
            letter.model_dump_json().encode(),
            [("reason", reason.encode())],
        )
