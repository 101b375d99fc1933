"""SSH keys: account-wide, at least one is needed to deploy."""

from __future__ import annotations

from pydantic import Field

from barrack.models._base import BarrackModel, Envelope, FlatResponse, RequestModel, UTCDateTime
from barrack.models._types import PublicKey, SshKeyName, WireSecret

__all__ = [
    "CreateSSHKeyRequest",
    "CreateSSHKeyResponse",
    "CreatedSSHKey",
    "DeleteSSHKeyResponse",
    "GetSSHKeysResponse",
    "SSHKey",
    "SSHKeyResponse",
]


class SSHKey(BarrackModel):
    """An SSH public key registered on the account.

    Attributes:
        id: key id, used in ``ssh_key_ids`` when deploying.
        name: unique name.
        public_key: the OpenSSH one-line public key.
        fingerprint: its SHA256 fingerprint.
        created_at: creation time.
    """

    id: str
    name: str
    public_key: str | None = None
    fingerprint: str | None = None
    created_at: UTCDateTime | None = None


class CreatedSSHKey(SSHKey):
    """A key just created; ``private_key`` is set once, when the server generated the pair.

    Attributes:
        private_key: the generated private key (OpenSSH PEM). Shown once and never again;
            masked in ``repr`` and logs, written in clear only in JSON for the wire.
    """

    private_key: WireSecret | None = None


class CreateSSHKeyRequest(RequestModel):
    """Register a public key, or have a key pair generated (``POST /ssh-keys``, B3a)."""

    name: SshKeyName = Field(description="Key name: 1-50 letters, digits, '_', '.', '-'; unique.")
    public_key: PublicKey | None = Field(
        default=None,
        description=(
            "OpenSSH one-line public key (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521). "
            "Leave empty to generate a pair; the private key is returned once."
        ),
    )


class GetSSHKeysResponse(Envelope[list[SSHKey]]):
    """``GET /ssh-keys``."""


class SSHKeyResponse(Envelope[SSHKey]):
    """``GET /ssh-keys/{id}``."""


class CreateSSHKeyResponse(Envelope[CreatedSSHKey]):
    """``POST /ssh-keys`` (201): the key, with its private half if it was generated."""


class DeleteSSHKeyResponse(FlatResponse):
    """``DELETE /ssh-keys/{id}/``, flat: the deleted key's id."""

    ssh_key_id: str
