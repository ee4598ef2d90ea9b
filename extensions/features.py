"""The ``features`` answer: validation, and the derived names each feature's files use."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from .changes import FieldChangeError, FieldChanges, Fill, Migration, RowCheck
from .fields import (
    FieldSpec,
    FieldSpecError,
    column_imports,
    dto_imports,
    import_statements,
    invalid_value_imports,
    parse_fields,
    quoted,
    sample_imports,
    type_imports,
)
from .naming import (
    identifier_problem,
    kebab,
    pascal,
    plural,
    plural_problem,
    title,
    upper_snake,
    with_article,
    words,
)

# PostgreSQL truncates identifiers at 63 bytes; "ix_<feature>_audit_<feature>_id" must fit.
MAX_FEATURE_NAME_LENGTH = 24
# Domains name packages, routes and import lines: bounded like feature names so that no
# generated line depends on an unbounded name (the templates write no line-length logic).
MAX_DOMAIN_LENGTH = 24
FEATURE_KEYS = ("domain", "name", "fields")
# The field lists of a feature's earlier migrations, oldest first (``change-feature`` writes
# it; a feature never changed has none).
HISTORY_KEY = "history"
# ``removed: keep-data`` (``remove-feature`` writes it): the feature's code is gone, its tables
# and migrations stay, so every database keeps a history Alembic can follow. ``drop-data``
# (``remove-feature --drop-data``) adds a last revision that drops the tables and their rows.
REMOVED_KEY = "removed"
KEEP_DATA = "keep-data"
DROP_DATA = "drop-data"
# The feature's earlier names (``rename-feature`` writes it), oldest first, each as the last
# revision made under it: ``[invoice_0002]`` for a feature renamed after two revisions. The
# revision after that one renames the tables; every earlier file keeps the name it shipped with.
RENAMED_FROM_KEY = "renamed_from"
# A revision id: the feature's name then its revision's number, four digits.
REVISION_ID = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)_(?P<number>[0-9]{4})$")
# Hex digits of the features' fingerprint in the answers file's header.
FINGERPRINT_LENGTH = 16
# Example bodies longer than this are shown one field a line.
ONE_LINE_EXAMPLE = 72


def example_json(body: Mapping[str, Any]) -> str:
    """A JSON body as the README shows it: one line when short, otherwise indented."""
    one_line = json.dumps(body, ensure_ascii=False)
    if len(one_line) <= ONE_LINE_EXAMPLE:
        return one_line
    return json.dumps(body, ensure_ascii=False, indent=2)


def code_list(names: Iterable[str]) -> str:
    """Names as Markdown code, comma-separated: ``"`a`, `b`"``; ``"none"`` when there are none."""
    return ", ".join(f"`{name}`" for name in names) or "none"


def query_value(value: object) -> str:
    """A JSON example value as a query parameter spells it (``true``, not ``True``)."""
    return value if isinstance(value, str) else json.dumps(value)


class FeatureError(ValueError):
    """A ``features`` answer that can't be generated; the message names the problem."""


