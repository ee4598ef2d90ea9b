"""The bare baseline: a create as cheap as FastAPI and SQLAlchemy make it, no template code.

What the practical ceiling of a create looks like on the machine: a sync endpoint that
verifies the same Bearer token with PyJWT and writes the same two rows (the entity and its
audit row, JSON snapshot included) with SQLAlchemy Core in one transaction. No ORM, no
middleware, no logging, no response model. It serves ``POST /bare/<table>`` on the generated
service's database, whose tables it reflects; it runs in the generated service's environment:

    DATABASE_URL=... JWT_SECRET=... BARE_TABLE=product uvicorn bare_app:app --app-dir benchmarks
"""

import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import uuid4

import jwt
from fastapi import FastAPI, Header, HTTPException
from sqlalchemy import MetaData, Numeric, Table, create_engine

TABLE = os.environ.get("BARE_TABLE", "product")
SECRET = os.environ["JWT_SECRET"]
AUDIENCE = os.environ["JWT_AUDIENCE"]
ISSUER = os.environ["JWT_ISSUER"]
engine = create_engine(os.environ["DATABASE_URL"], pool_size=5, max_overflow=5)
metadata = MetaData()
entity_table = Table(TABLE, metadata, autoload_with=engine)
audit_table = Table(f"{TABLE}_audit", metadata, autoload_with=engine)
DECIMALS = {column.name for column in entity_table.columns if type(column.type) is Numeric}
app = FastAPI()


@app.post(f"/bare/{TABLE}", status_code=201)
def create(body: dict[str, Any], authorization: Annotated[str, Header()]) -> dict[str, Any]:
    """Verify the token, insert the entity and its audit row in one transaction."""
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "),
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
        )
    except jwt.PyJWTError as error:
        raise HTTPException(401) from error
    now = datetime.now(UTC)
    row = {"id": str(uuid4()), "version": 1, "created_at": now, "updated_at": now, **body}
    stored = {key: Decimal(value) if key in DECIMALS else value for key, value in row.items()}
    snapshot = {**row, "created_at": now.isoformat(), "updated_at": now.isoformat()}
    with engine.begin() as connection:
        connection.execute(entity_table.insert(), stored)
        connection.execute(
            audit_table.insert(),
            {
                "id": str(uuid4()),
                f"{TABLE}_id": row["id"],
                "performed_by_user_id": claims["sub"],
                "performed_by_user_name": claims.get("name", claims["sub"]),
                "action_code": f"{TABLE.upper()}_CREATED",
                "description": f"{TABLE.capitalize()} created",
                "data_snapshot": snapshot,
                "created_at": now,
            },
        )
    return snapshot
