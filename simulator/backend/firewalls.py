"""Firewalls: at most 25 an account, one region each, attached to ``ACTIVE`` instances."""

from __future__ import annotations

from typing import Final

from barrack.models.firewalls import AddFirewallRuleRequest, CreateFirewallRequest
from simulator.backend._service import Service
from simulator.backend.instances import rule_from_request
from simulator.errors import InvalidState, NotFound
from simulator.records import FirewallRec, InstanceRec, RuleRec

__all__ = ["MAX_FIREWALLS", "FirewallService"]

MAX_FIREWALLS: Final = 25
"""A3: firewalls per account."""


class FirewallService(Service):
    """Firewalls, their rules and attachments."""

    def get(self, firewall_id: str) -> FirewallRec:
        """A firewall (404 otherwise)."""
        return self.w.state.firewalls.require(firewall_id)

    def select(self) -> list[FirewallRec]:
        """Every firewall, newest first."""
        return self.w.state.firewalls.select()

    def create(self, request: CreateFirewallRequest) -> FirewallRec:
        """Create a firewall with its initial rules.

        Raises:
            InvalidState: the account already has 25 firewalls (details: limit, count).
            ValidationFailed, DuplicateName.
        """
        state = self.w.state
        count = len(state.firewalls)
        if count >= MAX_FIREWALLS:
            raise InvalidState(
                "account",
                "firewalls",
                f"{count} firewalls",
                [f"fewer than {MAX_FIREWALLS} firewalls"],
                message=f"an account has at most {MAX_FIREWALLS} firewalls; delete one first",
                limit=MAX_FIREWALLS,
                count=count,
            )
        region = str(request.region)
        self.require_region(region)
        self.require_unique_name(state.firewalls, request.name)
        now = self.w.now
        firewall = FirewallRec(
            id=self.w.ids.new("firewall"),
            created_at=now,
            updated_at=now,
            name=request.name,
            description=request.description,
            region=region,
            network_id=f"net-{region.lower()}-default",
        )
        for rule in request.rules:
            self._add(firewall, rule)
        state.firewalls.add(firewall)
        return firewall

    def seed(
        self,
        *,
        name: str,
        region: str,
        description: str | None,
        rules: list[AddFirewallRuleRequest],
    ) -> FirewallRec:
        """Store a scenario's firewall as it is at the start."""
        now = self.w.now
        firewall = FirewallRec(
            id=self.w.ids.new("firewall"),
            created_at=now,
            updated_at=now,
            name=name,
            description=description,
            region=region,
            network_id=f"net-{region.lower()}-default",
        )
        for rule in rules:
            self._add(firewall, rule)
        return self.w.state.firewalls.add(firewall)

    def delete(self, firewall_id: str) -> str:
        """Delete a firewall, detaching it from its instances."""
        firewall = self.get(firewall_id)
        for instance_id in firewall.attachments:
            instance = self.w.state.instances.get(instance_id)
            if instance is not None:
                instance.firewalls.pop(firewall.id, None)
                instance.touch(self.w.now)
        self.w.state.firewalls.remove(firewall.id)
        return firewall.id

    def add_rule(self, firewall_id: str, request: AddFirewallRuleRequest) -> RuleRec:
        """Add a rule to a firewall."""
        firewall = self.get(firewall_id)
        rule = self._add(firewall, request)
        firewall.touch(self.w.now)
        return rule

    def remove_rule(self, firewall_id: str, rule_id: str) -> str:
        """Remove a rule from a firewall."""
        firewall = self.get(firewall_id)
        if rule_id not in firewall.rules:
            raise NotFound("firewall_rule", rule_id)
        del firewall.rules[rule_id]
        firewall.touch(self.w.now)
        return rule_id

    def attach(self, firewall_id: str, instance_ids: list[str]) -> list[InstanceRec]:
        """Attach to ``ACTIVE`` instances of the firewall's region (all or none)."""
        firewall = self.get(firewall_id)
        instances = [self.backend.instances.get(i) for i in instance_ids]
        for instance in instances:
            self.require_same_region(
                f"firewall {firewall.id}",
                firewall.region,
                f"instance {instance.id}",
                instance.region,
            )
            if instance.status != "ACTIVE":
                raise InvalidState("instance", instance.id, instance.status, ["ACTIVE"])
        now = self.w.now
        for instance in instances:
            firewall.attachments.setdefault(instance.id, now)
            instance.firewalls.setdefault(firewall.id, now)
            instance.touch(now)
        firewall.touch(now)
        return instances

    def available_instances(self, firewall_id: str) -> list[InstanceRec]:
        """``ACTIVE`` instances of the firewall's region it is not attached to yet."""
        firewall = self.get(firewall_id)
        return [
            i
            for i in self.w.state.instances.select(status="ACTIVE", region=firewall.region)
            if i.id not in firewall.attachments
        ]

    def of_instance(self, instance_id: str) -> list[tuple[FirewallRec, InstanceRec]]:
        """The firewalls attached to an instance."""
        instance = self.backend.instances.get(instance_id)
        return [
            (self.w.state.firewalls.rows[f], instance)
            for f in instance.firewalls
            if f in self.w.state.firewalls.rows
        ]

    def _add(self, firewall: FirewallRec, request: AddFirewallRuleRequest) -> RuleRec:
        rule = rule_from_request(self.w.ids.new("rule"), request, self.w.now)
        firewall.rules[rule.id] = rule
        return rule
