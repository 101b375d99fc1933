"""Firewalls and startup scripts."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from barrack._exceptions import RequestValidationError
from barrack.models import (
    AddFirewallRuleRequest,
    AddFirewallRuleResponse,
    AttachFirewallRequest,
    AttachFirewallResponse,
    CreateFirewallRequest,
    CreateFirewallResponse,
    CreateScriptRequest,
    DeleteFirewallResponse,
    DeleteScriptResponse,
    FirewallAttachment,
    FirewallResponse,
    FirewallRule,
    FirewallVM,
    FirewallVMListResponse,
    GetFirewallDetailsResponse,
    GetSupportedProtocolsResponse,
    ListFirewallsResponse,
    Protocol,
    RemoveFirewallRuleResponse,
    Script,
    ScriptListResponse,
    ScriptResponse,
    UpdateScriptRequest,
)
from barrack.resources._base import AsyncResource

__all__ = ["AsyncFirewalls", "AsyncScripts"]


class AsyncFirewalls(AsyncResource):
    """Firewalls (``client.firewalls``): at most 25 per account, one region each."""

    async def list(self) -> builtins.list[FirewallResponse]:
        """Every firewall, with its rules and attachments."""
        return (await self._client.request("firewalls.list", ListFirewallsResponse)).payload

    async def get(self, firewall_id: str) -> FirewallResponse:
        """One firewall."""
        envelope = await self._client.request(
            "firewalls.get", GetFirewallDetailsResponse, path_params={"firewall_id": firewall_id}
        )
        return envelope.payload

    async def protocols(self) -> builtins.list[Protocol]:
        """The protocols a rule may use, and which take ports."""
        return (
            await self._client.request("firewalls.protocols", GetSupportedProtocolsResponse)
        ).payload

    async def create(
        self,
        *,
        name: str,
        region: str,
        description: str | None = None,
        rules: Sequence[AddFirewallRuleRequest | dict[str, Any]] = (),
    ) -> FirewallResponse:
        """Create a firewall in one region, optionally with its first rules."""
        body = self._client.build(
            CreateFirewallRequest,
            "firewalls.create",
            name=name,
            region=region,
            description=description,
            rules=list(rules),
        )
        return (
            await self._client.request("firewalls.create", CreateFirewallResponse, body=body)
        ).payload

    async def delete(self, firewall_id: str) -> None:
        """Delete a firewall."""
        await self._client.request(
            "firewalls.delete", DeleteFirewallResponse, path_params={"firewall_id": firewall_id}
        )

    async def available_instances(self, firewall_id: str) -> builtins.list[FirewallVM]:
        """The instances the firewall can be attached to (ACTIVE, same region)."""
        envelope = await self._client.request(
            "firewalls.available_instances",
            FirewallVMListResponse,
            path_params={"firewall_id": firewall_id},
        )
        return envelope.payload

    async def add_rule(
        self,
        firewall_id: str,
        *,
        direction: str,
        protocol: str,
        ethertype: str = "IPv4",
        port_range_min: int | None = None,
        port_range_max: int | None = None,
        remote_cidr: str | None = None,
        description: str | None = None,
    ) -> FirewallRule:
        """Add a rule (ports for TCP and UDP only; the CIDR must match the ethertype)."""
        body = self._client.build(
            AddFirewallRuleRequest,
            "firewalls.add_rule",
            direction=direction,
            protocol=protocol,
            ethertype=ethertype,
            port_range_min=port_range_min,
            port_range_max=port_range_max,
            remote_cidr=remote_cidr,
            description=description,
        )
        envelope = await self._client.request(
            "firewalls.add_rule",
            AddFirewallRuleResponse,
            path_params={"firewall_id": firewall_id},
            body=body,
        )
        return envelope.payload

    async def remove_rule(self, firewall_id: str, rule_id: str) -> None:
        """Remove a rule."""
        await self._client.request(
            "firewalls.remove_rule",
            RemoveFirewallRuleResponse,
            path_params={"firewall_id": firewall_id, "rule_id": rule_id},
        )

    async def attach(
        self, firewall_id: str, instance_ids: Sequence[str]
    ) -> builtins.list[FirewallAttachment]:
        """Attach the firewall to ACTIVE instances of its region."""
        body = self._client.build(
            AttachFirewallRequest, "firewalls.attach", instance_ids=list(instance_ids)
        )
        envelope = await self._client.request(
            "firewalls.attach",
            AttachFirewallResponse,
            path_params={"firewall_id": firewall_id},
            body=body,
        )
        return envelope.payload


class AsyncScripts(AsyncResource):
    """Startup scripts (``client.scripts``)."""

    async def list(self) -> builtins.list[Script]:
        """Every startup script."""
        return (await self._client.request("scripts.list", ScriptListResponse)).payload

    async def get(self, script_id: str) -> Script:
        """One startup script, with its content."""
        envelope = await self._client.request(
            "scripts.get", ScriptResponse, path_params={"script_id": script_id}
        )
        return envelope.payload

    async def create(self, *, name: str, content: str, description: str | None = None) -> Script:
        """Create a startup script."""
        body = self._client.build(
            CreateScriptRequest,
            "scripts.create",
            name=name,
            content=content,
            description=description,
        )
        return (await self._client.request("scripts.create", ScriptResponse, body=body)).payload

    async def update(
        self,
        script_id: str,
        *,
        name: str | None = None,
        content: str | None = None,
        description: str | None = None,
    ) -> Script:
        """Change a script's name, content or description (what is left out stays)."""
        body = self._client.build(
            UpdateScriptRequest,
            "scripts.update",
            name=name,
            content=content,
            description=description,
        )
        envelope = await self._client.request(
            "scripts.update", ScriptResponse, path_params={"script_id": script_id}, body=body
        )
        return envelope.payload

    async def delete(self, script_id: str) -> None:
        """Delete a startup script."""
        await self._client.request(
            "scripts.delete", DeleteScriptResponse, path_params={"script_id": script_id}
        )

    async def delete_many(self, script_ids: Sequence[str]) -> builtins.list[str]:
        """Delete several startup scripts in one call; returns the deleted ids."""
        ids = [str(i) for i in script_ids]
        if not ids or any(not i for i in ids):
            raise RequestValidationError(
                "scripts.delete_many", [("ids", "give at least one non-empty id")]
            )
        envelope = await self._client.request(
            "scripts.delete_many", DeleteScriptResponse, body={"ids": ids}
        )
        return envelope.script_ids
