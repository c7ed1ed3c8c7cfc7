"""Reads and inserts of model instances that the ORM compiles once per process, then runs with
new values.

Building and compiling a queryset (filters, joins for ``select_related``, the SELECT list, the
converters) costs the ORM more than SQLite takes to run a simple read, and a hot page repeats
the same few reads with other values on every request. ``PreparedQuery`` keeps the SQL the ORM
compiled the first time, and its own way of turning rows into instances (``from_db`` and the
``select_related`` populators, as ``QuerySet`` does), and afterwards runs that SQL with the new
values. What it returns is what the queryset would have returned. ``insert`` and ``update`` do
the same for storing one new instance and for writing some fields of a stored one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, get_related_populators
from django.db.models.sql.subqueries import InsertQuery, UpdateQuery


@dataclass
class _Compiled:
    sql: str
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list
    annotations: dict[str, int]
    converters: dict


def _simple(value: object) -> bool:
    # Values the ORM passes to the database as they are: a value it would convert (a UUID, a
    # date, a model instance) or turn into other SQL (None becomes IS NULL) is never reused.
    return type(value) in (int, str)


class PreparedQuery:
    """A read of model instances, ``build(*values)`` being its queryset for ``values``.

    The values must be the query's only parameters, in the order the SQL takes them, and plain
    integers or strings; a queryset that does not fit (other parameters, a prefetch, values or
    annotations in the SELECT list beyond the model's) simply runs as a queryset every time.
    """

    def __init__(self, build: Callable[..., QuerySet], *, using: str = DEFAULT_DB_ALIAS):
        self.build = build
        self.using = using
        # The compiled read, or None when the queryset cannot be reused (False: not tried yet).
        # One per process: the threads' connections to one database compile alike.
        self._compiled: _Compiled | None | bool = False

    def objects(self, *values) -> list[Model]:
        """Return the instances for ``values``, as ``list(build(*values))`` would."""
        compiled = self._compiled
        if compiled and all(_simple(value) for value in values):
            return self._run(compiled, values)
        queryset = self.build(*values)
        if compiled is False and all(_simple(value) for value in values):
            compiled = self._compiled = self._compile(queryset, values)
            if compiled is not None:
                return self._run(compiled, values)
        return list(queryset)

    def _compile(self, queryset: QuerySet, values: tuple) -> _Compiled | None:
        if (
            queryset.db != self.using
            or queryset._iterable_class is not ModelIterable
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
        ):
            return None
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if tuple(params) != tuple(values) or compiler.has_extra_select:
            return None
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        if compiler.has_composite_fields(fields):
            return None
        return _Compiled(
            sql=sql,
            model=klass_info["model"],
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in compiler.select[start:end]],
            populators=get_related_populators(klass_info, compiler.select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
            converters=compiler.get_converters(fields),
        )

    def _run(self, compiled: _Compiled, values: tuple) -> list[Model]:
        alias = self.using
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, values)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = _converted(rows, compiled.converters, connection)
        objects = []
        for row in rows:
            obj = compiled.model.from_db(
                alias, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class PreparedRead:
    """A read of plain columns (a ``values_list``) that the ORM builds once per process and that
    then runs with new parameters, at the cost of running it: rows as the database gives them,
    without the fields' converters (``PreparedQuery`` gives instances).

    Meant for the reads a write transaction needs: on SQLite such a transaction holds the whole
    database's write lock, and building a query with the ORM takes longer than running it.
    ``build(*params)`` returns the queryset for ``params``, which must be the query's only
    parameters, in order; a query with other parameters is simply built every time.
    """

    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._sql: dict[str, str] = {}  # by database vendor

    def rows(self, *params) -> list[tuple]:
        """Return the rows for ``params``, as tuples."""
        sql = self._sql.get(connection.vendor)
        if sql is None:
            sql, built = self.build(*params).query.sql_with_params()
            if tuple(built) == params:
                self._sql[connection.vendor] = sql
            else:
                params = built
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [tuple(row) for row in cursor.fetchall()]


def _converted(rows: list[tuple], converters: dict, connection) -> list[list]:
    """Return ``rows`` with the database's and the fields' converters applied, as the ORM's
    ``SQLCompiler.apply_converters`` does."""
    steps = list(converters.items())
    converted = []
    for row in map(list, rows):
        for position, (functions, expression) in steps:
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        converted.append(row)
    return converted


@dataclass
class _Insert:
    sql: str
    fields: list  # the columns given, in the order of the SQL's parameters
    returning: list  # the fields the database returns (the id)
    returning_params: tuple
    converters: dict


# The compiled INSERT of each model, by model, database and whether the primary key is given.
_INSERTS: dict[tuple, _Insert | None] = {}


def insert(obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> Model:
    """Store the new instance ``obj`` with one INSERT and return it, as
    ``obj.save(force_insert=True)`` would: defaults and ``pre_save`` values (``auto_now``)
    applied, the id the database gives set on it, errors (an IntegrityError) raised alike.

    The SQL is compiled once per model and process. Like ``bulk_create``, it sends no
    ``pre_save``/``post_save`` signal and calls no ``save()`` of the model's own; a model with a
    parent or ``order_with_respect_to``, or a value that is an expression, is saved as usual.
    """
    meta = type(obj)._meta
    if meta.parents or meta.order_with_respect_to or not obj._state.adding:
        obj.save(force_insert=True, using=using)
        return obj
    obj._prepare_related_fields_for_save(operation_name="save")
    if not obj._is_pk_set(meta):
        setattr(obj, meta.pk.attname, meta.pk.get_pk_value_on_save(obj))
    pk_set = obj._is_pk_set(meta)
    fields = _insert_fields(meta, pk_set)
    raw = [field.pre_save(obj, True) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in raw):
        obj.save(force_insert=True, using=using)
        return obj
    key = (type(obj), using, pk_set)
    compiled = _INSERTS.get(key, False)
    if compiled is False:
        compiled = _INSERTS[key] = _compile_insert(obj, fields, using=using)
    if compiled is None:
        obj.save(force_insert=True, using=using)
        return obj
    connection = connections[using]
    values = [
        field.get_db_prep_save(value, connection=connection)
        for field, value in zip(compiled.fields, raw)
    ]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, values)
        if compiled.returning:
            row = connection.ops.fetch_returned_insert_columns(cursor, compiled.returning_params)
    if compiled.returning:
        (row,) = _converted([row], compiled.converters, connection)
        for value, field in zip(row, compiled.returning):
            setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return obj


def _insert_fields(meta, pk_set: bool) -> list:
    """Return the fields an INSERT gives values for, as ``Model.save()`` chooses them."""
    return [
        f
        for f in meta.local_concrete_fields
        if not f.generated and (pk_set or f is not meta.auto_field)
    ]


def _compile_insert(obj: Model, fields: list, *, using: str) -> _Insert | None:
    """Return the INSERT of ``obj``'s model as the ORM compiles it for ``obj`` (whose values are
    plain), or None when it cannot serve: a field with SQL of its own around its value, or a
    database that cannot return the id from the INSERT itself."""
    meta = type(obj)._meta
    connection = connections[using]
    returning = list(meta.db_returning_fields)
    if any(hasattr(f, "get_placeholder") for f in fields) or (
        returning and not connection.features.can_return_columns_from_insert
    ):
        return None
    # Compiled on a copy: compiling calls the fields' pre_save(), which may change the instance.
    query = InsertQuery(type(obj))
    query.insert_values(fields, [copy.copy(obj)])
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = returning
    statements = compiler.as_sql()
    # One parameter per field, in their order.
    if len(statements) != 1 or len(statements[0][1]) != len(fields):
        return None
    columns = [f.get_col(meta.db_table) for f in returning]
    return _Insert(
        sql=statements[0][0],
        fields=fields,
        returning=returning,
        returning_params=tuple(compiler.returning_params),
        converters=compiler.get_converters(columns),
    )


# The compiled UPDATE of some fields of one row, by model, database and fields.
_UPDATES: dict[tuple, str | None] = {}


def update(obj: Model, fields: list[str], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Write ``fields`` (names) of the stored instance ``obj`` to its row with one UPDATE, as
    ``obj.save(update_fields=fields)`` would (``pre_save`` values such as ``auto_now``
    applied), and raise DatabaseError, as it does, when the row is gone.

    The SQL is compiled once per model and set of fields. Like ``QuerySet.update``, it sends no
    signal and calls no ``save()`` of the model's own; a relation, a value that is None or an
    expression, or a model with a parent is saved as usual.
    """
    meta = type(obj)._meta
    targets = [meta.get_field(name) for name in fields]
    raw = [field.pre_save(obj, False) for field in targets]
    connection = connections[using]
    if (
        meta.parents
        or any(field.is_relation or hasattr(field, "get_placeholder") for field in targets)
        or any(value is None or hasattr(value, "resolve_expression") for value in raw)
    ):
        obj.save(update_fields=fields, using=using)
        return
    values = [
        field.get_db_prep_save(value, connection=connection) for field, value in zip(targets, raw)
    ]
    values.append(meta.pk.get_db_prep_value(obj.pk, connection))
    key = (type(obj), using, tuple(fields))
    sql = _UPDATES.get(key, False)
    if sql is False:
        query = UpdateQuery(type(obj))
        query.add_update_fields([(field, None, value) for field, value in zip(targets, raw)])
        query.add_filter("pk", obj.pk)
        sql, params = query.get_compiler(using=using).as_sql()
        # One parameter per field, then the id: nothing was written into the SQL itself.
        if list(params) != values:
            sql = None
        _UPDATES[key] = sql
    if sql is None:
        obj.save(update_fields=fields, using=using)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        updated = cursor.rowcount
    if not updated:
        raise DatabaseError("Save with update_fields did not affect any rows.")
