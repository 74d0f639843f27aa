from alembic import context

from pivot.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations always run through Store.migrate
    raise RuntimeError("run migrations with pivot.store.Store.migrate()")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
