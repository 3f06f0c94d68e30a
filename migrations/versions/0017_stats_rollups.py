"""stats roll-ups: réseau and national rows in the count tables, durations with the facts

The count tables (stats_flux_jour, stats_flux_mois, stats_acquisition, stats_compteurs) gain
roll-up rows: organisme_id -1 for a réseau's sum, réseau and organisme -1 for the nation's, so
that a national Stats page reads thousands of rows, not millions. stats_dossier gains the four
durations whose medians the page shows (days, NULL when the later step is missing or earlier),
each with a partial index: PostgreSQL reads a national median by its position in the index.
The upgrade recomputes every aggregate from the sources (`flask clea stats-recalculer`): at a
million dossiers this takes minutes, once.

Revision ID: 14d0rollups
Revises: 14c0exports
Create Date: 2026-12-01 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14d0rollups'
down_revision = '14c0exports'
branch_labels = None
depends_on = None

DUREES = ('duree_prealable', 'duree_finale', 'duree_envoi', 'duree_decision')


def upgrade():
    with op.batch_alter_table('stats_dossier') as batch:
        for name in DUREES:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
    for name in DUREES:
        op.create_index(f'ix_stats_dossier_{name}', 'stats_dossier', [name],
                        postgresql_where=sa.text(f'{name} IS NOT NULL'),
                        sqlite_where=sa.text(f'{name} IS NOT NULL'))
    from app.services import agregats

    agregats.recalculer_sur(op.get_bind())


def downgrade():
    for table in ('stats_flux_jour', 'stats_flux_mois', 'stats_acquisition', 'stats_compteurs'):
        op.execute(f'DELETE FROM {table} WHERE organisme_id = -1')  # nosec B608 (constants)
    for name in DUREES:
        op.drop_index(f'ix_stats_dossier_{name}', table_name='stats_dossier')
    with op.batch_alter_table('stats_dossier') as batch:
        for name in DUREES:
            batch.drop_column(name)
