"""perimeter columns: the dossier carries its organisme and réseau

candidature.organisme_id (NOT NULL) and candidature.reseau_id (NULL when the organisme has no
réseau), filled here from the établissement (etablissement.organisme_id, then
organisme.reseau_id) and kept exact by services/perimetre.py. The perimeter of a réseau or
an organisme becomes one indexed equality instead of nested IN subqueries, and every list
reads its order, (updated_on DESC, id DESC), from one index range: (updated_on, id) for the
national lists and (reseau_id | organisme_id | etablissement_id | certificateur_id,
updated_on, id) for the others; they replace the single-column indexes on updated_on,
etablissement_id and certificateur_id (same leading column).

SQLite: the table is rebuilt (batch mode) with foreign key enforcement switched off by
migrations/env.py.

Revision ID: 14a0perimeter
Revises: 14b0aggregates
Create Date: 2026-12-01 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0perimeter'
down_revision = '14b0aggregates'
branch_labels = None
depends_on = None

LIST_INDEXES = (
    ("ix_candidature_liste", ["updated_on", "id"]),
    ("ix_candidature_reseau_liste", ["reseau_id", "updated_on", "id"]),
    ("ix_candidature_organisme_liste", ["organisme_id", "updated_on", "id"]),
    ("ix_candidature_etab_liste", ["etablissement_id", "updated_on", "id"]),
    ("ix_candidature_certificateur_liste", ["certificateur_id", "updated_on", "id"]),
)

# Single-column indexes the list indexes begin with (the foreign keys' checks use those).
REPLACED = {"ix_candidature_updated_on": "updated_on",
            "ix_candidature_etablissement_id": "etablissement_id",
            "ix_candidature_certificateur_id": "certificateur_id"}


def upgrade():
    with op.batch_alter_table('candidature') as batch_op:
        batch_op.add_column(sa.Column('organisme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reseau_id', sa.Integer(), nullable=True))
    op.execute("UPDATE candidature SET organisme_id = (SELECT e.organisme_id FROM etablissement e "
               "WHERE e.id = candidature.etablissement_id)")
    op.execute("UPDATE candidature SET reseau_id = (SELECT o.reseau_id FROM organisme o "
               "WHERE o.id = candidature.organisme_id)")
    with op.batch_alter_table('candidature') as batch_op:
        batch_op.alter_column('organisme_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('candidature_organisme_id_fkey', 'organisme',
                                    ['organisme_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key('candidature_reseau_id_fkey', 'reseau',
                                    ['reseau_id'], ['id'], ondelete='RESTRICT')
        for name in REPLACED:
            batch_op.drop_index(name)
        for name, columns in LIST_INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('candidature') as batch_op:
        for name, _columns in reversed(LIST_INDEXES):
            batch_op.drop_index(name)
        for name, column in REPLACED.items():
            batch_op.create_index(name, [column], unique=False)
        batch_op.drop_constraint('candidature_reseau_id_fkey', type_='foreignkey')
        batch_op.drop_constraint('candidature_organisme_id_fkey', type_='foreignkey')
        batch_op.drop_column('reseau_id')
        batch_op.drop_column('organisme_id')