@dataclass(frozen=True)
class Feature:
    """One feature of the service and the names derived from it."""

    domain: str
    name: str
    fields_spec: str
    history: tuple[str, ...] = ()
    # None, KEEP_DATA or DROP_DATA.
    removal: str | None = None
    # Each earlier name with the number of the last revision made under it, oldest first.
    earlier_names: tuple[tuple[str, int], ...] = ()
    # Each name of each feature of the service with the first revision made under it: a
    # migration that adds a reference depends on its target's (``depends_on``; set by
    # _load_features).
    target_revisions: tuple[tuple[str, str], ...] = ()
    # Each earlier name of a feature of the service with its name now: a reference written
    # before its target was renamed names it so (set by _load_features).
    target_names: tuple[tuple[str, str], ...] = ()
    # Each migration of the service that adds a reference: the target's name as it writes it,
    # the referring feature and the revision (set by _load_features). A rename of the target
    # runs after those that write an earlier name: they name its table so.
    referring_revisions: tuple[tuple[str, str, str], ...] = ()

    @cached_property
    def fields(self) -> list[FieldSpec]:
        """The parsed field specs, each reference naming its target by its name now."""
        return self.parsed(self.fields_spec, self.name)

    def parsed(self, fields_spec: str, owner: str) -> list[FieldSpec]:
        """A field list of the feature, each reference naming its target by its name now."""
        names_now = dict(self.target_names)
        return [spec.with_target_renamed(names_now) for spec in parse_fields(fields_spec, owner)]

    @property
    def removed(self) -> bool:
        """Whether the feature was removed: no code, only its migrations."""
        return self.removal is not None

    @property
    def table_drop(self) -> TableDrop | None:
        """The revision that drops the tables of a feature removed with its data."""
        if self.removal != DROP_DATA:
            return None
        return TableDrop(self, len(self.history) + 2)

    @property
    def initial(self) -> Feature:
        """The feature as its initial migration created it (itself, if never changed)."""
        if not self.history:
            return self
        return Feature(self.domain, self.name_at(1), self.history[0])

    def name_at(self, number: int) -> str:
        """The feature's name when its revision ``number`` was made (migrations keep it)."""
        return next((name for name, last in self.earlier_names if number <= last), self.name)

    def named_at(self, number: int) -> Feature:
        """The feature as named at its revision ``number``, with the fields it has now."""
        earlier = tuple((name, last) for name, last in self.earlier_names if last < number)
        return replace(self, name=self.name_at(number), earlier_names=earlier)

    @property
    def references_added(self) -> list[tuple[str, str]]:
        """Each of its migrations that adds a reference, as (target as written, revision)."""
        added = [(spec, self.revision) for spec in self.initial.references]
        for revision in self.revisions:
            added.extend((spec, revision.revision) for spec in revision.upgrade.added_columns)
        return [
            (spec.target_as_written or "", revision)
            for spec, revision in added
            if spec.is_reference
        ]

    @property
    def first_revisions(self) -> list[tuple[str, int]]:
        """Each name of the feature with the number of the first revision made under it."""
        later = [(rename.feature.name, rename.number) for rename in self.renames]
        return [(self.name_at(1), 1), *later]

    @property
    def earlier_name_list(self) -> list[str]:
        """The names the feature had before, oldest first."""
        return [name for name, _ in self.earlier_names]

    @cached_property
    def renames(self) -> list[FeatureRename]:
        """The revisions that renamed the feature's tables, oldest first."""
        return [FeatureRename(self.named_at(last + 1), last + 1) for _, last in self.earlier_names]

    @cached_property
    def revisions(self) -> list[Revision]:
        """The feature's later migrations, one per change of its fields, oldest first.

        The change a rename records (the same list twice) is that rename's revision instead.
        """
        lists = [*self.history, self.fields_spec]
        renamed_at = {rename.number for rename in self.renames}
        return [
            Revision(
                named := self.named_at(number),
                number,
                FieldChanges.between(
                    named.name,
                    self.parsed(lists[number - 2], named.name),
                    self.parsed(lists[number - 1], named.name),
                ),
            )
            for number in range(2, len(lists) + 1)
            if number not in renamed_at
        ]

    @property
    def earlier_audit_tables(self) -> tuple[str, ...]:
        """The audit table's names before the feature was renamed, oldest first."""
        return tuple(f"{name}_audit" for name in self.earlier_name_list)

    @property
    def earlier_routes(self) -> tuple[str, ...]:
        """The URL prefixes of the feature's earlier names: they answer 308 with the new one."""
        return tuple(replace(self, name=name).route for name in self.earlier_name_list)

    @property
    def earlier_action_prefixes(self) -> list[str]:
        """The action-code prefixes of the feature's earlier names (older audit rows have them)."""
        return [upper_snake(name) for name in self.earlier_name_list]

    @cached_property
    def retyped_fields(self) -> dict[str, tuple[str, str]]:
        """Fields whose type changed, by their name now: ``{"qty": ("int", "decimal")}``."""
        retyped: dict[str, tuple[str, str]] = {}
        for revision in self.revisions:
            renames = {old: new for new, old in revision.changes.renames}
            retyped = {renames.get(name, name): change for name, change in retyped.items()}
            for old, new in revision.changes.kept:
                if old.type != new.type:
                    retyped[new.name] = (old.type, new.type)
        return {
            name: change
            for name, change in retyped.items()
            if name in {spec.name for spec in self.fields}
        }

    @cached_property
    def renamed_fields(self) -> dict[str, str]:
        """Every earlier name of a field, with the field's name now (renames chain)."""
        current: dict[str, str] = {}
        for revision in self.revisions:
            for new, old in revision.changes.renames:
                for earlier, name in current.items():
                    if name == old:
                        current[earlier] = new
                current[old] = new
        return current

    @property
    def class_name(self) -> str:
        """``PurchaseOrder`` for ``purchase_order``."""
        return pascal(self.name)

    @property
    def plural(self) -> str:
        """``purchase_orders`` for ``purchase_order``."""
        return plural(self.name)

    @property
    def noun(self) -> str:
        """``purchase order``: the name as words in running text."""
        return " ".join(words(self.name))

    @property
    def plural_noun(self) -> str:
        """``purchase orders``."""
        return " ".join(words(self.plural))

    @property
    def a_noun(self) -> str:
        """``a purchase order``, ``an invoice``: the noun behind its indefinite article."""
        return with_article(self.name)

    @property
    def route(self) -> str:
        """The URL prefix of the feature's REST resource: ``/sales/purchase-orders``."""
        return f"/{kebab(self.domain)}/{kebab(self.plural)}"

    @property
    def tag(self) -> str:
        """The OpenAPI tag: ``Sales: Purchase Orders``."""
        return f"{title(self.domain)}: {title(self.plural)}"

    @property
    def audit_enum(self) -> str:
        """``PurchaseOrderAuditActionCodeEnum``."""
        return f"{self.class_name}AuditActionCodeEnum"

    @property
    def action_prefix(self) -> str:
        """``PURCHASE_ORDER``: the prefix of the feature's audit action codes."""
        return upper_snake(self.name)

    @property
    def enum_fields(self) -> list[FieldSpec]:
        """Fields whose values come from a generated enum."""
        return [spec for spec in self.fields if spec.type == "enum"]

    @property
    def unique_fields(self) -> list[FieldSpec]:
        """Fields with a unique constraint."""
        return [spec for spec in self.fields if spec.unique]

    @property
    def filter_fields(self) -> list[FieldSpec]:
        """Fields the list endpoint can filter on."""
        return [spec for spec in self.fields if spec.filterable]

    @property
    def type_imports(self) -> list[str]:
        """``"module.name"`` entries for the Python types of the fields."""
        return type_imports(self.fields)

    @property
    def column_imports(self) -> list[str]:
        """``"module.name"`` entries the table model needs for its column types."""
        return column_imports(self.fields)

    @property
    def module(self) -> str:
        """Dotted path of the feature's table module: ``shared.db.models.sales_models.order``."""
        return f"shared.db.models.{self.domain}_models.{self.name}"

    @property
    def sample_imports(self) -> list[str]:
        """``"module.name"`` entries the generated tests' sample values need."""
        return sample_imports(self.fields)

    @property
    def invalid_value_imports(self) -> list[str]:
        """Modules the generated tests' invalid values need (``json`` builds deep documents)."""
        return invalid_value_imports(self.fields)

    @property
    def test_value_imports(self) -> list[str]:
        """Import lines the generated tests' sample and invalid values need."""
        return import_statements([*self.sample_imports, *self.invalid_value_imports])

    @property
    def required_fields(self) -> list[FieldSpec]:
        """Fields a create request must send."""
        return [spec for spec in self.fields if not spec.has_default]

    @property
    def defaulted_fields(self) -> list[FieldSpec]:
        """Fields a create request may leave out."""
        return [spec for spec in self.fields if spec.has_default]

    @property
    def dto_imports(self) -> list[str]:
        """``"module.name"`` entries of the bounded input types the feature's DTOs use."""
        return dto_imports(self.fields)

    @property
    def sort_columns(self) -> list[str]:
        """What the list endpoint sorts by: the timestamps and every filterable field."""
        return ["created_at", "updated_at", *(spec.name for spec in self.filter_fields)]

    @property
    def create_example(self) -> dict[str, Any]:
        """A create body with a value for every field (an optional reference left out).

        A reference's value is the shell variable of its target's id (``$CUSTOMER_ID``).
        """
        return {
            spec.name: spec.example_value()
            for spec in self.fields
            if not (spec.is_reference and spec.optional)
        }

    @property
    def example_variables(self) -> list[tuple[str, str]]:
        """The shell variables of the examples' references, and what each holds the id of:
        ``CUSTOMER_ID`` a customer, ``OTHER_CUSTOMER_ID`` (a PATCH's new value) another."""
        variables: dict[str, str] = {}
        for body in (self.create_example, self.update_example):
            for spec in self.references:
                if spec.name in body:
                    noun = (spec.target or "").replace("_", " ")
                    first = body[spec.name] == f"${spec.target_variable}"
                    variables[body[spec.name][1:]] = (
                        with_article(noun) if first else f"another {noun}"
                    )
        return list(variables.items())

    @property
    def update_example(self) -> dict[str, Any]:
        """A PATCH body that changes one field (the one the generated tests change too)."""
        changed = self.changeable_field
        return {changed.name: changed.changed_example_value()}

    @property
    def create_example_json(self) -> str:
        """:attr:`create_example` as JSON, on one line if it is short.

        Written inside single quotes in a shell command: a reference's variable closes and
        reopens them (``"'"$CUSTOMER_ID"'"``), so that the shell puts in its value.
        """
        return self._in_single_quotes(example_json(self.create_example))

    @property
    def update_example_json(self) -> str:
        """:attr:`update_example` as JSON, on one line if it is short (as the create's)."""
        return self._in_single_quotes(example_json(self.update_example))

    def _in_single_quotes(self, body: str) -> str:
        for variable, _ in self.example_variables:
            body = body.replace(f'"${variable}"', f'"\'"${variable}"\'"')
        return body

    @property
    def list_example_query(self) -> str:
        """A list query string: newest first, filtered so it finds the example entity.

        The filter is on a field the PATCH example leaves alone, if there is one; otherwise
        on the changed field's new value.
        """
        params: dict[str, str] = {"sort": "-created_at"}
        changed = self.changeable_field.name
        untouched = [
            spec for spec in self.filter_fields if spec.name != changed and not spec.is_reference
        ]
        if untouched:
            params[untouched[0].name] = query_value(self.create_example[untouched[0].name])
        elif self.filter_fields:
            params[changed] = query_value(self.update_example[changed])
        return urlencode(params)

    @property
    def indexed_fields(self) -> list[FieldSpec]:
        """Fields with a (non-unique) index."""
        return [spec for spec in self.fields if spec.index]

    @property
    def indexed_text_fields(self) -> list[FieldSpec]:
        """Text fields an index holds (every str, a unique or indexed text): bounded in length."""
        return [spec for spec in self.fields if spec.indexed and spec.max_length is not None]

    @property
    def revision(self) -> str:
        """Alembic revision id of the feature's initial migration (at most 32 characters)."""
        return f"{self.name_at(1)}_0001"

    @property
    def enum_imports(self) -> list[str]:
        """``"module.name"`` entries of the feature's enum classes (they live with its table)."""
        return [f"{self.module}.{spec.enum_class}" for spec in self.enum_fields]

    @property
    def field_history_declarations(self) -> list[str]:
        """The table model's lines naming what its fields were before their changes, if any.

        Audit snapshots written before a change hold a field under an earlier name, or a value
        of an earlier type (see ``renamed_fields`` and ``retyped_fields`` in ``base_model``).
        """
        declarations = []
        if self.renamed_fields:
            annotation = "ClassVar[Mapping[str, str]]"
            declarations.append(f"renamed_fields: {annotation} = {self.renamed_fields!r}")
        if self.retyped_fields:
            annotation = "ClassVar[Mapping[str, tuple[str, str]]]"
            declarations.append(f"retyped_fields: {annotation} = {self.retyped_fields!r}")
        return declarations

    @property
    def earlier_names_declarations(self) -> list[str]:
        """The audit model's line naming its table's names before the feature was renamed.

        Older rows' hashes and action codes have them (``AuditBase.earlier_table_names``).
        """
        tables = self.earlier_audit_tables
        return [f"earlier_table_names = {tables!r}"] if tables else []

    @property
    def table_model_imports(self) -> list[str]:
        """Import lines the table model needs for its fields' types and columns."""
        return import_statements([*self.type_imports, *self.column_imports])

    @property
    def dto_module_imports(self) -> list[str]:
        """Import lines the DTOs need for their fields' types, enums and bounds."""
        ids = ["uuid.UUID"] if self.references else []
        return import_statements([*self.type_imports, *self.enum_imports, *self.dto_imports, *ids])

    @property
    def filter_names(self) -> list[str]:
        """The filterable fields' names, quoted: the model's indexes, the list's sort keys."""
        return [quoted(spec.name) for spec in self.filter_fields]

    @property
    def required_on_update(self) -> tuple[str, ...]:
        """Fields a PATCH may leave out but not set to null: every field that isn't optional."""
        return tuple(spec.name for spec in self.fields if not spec.optional)

    @property
    def changeable_field(self) -> FieldSpec:
        """The field the generated tests change with PATCH: the first one that is not bool.

        Every field type has a changed value distinct from its samples, so any field works;
        a text-like one makes the audit's old -> new values easiest to read. A reference is
        the last choice: its changed value is another row of its target.
        """
        return next(
            (spec for spec in self.fields if spec.type != "bool" and not spec.is_reference),
            next((spec for spec in self.fields if not spec.refers_to_own_feature), self.fields[0]),
        )

    @property
    def test_filter_field(self) -> FieldSpec | None:
        """The field the generated tests filter the list on: the first one not a reference.

        Every row the tests make refers to the same target rows: a filter on a reference
        would match them all (the reference tests filter by it, with rows of their own).
        """
        fields = self.filter_fields
        return next((spec for spec in fields if not spec.is_reference), next(iter(fields), None))

    @property
    def references(self) -> list[FieldSpec]:
        """The feature's references to rows of other features (or of its own)."""
        return [spec for spec in self.fields if spec.is_reference]

    @property
    def expand_names(self) -> str:
        """The ``Literal`` of the names ``?expand=`` takes: the reference fields, quoted."""
        return f"Literal[{', '.join(quoted(spec.name) for spec in self.references)}]"

    @property
    def expansion_imports(self) -> list[str]:
        """The read models of the features it refers to, as the DTO module imports them.

        They come last in the module, each on its own, so that two features that refer to
        each other can import each other's: whichever module loads first has defined its
        models when the other's import needs them. The parentheses keep the ``noqa`` on the
        line the rule reports, however ruff lays the import out.
        """
        targets = dict.fromkeys(
            (spec.target_dto_module, spec.target_read_model)
            for spec in self.references
            if not spec.refers_to_own_feature
        )
        return [
            f"from {module} import (  # noqa: E402\n    {read_model},\n)"
            for module, read_model in targets
        ]

    @property
    def reference_declarations(self) -> list[str]:
        """The table model's line saying what deleting each reference's target does to a row."""
        if not self.references:
            return []
        policies = {spec.name: spec.on_delete for spec in self.references}
        return [f"on_target_delete: ClassVar[Mapping[str, str]] = {policies!r}"]

    def depends_on(self, specs: Iterable[FieldSpec]) -> tuple[str, ...]:
        """The other branches' base revisions a migration adding ``specs`` depends on.

        A reference's foreign key needs its target's table: whatever order ``alembic upgrade``
        takes the branches in, the target's initial revision runs first.
        """
        revisions = dict(self.target_revisions)
        return tuple(
            dict.fromkeys(
                revisions[spec.target_as_written or ""]
                for spec in specs
                if spec.target_as_written in revisions and not spec.refers_to_own_feature
            )
        )


