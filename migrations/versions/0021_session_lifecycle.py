"""session lifecycle: a jury session can be cancelled, with the day and the motive

Revision ID: 16b0annulation
Revises: 16a0export
Create Date: 2026-12-03 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16b0annulation'
down_revision = '16a0export'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_jury') as batch:
        batch.add_column(sa.Column('annulee_le', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('motif_annulation', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('session_jury') as batch:
        batch.drop_column('motif_annulation')
        batch.drop_column('annulee_le')
