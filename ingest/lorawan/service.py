"""A bridge whose source is a LoRaWAN network server's MQTT integration."""

from __future__ import annotations

from pathlib import Path

from ingest.bridge import Bridge, BridgePolicy, NoRegistryError, make_router
from ingest.lorawan.models import load_models
from ingest.lorawan.router import LorawanRouter, by_dev_eui
from ingest.lorawan.state import CounterStore
from ingest.lorawan.uplinks import FILTERS, Network
from vigie.registries import Registries
from vigie.settings import Settings


def lorawan_bridge(
    settings: Settings,
    network: Network,
    state: Path,
    instance: str = "lorawan-0",
    topics: list[str] | None = None,
) -> Bridge:
    """One bridge subscribed to the server's uplink and join topics (not shared: the frame
    counters of a device need all its events), its MQTT session kept across stops."""
    if not settings.registry:
        raise NoRegistryError(
            "a LoRaWAN bridge finds devices by DevEUI in the registry: set VIGIE_REGISTRY"
        )
    base = make_router(settings, instance)
    store = CounterStore(state)
    router = LorawanRouter(
        topics=base.topics,
        policy=base.policy,
        registry=base.registry,
        tracker=base.tracker,
        stats=base.stats,
        instance=instance,
        network=network,
        models=load_models(),
        devices=by_dev_eui(Registries.load(settings.registry)),
        counters=store.load(),
        store=store,
    )
    # the broker keeps the session (and queues uplinks) as long as ingest accepts their age
    policy = BridgePolicy(
        compression=settings.ingest.compression,
        hand_back=False,
        session_expiry_s=int(settings.ingest.max_age_s),
    )
    return Bridge(
        settings, instance, policy, router=router, filters=topics or list(FILTERS[network])
    )
