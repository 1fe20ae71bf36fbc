"""Alembic environment: the engine comes from the application (gateway.store.database.migrate)."""

from alembic import context

from gateway.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: use the settings from the environment
    from gateway.config import Settings
    from gateway.store.database import make_engine

    settings = Settings.from_env()
    engine = make_engine(settings.sqlalchemy_url, settings.sqlite_synchronous)

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
