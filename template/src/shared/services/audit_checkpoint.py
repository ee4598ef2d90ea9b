"""Checkpoints of the audit chains: each entity's newest hash, signed, kept outside the database.

A hash chain stored beside the data proves nothing against someone who can rewrite the table
and recompute every hash. A checkpoint records, at one moment, the newest ``row_hash`` of every
entity's chain and signs the record (HMAC-SHA256) with a key the database does not hold; the
operator keeps the file where the service's database role cannot write. Verifying against it
(``audit verify --since-checkpoint``) asks that each recorded hash still be in its chain: a
rewrite of any entry up to the checkpoint changes every hash after it, the recorded one too.

What it does not protect: changes made after the newest checkpoint (take them often), and a
checkpoint file rewritten by someone who also holds the key.

One checkpoint is one line of JSON: ``{"format": 1, "created_at": ..., "heads": {audit table:
{entity id: row hash}}, "signature": ...}``, the signature over the line's canonical JSON
without it.
"""

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from shared.db.models.audit_models.audit_base import AuditBase
from shared.db.models.audit_models.audit_chain import canonical_json

CHECKPOINT_FORMAT = 1
# Rows read per round trip while the heads are collected.
BATCH_SIZE = 1000


class CheckpointError(ValueError):
    """A checkpoint line that is not one, or whose signature does not match (message says)."""


@dataclass(frozen=True)
class Checkpoint:
    """The newest hash of every entity's chain at one moment: audit table -> entity -> hash."""

    created_at: datetime
    heads: Mapping[str, Mapping[str, str]]

    def to_line(self, key: bytes) -> str:
        """The checkpoint as one signed line of JSON (no newline)."""
        content = self._content()
        return json.dumps({**content, "signature": _signature(content, key)}, sort_keys=True)

    @classmethod
    def from_line(cls, line: str, key: bytes) -> "Checkpoint":
        """The checkpoint a line holds, once its signature is checked with ``key``.

        Raises:
            CheckpointError: the line is not a checkpoint, or its signature does not match
                (the line was changed, or it was signed with another key).
        """
        try:
            record = json.loads(line)
            signature = record.pop("signature")
            checkpoint = cls(datetime.fromisoformat(record["created_at"]), record["heads"])
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            msg = "not a checkpoint line (one JSON object a line, as `audit checkpoint` writes)"
            raise CheckpointError(msg) from error
        if record.get("format") != CHECKPOINT_FORMAT:
            msg = f"checkpoint format {record.get('format')!r} is not {CHECKPOINT_FORMAT}"
            raise CheckpointError(msg)
        if not isinstance(signature, str) or not hmac.compare_digest(
            signature, _signature(record, key)
        ):
            msg = (
                f"the checkpoint of {checkpoint.created_at.isoformat()} does not match its "
                "signature: the line was changed, or it was signed with another key"
            )
            raise CheckpointError(msg)
        return checkpoint

    def _content(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "created_at": self.created_at.isoformat(),
            "heads": {table: dict(heads) for table, heads in self.heads.items()},
        }


def _signature(content: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical_json(content).encode("ascii"), hashlib.sha256).hexdigest()


def chain_heads(session: Session, models: Iterable[type[AuditBase]]) -> dict[str, dict[str, str]]:
    """The newest row hash of every entity's chain, per audit table (unhashed trails left out)."""
    heads: dict[str, dict[str, str]] = {}
    for model in models:
        entity_id = col(getattr(model, model.entity_id_field()))
        statement = (
            select(entity_id, model.row_hash)
            .order_by(entity_id, col(model.created_at), col(model.id))
            .execution_options(yield_per=BATCH_SIZE)
        )
        table = heads.setdefault(model.table_name(), {})
        for entity, row_hash in session.exec(statement):
            if row_hash is not None:
                table[entity] = row_hash
    return heads


def last_checkpoint(lines: Iterable[str], key: bytes) -> Checkpoint | None:
    """The newest checkpoint of a file's lines, its signature checked (None: no line).

    Raises:
        CheckpointError: the newest line is not a checkpoint, or its signature does not match.
    """
    newest = None
    for line in lines:
        if line.strip():
            newest = line
    return None if newest is None else Checkpoint.from_line(newest, key)
