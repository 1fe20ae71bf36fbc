"""Storage: tables, sessions, migrations.

Importing any module of this package imports the table modules below, so that `models.Base.metadata` is
complete (Alembic and the tests compare the migrations against it) whichever module is imported first. A new
table module is added here.
"""

from gateway.store import appeals as _appeals  # noqa: F401
from gateway.store import directory as _directory  # noqa: F401
from gateway.store import models as _models  # noqa: F401
from gateway.store import operators as _operators  # noqa: F401
from gateway.store import reports as _reports  # noqa: F401
from gateway.store import transparency as _transparency  # noqa: F401