@dataclass(frozen=True)
class FeatureRevision:
    """A later migration on a feature's own branch: ``product_0002``, on ``product_0001``."""

    feature: Feature
    number: int

    @property
    def revision(self) -> str:
        """``product_0002``: the feature's name and the revision's number."""
        return f"{self.feature.name}_{self.number:04d}"

    @property
    def down_revision(self) -> str:
        """The revision this one goes on: the feature's previous one (under its name then)."""
        return f"{self.feature.name_at(self.number - 1)}_{self.number - 1:04d}"


@dataclass(frozen=True)
class Revision(FeatureRevision):
    """A later migration of a feature: the change from one of its field lists to the next."""

    changes: FieldChanges

    @property
    def file_name(self) -> str:
        """``product_0002_add_weight_grams.py``."""
        return f"{self.revision}_{self.changes.description}.py"

    @property
    def fills(self) -> list[Fill]:
        """The values the revision fills columns with, up or down."""
        return [*self.upgrade.fills, *self.downgrade.fills]

    @property
    def checks(self) -> list[RowCheck]:
        """The row checks of the revision, up or down."""
        return [*self.upgrade.checks, *self.downgrade.checks]

    @property
    def fill_imports(self) -> list[str]:
        """Import lines of the values the revision fills columns with (``Decimal``, ...)."""
        return import_statements(fill.value_import for fill in self.fills if fill.value_import)

    @property
    def added_columns(self) -> list[FieldSpec]:
        """The columns the revision adds, up or down: their types are written out."""
        return [*self.upgrade.added_columns, *self.downgrade.added_columns]

    @property
    def needs_json_type(self) -> bool:
        """Whether a column the revision adds is a JSON document."""
        return any(spec.type == "json" for spec in self.added_columns)

    @property
    def enum_columns(self) -> list[FieldSpec]:
        """The enum columns the revision adds (up or down), each once: their types."""
        return list(
            {spec.name: spec for spec in self.added_columns if spec.type == "enum"}.values()
        )

    @cached_property
    def upgrade(self) -> Migration:
        """The steps from the earlier field list to this one."""
        return self.changes.migration()

    @cached_property
    def downgrade(self) -> Migration:
        """The steps back."""
        return self.changes.reversed().migration(downgrade=True)


