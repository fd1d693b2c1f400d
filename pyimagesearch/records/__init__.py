"""Every result the project writes, as a typed record (``records.base.Record``) with ``to_json`` / ``from_json``.

One module per problem holds its records; ``records.base`` the machinery and
the range checks. Writers build a record and ``write`` it; readers ``read``
it and get a validated record or a ``RecordError`` naming the file and field.
"""

from pyimagesearch.records.base import Record, RecordError  # noqa: F401
