"""Startup scripts, run once at an instance's first boot."""

from __future__ import annotations

from typing import Annotated, Final, Self

from pydantic import Field, StringConstraints, model_validator

from barrack.models._base import BarrackModel, Envelope, FlatResponse, RequestModel, UTCDateTime
from barrack.models._types import Description, ScriptName

__all__ = [
    "SCRIPT_MAX_LENGTH",
    "CreateScriptRequest",
    "DeleteScriptResponse",
    "Script",
    "ScriptListResponse",
    "ScriptResponse",
    "UpdateScriptRequest",
]

SCRIPT_MAX_LENGTH: Final = 65536
"""Longest script body, in characters (the project's limit; the docs give none)."""

ScriptContent = Annotated[str, StringConstraints(min_length=1, max_length=SCRIPT_MAX_LENGTH)]


class Script(BarrackModel):
    """A startup script.

    Attributes:
        id: script id, used as ``startup_script_id`` when deploying.
        name: unique name.
        description: free text.
        content: the script itself (``#!/bin/bash`` ...).
        created_at: creation time.
        updated_at: last change.
    """

    id: str
    name: str
    description: str | None = None
    content: str = ""
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class CreateScriptRequest(RequestModel):
    """Create a startup script (``POST /scripts``)."""

    name: ScriptName = Field(
        description="Script name: 1-50 letters, digits, spaces, '_', '.', '-'; unique."
    )
    content: ScriptContent = Field(description="The script, e.g. starting with #!/bin/bash.")
    description: Description | None = Field(default=None, description="Free text, 255 at most.")


class UpdateScriptRequest(RequestModel):
    """Change a startup script (``PUT /scripts/{id}``); give at least one field."""

    name: ScriptName | None = Field(default=None, description="New name.")
    content: ScriptContent | None = Field(default=None, description="New script body.")
    description: Description | None = Field(default=None, description="New description.")

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if self.name is None and self.content is None and self.description is None:
            raise ValueError("give at least one of name, content, description")
        return self


class ScriptListResponse(Envelope[list[Script]]):
    """``GET /scripts``."""


class ScriptResponse(Envelope[Script]):
    """``GET /scripts/{id}``, ``POST /scripts`` (201) and ``PUT /scripts/{id}``."""


class DeleteScriptResponse(FlatResponse):
    """``DELETE /scripts/{id}/`` (``script_id``) and ``POST /scripts/bulk-delete/``
    (``script_ids``), flat."""

    script_id: str | None = None
    script_ids: list[str] = Field(default_factory=list)