@dataclass(frozen=True)
class FeatureRename(FeatureRevision):
    """The revision that renames a feature's tables, their indexes and constraints.

    ``feature`` is the feature as named from this revision on; ``old`` its name before.
    """

    @property
    def old(self) -> Feature:
        """The feature under the name it had up to the revision before this one."""
        return self.feature.named_at(self.number - 1)

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Other features' migrations that name the table by a name it had before this one:
        they add a foreign key to it under that name, so they run first."""
        before = {self.feature.name_at(number) for number in range(1, self.number)}
        return tuple(
            revision
            for target, owner, revision in self.feature.referring_revisions
            if target in before and owner != self.feature.name
        )

    @property
    def depends_on_source(self) -> str:
        """:attr:`depends_on` as the migration writes it, laid out as ruff lays it out."""
        revisions = ", ".join(f'"{revision}"' for revision in self.depends_on)
        if not revisions:
            return "None"
        return f"({revisions},)" if len(self.depends_on) == 1 else f"({revisions})"

    @property
    def file_name(self) -> str:
        """``bill_0003_rename_invoice_to_bill.py``."""
        return f"{self.revision}_rename_{self.old.name}_to_{self.feature.name}.py"


@dataclass(frozen=True)
class TableDrop(FeatureRevision):
    """The last revision of a feature removed with ``drop-data``: its tables go, rows and all."""

    @property
    def earlier_revisions(self) -> list[str]:
        """The feature's revisions before this one, oldest first: they build its tables."""
        return [f"{self.feature.name_at(number)}_{number:04d}" for number in range(1, self.number)]

    @property
    def file_name(self) -> str:
        """``category_0003_drop_tables.py``."""
        return f"{self.revision}_drop_tables.py"


