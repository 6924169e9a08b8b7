"""``citycase devices add|list|revoke-key|new-key|check-silent``: the device registry."""

from __future__ import annotations

from typing import Any

import click

from cli.base import CliContext, cli, emit, fail, json_option
from engine.db import transaction
from engine.errors import CityCaseError


def _route(text: str | None) -> list[tuple[float, float]] | None:
    """``"lon,lat;lon,lat"`` → points (checked again by the registry)."""
    if not text:
        return None
    try:
        return [(float(a), float(b)) for a, b in (p.split(",") for p in text.split(";") if p.strip())]
    except ValueError:
        fail("--route is lon,lat;lon,lat;…")


def _row(d: Any) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind, "department": d.department_code, "lon": d.lon, "lat": d.lat,
            "component_id": d.component_id, "state": d.state, "key": "active" if d.key_hash else "revoked",
            "last_seen": d.last_seen.isoformat() if d.last_seen else None, "last_value": d.last_value,
            "case_id": d.case_id}


@cli.group()
def devices() -> None:
    """Cameras, drones and sensors that send observations (POST /api/v1/intake/observations)."""


@devices.command("add")
@click.argument("device_id")
@click.option("--kind", required=True, type=click.Choice(["camera", "drone", "manhole_cover", "water_gauge",
                                                          "air_noise", "smart_bin"]))
@click.option("--department", required=True, help="owner department code")
@click.option("--lon", type=float)
@click.option("--lat", type=float)
@click.option("--route", help="a drone's route: lon,lat;lon,lat;…")
@click.option("--component", "component_id", help="the 16-digit component it watches")
@json_option
@click.pass_obj
def devices_add(ctx: CliContext, device_id: str, kind: str, department: str, lon: float | None,
                lat: float | None, route: str | None, component_id: str | None) -> None:
    """Register DEVICE_ID and print its key once (only its hash is kept)."""
    from engine.clock import SystemClock
    from engine.devices.models import DeviceKind
    from engine.devices.registry import NewDevice, add_device

    spec = NewDevice(device_id, DeviceKind(kind), department, lon, lat, _route(route), component_id)
    try:
        with transaction(ctx.session_factory) as s:
            row, key = add_device(s, spec, SystemClock().now())
            result = _row(row) | {"key": key}
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, result, f"device {device_id} ({kind}) registered; its key:\n{key}\n"
         "Store it now: it cannot be shown again (only its hash is kept).")


@devices.command("list")
@json_option
@click.pass_obj
def devices_list(ctx: CliContext) -> None:
    """Every device with its last state (never its key)."""
    from engine.devices.registry import list_devices

    with transaction(ctx.session_factory) as s:
        rows = [_row(d) for d in list_devices(s)]
    lines = [f"{r['id']:<16} {r['kind']:<14} {r['state']:<7} {r['key']:<8} {r['department']:<24} "
             f"{r['last_seen'] or '-'}" for r in rows]
    emit(ctx, rows, "\n".join(lines) if lines else "no devices")


@devices.command("revoke-key")
@click.argument("device_id")
@json_option
@click.pass_obj
def devices_revoke_key(ctx: CliContext, device_id: str) -> None:
    """Refuse DEVICE_ID's observations from now on (the device and its history stay)."""
    from engine.devices.registry import revoke_key

    try:
        with transaction(ctx.session_factory) as s:
            result = _row(revoke_key(s, device_id))
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, result, f"device {device_id}: key revoked")


@devices.command("new-key")
@click.argument("device_id")
@json_option
@click.pass_obj
def devices_new_key(ctx: CliContext, device_id: str) -> None:
    """Give DEVICE_ID a new key (the old one stops working) and print it once."""
    from engine.devices.registry import new_key

    try:
        with transaction(ctx.session_factory) as s:
            key = new_key(s, device_id)
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, {"id": device_id, "key": key}, f"device {device_id}: new key\n{key}")


@devices.command("check-silent")
@json_option
@click.pass_obj
def devices_check_silent(ctx: CliContext) -> None:
    """Mark devices silent past their rule's limit and file a maintenance case for each."""
    from engine.clock import SystemClock
    from engine.devices.silence import check_silent
    from engine.model import EngineContext

    try:
        with transaction(ctx.session_factory) as s:
            found = check_silent(s, EngineContext.from_config(ctx.config, SystemClock()))
            rows = [{"id": f.device_id, "department": f.department_code, "case_id": f.case_id,
                     "case_number": f.case_number} for f in found]
    except CityCaseError as exc:
        fail(str(exc))
    emit(ctx, rows, "\n".join(f"{r['id']}: silent, maintenance case {r['case_number']} for {r['department']}"
                              for r in rows) or "no device is silent")


@devices.command("simulate")
@click.option("--hours", type=click.FloatRange(0.1, 24 * 14), default=12.0, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", help="simulated start instant (ISO with offset; default: now)")
@click.option("--scenario", type=click.Choice(["drift", "flood"]), default="drift", show_default=True,
              help="drift: gauges and cameras for --hours from --start; flood: a new gauge WG-FLOOD-<seed> "
                   "rises past its threshold and falls back, its last reading now (files, dispatches, "
                   "attaches, then a check task)")
@json_option
@click.pass_obj
def devices_simulate(ctx: CliContext, hours: float, seed: int, start: str | None, scenario: str) -> None:
    """Register simulated water gauges and cameras and run them on a simulated clock."""
    if scenario == "flood":
        _flood(ctx, seed)
        return
    from datetime import datetime

    from engine.clock import SystemClock
    from engine.demo.devices import simulate_devices

    try:
        at = datetime.fromisoformat(start) if start else SystemClock().now()
    except ValueError:
        fail("--start is an ISO instant such as 2026-03-02T08:00+08:00")
    if at.tzinfo is None:
        fail("--start needs a UTC offset")
    try:
        run = simulate_devices(ctx.session_factory, at, hours, seed, ctx.config["TIMEZONE"])
    except CityCaseError as exc:
        fail(str(exc))
    payload = {"devices": run.devices, "observations": run.observations, "outcomes": dict(run.outcomes),
               "cases": run.cases}
    emit(ctx, payload, f"{run.devices} devices, {run.observations} observations; outcomes "
         f"{dict(run.outcomes)}; cases {', '.join(run.cases) or 'none'}")


def _flood(ctx: CliContext, seed: int) -> None:
    from engine.clock import SystemClock
    from engine.demo.field import flood

    gauge = f"WG-FLOOD-{seed:02d}"
    try:
        run = flood(ctx.session_factory, SystemClock().now(), ctx.config["TIMEZONE"], seed, gauge=gauge, others=False)
    except (CityCaseError, ValueError) as exc:
        fail(str(exc))
    emit(ctx, {"device": gauge, "case": run.flood_case, "outcomes": run.outcomes},
         f"{gauge}: readings {' '.join(run.outcomes)}; case {run.flood_case or 'none'} "
         "(open it on /cases; the check task Device_check waits in the supervisors' inbox)")
