"""candidat's birth date indexed: the near-duplicate check of each creation and of an import

« Candidats proches déjà inscrits » reads the people born on the same day as the one being
registered (candidatures.homonymes_en_lot). Without an index on candidat.date_naissance each
single creation read the whole table (about 100 ms at a million candidates) and an import of
10 000 rows read it once per 1 000 birth days.

Revision ID: 15a0naissance
Revises: 14e0home
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '15a0naissance'
down_revision = '14e0home'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidat') as batch:
        batch.create_index('ix_candidat_date_naissance', ['date_naissance'])


def downgrade():
    with op.batch_alter_table('candidat') as batch:
        batch.drop_index('ix_candidat_date_naissance')
