"""the procès-verbal's SHA-256, stored with the session at its closing, so that any later
copy of the PDF can be checked against it

Revision ID: 16c0pvhash
Revises: 16b0annulation
Create Date: 2026-12-03 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16c0pvhash'
down_revision = '16b0annulation'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_jury') as batch:
        batch.add_column(sa.Column('proces_verbal_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('session_jury') as batch:
        batch.drop_column('proces_verbal_sha256')
