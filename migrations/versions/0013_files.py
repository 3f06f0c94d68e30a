"""files: an upload's idempotency key

document.idempotency_key (nullable) with a unique constraint per user
(created_by_id, idempotency_key): a client retrying an upload whose answer was lost sends the
same key and gets the first document back; nothing is stored twice, even when two retries
race (the second insert fails on the constraint and answers the first row). NULL keys
(uploads without a key, the demo's) never collide, on PostgreSQL and SQLite alike.

SQLite: the table is rebuilt (batch mode) with foreign key enforcement switched off by
migrations/env.py.

Revision ID: 13e0files
Revises: 13c0auditjournal
Create Date: 2026-12-01 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13e0files'
down_revision = '13c0auditjournal'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint('uq_document_idempotency',
                                          ['created_by_id', 'idempotency_key'])


def downgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.drop_constraint('uq_document_idempotency', type_='unique')
        batch_op.drop_column('idempotency_key')
