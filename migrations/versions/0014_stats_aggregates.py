"""stats aggregates: the Stats page reads small tables

stats_dossier (one row of facts per candidature), stats_flux_mois / stats_flux_jour (the
events of the monthly flows per réseau and organisme), stats_acquisition (results acquis /
total per réseau, organisme, month of creation, type d'évaluation and sous-domaine),
stats_compteurs (dossiers per réseau, organisme, month of creation, status and motive). They are
kept in the transactions that change their sources (services/agregats.py); 0017 fills them
from the existing data (the same set-based statements as `flask clea stats-recalculer`).

Revision ID: 14b0aggregates
Revises: 13e0files
Create Date: 2026-12-01 15:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14b0aggregates'
down_revision = '13e0files'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stats_dossier',
        sa.Column('candidature_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('etablissement_id', sa.Integer(), nullable=False),
        sa.Column('organisme_id', sa.Integer(), nullable=False),
        sa.Column('reseau_id', sa.Integer(), nullable=False),
        sa.Column('cree_le', sa.DateTime(), nullable=False),
        sa.Column('type_public', sa.String(length=40), nullable=True),
        sa.Column('niveau', sa.Integer(), nullable=True),
        sa.Column('statut', sa.String(length=30), nullable=False),
        sa.Column('motif_abandon', sa.String(length=40), nullable=True),
        sa.Column('prealable_finalise', sa.Integer(), nullable=False),
        sa.Column('prealable_valide', sa.Integer(), nullable=False),
        sa.Column('prealable_le', sa.DateTime(), nullable=True),
        sa.Column('finale_le', sa.DateTime(), nullable=True),
        sa.Column('envoi_le', sa.DateTime(), nullable=True),
        sa.Column('decision_le', sa.DateTime(), nullable=True),
        sa.Column('certifiee', sa.Integer(), nullable=False),
        sa.Column('non_certifiee', sa.Integer(), nullable=False),
        sa.Column('complement', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('candidature_id'))
    op.create_index('ix_stats_dossier_reseau', 'stats_dossier', ['reseau_id', 'cree_le'])
    op.create_index('ix_stats_dossier_organisme', 'stats_dossier', ['organisme_id', 'cree_le'])
    op.create_index('ix_stats_dossier_etablissement', 'stats_dossier',
                    ['etablissement_id', 'cree_le'])
    op.create_index('ix_stats_dossier_cree_le', 'stats_dossier', ['cree_le'])
    op.create_table(
        'stats_flux_mois',
        sa.Column('reseau_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('organisme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mois', sa.String(length=7), nullable=False),
        sa.Column('nature', sa.String(length=12), nullable=False),
        sa.Column('nombre', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('reseau_id', 'organisme_id', 'mois', 'nature'))
    op.create_index('ix_stats_flux_mois_organisme', 'stats_flux_mois', ['organisme_id', 'mois'])
    op.create_table(
        'stats_flux_jour',
        sa.Column('reseau_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('organisme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('jour', sa.Date(), nullable=False),
        sa.Column('nature', sa.String(length=12), nullable=False),
        sa.Column('nombre', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('reseau_id', 'organisme_id', 'jour', 'nature'))
    op.create_index('ix_stats_flux_jour_jour', 'stats_flux_jour', ['jour'])
    op.create_table(
        'stats_acquisition',
        sa.Column('reseau_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('organisme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mois', sa.String(length=7), nullable=False),
        sa.Column('type', sa.String(length=10), nullable=False),
        sa.Column('sous_domaine_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('acquis', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('reseau_id', 'organisme_id', 'mois', 'type', 'sous_domaine_id'))
    op.create_index('ix_stats_acquisition_organisme', 'stats_acquisition',
                    ['organisme_id', 'mois'])
    op.create_table(
        'stats_compteurs',
        sa.Column('reseau_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('organisme_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('mois', sa.String(length=7), nullable=False),
        sa.Column('statut', sa.String(length=30), nullable=False),
        sa.Column('motif_abandon', sa.String(length=40), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in (
            'nombre', 'prealable_finalise', 'prealable_valide', 'certifiee', 'non_certifiee',
            'complement')],
        sa.PrimaryKeyConstraint('reseau_id', 'organisme_id', 'mois', 'statut', 'motif_abandon'))
    op.create_index('ix_stats_compteurs_organisme', 'stats_compteurs', ['organisme_id', 'mois'])
    # filled by 0017_stats_rollups, the last change of these tables: the recomputation is the
    # application's code of today, which writes today's columns


def downgrade():
    op.drop_index('ix_stats_compteurs_organisme', table_name='stats_compteurs')
    op.drop_table('stats_compteurs')
    op.drop_index('ix_stats_acquisition_organisme', table_name='stats_acquisition')
    op.drop_table('stats_acquisition')
    op.drop_index('ix_stats_flux_jour_jour', table_name='stats_flux_jour')
    op.drop_table('stats_flux_jour')
    op.drop_index('ix_stats_flux_mois_organisme', table_name='stats_flux_mois')
    op.drop_table('stats_flux_mois')
    for name in ('ix_stats_dossier_cree_le', 'ix_stats_dossier_etablissement',
                 'ix_stats_dossier_organisme', 'ix_stats_dossier_reseau'):
        op.drop_index(name, table_name='stats_dossier')
    op.drop_table('stats_dossier')