def table_drops(features: object) -> list[TableDrop]:
    """The revisions that drop the tables of the features removed with their data."""
    return [
        drop for feature in migrated_features(features) if (drop := feature.table_drop) is not None
    ]


def revisions(features: object) -> list[Revision]:
    """Every later migration of every feature of the ``features`` answer (removed ones too)."""
    return [revision for feature in migrated_features(features) for revision in feature.revisions]


def feature_renames(features: object) -> list[FeatureRename]:
    """The revisions that renamed a feature's tables, of every feature (removed ones too)."""
    return [rename for feature in migrated_features(features) for rename in feature.renames]


# What load_features found for each answer it was given, keyed by the answer's repr: Copier
# evaluates `features | load_features` once per templated path and file of each feature, and
# the validators again, so a 20-feature service asks for the same answer hundreds of times.
_LOADED: dict[str, list[Feature] | str] = {}
# A bound for long-lived processes that render many services (the template's own tests).
_MAX_LOADED = 64


def referenced_features(features: object) -> list[str]:
    """The names of the features that the service's references point at, each once, sorted."""
    return sorted(
        {
            spec.target
            for feature in load_features(features)
            for spec in feature.references
            if spec.target is not None
        }
    )


def load_features(features: object) -> list[Feature]:
    """Validate the ``features`` answer and return the features the service has now.

    Raises:
        FeatureError: the answer can't be generated; the message says which feature and why.
    """
    return [feature for feature in migrated_features(features) if not feature.removed]


