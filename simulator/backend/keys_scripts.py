"""Account-wide SSH keys and startup scripts."""

from __future__ import annotations

import base64
import hashlib
import random

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from barrack.models.scripts import CreateScriptRequest, UpdateScriptRequest
from barrack.models.ssh_keys import CreateSSHKeyRequest
from simulator.backend._service import Service
from simulator.errors import ValidationFailed
from simulator.records import ScriptRec, SSHKeyRec

__all__ = ["SSHKeyService", "ScriptService", "fingerprint"]


def fingerprint(public_key: str) -> str:
    """The OpenSSH SHA256 fingerprint of a one-line public key."""
    blob = base64.b64decode(public_key.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


class SSHKeyService(Service):
    """SSH keys (account-wide)."""

    def get(self, key_id: str) -> SSHKeyRec:
        """A key (404 otherwise)."""
        return self.w.state.ssh_keys.require(key_id)

    def select(self) -> list[SSHKeyRec]:
        """Every key, newest first."""
        return self.w.state.ssh_keys.select()

    def create(self, request: CreateSSHKeyRequest) -> tuple[SSHKeyRec, str | None]:
        """Register a public key, or generate a pair and return its private half once."""
        self.require_unique_name(self.w.state.ssh_keys, request.name)
        private: str | None = None
        public = request.public_key
        if public is None:
            public, private = self.generate(request.name)
        return self.add(request.name, public), private

    def add(self, name: str, public_key: str) -> SSHKeyRec:
        """Store a key (scenarios use this too)."""
        now = self.w.now
        key = SSHKeyRec(
            id=self.w.ids.new("ssh_key"),
            created_at=now,
            updated_at=now,
            name=name,
            public_key=public_key.strip(),
            fingerprint=fingerprint(public_key),
        )
        return self.w.state.ssh_keys.add(key)

    def delete(self, key_id: str) -> str:
        """Delete a key (instances created with it keep it installed)."""
        self.get(key_id)
        self.w.state.ssh_keys.remove(key_id)
        return key_id

    def generate(self, name: str) -> tuple[str, str]:
        """An ed25519 pair, fixed by the seed and the name (same run, same key)."""
        rng = random.Random(f"{self.w.seed}:ssh:{name}")
        secret = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
        private = secret.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        ).decode()
        public = (
            secret.public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        )
        return f"{public} {name}", private


class ScriptService(Service):
    """Startup scripts (account-wide)."""

    def get(self, script_id: str) -> ScriptRec:
        """A script (404 otherwise)."""
        return self.w.state.scripts.require(script_id)

    def select(self) -> list[ScriptRec]:
        """Every script, newest first."""
        return self.w.state.scripts.select()

    def create(self, request: CreateScriptRequest) -> ScriptRec:
        """Create a script."""
        self.require_unique_name(self.w.state.scripts, request.name)
        now = self.w.now
        script = ScriptRec(
            id=self.w.ids.new("script"),
            created_at=now,
            updated_at=now,
            name=request.name,
            description=request.description,
            content=request.content,
        )
        return self.w.state.scripts.add(script)

    def update(self, script_id: str, request: UpdateScriptRequest) -> ScriptRec:
        """Change a script's name, content or description."""
        script = self.get(script_id)
        if request.name is not None:
            self.require_unique_name(self.w.state.scripts, request.name, ignore_id=script.id)
            self.w.state.scripts.update(script, name=request.name)
        if request.content is not None:
            script.content = request.content
        if request.description is not None:
            script.description = request.description
        script.touch(self.w.now)
        return script

    def delete(self, script_id: str) -> str:
        """Delete a script."""
        self.get(script_id)
        self.w.state.scripts.remove(script_id)
        return script_id

    def delete_many(self, ids: list[str]) -> list[str]:
        """Delete several scripts, all or none (404 names the first unknown id)."""
        if not ids:
            raise ValidationFailed("ids", "give at least one script id")
        for script_id in ids:
            self.get(script_id)
        for script_id in dict.fromkeys(ids):
            self.w.state.scripts.remove(script_id)
        return list(dict.fromkeys(ids))
