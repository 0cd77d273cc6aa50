"""Profiles services: fast many-row UPDATEs by key for the bulk merge path. Django's bulk_update
builds a CASE per field and row and adapts every value in Python; here PostgreSQL gets one
UPDATE ... FROM unnest(typed arrays) per page, SQLite an executemany."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

PAGE = 20_000


def _plain(field: models.Field, value: Any) -> Any:
    """A value as the arrays carry it: JSON text, ISO time, or the value itself."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(value, datetime):
        if connection.vendor == "postgresql":
            return value.isoformat()
        return connection.ops.adapt_datetimefield_value(value)
    return value


def rows_update(
    model: type[models.Model], objects: Sequence[models.Model], fields: Sequence[str]
) -> int:
    """UPDATE `fields` of each object's row (by pk) to the object's values. Returns rows sent."""
    if not objects:
        return 0
    meta = model._meta
    concrete = [meta.get_field(name) for name in fields]
    columns = [
        [_plain(field, getattr(obj, field.attname)) for obj in objects] for field in concrete
    ]
    keys = [obj.pk for obj in objects]
    _update(meta.db_table, meta.pk.column, keys, dict(zip(concrete, columns, strict=True)))
    return len(objects)


def rows_reassign(model: type[models.Model], column: str, mapping: Mapping[int, int]) -> None:
    """Set `column` to mapping[old] on every row whose `column` is a key of `mapping`."""
    if not mapping:
        return
    field = model._meta.get_field(column)
    table = connection.ops.quote_name(model._meta.db_table)
    name = connection.ops.quote_name(field.column)
    old, new = list(mapping), list(mapping.values())
    if connection.vendor == "postgresql":
        statement = (
            f"UPDATE {table} AS t SET {name} = m.new "  # noqa: S608 - names from model metadata
            f"FROM unnest(%s::bigint[], %s::bigint[]) AS m(old, new) WHERE t.{name} = m.old"
        )
        with connection.cursor() as cursor:
            for start in range(0, len(old), PAGE):
                cursor.execute(statement, [old[start : start + PAGE], new[start : start + PAGE]])
        return
    statement = f"UPDATE {table} SET {name} = %s WHERE {name} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, list(zip(new, old, strict=True)))


def _update(table_name: str, pk_name: str, keys: list[Any], columns: dict[Any, list[Any]]) -> None:
    table = connection.ops.quote_name(table_name)
    pk_column = connection.ops.quote_name(pk_name)
    names = [connection.ops.quote_name(field.column) for field in columns]
    if connection.vendor != "postgresql":
        assignments = ", ".join(f"{name} = %s" for name in names)
        statement = f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608
        rows = list(zip(*columns.values(), keys, strict=True))
        with connection.cursor() as cursor:
            cursor.executemany(statement, rows)
        return
    aliases = [f"c{index}" for index in range(len(names))]
    casts = [field.db_type(connection) for field in columns]
    assignments = ", ".join(
        f"{name} = v.{alias}::{cast}"
        for name, alias, cast in zip(names, aliases, casts, strict=True)
    )
    arrays = ", ".join(["%s::bigint[]"] + ["%s::text[]"] * len(names))
    statement = (
        f"UPDATE {table} AS t SET {assignments} FROM unnest({arrays}) "  # noqa: S608
        f"AS v(pk, {', '.join(aliases)}) WHERE t.{pk_column} = v.pk"
    )
    values = [
        [None if value is None else str(value) for value in column] for column in columns.values()
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(keys), PAGE):
            page = slice(start, start + PAGE)
            cursor.execute(statement, [keys[page], *(column[page] for column in values)])