def retired_tables(features: object) -> list[str]:
    """The tables of the removed features, which their migrations keep with their rows."""
    return [
        table
        for feature in migrated_features(features)
        if feature.removal == KEEP_DATA
        for table in (feature.name, f"{feature.name}_audit")
    ]


def migrated_features(features: object) -> list[Feature]:
    """Every feature with migrations: those the service has, and those removed keeping data.

    Each answer is parsed once (see ``_LOADED``).

    Raises:
        FeatureError: the answer can't be generated; the message says which feature and why.
    """
    key = repr(features)
    if key not in _LOADED:
        if len(_LOADED) >= _MAX_LOADED:
            _LOADED.clear()
        try:
            _LOADED[key] = _load_features(features)
        except FeatureError as error:
            _LOADED[key] = str(error)
    loaded = _LOADED[key]
    if isinstance(loaded, str):
        raise FeatureError(loaded)
    return list(loaded)


@dataclass(frozen=True)
class Domain:
    """A domain of the service: its name and its features, in the answer's order."""

    name: str
    features: tuple[Feature, ...]


def domains(features: object) -> list[Domain]:
    """The domains of the ``features`` answer, each once, in the order they first appear.

    A domain's folders are yielded from this list, and the feature files in them from its
    ``features``: yielded once per feature, each folder and its ``__init__.py`` were rendered
    and written again for every other feature of the domain.

    Raises:
        FeatureError: the answer can't be generated (as ``load_features``).
    """
    by_name: dict[str, list[Feature]] = {}
    for feature in load_features(features):
        by_name.setdefault(feature.domain, []).append(feature)
    return [Domain(name, tuple(members)) for name, members in by_name.items()]


def _load_features(features: object) -> list[Feature]:
    if not isinstance(features, list) or not features:
        raise FeatureError("features must be a non-empty list of {domain, name, fields} items")
    loaded: list[Feature] = []
    for position, item in enumerate(features, start=1):
        loaded.append(_load_feature(position, item))
    if all(feature.removed for feature in loaded):
        raise FeatureError("features must keep at least one feature that is not removed")
    names_now = tuple(
        (earlier, feature.name)
        for feature in loaded
        if not feature.removed
        for earlier in feature.earlier_name_list
    )
    revisions = tuple(
        (name, f"{name}_{number:04d}")
        for feature in loaded
        for name, number in feature.first_revisions
    )
    loaded = [
        replace(feature, target_revisions=revisions, target_names=names_now) for feature in loaded
    ]
    check_references(loaded)
    referring = tuple(
        (target, feature.name, revision)
        for feature in loaded
        for target, revision in feature.references_added
    )
    loaded = [replace(feature, referring_revisions=referring) for feature in loaded]
    # A removed feature's name stays taken: its tables and migrations are still there.
    names = [feature.name for feature in loaded]
    for name in names:
        if names.count(name) > 1:
            raise FeatureError(
                f"feature {name!r} is listed twice (names must be unique across domains: "
                "they name the tables)"
            )
        if f"{name}_audit" in names:
            raise FeatureError(
                f"feature {name}_audit would share a table name with the audit trail of {name!r}"
            )
    # So does a name a feature gave up: its migrations and its older audit rows carry it.
    taken = set(names)
    for feature in loaded:
        for earlier in feature.earlier_name_list:
            if earlier in taken or f"{earlier}_audit" in taken:
                raise FeatureError(
                    f"feature {feature.name!r} was called {earlier!r} before, a name another "
                    "feature has or had: names stay taken, as migrations and audit rows carry them"
                )
            taken.add(earlier)
    return loaded


