"""What every repository is: one table's rows on a session, found by the table it declares."""

from typing import Any, ClassVar, Generic, TypeVar

from sqlmodel import Session, SQLModel

ModelT = TypeVar("ModelT", bound=SQLModel)


class TableRepository(Generic[ModelT]):
    """The rows of one table (``model``). Repositories flush each write; services commit."""

    model: type[ModelT]
    # Each table's repository class: the editor service finds a feature's repositories here.
    by_model: ClassVar[dict[type[Any], type["TableRepository[Any]"]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Register a feature's repository under the table it declares (``model = ...``)."""
        super().__init_subclass__(**kwargs)
        if "model" in cls.__dict__:
            TableRepository.by_model[cls.model] = cls

    @staticmethod
    def for_model(model: type[Any]) -> type[Any]:
        """The repository class declared for ``model``.

        Raises:
            LookupError: no imported repository declares it.
        """
        try:
            return TableRepository.by_model[model]
        except KeyError:
            msg = f"no repository declares model = {model.__name__}: import the feature's"
            raise LookupError(msg) from None

    def __init__(self, session: Session) -> None:
        self.session = session

    def _write(self, row: ModelT) -> ModelT:
        """Stage a new or changed row and flush it: the database checks it now.

        The row is not read back: every value it holds was made in Python (ids, timestamps and
        versions included, see ``EntityBase``) in the form the database stores, so a reload
        would only cost a round trip.
        """
        self.session.add(row)
        self.session.flush()
        return row
