"""home indexes: a status in the lists' order, the dossiers in the jury's examination

ix_candidature_statut (statut) becomes ix_candidature_statut_liste (statut, updated_on, id):
the home page's « Derniers dossiers certifiés » read one index range instead of scanning the
list's order past every dossier certified long ago (200 ms at a million dossiers), and the
counts by status still read its first column. ix_candidature_en_examen (certificateur_id),
partial on the dossiers in examination (sent to a session, decision awaited): « Dossiers à
examiner par le jury » counts a few rows.

Revision ID: 14e0home
Revises: 14d0rollups
Create Date: 2026-12-01 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14e0home'
down_revision = '14d0rollups'
branch_labels = None
depends_on = None

EN_EXAMEN = ("statut IN ('attente_certification', 'completee') "
             "AND session_jury_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('candidature') as batch:
        batch.drop_index('ix_candidature_statut')
        batch.create_index('ix_candidature_statut_liste', ['statut', 'updated_on', 'id'])
        batch.create_index('ix_candidature_en_examen', ['certificateur_id'],
                           postgresql_where=sa.text(EN_EXAMEN),
                           sqlite_where=sa.text(EN_EXAMEN))


def downgrade():
    with op.batch_alter_table('candidature') as batch:
        batch.drop_index('ix_candidature_en_examen')
        batch.drop_index('ix_candidature_statut_liste')
        batch.create_index('ix_candidature_statut', ['statut'])