# Feature names the service already uses, each with why and a name to use instead. The seed's
# editor-service verbs and routes take the request body as ``data``. A feature's permissions
# are ``<name>:read`` and ``<name>:write``, and the service's own ``audit:read`` lets a caller
# read every feature's changes (the change feed and the chain check).
RESERVED_FEATURE_NAMES: dict[str, str] = {
    "data": "the generated services take each request's body as 'data'; choose a more "
    "specific one, e.g. 'data_set'",
    "audit": "its read permission would be 'audit:read', which reads every feature's changes "
    "(the change feed and the chain check); choose a more specific one, e.g. 'audit_finding'",
}
# Domains whose routes would go under a path the service serves itself: /audit holds the change
# feed and the chain check (a `change` feature's list would be /audit/changes), /health the
# probes, and /docs-assets a mount of static files that takes every path below it, unguarded.
RESERVED_DOMAINS: dict[str, str] = {
    "audit": "the service serves its change feed and chain check",
    "health": "the service serves its health checks",
    "docs_assets": "the service serves the API documents' static files",
}


def _load_feature(position: int, item: object) -> Feature:
    if not isinstance(item, Mapping):
        raise FeatureError(f"features item #{position} must be a mapping with {FEATURE_KEYS}")
    missing = [key for key in FEATURE_KEYS if key not in item]
    optional_keys = {HISTORY_KEY, REMOVED_KEY, RENAMED_FROM_KEY}
    unknown = sorted(str(key) for key in set(item) - {*FEATURE_KEYS, *optional_keys})
    if missing or unknown:
        raise FeatureError(
            f"features item #{position} must have the keys {', '.join(FEATURE_KEYS)} "
            f"(and {HISTORY_KEY}, once its fields have changed)"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(unknown)}" if unknown else "")
        )
    domain: Any = item["domain"]
    name: Any = item["name"]
    if problem := identifier_problem(domain, f"feature #{position} domain"):
        raise FeatureError(problem)
    if len(domain) > MAX_DOMAIN_LENGTH:
        raise FeatureError(
            f"feature #{position} domain {domain!r} is {len(domain)} characters long; "
            f"domains are limited to {MAX_DOMAIN_LENGTH}"
        )
    if domain in RESERVED_DOMAINS:
        raise FeatureError(
            f"feature #{position} domain {domain!r} is reserved: its routes would go under "
            f"/{kebab(domain)}, where {RESERVED_DOMAINS[domain]}"
        )
    if problem := identifier_problem(name, f"feature #{position} name"):
        raise FeatureError(problem)
    if len(name) > MAX_FEATURE_NAME_LENGTH:
        raise FeatureError(
            f"feature {name!r}: names are limited to {MAX_FEATURE_NAME_LENGTH} characters "
            "(database identifiers built from them must fit in 63)"
        )
    if problem := plural_problem(name, "feature"):
        raise FeatureError(problem)
    if name in RESERVED_FEATURE_NAMES:
        raise FeatureError(
            f"feature {name!r}: the name is reserved: {RESERVED_FEATURE_NAMES[name]}"
        )
    history = item.get(HISTORY_KEY, [])
    if not isinstance(history, list) or not all(isinstance(entry, str) for entry in history):
        raise FeatureError(
            f"feature {name!r}: {HISTORY_KEY} must be a list of field lists, oldest first"
        )
    removal = item.get(REMOVED_KEY)
    if removal not in (None, KEEP_DATA, DROP_DATA):
        raise FeatureError(
            f"feature {name!r}: {REMOVED_KEY} can only be {KEEP_DATA!r} or {DROP_DATA!r}"
        )
    feature = Feature(
        domain=domain,
        name=name,
        fields_spec=item["fields"],
        history=tuple(history),
        removal=removal,
        earlier_names=earlier_names(name, item.get(RENAMED_FROM_KEY, []), len(history)),
    )
    try:
        _ = feature.fields
        check_history(feature)
    except (FieldSpecError, FieldChangeError) as error:
        raise FeatureError(f"feature {name!r}: {error}") from None
    return feature


