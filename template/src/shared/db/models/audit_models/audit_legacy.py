"""The audit rows that came before the second hash form, as the migration that started it found them.

``shared_0005`` fills this table once, from the audit tables as they were: every row without a
hash (written before the chain existed) and every row hashed in the first form. Verification
reads it to tell those rows from rows whose hash was removed or rewritten later: a row without a
hash that is not listed here is a break. Nothing writes it afterwards, and the migration guards
it as it guards the audit tables.
"""

from sqlmodel import Field, SQLModel

from shared.db.models.base_model import ID_LENGTH

# The longest audit table name: a feature's name (the questions bound it) and ``_audit``.
AUDIT_TABLE_NAME_LENGTH = 64


class AuditLegacyEntry(SQLModel, table=True):
    """One audit row written before the second hash form, and the form it has."""

    __tablename__ = "audit_legacy_entry"

    audit_table: str = Field(primary_key=True, max_length=AUDIT_TABLE_NAME_LENGTH)
    entry_id: str = Field(primary_key=True, max_length=ID_LENGTH)
    # A HashForm: 0 (no hash) or 1 (the first form).
    hash_form: int