def check_references(features: list[Feature]) -> None:
    """Refuse references that can't be generated: unknown targets, cycles.

    A target is a feature the service has, named by its domain and name. Required references
    may not form a cycle (a feature's own included): no row of it could ever be created
    first. Nor may references through other features, optional or not: each feature's table
    and first migration come after its targets' (``Feature.depends_on``), which a cycle
    would put before themselves. An optional reference to the feature's own rows is fine, and
    so is any order of the features in the answer.

    Raises:
        FeatureError: the message names the feature, its field and the problem.
    """
    live = {feature.name: feature for feature in features if not feature.removed}
    for feature in live.values():
        for spec in feature.references:
            target = live.get(spec.target or "")
            if target is None:
                known = ", ".join(f"{f.domain}.{f.name}" for f in live.values())
                raise FeatureError(
                    f"feature {feature.name!r}: field {spec.name!r} refers to "
                    f"{spec.target_domain}.{spec.target}, which is not a feature of the service "
                    f"(its features: {known})"
                )
            if target.domain != spec.target_domain:
                raise FeatureError(
                    f"feature {feature.name!r}: field {spec.name!r} refers to "
                    f"{spec.target_domain}.{spec.target}, but {spec.target} is in the domain "
                    f"{target.domain!r}: write ref({target.domain}.{target.name})"
                )
    required = {
        name: [spec.target for spec in feature.references if not spec.optional]
        for name, feature in live.items()
    }
    others = {
        name: [spec.target for spec in feature.references if spec.target != name]
        for name, feature in live.items()
    }
    cycles = (
        (
            required,
            "its required references form a cycle ({}), so no row of it could be created "
            "first: make one of them optional (add '?' after ref(...))",
        ),
        (
            others,
            "its references form a cycle through other features ({}), so neither table could "
            "be created before the other: leave one of the references out (a reference to the "
            "feature's own rows is fine)",
        ),
    )
    for references, problem in cycles:
        for name in live:
            if cycle := _cycle(name, references):
                raise FeatureError(f"feature {name!r}: " + problem.format(" -> ".join(cycle)))


def _cycle(start: str, references: Mapping[str, list[str | None]]) -> list[str]:
    """The first cycle of ``references`` (feature -> targets) from ``start`` back to it, or
    ``[]``."""
    path = [start]

    def walk(name: str) -> list[str]:
        for target in references.get(name, []):
            if target == start:
                return [*path, start]
            if target is None or target in path:
                continue
            path.append(target)
            if found := walk(target):
                return found
            path.pop()
        return []

    return walk(start)


def earlier_names(name: str, renamed_from: object, changes: int) -> tuple[tuple[str, int], ...]:
    """Read a feature's ``renamed_from``: each earlier name and its last revision's number.

    Raises:
        FeatureError: the list is not revision ids of other names, in the order they were made.
    """
    expected = (
        f"feature {name!r}: {RENAMED_FROM_KEY} must list the last revision made under each "
        "earlier name, oldest first (as rename-feature writes it, e.g. [invoice_0002])"
    )
    if not isinstance(renamed_from, list):
        raise FeatureError(expected)
    found: list[tuple[str, int]] = []
    for entry in renamed_from:
        match = REVISION_ID.match(entry) if isinstance(entry, str) else None
        if match is None:
            raise FeatureError(expected)
        earlier, number = match["name"], int(match["number"])
        if identifier_problem(earlier, "name") or earlier == name:
            raise FeatureError(expected)
        # The rename's own revision follows the last one under the old name.
        if number < 1 or number > changes or (found and number <= found[-1][1]):
            raise FeatureError(
                f"{expected}; {entry} is not a revision the feature made before a rename "
                f"(it has {changes + 1})"
            )
        found.append((earlier, number))
    return tuple(found)


def check_history(feature: Feature) -> None:
    """Refuse a history that can't be migrated: bad renames, lossy changes, reused names.

    A name a field gave up (renamed away or dropped) is never taken again: audit snapshots
    hold values under it, and they are read by name.

    Raises:
        FieldChangeError: the message names the revision and the problem.
    """
    if any(spec.renamed_from for spec in feature.initial.fields):
        raise FieldChangeError(
            "a rename (new<-old) needs an earlier field list: the first list has none"
        )
    lists = [*feature.history, feature.fields_spec]
    for rename in feature.renames:
        if lists[rename.number - 2] != lists[rename.number - 1]:
            raise FieldChangeError(
                f"revision {rename.revision} renames the feature, so its field list stays the "
                "one before it: change the fields in a revision of their own"
            )
    given_up: set[str] = set()
    for revision in feature.revisions:
        changes = revision.changes
        try:
            _ = revision.upgrade
            _ = revision.downgrade
        except FieldChangeError as error:
            raise FieldChangeError(f"revision {revision.revision}: {error}") from None
        for spec in changes.added:
            if spec.name in given_up:
                raise FieldChangeError(
                    f"revision {revision.revision}: field {spec.name!r} was renamed or "
                    "dropped earlier, and audit snapshots hold its old values under that "
                    "name: choose another"
                )
        given_up |= {old for _, old in changes.renames}
        given_up |= {spec.name for spec in changes.dropped}


def features_fingerprint(features: object) -> str:
    """A short hash of the ``features`` answer, as the answers file's header records it.

    ``scripts/template.py`` in the service computes it the same way: answers whose features
    no longer match it were edited by hand, and the script refuses them.
    """
    canonical = json.dumps(features, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def features_problem(features: object) -> str:
    """Explain what is wrong with a ``features`` answer, or return ``""`` (for validators)."""
    try:
        load_features(features)
    except FeatureError as error:
        return str(error)
    return ""
